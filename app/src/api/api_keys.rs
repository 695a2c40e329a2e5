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

/// Where a key created without JavaScript waits for the page the browser is sent back to:
/// sealed in the console session, under a one-time key that only the browser holds (the
/// `FLASH_COOKIE`), so the session row never holds a usable secret.
#[cfg(feature = "ssr")]
const FRESH_KEY: &str = "fresh_api_key";
#[cfg(feature = "ssr")]
const FLASH_COOKIE: &str = "rampart_flash";

#[cfg(feature = "ssr")]
#[derive(Serialize, Deserialize)]
struct SealedFreshKey {
    app: String,
    name: String,
    sealed: Vec<u8>,
}

/// Sets (or, with `None`, clears) the cookie holding the one-time key.
#[cfg(feature = "ssr")]
fn set_flash_cookie(key: Option<&str>) -> Result<(), ConsoleError> {
    let secure = super::session::guard::state()?.engine.public_url().starts_with("https://");
    let cookie = format!(
        "{FLASH_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{}",
        key.unwrap_or_default(),
        if key.is_some() { 600 } else { 0 },
        if secure { "; Secure" } else { "" },
    );
    if let (Some(options), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&cookie))
    {
        options.append_header(http::header::SET_COOKIE, value);
    }
    Ok(())
}

/// The one-time key the browser sent back, if any.
#[cfg(feature = "ssr")]
fn flash_cookie() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts.headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|header| {
        header.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == FLASH_COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
    })
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

#[cfg(feature = "ssr")]
fn session_failed(e: impl std::fmt::Display) -> ConsoleError {
    tracing::error!(error = %e, "console session store");
    ConsoleError::Refused { code: "INTERNAL".into(), message: "Something went wrong on our side".into() }
}

#[server(prefix = "/console/_fn", endpoint = "list_api_keys")]
pub async fn list_api_keys(slug: String) -> Result<ApiKeysView, ConsoleError> {
    use super::session::guard;
    use domain::engine::SIGNUP_SCOPES;
    use domain::permissions::MANAGEMENT;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let keys = engine.list_api_keys(&caller, &slug).await?;
    let held = engine.authorize(&caller, &slug, "apikey.read").await?.role.map(|r| r.permissions).unwrap_or_default();
    let holds = |p: &str| held.iter().any(|h| h == p);
    let mut grantable_scopes: Vec<String> = MANAGEMENT.iter().filter(|p| holds(p)).map(|p| p.to_string()).collect();
    if holds("user.create") {
        grantable_scopes.push(SIGNUP_SCOPES[0].to_owned());
    }
    let session = guard::cookie_session().await?;
    let fresh = match session.get::<SealedFreshKey>(FRESH_KEY).await.map_err(session_failed)? {
        Some(waiting) if waiting.app == slug => {
            session.remove_value(FRESH_KEY).await.map_err(session_failed)?;
            set_flash_cookie(None)?;
            // Without the browser's half (another browser, an expired cookie) it stays sealed.
            let key = flash_cookie().and_then(|k| domain::crypto::MasterKey::from_base64(&k).ok());
            let secret = key.and_then(|k| k.open(&waiting.sealed, waiting.app.as_bytes()).ok());
            secret.and_then(|s| String::from_utf8(s).ok()).map(|secret| FreshApiKey {
                app: waiting.app,
                name: waiting.name,
                secret,
            })
        }
        _ => None,
    };
    Ok(ApiKeysView { keys: keys.into_iter().map(key_info).collect(), grantable_scopes, fresh })
}

/// `expires_in_days` is blank for a key that never expires. Called by a form without
/// JavaScript, the secret waits sealed in the console session for the page the browser goes
/// back to, which takes it out (see `FRESH_KEY`); otherwise it is only in the answer.
#[server(prefix = "/console/_fn", endpoint = "create_api_key")]
pub async fn create_api_key(
    slug: String,
    name: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] expires_in_days: String,
) -> Result<FreshApiKey, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
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
    if super::plain_form_post() {
        let key = domain::crypto::MasterKey::generate_base64();
        let sealer = domain::crypto::MasterKey::from_base64(&key).map_err(session_failed)?;
        let sealed = sealer.seal(fresh.secret.as_bytes(), fresh.app.as_bytes())?;
        let waiting = SealedFreshKey { app: fresh.app.clone(), name: fresh.name.clone(), sealed };
        guard::cookie_session().await?.insert(FRESH_KEY, &waiting).await.map_err(session_failed)?;
        set_flash_cookie(Some(&key))?;
    }
    Ok(fresh)
}

#[server(prefix = "/console/_fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_api_key(&caller, &slug, &id).await?;
    Ok(())
}
