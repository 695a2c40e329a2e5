//! The console's view of an app's API keys: list, create (the secret shown once), revoke.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: String,
}

/// A key just created, with its secret: shown once, then gone.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshApiKey {
    pub app: String,
    pub name: String,
    pub secret: String,
}

impl std::fmt::Debug for FreshApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshApiKey").field("app", &self.app).field("name", &self.name).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeysView {
    pub keys: Vec<ApiKeyInfo>,
    /// The scopes this account can give a key: those its own role holds.
    pub grantable_scopes: Vec<String>,
    /// The key created by a form posted without JavaScript, whose page shows it this once.
    pub fresh: Option<FreshApiKey>,
}

/// A key created without JavaScript waits for its page in this cookie (see `flash.rs`).
#[cfg(feature = "ssr")]
fn flash(principal: &domain::engine::Principal, app: &str) -> super::flash::Flash {
    super::flash::Flash::new("rampart_flash", "console api key", principal, app)
}

#[cfg(feature = "ssr")]
fn key_info(k: domain::engine::ApiKeyView) -> ApiKeyInfo {
    use domain::time_format::format;
    let state = if k.revoked_at.is_some() {
        "revoked"
    } else if k.expires_at.is_some_and(|t| t <= chrono::Utc::now()) {
        "expired"
    } else {
        "active"
    };
    ApiKeyInfo {
        id: k.id.to_string(),
        name: k.name,
        prefix: k.prefix,
        scopes: k.scopes,
        created_at: format(&k.created_at),
        expires_at: k.expires_at.as_ref().map(format),
        last_used_at: k.last_used_at.as_ref().map(format),
        revoked_at: k.revoked_at.as_ref().map(format),
        state: state.into(),
    }
}

#[server(prefix = "/console/_fn", endpoint = "list_api_keys")]
pub async fn list_api_keys(slug: String) -> Result<ApiKeysView, ConsoleError> {
    use super::session::guard;
    use domain::engine::SIGNUP_SCOPES;
    use domain::permissions::MANAGEMENT;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let engine = guard::state()?.engine;
    let keys = engine.list_api_keys(&caller, &slug).await?;
    let held = engine.authorize(&caller, &slug, "apikey.read").await?.role.map(|r| r.permissions).unwrap_or_default();
    let holds = |p: &str| held.iter().any(|h| h == p);
    let mut grantable_scopes: Vec<String> = MANAGEMENT.iter().filter(|p| holds(p)).map(|p| p.to_string()).collect();
    if holds("user.create") {
        grantable_scopes.push(SIGNUP_SCOPES[0].to_owned());
    }
    // Shown once: the page that opens the waiting key tells the browser to forget it.
    let fresh = waiting.take()?.and_then(|opened| {
        let (name, secret) = opened.split_once('\n').map(|(n, s)| (n.to_owned(), s.to_owned()))?;
        Some(FreshApiKey { app: slug.clone(), name, secret })
    });
    Ok(ApiKeysView { keys: keys.into_iter().map(key_info).collect(), grantable_scopes, fresh })
}

/// `expires_in_days` is blank for a key that never expires. Called by a form without
/// JavaScript, the secret waits sealed in a cookie for the page the browser goes back to
/// (see `flash.rs`); otherwise it is only in the answer.
#[server(prefix = "/console/_fn", endpoint = "create_api_key")]
pub async fn create_api_key(
    slug: String,
    name: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] expires_in_days: String,
) -> Result<FreshApiKey, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let expires_in_days = match expires_in_days.trim() {
        "" => None,
        days => Some(days.parse::<i64>().map_err(|_| {
            super::set_status(400);
            ConsoleError::Refused {
                code: "INVALID_REQUEST".into(),
                message: "expiresInDays must be a whole number of days".into(),
            }
        })?),
    };
    let input = domain::engine::NewApiKey { name, scopes, expires_in_days };
    let (key, secret) = guard::state()?.engine.create_api_key(&caller, &slug, input).await?;
    let fresh = FreshApiKey { app: slug, name: key.name, secret };
    waiting.hold(&format!("{}\n{}", fresh.name, fresh.secret))?;
    Ok(fresh)
}

#[server(prefix = "/console/_fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_api_key(&caller, &slug, &id).await?;
    Ok(())
}
