//! An app's signing keys under `/api/v1/apps/{slug}/keys`: list (`key.read`), rotate and
//! revoke in an emergency (`key.rotate`). Private keys never leave the engine.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use domain::engine::KeyView;
use serde::{Deserialize, Serialize};

use super::error::{ApiJson, ApiResult};
use super::extract::ManagedBy;

#[derive(Serialize)]
pub struct KeyList {
    keys: Vec<KeyView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// Another algorithm for the new key (`RS256`, `ES256`, `EdDSA`); the current one's by default.
    alg: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList { keys: s.engine.list_signing_keys(&c, &slug).await? }))
}

/// The body is optional: `{}`, `{"alg": …}`, or none at all.
pub async fn rotate(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    body: Option<ApiJson<RotateBody>>,
) -> ApiResult<Json<KeyView>> {
    let alg = body.and_then(|ApiJson(b)| b.alg);
    Ok(Json(s.engine.rotate_signing_key(&c, &slug, alg.as_deref()).await?))
}

pub async fn revoke(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, kid)): Path<(String, String)>,
) -> ApiResult<Json<KeyView>> {
    Ok(Json(s.engine.revoke_signing_key(&c, &slug, &kid).await?))
}
