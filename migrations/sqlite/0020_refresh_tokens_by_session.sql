-- Refresh tokens keyed by their session and their place in its chain (generation 0 is the
-- session's first token, each rotation adds one), and the token carries both. A rotation
-- then writes one b-tree, at the page its parent is on: the key's uniqueness is what lets a
-- token be rotated once (its successor is the one row at the next generation), and the
-- session is the key's prefix. Keyed by digest, a rotation wrote three b-trees at three
-- random pages (the table, the index by parent and the index by session), more than the
-- rotation's audit event costs (the issue 11 bench).
--
-- Tokens issued before this migration carry no session: they are kept (`legacy`) and found
-- by digest through a partial index that no new token enters. Their generations follow
-- their chains by parent; a session may have several chains (each token rotated before
-- migration 0003 started its own, ending in a stand-in successor), so each chain of a
-- session starts 2^32 after the one before, and every token's next generation is free for
-- its successor unless that successor exists.
CREATE TABLE refresh_tokens_0020 (
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- SHA-256 of the whole token.
    digest     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- Issued before this migration: presented without its session, found by digest.
    legacy     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, generation)
) WITHOUT ROWID;

INSERT INTO refresh_tokens_0020 (session_id, generation, app_id, digest, created_at, legacy)
WITH RECURSIVE roots (digest, generation) AS (
    SELECT digest, (ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY created_at, digest) - 1) * 4294967296
    FROM refresh_tokens WHERE parent IS NULL
), chain (digest, generation) AS (
    SELECT digest, generation FROM roots
    UNION ALL
    SELECT c.digest, chain.generation + 1 FROM refresh_tokens c JOIN chain ON c.parent = chain.digest
)
SELECT t.session_id, chain.generation, t.app_id, t.digest, t.created_at, 1
FROM chain JOIN refresh_tokens t ON t.digest = chain.digest;

DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_0020 RENAME TO refresh_tokens;
CREATE UNIQUE INDEX refresh_tokens_legacy ON refresh_tokens (digest) WHERE legacy;
