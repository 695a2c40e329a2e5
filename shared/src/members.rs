//! App members (accounts managing an app) as the management API and the console show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A role, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberRole {
    pub id: Uuid,
    pub name: String,
}

/// One account's membership of an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub account_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// The account's primary email, if it has one.
    pub email: Option<String>,
    pub email_verified: bool,
    pub role: MemberRole,
    #[serde(with = "crate::time_format")]
    pub joined_at: DateTime<Utc>,
}

/// What a member invite's code opens, before it is accepted: enough for the accept page to
/// say what joining means (never the inviter's details, nor other members).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberInviteInfo {
    pub app_slug: String,
    pub app_name: String,
    pub role: String,
    pub email: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    #[serde(with = "crate::time_format")]
    pub expires_at: DateTime<Utc>,
}
