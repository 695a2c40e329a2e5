//! An app's credentials (seed 002's `app_id` + `app_secret`) under
//! `/api/v1/apps/{slug}/credentials`: create (the secret shown once), list (never a secret),
//! rotate with an overlap, revoke. Managed with the `apikey.*` permissions.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use shared::{CreatedCredential, CredentialView, RotatedCredential};

use super::error::{ApiJson, ApiResult};
use super::extract::ManagedBy;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CredentialsCreateBody)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CredentialsRotateBody)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    #[serde(alias = "overlapSeconds")]
    overlap_seconds: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CredentialList {
    credentials: Vec<CredentialView>,
}

/// The body is optional: `{}`, `{"name": …}`, or none at all.
#[utoipa::path(
    post,
    path = "/apps/{slug}/credentials",
    operation_id = "credentials_create",
    tag = "access",
    request_body(content = CreateBody),
    responses((status = 201, description = "Created", body = CreatedCredential)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    body: Option<ApiJson<CreateBody>>,
) -> ApiResult<(StatusCode, Json<CreatedCredential>)> {
    let name = body.and_then(|ApiJson(b)| b.name);
    Ok((StatusCode::CREATED, Json(s.engine.create_app_credential(&c, &slug, name.as_deref()).await?)))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/credentials",
    operation_id = "credentials_list",
    tag = "access",
    responses((status = 200, description = "OK", body = CredentialList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<CredentialList>> {
    Ok(Json(CredentialList { credentials: s.engine.list_app_credentials(&c, &slug).await? }))
}

/// The body is optional: without `overlap_seconds` the old secret works for a day.
#[utoipa::path(
    post,
    path = "/apps/{slug}/credentials/{app_id}/rotate",
    operation_id = "credentials_rotate",
    tag = "access",
    request_body(content = RotateBody),
    responses((status = 200, description = "OK", body = RotatedCredential)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn rotate(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, app_id)): Path<(String, String)>,
    body: Option<ApiJson<RotateBody>>,
) -> ApiResult<Json<RotatedCredential>> {
    let overlap = body.and_then(|ApiJson(b)| b.overlap_seconds);
    Ok(Json(s.engine.rotate_app_credential(&c, &slug, &app_id, overlap).await?))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/credentials/{app_id}",
    operation_id = "credentials_revoke",
    tag = "access",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, app_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_app_credential(&c, &slug, &app_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
