//! The SQL of license keys and their device activations.
//!
//! Activations are counted under the license's row lock: `locked_license` writes the license
//! row (a no-op update) before reading it with its live activations, so on PostgreSQL a
//! second activation of the same license waits for the first to commit and then counts it
//! (each statement of a READ COMMITTED transaction sees what committed before it). SQLite
//! has one writer connection: write transactions run one at a time anyway.

use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

use crate::licenses::{Activation, License};
use crate::store::{StoreResult, Ts};

/// A license with its live activations (a subquery, so every read counts them alike).
pub(crate) const LICENSE_SELECT: &str = "SELECT l.id, l.app_id, l.key_digest, l.key_prefix, l.product_id, l.user_id, \
     l.org_id, l.max_activations, l.metadata, l.created_at, l.updated_at, l.expires_at, l.revoked_at, \
     (SELECT COUNT(*) FROM license_activations a WHERE a.license_id = l.id AND a.deactivated_at IS NULL) AS activations \
     FROM licenses l";

pub(crate) const ACTIVATION_COLUMNS: &str =
    "id, license_id, app_id, fingerprint, device_name, created_at, last_verified_at, deactivated_at";

#[derive(FromRow)]
pub(crate) struct LicenseRow {
    id: Uuid,
    app_id: Uuid,
    key_digest: String,
    key_prefix: String,
    product_id: String,
    user_id: Option<Uuid>,
    org_id: Option<Uuid>,
    max_activations: i32,
    metadata: Json<serde_json::Value>,
    created_at: Ts,
    updated_at: Ts,
    expires_at: Option<Ts>,
    revoked_at: Option<Ts>,
    activations: i64,
}

impl LicenseRow {
    pub(crate) fn into_model(self) -> StoreResult<License> {
        Ok(License {
            id: self.id,
            app_id: self.app_id,
            key_digest: self.key_digest,
            key_prefix: self.key_prefix,
            product_id: self.product_id,
            user_id: self.user_id,
            org_id: self.org_id,
            max_activations: self.max_activations,
            metadata: self.metadata.0,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            expires_at: self.expires_at.map(|t| t.0),
            revoked_at: self.revoked_at.map(|t| t.0),
            activations: self.activations,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ActivationRow {
    id: Uuid,
    license_id: Uuid,
    app_id: Uuid,
    fingerprint: String,
    device_name: Option<String>,
    created_at: Ts,
    last_verified_at: Option<Ts>,
    deactivated_at: Option<Ts>,
}

impl ActivationRow {
    pub(crate) fn into_model(self) -> StoreResult<Activation> {
        Ok(Activation {
            id: self.id,
            license_id: self.license_id,
            app_id: self.app_id,
            fingerprint: self.fingerprint,
            device_name: self.device_name,
            created_at: self.created_at.0,
            last_verified_at: self.last_verified_at.map(|t| t.0),
            deactivated_at: self.deactivated_at.map(|t| t.0),
        })
    }
}

/// `mod licenses` of queries for database `$db`.
macro_rules! licenses {
    ($db:ty) => {
        pub(crate) mod licenses {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::licenses::{Activation, License, LicenseCursor, LicenseFilter, LicenseStatus};
            use $crate::store::sql::licenses::{ActivationRow, LicenseRow, ACTIVATION_COLUMNS, LICENSE_SELECT};
            use $crate::store::sql::rows::many;
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn license(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<License>> {
                let sql = format!("{LICENSE_SELECT} WHERE l.app_id = $1 AND l.id = $2");
                let row = sqlx::query_as::<_, LicenseRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(LicenseRow::into_model).transpose()
            }

            pub(crate) async fn license_by_digest(
                db: &Pool,
                app_id: Uuid,
                digest: &str,
            ) -> StoreResult<Option<License>> {
                let sql = format!("{LICENSE_SELECT} WHERE l.app_id = $1 AND l.key_digest = $2");
                let row = sqlx::query_as::<_, LicenseRow>(&sql).bind(app_id).bind(digest).fetch_optional(db).await?;
                row.map(LicenseRow::into_model).transpose()
            }

            pub(crate) async fn licenses_page(
                db: &Pool,
                app_id: Uuid,
                filter: &LicenseFilter,
                now: DateTime<Utc>,
                after: Option<LicenseCursor>,
                limit: u32,
            ) -> StoreResult<Vec<License>> {
                let mut sql = format!("{LICENSE_SELECT} WHERE l.app_id = $1");
                if filter.product_id.is_some() {
                    sql.push_str(" AND l.product_id = $2");
                }
                if filter.user_id.is_some() {
                    sql.push_str(" AND l.user_id = $3");
                }
                sql.push_str(match filter.status {
                    None => "",
                    Some(LicenseStatus::Active) => {
                        " AND l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > $4)"
                    }
                    Some(LicenseStatus::Revoked) => " AND l.revoked_at IS NOT NULL",
                    Some(LicenseStatus::Expired) => {
                        " AND l.revoked_at IS NULL AND l.expires_at IS NOT NULL AND l.expires_at <= $4"
                    }
                });
                if after.is_some() {
                    sql.push_str(" AND (l.created_at < $5 OR (l.created_at = $5 AND l.id < $6))");
                }
                sql.push_str(" ORDER BY l.created_at DESC, l.id DESC LIMIT $7");
                // Unused parameters are bound anyway so the numbering stays fixed.
                let (at, id) = after.map(|c| (Ts(c.created_at), c.id)).unwrap_or((Ts(DateTime::UNIX_EPOCH), Uuid::nil()));
                let rows = sqlx::query_as::<_, LicenseRow>(&sql)
                    .bind(app_id)
                    .bind(filter.product_id.clone().unwrap_or_default())
                    .bind(filter.user_id.unwrap_or_default())
                    .bind(Ts(now))
                    .bind(at)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(db)
                    .await?;
                many(rows, LicenseRow::into_model)
            }

            /// The license's activations, live ones first, newest first.
            pub(crate) async fn activations(db: &Pool, app_id: Uuid, license_id: Uuid) -> StoreResult<Vec<Activation>> {
                let sql = format!(
                    "SELECT {ACTIVATION_COLUMNS} FROM license_activations WHERE app_id = $1 AND license_id = $2 \
                     ORDER BY CASE WHEN deactivated_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1000"
                );
                let rows =
                    sqlx::query_as::<_, ActivationRow>(&sql).bind(app_id).bind(license_id).fetch_all(db).await?;
                many(rows, ActivationRow::into_model)
            }

            /// The user's active licenses and those of `org_id`, newest first.
            pub(crate) async fn entitlements(
                db: &Pool,
                app_id: Uuid,
                user_id: Uuid,
                org_id: Option<Uuid>,
                now: DateTime<Utc>,
            ) -> StoreResult<Vec<License>> {
                let sql = format!(
                    "{LICENSE_SELECT} WHERE l.app_id = $1 AND (l.user_id = $2 OR l.org_id = $3) \
                     AND l.revoked_at IS NULL AND (l.expires_at IS NULL OR l.expires_at > $4) \
                     ORDER BY l.created_at DESC, l.id DESC LIMIT 1000"
                );
                let rows = sqlx::query_as::<_, LicenseRow>(&sql)
                    .bind(app_id)
                    .bind(user_id)
                    .bind(org_id)
                    .bind(Ts(now))
                    .fetch_all(db)
                    .await?;
                many(rows, LicenseRow::into_model)
            }

            pub(crate) async fn organization_in_app(db: &Pool, app_id: Uuid, org_id: Uuid) -> StoreResult<bool> {
                let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM organizations WHERE app_id = $1 AND id = $2")
                    .bind(app_id)
                    .bind(org_id)
                    .fetch_optional(db)
                    .await?;
                Ok(found.is_some())
            }

            pub(crate) async fn insert_license(tx: &mut Tx, l: &License) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO licenses (id, app_id, key_digest, key_prefix, product_id, user_id, org_id, \
                     max_activations, metadata, created_at, updated_at, expires_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(l.id).bind(l.app_id).bind(&l.key_digest).bind(&l.key_prefix).bind(&l.product_id)
                .bind(l.user_id).bind(l.org_id).bind(l.max_activations).bind(Json(&l.metadata))
                .bind(Ts(l.created_at)).bind(Ts(l.updated_at)).bind(l.expires_at.map(Ts)).bind(l.revoked_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(())
            }

            /// The license as it is once this transaction holds its row (see the module).
            pub(crate) async fn locked_license(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<Option<License>> {
                let locked = sqlx::query(
                    "UPDATE licenses SET max_activations = max_activations WHERE app_id = $1 AND id = $2",
                )
                .bind(app_id).bind(id).execute(&mut **tx).await?;
                if locked.rows_affected() == 0 {
                    return Ok(None);
                }
                let sql = format!("{LICENSE_SELECT} WHERE l.app_id = $1 AND l.id = $2");
                let row = sqlx::query_as::<_, LicenseRow>(&sql).bind(app_id).bind(id).fetch_optional(&mut **tx).await?;
                row.map(LicenseRow::into_model).transpose()
            }

            pub(crate) async fn revoke_license(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE licenses SET revoked_at = $3, updated_at = $3 WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn extend_license(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                expires_at: Option<DateTime<Utc>>,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE licenses SET expires_at = $3, updated_at = $4 WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                .bind(app_id).bind(id).bind(expires_at.map(Ts)).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn live_activation(
                tx: &mut Tx,
                license_id: Uuid,
                fingerprint: &str,
            ) -> StoreResult<Option<Activation>> {
                let sql = format!(
                    "SELECT {ACTIVATION_COLUMNS} FROM license_activations \
                     WHERE license_id = $1 AND fingerprint = $2 AND deactivated_at IS NULL"
                );
                let row = sqlx::query_as::<_, ActivationRow>(&sql)
                    .bind(license_id).bind(fingerprint).fetch_optional(&mut **tx).await?;
                row.map(ActivationRow::into_model).transpose()
            }

            pub(crate) async fn insert_activation(tx: &mut Tx, a: &Activation) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO license_activations ({ACTIVATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                );
                sqlx::query(&sql)
                    .bind(a.id).bind(a.license_id).bind(a.app_id).bind(&a.fingerprint).bind(&a.device_name)
                    .bind(Ts(a.created_at)).bind(a.last_verified_at.map(Ts)).bind(a.deactivated_at.map(Ts))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn touch_activation(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE license_activations SET last_verified_at = $3 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn deactivate(
                tx: &mut Tx,
                license_id: Uuid,
                fingerprint: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<Option<Activation>> {
                let sql = format!(
                    "UPDATE license_activations SET deactivated_at = $3 \
                     WHERE license_id = $1 AND fingerprint = $2 AND deactivated_at IS NULL RETURNING {ACTIVATION_COLUMNS}"
                );
                let row = sqlx::query_as::<_, ActivationRow>(&sql)
                    .bind(license_id).bind(fingerprint).bind(Ts(at)).fetch_optional(&mut **tx).await?;
                row.map(ActivationRow::into_model).transpose()
            }
        }
    };
}

pub(crate) use licenses;
