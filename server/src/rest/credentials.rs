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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    #[serde(alias = "overlapSeconds")]
    overlap_seconds: Option<i64>,
}

#[derive(Serialize)]
pub struct CredentialList {
    credentials: Vec<CredentialView>,
}

/// The body is optional: `{}`, `{"name": …}`, or none at all.
pub async fn create(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    body: Option<ApiJson<CreateBody>>,
) -> ApiResult<(StatusCode, Json<CreatedCredential>)> {
    let name = body.and_then(|ApiJson(b)| b.name);
    Ok((StatusCode::CREATED, Json(s.engine.create_app_credential(&c, &slug, name.as_deref()).await?)))
}

pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<CredentialList>> {
    Ok(Json(CredentialList { credentials: s.engine.list_app_credentials(&c, &slug).await? }))
}

/// The body is optional: without `overlap_seconds` the old secret works for a day.
pub async fn rotate(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, app_id)): Path<(String, String)>,
    body: Option<ApiJson<RotateBody>>,
) -> ApiResult<Json<RotatedCredential>> {
    let overlap = body.and_then(|ApiJson(b)| b.overlap_seconds);
    Ok(Json(s.engine.rotate_app_credential(&c, &slug, &app_id, overlap).await?))
}

pub async fn revoke(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, app_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_app_credential(&c, &slug, &app_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
