//! The production store: PostgreSQL, shared by any number of Rampart nodes.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures_core::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use uuid::Uuid;

use super::sql::{impl_sql_store, Backend};
use super::{Notice, StoreResult};
use crate::audit::{AuditEvent, Link};
use crate::model::{RefreshKey, RefreshSuccessor};
use crate::store::Ts;
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
}

impl_sql_store!(PostgresStore, PostgresTx, sqlx::Postgres);

#[async_trait]
impl Backend for PostgresStore {
    type Db = sqlx::Postgres;
    const NAME: &'static str = "postgres";
    /// A sample of each table (30,000 rows at the default target): a fraction of a second.
    const REFRESH_STATISTICS: &'static str = "ANALYZE users, contacts, organizations, organization_members";

    fn reader(&self) -> &PgPool {
        &self.reader
    }

    fn writer(&self) -> &PgPool {
        &self.writer
    }

    /// One statement, the audit event included; of two concurrent rotations of a token, the
    /// one that commits second finds the successor's key taken, and neither its successor
    /// nor its event is written.
    async fn rotate(
        &self,
        app_id: Uuid,
        key: &RefreshKey,
        successor: &RefreshSuccessor,
        event: &AuditEvent,
    ) -> StoreResult<Option<Uuid>> {
        let statement = sqlx::query_scalar::<_, Uuid>(ROTATE_AND_RECORD.as_str())
            .bind(app_id)
            .bind(&key.digest)
            .bind(&successor.digest)
            .bind(Ts(successor.created_at))
            .bind(key.session_id)
            .bind(key.generation)
            .bind(event.id)
            .bind(&event.kind)
            .bind(&event.ip)
            .bind(&event.user_agent)
            .bind(&event.request_id)
            .bind(event.actor.kind.as_str())
            .bind(&event.mac);
        Ok(statement.fetch_optional(&self.writer).await?)
    }

    async fn listen(&self) -> StoreResult<Option<BoxStream<'static, Notice>>> {
        listen(&self.writer).await
    }

    async fn notify(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>, message: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(message).execute(&mut **tx).await?;
        Ok(())
    }

    /// One statement for the batch: a round trip per event would cost the sequencer more than
    /// the refreshes it links.
    async fn link_audit(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        links: &[(i64, Link)],
    ) -> StoreResult<u64> {
        let seqs: Vec<i64> = links.iter().map(|(seq, _)| *seq).collect();
        let positions: Vec<i64> = links.iter().map(|(_, l)| l.position).collect();
        let prev: Vec<&str> = links.iter().map(|(_, l)| l.prev_hash.as_str()).collect();
        let hashes: Vec<&str> = links.iter().map(|(_, l)| l.hash.as_str()).collect();
        let done = sqlx::query(
            "UPDATE audit_events AS e SET position = v.position, prev_hash = v.prev_hash, hash = v.hash \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS v(seq, position, prev_hash, hash) \
             WHERE e.seq = v.seq AND e.position IS NULL",
        )
        .bind(&seqs)
        .bind(&positions)
        .bind(&prev)
        .bind(&hashes)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected())
    }
}

/// `ROTATE_REFRESH_TOKEN` and the rotation's audit event in one statement (PostgreSQL runs
/// every data-modifying `WITH` of a statement). The event binds id `$7`, type `$8`, ip `$9`,
/// user agent `$10`, request id `$11`, the kind of its actor and subject `$12` and its MAC
/// `$13`; its time is the rotation's.
static ROTATE_AND_RECORD: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH rotated AS ({rotate}), \
         recorded AS (INSERT INTO audit_events (id, app_id, at, type, outcome, actor_kind, actor_id, subject_kind, \
           subject_id, session_id, ip, user_agent, request_id, details, mac) \
           SELECT $7, s.app_id, $4, $8, 'success', $12, s.user_id, $12, s.user_id, s.id, $9, $10, $11, '{{}}', $13 \
           FROM rotated r JOIN sessions s ON s.id = r.session_id) \
         SELECT session_id FROM rotated",
        rotate = super::sql::sessions::ROTATE_REFRESH_TOKEN
    )
});

/// The channel nodes tell each other about changes that invalidate their caches on.
const CHANNEL: &str = "rampart_changes";

/// The first retry of a lost listener; each failure doubles it, up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(1);

/// Where the change stream is: listening on a connection, or waiting to listen again.
enum Listener {
    Up(PgListener),
    Down(Duration),
}

/// A connection from the pool that listens on `CHANNEL` once this returns. A lost connection
/// is not re-established behind our back (`eager_reconnect`): the stream below does it, and
/// says so.
async fn listener(pool: &PgPool) -> StoreResult<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Messages on `CHANNEL`, for as long as the stream is kept. A lost connection (or any
/// error reading it) yields `Lost`; the listener is then made anew, after 50 ms doubling
/// up to 1 s between failures, and `Listening` is yielded once it listens again. Whatever
/// was published in between is missed, which is why both are said.
async fn listen(pool: &PgPool) -> StoreResult<Option<BoxStream<'static, Notice>>> {
    use futures_util::StreamExt;
    let first = listener(pool).await?;
    let pool = pool.clone();
    let stream = futures_util::stream::unfold(Listener::Up(first), move |state| {
        let pool = pool.clone();
        async move {
            match state {
                Listener::Up(mut listener) => match listener.try_recv().await {
                    Ok(Some(n)) => Some((Notice::Message(n.payload().to_owned()), Listener::Up(listener))),
                    Ok(None) => {
                        tracing::warn!("lost the connection listening for other nodes' changes");
                        Some((Notice::Lost, Listener::Down(RETRY_FIRST)))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other nodes' changes failed");
                        Some((Notice::Lost, Listener::Down(RETRY_FIRST)))
                    }
                },
                Listener::Down(mut delay) => loop {
                    tokio::time::sleep(delay).await;
                    match listener(&pool).await {
                        Ok(listener) => {
                            tracing::info!("listening for other nodes' changes again");
                            break Some((Notice::Listening, Listener::Up(listener)));
                        }
                        Err(e) => {
                            delay = (delay * 2).min(RETRY_MAX);
                            tracing::warn!(error = %e, retry_in = ?delay, "cannot listen for other nodes' changes");
                        }
                    }
                },
            }
        }
    });
    Ok(Some(stream.boxed()))
}
