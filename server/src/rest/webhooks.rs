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

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = WebhooksRotateBody)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    overlap_seconds: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/webhooks",
    operation_id = "webhooks_create",
    tag = "integrations",
    request_body(content = WebhookInput),
    responses((status = 201, description = "Created", body = WebhookSecret)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_webhook(&c, &slug, input).await?)))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/webhooks",
    operation_id = "webhooks_list",
    tag = "integrations",
    responses((status = 200, description = "OK", body = WebhookList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList { webhooks: s.engine.list_webhooks(&c, &slug).await? }))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/webhooks/{id}",
    operation_id = "webhooks_get",
    tag = "integrations",
    responses((status = 200, description = "OK", body = WebhookView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.engine.get_webhook(&c, &slug, &id).await?))
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/webhooks/{id}",
    operation_id = "webhooks_update",
    tag = "integrations",
    request_body(content = WebhookPatch),
    responses((status = 200, description = "OK", body = WebhookView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn update(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.engine.update_webhook(&c, &slug, &id, patch).await?))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/webhooks/{id}",
    operation_id = "webhooks_delete",
    tag = "integrations",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_webhook(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body is optional: without `overlap_seconds` the old secret keeps signing for a day.
#[utoipa::path(
    post,
    path = "/apps/{slug}/webhooks/{id}/rotate-secret",
    operation_id = "webhooks_rotate",
    tag = "integrations",
    request_body(content = RotateBody),
    responses((status = 200, description = "OK", body = WebhookSecret)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn rotate(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    body: Option<ApiJson<RotateBody>>,
) -> ApiResult<Json<WebhookSecret>> {
    let overlap = body.and_then(|ApiJson(b)| b.overlap_seconds);
    Ok(Json(s.engine.rotate_webhook_secret(&c, &slug, &id, overlap).await?))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/webhooks/{id}/deliveries",
    operation_id = "webhooks_deliveries",
    tag = "integrations",
    params(PageQuery),
    responses((status = 200, description = "OK", body = DeliveryPage)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn deliveries(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    Ok(Json(s.engine.webhook_deliveries(&c, &slug, &id, q.cursor.as_deref(), q.limit).await?))
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/webhooks/{id}/deliveries/{delivery}/redeliver",
    operation_id = "webhooks_redeliver",
    tag = "integrations",
    responses((status = 202, description = "The delivery is queued again")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn redeliver(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id, delivery)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.redeliver_webhook(&c, &slug, &id, &delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
