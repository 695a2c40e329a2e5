-- App credentials (seed 002's `app_id` + `app_secret`): what an app's backend presents in the
-- JSON body of its backend-only calls (refresh and logout today; OTP next).
--
-- `client_id` is the public identifier the API calls `app_id` (`app_…`); the secret (`ras_…`)
-- is kept only as its SHA-256, as API keys and tokens are. A rotation moves the current digest
-- to `previous_digest`, which keeps working until `previous_expires_at` (the overlap during
-- which backends switch to the new secret); a second rotation replaces it.
CREATE TABLE app_credentials (
    id                  UUID PRIMARY KEY,
    app_id              UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    client_id           TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    secret_digest       TEXT NOT NULL,
    previous_digest     TEXT,
    previous_expires_at TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    rotated_at          TIMESTAMPTZ,
    last_used_at        TIMESTAMPTZ,
    revoked_at          TIMESTAMPTZ
);
CREATE INDEX app_credentials_app ON app_credentials (app_id, created_at);
