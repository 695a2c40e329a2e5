//! The SQL of webhook endpoints and the queue of their deliveries.

use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{DeliveryStatus, WebhookDelivery, WebhookEndpoint};
use crate::store::{StoreError, StoreResult, Ts};

pub(crate) const ENDPOINT_COLUMNS: &str = "id, app_id, url, description, event_types, secret_sealed, \
     previous_secret_sealed, previous_until, enabled, disabled_reason, failing_since, created_at, updated_at";
pub(crate) const DELIVERY_COLUMNS: &str = "id, app_id, endpoint_id, event_id, event_type, payload, status, attempts, \
     next_attempt_at, last_status, last_response, last_error, created_at, delivered_at";

#[derive(FromRow)]
pub(crate) struct EndpointRow {
    id: Uuid,
    app_id: Uuid,
    url: String,
    description: String,
    event_types: Json<Vec<String>>,
    secret_sealed: Vec<u8>,
    previous_secret_sealed: Option<Vec<u8>>,
    previous_until: Option<Ts>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<Ts>,
    created_at: Ts,
    updated_at: Ts,
}

impl EndpointRow {
    pub(crate) fn into_model(self) -> StoreResult<WebhookEndpoint> {
        Ok(WebhookEndpoint {
            id: self.id,
            app_id: self.app_id,
            url: self.url,
            description: self.description,
            event_types: self.event_types.0,
            secret_sealed: self.secret_sealed,
            previous_secret_sealed: self.previous_secret_sealed,
            previous_until: self.previous_until.map(|t| t.0),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since.map(|t| t.0),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct DeliveryRow {
    id: Uuid,
    app_id: Uuid,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: String,
    payload: Json<serde_json::Value>,
    status: String,
    attempts: i32,
    next_attempt_at: Ts,
    last_status: Option<i32>,
    last_response: Option<String>,
    last_error: Option<String>,
    created_at: Ts,
    delivered_at: Option<Ts>,
}

impl DeliveryRow {
    pub(crate) fn into_model(self) -> StoreResult<WebhookDelivery> {
        let status = DeliveryStatus::parse(&self.status)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("stored webhook delivery status is unreadable")))?;
        Ok(WebhookDelivery {
            id: self.id,
            app_id: self.app_id,
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            event_type: self.event_type,
            payload: self.payload.0,
            status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.0,
            last_status: self.last_status,
            last_response: self.last_response,
            last_error: self.last_error,
            created_at: self.created_at.0,
            delivered_at: self.delivered_at.map(|t| t.0),
        })
    }
}

/// `mod webhooks` of queries for database `$db`.
macro_rules! webhooks {
    ($db:ty) => {
        pub(crate) mod webhooks {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::{DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint};
            use $crate::store::sql::rows::many;
            use $crate::store::sql::webhooks::{DeliveryRow, EndpointRow, DELIVERY_COLUMNS, ENDPOINT_COLUMNS};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn webhook_endpoints(db: &Pool, app_id: Uuid) -> StoreResult<Vec<WebhookEndpoint>> {
                let sql = format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE app_id = $1 ORDER BY created_at, id"
                );
                let rows = sqlx::query_as::<_, EndpointRow>(&sql).bind(app_id).fetch_all(db).await?;
                many(rows, EndpointRow::into_model)
            }

            pub(crate) async fn webhook_endpoint(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
                let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, EndpointRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(EndpointRow::into_model).transpose()
            }

            /// The endpoint's deliveries, newest first, before `before` (created at, id).
            pub(crate) async fn webhook_deliveries(
                db: &Pool,
                app_id: Uuid,
                endpoint_id: Uuid,
                before: Option<(DateTime<Utc>, Uuid)>,
                limit: u32,
            ) -> StoreResult<Vec<WebhookDelivery>> {
                let mut sql = format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE app_id = $1 AND endpoint_id = $2"
                );
                if before.is_some() {
                    sql.push_str(" AND (created_at < $3 OR (created_at = $3 AND id < $4))");
                }
                sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $5");
                let (at, id) = before.unwrap_or((DateTime::UNIX_EPOCH, Uuid::nil()));
                let rows = sqlx::query_as::<_, DeliveryRow>(&sql)
                    .bind(app_id).bind(endpoint_id).bind(Ts(at)).bind(id).bind(i64::from(limit))
                    .fetch_all(db).await?;
                many(rows, DeliveryRow::into_model)
            }

            pub(crate) async fn webhook_delivery(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookDelivery>> {
                let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, DeliveryRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(DeliveryRow::into_model).transpose()
            }

            pub(crate) async fn next_webhook_due(db: &Pool) -> StoreResult<Option<DateTime<Utc>>> {
                let due = sqlx::query_scalar::<_, Option<Ts>>(
                    "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'queued'",
                )
                .fetch_one(db).await?;
                Ok(due.map(|t| t.0))
            }

            pub(crate) async fn insert_webhook_endpoint(tx: &mut Tx, e: &WebhookEndpoint) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO webhook_endpoints (id, app_id, url, description, event_types, secret_sealed, \
                     previous_secret_sealed, previous_until, enabled, disabled_reason, failing_since, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(e.id).bind(e.app_id).bind(&e.url).bind(&e.description).bind(Json(&e.event_types))
                .bind(&e.secret_sealed).bind(&e.previous_secret_sealed).bind(e.previous_until.map(Ts))
                .bind(e.enabled).bind(&e.disabled_reason).bind(e.failing_since.map(Ts))
                .bind(Ts(e.created_at)).bind(Ts(e.updated_at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            /// Writes every field of the endpoint back; false when it is gone.
            pub(crate) async fn update_webhook_endpoint(tx: &mut Tx, e: &WebhookEndpoint) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, secret_sealed = $6, \
                     previous_secret_sealed = $7, previous_until = $8, enabled = $9, disabled_reason = $10, \
                     failing_since = $11, updated_at = $12 WHERE app_id = $1 AND id = $2",
                )
                .bind(e.app_id).bind(e.id).bind(&e.url).bind(&e.description).bind(Json(&e.event_types))
                .bind(&e.secret_sealed).bind(&e.previous_secret_sealed).bind(e.previous_until.map(Ts))
                .bind(e.enabled).bind(&e.disabled_reason).bind(e.failing_since.map(Ts)).bind(Ts(e.updated_at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn delete_webhook_endpoint(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM webhook_endpoints WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn insert_webhook_delivery(tx: &mut Tx, d: &WebhookDelivery) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, app_id, endpoint_id, event_id, event_type, payload, status, \
                     attempts, next_attempt_at, last_status, last_response, last_error, created_at, delivered_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(d.id).bind(d.app_id).bind(d.endpoint_id).bind(d.event_id).bind(&d.event_type)
                .bind(Json(&d.payload)).bind(d.status.as_str()).bind(d.attempts).bind(Ts(d.next_attempt_at))
                .bind(d.last_status).bind(&d.last_response).bind(&d.last_error).bind(Ts(d.created_at))
                .bind(d.delivered_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(())
            }

            /// Takes up to `limit` due deliveries until `until`, so no other worker sends them meanwhile.
            pub(crate) async fn claim_webhook_deliveries(
                tx: &mut Tx,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
                limit: u32,
            ) -> StoreResult<Vec<WebhookDelivery>> {
                let sql = format!(
                    "UPDATE webhook_deliveries SET locked_until = $2 \
                     WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'queued' AND next_attempt_at <= $1 \
                                  AND (locked_until IS NULL OR locked_until <= $1) ORDER BY next_attempt_at LIMIT $3) \
                       AND status = 'queued' AND (locked_until IS NULL OR locked_until <= $1) \
                     RETURNING {DELIVERY_COLUMNS}"
                );
                let rows = sqlx::query_as::<_, DeliveryRow>(&sql)
                    .bind(Ts(now)).bind(Ts(until)).bind(i64::from(limit)).fetch_all(&mut **tx).await?;
                many(rows, DeliveryRow::into_model)
            }

            /// Records one attempt at a queued delivery; false when it was not queued any more.
            pub(crate) async fn record_webhook_attempt(
                tx: &mut Tx,
                id: Uuid,
                a: &DeliveryAttempt,
            ) -> StoreResult<bool> {
                let delivered_at = (a.status == DeliveryStatus::Delivered).then_some(Ts(a.at));
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, \
                     last_status = $4, last_response = $5, last_error = $6, delivered_at = $7, locked_until = NULL \
                     WHERE id = $1 AND status = 'queued'",
                )
                .bind(id).bind(a.status.as_str()).bind(Ts(a.next_attempt_at)).bind(a.last_status)
                .bind(&a.last_response).bind(&a.last_error).bind(delivered_at)
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Queues a delivery again, to be sent at `at` (a manual redelivery); false when it
            /// is queued already or not the app's.
            pub(crate) async fn requeue_webhook_delivery(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'queued', next_attempt_at = $3, locked_until = NULL \
                     WHERE app_id = $1 AND id = $2 AND status <> 'queued'",
                )
                .bind(app_id).bind(id).bind(Ts(at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// An attempt at the endpoint failed at `at`: it is failing since then unless it was
            /// already. Answers since when, or `None` when the endpoint is gone.
            pub(crate) async fn webhook_endpoint_failed(
                tx: &mut Tx,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<Option<DateTime<Utc>>> {
                let since = sqlx::query_scalar::<_, Option<Ts>>(
                    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 \
                     RETURNING failing_since",
                )
                .bind(id).bind(Ts(at))
                .fetch_optional(&mut **tx).await?;
                Ok(since.flatten().map(|t| t.0))
            }

            pub(crate) async fn webhook_endpoint_succeeded(tx: &mut Tx, id: Uuid) -> StoreResult<()> {
                sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
                    .bind(id).execute(&mut **tx).await?;
                Ok(())
            }

            /// Disables an enabled endpoint and fails its queued deliveries; false when it was
            /// not enabled (another node disabled it first).
            pub(crate) async fn disable_webhook_endpoint(
                tx: &mut Tx,
                id: Uuid,
                reason: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $2, updated_at = $3 \
                     WHERE id = $1 AND enabled",
                )
                .bind(id).bind(reason).bind(Ts(at))
                .execute(&mut **tx).await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'failed', last_error = $2, locked_until = NULL \
                     WHERE endpoint_id = $1 AND status = 'queued'",
                )
                .bind(id).bind(reason)
                .execute(&mut **tx).await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use webhooks;
