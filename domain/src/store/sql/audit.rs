//! The SQL of the audit log: events inserted by writers, linked into each app's chain by the
//! sequencer, read back filtered and paged.

use sqlx::FromRow;
use uuid::Uuid;

use crate::audit::{Actor, ActorKind, AuditEvent, Head, Link, Outcome, Subject};
use crate::store::{StoreError, StoreResult, Ts};

pub(crate) const EVENT_COLUMNS: &str = "seq, id, app_id, at, type, outcome, actor_kind, actor_id, subject_kind, \
     subject_id, session_id, ip, user_agent, request_id, details, mac, position, prev_hash, hash";

/// The columns a writer sets (all but `seq` and the link).
pub(crate) const INSERT_COLUMNS: &str = "id, app_id, at, type, outcome, actor_kind, actor_id, subject_kind, \
     subject_id, session_id, ip, user_agent, request_id, details, mac";

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored audit {what} is unreadable"))
}

#[derive(FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    id: Uuid,
    app_id: Uuid,
    at: Ts,
    #[sqlx(rename = "type")]
    kind: String,
    outcome: String,
    actor_kind: String,
    actor_id: Option<Uuid>,
    subject_kind: Option<String>,
    subject_id: Option<Uuid>,
    session_id: Option<Uuid>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    details: String,
    mac: String,
    position: Option<i64>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

impl EventRow {
    pub(crate) fn into_model(self) -> StoreResult<AuditEvent> {
        let link = match (self.position, self.prev_hash, self.hash) {
            (Some(position), Some(prev_hash), Some(hash)) => Some(Link { position, prev_hash, hash }),
            (None, None, None) => None,
            _ => return Err(corrupt("link")),
        };
        let subject = match (self.subject_kind, self.subject_id) {
            (Some(kind), Some(id)) => Some(Subject { kind, id }),
            (None, None) => None,
            _ => return Err(corrupt("subject")),
        };
        Ok(AuditEvent {
            seq: self.seq,
            id: self.id,
            app_id: self.app_id,
            at: self.at.0,
            kind: self.kind,
            outcome: Outcome::parse(&self.outcome).ok_or_else(|| corrupt("outcome"))?,
            actor: Actor {
                kind: ActorKind::parse(&self.actor_kind).ok_or_else(|| corrupt("actor"))?,
                id: self.actor_id,
            },
            subject,
            session_id: self.session_id,
            ip: self.ip,
            user_agent: self.user_agent,
            request_id: self.request_id,
            details: self.details,
            mac: self.mac,
            link,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct HeadRow {
    position: i64,
    hash: String,
    mac: String,
}

impl HeadRow {
    pub(crate) fn into_model(self) -> Head {
        Head { position: self.position, hash: self.hash, mac: self.mac }
    }
}

#[derive(FromRow)]
pub(crate) struct CheckpointRow {
    app_id: Uuid,
    position: i64,
    hash: String,
    mac: String,
    at: Ts,
    removed: i64,
}

impl CheckpointRow {
    pub(crate) fn into_model(self) -> crate::audit::Checkpoint {
        crate::audit::Checkpoint {
            app_id: self.app_id,
            head: Head { position: self.position, hash: self.hash, mac: self.mac },
            at: self.at.0,
            removed: self.removed,
        }
    }
}

/// The first `len` characters of a type filter ending in `.*`, for `substr`.
pub(crate) fn type_prefix(filter: &str) -> Option<&str> {
    filter.strip_suffix('*').filter(|p| p.ends_with('.'))
}

/// `mod audit` of queries for database `$db`.
macro_rules! audit {
    ($db:ty) => {
        pub(crate) mod audit {
            use uuid::Uuid;

            use $crate::audit::{AuditEvent, AuditFilter, Checkpoint, Head};
            use $crate::store::sql::audit::{
                type_prefix, CheckpointRow, EventRow, HeadRow, EVENT_COLUMNS, INSERT_COLUMNS,
            };
            use $crate::store::sql::rows::many;
            use $crate::store::{AuditPage, StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn insert_event(tx: &mut Tx, e: &AuditEvent) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO audit_events ({INSERT_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                );
                sqlx::query(&sql)
                    .bind(e.id).bind(e.app_id).bind(Ts(e.at)).bind(&e.kind).bind(e.outcome.as_str())
                    .bind(e.actor.kind.as_str()).bind(e.actor.id)
                    .bind(e.subject.as_ref().map(|s| s.kind.as_str())).bind(e.subject.as_ref().map(|s| s.id))
                    .bind(e.session_id).bind(&e.ip).bind(&e.user_agent).bind(&e.request_id).bind(&e.details).bind(&e.mac)
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn events(
                db: &Pool,
                app_id: Uuid,
                filter: &AuditFilter,
                page: AuditPage,
                limit: u32,
            ) -> StoreResult<Vec<AuditEvent>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE app_id = "));
                q.push_bind(app_id);
                if let Some(kind) = &filter.kind {
                    match type_prefix(kind) {
                        Some(prefix) => {
                            q.push(" AND substr(type, 1, ");
                            q.push_bind(prefix.chars().count() as i32);
                            q.push(") = ");
                            q.push_bind(prefix.to_owned());
                        }
                        None => {
                            q.push(" AND type = ");
                            q.push_bind(kind.clone());
                        }
                    }
                }
                if let Some(actor) = filter.actor_id {
                    q.push(" AND actor_id = ");
                    q.push_bind(actor);
                }
                if let Some(subject) = filter.subject_id {
                    q.push(" AND subject_id = ");
                    q.push_bind(subject);
                }
                if let Some(outcome) = filter.outcome {
                    q.push(" AND outcome = ");
                    q.push_bind(outcome.as_str());
                }
                if let Some(ip) = &filter.ip {
                    q.push(" AND ip = ");
                    q.push_bind(ip.clone());
                }
                if let Some(from) = filter.from {
                    q.push(" AND at >= ");
                    q.push_bind(Ts(from));
                }
                if let Some(to) = filter.to {
                    q.push(" AND at < ");
                    q.push_bind(Ts(to));
                }
                let order = match page {
                    AuditPage::Before(seq) => {
                        if let Some(seq) = seq {
                            q.push(" AND seq < ");
                            q.push_bind(seq);
                        }
                        " ORDER BY seq DESC LIMIT "
                    }
                    AuditPage::ChainAfter(position) => {
                        q.push(" AND position IS NOT NULL AND position > ");
                        q.push_bind(position);
                        " ORDER BY position LIMIT "
                    }
                };
                q.push(order);
                q.push_bind(i64::from(limit));
                let rows = q.build_query_as::<EventRow>().fetch_all(db).await?;
                many(rows, EventRow::into_model)
            }

            /// Linked events after `position`, in chain order.
            pub(crate) async fn chain(db: &Pool, app_id: Uuid, after: i64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM audit_events \
                     WHERE app_id = $1 AND position IS NOT NULL AND position > $2 ORDER BY position LIMIT $3"
                );
                let rows = sqlx::query_as::<_, EventRow>(&sql)
                    .bind(app_id).bind(after).bind(i64::from(limit)).fetch_all(db).await?;
                many(rows, EventRow::into_model)
            }

            pub(crate) async fn head<'c, E>(db: E, app_id: Uuid) -> StoreResult<Option<Head>>
            where
                E: sqlx::Executor<'c, Database = $db>,
            {
                let row = sqlx::query_as::<_, HeadRow>("SELECT position, hash, mac FROM audit_heads WHERE app_id = $1")
                    .bind(app_id).fetch_optional(db).await?;
                Ok(row.map(HeadRow::into_model))
            }

            pub(crate) async fn checkpoint(db: &Pool, app_id: Uuid) -> StoreResult<Option<Checkpoint>> {
                let row = sqlx::query_as::<_, CheckpointRow>(
                    "SELECT app_id, position, hash, mac, at, removed FROM audit_checkpoints \
                     WHERE app_id = $1 ORDER BY position DESC LIMIT 1",
                )
                .bind(app_id).fetch_optional(db).await?;
                Ok(row.map(CheckpointRow::into_model))
            }

            pub(crate) async fn apps_with_pending(db: &Pool, limit: u32) -> StoreResult<Vec<Uuid>> {
                let ids = sqlx::query_scalar::<_, Uuid>(
                    "SELECT DISTINCT app_id FROM audit_events WHERE position IS NULL LIMIT $1",
                )
                .bind(i64::from(limit)).fetch_all(db).await?;
                Ok(ids)
            }

            pub(crate) async fn pending_count(db: &Pool, app_id: Uuid) -> StoreResult<i64> {
                let n = sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM audit_events WHERE position IS NULL AND app_id = $1",
                )
                .bind(app_id).fetch_one(db).await?;
                Ok(n)
            }

            pub(crate) async fn app_ids(db: &Pool) -> StoreResult<Vec<Uuid>> {
                Ok(sqlx::query_scalar::<_, Uuid>("SELECT id FROM apps UNION SELECT app_id FROM audit_heads").fetch_all(db).await?)
            }

            pub(crate) async fn pending(tx: &mut Tx, app_id: Uuid, limit: u32) -> StoreResult<Vec<AuditEvent>> {
                let sql = format!(
                    "SELECT {EVENT_COLUMNS} FROM audit_events \
                     WHERE position IS NULL AND app_id = $1 ORDER BY seq LIMIT $2"
                );
                let rows = sqlx::query_as::<_, EventRow>(&sql).bind(app_id).bind(i64::from(limit)).fetch_all(&mut **tx).await?;
                many(rows, EventRow::into_model)
            }

            /// Moves the app's head from `expected` (its position; `None`: no head yet) to `head`;
            /// false when another sequencer moved it first.
            pub(crate) async fn advance_head(tx: &mut Tx, app_id: Uuid, expected: Option<i64>, head: &Head) -> StoreResult<bool> {
                let done = match expected {
                    Some(position) => sqlx::query(
                        "UPDATE audit_heads SET position = $3, hash = $4, mac = $5 WHERE app_id = $1 AND position = $2",
                    )
                    .bind(app_id).bind(position).bind(head.position).bind(&head.hash).bind(&head.mac)
                    .execute(&mut **tx).await?,
                    None => sqlx::query(
                        "INSERT INTO audit_heads (app_id, position, hash, mac) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(app_id).bind(head.position).bind(&head.hash).bind(&head.mac)
                    .execute(&mut **tx).await?,
                };
                Ok(done.rows_affected() == 1)
            }

            /// Removes the app's linked events up to `checkpoint`'s position and records it;
            /// false when another node recorded it first.
            pub(crate) async fn cut(tx: &mut Tx, checkpoint: &Checkpoint) -> StoreResult<bool> {
                let inserted = sqlx::query(
                    "INSERT INTO audit_checkpoints (app_id, position, hash, mac, at, removed) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(checkpoint.app_id).bind(checkpoint.head.position).bind(&checkpoint.head.hash)
                .bind(&checkpoint.head.mac).bind(Ts(checkpoint.at)).bind(checkpoint.removed)
                .execute(&mut **tx).await?;
                if inserted.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query("DELETE FROM audit_events WHERE app_id = $1 AND position IS NOT NULL AND position <= $2")
                    .bind(checkpoint.app_id).bind(checkpoint.head.position)
                    .execute(&mut **tx).await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use audit;
