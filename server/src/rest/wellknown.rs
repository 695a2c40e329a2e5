//! Each app's public keys (its discovery document is the OIDC provider's, `pages/oauth.rs`).

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::error::ApiResult;

/// Verifiers may cache the JWKS this long; key rotation keeps retired keys published for at
/// least the longest token lifetime plus this.
pub use domain::engine::JWKS_MAX_AGE_SECONDS;

pub async fn jwks(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<impl IntoResponse> {
    let jwks = s.engine.jwks(&slug).await?;
    Ok((
        [(header::CACHE_CONTROL, format!("public, max-age={JWKS_MAX_AGE_SECONDS}"))],
        Json(serde_json::Value::clone(&jwks)),
    ))
}
