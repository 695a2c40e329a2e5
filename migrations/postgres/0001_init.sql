-- Apps, their roles, end-users (accounts are the end-users of the `platform` app),
-- memberships, sessions, refresh tokens and signing keys.
-- Timestamps are TIMESTAMPTZ; ids are UUIDs.

CREATE TABLE apps (
    id           UUID PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    status       TEXT NOT NULL,
    metadata     JSONB NOT NULL,
    config       JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE roles (
    id          UUID PRIMARY KEY,
    app_id      UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    is_system   BOOLEAN NOT NULL,
    permissions JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE users (
    id                  UUID PRIMARY KEY,
    app_id              UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    username            TEXT NOT NULL,
    username_normalized TEXT NOT NULL,
    display_name        TEXT NOT NULL,
    password_hash       TEXT,
    role_id             UUID NOT NULL REFERENCES roles (id),
    status              TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (app_id, username_normalized)
);
CREATE INDEX users_role ON users (role_id);

CREATE TABLE contacts (
    id               UUID PRIMARY KEY,
    app_id           UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id          UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    value            TEXT NOT NULL,
    value_normalized TEXT NOT NULL,
    is_primary       BOOLEAN NOT NULL,
    verified_at      TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX contacts_user ON contacts (user_id);
CREATE INDEX contacts_lookup ON contacts (app_id, kind, value_normalized);
-- A verified contact belongs to one user of the app.
CREATE UNIQUE INDEX contacts_verified_unique ON contacts (app_id, kind, value_normalized)
    WHERE verified_at IS NOT NULL;

CREATE TABLE memberships (
    app_id     UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    UUID NOT NULL REFERENCES roles (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (app_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE sessions (
    id           UUID PRIMARY KEY,
    app_id       UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id               UUID PRIMARY KEY,
    app_id           UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    session_id       UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    digest           TEXT NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL,
    rotated_at       TIMESTAMPTZ,
    successor_sealed BYTEA
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    app_id         UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    alg            TEXT NOT NULL,
    private_sealed BYTEA NOT NULL,
    public_jwk     JSONB NOT NULL,
    active         BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    retired_at     TIMESTAMPTZ
);
CREATE INDEX signing_keys_app ON signing_keys (app_id);
