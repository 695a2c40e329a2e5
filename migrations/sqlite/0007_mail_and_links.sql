-- Mail and one-time links (issue 12).
--
-- `mail_outbox` is the durable queue every message goes through: a flow inserts its message
-- in the transaction of its change, a worker sends it after the commit (retrying with
-- backoff), so an API call never waits for SMTP. The body is sealed with the master key
-- (it holds one-time links); once SMTP has taken a message, its body is erased. Without an
-- SMTP server the message stays here as the dev outbox, which the console shows.
CREATE TABLE mail_outbox (
    id              BLOB PRIMARY KEY,
    app_id          BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    sender          TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            BLOB,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'outbox', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mail_outbox_app ON mail_outbox (app_id, created_at);

-- Emailed one-time tokens (email verification, password reset, magic link), by the SHA-256
-- of the token: consumed by deleting the row, so of two redemptions one wins.
CREATE TABLE one_time_tokens (
    digest      TEXT PRIMARY KEY,
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id  BLOB REFERENCES contacts (id) ON DELETE CASCADE,
    redirect_to TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX one_time_tokens_user ON one_time_tokens (app_id, user_id, purpose);

-- Invites of end-users (seed 000 step 3): the code is kept as its SHA-256.
CREATE TABLE invites (
    id               BLOB PRIMARY KEY,
    app_id           BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name             TEXT,
    role_id          BLOB NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    code_digest      TEXT NOT NULL UNIQUE,
    invited_by_kind  TEXT NOT NULL,
    invited_by       BLOB,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    accepted_at      INTEGER,
    revoked_at       INTEGER,
    user_id          BLOB REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX invites_app ON invites (app_id, created_at);
CREATE INDEX invites_email ON invites (app_id, email_normalized);
