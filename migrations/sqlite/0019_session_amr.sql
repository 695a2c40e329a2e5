-- How each session's user authenticated: its authentication method references (RFC 8176,
-- a JSON array such as ["pwd"] or ["otp", "sms"]), set when the session opens and carried
-- into the ID tokens (`amr`) of the OIDC grants it yields. Sessions opened before this
-- migration have none recorded, and their ID tokens carry no `amr`.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';
