-- One session mechanism: a browser's cookie names a Rampart session (the console's now, the
-- hosted pages' and seed 003's cookie API next). The cookie is an opaque token kept here as
-- its SHA-256, and revoking the session ends it. tower-sessions' own table goes.

ALTER TABLE sessions ADD COLUMN cookie_digest TEXT;
CREATE UNIQUE INDEX sessions_cookie ON sessions (cookie_digest) WHERE cookie_digest IS NOT NULL;
DROP TABLE IF EXISTS console_sessions;
