//! Webhook endpoints and their deliveries, as stored.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An app's endpoint: where its events go, which of them, signed with which secret.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub app_id: Uuid,
    pub url: String,
    pub description: String,
    /// Audit event types (`end_user.signed_in`), or `*` for every one.
    pub event_types: Vec<String>,
    /// The `whsec_` secret, sealed with the master key (it must sign, so it cannot be hashed).
    pub secret_sealed: Vec<u8>,
    /// After a rotation, the previous secret, which signs beside the new one until `previous_until`.
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_until: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed (none since): a day of it disables the endpoint.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Whether an event of type `kind` goes to this endpoint.
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled && self.event_types.iter().any(|t| t == "*" || t == kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for the worker (again, after a failed attempt).
    Queued,
    /// The receiver answered 2xx.
    Delivered,
    /// Out of attempts, or its endpoint was disabled or removed meanwhile.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<DeliveryStatus> {
        match raw {
            "queued" => Some(DeliveryStatus::Queued),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint, with what the last attempt got.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub app_id: Uuid,
    pub endpoint_id: Uuid,
    /// The audit event it carries.
    pub event_id: Uuid,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_response: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What one attempt at a delivery came to.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    pub status: DeliveryStatus,
    /// When to try again (`Queued`).
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_response: Option<String>,
    pub last_error: Option<String>,
    pub at: DateTime<Utc>,
}
