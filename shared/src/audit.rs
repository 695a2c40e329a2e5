//! The audit log as the management API, the end-user's activity feed and the console show
//! it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who did it (`account`, `end_user`, `api_key`, `system`) or what it was done to
/// (`end_user`, `account`, `session`, `role`, `permission`, `api_key`, `app`,
/// `signing_key`), by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<Uuid>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    pub id: Uuid,
    #[serde(with = "crate::time_format::millis")]
    pub time: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub actor: Party,
    pub subject: Option<Party>,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub details: serde_json::Value,
    /// The event's place in its app's hash chain; `None` for the moment between its commit
    /// and the sequencer linking it.
    pub position: Option<i64>,
}

/// A page of events, newest first; `next_cursor` asks for the older ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPageView {
    pub events: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

/// Where a chain stopped verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenLink {
    /// The chain position that does not verify.
    pub position: i64,
    /// The event found there, if any.
    pub id: Option<Uuid>,
    /// `missing` (no event at this position), `link` (it does not follow the one before),
    /// `content` (its content is not what was hashed), `head` (the chain does not end at its
    /// recorded head, or the head is forged), `checkpoint` (the retention checkpoint is forged).
    pub reason: String,
}

/// The chain's last link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainHead {
    pub position: i64,
    pub hash: String,
}

/// Where retention cut the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckpointView {
    pub position: i64,
    #[serde(with = "crate::time_format")]
    pub at: DateTime<Utc>,
    pub removed: i64,
}

/// What recomputing an app's chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub valid: bool,
    /// Events whose link was recomputed.
    pub checked: i64,
    pub first_broken: Option<BrokenLink>,
    pub head: Option<ChainHead>,
    pub checkpoint: Option<CheckpointView>,
    /// Events committed but not linked yet when the check ran.
    pub pending: i64,
    #[serde(with = "crate::time_format")]
    pub checked_at: DateTime<Utc>,
}
