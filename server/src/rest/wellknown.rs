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

/// `GET /{slug}/v1/.well-known/jwks.json`: public, so readable by a page of any origin
/// (a single-page app verifying ID tokens).
#[utoipa::path(
    get,
    path = "/{slug}/v1/.well-known/jwks.json",
    operation_id = "wellknown_jwks",
    tag = "openid connect",
    responses((status = 200, description = "The app's public keys (`Cache-Control: public, max-age=…`)", body = crate::openapi::schemas::Jwks))
)]
pub async fn jwks(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<impl IntoResponse> {
    let jwks = s.engine.jwks(&slug).await?;
    let mut response = (
        [(header::CACHE_CONTROL, format!("public, max-age={JWKS_MAX_AGE_SECONDS}"))],
        Json(serde_json::Value::clone(&jwks)),
    )
        .into_response();
    crate::pages::oauth_cors::allow_any_origin(&mut response);
    Ok(response)
}
