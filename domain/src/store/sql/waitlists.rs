//! The SQL of waitlists (seed 004). An entry's context is its organization or none, compared
//! with `IS NOT DISTINCT FROM` so that "none" is a context of its own.

use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{WaitlistEntry, WaitlistListing};
use crate::store::{StoreResult, Ts};

pub(crate) const ENTRY_COLUMNS: &str = "w.id, w.app_id, w.feature, w.user_id, w.org_id, w.created_at, w.admitted_at";
/// The same, unqualified (`RETURNING`).
pub(crate) const ENTRY_FIELDS: &str = "id, app_id, feature, user_id, org_id, created_at, admitted_at";

#[derive(FromRow)]
pub(crate) struct EntryRow {
    id: Uuid,
    app_id: Uuid,
    feature: String,
    user_id: Uuid,
    org_id: Option<Uuid>,
    created_at: Ts,
    admitted_at: Option<Ts>,
}

impl EntryRow {
    pub(crate) fn into_model(self) -> StoreResult<WaitlistEntry> {
        Ok(WaitlistEntry {
            id: self.id,
            app_id: self.app_id,
            feature: self.feature,
            user_id: self.user_id,
            org_id: self.org_id,
            created_at: self.created_at.0,
            admitted_at: self.admitted_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ListingRow {
    #[sqlx(flatten)]
    entry: EntryRow,
    username: String,
    display_name: String,
    email: Option<String>,
    org_name: Option<String>,
}

impl ListingRow {
    pub(crate) fn into_model(self) -> StoreResult<WaitlistListing> {
        Ok(WaitlistListing {
            entry: self.entry.into_model()?,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
            org_name: self.org_name,
        })
    }
}

/// `mod waitlists` of queries for database `$db`.
macro_rules! waitlists {
    ($db:ty) => {
        pub(crate) mod waitlists {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use $crate::model::{WaitlistCount, WaitlistEntry, WaitlistListing};
            use $crate::store::sql::rows::many;
            use $crate::store::sql::waitlists::{EntryRow, ListingRow, ENTRY_COLUMNS, ENTRY_FIELDS};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn waitlist_entry(
                db: &Pool,
                app_id: Uuid,
                feature: &str,
                user_id: Uuid,
                org_id: Option<Uuid>,
            ) -> StoreResult<Option<WaitlistEntry>> {
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist_entries w \
                     WHERE w.app_id = $1 AND w.feature = $2 AND w.user_id = $3 AND w.org_id IS NOT DISTINCT FROM $4"
                );
                let row = sqlx::query_as::<_, EntryRow>(&sql)
                    .bind(app_id).bind(feature).bind(user_id).bind(org_id)
                    .fetch_optional(db).await?;
                row.map(EntryRow::into_model).transpose()
            }

            pub(crate) async fn waitlist_entries_of(
                db: &Pool,
                app_id: Uuid,
                user_id: Uuid,
                org_id: Option<Uuid>,
            ) -> StoreResult<Vec<WaitlistEntry>> {
                let sql = format!(
                    "SELECT {ENTRY_COLUMNS} FROM waitlist_entries w \
                     WHERE w.app_id = $1 AND w.user_id = $2 AND w.org_id IS NOT DISTINCT FROM $3 \
                     ORDER BY w.feature"
                );
                let rows =
                    sqlx::query_as::<_, EntryRow>(&sql).bind(app_id).bind(user_id).bind(org_id).fetch_all(db).await?;
                many(rows, EntryRow::into_model)
            }

            pub(crate) async fn waitlist_counts(db: &Pool, app_id: Uuid) -> StoreResult<Vec<WaitlistCount>> {
                let rows: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT feature, COUNT(*) FILTER (WHERE admitted_at IS NULL), COUNT(*) FILTER (WHERE admitted_at IS NOT NULL) \
                     FROM waitlist_entries WHERE app_id = $1 GROUP BY feature ORDER BY feature",
                )
                .bind(app_id)
                .fetch_all(db)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(feature, waiting, admitted)| WaitlistCount { feature, waiting, admitted })
                    .collect())
            }

            pub(crate) async fn waitlist_page(
                db: &Pool,
                app_id: Uuid,
                feature: &str,
                admitted: Option<bool>,
                after: Option<(DateTime<Utc>, Uuid)>,
                limit: u32,
            ) -> StoreResult<Vec<WaitlistListing>> {
                let mut sql = format!(
                    "SELECT {ENTRY_COLUMNS}, u.username, u.display_name, c.value AS email, o.name AS org_name \
                     FROM waitlist_entries w JOIN users u ON u.id = w.user_id \
                     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary = TRUE \
                     LEFT JOIN organizations o ON o.id = w.org_id \
                     WHERE w.app_id = $1 AND w.feature = $2"
                );
                match admitted {
                    Some(true) => sql.push_str(" AND w.admitted_at IS NOT NULL"),
                    Some(false) => sql.push_str(" AND w.admitted_at IS NULL"),
                    None => {}
                }
                if after.is_some() {
                    sql.push_str(" AND (w.created_at > $3 OR (w.created_at = $3 AND w.id > $4))");
                }
                sql.push_str(" ORDER BY w.created_at, w.id LIMIT $5");
                // Unused parameters are bound anyway so the numbering stays fixed.
                let (at, id) = after.unwrap_or((DateTime::UNIX_EPOCH, Uuid::nil()));
                let rows = sqlx::query_as::<_, ListingRow>(&sql)
                    .bind(app_id).bind(feature).bind(Ts(at)).bind(id).bind(i64::from(limit))
                    .fetch_all(db).await?;
                many(rows, ListingRow::into_model)
            }

            /// Inserts the entry unless the user is on that waitlist in that context already;
            /// answers whether it did.
            pub(crate) async fn join_waitlist(tx: &mut Tx, e: &WaitlistEntry) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO waitlist_entries (id, app_id, feature, user_id, org_id, created_at, admitted_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(e.id).bind(e.app_id).bind(&e.feature).bind(e.user_id).bind(e.org_id)
                .bind(Ts(e.created_at)).bind(e.admitted_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn leave_waitlist(
                tx: &mut Tx,
                app_id: Uuid,
                feature: &str,
                user_id: Uuid,
                org_id: Option<Uuid>,
            ) -> StoreResult<Option<Uuid>> {
                let id: Option<(Uuid,)> = sqlx::query_as(
                    "DELETE FROM waitlist_entries \
                     WHERE app_id = $1 AND feature = $2 AND user_id = $3 AND org_id IS NOT DISTINCT FROM $4 RETURNING id",
                )
                .bind(app_id).bind(feature).bind(user_id).bind(org_id)
                .fetch_optional(&mut **tx).await?;
                Ok(id.map(|(id,)| id))
            }

            /// Lets one waiting entry in; `None` when it is not waiting (already admitted, gone,
            /// or of another feature), so of two admins admitting it one does.
            pub(crate) async fn admit_waitlist_entry(
                tx: &mut Tx,
                app_id: Uuid,
                feature: &str,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<Option<WaitlistEntry>> {
                let sql = format!(
                    "UPDATE waitlist_entries SET admitted_at = $4 \
                     WHERE app_id = $1 AND feature = $2 AND id = $3 AND admitted_at IS NULL \
                     RETURNING {ENTRY_FIELDS}"
                );
                let row = sqlx::query_as::<_, EntryRow>(&sql)
                    .bind(app_id).bind(feature).bind(id).bind(Ts(at))
                    .fetch_optional(&mut **tx).await?;
                row.map(EntryRow::into_model).transpose()
            }
        }
    };
}

pub(crate) use waitlists;
