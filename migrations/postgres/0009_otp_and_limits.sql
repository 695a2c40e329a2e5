-- Passwordless OTP and brute-force protection (issue 13).
--
-- `rate_counters` holds every limit's counter, so that every node sees the same counts:
-- one row per bucket (an app, a rule and what it counts: an IP, an identifier's digest, a
-- destination's digest, a user). For rate limits `hits` counts the current fixed window
-- (`window_start`, unix ms) and `previous_hits` the window before it, from which the sliding
-- count is estimated; for lockouts `hits` counts consecutive failures and `window_start`
-- is the last one. `expires_at` (unix ms) is when the row no longer matters and may be swept.
CREATE TABLE rate_counters (
    bucket        TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL,
    previous_hits BIGINT NOT NULL DEFAULT 0,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);

-- One-time codes sent by email or SMS: seed 002's OTP login, and proofs of a user's contact. The code is kept only as a
-- keyed digest; `attempts` counts guesses and is raised atomically before a guess is
-- compared, so parallel guesses never exceed the limit. A resend replaces the code of the
-- live request for the same destination and keeps its attempts.
CREATE TABLE otp_requests (
    id           UUID PRIMARY KEY,
    app_id       UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- `signin` (seed 002's OTP) or `contact` (proving a contact of a signed-in user, named
    -- by `contact_id`): a code of one purpose is no code of the other.
    purpose      TEXT NOT NULL CHECK (purpose IN ('signin', 'contact')),
    contact_id   UUID REFERENCES contacts (id) ON DELETE CASCADE,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    destination  TEXT NOT NULL,
    code_digest  TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    sends        INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    consumed_at  TIMESTAMPTZ
);
CREATE INDEX otp_requests_live ON otp_requests (app_id, destination) WHERE consumed_at IS NULL;
CREATE INDEX otp_requests_expiry ON otp_requests (expires_at);

-- Text messages go through the same durable queue as mail.
ALTER TABLE mail_outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms'));
