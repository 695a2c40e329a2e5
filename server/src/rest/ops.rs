//! Liveness and readiness for operators.

use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::error::error_response;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// Always `ready`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    store: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "ops_health",
    tag = "operations",
    responses((status = 200, description = "The server is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready when the store answers.
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "ops_ready",
    tag = "operations",
    responses(
        (status = 200, description = "The store answers", body = Readiness),
        (status = 503, description = "The store is not reachable", body = super::error::ErrorBody),
    )
)]
pub async fn ready(State(s): State<AppState>) -> Response {
    match s.engine.store().ping().await {
        Ok(()) => Json(Readiness { status: "ready", store: s.engine.store().backend() }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "store not reachable");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "The store is not reachable")
        }
    }
}
