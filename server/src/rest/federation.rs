//! External sign-in providers: their management under `/api/v1/apps/{slug}/oauth-providers`
//! (`config.read`, `config.update`; the client secret is write-only), and a user's
//! identities under `/{slug}/v1/me/identities`. The browser flow is `pages/oauth.rs`.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use shared::{ProviderInput, ProviderPatch, ProviderView};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ProviderList {
    providers: Vec<shared::federation::ProviderView>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/oauth-providers",
    operation_id = "federation_list",
    tag = "integrations",
    responses((status = 200, description = "The app's upstream providers", body = ProviderList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<ProviderList>> {
    Ok(Json(ProviderList { providers: s.engine.list_oauth_providers(&c, &slug).await? }))
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/oauth-providers",
    operation_id = "federation_create",
    tag = "integrations",
    request_body(content = ProviderInput),
    responses((status = 201, description = "Created", body = ProviderView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> ApiResult<(StatusCode, Json<ProviderView>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_oauth_provider(&c, &slug, input).await?)))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/oauth-providers/{name}",
    operation_id = "federation_get",
    tag = "integrations",
    responses((status = 200, description = "OK", body = ProviderView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<Json<ProviderView>> {
    Ok(Json(s.engine.get_oauth_provider(&c, &slug, &name).await?))
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/oauth-providers/{name}",
    operation_id = "federation_update",
    tag = "integrations",
    request_body(content = ProviderPatch),
    responses((status = 200, description = "OK", body = ProviderView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn update(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(patch): ApiJson<ProviderPatch>,
) -> ApiResult<Json<ProviderView>> {
    Ok(Json(s.engine.update_oauth_provider(&c, &slug, &name, patch).await?))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/oauth-providers/{name}",
    operation_id = "federation_delete",
    tag = "integrations",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_oauth_provider(&c, &slug, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct IdentityList {
    identities: Vec<shared::federation::IdentityView>,
}

/// `GET /{slug}/v1/me/identities`.
#[utoipa::path(
    get,
    path = "/{slug}/v1/me/identities",
    operation_id = "federation_my_identities",
    tag = "consumer me",
    responses((status = 200, description = "The upstream identities linked to the end-user", body = IdentityList)),
    security(("bearer" = []))
)]
pub async fn my_identities(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<IdentityList>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(IdentityList { identities: s.engine.my_identities(&me).await? }))
}

/// `DELETE /{slug}/v1/me/identities/{id}`: `409` for the last way to sign in.
#[utoipa::path(
    delete,
    path = "/{slug}/v1/me/identities/{id}",
    operation_id = "federation_unlink_identity",
    tag = "consumer me",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []))
)]
pub async fn unlink_identity(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.unlink_my_identity(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
