-- After the security review (issue 9):
-- 1. Refresh-token successors are derived from the presented token (an HMAC under a subkey
--    of the master key) instead of stored sealed: nothing reversible is kept.
-- 2. Slugs are permanent: every slug ever used is kept here, a deleted app's as a tombstone,
--    so nobody can register it again and mint tokens with the old app's `iss` and `aud`.
-- 3. Seed 001's rule by default: re-using a rotated refresh token revokes the session. The
--    old default grace of 10 s becomes 0 (an app can still opt in to a retry tolerance).
-- 4. The member role no longer reads users (their emails) by default.

-- (Rebuilt rather than ALTER ... DROP COLUMN, which SQLite cannot do to this table's
-- definition: the comment before the column confuses its rewrite.)
CREATE TABLE refresh_tokens_0004 (
    digest     TEXT PRIMARY KEY,
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    -- The digest of the token this one replaced.
    parent     TEXT UNIQUE
) WITHOUT ROWID;
INSERT INTO refresh_tokens_0004 (digest, app_id, session_id, created_at, parent)
SELECT digest, app_id, session_id, created_at, parent FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_0004 RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE app_slugs (
    slug       TEXT PRIMARY KEY,
    app_id     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    deleted_at INTEGER
);
INSERT INTO app_slugs (slug, app_id, created_at) SELECT slug, id, created_at FROM apps;

UPDATE apps SET config = json_set(config, '$.refresh_reuse_grace_seconds', 0)
WHERE json_extract(config, '$.refresh_reuse_grace_seconds') = 10;

UPDATE roles SET permissions = '["app.read","role.read"]'
WHERE is_system AND name = 'member' AND permissions = '["app.read","user.read","role.read"]';
