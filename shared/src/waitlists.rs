//! Waitlists (seed 004) as the consumer API, the management API and the console show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest feature name, and how many features an app may list.
pub const FEATURE_MAX_LEN: usize = 64;
pub const FEATURES_MAX: usize = 50;

/// Whether `name` may name a waitlist: 1-64 of lowercase letters, digits, `-`, `_` and `.`,
/// starting with a letter or digit (it sits in URLs and CSV files unescaped).
pub fn is_feature_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && name.len() <= FEATURE_MAX_LEN
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'))
}

/// The caller's place on one waitlist, in its token's context (`GET|PUT me/waitlists/{feature}`):
/// `joined` is false, and the rest empty, when it is not on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyWaitlistView {
    pub feature: String,
    pub joined: bool,
    /// `waiting` or `admitted`; `None` when not joined.
    pub status: Option<String>,
    /// The organization the entry belongs to (the token's active one), or `None` for the
    /// user's own.
    pub organization_id: Option<Uuid>,
    #[serde(with = "crate::time_format::option")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    pub admitted_at: Option<DateTime<Utc>>,
}

/// One feature's waitlist in numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistSummary {
    pub feature: String,
    /// Whether the app still lists the feature (entries outlive its removal from the config).
    pub configured: bool,
    pub waiting: i64,
    pub admitted: i64,
}

/// An entry as admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistEntryView {
    pub id: Uuid,
    pub feature: String,
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub organization_id: Option<Uuid>,
    pub organization_name: Option<String>,
    /// `waiting` or `admitted`.
    pub status: String,
    #[serde(with = "crate::time_format")]
    pub joined_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub admitted_at: Option<DateTime<Utc>>,
}

/// A page of one feature's entries, oldest first (first come, first admitted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitlistPage {
    pub summary: WaitlistSummary,
    pub entries: Vec<WaitlistEntryView>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::is_feature_name;

    #[test]
    fn feature_names() {
        for ok in ["beta", "ai-search", "v2.pro_plan", "0day"] {
            assert!(is_feature_name(ok), "{ok}");
        }
        for bad in ["", "Beta", "-x", "a b", "a/b", "=cmd", "é", &"a".repeat(65)] {
            assert!(!is_feature_name(bad), "{bad}");
        }
    }
}
