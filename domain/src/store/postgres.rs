//! The production store: PostgreSQL, shared by any number of Rampart nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::sql::{self, impl_sql_store};
use super::{map_write_error, Ts};
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
