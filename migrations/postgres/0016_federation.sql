-- Sign-in through external providers (seed 004's provider-first OAuth).
--
-- `oauth_providers`: an app's providers, each named in its URLs (`/auth/oauth/{name}/…`).
-- `kind` is `oidc` (any OpenID provider, found through its issuer's discovery document) or a
-- preset (`google`, `microsoft`, `apple`, `gitlab`: OpenID through discovery; `github`,
-- `discord`: plain OAuth 2.0 and a user-info call). The client secret is sealed with the
-- master key, bound to the row's id; it is never read back out through the API. The issuer
-- of a provider never changes (identities are only meaningful at one issuer): another
-- issuer is another provider.
CREATE TABLE oauth_providers (
    id                   UUID PRIMARY KEY,
    app_id               UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    display_name         TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed BYTEA,
    issuer               TEXT,
    authorization_url    TEXT,
    token_url            TEXT,
    userinfo_url         TEXT,
    scopes               TEXT NOT NULL,
    enabled              BOOLEAN NOT NULL,
    auto_link            BOOLEAN NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    UNIQUE (app_id, name)
);

-- A user's identity at a provider: (provider, subject) is one user's, and a user has at most
-- one identity per provider. Removing the provider removes its identities.
CREATE TABLE user_identities (
    id           UUID PRIMARY KEY,
    app_id       UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    provider_id  UUID NOT NULL REFERENCES oauth_providers (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    email        TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    UNIQUE (provider_id, subject),
    UNIQUE (provider_id, user_id)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- The `state` of each sign-in sent to a provider, as its SHA-256, until its callback spends
-- it: a state works once, on any node.
CREATE TABLE oauth_states (
    digest     TEXT PRIMARY KEY,
    app_id     UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);
