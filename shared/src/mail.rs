//! Invites and the mail queue as the management API shows them; the console shows the same
//! views, so a field added here reaches both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An invite (never its code, which only its mail carries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteView {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// The end-user the invite made, once accepted.
    pub user_id: Option<Uuid>,
}

/// One message of an app: the body only while it is kept (the dev outbox, or not sent yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailView {
    pub id: Uuid,
    /// `invite`, `verify_email`, `reset_password`, `password_changed` or `magic_link`.
    pub kind: String,
    /// `email`, or `sms` for a text message (which has no subject and no HTML part).
    pub channel: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// `queued`, `sent`, `outbox` (kept, never sent: no SMTP configured) or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub sent_at: Option<DateTime<Utc>>,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// A page of the app's mail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailPage {
    pub messages: Vec<MailView>,
    /// Pass as `cursor` for older messages; absent on the last page.
    pub next_cursor: Option<String>,
    /// No SMTP server is configured: this server keeps every message, body and links
    /// included, as a dev outbox, and sends none.
    pub dev_outbox: bool,
}
