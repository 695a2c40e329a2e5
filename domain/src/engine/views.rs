//! What the engine answers with, where more than one module needs the shape.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// `GET /me` (seed 001, step 5).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    #[serde(with = "crate::time_format")]
    pub joined_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
    #[serde(serialize_with = "crate::time_format::option::serialize")]
    pub email_verified_at: Option<DateTime<Utc>>,
}
