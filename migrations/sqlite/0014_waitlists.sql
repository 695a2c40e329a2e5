-- Waitlists (issue 15, seed 004): an end-user signs up for one of the app's features, in the
-- context of the organization its token is acting in, if any (seed 004's "token account
-- context"). Admins admit them, which sends a mail. One entry per user, feature and context.
CREATE TABLE waitlist_entries (
    id          BLOB PRIMARY KEY,
    app_id      BLOB NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    feature     TEXT NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id      BLOB REFERENCES organizations (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    admitted_at INTEGER
);
-- A NULL organization is a context of its own, which a plain unique index would not see.
CREATE UNIQUE INDEX waitlist_entries_personal ON waitlist_entries (app_id, feature, user_id) WHERE org_id IS NULL;
CREATE UNIQUE INDEX waitlist_entries_in_org ON waitlist_entries (app_id, feature, user_id, org_id)
    WHERE org_id IS NOT NULL;
CREATE INDEX waitlist_entries_feature ON waitlist_entries (app_id, feature, created_at, id);
CREATE INDEX waitlist_entries_user ON waitlist_entries (app_id, user_id);
