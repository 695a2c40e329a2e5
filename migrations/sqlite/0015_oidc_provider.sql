-- Each app is an OpenID Connect provider (issue 16): its registered clients, the consents its
-- end-users gave them, the authorization codes in flight, the sessions opened for a client
-- (an OAuth grant is a Rampart session, so refresh rotation, reuse detection, revocation and
-- `me/sessions` hold for it), and the `private_key_jwt` assertions already seen.
--
-- A confidential client's secret (`ocs_…`) is kept only as its SHA-256, as app credentials'
-- are; a public client has none and must use PKCE. `jwks` is a confidential client's own
-- public keys, for `private_key_jwt`. Lists (URIs, grant types, scopes) are JSON arrays.
CREATE TABLE oidc_clients (
    id                        BLOB PRIMARY KEY,
    app_id                    BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    client_id                 TEXT NOT NULL UNIQUE,
    name                      TEXT NOT NULL,
    confidential              BOOLEAN NOT NULL,
    secret_digest             TEXT,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types               TEXT NOT NULL,
    scopes                    TEXT NOT NULL,
    first_party               BOOLEAN NOT NULL,
    jwks                      TEXT ,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    secret_rotated_at         INTEGER
);
CREATE INDEX oidc_clients_app ON oidc_clients (app_id, created_at);

-- What an end-user allowed a third-party client: remembered per user and client, covering
-- the scopes listed (a request for more asks again).
CREATE TABLE oidc_consents (
    client_id  BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id)
);

-- Authorization codes: stored as their SHA-256, single use (`used_at`), short-lived, bound
-- to their client, redirect URI, PKCE challenge, nonce, scopes and user. `session_id` is the
-- session the exchange opened: a code presented again revokes it.
CREATE TABLE oidc_codes (
    digest         TEXT PRIMARY KEY,
    app_id         BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    client_id      BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    scopes         TEXT NOT NULL,
    auth_time      INTEGER NOT NULL,
    amr            TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    session_id     BLOB 
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

-- A session opened for a client by a code exchange: which client, with which scopes, for the
-- sign-in of `auth_time` (what ID tokens minted on refresh say again).
CREATE TABLE oidc_grants (
    session_id BLOB PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    app_id     BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    client_id  BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    nonce      TEXT,
    auth_time  INTEGER NOT NULL,
    amr        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX oidc_grants_client ON oidc_grants (client_id);

-- `private_key_jwt` client assertions seen, by `jti`, until they expire: each is single use.
CREATE TABLE oidc_assertions (
    client_id  BLOB NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);

-- The app's owner and admin roles manage its OIDC clients (`oidc.read`, `oidc.create`,
-- `oidc.update`, `oidc.delete`), as new apps' system roles do.
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'oidc.read')
WHERE is_system AND name IN ('owner', 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'oidc.read');
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'oidc.create')
WHERE is_system AND name IN ('owner', 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'oidc.create');
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'oidc.update')
WHERE is_system AND name IN ('owner', 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'oidc.update');
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'oidc.delete')
WHERE is_system AND name IN ('owner', 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'oidc.delete');
