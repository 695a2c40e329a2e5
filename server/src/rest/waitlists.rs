//! Waitlists (seed 004): an end-user's own, under `/{slug}/v1/me/waitlists`, in its token's
//! organization context; and the admins' view under `/api/v1/apps/{slug}/waitlists` (counts,
//! pages of entries, a CSV export, letting people in).

use std::collections::HashMap;

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::engine::Admission;
use serde_json::{json, Value};
use shared::waitlists::{MyWaitlistView, WaitlistPage};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy};

pub async fn my_waitlists(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Value>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(json!({ "waitlists": s.engine.my_waitlists(&me).await? })))
}

pub async fn my_waitlist(
    State(s): State<AppState>,
    Path((slug, feature)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyWaitlistView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.my_waitlist(&me, &feature).await?))
}

pub async fn join_waitlist(
    State(s): State<AppState>,
    Path((slug, feature)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyWaitlistView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.join_waitlist(&me, &feature).await?))
}

pub async fn leave_waitlist(
    State(s): State<AppState>,
    Path((slug, feature)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.leave_waitlist(&me, &feature).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "waitlists": s.engine.waitlists(&c, &slug).await? })))
}

pub async fn entries(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, feature)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<WaitlistPage>> {
    let limit = match params.get("limit") {
        Some(l) => Some(l.trim().parse::<u32>().map_err(|_| domain::Error::invalid("limit must be a number"))?),
        None => None,
    };
    let page = s
        .engine
        .waitlist_page(
            &c,
            &slug,
            &feature,
            params.get("status").map(String::as_str),
            params.get("cursor").map(String::as_str),
            limit,
        )
        .await?;
    Ok(Json(page))
}

pub async fn export(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, feature)): Path<(String, String)>,
) -> ApiResult<Response> {
    let csv = s.engine.export_waitlist(&c, &slug, &feature).await?;
    let disposition = format!("attachment; filename=\"{slug}-{feature}-waitlist.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        csv,
    )
        .into_response())
}

pub async fn admit(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, feature)): Path<(String, String)>,
    ApiJson(admission): ApiJson<Admission>,
) -> ApiResult<Json<Value>> {
    let admitted = s.engine.admit_waitlist(&c, &slug, &feature, admission).await?;
    Ok(Json(json!({ "admitted": admitted })))
}
