//! The SQL of apps' token-signing keys.

/// `mod signing_keys` of queries for database `$db`.
macro_rules! signing_keys {
    ($db:ty) => {
        pub(crate) mod signing_keys {
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::SigningKey;
            use $crate::store::sql::rows::{many, SigningKeyRow};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn signing_keys(db: &Pool, app_id: Uuid) -> StoreResult<Vec<SigningKey>> {
                let rows = sqlx::query_as::<_, SigningKeyRow>(
                    "SELECT kid, app_id, alg, private_sealed, public_jwk, active, created_at, retired_at, revoked_at \
                     FROM signing_keys WHERE app_id = $1 ORDER BY active DESC, created_at DESC",
                )
                .bind(app_id)
                .fetch_all(db)
                .await?;
                many(rows, SigningKeyRow::into_model)
            }

            pub(crate) async fn insert_signing_key(tx: &mut Tx, key: &SigningKey) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, app_id, alg, private_sealed, public_jwk, active, created_at, retired_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&key.kid).bind(key.app_id).bind(&key.alg).bind(&key.private_sealed)
                .bind(Json(&key.public_jwk)).bind(key.active).bind(Ts(key.created_at)).bind(key.retired_at.map(Ts)).bind(key.revoked_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(())
            }

            /// Ends `kid`'s turn as the app's active key: it verifies until `retired_at`.
            /// False when it is not the app's active key (any more).
            pub(crate) async fn retire_signing_key(
                tx: &mut Tx,
                app_id: Uuid,
                kid: &str,
                retired_at: chrono::DateTime<chrono::Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE signing_keys SET active = FALSE, retired_at = $3 \
                     WHERE app_id = $1 AND kid = $2 AND active",
                )
                .bind(app_id).bind(kid).bind(Ts(retired_at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Revokes a key that no longer signs: it is retired at `at`. False when it is
            /// the active key, already revoked, or not the app's.
            pub(crate) async fn revoke_signing_key(
                tx: &mut Tx,
                app_id: Uuid,
                kid: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE signing_keys SET revoked_at = $3, retired_at = $3 \
                     WHERE app_id = $1 AND kid = $2 AND NOT active AND revoked_at IS NULL",
                )
                .bind(app_id).bind(kid).bind(Ts(at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use signing_keys;
