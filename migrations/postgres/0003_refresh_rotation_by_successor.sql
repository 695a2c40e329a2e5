-- A refresh token is rotated when another token names it as its parent. Rotation is then a
-- single INSERT ... SELECT, atomic on its own, instead of an UPDATE and an INSERT in one
-- transaction; the unique index lets only one successor in, whatever the race.

ALTER TABLE refresh_tokens ADD COLUMN parent_id UUID;
-- The token itself, sealed with the master key and bound to its parent's digest, so that a
-- double refresh of the parent within the grace window gets the same answer.
ALTER TABLE refresh_tokens ADD COLUMN sealed BYTEA;
CREATE UNIQUE INDEX refresh_tokens_parent ON refresh_tokens (parent_id);

-- Tokens rotated before this migration stay rotated: each gets a successor that no presented
-- token can match (a digest is 43 base64url characters, never a colon), so presenting one
-- after the grace window still revokes its session.
INSERT INTO refresh_tokens (id, app_id, session_id, digest, created_at, parent_id, sealed)
SELECT gen_random_uuid(), app_id, session_id, 'rotated-before-0003:' || id::text, rotated_at, id, NULL
FROM refresh_tokens WHERE rotated_at IS NOT NULL;

ALTER TABLE refresh_tokens DROP COLUMN rotated_at;
ALTER TABLE refresh_tokens DROP COLUMN successor_sealed;
