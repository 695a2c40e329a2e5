//! The production store: PostgreSQL, shared by any number of Rampart nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use uuid::Uuid;

use super::sql::{self, impl_sql_store};
use super::{map_write_error, Ts};
use crate::model::RefreshSuccessor;
use crate::{Error, Result};

pub struct PostgresStore {
    reader: PgPool,
    writer: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::invalid(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        // The migrator holds an advisory lock, so nodes starting together apply each once.
        sqlx::migrate!("../migrations/postgres").run(&pool).await.map_err(Error::internal)?;
        Ok(PostgresStore { reader: pool.clone(), writer: pool })
    }

    pub fn pool(&self) -> PgPool {
        self.writer.clone()
    }
}

impl_sql_store!(PostgresStore, PostgresTx, sqlx::Postgres, "postgres");

impl PostgresStore {
    /// One statement; of two concurrent rotations of a token, the one that commits second
    /// meets the unique parent.
    async fn rotate(&self, app_id: Uuid, digest: &str, successor: &RefreshSuccessor) -> Result<Option<Uuid>> {
        match sql::rotate_refresh_token_query!(app_id, digest, successor).fetch_optional(&self.writer).await {
            Ok(session) => Ok(session),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
            Err(e) => Err(map_write_error(e)),
        }
    }
}

/// The channel nodes tell each other about changes that invalidate their caches on.
const CHANNEL: &str = "rampart_changes";

impl PostgresStore {
    async fn listen(&self) -> Result<Option<futures_core::stream::BoxStream<'static, String>>> {
        use futures_util::StreamExt;
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.writer).await?;
        listener.listen(CHANNEL).await?;
        // A lost connection is re-established by the listener; a message that could not be
        // read becomes "*" so the caches drop everything rather than miss an invalidation.
        let stream = listener.into_stream().map(|n| match n {
            Ok(n) => n.payload().to_owned(),
            Err(_) => "*".to_owned(),
        });
        Ok(Some(stream.boxed()))
    }
}

async fn notify(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>, message: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(message).execute(&mut **tx).await?;
    Ok(())
}
