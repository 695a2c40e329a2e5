//! Each app as an OpenID Connect provider (issuer `{PUBLIC_URL}/{slug}`): the authorization
//! endpoint's decisions (sign in first, ask consent, or redirect with a code or an error),
//! the token endpoint (authorization code with PKCE, refresh through the sessions' rotation
//! and reuse detection, client credentials) with its client authentication, ID tokens,
//! userinfo, revocation, introspection and RP-initiated logout. An authorization opens a
//! Rampart session of its own, so `me/sessions`, revocation and refresh hold for it.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256, Sha512};
use uuid::Uuid;

use super::audit::{user_actor, user_kind};
use super::cache::Change;
use super::issuer::OIDC_REFRESH_PREFIX;
use super::oidc_clients::could_be_client_id;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::Event;
use crate::crypto::{b64url, constant_time_eq, random_token, token_digest};
use crate::keys::SigningAlg;
use crate::model::{App, ContactKind, OidcClient, OidcCode, OidcGrant, Status};
use crate::tokens::{self, Claims, ClientClaims, ACCESS_TOKEN_TYP};
use crate::{Error, Result};

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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
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
#[derive(Debug, Clone, Serialize)]
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

    /// Decides an authorization request: `browser` is the hosted pages' signed-in end-user,
    /// `decision` the consent page's answer when this is its post.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_authorize(
        &self,
        slug: &str,
        p: &AuthorizeParams,
        browser: Option<&Principal>,
        decision: Decision,
    ) -> Result<AuthorizeStep> {
        let app = self.active_app(slug).await?;
        let client = match p.client_id.as_deref() {
            Some(id) if could_be_client_id(id) => self.store.oidc_client(app.id, id).await?,
            _ => None,
        };
        let Some(client) = client else {
            return Ok(AuthorizeStep::Refused("oauth-unknown-client"));
        };
        // Exact string comparison (RFC 9700 2.1): no normalisation of any kind.
        let Some(redirect_uri) = p.redirect_uri.as_deref().filter(|r| client.redirect_uris.iter().any(|u| u == r))
        else {
            return Ok(AuthorizeStep::Refused("oauth-bad-redirect-uri"));
        };
        let issuer = self.issuer(&app.slug);
        let state = p.state.as_deref().filter(|s| !s.is_empty());
        let back = |error: &str, description: &str| {
            let mut params = vec![("error", error), ("error_description", description)];
            if let Some(state) = state {
                params.push(("state", state));
            }
            params.push(("iss", issuer.as_str()));
            Ok(AuthorizeStep::Redirect(with_query(redirect_uri, &params)))
        };
        if p.request.is_some() {
            return back("request_not_supported", "Request objects are not supported");
        }
        if p.request_uri.is_some() {
            return back("request_uri_not_supported", "request_uri is not supported");
        }
        if p.response_mode.as_deref().is_some_and(|m| m != "query") {
            return back("invalid_request", "Only response_mode=query is supported");
        }
        if p.response_type.as_deref() != Some("code") {
            return back("unsupported_response_type", "Only response_type=code is supported");
        }
        if !client.grant_types.iter().any(|g| g == "authorization_code") {
            return back("unauthorized_client", "This client may not use the authorization code grant");
        }
        if state.is_some_and(|s| s.len() > MAX_STATE) || p.nonce.as_deref().is_some_and(|n| n.len() > MAX_NONCE) {
            return back("invalid_request", "state or nonce is too long");
        }
        let scopes = scopes_of(p.scope.as_deref());
        if scopes.is_empty() {
            return back("invalid_scope", "scope is required");
        }
        if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return back("invalid_scope", &format!("Scope {s} is not allowed for this client"));
        }
        let challenge = match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
            (None, None) if !client.confidential => {
                return back("invalid_request", "PKCE with S256 is required for public clients")
            }
            (None, None) => None,
            (None, Some(_)) => return back("invalid_request", "code_challenge_method without code_challenge"),
            // Without a method, the challenge would be `plain` (RFC 7636 4.3): refused.
            (Some(_), None | Some("plain")) => {
                return back("invalid_request", "code_challenge_method must be S256 (plain is refused)")
            }
            (Some(c), Some("S256")) if is_s256_challenge(c) => Some(c.to_owned()),
            (Some(_), Some("S256")) => return back("invalid_request", "code_challenge is not an S256 challenge"),
            (Some(_), Some(_)) => return back("invalid_request", "code_challenge_method must be S256"),
        };
        let prompt = match parse_prompt(p.prompt.as_deref()) {
            Ok(prompt) => prompt,
            Err(why) => return back("invalid_request", why),
        };
        let max_age = match p.max_age.as_deref().map(str::parse::<u32>) {
            None => None,
            Some(Ok(age)) => Some(i64::from(age)),
            Some(Err(_)) => return back("invalid_request", "max_age must be a non-negative integer"),
        };
        let login_hint = p.login_hint.clone().filter(|h| !h.is_empty() && h.len() <= 254);
        // The browser's session, and when its sign-in happened.
        let signed_in = match browser {
            Some(principal) => self
                .store
                .session(app.id, principal.session_id)
                .await?
                .filter(|s| s.is_live(now()))
                .map(|s| (principal, s.created_at)),
            None => None,
        };
        let Some((principal, auth_time)) = signed_in else {
            if prompt.none {
                return back("login_required", "The end-user is not signed in");
            }
            return Ok(AuthorizeStep::SignIn { login_hint, again: false });
        };
        let at = now();
        // `auth_after` is sealed by this server when it sent the browser to sign in again, and
        // holds for ten minutes: a browser cannot claim a sign-in fresher than it is.
        let fresh = p
            .auth_after
            .as_deref()
            .and_then(|a| self.open_from_browser(a, AUTH_AFTER_CONTEXT))
            .and_then(|b| String::from_utf8(b).ok()?.parse::<i64>().ok())
            .filter(|asked| (0..=600).contains(&(at.timestamp() - asked)))
            .is_some_and(|asked| auth_time.timestamp() >= asked);
        let too_old = max_age.is_some_and(|age| (at - auth_time).num_seconds() > age);
        if (prompt.login || too_old) && !fresh {
            if prompt.none {
                return back("login_required", "The end-user must sign in again");
            }
            return Ok(AuthorizeStep::SignIn { login_hint, again: true });
        }
        let mut consent_to_record = false;
        if !client.first_party {
            match decision {
                Decision::Deny => return back("access_denied", "The end-user denied the request"),
                Decision::Allow => consent_to_record = true,
                Decision::Ask => {
                    let given = self.store.oidc_consent(client.id, principal.user_id).await?;
                    let covered = given.is_some_and(|g| scopes.iter().all(|s| g.contains(s)));
                    if prompt.consent || !covered {
                        if prompt.none {
                            return back("consent_required", "The end-user has not consented to this client");
                        }
                        return Ok(AuthorizeStep::Consent(ConsentPrompt {
                            client_name: client.name.clone(),
                            client_id: client.client_id.clone(),
                            scopes,
                        }));
                    }
                }
            }
        }
        let code = random_token(CODE_PREFIX);
        let record = OidcCode {
            digest: token_digest(&code),
            app_id: app.id,
            client_id: client.id,
            user_id: principal.user_id,
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: challenge,
            nonce: p.nonce.clone().filter(|n| !n.is_empty()),
            scopes: scopes.clone(),
            auth_time,
            amr: Vec::new(),
            created_at: at,
            expires_at: at + TimeDelta::seconds(CODE_TTL_SECONDS),
            used_at: None,
            session_id: None,
        };
        let kind = user_kind(&app.slug);
        let mut tx = self.write().await?;
        if consent_to_record {
            tx.grant_oidc_consent(app.id, client.id, principal.user_id, &scopes, at).await?;
            tx.record(
                app.id,
                Event::new("oidc.consent_granted", user_actor(&app.slug, principal.user_id))
                    .subject(kind, principal.user_id)
                    .details(json!({"client_id": client.client_id, "scopes": scopes})),
            );
        }
        tx.insert_oidc_code(&record).await?;
        tx.record(
            app.id,
            Event::new("oidc.authorized", user_actor(&app.slug, principal.user_id))
                .subject(kind, principal.user_id)
                .session(principal.session_id)
                .details(json!({"client_id": client.client_id, "scopes": scopes})),
        );
        tx.commit().await?;
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", issuer.as_str()));
        Ok(AuthorizeStep::Redirect(with_query(redirect_uri, &params)))
    }

    /// The token endpoint: one grant, after the client's authentication.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_token(
        &self,
        slug: &str,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<OAuthTokens> {
        let app = self.active_app(slug).await?;
        let client = self.authenticate_client(&app, p, basic, meta).await?;
        let grant_type = p.grant_type.as_deref().ok_or_else(|| OAuthError::request("grant_type is required"))?;
        if !["authorization_code", "refresh_token", "client_credentials"].contains(&grant_type) {
            return Err(OAuthError::new(400, "unsupported_grant_type", "Unsupported grant_type"));
        }
        if !client.grant_types.iter().any(|g| g == grant_type) {
            return Err(OAuthError::new(400, "unauthorized_client", "This client may not use this grant type"));
        }
        match grant_type {
            "authorization_code" => self.exchange_code(&app, &client, p, meta).await,
            "refresh_token" => self.refresh_for_client(&app, &client, p).await,
            _ => self.client_credentials(&app, &client, p).await,
        }
    }

    /// Authenticates the client of a token, revocation or introspection request: by one
    /// method only. Every failure is `invalid_client` after the same work, counted against
    /// the caller's IP like a wrong app secret.
    async fn authenticate_client(
        &self,
        app: &App,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<OidcClient> {
        let assertion = match (p.client_assertion_type.as_deref(), p.client_assertion.as_deref()) {
            (None, None) => None,
            (Some(ASSERTION_TYPE), Some(a)) => Some(a),
            _ => return Err(OAuthError::request("client_assertion_type must be jwt-bearer with a client_assertion")),
        };
        let methods =
            usize::from(basic.is_some()) + usize::from(p.client_secret.is_some()) + usize::from(assertion.is_some());
        if methods > 1 {
            return Err(OAuthError::request("Use exactly one client authentication method"));
        }
        let asserted_id = assertion
            .and_then(|a| jsonwebtoken::dangerous::insecure_decode::<Value>(a).ok())
            .and_then(|d| d.claims.get("sub").and_then(Value::as_str).map(str::to_owned));
        let client_id = match (basic.map(|b| b.client_id.clone()), p.client_id.clone(), asserted_id) {
            (Some(b), Some(f), _) if b != f => {
                return Err(OAuthError::request("client_id differs from the Basic credentials"))
            }
            (_, Some(f), Some(a)) if f != a => return Err(OAuthError::request("client_id differs from the assertion")),
            (Some(b), _, _) => b,
            (None, Some(f), _) => f,
            (None, None, Some(a)) => a,
            (None, None, None) => return Err(OAuthError::request("Client authentication is required")),
        };
        self.credentials_blocked(app, meta).await?;
        let client =
            if could_be_client_id(&client_id) { self.store.oidc_client(app.id, &client_id).await? } else { None };
        let secret = basic.map(|b| &b.client_secret).or(p.client_secret.as_ref());
        let ok = match (&client, secret, assertion) {
            (Some(c), Some(secret), None) => {
                let presented = token_digest(secret.expose_secret());
                c.confidential
                    && c.secret_digest.as_deref().is_some_and(|d| constant_time_eq(presented.as_bytes(), d.as_bytes()))
            }
            (Some(c), None, Some(a)) => c.confidential && self.check_assertion(app, c, a).await?,
            (Some(c), None, None) => !c.confidential,
            (None, secret, _) => {
                // The comparison a known client costs, so unknown and wrong look alike.
                let presented = token_digest(secret.map(|s| s.expose_secret()).unwrap_or_default());
                std::hint::black_box(constant_time_eq(presented.as_bytes(), token_digest(&client_id).as_bytes()));
                false
            }
            (Some(_), Some(_), Some(_)) => false,
        };
        match client {
            Some(c) if ok => Ok(c),
            _ => {
                self.credential_failed(app, meta).await?;
                Err(OAuthError {
                    basic_challenge: basic.is_some(),
                    ..OAuthError::new(401, "invalid_client", "Client authentication failed")
                })
            }
        }
    }

    /// A `private_key_jwt` assertion (RFC 7523 3): signed by one of the client's keys,
    /// `iss` = `sub` = the client, `aud` the token endpoint or the issuer, expiring within
    /// minutes, its `jti` never seen before.
    async fn check_assertion(&self, app: &App, client: &OidcClient, assertion: &str) -> Result<bool> {
        use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
        let Some(jwks) = &client.jwks else { return Ok(false) };
        let Ok(header) = decode_header(assertion) else { return Ok(false) };
        let allowed = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];
        if !allowed.contains(&header.alg) {
            return Ok(false);
        }
        let keys: Vec<jsonwebtoken::jwk::Jwk> = jwks
            .get("keys")
            .and_then(Value::as_array)
            .map(|ks| ks.iter().filter_map(|k| serde_json::from_value(k.clone()).ok()).collect())
            .unwrap_or_default();
        let jwk = match &header.kid {
            Some(kid) => keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
            None if keys.len() == 1 => keys.first(),
            None => None,
        };
        let Some(key) = jwk.and_then(|k| DecodingKey::from_jwk(k).ok()) else { return Ok(false) };
        let issuer = self.issuer(&app.slug);
        let mut v = Validation::new(header.alg);
        v.set_audience(&[format!("{issuer}/oauth2/token"), issuer.clone()]);
        v.set_issuer(&[client.client_id.as_str()]);
        v.sub = Some(client.client_id.clone());
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        v.leeway = 5;
        let Ok(data) = decode::<AssertionClaims>(assertion, &key, &v) else { return Ok(false) };
        let at = now();
        if data.claims.exp > at.timestamp() + MAX_ASSERTION_SECONDS {
            return Ok(false);
        }
        let Some(jti) = data.claims.jti.filter(|j| !j.is_empty() && j.len() <= 256) else { return Ok(false) };
        let until = DateTime::from_timestamp(data.claims.exp, 0).unwrap_or(at) + TimeDelta::seconds(5);
        let mut tx = self.write().await?;
        let fresh = tx.use_oidc_assertion(client.id, &jti, until, at).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// `authorization_code`: the code is spent whatever follows; presented again, the session
    /// its first exchange opened is revoked (RFC 6749 4.1.2).
    async fn exchange_code(
        &self,
        app: &App,
        client: &OidcClient,
        p: &TokenParams,
        meta: &RequestMeta,
    ) -> OAuthResult<OAuthTokens> {
        let code = p.code.as_deref().filter(|c| c.starts_with(CODE_PREFIX) && c.len() <= 100);
        let code = code.ok_or_else(|| OAuthError::grant("Invalid authorization code"))?;
        let digest = token_digest(code);
        let at = now();
        let mut tx = self.write().await?;
        let Some(found) = tx.consume_oidc_code(app.id, &digest, at).await? else {
            drop(tx);
            self.code_reused(app, &digest).await?;
            return Err(OAuthError::grant("Invalid authorization code"));
        };
        let bad = |why: &str| OAuthError::grant(why.to_owned());
        let checked = if found.client_id != client.id {
            Err(bad("The code was issued to another client"))
        } else if found.expires_at <= at {
            Err(bad("The code has expired"))
        } else if p.redirect_uri.as_deref() != Some(found.redirect_uri.as_str()) {
            Err(bad("redirect_uri differs from the authorization request's"))
        } else {
            match (&found.code_challenge, p.code_verifier.as_deref()) {
                (Some(challenge), Some(verifier)) if is_verifier(verifier) => {
                    let computed = b64url(&Sha256::digest(verifier.as_bytes()));
                    if constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                        Ok(())
                    } else {
                        Err(bad("PKCE verification failed"))
                    }
                }
                (Some(_), _) => Err(bad("PKCE verification failed")),
                // A verifier for a request that had no challenge: a downgrade (RFC 9700 2.1.1).
                (None, Some(_)) => Err(bad("code_verifier without a code_challenge")),
                (None, None) => Ok(()),
            }
        };
        if let Err(e) = checked {
            // The code stays spent.
            tx.commit().await?;
            return Err(e);
        }
        let user = self.store.user_by_id(app.id, found.user_id).await?;
        if !user.is_some_and(|u| u.status == Status::Active) {
            tx.commit().await?;
            return Err(bad("The end-user is no longer active"));
        }
        let (session, refresh) =
            self.open_session_with(&mut *tx, app, found.user_id, meta, at, OIDC_REFRESH_PREFIX).await?;
        let grant = OidcGrant {
            session_id: session.id,
            app_id: app.id,
            client_id: client.id,
            scopes: found.scopes.clone(),
            nonce: found.nonce.clone(),
            auth_time: found.auth_time,
            amr: found.amr.clone(),
            created_at: at,
        };
        tx.insert_oidc_grant(&grant).await?;
        tx.set_oidc_code_session(app.id, &digest, session.id).await?;
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new("oidc.code_exchanged", user_actor(&app.slug, found.user_id))
                .subject(kind, found.user_id)
                .session(session.id)
                .details(json!({"client_id": client.client_id, "scopes": found.scopes})),
        );
        tx.commit().await?;
        let refresh = client.grant_types.iter().any(|g| g == "refresh_token").then_some(refresh);
        self.client_tokens(app, client, &grant, refresh, found.nonce.as_deref()).await
    }

    /// A code presented again: the session its first exchange opened ends.
    async fn code_reused(&self, app: &App, digest: &str) -> Result<()> {
        let Some(code) = self.store.oidc_code(app.id, digest).await? else { return Ok(()) };
        let mut tx = self.write().await?;
        let mut revoked = false;
        if let Some(sid) = code.session_id {
            revoked = tx.revoke_session(app.id, sid, now()).await?;
            tx.changed(Change::Session(sid));
        }
        let kind = user_kind(&app.slug);
        let mut event = Event::new("oidc.code_reused", user_actor(&app.slug, code.user_id))
            .failed()
            .subject(kind, code.user_id)
            .details(json!({"session_revoked": revoked}));
        if let Some(sid) = code.session_id {
            event = event.session(sid);
        }
        tx.record(app.id, event);
        tx.commit().await?;
        tracing::warn!("authorization code presented again; its session revoked");
        Ok(())
    }

    /// `refresh_token`: only the client's own, rotated with the sessions' reuse detection.
    async fn refresh_for_client(&self, app: &App, client: &OidcClient, p: &TokenParams) -> OAuthResult<OAuthTokens> {
        let token = p.refresh_token.as_deref().filter(|t| t.starts_with(OIDC_REFRESH_PREFIX) && t.len() <= 100);
        let token = token.ok_or_else(|| OAuthError::grant("Invalid refresh token"))?;
        let found = self.store.refresh_token(app.id, &token_digest(token)).await?;
        let grant = match found {
            Some(t) => self.store.oidc_grant(app.id, t.session_id).await?,
            None => None,
        };
        let Some(mut grant) = grant.filter(|g| g.client_id == client.id) else {
            return Err(OAuthError::grant("Invalid refresh token"));
        };
        if p.scope.is_some() {
            let asked = scopes_of(p.scope.as_deref());
            if asked.is_empty() || asked.iter().any(|s| !grant.scopes.contains(s)) {
                return Err(OAuthError::new(400, "invalid_scope", "A refresh cannot widen the grant's scopes"));
            }
            grant.scopes = asked;
        }
        let (_, _, successor) = self.rotate_refresh(app, token).await?;
        self.client_tokens(app, client, &grant, Some(successor), None).await
    }

    /// `client_credentials`: a token for the machine client itself (RFC 9068: `sub` is the
    /// client), no user, no session, no refresh token.
    async fn client_credentials(&self, app: &App, client: &OidcClient, p: &TokenParams) -> OAuthResult<OAuthTokens> {
        if !client.confidential {
            return Err(OAuthError::new(
                400,
                "unauthorized_client",
                "Only confidential clients use client_credentials",
            ));
        }
        let asked = scopes_of(p.scope.as_deref());
        let machine: Vec<String> =
            client.scopes.iter().filter(|s| !["openid", "offline_access"].contains(&s.as_str())).cloned().collect();
        if asked.iter().any(|s| !machine.contains(s)) {
            return Err(OAuthError::new(400, "invalid_scope", "A requested scope is not allowed for this client"));
        }
        let scope = if p.scope.is_some() { asked } else { machine }.join(" ");
        let ttl = app.config.access_token_ttl_seconds;
        let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
        let iat = Utc::now().timestamp();
        let claims = ClientClaims {
            iss: self.issuer(&app.slug),
            aud: app.slug.clone(),
            sub: client.client_id.clone(),
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            iat,
            exp: iat + ttl,
            jti: Uuid::new_v4().to_string(),
        };
        let access_token = signer.sign_typed(ACCESS_TOKEN_TYP, &claims)?;
        Ok(OAuthTokens {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
            refresh_token: None,
            id_token: None,
            scope,
        })
    }

    /// The access token (with the client and its scopes), and the ID token when `openid` was
    /// granted, of a session opened for a client.
    async fn client_tokens(
        &self,
        app: &App,
        client: &OidcClient,
        grant: &OidcGrant,
        refresh_token: Option<String>,
        nonce: Option<&str>,
    ) -> OAuthResult<OAuthTokens> {
        let live = self.cached_session(app, grant.session_id).await?;
        let ttl = app.config.access_token_ttl_seconds;
        let scope = grant.scopes.join(" ");
        let access_token = self
            .access_token(
                app,
                live.user_id,
                &live.role,
                live.org.as_ref(),
                grant.session_id,
                ttl,
                Some((&client.client_id, &scope)),
            )
            .await?;
        let id_token = if grant.scopes.iter().any(|s| s == "openid") {
            let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
            let iat = Utc::now().timestamp();
            let mut claims = self.user_claims(app, live.user_id, &grant.scopes, live.org.as_ref()).await?;
            claims.insert("iss".into(), json!(self.issuer(&app.slug)));
            claims.insert("aud".into(), json!(client.client_id));
            claims.insert("iat".into(), json!(iat));
            claims.insert("exp".into(), json!(iat + ttl));
            claims.insert("auth_time".into(), json!(grant.auth_time.timestamp()));
            claims.insert("sid".into(), json!(grant.session_id.to_string()));
            claims.insert("at_hash".into(), json!(at_hash(signer.alg(), &access_token)));
            if let Some(nonce) = nonce {
                claims.insert("nonce".into(), json!(nonce));
            }
            if !grant.amr.is_empty() {
                claims.insert("amr".into(), json!(grant.amr));
            }
            Some(signer.sign_typed(ID_TOKEN_TYP, &Value::Object(claims))?)
        } else {
            None
        };
        Ok(OAuthTokens { access_token, token_type: "Bearer", expires_in: ttl, refresh_token, id_token, scope })
    }

    /// `sub` and the claims the scopes release: `profile` (name, preferred_username,
    /// updated_at), `email`, `phone`, and `org` when organizations are on.
    async fn user_claims(
        &self,
        app: &App,
        user_id: Uuid,
        scopes: &[String],
        org: Option<&super::ActiveOrg>,
    ) -> Result<Map<String, Value>> {
        let has = |s: &str| scopes.iter().any(|x| x == s);
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user_id.to_string()));
        let user = self.store.user_by_id(app.id, user_id).await?.ok_or(Error::SessionRevoked)?;
        if has("profile") {
            claims.insert("name".into(), json!(user.display_name));
            claims.insert("preferred_username".into(), json!(user.username));
            claims.insert("updated_at".into(), json!(user.updated_at.timestamp()));
        }
        if has("email") || has("phone") {
            let contacts = self.store.contacts_of(app.id, user_id).await?;
            let pick = |kind: ContactKind| {
                contacts
                    .iter()
                    .filter(|c| c.kind == kind)
                    .max_by_key(|c| (c.is_primary, c.verified_at.is_some()))
                    .map(|c| (c.value.clone(), c.verified_at.is_some()))
            };
            if has("email") {
                if let Some((email, verified)) = pick(ContactKind::Email) {
                    claims.insert("email".into(), json!(email));
                    claims.insert("email_verified".into(), json!(verified));
                }
            }
            if has("phone") {
                if let Some((phone, verified)) = pick(ContactKind::Phone) {
                    claims.insert("phone_number".into(), json!(phone));
                    claims.insert("phone_number_verified".into(), json!(verified));
                }
            }
        }
        if app.config.organizations_enabled {
            if let Some(org) = org {
                claims.insert("org".into(), json!(org.id.to_string()));
                claims.insert("org_role".into(), json!(org.role));
            }
        }
        Ok(claims)
    }

    /// The userinfo endpoint: the claims an access token issued to a client with `openid`
    /// releases. Any other bearer (a plain Rampart token, a machine client's) is refused.
    pub async fn oidc_userinfo(&self, slug: &str, bearer: &str) -> Result<Value> {
        let (principal, claims) = self.authenticate_any(slug, bearer).await?;
        let scopes = scopes_of(claims.scope.as_deref());
        if claims.client_id.is_none() || !scopes.iter().any(|s| s == "openid") {
            return Err(Error::Forbidden("insufficient_scope".into()));
        }
        let claims = self.user_claims(&principal.app, principal.user_id, &scopes, principal.org.as_ref()).await?;
        Ok(Value::Object(claims))
    }

    /// RFC 7009: revokes a refresh token or access token the client holds (the session
    /// behind either ends). Unknown tokens, and other clients', change nothing.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_revoke(
        &self,
        slug: &str,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<()> {
        let app = self.active_app(slug).await?;
        let client = self.authenticate_client(&app, p, basic, meta).await?;
        let token = p.token.as_deref().ok_or_else(|| OAuthError::request("token is required"))?;
        let sid = if token.starts_with(OIDC_REFRESH_PREFIX) {
            match self.store.refresh_token(app.id, &token_digest(token)).await? {
                Some(t) => Some(t.session_id),
                None => None,
            }
        } else {
            self.verified_user_token(&app, token).await.and_then(|c| Uuid::parse_str(&c.sid).ok())
        };
        let Some(sid) = sid else { return Ok(()) };
        let Some(grant) = self.store.oidc_grant(app.id, sid).await?.filter(|g| g.client_id == client.id) else {
            return Ok(());
        };
        let Some(session) = self.store.session(app.id, grant.session_id).await? else { return Ok(()) };
        let mut tx = self.write().await?;
        if tx.revoke_session(app.id, sid, now()).await? {
            let kind = user_kind(&app.slug);
            tx.record(
                app.id,
                Event::new("oidc.token_revoked", user_actor(&app.slug, session.user_id))
                    .subject(kind, session.user_id)
                    .session(sid)
                    .details(json!({"client_id": client.client_id})),
            );
        }
        tx.changed(Change::Session(sid));
        tx.commit().await?;
        Ok(())
    }

    /// RFC 7662, for confidential clients: whether a token of the app is active, and what
    /// it says.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_introspect(
        &self,
        slug: &str,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<Value> {
        let app = self.active_app(slug).await?;
        let client = self.authenticate_client(&app, p, basic, meta).await?;
        if !client.confidential {
            return Err(OAuthError::new(401, "invalid_client", "Only confidential clients may introspect tokens"));
        }
        let token = p.token.as_deref().ok_or_else(|| OAuthError::request("token is required"))?;
        let inactive = json!({"active": false});
        let issuer = self.issuer(&app.slug);
        if token.starts_with(OIDC_REFRESH_PREFIX) {
            let Some(t) = self.store.refresh_token(app.id, &token_digest(token)).await? else { return Ok(inactive) };
            let Some(grant) = self.store.oidc_grant(app.id, t.session_id).await? else { return Ok(inactive) };
            let session = self.store.session(app.id, t.session_id).await?;
            let Some(session) = session.filter(|s| s.is_live(now()) && t.rotated_at.is_none()) else {
                return Ok(inactive);
            };
            let owner = self.store.oidc_client_by_id(app.id, grant.client_id).await?;
            return Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": owner.map(|c| c.client_id),
                "sub": session.user_id.to_string(),
                "scope": grant.scopes.join(" "),
                "exp": session.expires_at.timestamp(),
                "iat": t.created_at.timestamp(),
                "iss": issuer,
                "sid": session.id.to_string(),
            }));
        }
        if let Some(claims) = self.verified_user_token(&app, token).await {
            return Ok(json!({
                "active": true,
                "token_type": "Bearer",
                "client_id": claims.client_id,
                "scope": claims.scope,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "sid": claims.sid,
            }));
        }
        if let Some(claims) = self.verified_client_token(&app, token).await {
            return Ok(json!({
                "active": true,
                "token_type": "Bearer",
                "client_id": claims.client_id,
                "scope": claims.scope,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
            }));
        }
        Ok(inactive)
    }

    /// A live end-user access token of the app (its session live too), or `None`.
    async fn verified_user_token(&self, app: &App, token: &str) -> Option<Claims> {
        let (_, claims) = self.authenticate_any(&app.slug, token).await.ok()?;
        Some(Claims::clone(&claims))
    }

    /// A live machine-client access token of the app, or `None`.
    async fn verified_client_token(&self, app: &App, token: &str) -> Option<ClientClaims> {
        let kid = tokens::kid_of(token).ok()?;
        let claims: ClientClaims = self
            .keys
            .with_verifier(self.store.as_ref(), app.id, &kid, |v| tokens::verify_payload(token, v, ACCESS_TOKEN_TYP))
            .await
            .ok()?;
        let live =
            claims.exp >= Utc::now().timestamp() && claims.iss == self.issuer(&app.slug) && claims.aud == app.slug;
        let client = self.store.oidc_client(app.id, &claims.client_id).await.ok()??;
        (live && client.confidential).then_some(claims)
    }

    /// RP-initiated logout: `id_token_hint` (one of this app's ID tokens, expired or not)
    /// names the client and the session; the session it names and the browser's session of
    /// the same user end. Answers where to go: the registered `post_logout_redirect_uri`
    /// (with `state`), or nothing (Rampart's signed-out page).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_logout(
        &self,
        slug: &str,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        client_id: Option<&str>,
        browser: Option<&Principal>,
    ) -> Result<std::result::Result<Logout, &'static str>> {
        let app = self.active_app(slug).await?;
        let Some(hint) = id_token_hint else { return Ok(Err("oauth-logout-hint")) };
        let Ok(kid) = tokens::kid_of(hint) else { return Ok(Err("oauth-logout-hint")) };
        let verified = self
            .keys
            .with_verifier(self.store.as_ref(), app.id, &kid, |v| {
                tokens::verify_payload::<IdTokenHint>(hint, v, ID_TOKEN_TYP)
            })
            .await;
        let Ok(claims) =
            verified.map_err(|_| ()).and_then(|c| if c.iss == self.issuer(&app.slug) { Ok(c) } else { Err(()) })
        else {
            return Ok(Err("oauth-logout-hint"));
        };
        if client_id.is_some_and(|id| id != claims.aud) {
            return Ok(Err("oauth-logout-hint"));
        }
        let client =
            if could_be_client_id(&claims.aud) { self.store.oidc_client(app.id, &claims.aud).await? } else { None };
        let Some(client) = client else { return Ok(Err("oauth-unknown-client")) };
        let redirect = match post_logout_redirect_uri {
            Some(uri) if client.post_logout_redirect_uris.iter().any(|u| u == uri) => {
                let mut params = Vec::new();
                if let Some(state) = state.filter(|s| !s.is_empty() && s.len() <= MAX_STATE) {
                    params.push(("state", state));
                }
                Some(if params.is_empty() { uri.to_owned() } else { with_query(uri, &params) })
            }
            Some(_) => return Ok(Err("oauth-bad-redirect-uri")),
            None => None,
        };
        let user_id = Uuid::parse_str(&claims.sub).ok();
        let mut ending: Vec<Uuid> = Vec::new();
        if let Some(sid) = claims.sid.as_deref().and_then(|s| Uuid::parse_str(s).ok()) {
            let grant = self.store.oidc_grant(app.id, sid).await?;
            if grant.is_some_and(|g| g.client_id == client.id) {
                ending.push(sid);
            }
        }
        let browser_ended = match browser.filter(|b| Some(b.user_id) == user_id) {
            Some(b) => {
                ending.push(b.session_id);
                true
            }
            None => false,
        };
        if let Some(user_id) = user_id {
            let mut tx = self.write().await?;
            for sid in ending {
                if tx.revoke_session(app.id, sid, now()).await? {
                    self.record_signed_out(&mut tx, &app, user_id, sid);
                }
                tx.changed(Change::Session(sid));
            }
            tx.commit().await?;
        }
        Ok(Ok(Logout { redirect, browser_ended }))
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
