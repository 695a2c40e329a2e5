//! Signing key rotation: an app's keys listed, rotated (a new key signs from now on, the
//! previous one keeps verifying for as long as tokens it signed may live and verifiers may
//! cache the JWKS), revoked in an emergency (tokens under the key refused at once), and
//! rotated on a schedule when the app asks for it.
//!
//! Every change is published as [`Change::App`], so every node's key ring and verified-token
//! cache drop the app's keys together.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::json;

use super::audit::actor_of;
use super::{now, Access, Caller, Change, Engine};
use crate::audit::{Actor, Event};
use crate::keys::{self, SigningAlg};
use crate::model::{App, SigningKey};
use crate::{Error, Result};

/// How long verifiers may keep the JWKS document (its `Cache-Control: max-age`).
pub const JWKS_MAX_AGE_SECONDS: i64 = 300;

/// A key as the management API shows it: never its private part.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// `active` (signs), `previous` (verifies until `retires_at`), `retired` or `revoked`.
    pub status: &'static str,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub retires_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    pub public_jwk: serde_json::Value,
}

fn view(key: &SigningKey, at: DateTime<Utc>) -> KeyView {
    let status = if key.active {
        "active"
    } else if key.revoked_at.is_some() {
        "revoked"
    } else if key.live_at(at) {
        "previous"
    } else {
        "retired"
    };
    KeyView {
        kid: key.kid.clone(),
        alg: key.alg.clone(),
        status,
        created_at: key.created_at,
        retires_at: key.retired_at,
        revoked_at: key.revoked_at,
        public_jwk: key.public_jwk.clone(),
    }
}

/// How long a key that stops signing must keep verifying: the longest lifetime of a token it
/// may have signed (access tokens, the cookie API's page tokens, offline license tokens),
/// plus the time a verifier may keep the JWKS that did not yet list its successor.
pub fn retirement_grace(app: &App) -> TimeDelta {
    let longest = app
        .config
        .access_token_ttl_seconds
        .max(super::BROWSER_TOKEN_TTL_SECONDS)
        .max(crate::licenses::LICENSE_TOKEN_TTL_SECONDS);
    TimeDelta::seconds(longest + JWKS_MAX_AGE_SECONDS)
}

impl Engine {
    /// `GET /apps/{slug}/keys`: the app's keys, the active one first (`key.read`).
    pub async fn list_signing_keys(&self, caller: &Caller, slug: &str) -> Result<Vec<KeyView>> {
        let Access { app, .. } = self.authorize(caller, slug, "key.read").await?;
        let at = now();
        Ok(self.store.signing_keys(app.id).await?.iter().map(|k| view(k, at)).collect())
    }

    /// `POST /apps/{slug}/keys/rotate` (`key.rotate`): a new key, of the same algorithm
    /// unless `alg` names another, signs from now on.
    pub async fn rotate_signing_key(&self, caller: &Caller, slug: &str, alg: Option<&str>) -> Result<KeyView> {
        let Access { app, .. } = self.authorize(caller, slug, "key.rotate").await?;
        let alg = alg.map(|raw| SigningAlg::parse_field(raw, "alg")).transpose()?;
        self.rotate_key_of(&app, alg, actor_of(caller), "manual").await
    }

    /// `rampart rotate-keys --app slug`: the operator's rotation, recorded as the system's.
    pub async fn rotate_signing_key_as_operator(&self, slug: &str) -> Result<KeyView> {
        let app = self.fresh_app(slug).await?;
        self.rotate_key_of(&app, None, Actor::system(), "operator").await
    }

    async fn rotate_key_of(&self, app: &App, alg: Option<SigningAlg>, actor: Actor, reason: &str) -> Result<KeyView> {
        let keys = self.store.signing_keys(app.id).await?;
        let current = keys
            .iter()
            .find(|k| k.active)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("app {} has no active signing key", app.id)))?;
        let alg = match alg {
            Some(alg) => alg,
            None => SigningAlg::parse(&current.alg)
                .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown stored alg {}", current.alg)))?,
        };
        let generated = tokio::task::spawn_blocking({
            let master = self.config.master_key.clone();
            move || keys::generate(alg, &master)
        })
        .await
        .map_err(Error::internal)??;
        let at = now();
        let retires_at = at + retirement_grace(app);
        let key = SigningKey {
            kid: generated.kid,
            app_id: app.id,
            alg: generated.alg.into(),
            private_sealed: generated.private_sealed,
            public_jwk: serde_json::to_value(&generated.public_jwk).map_err(Error::internal)?,
            active: true,
            created_at: at,
            retired_at: None,
            revoked_at: None,
        };
        let mut tx = self.write().await?;
        // Conditional on the key read above still being the active one: of two rotations
        // racing, one wins and the other changes nothing.
        if !tx.retire_signing_key(app.id, &current.kid, retires_at).await? {
            return Err(Error::Conflict("The app's signing keys changed meanwhile; try again".into()));
        }
        tx.insert_signing_key(&key).await?;
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("signing_key.rotated", actor).details(json!({
                "kid": key.kid,
                "alg": key.alg,
                "previous_kid": current.kid,
                "previous_retires_at": crate::time_format::format(&retires_at),
                "reason": reason,
            })),
        );
        tx.commit().await?;
        tracing::info!(app = %app.slug, kid = %key.kid, previous = %current.kid, reason, "signing key rotated");
        Ok(view(&key, at))
    }

    /// `POST /apps/{slug}/keys/{kid}/revoke` (`key.rotate`): the key is retired at once, so
    /// every token it signed is refused on every node. The active key cannot be revoked
    /// until a rotation has replaced it (`409`).
    pub async fn revoke_signing_key(&self, caller: &Caller, slug: &str, kid: &str) -> Result<KeyView> {
        let Access { app, .. } = self.authorize(caller, slug, "key.rotate").await?;
        let keys = self.store.signing_keys(app.id).await?;
        let Some(key) = keys.iter().find(|k| k.kid == kid) else {
            return Err(Error::NotFound("Signing key"));
        };
        if key.active {
            return Err(Error::Conflict("The active signing key cannot be revoked: rotate first".into()));
        }
        let at = now();
        let mut tx = self.write().await?;
        if !tx.revoke_signing_key(app.id, kid, at).await? {
            return Err(Error::Conflict("Signing key is already revoked".into()));
        }
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("signing_key.revoked", actor_of(caller)).details(json!({"kid": kid, "alg": key.alg})),
        );
        tx.commit().await?;
        tracing::warn!(app = %app.slug, kid, "signing key revoked");
        Ok(view(&SigningKey { revoked_at: Some(at), retired_at: Some(at), ..key.clone() }, at))
    }

    /// Rotates the keys of every app whose `signing_key_rotation_days` have passed since its
    /// active key was made. Every node runs it; a rotation another node won is skipped.
    pub async fn rotate_due_keys(&self) -> Result<usize> {
        let mut rotated = 0;
        for id in self.store.app_ids().await? {
            let Some(app) = self.store.app_by_id(id).await? else { continue };
            let days = app.config.signing_key_rotation_days;
            if days <= 0 {
                continue;
            }
            let keys = self.store.signing_keys(app.id).await?;
            let Some(active) = keys.iter().find(|k| k.active) else { continue };
            if active.created_at + TimeDelta::days(days) > now() {
                continue;
            }
            match self.rotate_key_of(&app, None, Actor::system(), "schedule").await {
                Ok(_) => rotated += 1,
                Err(Error::Conflict(_)) => {}
                Err(e) => tracing::warn!(app = %app.slug, error = %e, "scheduled key rotation failed"),
            }
        }
        Ok(rotated)
    }

    /// Checks for due rotations every `every`, for as long as the engine lives.
    pub fn schedule_key_rotation(self: &std::sync::Arc<Self>, every: std::time::Duration) {
        let engine = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(engine) = engine.upgrade() else { break };
                match engine.rotate_due_keys().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rotated = n, "scheduled signing key rotations"),
                    Err(e) => tracing::warn!(error = %e, "checking scheduled key rotations failed"),
                }
            }
        });
    }
}
