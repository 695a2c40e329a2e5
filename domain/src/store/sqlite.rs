//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer anyway; queueing in the pool beats busy retries), reads through
//! several.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::sql::{self, impl_sql_store};
use super::{map_write_error, Ts};
use crate::{Error, Result};

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::invalid(format!("DATABASE_URL is not a valid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::invalid(format!("DATABASE_URL: cannot create {}: {e}", dir.display())))?;
            }
        }
        // No ping before each use: a local file cannot drop the connection, and the ping is a
        // round trip to the connection's worker thread that doubled the cost of a query.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&writer).await.map_err(Error::internal)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore { reader, writer })
    }

    /// The write pool, shared with the console's session store.
    pub fn writer_pool(&self) -> SqlitePool {
        self.writer.clone()
    }
}

impl_sql_store!(SqliteStore, SqliteTx, sqlx::Sqlite, "sqlite");

impl SqliteStore {
    /// One SQLite file has one node: nothing to listen to.
    async fn listen(&self) -> Result<Option<futures_core::stream::BoxStream<'static, String>>> {
        Ok(None)
    }
}

async fn notify(_: &mut sqlx::Transaction<'static, sqlx::Sqlite>, _: &str) -> Result<()> {
    Ok(())
}
