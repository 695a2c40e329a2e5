//! End-users and their sessions as the management API shows them; the console shows the
//! same views, so a field added here reaches both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        match raw {
            "active" => Some(Status::Active),
            "suspended" => Some(Status::Suspended),
            _ => None,
        }
    }
}

/// An end-user as the management API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub status: Status,
    /// Left out (both fields absent) for callers who may not read users' contacts. Read back,
    /// absent fields make it `None` again: `emailVerifiedAt` has no default.
    #[serde(flatten)]
    pub contact: Option<PrimaryEmail>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    /// The primary email, when there is one and the caller may see it.
    pub fn email(&self) -> Option<&str> {
        self.contact.as_ref().and_then(|c| c.email.as_deref())
    }

    pub fn email_verified(&self) -> bool {
        self.contact.as_ref().is_some_and(|c| c.email_verified_at.is_some())
    }
}

/// A user's primary email, `null`s when there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PrimaryEmail {
    pub email: Option<String>,
    #[serde(with = "crate::time_format::option")]
    pub email_verified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub users: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// A session as its user, or the app's managers, see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub last_used_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub expires_at: DateTime<Utc>,
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ada(contact: Option<PrimaryEmail>) -> UserView {
        let at = DateTime::parse_from_rfc3339("2026-02-20T10:00:00Z").unwrap().with_timezone(&Utc);
        UserView {
            id: Uuid::nil(),
            username: "ada".into(),
            display_name: "Ada".into(),
            role: "member".into(),
            status: Status::Active,
            contact,
            created_at: at,
            updated_at: at,
        }
    }

    /// The REST shape, and the same view after the trip to the browser.
    #[test]
    fn the_email_is_there_only_when_shown_and_survives_the_round_trip() {
        let hidden = ada(None);
        let none = ada(Some(PrimaryEmail { email: None, email_verified_at: None }));
        let shown = ada(Some(PrimaryEmail {
            email: Some("ada@example.com".into()),
            email_verified_at: Some(hidden.created_at),
        }));
        let json = serde_json::to_value(&hidden).unwrap();
        assert_eq!(
            json,
            json!({
                "id": Uuid::nil(), "username": "ada", "displayName": "Ada", "role": "member", "status": "active",
                "createdAt": "2026-02-20T10:00:00Z", "updatedAt": "2026-02-20T10:00:00Z",
            })
        );
        assert_eq!(serde_json::to_value(&none).unwrap()["emailVerifiedAt"], json!(null));
        assert_eq!(serde_json::to_value(&shown).unwrap()["emailVerifiedAt"], json!("2026-02-20T10:00:00Z"));
        for view in [hidden, none, shown] {
            let back: UserView = serde_json::from_value(serde_json::to_value(&view).unwrap()).unwrap();
            assert_eq!(back, view);
        }
    }
}
