//! The console's view of an app's signing keys: list, rotate, revoke in an emergency, and
//! the rotation schedule (`signing_key_rotation_days` of the config).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    /// `active`, `previous`, `retired` or `revoked`.
    pub status: String,
    pub created_at: String,
    pub retires_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeysView {
    pub keys: Vec<KeyInfo>,
    /// 0: never rotated on a schedule.
    pub rotation_days: i64,
    /// How long a replaced key keeps verifying, in hours.
    pub grace_hours: i64,
    pub jwks_url: String,
}

#[server(prefix = "/console/_fn", endpoint = "list_signing_keys")]
pub async fn list_signing_keys(slug: String) -> Result<KeysView, ConsoleError> {
    use super::session::guard;
    use domain::time_format::format;
    let caller = guard::caller().await?;
    let engine = &guard::state()?.engine;
    let keys = engine.list_signing_keys(&caller, &slug).await?;
    let app = engine.app(&slug).await?;
    Ok(KeysView {
        keys: keys
            .into_iter()
            .map(|k| KeyInfo {
                kid: k.kid,
                alg: k.alg,
                status: k.status.into(),
                created_at: format(&k.created_at),
                retires_at: k.retires_at.as_ref().map(format),
                revoked_at: k.revoked_at.as_ref().map(format),
            })
            .collect(),
        rotation_days: app.config.signing_key_rotation_days,
        grace_hours: domain::engine::retirement_grace(&app).num_hours(),
        jwks_url: engine.jwks_url(&slug),
    })
}

/// `alg` is blank to keep the current key's algorithm.
#[server(prefix = "/console/_fn", endpoint = "rotate_signing_key")]
pub async fn rotate_signing_key(slug: String, #[server(default)] alg: String) -> Result<String, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let alg = Some(alg.trim()).filter(|a| !a.is_empty());
    Ok(guard::state()?.engine.rotate_signing_key(&caller, &slug, alg).await?.kid)
}

#[server(prefix = "/console/_fn", endpoint = "revoke_signing_key")]
pub async fn revoke_signing_key(slug: String, kid: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_signing_key(&caller, &slug, &kid).await?;
    Ok(())
}

/// Saves `signing_key_rotation_days` through the config patch (and its checks).
#[server(prefix = "/console/_fn", endpoint = "save_key_schedule")]
pub async fn save_key_schedule(slug: String, days: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let days: i64 = days.trim().parse().map_err(|_| {
        super::set_status(400);
        ConsoleError::Refused {
            code: "INVALID_REQUEST".into(),
            message: "signing_key_rotation_days must be a whole number of days".into(),
        }
    })?;
    let mut patch = serde_json::Map::new();
    patch.insert("signing_key_rotation_days".into(), days.into());
    guard::state()?.engine.update_config(&caller, &slug, &patch).await?;
    Ok(())
}
