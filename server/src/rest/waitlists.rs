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
use shared::waitlists::{MyWaitlistView, WaitlistPage};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MyWaitlists {
    waitlists: Vec<shared::waitlists::MyWaitlistView>,
}

#[utoipa::path(
    get,
    path = "/{slug}/v1/me/waitlists",
    operation_id = "waitlists_my_waitlists",
    tag = "consumer me",
    responses((status = 200, description = "The waitlists the end-user is on", body = MyWaitlists)),
    security(("bearer" = []))
)]
pub async fn my_waitlists(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyWaitlists>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(MyWaitlists { waitlists: s.engine.my_waitlists(&me).await? }))
}

#[utoipa::path(
    get,
    path = "/{slug}/v1/me/waitlists/{feature}",
    operation_id = "waitlists_my_waitlist",
    tag = "consumer me",
    responses((status = 200, description = "OK", body = MyWaitlistView)),
    security(("bearer" = []))
)]
pub async fn my_waitlist(
    State(s): State<AppState>,
    Path((slug, feature)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyWaitlistView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.my_waitlist(&me, &feature).await?))
}

#[utoipa::path(
    put,
    path = "/{slug}/v1/me/waitlists/{feature}",
    operation_id = "waitlists_join_waitlist",
    tag = "consumer me",
    responses((status = 200, description = "OK", body = MyWaitlistView)),
    security(("bearer" = []))
)]
pub async fn join_waitlist(
    State(s): State<AppState>,
    Path((slug, feature)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyWaitlistView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.join_waitlist(&me, &feature).await?))
}

#[utoipa::path(
    delete,
    path = "/{slug}/v1/me/waitlists/{feature}",
    operation_id = "waitlists_leave_waitlist",
    tag = "consumer me",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []))
)]
pub async fn leave_waitlist(
    State(s): State<AppState>,
    Path((slug, feature)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.leave_waitlist(&me, &feature).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WaitlistList {
    waitlists: Vec<shared::waitlists::WaitlistSummary>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/waitlists",
    operation_id = "waitlists_list",
    tag = "waitlists",
    responses((status = 200, description = "The app's waitlists", body = WaitlistList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<WaitlistList>> {
    Ok(Json(WaitlistList { waitlists: s.engine.waitlists(&c, &slug).await? }))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/waitlists/{feature}",
    operation_id = "waitlists_entries",
    tag = "waitlists",
    params(
        ("status" = Option<String>, Query, description = "`waiting` or `admitted`"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size"),
    ),
    responses((status = 200, description = "A page of the waitlist's entries", body = WaitlistPage)),
    security(("bearer" = []), ("api_key" = []))
)]
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

#[utoipa::path(
    get,
    path = "/apps/{slug}/waitlists/{feature}/export",
    operation_id = "waitlists_export",
    tag = "waitlists",
    responses((status = 200, description = "The waitlist as CSV", content_type = "text/csv", body = String)),
    security(("bearer" = []), ("api_key" = []))
)]
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

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Admitted {
    admitted: Vec<shared::waitlists::WaitlistEntryView>,
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/waitlists/{feature}/admit",
    operation_id = "waitlists_admit",
    tag = "waitlists",
    request_body(content = Admission),
    responses((status = 200, description = "The entries admitted", body = Admitted)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn admit(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, feature)): Path<(String, String)>,
    ApiJson(admission): ApiJson<Admission>,
) -> ApiResult<Json<Admitted>> {
    let admitted = s.engine.admit_waitlist(&c, &slug, &feature, admission).await?;
    Ok(Json(Admitted { admitted }))
}
