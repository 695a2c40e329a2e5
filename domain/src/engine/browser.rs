//! Browser sessions: the `session` cookie of the hosted pages and of seed 003's cookie API.
//! A cookie names a Rampart session (so every revocation ends it at once), lasts
//! `session_cookie_ttl_seconds`, is renewed when used near its end, and never outlives
//! `session_max_lifetime_seconds` from its sign-in. Also the CSRF tokens bound to a
//! browser's CSRF cookie, and which origins an app trusts.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;
use serde::Serialize;

use super::cache::Change;
use super::{now, Engine, Principal, RequestMeta};
use crate::crypto::{b64url, random_token};
use crate::model::{App, UserProfile};
use crate::tokens::TokenPair;
use crate::types::{Email, Username};
use crate::{Error, Result};

/// Seed 003's JWT for API access lasts an hour, whatever the app's access-token lifetime.
pub const BROWSER_TOKEN_TTL_SECONDS: i64 = 3600;
/// Every CSRF cookie starts with this.
const CSRF_PREFIX: &str = "csrf_";

/// A browser signed in: its session, the cookie that names it, and when that ends.
#[derive(Debug, Clone)]
pub struct BrowserSignIn {
    pub principal: Principal,
    pub cookie: String,
    pub expires_at: DateTime<Utc>,
}

/// What seed 003's `sign-up/email` takes; the hosted sign-up page may also name a username.
#[derive(Debug)]
pub struct BrowserSignup {
    pub email: String,
    pub password: SecretString,
    pub name: Option<String>,
    pub username: Option<String>,
}

/// A live browser session; `renewed` when this use moved its end (the cookie's `Max-Age`
/// should follow).
#[derive(Debug, Clone)]
pub struct BrowserSession {
    pub principal: Principal,
    pub expires_at: DateTime<Utc>,
    pub renewed: bool,
}

/// Seed 003's `{user, session, subscription}`, field names as the seed shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionAnswer {
    pub user: SessionUser,
    pub session: SessionInfo,
    pub subscription: Subscription,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub id: String,
    pub email: Option<String>,
    pub name: String,
    pub email_verified: bool,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub user_id: String,
    pub active_organization_id: Option<String>,
    #[serde(with = "crate::time_format")]
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// Derived from the licenses active for the user or its active organization (see
/// `Engine::entitlements`): the newest one's product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    #[serde(rename = "isSubscribed")]
    pub is_subscribed: bool,
    #[serde(rename = "productId")]
    pub product_id: Option<String>,
}

impl Engine {
    /// Email (verified, or unverified and held by one user) or username + password; opens a
    /// session and binds a new cookie to it (a cookie planted before cannot ride it). An
    /// unverified address gets a new verification link, as seed 003 says.
    pub async fn browser_sign_in(
        &self,
        slug: &str,
        identifier: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<BrowserSignIn> {
        let (_, principal) = self.signin_by(slug, identifier, password, meta, true).await?;
        let signed_in = self.browser_cookie(principal).await?;
        self.remind_to_verify(&signed_in.principal).await?;
        Ok(signed_in)
    }

    /// Seed 003's sign-up: a username from the email unless one is given, the display name
    /// from `name`; a verification link is always sent.
    pub async fn browser_sign_up(&self, slug: &str, input: BrowserSignup, meta: &RequestMeta) -> Result<BrowserSignIn> {
        let email = Email::parse(&input.email)?;
        let username = match input.username {
            Some(username) => username,
            None => self.free_username(slug, email.as_str()).await?,
        };
        let signup = super::SignupInput {
            email: input.email,
            username,
            password: input.password,
            display_name: input.name.filter(|n| !n.trim().is_empty()),
            email_verified: false,
            api_key: None,
        };
        let (_, principal) = self.signup_session(slug, signup, meta).await.map_err(|e| match e {
            Error::UserExists(_) => Error::UserExists("User with this email already exists".into()),
            e => e,
        })?;
        let signed_in = self.browser_cookie(principal).await?;
        if !signed_in.principal.app.config.verify_email_on_signup {
            self.remind_to_verify(&signed_in.principal).await?;
        }
        Ok(signed_in)
    }

    /// A browser cookie for a session opened another way (magic link, one-time code, an
    /// accepted invite): the session takes the browser lifetimes from now.
    pub async fn browser_cookie_from_tokens(&self, slug: &str, pair: &TokenPair) -> Result<BrowserSignIn> {
        let principal = self.authenticate(slug, &pair.access_token).await?;
        self.browser_cookie(principal).await
    }

    async fn browser_cookie(&self, principal: Principal) -> Result<BrowserSignIn> {
        let config = &principal.app.config;
        let expires_at =
            now() + TimeDelta::seconds(config.session_cookie_ttl_seconds.min(config.session_max_lifetime_seconds));
        let cookie = self.bind_cookie(&principal, Some(expires_at)).await?;
        Ok(BrowserSignIn { principal, cookie, expires_at })
    }

    /// A verification link for the principal's primary email when it is unverified; a
    /// refusal (already verified, too many links lately) changes nothing of the sign-in.
    async fn remind_to_verify(&self, principal: &Principal) -> Result<()> {
        match self.send_verification_email(principal).await {
            Ok(()) | Err(Error::Conflict(_) | Error::InvalidRequest(_) | Error::RateLimited { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A username no one in the app has, from the email's local part.
    async fn free_username(&self, slug: &str, email: &str) -> Result<String> {
        use rand::Rng;
        let app = self.active_app(slug).await?;
        let local = email.split('@').next().unwrap_or_default();
        let base: String =
            local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(30).collect();
        let base = base.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_lowercase();
        let base = if base.len() < 3 { format!("user{base}") } else { base };
        for attempt in 0..5 {
            let candidate = match attempt {
                0 => base.clone(),
                _ => format!("{base}-{:06}", rand::thread_rng().gen_range(0..1_000_000)),
            };
            let Ok(username) = Username::parse(&candidate) else { continue };
            if self.store.user_by_username(app.id, username.as_str()).await?.is_none() {
                return Ok(username.as_str().to_owned());
            }
        }
        Err(Error::Conflict("Could not pick a free username; try again".into()))
    }

    /// The live session a browser's cookie names. Used within `session_cookie_renew_within_seconds`
    /// of its end, it is renewed for another `session_cookie_ttl_seconds`, never past
    /// `session_max_lifetime_seconds` after its sign-in.
    pub async fn browser_session(&self, slug: &str, cookie: &str) -> Result<BrowserSession> {
        let principal = self.cookie_session(slug, cookie, TimeDelta::MAX).await?;
        let live = self.cached_session(&principal.app, principal.session_id).await?;
        let config = &principal.app.config;
        let at = now();
        let renew_within = TimeDelta::seconds(config.session_cookie_renew_within_seconds);
        if config.session_cookie_renew_within_seconds == 0 || live.expires_at - at > renew_within {
            return Ok(BrowserSession { principal, expires_at: live.expires_at, renewed: false });
        }
        let session = self.store.session(principal.app.id, principal.session_id).await?.ok_or(Error::SessionRevoked)?;
        let cap = session.created_at + TimeDelta::seconds(config.session_max_lifetime_seconds);
        let until = (at + TimeDelta::seconds(config.session_cookie_ttl_seconds)).min(cap);
        if until <= live.expires_at {
            return Ok(BrowserSession { principal, expires_at: live.expires_at, renewed: false });
        }
        let mut tx = self.write().await?;
        let extended = tx.extend_session(principal.app.id, principal.session_id, at, until).await?;
        tx.changed(Change::Session(principal.session_id));
        tx.commit().await?;
        if !extended {
            // Revoked or renewed by a racing request meanwhile: read it as it is now.
            let live = self.cached_session(&principal.app, principal.session_id).await?;
            return Ok(BrowserSession { principal, expires_at: live.expires_at, renewed: false });
        }
        Ok(BrowserSession { principal, expires_at: until, renewed: true })
    }

    /// Seed 003's `get-session`: the user, the session (with where it was opened) and the
    /// subscription.
    pub async fn session_answer(&self, principal: &Principal) -> Result<SessionAnswer> {
        let app = &principal.app;
        let found = self.store.user_profile(app.id, principal.user_id).await?;
        let UserProfile { user, email, email_verified_at, .. } = found.ok_or(Error::SessionRevoked)?;
        let session = self.store.session(app.id, principal.session_id).await?.ok_or(Error::SessionRevoked)?;
        let subscription = self.subscription(app, user.id, principal.active_org_id()).await?;
        Ok(SessionAnswer {
            user: SessionUser {
                id: user.id.to_string(),
                email,
                name: user.display_name,
                email_verified: email_verified_at.is_some(),
                created_at: user.created_at,
                updated_at: user.updated_at,
            },
            session: SessionInfo {
                id: session.id.to_string(),
                user_id: session.user_id.to_string(),
                active_organization_id: principal.active_org_id().map(|id| id.to_string()),
                expires_at: session.expires_at,
                ip_address: session.ip,
                user_agent: session.user_agent,
            },
            subscription,
        })
    }

    /// Seed 003's `POST token`: an hour's JWT of the app for the browser's session,
    /// verifiable through the app's JWKS like any access token.
    pub async fn browser_token(&self, principal: &Principal) -> Result<String> {
        let (app, role, org) = (&principal.app, principal.role.as_str(), principal.org.as_ref());
        self.access_token(app, principal.user_id, role, org, principal.session_id, BROWSER_TOKEN_TTL_SECONDS, None)
            .await
    }

    /// A new CSRF cookie value for a browser that has none.
    pub fn new_csrf_cookie(&self) -> String {
        random_token(CSRF_PREFIX)
    }

    /// The CSRF token bound to a browser's CSRF cookie in one app: an HMAC, nothing stored.
    pub fn csrf_token(&self, slug: &str, csrf_cookie: &str) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.csrf_key, format!("{slug}\0{csrf_cookie}").as_bytes());
        b64url(tag.as_ref())
    }

    /// Whether `token` is the one bound to this CSRF cookie in this app (constant time).
    pub fn csrf_token_valid(&self, slug: &str, csrf_cookie: &str, token: &str) -> bool {
        if !csrf_cookie.starts_with(CSRF_PREFIX) || csrf_cookie.len() > 100 || token.len() > 100 {
            return false;
        }
        let expected = self.csrf_token(slug, csrf_cookie);
        crate::crypto::constant_time_eq(expected.as_bytes(), token.as_bytes())
    }

    /// Whether pages of `origin` (as a browser sends it in `Origin`) may make
    /// cookie-authenticated writes to the app: Rampart's own origin, the app's
    /// `allowed_origins`, and the origins of its allowed redirect URLs.
    pub fn origin_allowed(&self, app: &App, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let own = shared::config::origin_of(self.public_url());
        own.as_deref() == Some(origin.as_str())
            || app.config.allowed_origins.contains(&origin)
            || app.config.allowed_redirect_urls.iter().any(|u| shared::config::origin_of(u).as_deref() == Some(&origin))
    }
}
