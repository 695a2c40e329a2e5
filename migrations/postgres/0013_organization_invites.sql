-- Organizations inside an app, continued (issue 15): invitations into an organization, and
-- the management permissions over the app's organizations.
--
-- An invite names the organization, the invitee's email and the role (one of the app's
-- roles) the invitee gets; its code is kept as its SHA-256, is single use, expires, and a
-- newer invite of the same email into the same organization revokes the pending ones.
CREATE TABLE organization_invites (
    id               UUID PRIMARY KEY,
    app_id           UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    org_id           UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    role_id          UUID NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    code_digest      TEXT NOT NULL UNIQUE,
    invited_by       UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    accepted_by      UUID REFERENCES users (id) ON DELETE SET NULL,
    revoked_at       TIMESTAMPTZ
);
CREATE INDEX organization_invites_org ON organization_invites (org_id, email_normalized);

-- The app's owner and admin roles manage its organizations (`org.read`, `org.update`), as
-- new apps' system roles do.
UPDATE roles SET permissions = permissions || '["org.read"]'::jsonb
WHERE is_system AND name IN ('owner', 'admin') AND NOT permissions ? 'org.read';
UPDATE roles SET permissions = permissions || '["org.update"]'::jsonb
WHERE is_system AND name IN ('owner', 'admin') AND NOT permissions ? 'org.update';
