-- Signing key rotation (issue 17). A rotation makes a new key the app's one active key and
-- gives the previous one a `retired_at`: it stays in the JWKS and keeps verifying until then
-- (at least the longest token lifetime plus the JWKS cache's max-age), then is neither
-- published nor accepted. An emergency revocation sets `revoked_at` and retires the key at
-- once. At most one key of an app is active, whatever the races.
ALTER TABLE signing_keys ADD COLUMN revoked_at TIMESTAMPTZ;
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (app_id) WHERE active;
