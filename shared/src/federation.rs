//! Sign-in through external providers: what the management API, the console and the
//! consumer API show of an app's providers and of a user's identities.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kinds of provider, each with its built-in endpoints and claim mapping (`oidc`: any
/// OpenID provider found through its issuer).
pub const PROVIDER_KINDS: [&str; 7] = ["oidc", "google", "microsoft", "apple", "gitlab", "github", "discord"];

/// A provider as listed: never its client secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderView {
    pub id: String,
    /// What the provider is called in its URLs (`/auth/oauth/{name}/…`).
    pub name: String,
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    /// Whether a client secret is set (it is never shown).
    pub has_client_secret: bool,
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub scopes: Vec<String>,
    pub enabled: bool,
    /// Whether a first sign-in may join the user holding the email the provider asserts
    /// verified.
    pub auto_link: bool,
    /// The redirect URI to register at the provider.
    pub callback_url: String,
    /// Where a sign-in through this provider starts.
    pub authorize_url: String,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
}

/// A new provider. Presets fill in what they know; `oidc` needs an `issuer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// Defaults to the kind (`github`, …).
    #[serde(default)]
    pub name: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub authorization_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub userinfo_url: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub auto_link: Option<bool>,
}

/// A change to a provider: the fields given replace the stored ones (an empty
/// `client_secret` removes it). Its name, kind and issuer never change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub authorization_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub userinfo_url: Option<String>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub auto_link: Option<bool>,
}

/// One of a user's identities at the app's providers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityView {
    pub id: String,
    pub provider: String,
    pub provider_name: String,
    pub email: Option<String>,
    #[serde(with = "crate::time_format")]
    pub linked_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub last_used_at: Option<DateTime<Utc>>,
}
