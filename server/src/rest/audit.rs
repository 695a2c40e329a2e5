//! The audit log: `/api/v1/apps/{slug}/audit` (a page, newest first), `/audit/verify` (the
//! chain recomputed), `/audit/export` (JSON lines, streamed), and an end-user's own
//! `/{slug}/v1/me/activity`.

use std::collections::HashMap;

use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::engine::{event_view, AuditQuery};
use shared::audit::{AuditPageView, Verification};

use super::error::ApiResult;
use super::extract::{Bearer, ManagedBy};

/// The query parameters of a read of the log, as `audit_query` reads them (the handlers take
/// them as a map: unknown ones are ignored).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditFilters {
    /// Only events of this type (e.g. `user.signin`).
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events of this actor (an id).
    actor: Option<String>,
    /// Only events about this subject (an id).
    subject: Option<String>,
    /// `success` or `failure`.
    outcome: Option<String>,
    /// Only events from this address.
    ip: Option<String>,
    /// RFC 3339 lower bound.
    from: Option<String>,
    /// RFC 3339 upper bound.
    to: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size.
    limit: Option<u32>,
}

/// The query of a read of the log. Unknown parameters are ignored; a bad value of a known
/// one is a `400` naming it.
fn audit_query(params: &HashMap<String, String>) -> ApiResult<AuditQuery> {
    let get = |name: &str| params.get(name).cloned();
    let limit = match params.get("limit").map(|l| l.trim()) {
        Some(l) => Some(l.parse::<u32>().map_err(|_| {
            domain::Error::invalid(format!("limit must be between 1 and {}", domain::engine::AUDIT_PAGE_MAX))
        })?),
        None => None,
    };
    Ok(AuditQuery {
        kind: get("type"),
        actor: get("actor"),
        subject: get("subject"),
        outcome: get("outcome"),
        ip: get("ip"),
        from: get("from"),
        to: get("to"),
        cursor: get("cursor"),
        limit,
    })
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/audit",
    operation_id = "audit_list",
    tag = "audit",
    params(AuditFilters),
    responses((status = 200, description = "A page of events, newest first", body = AuditPageView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<AuditPageView>> {
    let query = audit_query(&params)?;
    Ok(Json(s.engine.audit_page(&c, &slug, &query).await?))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/audit/verify",
    operation_id = "audit_verify",
    tag = "audit",
    responses((status = 200, description = "The chain recomputed", body = Verification)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn verify(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<Verification>> {
    Ok(Json(s.engine.verify_audit(&c, &slug).await?))
}

/// Every linked event passing the filters, in chain order (oldest first), one JSON object
/// per line with its link (`position`, `prev_hash`, `hash`), so that the file can be checked
/// elsewhere line by line. What is committed when the export starts is linked first. Read
/// from the store a page at a time while the response is written.
#[utoipa::path(
    get,
    path = "/apps/{slug}/audit/export",
    operation_id = "audit_export",
    tag = "audit",
    params(AuditFilters),
    responses((status = 200, description = "The matching events, oldest first, as JSON lines: each an audit event with its chain's `prev_hash` and `hash`; streamed", content_type = "application/x-ndjson", body = String)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn export(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let query = audit_query(&params)?;
    let (app_id, filter) = s.engine.audit_export(&c, &slug, &query).await?;
    let engine = s.engine.clone();
    let pages = futures_util::stream::try_unfold(Some(0i64), move |after| {
        let engine = engine.clone();
        let filter = filter.clone();
        async move {
            let Some(after) = after else { return Ok(None) };
            let events = engine.audit_export_page(app_id, &filter, after).await.inspect_err(|e| {
                tracing::error!(error = ?e, "audit export stopped");
            })?;
            let Some(last) = events.last().and_then(|e| e.link.as_ref()).map(|l| l.position) else {
                return Ok(None);
            };
            let mut chunk = Vec::new();
            for event in events {
                let link = event.link.clone();
                let mut line = serde_json::to_value(event_view(event)).map_err(domain::Error::internal)?;
                if let (serde_json::Value::Object(fields), Some(link)) = (&mut line, link) {
                    fields.insert("prev_hash".into(), link.prev_hash.into());
                    fields.insert("hash".into(), link.hash.into());
                }
                serde_json::to_writer(&mut chunk, &line).map_err(domain::Error::internal)?;
                chunk.push(b'\n');
            }
            Ok::<_, domain::Error>(Some((axum::body::Bytes::from(chunk), Some(last))))
        }
    });
    let filename = format!("attachment; filename=\"audit-{slug}.jsonl\"");
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson".to_owned()), (header::CONTENT_DISPOSITION, filename)],
        Body::from_stream(pages),
    )
        .into_response())
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Activity {
    events: Vec<shared::audit::AuditEventView>,
}

/// `GET /{slug}/v1/me/activity`: the caller's own recent security events.
#[utoipa::path(
    get,
    path = "/{slug}/v1/me/activity",
    operation_id = "audit_my_activity",
    tag = "consumer me",
    params(("limit" = Option<u32>, Query, description = "How many (1 to 100, default 50)")),
    responses((status = 200, description = "The end-user's recent security events, newest first", body = Activity)),
    security(("bearer" = []))
)]
pub async fn my_activity(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<Activity>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    let limit = match params.get("limit") {
        Some(l) => l
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| domain::Error::invalid("limit must be between 1 and 100"))?,
        None => 50,
    };
    Ok(Json(Activity { events: s.engine.my_activity(&me, limit).await? }))
}
