//! The SQL of organizations inside an app: the organizations, their members, invitations
//! into them, and the organization each session acts in.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{ActiveOrgRecord, OrgInvite, OrgMember, OrgMembership, Organization};
use crate::store::{StoreResult, Ts};

pub(crate) const ORG_COLUMNS: &str =
    "o.id, o.app_id, o.slug, o.name, o.metadata, o.created_by, o.created_at, o.updated_at";
pub(crate) const MEMBER_SELECT: &str =
    "SELECT m.org_id, m.user_id, m.role_id, r.name AS role_name, m.created_at AS joined_at, \
     u.username, u.display_name, c.value AS email \
     FROM organization_members m JOIN roles r ON r.id = m.role_id JOIN users u ON u.id = m.user_id \
     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary = TRUE";
pub(crate) const INVITE_COLUMNS: &str = "id, app_id, org_id, email, role_id, code_digest, invited_by, created_at, \
     expires_at, accepted_at, accepted_by, revoked_at";

#[derive(FromRow)]
pub(crate) struct OrgRow {
    id: Uuid,
    app_id: Uuid,
    slug: String,
    name: String,
    metadata: Json<serde_json::Value>,
    created_by: Option<Uuid>,
    created_at: Ts,
    updated_at: Ts,
}

impl OrgRow {
    pub(crate) fn into_model(self) -> StoreResult<Organization> {
        Ok(Organization {
            id: self.id,
            app_id: self.app_id,
            slug: self.slug,
            name: self.name,
            metadata: self.metadata.0,
            created_by: self.created_by,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct OrgCountRow {
    #[sqlx(flatten)]
    org: OrgRow,
    member_count: i64,
}

impl OrgCountRow {
    pub(crate) fn into_model(self) -> StoreResult<(Organization, i64)> {
        Ok((self.org.into_model()?, self.member_count))
    }
}

#[derive(FromRow)]
pub(crate) struct MembershipRow {
    #[sqlx(flatten)]
    org: OrgRow,
    role_id: Uuid,
    role_name: String,
    joined_at: Ts,
}

impl MembershipRow {
    pub(crate) fn into_model(self) -> StoreResult<OrgMembership> {
        Ok(OrgMembership {
            org: self.org.into_model()?,
            role_id: self.role_id,
            role_name: self.role_name,
            joined_at: self.joined_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct MemberRow {
    org_id: Uuid,
    user_id: Uuid,
    role_id: Uuid,
    role_name: String,
    joined_at: Ts,
    username: String,
    display_name: String,
    email: Option<String>,
}

impl MemberRow {
    pub(crate) fn into_model(self) -> StoreResult<OrgMember> {
        Ok(OrgMember {
            org_id: self.org_id,
            user_id: self.user_id,
            role_id: self.role_id,
            role_name: self.role_name,
            joined_at: self.joined_at.0,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ActiveOrgRow {
    org_id: Uuid,
    slug: String,
    role_id: Uuid,
    role_name: String,
}

impl ActiveOrgRow {
    pub(crate) fn into_model(self) -> ActiveOrgRecord {
        ActiveOrgRecord { org_id: self.org_id, slug: self.slug, role_id: self.role_id, role_name: self.role_name }
    }
}

#[derive(FromRow)]
pub(crate) struct InviteRow {
    id: Uuid,
    app_id: Uuid,
    org_id: Uuid,
    email: String,
    role_id: Uuid,
    code_digest: String,
    invited_by: Option<Uuid>,
    created_at: Ts,
    expires_at: Ts,
    accepted_at: Option<Ts>,
    accepted_by: Option<Uuid>,
    revoked_at: Option<Ts>,
}

impl InviteRow {
    pub(crate) fn into_model(self) -> StoreResult<OrgInvite> {
        Ok(OrgInvite {
            id: self.id,
            app_id: self.app_id,
            org_id: self.org_id,
            email: self.email,
            role_id: self.role_id,
            code_digest: self.code_digest,
            invited_by: self.invited_by,
            created_at: self.created_at.0,
            expires_at: self.expires_at.0,
            accepted_at: self.accepted_at.map(|t| t.0),
            accepted_by: self.accepted_by,
            revoked_at: self.revoked_at.map(|t| t.0),
        })
    }
}

/// The cursor of a page of organizations: the last one's creation time and id.
pub type OrgCursor = (DateTime<Utc>, Uuid);

/// `mod organizations` of queries for database `$db`.
macro_rules! organizations {
    ($db:ty) => {
        pub(crate) mod organizations {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::{ActiveOrgRecord, OrgInvite, OrgMember, OrgMembership, Organization};
            use $crate::store::sql::organizations::{
                ActiveOrgRow, InviteRow, MemberRow, MembershipRow, OrgCountRow, OrgCursor, OrgRow, INVITE_COLUMNS,
                MEMBER_SELECT, ORG_COLUMNS,
            };
            use $crate::store::sql::rows::many;
            use $crate::store::sql::users::contains_pattern;
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn organization(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<Organization>> {
                let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.app_id = $1 AND o.id = $2");
                let row = sqlx::query_as::<_, OrgRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(OrgRow::into_model).transpose()
            }

            pub(crate) async fn organization_by_slug(db: &Pool, app_id: Uuid, slug: &str) -> StoreResult<Option<Organization>> {
                let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.app_id = $1 AND o.slug = $2");
                let row = sqlx::query_as::<_, OrgRow>(&sql).bind(app_id).bind(slug).fetch_optional(db).await?;
                row.map(OrgRow::into_model).transpose()
            }

            pub(crate) async fn organization_id_taken(db: &Pool, id: Uuid) -> StoreResult<bool> {
                let row: Option<(i32,)> =
                    sqlx::query_as("SELECT 1 FROM organizations WHERE id = $1").bind(id).fetch_optional(db).await?;
                Ok(row.is_some())
            }

            pub(crate) async fn organizations_page(
                db: &Pool,
                app_id: Uuid,
                search: Option<&str>,
                after: Option<OrgCursor>,
                limit: u32,
            ) -> StoreResult<Vec<(Organization, i64)>> {
                let mut sql = format!(
                    "SELECT {ORG_COLUMNS}, \
                     (SELECT COUNT(*) FROM organization_members m WHERE m.org_id = o.id) AS member_count \
                     FROM organizations o WHERE o.app_id = $1"
                );
                if search.is_some() {
                    sql.push_str(" AND (LOWER(o.name) LIKE $2 ESCAPE '\\' OR o.slug LIKE $2 ESCAPE '\\')");
                }
                if after.is_some() {
                    sql.push_str(" AND (o.created_at > $3 OR (o.created_at = $3 AND o.id > $4))");
                }
                sql.push_str(" ORDER BY o.created_at, o.id LIMIT $5");
                // Unused parameters are bound anyway so the numbering stays fixed.
                let (at, id) = after.map(|(at, id)| (Ts(at), id)).unwrap_or((Ts(DateTime::UNIX_EPOCH), Uuid::nil()));
                let rows = sqlx::query_as::<_, OrgCountRow>(&sql)
                    .bind(app_id)
                    .bind(search.map(contains_pattern).unwrap_or_default())
                    .bind(at)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(db)
                    .await?;
                many(rows, OrgCountRow::into_model)
            }

            pub(crate) async fn organizations_of(db: &Pool, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<OrgMembership>> {
                let sql = format!(
                    "SELECT {ORG_COLUMNS}, m.role_id, r.name AS role_name, m.created_at AS joined_at \
                     FROM organization_members m JOIN organizations o ON o.id = m.org_id JOIN roles r ON r.id = m.role_id \
                     WHERE m.app_id = $1 AND m.user_id = $2 ORDER BY m.created_at, o.id"
                );
                let rows = sqlx::query_as::<_, MembershipRow>(&sql).bind(app_id).bind(user_id).fetch_all(db).await?;
                many(rows, MembershipRow::into_model)
            }

            pub(crate) async fn organization_members(db: &Pool, app_id: Uuid, org_id: Uuid) -> StoreResult<Vec<OrgMember>> {
                let sql = format!("{MEMBER_SELECT} WHERE m.app_id = $1 AND m.org_id = $2 ORDER BY m.created_at, m.user_id");
                let rows = sqlx::query_as::<_, MemberRow>(&sql).bind(app_id).bind(org_id).fetch_all(db).await?;
                many(rows, MemberRow::into_model)
            }

            pub(crate) async fn organization_member(
                db: &Pool,
                app_id: Uuid,
                org_id: Uuid,
                user_id: Uuid,
            ) -> StoreResult<Option<OrgMember>> {
                let sql = format!("{MEMBER_SELECT} WHERE m.app_id = $1 AND m.org_id = $2 AND m.user_id = $3");
                let row = sqlx::query_as::<_, MemberRow>(&sql)
                    .bind(app_id).bind(org_id).bind(user_id).fetch_optional(db).await?;
                row.map(MemberRow::into_model).transpose()
            }

            pub(crate) async fn session_org(db: &Pool, app_id: Uuid, session_id: Uuid) -> StoreResult<Option<ActiveOrgRecord>> {
                let row = sqlx::query_as::<_, ActiveOrgRow>(
                    "SELECT o.id AS org_id, o.slug, r.id AS role_id, r.name AS role_name \
                     FROM sessions s \
                     JOIN organization_members m ON m.org_id = s.active_org_id AND m.user_id = s.user_id \
                     JOIN organizations o ON o.id = m.org_id JOIN roles r ON r.id = m.role_id \
                     WHERE s.app_id = $1 AND s.id = $2",
                )
                .bind(app_id).bind(session_id).fetch_optional(db).await?;
                Ok(row.map(ActiveOrgRow::into_model))
            }

            pub(crate) async fn org_invite_by_code(db: &Pool, app_id: Uuid, digest: &str) -> StoreResult<Option<OrgInvite>> {
                let sql = format!("SELECT {INVITE_COLUMNS} FROM organization_invites WHERE app_id = $1 AND code_digest = $2");
                let row = sqlx::query_as::<_, InviteRow>(&sql).bind(app_id).bind(digest).fetch_optional(db).await?;
                row.map(InviteRow::into_model).transpose()
            }

            pub(crate) async fn insert_organization(tx: &mut Tx, o: &Organization) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO organizations (id, app_id, slug, name, metadata, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(o.id).bind(o.app_id).bind(&o.slug).bind(&o.name).bind(Json(&o.metadata)).bind(o.created_by)
                .bind(Ts(o.created_at)).bind(Ts(o.updated_at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn update_organization(tx: &mut Tx, o: &Organization) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE organizations SET slug = $3, name = $4, metadata = $5, updated_at = $6 WHERE app_id = $1 AND id = $2",
                )
                .bind(o.app_id).bind(o.id).bind(&o.slug).bind(&o.name).bind(Json(&o.metadata)).bind(Ts(o.updated_at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn delete_organization(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM organizations WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// A write to the organization's row that changes nothing: it takes the row's lock
            /// (PostgreSQL) or the database's write lock (SQLite) for the rest of the
            /// transaction, so changes to its members are made one after the other.
            pub(crate) async fn lock_organization(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE organizations SET updated_at = updated_at WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn member_role_in(
                tx: &mut Tx,
                app_id: Uuid,
                org_id: Uuid,
                user_id: Uuid,
            ) -> StoreResult<Option<(Uuid, String)>> {
                let row: Option<(Uuid, String)> = sqlx::query_as(
                    "SELECT m.role_id, r.name FROM organization_members m JOIN roles r ON r.id = m.role_id \
                     WHERE m.app_id = $1 AND m.org_id = $2 AND m.user_id = $3",
                )
                .bind(app_id).bind(org_id).bind(user_id).fetch_optional(&mut **tx).await?;
                Ok(row)
            }

            pub(crate) async fn count_org_role(tx: &mut Tx, app_id: Uuid, org_id: Uuid, role_id: Uuid) -> StoreResult<i64> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM organization_members WHERE app_id = $1 AND org_id = $2 AND role_id = $3",
                )
                .bind(app_id).bind(org_id).bind(role_id).fetch_one(&mut **tx).await?;
                Ok(count)
            }

            pub(crate) async fn insert_org_member(
                tx: &mut Tx,
                app_id: Uuid,
                org_id: Uuid,
                user_id: Uuid,
                role_id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO organization_members (org_id, app_id, user_id, role_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(org_id).bind(app_id).bind(user_id).bind(role_id).bind(Ts(at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn set_org_member_role(
                tx: &mut Tx,
                app_id: Uuid,
                org_id: Uuid,
                user_id: Uuid,
                role_id: Uuid,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE organization_members SET role_id = $4 WHERE app_id = $1 AND org_id = $2 AND user_id = $3",
                )
                .bind(app_id).bind(org_id).bind(user_id).bind(role_id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn delete_org_member(tx: &mut Tx, app_id: Uuid, org_id: Uuid, user_id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM organization_members WHERE app_id = $1 AND org_id = $2 AND user_id = $3")
                    .bind(app_id).bind(org_id).bind(user_id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn clear_active_org(
                tx: &mut Tx,
                app_id: Uuid,
                org_id: Uuid,
                user_id: Option<Uuid>,
            ) -> StoreResult<Vec<Uuid>> {
                let ids: Vec<Uuid> = sqlx::query_scalar(
                    "UPDATE sessions SET active_org_id = NULL \
                     WHERE app_id = $1 AND active_org_id = $2 AND ($3 OR user_id = $4) RETURNING id",
                )
                .bind(app_id).bind(org_id).bind(user_id.is_none()).bind(user_id.unwrap_or_else(Uuid::nil))
                .fetch_all(&mut **tx).await?;
                Ok(ids)
            }

            pub(crate) async fn set_active_org(
                tx: &mut Tx,
                app_id: Uuid,
                session_id: Uuid,
                org_id: Option<Uuid>,
            ) -> StoreResult<bool> {
                let done = match org_id {
                    // Only into an organization the session's user is a member of, in the
                    // same statement: a removal that commits first wins.
                    Some(org_id) => sqlx::query(
                        "UPDATE sessions SET active_org_id = $3 \
                         WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL AND EXISTS \
                         (SELECT 1 FROM organization_members m WHERE m.org_id = $3 AND m.user_id = sessions.user_id)",
                    )
                    .bind(app_id).bind(session_id).bind(org_id).execute(&mut **tx).await?,
                    None => sqlx::query(
                        "UPDATE sessions SET active_org_id = NULL WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL",
                    )
                    .bind(app_id).bind(session_id).execute(&mut **tx).await?,
                };
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn insert_org_invite(tx: &mut Tx, i: &OrgInvite, email_normalized: &str) -> StoreResult<u64> {
                let superseded = sqlx::query(
                    "UPDATE organization_invites SET revoked_at = $4 \
                     WHERE app_id = $1 AND org_id = $2 AND email_normalized = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(i.app_id).bind(i.org_id).bind(email_normalized).bind(Ts(i.created_at)).execute(&mut **tx).await?;
                sqlx::query(
                    "INSERT INTO organization_invites (id, app_id, org_id, email, email_normalized, role_id, code_digest, \
                     invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(i.id).bind(i.app_id).bind(i.org_id).bind(&i.email).bind(email_normalized).bind(i.role_id)
                .bind(&i.code_digest).bind(i.invited_by).bind(Ts(i.created_at)).bind(Ts(i.expires_at))
                .bind(i.accepted_at.map(Ts)).bind(i.accepted_by).bind(i.revoked_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(superseded.rows_affected())
            }

            pub(crate) async fn accept_org_invite(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                user_id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE organization_invites SET accepted_at = $4, accepted_by = $3 \
                     WHERE app_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4",
                )
                .bind(app_id).bind(id).bind(user_id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use organizations;
