//! An app's OIDC clients under `/api/v1/apps/{slug}/oidc-clients`: create (a confidential
//! client's secret shown once), list and get (never a secret), patch, rotate the secret,
//! delete. Managed with the `oidc.*` permissions.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use shared::{CreatedOidcClient, NewOidcClient, OidcClientPatch, OidcClientView};

use super::error::{ApiJson, ApiResult};
use super::extract::ManagedBy;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientList {
    clients: Vec<OidcClientView>,
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/oidc-clients",
    operation_id = "oidc_clients_create",
    tag = "integrations",
    request_body(content = NewOidcClient),
    responses((status = 201, description = "Created", body = CreatedOidcClient)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<NewOidcClient>,
) -> ApiResult<(StatusCode, Json<CreatedOidcClient>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_oidc_client(&c, &slug, body).await?)))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/oidc-clients",
    operation_id = "oidc_clients_list",
    tag = "integrations",
    responses((status = 200, description = "OK", body = ClientList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<ClientList>> {
    Ok(Json(ClientList { clients: s.engine.list_oidc_clients(&c, &slug).await? }))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/oidc-clients/{client_id}",
    operation_id = "oidc_clients_get",
    tag = "integrations",
    responses((status = 200, description = "OK", body = OidcClientView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, client_id)): Path<(String, String)>,
) -> ApiResult<Json<OidcClientView>> {
    Ok(Json(s.engine.get_oidc_client(&c, &slug, &client_id).await?))
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/oidc-clients/{client_id}",
    operation_id = "oidc_clients_patch",
    tag = "integrations",
    request_body(content = OidcClientPatch),
    responses((status = 200, description = "OK", body = OidcClientView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn patch(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, client_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<OidcClientPatch>,
) -> ApiResult<Json<OidcClientView>> {
    Ok(Json(s.engine.update_oidc_client(&c, &slug, &client_id, body).await?))
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/oidc-clients/{client_id}/rotate-secret",
    operation_id = "oidc_clients_rotate_secret",
    tag = "integrations",
    responses((status = 200, description = "OK", body = CreatedOidcClient)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn rotate_secret(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, client_id)): Path<(String, String)>,
) -> ApiResult<Json<CreatedOidcClient>> {
    Ok(Json(s.engine.rotate_oidc_client_secret(&c, &slug, &client_id).await?))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/oidc-clients/{client_id}",
    operation_id = "oidc_clients_delete",
    tag = "integrations",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, client_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_oidc_client(&c, &slug, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
