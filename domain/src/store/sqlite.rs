//! The embedded store: one SQLite file in WAL mode. Writes go through a single connection
//! (SQLite has one writer anyway; queueing in the pool beats busy retries), reads through
//! several.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use futures_core::stream::BoxStream;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::sql::{impl_sql_store, Backend};
use super::{Notice, StoreError, StoreResult};
use crate::audit::{AuditEvent, Link};
use crate::model::{RefreshKey, RefreshSuccessor};
use crate::store::Ts;
use crate::{Error, Result};

pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    rotations: mpsc::Sender<Rotation>,
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
        let (rotations, queue) = mpsc::channel(ROTATION_QUEUE);
        tokio::spawn(rotate_in_batches(writer.clone(), queue));
        Ok(SqliteStore { reader, writer, rotations })
    }
}

impl_sql_store!(SqliteStore, SqliteTx, sqlx::Sqlite);

#[async_trait]
impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
    const NAME: &'static str = "sqlite";
    /// SQLite's planner works from its own heuristics until told otherwise; `optimize` runs
    /// `ANALYZE` on the tables whose statistics it judges out of date (cheap when none are).
    const REFRESH_STATISTICS: &'static str = "PRAGMA optimize";

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Through the rotation queue (see `rotate_in_batches`).
    async fn rotate(
        &self,
        app_id: Uuid,
        key: &RefreshKey,
        successor: &RefreshSuccessor,
        event: &AuditEvent,
    ) -> StoreResult<Option<Uuid>> {
        let (reply, answer) = oneshot::channel();
        let rotation = Rotation { app_id, key: key.clone(), successor: successor.clone(), event: event.clone(), reply };
        self.rotations.send(rotation).await.map_err(|_| StoreError::other("the store is closed"))?;
        answer.await.map_err(|_| StoreError::other("the rotation was dropped"))?
    }

    /// One SQLite file has one node: nothing to listen to.
    async fn listen(&self) -> StoreResult<Option<BoxStream<'static, Notice>>> {
        Ok(None)
    }

    /// Nobody to tell.
    async fn notify(_: &mut sqlx::Transaction<'static, sqlx::Sqlite>, _: &str) -> StoreResult<()> {
        Ok(())
    }

    /// One statement for the batch (`UPDATE … FROM (VALUES …)`): the writer is SQLite's only
    /// one, and refreshes wait for it while the sequencer holds it.
    async fn link_audit(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>, links: &[(i64, Link)]) -> StoreResult<u64> {
        let mut linked = 0;
        // Within SQLite's limit of bound values per statement.
        for chunk in links.chunks(1000) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "UPDATE audit_events SET position = v.column2, prev_hash = v.column3, hash = v.column4 FROM (",
            );
            q.push_values(chunk, |mut row, (seq, link)| {
                row.push_bind(*seq)
                    .push_bind(link.position)
                    .push_bind(link.prev_hash.as_str())
                    .push_bind(link.hash.as_str());
            });
            q.push(") AS v WHERE audit_events.seq = v.column1 AND audit_events.position IS NULL");
            linked += q.build().execute(&mut **tx).await?.rows_affected();
        }
        Ok(linked)
    }
}

/// Rotations waiting for the writer, at most this many before senders wait.
const ROTATION_QUEUE: usize = 1024;
/// Rotations committed together, at most.
const ROTATION_BATCH: usize = 64;

/// One refresh-token rotation waiting for the writer, and where its outcome goes.
struct Rotation {
    app_id: Uuid,
    key: RefreshKey,
    successor: RefreshSuccessor,
    /// Recorded with the rotation.
    event: AuditEvent,
    reply: oneshot::Sender<StoreResult<Option<Uuid>>>,
}

/// Group commit for refresh-token rotations, the one write on a hot path. Taking SQLite's
/// single writer connection from the pool costs a ping to its thread on every release, and
/// each commit writes its pages to the WAL: rotations that arrive together share one
/// connection checkout and one transaction. Each is still its own statement, so a token
/// rotated twice in one batch is rotated once (the second sees the first's successor).
/// Outcomes are sent only after the commit; if anything fails, the whole batch is rolled
/// back and every rotation in it fails, so none is half-done. Each rotation's audit event is
/// inserted in the same transaction.
async fn rotate_in_batches(writer: SqlitePool, mut queue: mpsc::Receiver<Rotation>) {
    let mut batch = Vec::with_capacity(ROTATION_BATCH);
    while queue.recv_many(&mut batch, ROTATION_BATCH).await > 0 {
        match rotate_batch(&writer, &batch).await {
            Ok(sessions) => {
                for (rotation, session) in batch.drain(..).zip(sessions) {
                    let _ = rotation.reply.send(Ok(session));
                }
            }
            Err(e) => {
                tracing::error!(error = ?e, rotations = batch.len(), "refresh rotations rolled back");
                for rotation in batch.drain(..) {
                    let _ = rotation.reply.send(Err(StoreError::other("refresh rotation rolled back")));
                }
            }
        }
    }
}

async fn rotate_batch(writer: &SqlitePool, batch: &[Rotation]) -> StoreResult<Vec<Option<Uuid>>> {
    let mut conn = writer.acquire().await?;
    let mut tx = conn.begin().await?;
    let mut sessions = Vec::with_capacity(batch.len());
    let mut rotated = Vec::with_capacity(batch.len());
    for r in batch {
        let rows = queries::sessions::rotate_refresh_token(r.app_id, &r.key, &r.successor).fetch_all(&mut *tx).await?;
        let session = rows.into_iter().next();
        if let Some(sid) = session {
            rotated.push((&r.event, sid));
        }
        sessions.push(session);
    }
    // The batch's events in one statement: a statement per rotation doubled the writer's work.
    if !rotated.is_empty() {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(ROTATION_EVENTS);
        q.push_values(&rotated, |mut row, (e, sid)| {
            row.push_bind(e.id)
                .push_bind(Ts(e.at))
                .push_bind(e.kind.as_str())
                .push_bind(e.actor.kind.as_str())
                .push_bind(e.ip.as_deref())
                .push_bind(e.user_agent.as_deref())
                .push_bind(e.request_id.as_deref())
                .push_bind(e.mac.as_str())
                .push_bind(*sid);
        });
        q.push(") AS v JOIN sessions s ON s.id = v.column9");
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(sessions)
}

/// The audit events of a batch of rotations, each with its session's user as actor and
/// subject (of the kind given: `end_user`, or `account` in the `platform` app), from a `VALUES` list of id, time, type, kind of actor and subject,
/// ip, user agent, request id, MAC and session.
const ROTATION_EVENTS: &str = "INSERT INTO audit_events (id, app_id, at, type, outcome, actor_kind, actor_id, \
     subject_kind, subject_id, session_id, ip, user_agent, request_id, details, mac) \
     SELECT v.column1, s.app_id, v.column2, v.column3, 'success', v.column4, s.user_id, v.column4, s.user_id, s.id, \
     v.column5, v.column6, v.column7, '{}', v.column8 FROM (";
