-- License keys (seed 002 "04 — License Keys", issue 15): issued per app for a product, to an
-- end-user or an organization or nobody, with an optional expiry and a cap on the devices
-- that may hold it at once. The key is shown once and kept only as its SHA-256
-- (`key_digest`), with its first group (`key_prefix`) to recognise it in lists.
CREATE TABLE licenses (
    id              BLOB PRIMARY KEY,
    app_id          BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    key_digest      TEXT NOT NULL UNIQUE,
    key_prefix      TEXT NOT NULL,
    product_id      TEXT NOT NULL,
    user_id         BLOB REFERENCES users (id) ON DELETE SET NULL,
    org_id          BLOB REFERENCES organizations (id) ON DELETE SET NULL,
    max_activations INTEGER NOT NULL,
    metadata        TEXT NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    expires_at      INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX licenses_app ON licenses (app_id, created_at);
CREATE INDEX licenses_user ON licenses (app_id, user_id);
CREATE INDEX licenses_org ON licenses (org_id);

-- A device holding a license. At most one live activation per license and fingerprint: a
-- device that activates again gets the one it has.
CREATE TABLE license_activations (
    id               BLOB PRIMARY KEY,
    license_id       BLOB NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    app_id           BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    fingerprint      TEXT NOT NULL,
    device_name      TEXT,
    created_at       INTEGER NOT NULL,
    last_verified_at INTEGER,
    deactivated_at   INTEGER
);
CREATE UNIQUE INDEX license_activations_live ON license_activations (license_id, fingerprint)
    WHERE deactivated_at IS NULL;
