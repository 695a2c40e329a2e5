//! An app's webhook endpoints under `/api/v1/apps/{slug}/webhooks`: create (the secret shown
//! once), list, get, update, rotate the secret, delete (`webhook.update`, reads
//! `webhook.read`); each endpoint's delivery log and redelivery.

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::engine::{DeliveryPage, WebhookInput, WebhookPatch, WebhookSecret, WebhookView};
use serde::{Deserialize, Serialize};

use super::error::{ApiJson, ApiResult};
use super::extract::ManagedBy;

#[derive(Serialize)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    overlap_seconds: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_webhook(&c, &slug, input).await?)))
}

pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList { webhooks: s.engine.list_webhooks(&c, &slug).await? }))
}

pub async fn get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.engine.get_webhook(&c, &slug, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.engine.update_webhook(&c, &slug, &id, patch).await?))
}

pub async fn delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_webhook(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body is optional: without `overlap_seconds` the old secret keeps signing for a day.
pub async fn rotate(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    body: Option<ApiJson<RotateBody>>,
) -> ApiResult<Json<WebhookSecret>> {
    let overlap = body.and_then(|ApiJson(b)| b.overlap_seconds);
    Ok(Json(s.engine.rotate_webhook_secret(&c, &slug, &id, overlap).await?))
}

pub async fn deliveries(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    Ok(Json(s.engine.webhook_deliveries(&c, &slug, &id, q.cursor.as_deref(), q.limit).await?))
}

pub async fn redeliver(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id, delivery)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.redeliver_webhook(&c, &slug, &id, &delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
