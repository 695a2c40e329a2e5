-- Custom permission strings per app, and platform API keys (PAKs).

CREATE TABLE permissions (
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (app_id, name)
);

CREATE TABLE api_keys (
    id           BLOB PRIMARY KEY,
    app_id       BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    digest       TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_by   BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_keys_app ON api_keys (app_id);

-- Listing an app's users in creation order, and searching them.
CREATE INDEX users_app_created ON users (app_id, created_at, id);
