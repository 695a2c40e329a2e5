//! Per-app signing and verifying keys, parsed once and cached briefly so that a rotation on
//! another node is picked up within a minute (and at once for an unknown `kid`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::crypto::MasterKey;
use crate::keys::{Jwk, Signer};
use crate::store::Store;
use crate::tokens::Verifier;
use crate::{Error, Result};

const TTL: Duration = Duration::from_secs(60);
/// An unknown `kid` reloads the app's keys at most this often, so garbage tokens cannot
/// turn into a query each.
const MISS_RELOAD: Duration = Duration::from_secs(1);

struct Cached<T> {
    loaded: Instant,
    value: Arc<T>,
}

#[derive(Default)]
pub(super) struct KeyRing {
    signers: RwLock<HashMap<Uuid, Cached<Signer>>>,
    verifiers: RwLock<HashMap<Uuid, Cached<Vec<Verifier>>>>,
    /// The JWKS document as published; its own `max-age` already lets verifiers keep it
    /// longer than this cache does.
    published: RwLock<HashMap<Uuid, Cached<serde_json::Value>>>,
    /// Bumped by every `forget`: a load that read the store before it keeps nothing, so a key
    /// revoked meanwhile is not put back by a read that started before the revocation.
    generation: std::sync::atomic::AtomicU64,
}

fn poisoned() -> Error {
    Error::internal(anyhow::anyhow!("key cache lock poisoned"))
}

impl KeyRing {
    pub(super) async fn signer(&self, store: &dyn Store, master: &MasterKey, app_id: Uuid) -> Result<Arc<Signer>> {
        if let Some(c) = self.signers.read().map_err(|_| poisoned())?.get(&app_id) {
            if c.loaded.elapsed() < TTL {
                return Ok(c.value.clone());
            }
        }
        let generation = self.generation();
        let keys = store.signing_keys(app_id).await?;
        let active = keys
            .iter()
            .find(|k| k.active)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("app {app_id} has no active signing key")))?;
        let signer = Arc::new(Signer::open(master, &active.kid, &active.alg, &active.private_sealed)?);
        let mut signers = self.signers.write().map_err(|_| poisoned())?;
        if self.generation() == generation {
            signers.insert(app_id, Cached { loaded: Instant::now(), value: signer.clone() });
        }
        Ok(signer)
    }

    /// Runs `f` with the app's verifier for `kid`, reloading once if it is not cached.
    pub(super) async fn with_verifier<T>(
        &self,
        store: &dyn Store,
        app_id: Uuid,
        kid: &str,
        f: impl Fn(&Verifier) -> Result<T>,
    ) -> Result<T> {
        let cached = self.verifiers.read().map_err(|_| poisoned())?.get(&app_id).map(|c| (c.loaded, c.value.clone()));
        if let Some((loaded, set)) = &cached {
            if let Some(v) = set.iter().find(|v| v.kid == kid) {
                if loaded.elapsed() < TTL {
                    return f(v);
                }
            } else if loaded.elapsed() < MISS_RELOAD {
                return Err(Error::Unauthenticated("Invalid access token"));
            }
        }
        let generation = self.generation();
        let mut set = Vec::new();
        let at = chrono::Utc::now();
        for key in store.signing_keys(app_id).await?.into_iter().filter(|k| k.live_at(at)) {
            let jwk: Jwk = serde_json::from_value(key.public_jwk).map_err(Error::internal)?;
            set.push(Verifier::from_jwk(&jwk)?);
        }
        let set = Arc::new(set);
        {
            let mut verifiers = self.verifiers.write().map_err(|_| poisoned())?;
            if self.generation() == generation {
                verifiers.insert(app_id, Cached { loaded: Instant::now(), value: set.clone() });
            }
        }
        match set.iter().find(|v| v.kid == kid) {
            Some(v) => f(v),
            None => Err(Error::Unauthenticated("Invalid access token")),
        }
    }

    /// The app's JWKS: every key it still publishes.
    pub(super) async fn jwks(&self, store: &dyn Store, app_id: Uuid) -> Result<Arc<serde_json::Value>> {
        if let Some(c) = self.published.read().map_err(|_| poisoned())?.get(&app_id) {
            if c.loaded.elapsed() < TTL {
                return Ok(c.value.clone());
            }
        }
        let generation = self.generation();
        let at = chrono::Utc::now();
        let keys: Vec<serde_json::Value> =
            store.signing_keys(app_id).await?.into_iter().filter(|k| k.live_at(at)).map(|k| k.public_jwk).collect();
        let jwks = Arc::new(serde_json::json!({ "keys": keys }));
        let mut published = self.published.write().map_err(|_| poisoned())?;
        if self.generation() == generation {
            published.insert(app_id, Cached { loaded: Instant::now(), value: jwks.clone() });
        }
        drop(published);
        Ok(jwks)
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops what is cached for every app.
    pub(super) fn forget_all(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut p) = self.published.write() {
            p.clear();
        }
        if let Ok(mut s) = self.signers.write() {
            s.clear();
        }
        if let Ok(mut v) = self.verifiers.write() {
            v.clear();
        }
    }

    /// Drops what is cached for an app (after a key change or the app's deletion).
    pub(super) fn forget(&self, app_id: Uuid) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut p) = self.published.write() {
            p.remove(&app_id);
        }
        if let Ok(mut s) = self.signers.write() {
            s.remove(&app_id);
        }
        if let Ok(mut v) = self.verifiers.write() {
            v.remove(&app_id);
        }
    }
}
