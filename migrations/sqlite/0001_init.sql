-- Apps, their roles, end-users (accounts are the end-users of the `platform` app),
-- memberships, sessions, refresh tokens and signing keys.
-- Timestamps are unix milliseconds; ids are UUIDs stored as 16-byte blobs.

CREATE TABLE apps (
    id           BLOB PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    status       TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    config       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE roles (
    id          BLOB PRIMARY KEY,
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    is_system   BOOLEAN NOT NULL,
    permissions TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE users (
    id                  BLOB PRIMARY KEY,
    app_id              BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    username            TEXT NOT NULL,
    username_normalized TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    password_hash       TEXT,
    role_id             BLOB NOT NULL REFERENCES roles (id),
    status              TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (app_id, username_normalized)
);
CREATE INDEX users_role ON users (role_id);

CREATE TABLE contacts (
    id               BLOB PRIMARY KEY,
    app_id           BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id          BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    value            TEXT NOT NULL,
    value_normalized TEXT NOT NULL,
    is_primary       BOOLEAN NOT NULL,
    verified_at      INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX contacts_user ON contacts (user_id);
CREATE INDEX contacts_lookup ON contacts (app_id, kind, value_normalized);
-- A verified contact belongs to one user of the app.
CREATE UNIQUE INDEX contacts_verified_unique ON contacts (app_id, kind, value_normalized)
    WHERE verified_at IS NOT NULL;

CREATE TABLE memberships (
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    BLOB NOT NULL REFERENCES roles (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE sessions (
    id           BLOB PRIMARY KEY,
    app_id       BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id               BLOB PRIMARY KEY,
    app_id           BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id       BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    digest           TEXT NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    rotated_at       INTEGER,
    successor_sealed BLOB
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    app_id         BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    alg            TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    public_jwk     TEXT NOT NULL,
    active         BOOLEAN NOT NULL,
    created_at     INTEGER NOT NULL,
    retired_at     INTEGER
);
CREATE INDEX signing_keys_app ON signing_keys (app_id);
