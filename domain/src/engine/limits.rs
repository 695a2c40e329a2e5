//! The engine's side of brute-force protection: which rule counts what, with the app's
//! numbers (its config), in counters every node shares (`crate::limits`). Lockouts count a
//! user's consecutive failed passwords.

use uuid::Uuid;

use super::audit::user_kind;
use super::{now, Engine, RequestMeta};
use crate::audit::Event;
use crate::limits::{ip_key, Window};
use crate::model::App;
use crate::Result;

/// A rate limit, by what it protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    SigninPerIp,
    /// Per account (or per identifier nobody holds).
    SigninPerIdentifier,
    OtpPerDestination,
    OtpPerIp,
    /// Mailed links to one address.
    LinksPerDestination,
    /// Requests from one IP to one link or lookup endpoint (named, each its own count).
    LinksPerIp(&'static str),
    RedeemPerIp,
    CredentialFailuresPerIp,
    /// Failed callbacks of sign-ins through external providers.
    OAuthFailuresPerIp,
}

impl Rule {
    fn name(self) -> &'static str {
        match self {
            Rule::SigninPerIp => "signin-ip",
            Rule::SigninPerIdentifier => "signin-id",
            Rule::OtpPerDestination => "otp-to",
            Rule::OtpPerIp => "otp-ip",
            Rule::LinksPerDestination => "links-to",
            Rule::LinksPerIp(endpoint) => endpoint,
            Rule::RedeemPerIp => "redeem-ip",
            Rule::CredentialFailuresPerIp => "cred-ip",
            Rule::OAuthFailuresPerIp => "oauth-ip",
        }
    }

    fn limit(self, app: &App) -> i64 {
        let c = &app.config;
        match self {
            Rule::SigninPerIp => c.rate_limit_signin_per_ip,
            Rule::SigninPerIdentifier => c.rate_limit_signin_per_identifier,
            Rule::OtpPerDestination => c.rate_limit_otp_per_destination,
            Rule::OtpPerIp => c.rate_limit_otp_per_ip,
            Rule::LinksPerDestination => c.rate_limit_links_per_destination,
            Rule::LinksPerIp(_) => c.rate_limit_links_per_ip,
            Rule::RedeemPerIp => c.rate_limit_redeem_per_ip,
            Rule::CredentialFailuresPerIp | Rule::OAuthFailuresPerIp => c.rate_limit_credential_failures_per_ip,
        }
    }
}

/// The app's window for `rule`, and the bucket that counts `key` under it.
fn counted(app: &App, rule: Rule, key: &str) -> (Window, String) {
    let window = Window { limit: rule.limit(app), window_seconds: app.config.rate_limit_window_seconds };
    (window, format!("{}:{}:{key}", app.id, rule.name()))
}

fn lock_bucket(app_id: Uuid, user_id: Uuid) -> String {
    format!("{app_id}:lock:{user_id}")
}

impl Engine {
    /// Counts one request against `rule` for `key` (see `crate::limits` for keys);
    /// `429 RATE_LIMIT_EXCEEDED` past the app's limit.
    pub(crate) async fn limit(&self, app: &App, rule: Rule, key: &str) -> Result<()> {
        let (window, bucket) = counted(app, rule, key);
        let outcome = self.limits.hit(&bucket, window, now()).await;
        if let Err(crate::Error::RateLimited { .. }) = &outcome {
            tracing::info!(app = %app.slug, rule = rule.name(), "rate limit reached");
            crate::telemetry::rate_limited(rule.name());
        }
        outcome
    }

    /// [`Engine::limit`] for the request's IP.
    pub(crate) async fn limit_ip(&self, app: &App, rule: Rule, meta: &RequestMeta) -> Result<()> {
        self.limit(app, rule, &ip_key(meta.ip.as_deref())).await
    }

    /// Whether the user is locked out of password sign-in now, and how many failures it has
    /// in a row.
    pub(crate) async fn lockout(&self, app: &App, user_id: Uuid) -> Result<(bool, i64)> {
        let threshold = app.config.lockout_threshold;
        if threshold == 0 {
            return Ok((false, 0));
        }
        let (failures, _) = self.limits.failures(&lock_bucket(app.id, user_id), now()).await?;
        Ok((failures >= threshold, failures))
    }

    /// A wrong password for the user: one more failure in a row, and the lock when that makes
    /// the threshold (recorded once, when it closes).
    pub(crate) async fn password_failed(&self, app: &App, user_id: Uuid) -> Result<()> {
        let threshold = app.config.lockout_threshold;
        if threshold == 0 {
            return Ok(());
        }
        let failures = self.limits.fail(&lock_bucket(app.id, user_id), app.config.lockout_seconds, now()).await?;
        if failures == threshold {
            let kind = user_kind(&app.slug);
            let mut tx = self.write().await?;
            tx.record(
                app.id,
                Event::new(format!("{kind}.locked_out"), crate::audit::Actor::system()).subject(kind, user_id).details(
                    serde_json::json!({
                        "failures": failures,
                        "lockout_seconds": app.config.lockout_seconds,
                    }),
                ),
            );
            tx.commit().await?;
            tracing::warn!(app = %app.slug, user = %user_id, "account locked after failed sign-ins");
        }
        Ok(())
    }

    /// The user got in (or proved they own the account): failures in a row start again.
    pub(crate) async fn clear_lockout(&self, app: &App, user_id: Uuid) -> Result<()> {
        if app.config.lockout_threshold == 0 {
            return Ok(());
        }
        self.limits.clear(&lock_bucket(app.id, user_id)).await
    }

    /// A failed credential check (app secret, API key) from the request's IP: counted, and
    /// `429` once there are too many.
    pub(crate) async fn credential_failed(&self, app: &App, meta: &RequestMeta) -> Result<()> {
        self.limit_ip(app, Rule::CredentialFailuresPerIp, meta).await
    }

    /// `429` when the request's IP is already past its failed credential checks: asked
    /// before checking, so a blocked IP learns nothing from further guesses.
    pub(crate) async fn credentials_blocked(&self, app: &App, meta: &RequestMeta) -> Result<()> {
        self.blocked(app, Rule::CredentialFailuresPerIp, meta).await
    }

    /// `429` when the request's IP is already past `rule`'s limit (nothing counted).
    pub(crate) async fn blocked(&self, app: &App, rule: Rule, meta: &RequestMeta) -> Result<()> {
        let (window, bucket) = counted(app, rule, &ip_key(meta.ip.as_deref()));
        let outcome = self.limits.check(&bucket, window, now()).await;
        if let Err(crate::Error::RateLimited { .. }) = &outcome {
            crate::telemetry::rate_limited(rule.name());
        }
        outcome
    }
}
