//! The engine: the one place that issues tokens, authenticates bearers and authorises a
//! caller for an app. The REST API and the console both call it.

mod account;
mod activations;
mod api_keys;
mod apps;
mod audit;
mod auth;
mod browser;
mod cache;
mod caller;
mod contacts;
mod credentials;
mod federation;
mod issuer;
mod keyring;
mod licenses;
mod limits;
mod links;
mod mail;
mod manage;
mod members;
mod oidc;
mod oidc_clients;
mod orgs;
mod orgs_invites;
mod orgs_manage;
mod otp;
mod sessions;
mod signing;
mod transfer;
mod transfer_import;
mod transfer_seen;
mod users;
mod views;
mod waitlists;
mod webhooks;
mod write;

use std::sync::Arc;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use uuid::Uuid;

use crate::config::EngineConfig;
use crate::model::{App, Status};
use crate::store::{Notice, Store};
use crate::types::PLATFORM_SLUG;
use crate::{Error, Result};

pub use activations::{ActivatedLicense, Deactivated, Entitlement, LicenseVerification};
pub use api_keys::{ApiKeyView, NewApiKey, SIGNUP_SCOPES};
pub use apps::{AppPatch, Introspection, NewApp};
pub use audit::{event_view, AuditQuery, PAGE_MAX as AUDIT_PAGE_MAX};
pub use auth::SignupInput;
pub use browser::{
    BrowserSession, BrowserSignIn, BrowserSignup, SessionAnswer, SessionInfo, SessionUser, Subscription,
    BROWSER_TOKEN_TTL_SECONDS,
};
pub use cache::Change;
pub use caller::{is_api_key, Access, Caller, API_KEY_PREFIX};
pub use contacts::ContactView;
pub use credentials::{
    AppCredentials, CREDENTIAL_ID_PREFIX, CREDENTIAL_SECRET_PREFIX, DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS,
};
pub use federation::{usable_url, CallbackParams, OAuthDone, OAuthStart, FLOW_COOKIE};
pub use issuer::first_refresh_token;
pub use licenses::{LicenseQuery, NewLicense};
pub use links::{allowed_redirect, InviteInput, InviteView, LinkAnswer, Methods};
pub use mail::{MailPage, MailView};
pub use manage::{NewRole, RolePatch};
pub use members::{MemberInviteInput, RoleChoice, MEMBER_INVITE_PREFIX};
pub use oidc::{
    AuthorizeParams, AuthorizeStep, BasicCredentials, ConsentPrompt, Decision, Logout, OAuthError, OAuthTokens,
    TokenParams, UserInfo, AUTH_AFTER_CONTEXT,
};
pub use oidc_clients::{parse_redirect_uri, web_origin, OIDC_CLIENT_ID_PREFIX, OIDC_CLIENT_SECRET_PREFIX};
pub use orgs::{MemberView, OrgInput, OrgPatch, OrgView, ORG_PAGE_MAX};
pub use orgs_invites::{OrgInviteView, ORG_INVITE_PREFIX};
pub use orgs_manage::OrgPage;
pub use otp::{Destination, OtpSent, MAX_ATTEMPTS as OTP_MAX_ATTEMPTS};
pub use signing::{retirement_grace, KeyView, JWKS_MAX_AGE_SECONDS};
pub use transfer::{
    EmailLine, Export, FirebaseHashConfig, Header as TransferHeader, LineItem, LineSplitter, OrgLine, PhoneLine,
    UserLine, FORMAT as TRANSFER_FORMAT, MAX_LINE_BYTES,
};
pub use transfer_import::{Import, ImportSummary, LineFailure, BATCH as IMPORT_BATCH};
pub use users::{SessionView, UserPage, UserPatch, UserView};
pub use views::Profile;
pub use waitlists::Admission;
pub use webhooks::{DeliveryPage, DeliveryView, WebhookInput, WebhookPatch, WebhookSecret, WebhookView};

/// Who made a request: IP and user agent, kept on the session it opens.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// The request being served (its context, set by the HTTP layer), for paths that check
    /// a credential without being handed the request's meta.
    pub(crate) fn current() -> RequestMeta {
        let context = crate::audit::current_request();
        RequestMeta { ip: context.ip, user_agent: context.user_agent }
    }
}

/// An authenticated end-user (an account, when the app is `platform`).
#[derive(Debug, Clone)]
pub struct Principal {
    pub app: App,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role_id: Uuid,
    pub role: String,
    /// The organization the caller acts in (see [`Principal::active_org`]).
    pub org: Option<ActiveOrg>,
}

/// The organization a session acts in, with the user's role in it (its `org_role`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActiveOrg {
    pub id: Uuid,
    pub slug: String,
    /// The org role's name (one of the app's roles).
    pub role: String,
    #[serde(skip)]
    pub role_id: Uuid,
}

impl Principal {
    /// The organization the caller acts in, checked against the store: for a bearer, the one
    /// its `org` claim names, which is still its session's and of which the user is still a
    /// member with the role of its `org_role` claim (else the bearer is refused); for a browser
    /// cookie, its session's. `None` outside any organization. Features scoped to "the
    /// account context" (waitlists, entitlements) read it here.
    pub fn active_org(&self) -> Option<&ActiveOrg> {
        self.org.as_ref()
    }

    /// The id of [`Principal::active_org`].
    pub fn active_org_id(&self) -> Option<Uuid> {
        self.org.as_ref().map(|o| o.id)
    }
}

pub struct Engine {
    store: Arc<dyn Store>,
    config: EngineConfig,
    /// Derives refresh-token successors (see `Engine::refresh`).
    refresh_key: aws_lc_rs::hmac::Key,
    keys: Arc<keyring::KeyRing>,
    caches: Arc<cache::Caches>,
    listener: Option<tokio::task::AbortHandle>,
    /// Links audit events into their chains (see `audit.rs`).
    audit: Arc<audit::Sequencer>,
    sequencer: tokio::task::AbortHandle,
    /// Sends the mail queue (see `mail.rs`).
    mailer: Arc<mail::Mailer>,
    mail_worker: Option<tokio::task::AbortHandle>,
    /// Sends the webhook queue (see `webhooks.rs`), where this process sends queues.
    webhooks: Option<Arc<webhooks::Dispatcher>>,
    webhook_worker: Option<tokio::task::AbortHandle>,
    /// Keys the digests of one-time codes (see `otp.rs`).
    otp_key: aws_lc_rs::hmac::Key,
    /// Keys the CSRF tokens bound to browsers' CSRF cookies (see `browser.rs`).
    csrf_key: aws_lc_rs::hmac::Key,
    /// Rate limits and lockouts (see `limits.rs`).
    limits: crate::limits::Limiter,
    /// Sweeps counters and codes that no longer matter.
    sweeper: tokio::task::AbortHandle,
    /// External providers' HTTP client and discovery documents (see `federation/`).
    federation: federation::Federation,
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
        self.sequencer.abort();
        self.sweeper.abort();
        if let Some(worker) = &self.mail_worker {
            worker.abort();
        }
        if let Some(worker) = &self.webhook_worker {
            worker.abort();
        }
    }
}

/// Every ten minutes, removes the counters and one-time codes that no longer matter, and the
/// refresh tokens of sessions that ended over `ENDED_SESSION_TOKENS_DAYS` ago (every node
/// does; the deletes are idempotent).
async fn sweep(store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match store.sweep_counters(now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(removed = n, "swept counters and codes"),
            Err(e) => tracing::warn!(error = %e, "sweeping counters failed"),
        }
        prune_refresh_tokens(store.as_ref(), now() - TimeDelta::days(ENDED_SESSION_TOKENS_DAYS)).await;
    }
}

/// How long the refresh tokens of an ended session are kept: presented meanwhile, they are
/// told the session ended (`SESSION_REVOKED`, or expired) rather than that they are unknown.
const ENDED_SESSION_TOKENS_DAYS: i64 = 7;
/// Sessions whose tokens one transaction removes: a short hold of SQLite's one writer, which
/// refreshes wait for.
const PRUNE_SESSIONS: u32 = 200;

/// Batches one sweep prunes at most: the rest waits for the next sweep (20,000 sessions every
/// ten minutes).
const PRUNE_BATCHES: u32 = 100;

/// Removes the refresh tokens of the sessions that ended before `ended_before`, a batch at a
/// time (each rotation of a session adds a token).
async fn prune_refresh_tokens(store: &dyn Store, ended_before: DateTime<Utc>) {
    let mut pruned = 0;
    for _ in 0..PRUNE_BATCHES {
        match store.prune_refresh_tokens(ended_before, PRUNE_SESSIONS).await {
            Ok(n) => {
                pruned += n;
                if n < u64::from(PRUNE_SESSIONS) {
                    break;
                }
                tokio::task::yield_now().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "pruning refresh tokens failed");
                break;
            }
        }
    }
    if pruned > 0 {
        tracing::debug!(sessions = pruned, "pruned the refresh tokens of ended sessions");
    }
}

/// Now, at the millisecond precision both stores keep.
pub(crate) fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

impl Engine {
    /// Builds the engine and makes sure the reserved `platform` app (whose end-users are the
    /// accounts) exists with its signing key.
    pub async fn new(store: Arc<dyn Store>, config: EngineConfig) -> Result<Engine> {
        let caches = Arc::new(cache::Caches::default());
        // Other nodes' changes reach this node's caches through the store. While they may be
        // missed, the caches serve nothing.
        let listener = match store.subscribe().await? {
            Some(mut changes) => {
                let caches = caches.clone();
                let task = tokio::spawn(async move {
                    use futures_util::StreamExt;
                    while let Some(notice) = changes.next().await {
                        match notice {
                            Notice::Message(message) => caches.apply(cache::Change::decode(&message)),
                            Notice::Lost => caches.suspend(),
                            Notice::Listening => caches.resume(),
                        }
                    }
                    // Not expected: without messages, the caches stay off.
                    caches.suspend();
                });
                Some(task.abort_handle())
            }
            None => None,
        };
        let refresh_key = config.master_key.subkey("refresh-token successor")?;
        let audit = Arc::new(audit::Sequencer::new(store.clone(), config.master_key.subkey("audit chain head")?));
        let sequencer = tokio::spawn(audit.clone().run()).abort_handle();
        let mailer = Arc::new(mail::Mailer::new(store.clone(), config.mail.clone(), config.master_key.clone()));
        let mail_worker = config.mail.worker.then(|| tokio::spawn(mailer.clone().run()).abort_handle());
        let webhooks = match config.mail.worker {
            true => {
                let sender = crate::webhooks::Sender::new(config.outbound_reachable.clone())
                    .map_err(|e| Error::internal(anyhow::anyhow!("webhook client: {e}")))?;
                Some(Arc::new(webhooks::Dispatcher::new(
                    store.clone(),
                    config.master_key.clone(),
                    sender,
                    audit.clone(),
                    caches.clone(),
                    mailer.clone(),
                    config.public_url.clone(),
                )))
            }
            false => None,
        };
        let webhook_worker = webhooks.as_ref().map(|w| tokio::spawn(w.clone().run()).abort_handle());
        let limits = match &config.counters {
            Some(limiter) => limiter.clone(),
            None => crate::limits::Limiter::on_store(store.clone()),
        };
        let sweeper = tokio::spawn(sweep(store.clone())).abort_handle();
        let otp_key = config.master_key.subkey("one-time code digests")?;
        let csrf_key = config.master_key.subkey("csrf tokens")?;
        let federation = federation::Federation::new(config.outbound_reachable.clone())?;
        let engine = Engine {
            store,
            config,
            refresh_key,
            keys: caches.keys.clone(),
            caches,
            listener,
            audit,
            sequencer,
            mailer,
            mail_worker,
            webhooks,
            webhook_worker,
            otp_key,
            csrf_key,
            limits,
            sweeper,
            federation,
        };
        engine.ensure_platform_app().await?;
        crate::password::warm_up();
        Ok(engine)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn public_url(&self) -> &str {
        &self.config.public_url
    }

    /// The `iss` of the app's tokens.
    pub fn issuer(&self, slug: &str) -> String {
        format!("{}/{}", self.config.public_url, slug)
    }

    pub fn jwks_url(&self, slug: &str) -> String {
        format!("{}/{}/v1/.well-known/jwks.json", self.config.public_url, slug)
    }

    /// The app behind a slug in a URL; unknown slugs are `404`. Served from a short cache
    /// that every change to an app clears on every node: use it to answer requests, and
    /// `fresh_app` to read an app that is about to be written back.
    pub async fn app(&self, slug: &str) -> Result<App> {
        if let Some(app) = self.caches.app(slug) {
            return Ok(App::clone(&app));
        }
        let generation = self.caches.generation();
        let app = self.fresh_app(slug).await?;
        self.caches.put_app_if(generation, std::sync::Arc::new(app.clone()));
        Ok(app)
    }

    /// Whether `slug` names an app (from the cache, else the store), for labels that may
    /// name only real apps.
    pub async fn is_known_app(&self, slug: &str) -> bool {
        self.caches.has_app(slug) || self.app(slug).await.is_ok()
    }

    /// The app as stored now.
    pub(crate) async fn fresh_app(&self, slug: &str) -> Result<App> {
        self.store.app_by_slug(slug).await?.ok_or(Error::NotFound("App"))
    }

    async fn active_app(&self, slug: &str) -> Result<App> {
        let app = self.app(slug).await?;
        if app.status != Status::Active {
            return Err(Error::Forbidden("App is suspended".into()));
        }
        Ok(app)
    }

    pub(crate) fn require_platform(&self, account: &Principal) -> Result<()> {
        if account.app.slug != PLATFORM_SLUG {
            return Err(Error::Unauthenticated("An account token is required"));
        }
        Ok(())
    }

    /// The public keys of the app, as its JWKS publishes them.
    pub async fn jwks(&self, slug: &str) -> Result<Arc<serde_json::Value>> {
        let app = self.app(slug).await?;
        self.keys.jwks(self.store.as_ref(), app.id).await
    }

    /// The algorithm the app's tokens are signed with now (its active key's).
    pub async fn signing_alg(&self, app: &App) -> Result<crate::keys::SigningAlg> {
        Ok(self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?.alg())
    }
}
