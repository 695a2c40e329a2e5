//! An app's signing keys under `/api/v1/apps/{slug}/keys`: list (`key.read`), rotate and
//! revoke in an emergency (`key.rotate`). Private keys never leave the engine.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use domain::engine::KeyView;
use serde::{Deserialize, Serialize};

use super::error::{ApiJson, ApiResult};
use super::extract::ManagedBy;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = KeysKeyList)]
pub struct KeyList {
    keys: Vec<KeyView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = KeysRotateBody)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// Another algorithm for the new key (`RS256`, `ES256`, `EdDSA`); the current one's by default.
    alg: Option<String>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/keys",
    operation_id = "keys_list",
    tag = "integrations",
    responses((status = 200, description = "OK", body = KeyList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList { keys: s.engine.list_signing_keys(&c, &slug).await? }))
}

/// The body is optional: `{}`, `{"alg": …}`, or none at all.
#[utoipa::path(
    post,
    path = "/apps/{slug}/keys/rotate",
    operation_id = "keys_rotate",
    tag = "integrations",
    request_body(content = RotateBody),
    responses((status = 200, description = "OK", body = KeyView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn rotate(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    body: Option<ApiJson<RotateBody>>,
) -> ApiResult<Json<KeyView>> {
    let alg = body.and_then(|ApiJson(b)| b.alg);
    Ok(Json(s.engine.rotate_signing_key(&c, &slug, alg.as_deref()).await?))
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/keys/{kid}/revoke",
    operation_id = "keys_revoke",
    tag = "integrations",
    responses((status = 200, description = "OK", body = KeyView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, kid)): Path<(String, String)>,
) -> ApiResult<Json<KeyView>> {
    Ok(Json(s.engine.revoke_signing_key(&c, &slug, &kid).await?))
}
