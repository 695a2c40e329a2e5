//! `/api/v1/apps` and `/api/v1/introspect/apps/{slug}` (seed 000, steps 2 and 4).

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::engine::{AppPatch, Introspection, NewApp};
use domain::model::App;
use domain::Error;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{ApiJson, ApiResult};
use super::extract::{Account, ManagedBy};

/// An app exactly as seed 000 shows it (plus the caller's `role` when listed or read).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AppView {
    id: Uuid,
    slug: String,
    display_name: String,
    status: &'static str,
    metadata: serde_json::Value,
    #[serde(with = "domain::time_format")]
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

impl AppView {
    fn new(app: App, role: Option<String>) -> AppView {
        AppView {
            id: app.id,
            slug: app.slug,
            display_name: app.display_name,
            status: app.status.as_str(),
            metadata: app.metadata,
            created_at: app.created_at,
            role,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AppsCreateBody)]
pub struct CreateBody {
    slug: String,
    #[serde(rename = "displayName", alias = "display_name")]
    display_name: String,
    metadata: Option<serde_json::Value>,
    #[serde(default, alias = "signingAlg")]
    signing_alg: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AppsPatchBody)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(rename = "displayName", alias = "display_name")]
    display_name: Option<String>,
    status: Option<String>,
    metadata: Option<serde_json::Value>,
    slug: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AppList {
    apps: Vec<AppView>,
}

#[utoipa::path(
    post,
    path = "/apps",
    operation_id = "apps_create",
    tag = "apps",
    request_body(content = CreateBody, example = json!({"slug": "acme-corp", "displayName": "Acme Corporation"})),
    responses((status = 201, description = "The app; its creator is its owner, and the roles owner, admin and member exist", body = AppView, example = json!({"id": "550e8400-e29b-41d4-a716-446655440000", "slug": "acme-corp", "display_name": "Acme Corporation", "status": "active", "metadata": {}, "created_at": "2026-02-20T10:00:00Z"}))),
    security(("bearer" = []))
)]
pub async fn create(
    State(s): State<AppState>,
    Account(account): Account,
    ApiJson(b): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<AppView>)> {
    let app = s
        .engine
        .create_app(
            &account,
            NewApp { slug: b.slug, display_name: b.display_name, metadata: b.metadata, signing_alg: b.signing_alg },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(AppView::new(app, None))))
}

#[utoipa::path(
    get,
    path = "/apps",
    operation_id = "apps_list",
    tag = "apps",
    responses((status = 200, description = "OK", body = AppList)),
    security(("bearer" = []))
)]
pub async fn list(State(s): State<AppState>, Account(account): Account) -> ApiResult<Json<AppList>> {
    let apps = s.engine.list_apps(&account).await?;
    Ok(Json(AppList { apps: apps.into_iter().map(|m| AppView::new(m.app, Some(m.role.name))).collect() }))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}",
    operation_id = "apps_get",
    tag = "apps",
    responses((status = 200, description = "OK", body = AppView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get(
    State(s): State<AppState>,
    ManagedBy(caller): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<AppView>> {
    let access = s.engine.authorize(&caller, &slug, "app.read").await?;
    Ok(Json(AppView::new(access.app, access.role.map(|r| r.name))))
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}",
    operation_id = "apps_update",
    tag = "apps",
    request_body(content = PatchBody),
    responses((status = 200, description = "OK", body = AppView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn update(
    State(s): State<AppState>,
    ManagedBy(caller): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<PatchBody>,
) -> ApiResult<Json<AppView>> {
    if b.slug.as_deref().is_some_and(|new| new != slug) {
        return Err(Error::invalid("slug is permanent and cannot be changed").into());
    }
    let patch = AppPatch { display_name: b.display_name, status: b.status, metadata: b.metadata };
    let app = s.engine.update_app(&caller, &slug, patch).await?;
    Ok(Json(AppView::new(app, None)))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}",
    operation_id = "apps_delete",
    tag = "apps",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete(
    State(s): State<AppState>,
    ManagedBy(caller): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    s.engine.delete_app(&caller, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/introspect/apps/{slug}",
    operation_id = "apps_introspect",
    tag = "apps",
    responses((status = 200, description = "The caller's membership of the app and its permissions there", body = Introspection, example = json!({"isMember": true, "role": {"id": "...", "name": "owner"}, "permissions": ["user.create", "user.read", "user.update", "user.delete", "user.list", "role.create", "role.read"]}))),
    security(("bearer" = []))
)]
pub async fn introspect(
    State(s): State<AppState>,
    Account(account): Account,
    Path(slug): Path<String>,
) -> ApiResult<Json<Introspection>> {
    Ok(Json(s.engine.introspect(&account, &slug).await?))
}
