//! Schemas of answers the engine builds as JSON objects of a standard's shape (OpenID
//! Provider Metadata, RFC 7662, OIDC userinfo, JWK Sets): they describe those objects for the
//! document and are never built. `tests/api/openapi.rs` checks real answers against them.
#![allow(dead_code)]

use utoipa::ToSchema;

/// OpenID Provider Metadata (OpenID Connect Discovery 1.0, 3).
#[derive(ToSchema)]
pub struct OidcDiscovery {
    /// `{public_url}/{slug}`: the `iss` of every token of the app.
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    end_session_endpoint: String,
    response_types_supported: Vec<String>,
    response_modes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    subject_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    introspection_endpoint_auth_methods_supported: Vec<String>,
    /// `openid`, `profile`, `email`, `phone`, `offline_access`, and `org` when the app has
    /// organizations.
    scopes_supported: Vec<String>,
    claims_supported: Vec<String>,
    prompt_values_supported: Vec<String>,
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    authorization_response_iss_parameter_supported: bool,
}

/// RFC 7662's answer. A token that is not live (unknown, expired, revoked, another
/// client's) is `{"active": false}` and nothing else.
#[derive(ToSchema)]
pub struct TokenIntrospection {
    active: bool,
    /// `Bearer` or `refresh_token`.
    token_type: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    sub: Option<String>,
    #[schema(value_type = Option<Object>)]
    aud: Option<serde_json::Value>,
    iss: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
    sid: Option<String>,
}

/// The end-user's claims (OpenID Connect Core 5.3.2), as the token's scopes allow: `sub`
/// always; `name`, `preferred_username`, `updated_at` with `profile`; `email`,
/// `email_verified` with `email`; `phone_number`, `phone_number_verified` with `phone`;
/// `org`, `org_role` with `org`.
#[derive(ToSchema)]
pub struct UserInfo {
    sub: String,
    name: Option<String>,
    preferred_username: Option<String>,
    updated_at: Option<i64>,
    email: Option<String>,
    email_verified: Option<bool>,
    phone_number: Option<String>,
    phone_number_verified: Option<bool>,
    org: Option<String>,
    org_role: Option<String>,
}

/// The app's JWK Set (RFC 7517 5): every key that signs now or still verifies.
#[derive(ToSchema)]
pub struct Jwks {
    keys: Vec<domain::keys::Jwk>,
}
