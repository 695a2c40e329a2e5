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
                    "SELECT kid, app_id, alg, private_sealed, public_jwk, active, created_at, retired_at \
                     FROM signing_keys WHERE app_id = $1 ORDER BY active DESC, created_at DESC",
                )
                .bind(app_id)
                .fetch_all(db)
                .await?;
                many(rows, SigningKeyRow::into_model)
            }

            pub(crate) async fn insert_signing_key(tx: &mut Tx, key: &SigningKey) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, app_id, alg, private_sealed, public_jwk, active, created_at, retired_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&key.kid).bind(key.app_id).bind(&key.alg).bind(&key.private_sealed)
                .bind(Json(&key.public_jwk)).bind(key.active).bind(Ts(key.created_at)).bind(key.retired_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use signing_keys;
