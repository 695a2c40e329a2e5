//! Who calls the management API: an account (through its membership role) or an app's API
//! key (through its scopes). `Engine::authorize` is the one place either is checked.

use chrono::TimeDelta;

use super::{now, Engine, Principal};
use crate::crypto::token_digest;
use crate::model::{ApiKey, App, Role};
use crate::{Error, Result};

/// The prefix every API key starts with, so a bearer is recognisably one.
pub const API_KEY_PREFIX: &str = "rk_";

#[derive(Debug, Clone)]
pub enum Caller {
    Account(Principal),
    ApiKey { key: ApiKey, app: App },
}

/// What `authorize` found: the app, and the caller's role on it (accounts only).
#[derive(Debug, Clone)]
pub struct Access {
    pub app: App,
    pub role: Option<Role>,
}

impl Access {
    /// Whether the caller itself holds `permission`, so it may hand it on (to a role or a
    /// key): an account through its role, a key through its scopes.
    pub fn holds(&self, caller: &Caller, permission: &str) -> bool {
        match (&self.role, caller) {
            (Some(role), _) => role.permissions.iter().any(|p| p == permission),
            (None, Caller::ApiKey { key, .. }) => key.scopes.iter().any(|s| s == permission),
            (None, Caller::Account(_)) => false,
        }
    }

    /// A caller may put someone in a role (a user's role, the target of a reassignment, the
    /// role sign-ups get) only when it holds every management permission of that role
    /// itself: otherwise `user.update` would be a way to make anyone, oneself included, an
    /// owner.
    pub fn may_assign(&self, caller: &Caller, role: &Role) -> Result<()> {
        let missing = role
            .permissions
            .iter()
            .find(|p| crate::permissions::MANAGEMENT.contains(&p.as_str()) && !self.holds(caller, p));
        match missing {
            Some(p) => Err(Error::Forbidden(format!(
                "You cannot assign the role {}: it holds {p}, which you do not",
                role.name
            ))),
            None => Ok(()),
        }
    }
}

pub fn is_api_key(bearer: &str) -> bool {
    bearer.starts_with(API_KEY_PREFIX)
}

impl Engine {
    /// A management caller from a bearer: an API key (`rk_…`) or an account access token.
    pub async fn caller(&self, bearer: &str) -> Result<Caller> {
        if is_api_key(bearer) {
            let (key, app) = self.api_key(bearer).await?;
            Ok(Caller::ApiKey { key, app })
        } else {
            Ok(Caller::Account(self.authenticate(crate::types::PLATFORM_SLUG, bearer).await?))
        }
    }

    /// A live API key and its app. Recording its use is throttled to once a minute.
    /// Wrong keys count against the caller's IP (`rate_limit_credential_failures_per_ip` of
    /// the `platform` app: a wrong key names no app); past the limit every key is refused
    /// with `429` before it is looked up.
    pub async fn api_key(&self, secret: &str) -> Result<(ApiKey, App)> {
        let meta = super::RequestMeta::current();
        let platform = self.app(crate::types::PLATFORM_SLUG).await?;
        self.credentials_blocked(&platform, &meta).await?;
        let at = now();
        let key = self.store.api_key_by_digest(&token_digest(secret)).await?.filter(|k| k.is_live(at));
        let app = match &key {
            Some(key) => self.store.app_by_id(key.app_id).await?,
            None => None,
        };
        let (Some(key), Some(app)) = (key, app) else {
            self.credential_failed(&platform, &meta).await?;
            return Err(Error::Unauthenticated("Invalid API key"));
        };
        if key.last_used_at.is_none_or(|t| at - t > TimeDelta::seconds(60)) {
            let mut tx = self.write().await?;
            tx.touch_api_key(app.id, key.id, at).await?;
            // As often as its use is recorded on the key: at most once a minute.
            tx.record(
                app.id,
                crate::audit::Event::new("api_key.used", crate::audit::Actor::api_key(key.id))
                    .subject("api_key", key.id)
                    .details(serde_json::json!({"prefix": key.prefix})),
            );
            tx.commit().await?;
        }
        Ok((key, app))
    }

    /// The single authorisation point for managing an app: an account needs a membership
    /// whose role holds `permission`; an API key must belong to the app and carry it as a
    /// scope. Callers with no standing on the app learn nothing (`404`).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn authorize(&self, caller: &Caller, slug: &str, permission: &str) -> Result<Access> {
        match caller {
            Caller::Account(account) => {
                self.require_platform(account)?;
                // Fresh, not cached: what management reads it may write back.
                let app = self.fresh_app(slug).await?;
                let role = self.store.member_role(app.id, account.user_id).await?.ok_or(Error::NotFound("App"))?;
                if !role.permissions.iter().any(|p| p == permission) {
                    return Err(Error::Forbidden(format!("Missing permission {permission}")));
                }
                Ok(Access { app, role: Some(role) })
            }
            Caller::ApiKey { key, app } => {
                if app.slug != slug {
                    return Err(Error::NotFound("App"));
                }
                if !key.scopes.iter().any(|s| s == permission) {
                    return Err(Error::Forbidden(format!("API key lacks the scope {permission}")));
                }
                // `api_key` loaded the app for this very request.
                Ok(Access { app: app.clone(), role: None })
            }
        }
    }
}
