-- The audit log. Writers insert an event in the transaction of the change it records, with
-- only a sequence number (`seq`) and a MAC of what they wrote (`mac`); the sequencer later
-- links each app's events into a hash chain in order (`position`, `prev_hash`, `hash`), so
-- that writers never wait on the chain's head. `audit_heads` holds each app's last link, MAC'd with a key derived from the
-- master key; `audit_checkpoints` the link a retention cut stopped at. No foreign key to
-- `apps`: an app's log outlives the app.

CREATE TABLE audit_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           UUID NOT NULL,
    app_id       UUID NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    type         TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor_kind   TEXT NOT NULL,
    actor_id     UUID,
    subject_kind TEXT,
    subject_id   UUID,
    session_id   UUID,
    ip           TEXT,
    user_agent   TEXT,
    request_id   TEXT,
    details      TEXT NOT NULL CHECK (length(details) <= 8192),
    mac          TEXT NOT NULL,
    position     BIGINT,
    prev_hash    TEXT,
    hash         TEXT
);
CREATE INDEX audit_events_app ON audit_events (app_id, seq);
CREATE INDEX audit_events_subject ON audit_events (app_id, subject_id, seq);
CREATE INDEX audit_events_pending ON audit_events (app_id, seq) WHERE position IS NULL;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (app_id, position) WHERE position IS NOT NULL;

CREATE TABLE audit_heads (
    app_id   UUID PRIMARY KEY,
    position BIGINT NOT NULL,
    hash     TEXT NOT NULL,
    mac      TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
    app_id   UUID NOT NULL,
    position BIGINT NOT NULL,
    hash     TEXT NOT NULL,
    mac      TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    removed  BIGINT NOT NULL,
    PRIMARY KEY (app_id, position)
);
