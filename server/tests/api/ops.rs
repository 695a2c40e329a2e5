//! The operators' endpoints.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{both_stores, json_of, TestApp};

async fn health_and_ready(app: TestApp) {
    let response = app.get("/health").await;
    assert_eq!(response.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(json_of(response, StatusCode::OK).await, json!({ "status": "ok" }));

    let ready = json_of(app.get("/ready").await, StatusCode::OK).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["store"], app.backend.name());
}

both_stores!(health_and_ready);
