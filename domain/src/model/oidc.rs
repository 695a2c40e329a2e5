//! The records of each app as an OpenID Connect provider: its clients, the consents its
//! end-users gave them, authorization codes, and the sessions opened for a client.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A relying party registered with an app.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcClient {
    pub id: Uuid,
    pub app_id: Uuid,
    /// The public identifier (`oc_…`).
    pub client_id: String,
    pub name: String,
    /// Confidential clients authenticate at the token endpoint; public ones cannot and must
    /// use PKCE.
    pub confidential: bool,
    /// The SHA-256 of a confidential client's secret.
    pub secret_digest: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// The app's own client: its users are not asked for consent.
    pub first_party: bool,
    /// A confidential client's public keys (a JWK set), for `private_key_jwt`.
    pub jwks: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub secret_rotated_at: Option<DateTime<Utc>>,
}

/// An authorization code as stored: its digest and everything it is bound to.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcCode {
    pub digest: String,
    pub app_id: Uuid,
    /// The client's row id.
    pub client_id: Uuid,
    pub user_id: Uuid,
    pub redirect_uri: String,
    /// The PKCE S256 challenge, when the request had one.
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The session the exchange opened.
    pub session_id: Option<Uuid>,
}

/// A session opened for a client by a code exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct OidcGrant {
    pub session_id: Uuid,
    pub app_id: Uuid,
    /// The client's row id.
    pub client_id: Uuid,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub auth_time: DateTime<Utc>,
    pub amr: Vec<String>,
    pub created_at: DateTime<Utc>,
}
