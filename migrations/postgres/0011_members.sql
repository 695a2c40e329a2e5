-- App members (issue 15, seed 000's "workspace teammates managing the App itself"): accounts
-- other than the creator manage an app with one of its roles (the `memberships` of 0001).
-- They join through a member invite: mailed to an email address, accepted by a signed-in
-- account holding that address. Same columns as `invites` (end-user invites), so both read
-- the same way; `user_id` is the account that accepted it.
CREATE TABLE member_invites (
    id               UUID PRIMARY KEY,
    app_id           UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name             TEXT,
    role_id          UUID NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    -- SHA-256 of the code (`minv_…`); the code itself is only in the mail.
    code_digest      TEXT NOT NULL UNIQUE,
    invited_by_kind  TEXT NOT NULL,
    invited_by       UUID,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ,
    user_id          UUID REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX member_invites_app ON member_invites (app_id, created_at);
CREATE INDEX member_invites_email ON member_invites (app_id, email_normalized);

-- The new management permissions, given to the owner and admin system roles of the apps
-- that exist already (new apps get them from `permissions::system_roles`).
UPDATE roles SET permissions = permissions || COALESCE((
    SELECT jsonb_agg(n.p)
    FROM jsonb_array_elements_text('["member.read","member.invite","member.update","member.remove"]'::jsonb) AS n(p)
    WHERE NOT roles.permissions ? n.p
), '[]'::jsonb)
WHERE is_system AND name IN ('owner', 'admin');
