//! The SQL of sessions and their refresh tokens, rotation included.

/// Rotates a refresh token (see `Store::rotate_refresh_token`): binds the app, the parent's
/// digest, the successor's digest, the time, the session and the parent's generation;
/// returns the session. The successor's key, the next generation of the session, is taken
/// at most once: of two rotations of a token one inserts, the other finds the key taken.
pub(crate) const ROTATE_REFRESH_TOKEN: &str =
    "INSERT INTO refresh_tokens (session_id, generation, app_id, digest, created_at) \
     SELECT p.session_id, p.generation + 1, p.app_id, $3, $4 \
     FROM refresh_tokens p JOIN sessions s ON s.id = p.session_id \
     WHERE p.session_id = $5 AND p.generation = $6 AND p.app_id = $1 AND p.digest = $2 \
       AND s.revoked_at IS NULL AND s.expires_at > $4 \
     ON CONFLICT DO NOTHING \
     RETURNING session_id";

/// A refresh token and its successor, if any: `{REFRESH_TOKEN} WHERE …` on `p`.
pub(crate) const REFRESH_TOKEN: &str = "SELECT p.app_id, p.session_id, p.generation, p.digest, p.created_at, \
            c.created_at AS rotated_at, c.digest AS successor_digest \
     FROM refresh_tokens p \
     LEFT JOIN refresh_tokens c ON c.session_id = p.session_id AND c.generation = p.generation + 1";

/// `mod sessions` of queries for database `$db`.
macro_rules! sessions {
    ($db:ty) => {
        pub(crate) mod sessions {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::{NewRefreshToken, RefreshKey, RefreshSuccessor, RefreshToken, Session};
            use $crate::store::sql::rows::{many, RefreshTokenRow, SessionRow};
            use $crate::store::sql::sessions::{REFRESH_TOKEN, ROTATE_REFRESH_TOKEN};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            const SESSION_COLUMNS: &str = "id, app_id, user_id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent, amr";

            pub(crate) async fn session(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<Session>> {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, SessionRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(SessionRow::into_model).transpose()
            }

            pub(crate) async fn sessions_of(db: &Pool, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<Session>> {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE app_id = $1 AND user_id = $2 ORDER BY created_at DESC, id"
                );
                let rows = sqlx::query_as::<_, SessionRow>(&sql).bind(app_id).bind(user_id).fetch_all(db).await?;
                many(rows, SessionRow::into_model)
            }

            pub(crate) async fn session_by_cookie(db: &Pool, app_id: Uuid, digest: &str) -> StoreResult<Option<Uuid>> {
                let id = sqlx::query_scalar("SELECT id FROM sessions WHERE app_id = $1 AND cookie_digest = $2")
                    .bind(app_id).bind(digest).fetch_optional(db).await?;
                Ok(id)
            }

            pub(crate) async fn refresh_token(db: &Pool, app_id: Uuid, key: &RefreshKey) -> StoreResult<Option<RefreshToken>> {
                let sql = format!(
                    "{REFRESH_TOKEN} WHERE p.session_id = $2 AND p.generation = $3 AND p.app_id = $1 AND p.digest = $4"
                );
                let row = sqlx::query_as::<_, RefreshTokenRow>(&sql)
                    .bind(app_id)
                    .bind(key.session_id)
                    .bind(key.generation)
                    .bind(&key.digest)
                    .fetch_optional(db)
                    .await?;
                row.map(RefreshTokenRow::into_model).transpose()
            }

            pub(crate) async fn legacy_refresh_token(db: &Pool, app_id: Uuid, digest: &str) -> StoreResult<Option<RefreshToken>> {
                // `p.legacy` as the partial index says it, for the planner to use it.
                let sql = format!("{REFRESH_TOKEN} WHERE p.legacy AND p.digest = $2 AND p.app_id = $1");
                let row = sqlx::query_as::<_, RefreshTokenRow>(&sql).bind(app_id).bind(digest).fetch_optional(db).await?;
                row.map(RefreshTokenRow::into_model).transpose()
            }

            /// `ROTATE_REFRESH_TOKEN` with its arguments bound, for SQLite's rotation batch
            /// (PostgreSQL runs it inside a statement that also records the event).
            #[allow(dead_code, reason = "PostgreSQL's rotation is its own statement")]
            pub(crate) fn rotate_refresh_token<'q>(
                app_id: Uuid,
                key: &'q RefreshKey,
                successor: &'q RefreshSuccessor,
            ) -> sqlx::query::QueryScalar<'q, $db, Uuid, <$db as sqlx::Database>::Arguments<'q>> {
                sqlx::query_scalar::<_, Uuid>(ROTATE_REFRESH_TOKEN)
                    .bind(app_id)
                    .bind(&key.digest)
                    .bind(&successor.digest)
                    .bind(Ts(successor.created_at))
                    .bind(key.session_id)
                    .bind(key.generation)
            }

            pub(crate) async fn insert_session(tx: &mut Tx, s: &Session) -> StoreResult<()> {
                let sql = format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
                sqlx::query(&sql)
                    .bind(s.id).bind(s.app_id).bind(s.user_id).bind(Ts(s.created_at)).bind(Ts(s.last_used_at))
                    .bind(Ts(s.expires_at)).bind(s.revoked_at.map(Ts)).bind(&s.ip).bind(&s.user_agent)
                    .bind(Json(&s.amr))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn touch_session(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_used_at = $3 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn set_session_cookie(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                digest: &str,
                expires_at: Option<DateTime<Utc>>,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET cookie_digest = $3, expires_at = COALESCE($4, expires_at) WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(digest).bind(expires_at.map(Ts)).execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn extend_session(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE sessions SET last_used_at = $3, expires_at = $4 \
                     WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3 AND expires_at < $4",
                )
                .bind(app_id).bind(id).bind(Ts(at)).bind(Ts(expires_at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn revoke_session(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn revoke_user_sessions(tx: &mut Tx, app_id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE sessions SET revoked_at = $3 \
                     WHERE app_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3",
                )
                .bind(app_id).bind(user_id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected())
            }

            /// `Store::prune_refresh_tokens`: the ended sessions that still have tokens are
            /// found through the sessions (fewer than their tokens), on the reader so that the
            /// scan does not hold the writer (an ended session never lives again), and each
            /// one's tokens are a range of the key, which starts with the session.
            pub(crate) async fn prune_refresh_tokens(
                reader: &Pool,
                writer: &Pool,
                ended_before: DateTime<Utc>,
                sessions: u32,
            ) -> StoreResult<u64> {
                let ended: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT s.id FROM sessions s \
                     WHERE (s.revoked_at <= $1 OR s.expires_at <= $1) \
                       AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) \
                     LIMIT $2",
                )
                .bind(Ts(ended_before))
                .bind(i64::from(sessions))
                .fetch_all(reader)
                .await?;
                let mut tx = writer.begin().await?;
                for id in &ended {
                    sqlx::query("DELETE FROM refresh_tokens WHERE session_id = $1").bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(ended.len() as u64)
            }

            pub(crate) async fn insert_refresh_token(tx: &mut Tx, t: &NewRefreshToken) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (session_id, generation, app_id, digest, created_at) VALUES ($3, 0, $2, $1, $4)",
                )
                    .bind(&t.digest).bind(t.app_id).bind(t.session_id).bind(Ts(t.created_at))
                    .execute(&mut **tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sessions;
