-- Webhooks (issue 17): per-app endpoints subscribed to audit event types, and the durable
-- queue of their deliveries (Standard Webhooks). A delivery row is inserted in the
-- transaction of the change whose audit event it carries, so an event is delivered if and
-- only if its change happened; a worker on any node sends it, retrying with backoff.
--
-- The signing secret must be usable to sign, so it is sealed with the master key, not
-- hashed; a rotation keeps the previous one signing beside it until `previous_until`.
CREATE TABLE webhook_endpoints (
    id                     UUID PRIMARY KEY,
    app_id                 UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL,
    event_types            JSONB NOT NULL,
    secret_sealed          BYTEA NOT NULL,
    previous_secret_sealed BYTEA,
    previous_until         TIMESTAMPTZ,
    enabled                BOOLEAN NOT NULL,
    disabled_reason        TEXT,
    failing_since          TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_app ON webhook_endpoints (app_id);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    app_id          UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    endpoint_id     UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        UUID NOT NULL,
    event_type      TEXT NOT NULL,
    payload         JSONB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    last_status     INTEGER,
    last_response   TEXT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

UPDATE roles SET permissions = permissions || '["webhook.read"]'::jsonb
WHERE is_system AND name IN ('owner', 'admin') AND NOT permissions ? 'webhook.read';
UPDATE roles SET permissions = permissions || '["webhook.update"]'::jsonb
WHERE is_system AND name IN ('owner', 'admin') AND NOT permissions ? 'webhook.update';
