//! Organizations inside an app (seed 002's tenants, seed 003's organizations): the
//! organization, its members (each with one of the app's roles), invitations into it, and
//! the organization a session acts in.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: Uuid,
    pub app_id: Uuid,
    /// Unique in the app.
    pub slug: String,
    pub name: String,
    pub metadata: serde_json::Value,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member of an organization, with its org role and what identifies the user.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgMember {
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub role_id: Uuid,
    pub role_name: String,
    pub joined_at: DateTime<Utc>,
    pub username: String,
    pub display_name: String,
    /// The user's primary email.
    pub email: Option<String>,
}

/// One organization of a user, with the user's role in it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgMembership {
    pub org: Organization,
    pub role_id: Uuid,
    pub role_name: String,
    pub joined_at: DateTime<Utc>,
}

/// The organization a session acts in, as the store has it now: only while the session's
/// user is still a member (a removed member's session reads as acting in none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveOrgRecord {
    pub org_id: Uuid,
    pub slug: String,
    pub role_id: Uuid,
    pub role_name: String,
}

/// An invitation of an email address into an organization, with the role it grants.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgInvite {
    pub id: Uuid,
    pub app_id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role_id: Uuid,
    pub code_digest: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl OrgInvite {
    /// `pending`, `accepted`, `revoked` or `expired` at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        if self.accepted_at.is_some() {
            "accepted"
        } else if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "pending"
        }
    }
}
