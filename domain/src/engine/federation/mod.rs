//! Sign-in through external providers (seed 004's provider-first OAuth): the flow from
//! `auth/oauth/{provider}/authorize` to the provider and back to its `callback`, and the
//! identities it links to users.
//!
//! The authorize step sends the browser to the provider with a `state`, a `nonce` and a PKCE
//! S256 challenge; the three secrets (and where to go afterwards) travel in a short-lived
//! cookie sealed with the master key, limited to the callback's path, and the state's digest
//! is kept in the store until the callback spends it (once, on any node). The callback checks
//! the cookie and the state, exchanges the code (PKCE verifier included) with `openidconnect`
//! or `oauth2` over Rampart's own HTTP client, verifies the ID token (signature through the
//! provider's JWKS, issuer, audience, expiry, nonce) or, for plain OAuth 2.0 presets, reads
//! the user from the provider's user-info endpoint; then it signs the user in, creates one,
//! or links the identity to the signed-in user.

mod http;
mod identities;
mod providers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

pub use http::usable_url;
pub(crate) use providers::preset;

use super::audit::{user_actor, user_kind};
use super::browser::BrowserSignIn;
use super::issuer::AMR_FEDERATED;
use super::limits::Rule;
use super::{now, Engine, RequestMeta};
use crate::audit::Event;
use crate::crypto::{constant_time_eq, token_digest};
use crate::model::{App, Contact, ContactKind, Identity, OAuthProvider, Status, User};
use crate::store::StoreError;
use crate::tokens::TokenPair;
use crate::types::{Email, Username, PLATFORM_SLUG};
use crate::{Error, Result};

/// The cookie that carries a sign-in's secrets from `authorize` to `callback`.
pub const FLOW_COOKIE: &str = "oauth_flow";
/// How long a browser may take at the provider.
const FLOW_SECONDS: i64 = 600;
/// How long a provider's discovery document (with its JWKS) is kept.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);

type DiscoveredClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The HTTP client of provider calls and the discovery documents read lately.
pub(crate) struct Federation {
    http: http::ProviderHttp,
    discovered: Mutex<HashMap<String, (Instant, Arc<CoreProviderMetadata>)>>,
}

impl Federation {
    pub(crate) fn new(reachable: crate::net::Reachable) -> Result<Federation> {
        let http =
            http::ProviderHttp::new(reachable).map_err(|e| Error::internal(anyhow::anyhow!("provider client: {e}")))?;
        Ok(Federation { http, discovered: Mutex::new(HashMap::new()) })
    }
}

/// What the browser holds between `authorize` and `callback` (sealed: it cannot read it).
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    provider: Uuid,
    redirect_to: Option<String>,
    expires_at: i64,
    /// Linking to this signed-in user (and session) rather than signing in.
    link: Option<(Uuid, Uuid)>,
}

/// The start of a sign-in at a provider: where to send the browser, and the cookie it must
/// bring back to the callback.
#[derive(Debug, Clone)]
pub struct OAuthStart {
    pub location: String,
    pub cookie: String,
    pub cookie_path: String,
    pub max_age: i64,
    /// The provider posts its answer from its own site (`form_post`): the cookie must be
    /// `SameSite=None`.
    pub cross_site_post: bool,
}

/// What a provider sent back to the callback.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a callback ended.
#[derive(Debug)]
pub enum OAuthDone {
    /// An API caller's sign-in (no `redirect_to`): the token pair.
    Tokens(TokenPair),
    /// A browser's sign-in: its session cookie, and where it goes next.
    Browser { signed_in: Box<BrowserSignIn>, redirect_to: String },
    /// The identity is now linked to the signed-in user.
    Linked { provider: String },
}

/// Who the provider says the user is.
#[derive(Debug, Clone, Default)]
struct Claims {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    username: Option<String>,
}

fn state_invalid(why: &str) -> Error {
    Error::OAuthFailed {
        status: 400,
        code: "OAUTH_STATE_INVALID",
        message: format!("This sign-in cannot be completed ({why}); start it again"),
    }
}

fn not_verified(what: impl std::fmt::Display) -> Error {
    tracing::warn!(reason = %what, "a provider's answer did not verify");
    Error::OAuthFailed {
        status: 401,
        code: "OAUTH_VERIFICATION_FAILED",
        message: "The provider's answer could not be verified".into(),
    }
}

fn unreachable(what: impl std::fmt::Display) -> Error {
    tracing::warn!(reason = %what, "a provider could not be reached");
    Error::OAuthFailed {
        status: 502,
        code: "OAUTH_PROVIDER_UNAVAILABLE",
        message: "The provider could not be reached; try again later".into(),
    }
}

fn flow_context(slug: &str, provider: &str) -> String {
    format!("oauth flow\0{slug}\0{provider}")
}

/// The asymmetric algorithms an ID token may be signed with (never `none`, never a MAC).
fn allowed_algs() -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as A;
    vec![
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
        A::EdDsa,
    ]
}

impl Engine {
    /// `GET auth/oauth/{provider}/authorize`: a new sign-in at the provider.
    #[tracing::instrument(skip_all, fields(app = slug, provider = name))]
    pub async fn oauth_authorize(
        &self,
        slug: &str,
        name: &str,
        redirect_to: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<OAuthStart> {
        let app = self.federated_app(slug).await?;
        if !app.config.signin_enabled {
            return Err(Error::Forbidden("Sign-in is disabled for this app".into()));
        }
        let provider = self.live_provider(&app, name).await?;
        let redirect_to = super::allowed_redirect(&app, redirect_to)?;
        self.limit_ip(&app, Rule::LinksPerIp("oauth-start-ip"), meta).await?;
        self.start_flow(&app, &provider, redirect_to, None).await
    }

    /// Links the provider's identity to the signed-in user: the same trip to the provider,
    /// whose callback adds the identity instead of signing in.
    #[tracing::instrument(skip_all, fields(provider = name))]
    pub async fn oauth_link_start(&self, me: &super::Principal, name: &str) -> Result<OAuthStart> {
        let app = self.federated_app(&me.app.slug).await?;
        let provider = self.live_provider(&app, name).await?;
        self.start_flow(&app, &provider, None, Some((me.user_id, me.session_id))).await
    }

    async fn federated_app(&self, slug: &str) -> Result<App> {
        if slug == PLATFORM_SLUG {
            return Err(Error::NotFound("Provider"));
        }
        self.active_app(slug).await
    }

    async fn start_flow(
        &self,
        app: &App,
        provider: &OAuthProvider,
        redirect_to: Option<String>,
        link: Option<(Uuid, Uuid)>,
    ) -> Result<OAuthStart> {
        let preset = preset(&provider.kind).ok_or_else(|| Error::internal(anyhow::anyhow!("unknown provider kind")))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes: Vec<Scope> =
            provider.scopes.split_whitespace().filter(|s| *s != "openid").map(|s| Scope::new(s.to_owned())).collect();
        let (location, state, nonce) = if preset.oidc {
            let (client, _) = self.oidc_client(app, provider, false).await?;
            let mut request = client
                .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
                .add_scopes(scopes)
                .set_pkce_challenge(challenge);
            if preset.form_post {
                request = request.add_extra_param("response_mode", "form_post");
            }
            let (url, state, nonce) = request.url();
            (url, state, nonce)
        } else {
            let client = self.oauth2_client(app, provider)?;
            let (url, state) =
                client.authorize_url(CsrfToken::new_random).add_scopes(scopes).set_pkce_challenge(challenge).url();
            (url, state, Nonce::new_random())
        };
        let at = now();
        let expires_at = at + TimeDelta::seconds(FLOW_SECONDS);
        let mut tx = self.write().await?;
        tx.insert_oauth_state(app.id, &token_digest(state.secret()), expires_at).await?;
        tx.commit().await?;
        let flow = Flow {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            provider: provider.id,
            redirect_to,
            expires_at: expires_at.timestamp(),
            link,
        };
        let sealed = serde_json::to_vec(&flow).map_err(Error::internal)?;
        Ok(OAuthStart {
            location: location.to_string(),
            cookie: self.seal_for_browser(&sealed, &flow_context(&app.slug, &provider.name))?,
            cookie_path: format!("/{}/v1/auth/oauth/{}/callback", app.slug, provider.name),
            max_age: FLOW_SECONDS,
            cross_site_post: preset.form_post,
        })
    }

    /// `auth/oauth/{provider}/callback`: checks what came back against the browser's flow
    /// cookie, spends the state, verifies the provider's answer, then signs in (or links).
    /// Failures count against the caller's IP (`rate_limit_credential_failures_per_ip`); an
    /// IP past the limit is refused before anything is checked.
    #[tracing::instrument(skip_all, fields(app = slug, provider = name))]
    pub async fn oauth_callback(
        &self,
        slug: &str,
        name: &str,
        params: CallbackParams,
        flow_cookie: Option<&str>,
        session_cookie: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<OAuthDone> {
        let app = self.federated_app(slug).await?;
        let provider = self.live_provider(&app, name).await?;
        self.blocked(&app, Rule::OAuthFailuresPerIp, meta).await?;
        let done = self.finish_flow(&app, &provider, params, flow_cookie, session_cookie, meta).await;
        if let Err(e @ (Error::OAuthFailed { .. } | Error::Unauthenticated(_))) = &done {
            tracing::info!(app = %app.slug, provider = %provider.name, error = %e, "a sign-in through a provider failed");
            self.limit_ip(&app, Rule::OAuthFailuresPerIp, meta).await?;
        }
        done
    }

    async fn finish_flow(
        &self,
        app: &App,
        provider: &OAuthProvider,
        params: CallbackParams,
        flow_cookie: Option<&str>,
        session_cookie: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<OAuthDone> {
        if let Some(error) = params.error.as_deref() {
            let code: String =
                error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect::<String>();
            return Err(Error::OAuthFailed {
                status: if code == "access_denied" { 403 } else { 400 },
                code: "OAUTH_PROVIDER_ERROR",
                message: format!("{} did not sign you in ({code})", provider.display_name),
            });
        }
        let sealed = flow_cookie.ok_or_else(|| state_invalid("its cookie is missing"))?;
        let opened = self
            .open_from_browser(sealed, &flow_context(&app.slug, &provider.name))
            .ok_or_else(|| state_invalid("its cookie is not this sign-in's"))?;
        let flow: Flow = serde_json::from_slice(&opened).map_err(|_| state_invalid("its cookie is unreadable"))?;
        let state = params.state.as_deref().unwrap_or_default();
        if flow.provider != provider.id || !constant_time_eq(state.as_bytes(), flow.state.as_bytes()) {
            return Err(state_invalid("the state does not match"));
        }
        let at = now();
        if flow.expires_at <= at.timestamp() {
            return Err(state_invalid("it expired"));
        }
        let mut tx = self.write().await?;
        if !tx.consume_oauth_state(app.id, &token_digest(state), at).await? {
            return Err(state_invalid("the state was already used"));
        }
        tx.commit().await?;
        let code = params.code.filter(|c| !c.is_empty() && c.len() <= 4096).ok_or_else(|| state_invalid("no code"))?;
        let claims = self.claims_of(app, provider, code, &flow).await?;
        match flow.link {
            Some((user_id, session_id)) => {
                self.link_identity(app, provider, &claims, user_id, session_id, session_cookie).await
            }
            None => self.sign_in_with_identity(app, provider, claims, flow.redirect_to, meta).await,
        }
    }

    /// The provider's metadata, from the cache unless `fresh` or old.
    async fn discover(&self, provider: &OAuthProvider, fresh: bool) -> Result<(Arc<CoreProviderMetadata>, bool)> {
        let issuer = provider.issuer.clone().ok_or_else(|| Error::internal(anyhow::anyhow!("no issuer")))?;
        if !fresh {
            let cached = self.federation.discovered.lock().ok().and_then(|c| c.get(&issuer).cloned());
            if let Some((_, metadata)) = cached.filter(|(at, _)| at.elapsed() < DISCOVERY_TTL) {
                return Ok((metadata, true));
            }
        }
        let url = IssuerUrl::new(issuer.clone()).map_err(|e| unreachable(format!("issuer: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(url, &self.federation.http)
            .await
            .map_err(|e| unreachable(format!("discovery of {issuer}: {e}")))?;
        let metadata = Arc::new(metadata);
        if let Ok(mut cache) = self.federation.discovered.lock() {
            if cache.len() > 1000 {
                cache.clear();
            }
            cache.insert(issuer, (Instant::now(), metadata.clone()));
        }
        Ok((metadata, false))
    }

    /// An OpenID client of the provider, from its discovery document; and whether that came
    /// from the cache.
    async fn oidc_client(&self, app: &App, provider: &OAuthProvider, fresh: bool) -> Result<(DiscoveredClient, bool)> {
        let (metadata, cached) = self.discover(provider, fresh).await?;
        let secret = self.provider_secret(provider)?.map(ClientSecret::new);
        let redirect = RedirectUrl::new(self.oauth_callback_url(&app.slug, &provider.name)).map_err(Error::internal)?;
        let client = CoreClient::from_provider_metadata(
            CoreProviderMetadata::clone(&metadata),
            ClientId::new(provider.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect);
        Ok((client, cached))
    }

    fn oauth2_client(
        &self,
        app: &App,
        provider: &OAuthProvider,
    ) -> Result<
        oauth2::basic::BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
    > {
        let preset = preset(&provider.kind).ok_or_else(|| Error::internal(anyhow::anyhow!("unknown provider kind")))?;
        let endpoint = |given: &Option<String>, built_in: Option<&str>| {
            given.clone().or(built_in.map(str::to_owned)).ok_or_else(|| Error::internal(anyhow::anyhow!("no endpoint")))
        };
        let auth = oauth2::AuthUrl::new(endpoint(&provider.authorization_url, preset.authorization_url)?)
            .map_err(Error::internal)?;
        let token = oauth2::TokenUrl::new(endpoint(&provider.token_url, preset.token_url)?).map_err(Error::internal)?;
        let redirect =
            oauth2::RedirectUrl::new(self.oauth_callback_url(&app.slug, &provider.name)).map_err(Error::internal)?;
        let mut client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(provider.client_id.clone()))
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect);
        if let Some(secret) = self.provider_secret(provider)? {
            client = client.set_client_secret(oauth2::ClientSecret::new(secret));
        }
        Ok(client)
    }

    /// Exchanges the code and reads who the user is: the verified ID token (and the
    /// user-info endpoint when it lacks the email), or a plain OAuth 2.0 preset's user-info.
    async fn claims_of(&self, app: &App, provider: &OAuthProvider, code: String, flow: &Flow) -> Result<Claims> {
        let preset = preset(&provider.kind).ok_or_else(|| Error::internal(anyhow::anyhow!("unknown provider kind")))?;
        if !preset.oidc {
            let client = self.oauth2_client(app, provider)?;
            let token = client
                .exchange_code(oauth2::AuthorizationCode::new(code))
                .set_pkce_verifier(oauth2::PkceCodeVerifier::new(flow.verifier.clone()))
                .request_async(&self.federation.http)
                .await
                .map_err(|e| not_verified(format!("token request: {e}")))?;
            return self.oauth2_user(provider, token.access_token().secret()).await;
        }
        let (client, cached) = self.oidc_client(app, provider, false).await?;
        let request = client.exchange_code(AuthorizationCode::new(code)).map_err(|e| unreachable(e.to_string()))?;
        let response = request
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.federation.http)
            .await
            .map_err(|e| not_verified(format!("token request: {e}")))?;
        let id_token = response.id_token().ok_or_else(|| not_verified("the token response has no ID token"))?;
        let nonce = Nonce::new(flow.nonce.clone());
        let verify = |client: &DiscoveredClient| {
            let verifier = client.id_token_verifier().set_allowed_algs(allowed_algs());
            id_token.claims(&verifier, &nonce).cloned()
        };
        let verified = match verify(&client) {
            // Keys rotate: a signature that no cached key verifies is tried once against the
            // provider's keys as they are now.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) if cached => {
                let (fresh, _) = self.oidc_client(app, provider, true).await?;
                verify(&fresh)
            }
            other => other,
        }
        .map_err(|e| not_verified(format!("ID token: {e}")))?;
        let mut claims = Claims {
            subject: verified.subject().as_str().to_owned(),
            email: verified.email().map(|e| e.as_str().to_owned()),
            email_verified: verified.email_verified().unwrap_or(false),
            name: verified.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
            username: verified.preferred_username().map(|u| u.as_str().to_owned()),
        };
        if claims.email.is_none() {
            if let Ok(request) = client.user_info(AccessToken::new(response.access_token().secret().clone()), None) {
                let info: CoreUserInfoClaims = request
                    .request_async(&self.federation.http)
                    .await
                    .map_err(|e| not_verified(format!("user info: {e}")))?;
                if info.subject().as_str() != claims.subject {
                    return Err(not_verified("user info is about another subject"));
                }
                claims.email = info.email().map(|e| e.as_str().to_owned());
                claims.email_verified = info.email_verified().unwrap_or(false);
                claims.name =
                    claims.name.or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()));
            }
        }
        Ok(claims)
    }

    /// A plain OAuth 2.0 preset's user, from its user-info endpoint (GitHub: `/user`, and
    /// `/user/emails` for a verified primary address; Discord: `/users/@me`).
    async fn oauth2_user(&self, provider: &OAuthProvider, access_token: &str) -> Result<Claims> {
        let preset = preset(&provider.kind).ok_or_else(|| Error::internal(anyhow::anyhow!("unknown provider kind")))?;
        let url = provider
            .userinfo_url
            .clone()
            .or(preset.userinfo_url.map(str::to_owned))
            .ok_or_else(|| Error::internal(anyhow::anyhow!("no user-info endpoint")))?;
        let user = self.get_json(&url, access_token).await?;
        let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let subject = match user.get("id") {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(not_verified("user info without an id")),
        };
        match provider.kind.as_str() {
            "github" => {
                let mut claims = Claims {
                    subject,
                    email: text(&user, "email"),
                    email_verified: false,
                    name: text(&user, "name"),
                    username: text(&user, "login"),
                };
                // Which addresses GitHub verified is only in `/user/emails`.
                if let Ok(serde_json::Value::Array(emails)) =
                    self.get_json(&format!("{url}/emails"), access_token).await
                {
                    let primary = emails.iter().find(|e| e.get("primary").and_then(|p| p.as_bool()) == Some(true));
                    if let Some(primary) = primary {
                        claims.email = text(primary, "email");
                        claims.email_verified = primary.get("verified").and_then(|v| v.as_bool()) == Some(true);
                    }
                }
                Ok(claims)
            }
            _ => Ok(Claims {
                subject,
                email: text(&user, "email"),
                email_verified: user.get("verified").and_then(|v| v.as_bool()) == Some(true),
                name: text(&user, "global_name"),
                username: text(&user, "username"),
            }),
        }
    }

    async fn get_json(&self, url: &str, access_token: &str) -> Result<serde_json::Value> {
        let request = ::http::Request::get(url)
            .header(::http::header::AUTHORIZATION, format!("Bearer {access_token}"))
            .header(::http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| unreachable(format!("user info request: {e}")))?;
        let response = self.federation.http.send(request).await.map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(not_verified(format!("user info answered {}", response.status())));
        }
        serde_json::from_slice(response.body()).map_err(|e| not_verified(format!("user info: {e}")))
    }

    /// Signs in the user of this identity; a first sign-in links the verified email's user
    /// (when the provider allows auto-linking) or creates a user (when sign-up is open).
    async fn sign_in_with_identity(
        &self,
        app: &App,
        provider: &OAuthProvider,
        claims: Claims,
        redirect_to: Option<String>,
        meta: &RequestMeta,
    ) -> Result<OAuthDone> {
        let email = claims.email.as_deref().and_then(|e| Email::parse(e).ok());
        let known = self.store.identity_by_subject(app.id, provider.id, &claims.subject).await?;
        let at = now();
        let kind = user_kind(&app.slug);
        let mut tx = self.write().await?;
        let (user, linked, created) = match known {
            Some(identity) => {
                let user = self.store.user_by_id(app.id, identity.user_id).await?.ok_or(Error::SessionRevoked)?;
                tx.touch_identity(app.id, identity.id, email.as_ref().map(|e| e.as_str()), at).await?;
                (user, None, false)
            }
            None => {
                let holder = match &email {
                    Some(e) => self.store.user_by_verified_contact(app.id, ContactKind::Email, &e.normalized()).await?,
                    None => None,
                };
                let (user, created) = match holder {
                    Some(holder) if provider.auto_link && claims.email_verified => (holder, false),
                    Some(_) => {
                        return Err(Error::OAuthFailed {
                            status: 409,
                            code: "ACCOUNT_EXISTS",
                            message: format!(
                                "An account with this email already exists. Sign in the way you usually do, then \
                                 link {} from your account page.",
                                provider.display_name
                            ),
                        });
                    }
                    None => (self.new_federated_user(app, &mut tx, &claims, email.as_ref(), at).await?, true),
                };
                let identity = Identity {
                    id: Uuid::new_v4(),
                    app_id: app.id,
                    provider_id: provider.id,
                    user_id: user.id,
                    subject: claims.subject.clone(),
                    email: email.as_ref().map(|e| e.as_str().to_owned()),
                    created_at: at,
                    last_used_at: Some(at),
                };
                tx.insert_identity(&identity).await.map_err(|e| match e {
                    StoreError::Unique { .. } => Error::Conflict("This identity was just linked; sign in again".into()),
                    e => e.into(),
                })?;
                (user, Some(identity), created)
            }
        };
        if user.status != Status::Active {
            return Err(Error::Forbidden("This account is suspended".into()));
        }
        let role = self.role_name(app, user.role_id).await?;
        let new_device = !created && self.is_new_device(app.id, user.id, meta).await?;
        let (session, refresh) = self.open_session(&mut *tx, app, user.id, meta, at, AMR_FEDERATED).await?;
        let actor = user_actor(&app.slug, user.id);
        if created {
            tx.record(
                app.id,
                Event::new(format!("{kind}.signed_up"), actor.clone())
                    .subject(kind, user.id)
                    .session(session.id)
                    .details(
                        json!({"username": user.username, "role": role, "method": "oauth", "provider": provider.name}),
                    ),
            );
        }
        if let Some(identity) = &linked {
            tx.record(
                app.id,
                Event::new("identity.linked", actor.clone()).subject(kind, user.id).session(session.id).details(
                    json!({
                        "identity_id": identity.id,
                        "provider": provider.name,
                        "how": if created { "sign_up" } else { "verified_email" },
                    }),
                ),
            );
        }
        tx.record(
            app.id,
            Event::new(format!("{kind}.signed_in"), actor).subject(kind, user.id).session(session.id).details(json!({
                "method": "oauth",
                "provider": provider.name,
                "new_device": new_device,
            })),
        );
        tx.commit().await?;
        let pair = self.token_pair(app, user.id, &role, None, session.id, refresh).await?;
        match redirect_to {
            None => Ok(OAuthDone::Tokens(pair)),
            Some(redirect_to) => {
                let signed_in = self.browser_cookie_from_tokens(&app.slug, &pair).await?;
                Ok(OAuthDone::Browser { signed_in: Box::new(signed_in), redirect_to })
            }
        }
    }

    /// A user made by its first sign-in through a provider: no password; its email verified
    /// only when the provider says so.
    async fn new_federated_user(
        &self,
        app: &App,
        tx: &mut super::write::Write<'_>,
        claims: &Claims,
        email: Option<&Email>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<User> {
        if !app.config.signup_enabled || app.config.signup_requires_pak {
            return Err(Error::SignupDisabled);
        }
        let role =
            self.store.role_by_name(app.id, &app.config.signup_default_role).await?.ok_or_else(|| {
                Error::internal(anyhow::anyhow!("signup_default_role is missing in app {}", app.slug))
            })?;
        let base = username_base(claims, email);
        let mut username = None;
        for attempt in 0..5 {
            use rand::Rng;
            let candidate = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}-{:06}", rand::thread_rng().gen_range(0..1_000_000))
            };
            let Ok(parsed) = Username::parse(&candidate) else { continue };
            if self.store.user_by_username(app.id, parsed.as_str()).await?.is_none() {
                username = Some(parsed);
                break;
            }
        }
        let username = username.ok_or_else(|| Error::Conflict("Could not pick a free username; try again".into()))?;
        let display: String = claims
            .name
            .clone()
            .or_else(|| claims.username.clone())
            .unwrap_or_else(|| username.as_str().to_owned())
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let user = User {
            id: Uuid::new_v4(),
            app_id: app.id,
            username: username.as_str().to_owned(),
            display_name: if display.trim().is_empty() { username.as_str().to_owned() } else { display },
            password_hash: None,
            role_id: role.id,
            status: Status::Active,
            created_at: at,
            updated_at: at,
        };
        tx.insert_user(&user).await.map_err(|e| match e {
            StoreError::Unique { .. } => Error::Conflict("Could not pick a free username; try again".into()),
            e => e.into(),
        })?;
        if let Some(email) = email {
            let verified_at = claims.email_verified.then_some(at);
            tx.insert_contact(&Contact::primary_email(&user, email.as_str(), verified_at)).await.map_err(
                |e| match e {
                    StoreError::Unique { .. } => Error::Conflict("This email was just claimed; sign in again".into()),
                    e => e.into(),
                },
            )?;
        }
        Ok(user)
    }

    /// Links the identity to the user who started the link from its account, while that
    /// browser's session is still the one that started it.
    async fn link_identity(
        &self,
        app: &App,
        provider: &OAuthProvider,
        claims: &Claims,
        user_id: Uuid,
        session_id: Uuid,
        session_cookie: Option<&str>,
    ) -> Result<OAuthDone> {
        let cookie = session_cookie.ok_or(Error::Unauthenticated("Sign in again to link an account"))?;
        let session = self
            .browser_session(&app.slug, cookie)
            .await
            .map_err(|_| Error::Unauthenticated("Sign in again to link an account"))?;
        if session.principal.user_id != user_id || session.principal.session_id != session_id {
            return Err(state_invalid("another session started it"));
        }
        let kind = user_kind(&app.slug);
        let taken = |message: String| Error::OAuthFailed { status: 409, code: "IDENTITY_TAKEN", message };
        if let Some(existing) = self.store.identity_by_subject(app.id, provider.id, &claims.subject).await? {
            if existing.user_id == user_id {
                return Ok(OAuthDone::Linked { provider: provider.name.clone() });
            }
            return Err(taken(format!("This {} account is linked to another user", provider.display_name)));
        }
        let at = now();
        let identity = Identity {
            id: Uuid::new_v4(),
            app_id: app.id,
            provider_id: provider.id,
            user_id,
            subject: claims.subject.clone(),
            email: claims.email.as_deref().and_then(|e| Email::parse(e).ok()).map(|e| e.as_str().to_owned()),
            created_at: at,
            last_used_at: None,
        };
        let mut tx = self.write().await?;
        tx.insert_identity(&identity).await.map_err(|e| match e {
            StoreError::Unique { .. } => taken(format!(
                "A {} account is already linked to you, or this one to someone else; unlink it first",
                provider.display_name
            )),
            e => e.into(),
        })?;
        tx.record(
            app.id,
            Event::new("identity.linked", user_actor(&app.slug, user_id))
                .subject(kind, user_id)
                .session(session_id)
                .details(json!({"identity_id": identity.id, "provider": provider.name, "how": "account"})),
        );
        tx.commit().await?;
        Ok(OAuthDone::Linked { provider: provider.name.clone() })
    }
}

/// A username for a new user: the provider's username, else the email's local part.
fn username_base(claims: &Claims, email: Option<&Email>) -> String {
    let raw = claims
        .username
        .clone()
        .or_else(|| email.map(|e| e.as_str().split('@').next().unwrap_or_default().to_owned()))
        .unwrap_or_default();
    let base: String =
        raw.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(30).collect();
    let base = base.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_lowercase();
    if base.len() < 3 {
        format!("user{base}")
    } else {
        base
    }
}
