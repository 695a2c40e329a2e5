//! The SQL of API keys.

pub(crate) const API_KEY_COLUMNS: &str =
    "id, app_id, name, prefix, digest, scopes, created_by, created_at, expires_at, last_used_at, revoked_at";

/// `mod api_keys` of queries for database `$db`.
macro_rules! api_keys {
    ($db:ty) => {
        pub(crate) mod api_keys {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::ApiKey;
            use $crate::store::sql::api_keys::API_KEY_COLUMNS;
            use $crate::store::sql::rows::{many, ApiKeyRow};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn api_keys(db: &Pool, app_id: Uuid) -> StoreResult<Vec<ApiKey>> {
                let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE app_id = $1 ORDER BY created_at DESC, id");
                let rows = sqlx::query_as::<_, ApiKeyRow>(&sql).bind(app_id).fetch_all(db).await?;
                many(rows, ApiKeyRow::into_model)
            }

            pub(crate) async fn api_key_by_digest(db: &Pool, digest: &str) -> StoreResult<Option<ApiKey>> {
                let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE digest = $1");
                let row = sqlx::query_as::<_, ApiKeyRow>(&sql).bind(digest).fetch_optional(db).await?;
                row.map(ApiKeyRow::into_model).transpose()
            }

            pub(crate) async fn insert_api_key(tx: &mut Tx, k: &ApiKey) -> StoreResult<()> {
                let sql = format!("INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
                sqlx::query(&sql)
                    .bind(k.id).bind(k.app_id).bind(&k.name).bind(&k.prefix).bind(&k.digest).bind(Json(&k.scopes))
                    .bind(k.created_by).bind(Ts(k.created_at)).bind(k.expires_at.map(Ts)).bind(k.last_used_at.map(Ts))
                    .bind(k.revoked_at.map(Ts))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn revoke_api_key(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $3 WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn touch_api_key(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $3 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use api_keys;
