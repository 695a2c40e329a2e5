//! Liveness and readiness for operators.

use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::error_response;

pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready when the store answers.
pub async fn ready(State(s): State<AppState>) -> Response {
    match s.engine.store().ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready", "store": s.engine.store().backend() })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "store not reachable");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "The store is not reachable")
        }
    }
}
