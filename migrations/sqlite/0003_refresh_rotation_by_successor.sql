-- A refresh token is rotated when another token names it as its parent. Rotation is then a
-- single INSERT ... SELECT, atomic on its own, instead of an UPDATE and an INSERT in one
-- transaction; the unique parent lets only one successor in, whatever the race.
-- Tokens are keyed by their digest, without a rowid: an insert writes three b-trees
-- (tokens, parents, sessions) instead of five.

CREATE TABLE refresh_tokens_0003 (
    digest     TEXT PRIMARY KEY,
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    -- The digest of the token this one replaced.
    parent     TEXT UNIQUE,
    -- The token itself, sealed with the master key and bound to its parent's digest, so
    -- that a double refresh of the parent within the grace window gets the same answer.
    sealed     BLOB
) WITHOUT ROWID;

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
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
