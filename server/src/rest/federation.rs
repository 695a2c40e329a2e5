//! External sign-in providers: their management under `/api/v1/apps/{slug}/oauth-providers`
//! (`config.read`, `config.update`; the client secret is write-only), and a user's
//! identities under `/{slug}/v1/me/identities`. The browser flow is `pages/oauth.rs`.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use shared::{ProviderInput, ProviderPatch, ProviderView};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy};

pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "providers": s.engine.list_oauth_providers(&c, &slug).await? })))
}

pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> ApiResult<(StatusCode, Json<ProviderView>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_oauth_provider(&c, &slug, input).await?)))
}

pub async fn get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<Json<ProviderView>> {
    Ok(Json(s.engine.get_oauth_provider(&c, &slug, &name).await?))
}

pub async fn update(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(patch): ApiJson<ProviderPatch>,
) -> ApiResult<Json<ProviderView>> {
    Ok(Json(s.engine.update_oauth_provider(&c, &slug, &name, patch).await?))
}

pub async fn delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_oauth_provider(&c, &slug, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /{slug}/v1/me/identities`.
pub async fn my_identities(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Value>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(json!({ "identities": s.engine.my_identities(&me).await? })))
}

/// `DELETE /{slug}/v1/me/identities/{id}`: `409` for the last way to sign in.
pub async fn unlink_identity(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.unlink_my_identity(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
