//! Test support shared by the store suite, the API suite and the bench: a fresh SQLite file
//! in a directory of its own, a fresh PostgreSQL schema (and the URL that confines a store
//! to it), a local SMTP sink, and with feature `server` a Rampart server on port 0.

use std::path::PathBuf;

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

#[cfg(feature = "server")]
pub mod server;
pub mod sms;
pub mod smtp;

/// The PostgreSQL tests use unless `RAMPART_TEST_POSTGRES_URL` says otherwise.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// `RAMPART_TEST_POSTGRES_URL`, or the default.
pub fn postgres_base_url() -> String {
    std::env::var("RAMPART_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// `rampart.db` in a new directory of its own: remove the directory and the WAL goes too.
pub struct SqliteFile {
    pub dir: PathBuf,
    pub url: String,
}

impl SqliteFile {
    /// A new directory under `<temp dir>/<group>`; the file itself is made by the store.
    pub fn create(group: &str) -> std::io::Result<SqliteFile> {
        let dir = std::env::temp_dir().join(group).join(Uuid::new_v4().to_string());
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}", dir.join("rampart.db").display());
        Ok(SqliteFile { dir, url })
    }

    /// Best effort: a failure here must not hide a test's own outcome.
    pub fn remove(self) {
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

/// An empty schema of its own on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgSchema {
    /// The database's URL, as given.
    pub base_url: String,
    pub name: String,
    /// `base_url` with `options=-c search_path=<name>`: every connection made with it, a
    /// migrator's included, works inside the schema.
    pub url: String,
}

impl PgSchema {
    /// Creates `<prefix>_<uuid>` on `base_url`.
    pub async fn create(base_url: &str, prefix: &str) -> Result<PgSchema, sqlx::Error> {
        let name = format!("{prefix}_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(base_url).await?;
        sqlx::query(&format!(r#"CREATE SCHEMA "{name}""#)).execute(&mut admin).await?;
        admin.close().await.ok();
        // `options` travels in the startup packet, so it holds for every pooled connection.
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options=-c%20search_path%3D{name}");
        Ok(PgSchema { base_url: base_url.to_owned(), name, url })
    }

    /// A fresh `t_…` schema on the test PostgreSQL (`make clean-test-schemas` removes those
    /// an interrupted run leaves); panics when it is not reachable, as a test should.
    pub async fn for_test() -> PgSchema {
        match PgSchema::create(&postgres_base_url(), "t").await {
            Ok(schema) => schema,
            Err(e) => panic!("PostgreSQL is not reachable ({e}); set RAMPART_TEST_POSTGRES_URL"),
        }
    }

    /// Drops the schema and everything in it, waiting at most 10 s for locks.
    pub async fn drop(self) -> Result<(), sqlx::Error> {
        let mut admin = PgConnection::connect(&self.base_url).await?;
        sqlx::query("SET lock_timeout = '10s'").execute(&mut admin).await?;
        sqlx::query(&format!(r#"DROP SCHEMA IF EXISTS "{}" CASCADE"#, self.name)).execute(&mut admin).await?;
        admin.close().await.ok();
        Ok(())
    }
}
