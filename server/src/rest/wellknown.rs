//! Each app's public keys and discovery document.

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

pub async fn openid_configuration(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<impl IntoResponse> {
    let app = s.engine.app(&slug).await?;
    let issuer = s.engine.issuer(&app.slug);
    let alg = s.engine.signing_alg(&app).await?;
    // Only what Rampart does today: no authorization or token endpoint yet, so no response
    // types or client authentication methods are advertised (the OIDC provider adds them).
    let doc = serde_json::json!({
        "issuer": issuer,
        "jwks_uri": s.engine.jwks_url(&app.slug),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg.as_str()],
        "claims_supported": ["iss", "aud", "sub", "iat", "exp", "jti", "sid", "role", "org", "org_role"],
    });
    Ok(([(header::CACHE_CONTROL, format!("public, max-age={JWKS_MAX_AGE_SECONDS}"))], Json(doc)))
}
