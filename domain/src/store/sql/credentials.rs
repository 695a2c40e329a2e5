//! The SQL of app credentials (seed 002's `app_id` + `app_secret`).

pub(crate) const CREDENTIAL_COLUMNS: &str = "id, app_id, client_id, name, secret_digest, previous_digest, \
     previous_expires_at, created_at, rotated_at, last_used_at, revoked_at";

/// `mod credentials` of queries for database `$db`.
macro_rules! credentials {
    ($db:ty) => {
        pub(crate) mod credentials {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use $crate::model::AppCredential;
            use $crate::store::sql::credentials::CREDENTIAL_COLUMNS;
            use $crate::store::sql::rows::{many, AppCredentialRow};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn app_credentials(db: &Pool, app_id: Uuid) -> StoreResult<Vec<AppCredential>> {
                let sql = format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM app_credentials WHERE app_id = $1 ORDER BY created_at DESC, id"
                );
                let rows = sqlx::query_as::<_, AppCredentialRow>(&sql).bind(app_id).fetch_all(db).await?;
                many(rows, AppCredentialRow::into_model)
            }

            pub(crate) async fn app_credential(
                db: &Pool,
                app_id: Uuid,
                client_id: &str,
            ) -> StoreResult<Option<AppCredential>> {
                let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM app_credentials WHERE app_id = $1 AND client_id = $2");
                let row =
                    sqlx::query_as::<_, AppCredentialRow>(&sql).bind(app_id).bind(client_id).fetch_optional(db).await?;
                row.map(AppCredentialRow::into_model).transpose()
            }

            pub(crate) async fn insert_app_credential(tx: &mut Tx, c: &AppCredential) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO app_credentials ({CREDENTIAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                );
                sqlx::query(&sql)
                    .bind(c.id).bind(c.app_id).bind(&c.client_id).bind(&c.name).bind(&c.secret_digest)
                    .bind(&c.previous_digest).bind(c.previous_expires_at.map(Ts)).bind(Ts(c.created_at))
                    .bind(c.rotated_at.map(Ts)).bind(c.last_used_at.map(Ts)).bind(c.revoked_at.map(Ts))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            /// One statement, so of two racing rotations each replaces what the other left:
            /// the current digest becomes the previous one, whatever it is by then.
            pub(crate) async fn rotate_app_credential(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                digest: &str,
                previous_until: Option<DateTime<Utc>>,
                at: DateTime<Utc>,
            ) -> StoreResult<Option<AppCredential>> {
                let sql = format!(
                    "UPDATE app_credentials SET \
                       previous_digest = CASE WHEN $4 IS NULL THEN NULL ELSE secret_digest END, \
                       previous_expires_at = $4, secret_digest = $3, rotated_at = $5 \
                     WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING {CREDENTIAL_COLUMNS}"
                );
                let row = sqlx::query_as::<_, AppCredentialRow>(&sql)
                    .bind(app_id).bind(id).bind(digest).bind(previous_until.map(Ts)).bind(Ts(at))
                    .fetch_optional(&mut **tx).await?;
                row.map(AppCredentialRow::into_model).transpose()
            }

            pub(crate) async fn revoke_app_credential(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE app_credentials SET revoked_at = $3, previous_digest = NULL, previous_expires_at = NULL \
                     WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn touch_app_credential(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE app_credentials SET last_used_at = $3 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use credentials;
