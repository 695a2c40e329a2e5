-- After the security review (issue 9):
-- 1. Refresh-token successors are derived from the presented token (an HMAC under a subkey
--    of the master key) instead of stored sealed: nothing reversible is kept.
-- 2. Slugs are permanent: every slug ever used is kept here, a deleted app's as a tombstone,
--    so nobody can register it again and mint tokens with the old app's `iss` and `aud`.
-- 3. Seed 001's rule by default: re-using a rotated refresh token revokes the session. The
--    old default grace of 10 s becomes 0 (an app can still opt in to a retry tolerance).
-- 4. The member role no longer reads users (their emails) by default.

ALTER TABLE refresh_tokens DROP COLUMN sealed;

CREATE TABLE app_slugs (
    slug       TEXT PRIMARY KEY,
    app_id     UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
INSERT INTO app_slugs (slug, app_id, created_at) SELECT slug, id, created_at FROM apps;

UPDATE apps SET config = jsonb_set(config, '{refresh_reuse_grace_seconds}', '0')
WHERE config->>'refresh_reuse_grace_seconds' = '10';

UPDATE roles SET permissions = '["app.read", "role.read"]'::jsonb
WHERE is_system AND name = 'member' AND permissions = '["app.read", "user.read", "role.read"]'::jsonb;
