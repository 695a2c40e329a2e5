//! Short caches in front of the store for what every request asks: which app is this slug,
//! is this session live, and what may this role do. Each node drops entries the moment a change is made on it,
//! and on every other node through the store's change messages (PostgreSQL NOTIFY); the
//! TTLs bound staleness should a message be lost.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::auth::Profile;
use crate::model::App;
use crate::tokens::Claims;

/// How long an app (status, config) is believed without asking the store.
pub const APP_TTL: Duration = Duration::from_secs(30);
/// How long a live session is believed without asking the store.
pub const SESSION_TTL: Duration = Duration::from_secs(30);
/// How long a role's permission set is believed (seed 001: "a 60-second LRU").
pub const PERMISSIONS_TTL: Duration = Duration::from_secs(60);
/// How long a profile (`GET /me`) is believed without asking the store.
pub const PROFILE_TTL: Duration = Duration::from_secs(30);
/// Bound on entries, so a flood of sessions cannot grow a node without limit.
const MAX_ENTRIES: usize = 100_000;
/// Bound on remembered token verifications (each a few hundred bytes).
const MAX_VERIFIED: usize = 50_000;

#[derive(Clone)]
pub(super) struct LiveSession {
    pub user_id: Uuid,
    pub role_id: Uuid,
    pub role: String,
    /// The session's absolute end, checked on every use.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: chrono::DateTime<chrono::Utc>,
}

/// Entries with the time they were loaded.
type Timed<V> = RwLock<HashMap<Uuid, (Instant, V)>>;

/// A token whose signature, issuer and audience were checked for an app: the same bytes
/// need not be checked again until they expire. Keyed by the token's SHA-256.
struct Verified {
    app_id: Uuid,
    claims: Arc<Claims>,
}

#[derive(Default)]
pub(super) struct Caches {
    /// By slug; only apps that exist are kept, so a deleted slug is never answered from here.
    apps: RwLock<HashMap<String, (Instant, Arc<App>)>>,
    sessions: Timed<LiveSession>,
    permissions: Timed<Arc<Vec<String>>>,
    /// By user id.
    profiles: Timed<Arc<Profile>>,
    verified: RwLock<HashMap<[u8; 32], Verified>>,
}

/// A change that makes cached answers wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An app's status or config changed, or it was deleted.
    App(Uuid),
    Session(Uuid),
    User(Uuid),
    Role(Uuid),
    Everything,
}

impl Change {
    pub fn encode(self) -> String {
        match self {
            Change::App(id) => format!("app:{id}"),
            Change::Session(id) => format!("session:{id}"),
            Change::User(id) => format!("user:{id}"),
            Change::Role(id) => format!("role:{id}"),
            Change::Everything => "*".into(),
        }
    }

    /// Unreadable messages invalidate everything: safe, if wasteful.
    pub fn decode(message: &str) -> Change {
        let parse = |id: &str| Uuid::parse_str(id).ok();
        match message.split_once(':') {
            Some(("app", id)) => parse(id).map(Change::App),
            Some(("session", id)) => parse(id).map(Change::Session),
            Some(("user", id)) => parse(id).map(Change::User),
            Some(("role", id)) => parse(id).map(Change::Role),
            _ => None,
        }
        .unwrap_or(Change::Everything)
    }
}

fn bounded<K, V>(map: &mut HashMap<K, V>) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
}

/// The entry under `key`, if it was loaded less than `ttl` ago.
fn fresh<K, Q, V>(map: &RwLock<HashMap<K, (Instant, V)>>, key: &Q, ttl: Duration) -> Option<V>
where
    K: Eq + Hash + Borrow<Q>,
    Q: Eq + Hash + ?Sized,
    V: Clone,
{
    let map = map.read().ok()?;
    let (at, value) = map.get(key)?;
    (at.elapsed() < ttl).then(|| value.clone())
}

/// Keeps `value` under `key` from now, within the entry bound.
fn keep<K: Eq + Hash, V>(map: &RwLock<HashMap<K, (Instant, V)>>, key: K, value: V) {
    if let Ok(mut map) = map.write() {
        bounded(&mut map);
        map.insert(key, (Instant::now(), value));
    }
}

impl Caches {
    pub fn app(&self, slug: &str) -> Option<Arc<App>> {
        fresh(&self.apps, slug, APP_TTL)
    }

    pub fn put_app(&self, app: Arc<App>) {
        keep(&self.apps, app.slug.clone(), app);
    }

    pub fn session(&self, id: Uuid) -> Option<LiveSession> {
        fresh(&self.sessions, &id, SESSION_TTL)
    }

    pub fn put_session(&self, id: Uuid, s: LiveSession) {
        keep(&self.sessions, id, s);
    }

    pub fn profile(&self, user_id: Uuid) -> Option<Arc<Profile>> {
        fresh(&self.profiles, &user_id, PROFILE_TTL)
    }

    pub fn put_profile(&self, user_id: Uuid, p: Arc<Profile>) {
        keep(&self.profiles, user_id, p);
    }

    /// The claims of a token already verified for `app_id` (expiry is the caller's to check).
    pub fn verified(&self, digest: &[u8; 32], app_id: Uuid) -> Option<Arc<Claims>> {
        let map = self.verified.read().ok()?;
        map.get(digest).filter(|v| v.app_id == app_id).map(|v| v.claims.clone())
    }

    pub fn put_verified(&self, digest: [u8; 32], app_id: Uuid, claims: Arc<Claims>) {
        if let Ok(mut map) = self.verified.write() {
            if map.len() >= MAX_VERIFIED {
                map.clear();
            }
            map.insert(digest, Verified { app_id, claims });
        }
    }

    pub fn permissions(&self, role_id: Uuid) -> Option<Arc<Vec<String>>> {
        fresh(&self.permissions, &role_id, PERMISSIONS_TTL)
    }

    pub fn put_permissions(&self, role_id: Uuid, p: Arc<Vec<String>>) {
        keep(&self.permissions, role_id, p);
    }

    pub fn apply(&self, change: Change) {
        match change {
            Change::App(id) => {
                if let Ok(mut map) = self.apps.write() {
                    map.retain(|_, (_, app)| app.id != id);
                }
                // A deleted app's tokens, or a re-keyed one's, are checked afresh.
                if let Ok(mut map) = self.verified.write() {
                    map.retain(|_, v| v.app_id != id);
                }
            }
            Change::Session(id) => {
                if let Ok(mut map) = self.sessions.write() {
                    map.remove(&id);
                }
            }
            Change::User(user) => {
                if let Ok(mut map) = self.sessions.write() {
                    map.retain(|_, (_, s)| s.user_id != user);
                }
                if let Ok(mut map) = self.profiles.write() {
                    map.remove(&user);
                }
            }
            Change::Role(id) => {
                if let Ok(mut map) = self.permissions.write() {
                    map.remove(&id);
                }
            }
            Change::Everything => {
                if let Ok(mut map) = self.apps.write() {
                    map.clear();
                }
                if let Ok(mut map) = self.profiles.write() {
                    map.clear();
                }
                if let Ok(mut map) = self.verified.write() {
                    map.clear();
                }
                if let Ok(mut map) = self.sessions.write() {
                    map.clear();
                }
                if let Ok(mut map) = self.permissions.write() {
                    map.clear();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_and_garbage_means_everything() {
        let id = Uuid::new_v4();
        for c in [Change::App(id), Change::Session(id), Change::User(id), Change::Role(id), Change::Everything] {
            assert_eq!(Change::decode(&c.encode()), c);
        }
        assert_eq!(Change::decode("session:nope"), Change::Everything);
        assert_eq!(Change::decode(""), Change::Everything);
    }

    fn live(user_id: Uuid, role_id: Uuid) -> LiveSession {
        let now = chrono::Utc::now();
        LiveSession { user_id, role_id, role: "member".into(), expires_at: now, last_used_at: now }
    }

    #[test]
    fn invalidation() {
        let caches = Caches::default();
        let (s1, s2, user, role) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        caches.put_session(s1, live(user, role));
        caches.put_session(s2, live(Uuid::new_v4(), role));
        caches.put_permissions(role, Arc::new(vec!["a.b".into()]));
        caches.apply(Change::User(user));
        assert!(caches.session(s1).is_none());
        assert!(caches.session(s2).is_some());
        caches.apply(Change::Session(s2));
        assert!(caches.session(s2).is_none());
        assert!(caches.permissions(role).is_some());
        caches.apply(Change::Role(role));
        assert!(caches.permissions(role).is_none());
    }

    #[test]
    fn apps_are_dropped_by_id() {
        let caches = Caches::default();
        let app = |slug: &str| App {
            id: Uuid::new_v4(),
            slug: slug.into(),
            display_name: slug.into(),
            status: crate::model::Status::Active,
            metadata: serde_json::json!({}),
            config: Default::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let (a, b) = (Arc::new(app("alpha")), Arc::new(app("beta")));
        caches.put_app(a.clone());
        caches.put_app(b.clone());
        caches.apply(Change::App(a.id));
        assert!(caches.app("alpha").is_none());
        assert_eq!(caches.app("beta").map(|x| x.id), Some(b.id));
        caches.apply(Change::Everything);
        assert!(caches.app("beta").is_none());
    }
}
