-- Organizations inside an app, continued (issue 15): invitations into an organization, and
-- the management permissions over the app's organizations.
--
-- An invite names the organization, the invitee's email and the role (one of the app's
-- roles) the invitee gets; its code is kept as its SHA-256, is single use, expires, and a
-- newer invite of the same email into the same organization revokes the pending ones.
CREATE TABLE organization_invites (
    id               BLOB PRIMARY KEY,
    app_id           BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    org_id           BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    role_id          BLOB NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    code_digest      TEXT NOT NULL UNIQUE,
    invited_by       BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    accepted_at      INTEGER,
    accepted_by      BLOB REFERENCES users (id) ON DELETE SET NULL,
    revoked_at       INTEGER
);
CREATE INDEX organization_invites_org ON organization_invites (org_id, email_normalized);

-- The app's owner and admin roles manage its organizations (`org.read`, `org.update`), as
-- new apps' system roles do.
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'org.read')
WHERE is_system AND name IN ('owner', 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'org.read');
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'org.update')
WHERE is_system AND name IN ('owner', 'admin')
  AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = 'org.update');
