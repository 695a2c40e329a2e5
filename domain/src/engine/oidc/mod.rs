//! Each app as an OpenID Connect provider (issuer `{PUBLIC_URL}/{slug}`): here its types,
//! its discovery document and what its endpoints share; the authorization endpoint's
//! decisions in `authorize`, the token endpoint (client authentication, the grants, ID
//! tokens) in `token`, and userinfo, revocation, introspection and RP-initiated logout in
//! `endpoints`. An authorization opens a Rampart session of its own, so `me/sessions`,
//! revocation and refresh hold for it.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

use super::Engine;
use crate::crypto::b64url;
use crate::keys::SigningAlg;
use crate::{Error, Result};

mod authorize;
mod endpoints;
mod token;

/// Every authorization code starts with this.
const CODE_PREFIX: &str = "oac_";
/// How long a code may wait for its exchange.
const CODE_TTL_SECONDS: i64 = 60;
/// `client_assertion_type` of `private_key_jwt` (RFC 7523).
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest a client assertion may live from now: it is single use and short.
const MAX_ASSERTION_SECONDS: i64 = 300;
/// The `typ` of ID tokens' header.
const ID_TOKEN_TYP: &str = "JWT";
/// The longest `state` and `nonce` kept.
const MAX_STATE: usize = 1024;
const MAX_NONCE: usize = 512;

/// The query of `GET /{slug}/oauth2/authorize` (and the consent form's copy of it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub ui_locales: Option<String>,
    /// Rampart's own: the time (Unix seconds) the request was sent to sign in again for
    /// `prompt=login` or `max_age`; a sign-in since then satisfies them.
    pub auth_after: Option<String>,
}

/// What the end-user decided on the consent page, if this is its post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Ask,
    Allow,
    Deny,
}

/// What to ask the end-user on the consent page.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentPrompt {
    pub client_name: String,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Where an authorization request goes next.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeStep {
    /// Shown on a page, never redirected: the client or its redirect URI is not known to be
    /// the client's. The hosted pages' message key.
    Refused(&'static str),
    /// Back to the client: with a code, or with an error (RFC 6749 4.1.2.1, RFC 9207).
    Redirect(String),
    /// To the hosted sign-in page (`again`: even with a session, for `prompt=login` or
    /// `max_age`), then back to the same request.
    SignIn {
        login_hint: Option<String>,
        again: bool,
    },
    Consent(ConsentPrompt),
}

/// The form of the token, revocation and introspection endpoints.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    pub client_secret: Option<SecretString>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

/// `client_secret_basic`'s credentials, from the `Authorization` header.
#[derive(Debug, Clone)]
pub struct BasicCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// The token endpoint's answer (RFC 6749 5.1, OIDC Core 3.1.3.3).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OAuthTokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// An error in OAuth's shape (RFC 6749 5.2): `{error, error_description}`.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    /// Answer `WWW-Authenticate: Basic` (the client tried `client_secret_basic`).
    pub basic_challenge: bool,
    pub retry_after_seconds: Option<u64>,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError { status, error, description: description.into(), basic_challenge: false, retry_after_seconds: None }
    }

    fn request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_request", description)
    }

    fn grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_grant", description)
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> OAuthError {
        match e {
            Error::RateLimited { retry_after_seconds } => OAuthError {
                retry_after_seconds: Some(retry_after_seconds),
                ..OAuthError::new(429, "temporarily_unavailable", "Too many requests, please try again later")
            },
            Error::Unavailable { retry_after_seconds, .. } => OAuthError {
                retry_after_seconds: Some(retry_after_seconds),
                ..OAuthError::new(503, "temporarily_unavailable", "Please try again later")
            },
            Error::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error at an OAuth endpoint");
                OAuthError::new(500, "server_error", "Internal error")
            }
            Error::NotFound(_) | Error::Forbidden(_) => {
                OAuthError::new(400, "invalid_request", "Unknown or suspended app")
            }
            Error::RefreshTokenReused | Error::SessionRevoked | Error::TokenExpired | Error::Unauthenticated(_) => {
                OAuthError::grant("The grant is invalid, expired or revoked")
            }
            other => OAuthError::request(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> OAuthError {
        OAuthError::from(Error::from(e))
    }
}

type OAuthResult<T> = std::result::Result<T, OAuthError>;

/// `uri` with `params` added to its query (kept as registered otherwise).
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

/// The scopes of a request, each once, in order.
fn scopes_of(raw: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.unwrap_or_default().split_ascii_whitespace() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// A PKCE S256 challenge: 43 base64url characters (a SHA-256).
fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A PKCE verifier (RFC 7636 4.1): 43 to 128 unreserved characters.
fn is_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// `at_hash` (OIDC Core 3.1.3.6): the left half of the access token's hash under the ID
/// token's algorithm's hash (SHA-512 for Ed25519, as the OIDC libraries compute it).
fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    match alg {
        SigningAlg::EdDsa => {
            let d = Sha512::digest(access_token.as_bytes());
            b64url(&d[..32])
        }
        SigningAlg::Rs256 | SigningAlg::Es256 => {
            let d = Sha256::digest(access_token.as_bytes());
            b64url(&d[..16])
        }
    }
}

/// The parts of a request's `prompt`.
#[derive(Default)]
struct Prompt {
    none: bool,
    login: bool,
    consent: bool,
}

fn parse_prompt(raw: Option<&str>) -> std::result::Result<Prompt, &'static str> {
    let mut p = Prompt::default();
    for v in raw.unwrap_or_default().split_ascii_whitespace() {
        match v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            // Rampart keeps one account per browser: nothing to select.
            "select_account" => {}
            _ => return Err("prompt has an unknown value"),
        }
    }
    if p.none && (p.login || p.consent) {
        return Err("prompt=none cannot be combined with other values");
    }
    Ok(p)
}

/// The claims of a `private_key_jwt` client assertion that are checked by hand.
#[derive(Deserialize)]
struct AssertionClaims {
    exp: i64,
    jti: Option<String>,
}

/// Where a logout goes: the registered post-logout URI (with `state`), or nothing
/// (Rampart's signed-out page); and whether the browser's own session ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Logout {
    pub redirect: Option<String>,
    pub browser_ended: bool,
}

/// The userinfo endpoint's answer: the claims, and the client the token was issued to.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInfo {
    pub claims: Value,
    pub client_id: String,
}

/// What an ID token hint must say (its `exp` may be past).
#[derive(Deserialize)]
struct IdTokenHint {
    iss: String,
    aud: String,
    sub: String,
    sid: Option<String>,
}

/// What `auth_after` (the moment a new sign-in was asked for) is sealed under.
pub const AUTH_AFTER_CONTEXT: &str = "oidc auth_after";

impl Engine {
    /// The discovery document of the app as a provider: exactly what it supports.
    pub async fn oidc_discovery(&self, slug: &str) -> Result<Value> {
        let app = self.app(slug).await?;
        let issuer = self.issuer(&app.slug);
        let alg = self.signing_alg(&app).await?;
        let mut scopes = shared::oidc::SCOPES.to_vec();
        let mut claims = vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "sid",
            "amr",
            "name",
            "preferred_username",
            "updated_at",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
        ];
        if app.config.organizations_enabled {
            scopes.push("org");
            claims.extend(["org", "org_role"]);
        }
        let endpoint = |path: &str| format!("{issuer}/oauth2/{path}");
        Ok(json!({
            "issuer": issuer,
            "authorization_endpoint": endpoint("authorize"),
            "token_endpoint": endpoint("token"),
            "userinfo_endpoint": endpoint("userinfo"),
            "jwks_uri": self.jwks_url(&app.slug),
            "revocation_endpoint": endpoint("revoke"),
            "introspection_endpoint": endpoint("introspect"),
            "end_session_endpoint": endpoint("logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": shared::oidc::GRANT_TYPES,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [alg.as_str()],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA", "PS256"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "scopes_supported": scopes,
            "claims_supported": claims,
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_shapes() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
        // RFC 7636 appendix B.
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(is_s256_challenge(&challenge));
        assert!(is_verifier(verifier));
        assert!(!is_verifier("short"));
        assert!(!is_verifier(&"a".repeat(129)));
        assert!(!is_s256_challenge("plain-challenge"));
    }

    #[test]
    fn prompt_values() {
        assert!(parse_prompt(Some("none login")).is_err());
        assert!(parse_prompt(Some("bogus")).is_err());
        let p = parse_prompt(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none);
    }

    #[test]
    fn redirect_parameters_are_added_to_the_registered_query() {
        assert_eq!(
            with_query("https://rp.example/cb?x=1", &[("code", "a b"), ("state", "s&t")]),
            "https://rp.example/cb?x=1&code=a+b&state=s%26t"
        );
    }
}
