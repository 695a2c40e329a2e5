-- Organizations inside an app (issue 15): seed 002's tenants, seed 003's organizations,
-- seed 004's account memberships. An end-user belongs to any number of an app's
-- organizations, with one of the app's roles in each (the org role, carried in the access
-- token as `org_role` while the organization is active). Licenses and waitlists may name one.
CREATE TABLE organizations (
    id         UUID PRIMARY KEY,
    app_id     UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    metadata   JSONB NOT NULL DEFAULT '{}',
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (app_id, slug)
);
CREATE INDEX organizations_app ON organizations (app_id, created_at);

CREATE TABLE organization_members (
    org_id     UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    app_id     UUID NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    UUID NOT NULL REFERENCES roles (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX organization_members_user ON organization_members (app_id, user_id);
CREATE INDEX organization_members_role ON organization_members (role_id);

-- The organization a session acts in: switching sets it, refreshes keep it, and leaving
-- the organization (or being removed) clears it.
ALTER TABLE sessions ADD COLUMN active_org_id UUID REFERENCES organizations (id) ON DELETE SET NULL;
