//! An app's OIDC clients (the relying parties of the app as an OpenID Connect provider) as
//! the management API and the console show and take them, in OAuth's snake_case.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The grant types a client may be allowed.
pub const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];
/// The scopes the provider knows.
pub const SCOPES: &[&str] = &["openid", "profile", "email", "phone", "offline_access"];

/// A client as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcClientView {
    pub client_id: String,
    pub name: String,
    /// `confidential` (authenticates with a secret or a key) or `public` (PKCE only).
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub first_party: bool,
    /// The client's public keys for `private_key_jwt`, when it registered some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// How the client authenticates at the token endpoint.
    pub token_endpoint_auth_methods: Vec<String>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub secret_rotated_at: Option<DateTime<Utc>>,
}

/// A client just created, or its secret just rotated: the secret is here (confidential
/// clients) and nowhere else, ever again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedOidcClient {
    #[serde(flatten)]
    pub client: OidcClientView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// What a new client is made of; unset lists take the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOidcClient {
    pub name: String,
    /// `confidential` (the default) or `public`.
    #[serde(default)]
    pub client_type: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Default `["authorization_code", "refresh_token"]`.
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    /// Default `["openid", "profile", "email"]`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub first_party: bool,
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
}

/// A change to a client: each field given replaces the stored one (`jwks: null` removes it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OidcClientPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub first_party: Option<bool>,
    /// Absent: unchanged; `null`: removed; a JWK set: replaced.
    #[serde(default, with = "double_option", skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Option<serde_json::Value>>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<serde_json::Value>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<serde_json::Value>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}
