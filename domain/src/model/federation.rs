//! Sign-in through external providers: an app's providers, and its users' identities there.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An external provider of an app (see `engine/federation.rs`).
#[derive(Clone, PartialEq)]
pub struct OAuthProvider {
    pub id: Uuid,
    pub app_id: Uuid,
    /// What the provider is called in its URLs (`/auth/oauth/{name}/…`).
    pub name: String,
    /// `oidc` or a preset (`github`, `google`, `microsoft`, `apple`, `gitlab`, `discord`).
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    /// Sealed with the master key, bound to `id`.
    pub client_secret_sealed: Option<Vec<u8>>,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    /// Space-separated.
    pub scopes: String,
    pub enabled: bool,
    /// Whether a first sign-in whose email the provider asserts verified may join the user
    /// who holds that email.
    pub auto_link: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret_sealed", &self.client_secret_sealed.as_ref().map(|_| "<sealed>"))
            .field("issuer", &self.issuer)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A user's identity at one of the app's providers.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: Uuid,
    pub app_id: Uuid,
    pub provider_id: Uuid,
    pub user_id: Uuid,
    /// The provider's `sub` (or its user id, for plain OAuth 2.0 providers).
    pub subject: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What unlinking an identity came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    Removed,
    NotFound,
    /// The user would have no way left to sign in.
    LastMethod,
}
