-- A refresh token is rotated when another token names it as its parent. Rotation is then a
-- single INSERT ... SELECT, atomic on its own, instead of an UPDATE and an INSERT in one
-- transaction; the unique parent lets only one successor in, whatever the race.
-- Tokens are keyed by their digest: an insert writes three indexes instead of four.

CREATE TABLE refresh_tokens_0003 (
    digest     TEXT PRIMARY KEY,
    app_id     UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    -- The digest of the token this one replaced.
    parent     TEXT UNIQUE,
    -- The token itself, sealed with the master key and bound to its parent's digest, so
    -- that a double refresh of the parent within the grace window gets the same answer.
    sealed     BYTEA
);

INSERT INTO refresh_tokens_0003 (digest, app_id, session_id, created_at)
SELECT digest, app_id, session_id, created_at FROM refresh_tokens;

-- Tokens rotated before this migration stay rotated: each gets a successor that no presented
-- token can match (a digest is 43 base64url characters, never a colon), so presenting one
-- after the grace window still revokes its session.
INSERT INTO refresh_tokens_0003 (digest, app_id, session_id, created_at, parent)
SELECT 'rotated-before-0003:' || digest, app_id, session_id, rotated_at, digest
FROM refresh_tokens WHERE rotated_at IS NOT NULL;

DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_0003 RENAME TO refresh_tokens;
ALTER INDEX refresh_tokens_0003_pkey RENAME TO refresh_tokens_pkey;
ALTER INDEX refresh_tokens_0003_parent_key RENAME TO refresh_tokens_parent_key;
ALTER TABLE refresh_tokens RENAME CONSTRAINT refresh_tokens_0003_app_id_fkey TO refresh_tokens_app_id_fkey;
ALTER TABLE refresh_tokens RENAME CONSTRAINT refresh_tokens_0003_session_id_fkey TO refresh_tokens_session_id_fkey;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
