//! The records the engine keeps: apps and their auth config, roles, end-users, sessions,
//! refresh tokens and signing keys.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Defined once in `shared`, which the browser build also uses.
pub use shared::{AuthConfig, Status};

mod federation;
mod oidc;
mod organizations;
mod webhooks;
pub use federation::{Identity, OAuthProvider, Unlinked};
pub use oidc::{OidcClient, OidcCode, OidcGrant};
pub use organizations::{ActiveOrgRecord, OrgInvite, OrgMember, OrgMembership, Organization};
pub use webhooks::{DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint};

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub id: Uuid,
    pub slug: String,
    pub display_name: String,
    pub status: Status,
    pub metadata: serde_json::Value,
    pub config: AuthConfig,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub description: String,
    pub is_system: bool,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// An end-user of one app; the accounts are the end-users of the `platform` app.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub app_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role_id: Uuid,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user with its role's name and its primary email, read in one query: what `/me` shows
/// and what a live session needs.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProfile {
    pub user: User,
    pub role_name: String,
    pub email: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }

    pub fn parse(raw: &str) -> Option<ContactKind> {
        match raw {
            "email" => Some(ContactKind::Email),
            "phone" => Some(ContactKind::Phone),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: Uuid,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub kind: ContactKind,
    pub value: String,
    pub is_primary: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Contact {
    /// The user's primary email, verified at `verified_at` if it is.
    pub fn primary_email(user: &User, address: &str, verified_at: Option<DateTime<Utc>>) -> Contact {
        Contact {
            id: Uuid::new_v4(),
            app_id: user.app_id,
            user_id: user.id,
            kind: ContactKind::Email,
            value: address.to_owned(),
            is_primary: true,
            verified_at,
            created_at: user.created_at,
        }
    }
}

/// One sign-in: the family of refresh tokens rotated from it and the bearers carrying its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: Uuid,
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// How the user authenticated for it: RFC 8176 authentication method references
    /// (`pwd`, `otp`, `sms`, `fed`), kept for the session's life (an organization switch
    /// or a refresh changes nothing). Empty for sessions opened before they were recorded.
    pub amr: Vec<String>,
}

impl Session {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A refresh token as read. Once rotated, `rotated_at` and `successor_digest` come from its
/// successor: the token at the next generation of its session.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub app_id: Uuid,
    pub session_id: Uuid,
    /// Its place in the session's chain: the first token is 0, each rotation adds one.
    pub generation: i64,
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    /// The successor's digest. The successor itself is derived again from the presented
    /// parent when a repeat within the grace window needs it; it is stored nowhere.
    pub successor_digest: Option<String>,
}

impl RefreshToken {
    /// Where it is kept.
    pub fn key(&self) -> RefreshKey {
        RefreshKey { session_id: self.session_id, generation: self.generation, digest: self.digest.clone() }
    }
}

/// Where a refresh token is kept, as the token itself says: its session, its generation in
/// the session's chain, and its digest, which must match the one stored there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshKey {
    pub session_id: Uuid,
    pub generation: i64,
    pub digest: String,
}

/// A session's first refresh token (generation 0).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRefreshToken {
    pub app_id: Uuid,
    pub session_id: Uuid,
    pub digest: String,
    pub created_at: DateTime<Utc>,
}

impl NewRefreshToken {
    /// How it reads back before any rotation.
    pub fn unrotated(&self) -> RefreshToken {
        RefreshToken {
            app_id: self.app_id,
            session_id: self.session_id,
            generation: 0,
            digest: self.digest.clone(),
            created_at: self.created_at,
            rotated_at: None,
            successor_digest: None,
        }
    }

    /// Where it is kept.
    pub fn key(&self) -> RefreshKey {
        RefreshKey { session_id: self.session_id, generation: 0, digest: self.digest.clone() }
    }
}

/// The token a rotation puts in its parent's place: the next generation of the parent's
/// session.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshSuccessor {
    pub digest: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    pub kid: String,
    pub app_id: Uuid,
    pub alg: String,
    pub private_sealed: Vec<u8>,
    pub public_jwk: serde_json::Value,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// From then on the key is neither published nor accepted (set by a rotation).
    pub retired_at: Option<DateTime<Utc>>,
    /// Set by an emergency revocation, which retires the key at once.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl SigningKey {
    /// Whether tokens signed with the key are still accepted, and the key published, at `at`.
    pub fn live_at(&self, at: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.retired_at.is_none_or(|t| t > at)
    }
}

/// An app together with the caller's role on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub app: App,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A custom permission string of an app (the management ones are built in).
#[derive(Debug, Clone, PartialEq)]
pub struct Permission {
    pub app_id: Uuid,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// A platform API key (PAK): a scoped secret for an app's backend, stored as its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    /// The first characters of the secret, shown so people can tell keys apart.
    pub prefix: String,
    pub digest: String,
    pub scopes: Vec<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// An app credential (seed 002): the `app_id` + `app_secret` an app's backend presents in the
/// body of its backend-only calls. The secret is stored as its digest; after a rotation the
/// previous one keeps working until `previous_expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppCredential {
    pub id: Uuid,
    pub app_id: Uuid,
    /// The public identifier, `app_…`: what the API calls `app_id`.
    pub client_id: String,
    pub name: String,
    pub secret_digest: String,
    pub previous_digest: Option<String>,
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a page of users starts: after this (created_at, id).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Where a message of the mail queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for the worker (again, after a failed attempt).
    Queued,
    /// Taken by the SMTP server; its body is erased.
    Sent,
    /// Kept in the dev outbox (no SMTP server configured), body and all.
    Outbox,
    /// Refused for good by the SMTP server, or out of attempts.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sent => "sent",
            MailStatus::Outbox => "outbox",
            MailStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<MailStatus> {
        match raw {
            "queued" => Some(MailStatus::Queued),
            "sent" => Some(MailStatus::Sent),
            "outbox" => Some(MailStatus::Outbox),
            "failed" => Some(MailStatus::Failed),
            _ => None,
        }
    }
}

/// A message of the durable mail queue. `body` is sealed with the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub id: Uuid,
    pub app_id: Uuid,
    /// Which message: `invite`, `verify_email`, `reset_password`, …
    pub kind: String,
    /// `Name <address>` or a bare address.
    pub sender: String,
    pub to: String,
    pub subject: String,
    pub body: Option<Vec<u8>>,
    /// Mail, or a text message.
    pub channel: OtpChannel,
    pub status: MailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Where a message or a one-time code goes: an email address or a phone (E.164).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpChannel {
    Email,
    Sms,
}

impl OtpChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpChannel::Email => "email",
            OtpChannel::Sms => "sms",
        }
    }

    pub fn parse(raw: &str) -> Option<OtpChannel> {
        match raw {
            "email" => Some(OtpChannel::Email),
            "sms" => Some(OtpChannel::Sms),
            _ => None,
        }
    }
}

/// What a one-time code proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpPurpose {
    /// Seed 002's OTP sign-in.
    SignIn,
    /// That a signed-in user holds one of their contacts.
    Contact,
}

impl OtpPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::SignIn => "signin",
            OtpPurpose::Contact => "contact",
        }
    }

    pub fn parse(raw: &str) -> Option<OtpPurpose> {
        match raw {
            "signin" => Some(OtpPurpose::SignIn),
            "contact" => Some(OtpPurpose::Contact),
            _ => None,
        }
    }
}

/// A one-time code sent for sign-in (seed 002) or to prove a contact, kept as a keyed digest.
#[derive(Debug, Clone, PartialEq)]
pub struct OtpRequest {
    pub id: Uuid,
    pub app_id: Uuid,
    pub purpose: OtpPurpose,
    /// The contact a `Contact` code proves.
    pub contact_id: Option<Uuid>,
    pub channel: OtpChannel,
    /// The normalised address or E.164 number.
    pub destination: String,
    pub code_digest: String,
    /// Guesses spent, counted before each is compared.
    pub attempts: i32,
    pub sends: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// What an emailed one-time token is for; a token of one purpose is no token of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    MagicLink,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::MagicLink => "magic_link",
        }
    }

    pub fn parse(raw: &str) -> Option<TokenPurpose> {
        match raw {
            "verify_email" => Some(TokenPurpose::VerifyEmail),
            "reset_password" => Some(TokenPurpose::ResetPassword),
            "magic_link" => Some(TokenPurpose::MagicLink),
            _ => None,
        }
    }
}

/// An emailed one-time token, kept by its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct OneTimeToken {
    pub digest: String,
    pub app_id: Uuid,
    pub purpose: TokenPurpose,
    pub user_id: Uuid,
    /// The contact it proves (email verification, password reset).
    pub contact_id: Option<Uuid>,
    pub redirect_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invite of an end-user into an app (seed 000, step 3).
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub id: Uuid,
    pub app_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role_id: Uuid,
    pub code_digest: String,
    /// `account`, `api_key` or `system`, and its id.
    pub invited_by_kind: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_id: Option<Uuid>,
}

impl Invite {
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

/// An end-user's place on one of the app's waitlists (seed 004), in the context of an
/// organization (`org_id`) or its own.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub app_id: Uuid,
    pub feature: String,
    pub user_id: Uuid,
    pub org_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub admitted_at: Option<DateTime<Utc>>,
}

/// An entry with whose it is, for admins: one query for a page.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitlistListing {
    pub entry: WaitlistEntry,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub org_name: Option<String>,
}

/// How many wait for one feature, and how many were let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistCount {
    pub feature: String,
    pub waiting: i64,
    pub admitted: i64,
}
