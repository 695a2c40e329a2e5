//! Short caches in front of the store for what every request asks: which app is this slug,
//! is this session live, what may this role do, and which secrets does this app credential take. Each node drops entries the moment a change is made on it,
//! and on every other node through the store's change messages (PostgreSQL NOTIFY). While
//! those messages may be missed (the listener's connection is lost and not yet back), the
//! caches are cleared and bypassed; the TTLs bound staleness should a message be lost anyway.
//!
//! A read that missed the cache and then asked the store keeps its answer only if no change
//! was applied since it started (`generation`): else a revocation that commits between the
//! read and the put would be undone by the put, for a whole TTL.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::views::Profile;
use crate::model::{App, AppCredential};
use crate::tokens::Claims;

/// How long an app (status, config) is believed without asking the store.
pub const APP_TTL: Duration = Duration::from_secs(30);
/// How long a live session is believed without asking the store.
pub const SESSION_TTL: Duration = Duration::from_secs(30);
/// How long a role's permission set is believed (seed 001: "a 60-second LRU").
pub const PERMISSIONS_TTL: Duration = Duration::from_secs(60);
/// How long a profile (`GET /me`) is believed without asking the store.
pub const PROFILE_TTL: Duration = Duration::from_secs(30);
/// How long an app credential (its secrets, whether it is revoked) is believed without asking
/// the store: rotating or revoking it clears it on every node.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(30);
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
    /// The organization the session acts in, while its user is a member of it.
    pub org: Option<super::ActiveOrg>,
}

/// Entries with the time they were loaded.
type TimedBy<K, V> = RwLock<HashMap<K, (Instant, V)>>;
type Timed<V> = TimedBy<Uuid, V>;

/// A token whose signature, issuer and audience were checked for an app: the same bytes
/// need not be checked again until they expire. Keyed by the token's SHA-256.
struct Verified {
    app_id: Uuid,
    claims: Arc<Claims>,
}

#[derive(Default)]
pub(super) struct Caches {
    /// By slug; only apps that exist are kept, so a deleted slug is never answered from here.
    apps: TimedBy<String, Arc<App>>,
    sessions: Timed<LiveSession>,
    permissions: Timed<Arc<Vec<String>>>,
    /// By user id.
    profiles: Timed<Arc<Profile>>,
    /// By app id and public identifier (`app_…`); only credentials that exist are kept.
    credentials: TimedBy<(Uuid, String), Arc<AppCredential>>,
    verified: RwLock<HashMap<[u8; 32], Verified>>,
    /// By app id: its enabled webhook endpoints (cleared by `Change::App`).
    webhooks: Timed<Arc<Vec<crate::model::WebhookEndpoint>>>,
    /// The apps' signing and verifying keys: a change to an app drops its keys too, so a
    /// rotation or revocation on one node reaches every node's key ring at once.
    pub(super) keys: Arc<super::keyring::KeyRing>,
    /// Bumped by every change applied, while the changed map's write lock is held.
    generation: AtomicU64,
    /// Set while change messages may be missed: nothing is served or kept.
    suspended: AtomicBool,
}

/// When a read of the store started, as far as the caches are concerned: take it before the
/// read, and hand it to the `put_*` that keeps the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Generation(u64);

/// A change that makes cached answers wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An app's status or config changed, or it was deleted.
    App(Uuid),
    Session(Uuid),
    User(Uuid),
    Role(Uuid),
    /// An app credential was rotated or revoked (by its internal id).
    Credential(Uuid),
    Everything,
}

impl Change {
    pub fn encode(self) -> String {
        match self {
            Change::App(id) => format!("app:{id}"),
            Change::Session(id) => format!("session:{id}"),
            Change::User(id) => format!("user:{id}"),
            Change::Role(id) => format!("role:{id}"),
            Change::Credential(id) => format!("credential:{id}"),
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
            Some(("credential", id)) => parse(id).map(Change::Credential),
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

impl Caches {
    /// Take before reading the store for an answer that may be kept.
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::SeqCst))
    }

    /// Whether answers may be served from here.
    fn serving(&self) -> bool {
        !self.suspended.load(Ordering::SeqCst)
    }

    /// The entry under `key`, if it was loaded less than `ttl` ago and the caches serve.
    fn fresh<K, Q, V>(&self, map: &RwLock<HashMap<K, (Instant, V)>>, key: &Q, ttl: Duration) -> Option<V>
    where
        K: Eq + Hash + Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        V: Clone,
    {
        if !self.serving() {
            return None;
        }
        fresh(map, key, ttl)
    }

    /// Runs `keep` under the map's write lock if no change was applied since `generation` and
    /// the caches serve: checked under the lock every change bumps the generation under, so
    /// the entry is either kept before a change (which then drops it) or not at all.
    fn keep_if<M>(&self, map: &RwLock<M>, generation: Generation, keep: impl FnOnce(&mut M)) {
        if let Ok(mut map) = map.write() {
            if self.serving() && self.generation() == generation {
                keep(&mut map);
            }
        }
    }

    /// Runs `edit` under the map's write lock, and bumps the generation before releasing it.
    fn change<M>(&self, map: &RwLock<M>, edit: impl FnOnce(&mut M)) {
        let mut guard = map.write();
        if let Ok(map) = &mut guard {
            edit(map);
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn timed_if<K: Eq + Hash, V>(&self, map: &TimedBy<K, V>, generation: Generation, key: K, value: V) {
        self.keep_if(map, generation, |map| {
            bounded(map);
            map.insert(key, (Instant::now(), value));
        });
    }

    pub fn app(&self, slug: &str) -> Option<Arc<App>> {
        crate::telemetry::cache_lookup("app", self.fresh(&self.apps, slug, APP_TTL))
    }

    pub fn webhooks(&self, app_id: Uuid) -> Option<Arc<Vec<crate::model::WebhookEndpoint>>> {
        crate::telemetry::cache_lookup("webhooks", self.fresh(&self.webhooks, &app_id, APP_TTL))
    }

    pub fn put_webhooks_if(
        &self,
        generation: Generation,
        app_id: Uuid,
        endpoints: Arc<Vec<crate::model::WebhookEndpoint>>,
    ) {
        self.timed_if(&self.webhooks, generation, app_id, endpoints);
    }

    /// Whether the app is cached now (not counted as a lookup: `/metrics` asks it).
    pub fn has_app(&self, slug: &str) -> bool {
        self.serving() && fresh(&self.apps, slug, APP_TTL).is_some()
    }

    pub fn put_app_if(&self, generation: Generation, app: Arc<App>) {
        self.timed_if(&self.apps, generation, app.slug.clone(), app);
    }

    pub fn session(&self, id: Uuid) -> Option<LiveSession> {
        crate::telemetry::cache_lookup("session", self.fresh(&self.sessions, &id, SESSION_TTL))
    }

    pub fn put_session_if(&self, generation: Generation, id: Uuid, s: LiveSession) {
        self.timed_if(&self.sessions, generation, id, s);
    }

    pub fn profile(&self, user_id: Uuid) -> Option<Arc<Profile>> {
        crate::telemetry::cache_lookup("profile", self.fresh(&self.profiles, &user_id, PROFILE_TTL))
    }

    pub fn put_profile_if(&self, generation: Generation, user_id: Uuid, p: Arc<Profile>) {
        self.timed_if(&self.profiles, generation, user_id, p);
    }

    /// The claims of a token already verified for `app_id` (expiry is the caller's to check).
    pub fn verified(&self, digest: &[u8; 32], app_id: Uuid) -> Option<Arc<Claims>> {
        if !self.serving() {
            return None;
        }
        let map = self.verified.read().ok()?;
        crate::telemetry::cache_lookup(
            "verified",
            map.get(digest).filter(|v| v.app_id == app_id).map(|v| v.claims.clone()),
        )
    }

    pub fn put_verified_if(&self, generation: Generation, digest: [u8; 32], app_id: Uuid, claims: Arc<Claims>) {
        self.keep_if(&self.verified, generation, |map| {
            if map.len() >= MAX_VERIFIED {
                map.clear();
            }
            map.insert(digest, Verified { app_id, claims });
        });
    }

    pub fn permissions(&self, role_id: Uuid) -> Option<Arc<Vec<String>>> {
        crate::telemetry::cache_lookup("permissions", self.fresh(&self.permissions, &role_id, PERMISSIONS_TTL))
    }

    pub fn put_permissions_if(&self, generation: Generation, role_id: Uuid, p: Arc<Vec<String>>) {
        self.timed_if(&self.permissions, generation, role_id, p);
    }

    pub fn credential(&self, app_id: Uuid, client_id: &str) -> Option<Arc<AppCredential>> {
        crate::telemetry::cache_lookup(
            "credential",
            self.fresh(&self.credentials, &(app_id, client_id.to_owned()), CREDENTIAL_TTL),
        )
    }

    pub fn put_credential_if(&self, generation: Generation, credential: Arc<AppCredential>) {
        self.timed_if(&self.credentials, generation, (credential.app_id, credential.client_id.clone()), credential);
    }

    /// Change messages may be missed from now on (the listener lost its connection): drop
    /// everything, and serve and keep nothing until `resume`.
    pub fn suspend(&self) {
        self.suspended.store(true, Ordering::SeqCst);
        self.apply(Change::Everything);
    }

    /// Change messages arrive again: drop what reads made while they did not may have
    /// fetched (the generation moves, so none of those reads keeps its answer), then serve.
    pub fn resume(&self) {
        self.apply(Change::Everything);
        self.suspended.store(false, Ordering::SeqCst);
    }

    pub fn apply(&self, change: Change) {
        match change {
            Change::App(id) => {
                self.change(&self.apps, |map| map.retain(|_, (_, app)| app.id != id));
                // A deleted app's tokens, or a re-keyed one's, are checked afresh.
                self.change(&self.verified, |map| map.retain(|_, v| v.app_id != id));
                self.change(&self.credentials, |map| map.retain(|(app_id, _), _| *app_id != id));
                self.change(&self.webhooks, |map| {
                    map.remove(&id);
                });
                self.keys.forget(id);
            }
            Change::Session(id) => {
                self.change(&self.sessions, |map| {
                    map.remove(&id);
                });
            }
            Change::User(user) => {
                self.change(&self.sessions, |map| map.retain(|_, (_, s)| s.user_id != user));
                self.change(&self.profiles, |map| {
                    map.remove(&user);
                });
            }
            Change::Role(id) => {
                self.change(&self.permissions, |map| {
                    map.remove(&id);
                });
            }
            Change::Credential(id) => {
                self.change(&self.credentials, |map| map.retain(|_, (_, c)| c.id != id));
            }
            Change::Everything => {
                self.change(&self.apps, HashMap::clear);
                self.change(&self.credentials, HashMap::clear);
                self.change(&self.profiles, HashMap::clear);
                self.change(&self.verified, HashMap::clear);
                self.change(&self.sessions, HashMap::clear);
                self.change(&self.permissions, HashMap::clear);
                self.change(&self.webhooks, HashMap::clear);
                self.keys.forget_all();
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
        for c in [
            Change::App(id),
            Change::Session(id),
            Change::User(id),
            Change::Role(id),
            Change::Credential(id),
            Change::Everything,
        ] {
            assert_eq!(Change::decode(&c.encode()), c);
        }
        assert_eq!(Change::decode("session:nope"), Change::Everything);
        assert_eq!(Change::decode(""), Change::Everything);
    }

    fn live(user_id: Uuid, role_id: Uuid) -> LiveSession {
        let now = chrono::Utc::now();
        LiveSession { user_id, role_id, role: "member".into(), expires_at: now, last_used_at: now, org: None }
    }

    #[test]
    fn invalidation() {
        let caches = Caches::default();
        let (s1, s2, user, role) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        caches.put_session_if(caches.generation(), s1, live(user, role));
        caches.put_session_if(caches.generation(), s2, live(Uuid::new_v4(), role));
        caches.put_permissions_if(caches.generation(), role, Arc::new(vec!["a.b".into()]));
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
        caches.put_app_if(caches.generation(), a.clone());
        caches.put_app_if(caches.generation(), b.clone());
        caches.apply(Change::App(a.id));
        assert!(caches.app("alpha").is_none());
        assert_eq!(caches.app("beta").map(|x| x.id), Some(b.id));
        caches.apply(Change::Everything);
        assert!(caches.app("beta").is_none());
    }

    #[test]
    fn credentials_are_dropped_by_id_and_with_their_app() {
        let caches = Caches::default();
        let credential = |app_id: Uuid, client_id: &str| {
            let now = chrono::Utc::now();
            Arc::new(AppCredential {
                id: Uuid::new_v4(),
                app_id,
                client_id: client_id.into(),
                name: "backend".into(),
                secret_digest: "digest".into(),
                previous_digest: None,
                previous_expires_at: None,
                created_at: now,
                rotated_at: None,
                last_used_at: None,
                revoked_at: None,
            })
        };
        let (app, other) = (Uuid::new_v4(), Uuid::new_v4());
        let (a, b, c) = (credential(app, "app_a"), credential(app, "app_b"), credential(other, "app_c"));
        for cached in [&a, &b, &c] {
            caches.put_credential_if(caches.generation(), cached.clone());
        }
        assert!(caches.credential(other, "app_a").is_none(), "only through its own app");
        caches.apply(Change::Credential(a.id));
        assert!(caches.credential(app, "app_a").is_none());
        assert_eq!(caches.credential(app, "app_b").map(|x| x.id), Some(b.id));
        caches.apply(Change::App(app));
        assert!(caches.credential(app, "app_b").is_none());
        assert_eq!(caches.credential(other, "app_c").map(|x| x.id), Some(c.id));
        // A read that began before a rotation does not keep what it read.
        let before = caches.generation();
        caches.apply(Change::Credential(c.id));
        caches.put_credential_if(before, c.clone());
        assert!(caches.credential(other, "app_c").is_none());
    }

    /// A read misses the cache and asks the store; a revocation commits and is applied; the
    /// read then keeps what it read before the revocation. It must not be served.
    #[test]
    fn a_read_older_than_a_change_is_not_kept() {
        let caches = Caches::default();
        let (sid, user, role) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let before = caches.generation();
        caches.apply(Change::Session(sid));
        caches.put_session_if(before, sid, live(user, role));
        assert!(caches.session(sid).is_none(), "a revoked session was kept by a read that began before");

        // Any change counts, on any map: profiles, permissions and apps alike.
        let before = caches.generation();
        caches.apply(Change::User(Uuid::new_v4()));
        caches.put_profile_if(before, user, Arc::new(profile(user)));
        caches.put_permissions_if(before, role, Arc::new(vec!["a.b".into()]));
        assert!(caches.profile(user).is_none());
        assert!(caches.permissions(role).is_none());

        // A read that began after the change keeps its answer.
        let after = caches.generation();
        caches.put_session_if(after, sid, live(user, role));
        caches.put_profile_if(after, user, Arc::new(profile(user)));
        assert!(caches.session(sid).is_some());
        assert!(caches.profile(user).is_some());
    }

    /// While change messages may be missed, nothing is served or kept; once they arrive
    /// again, nothing read meanwhile is kept either.
    #[test]
    fn suspended_caches_serve_and_keep_nothing() {
        let caches = Caches::default();
        let (sid, user, role) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        caches.put_session_if(caches.generation(), sid, live(user, role));
        caches.suspend();
        assert!(caches.session(sid).is_none());
        let during = caches.generation();
        caches.put_session_if(during, sid, live(user, role));
        assert!(caches.session(sid).is_none());
        caches.resume();
        assert!(caches.session(sid).is_none(), "dropped on suspension");
        caches.put_session_if(during, sid, live(user, role));
        assert!(caches.session(sid).is_none(), "a read made while suspended is not kept");
        caches.put_session_if(caches.generation(), sid, live(user, role));
        assert!(caches.session(sid).is_some());
    }

    fn profile(id: Uuid) -> Profile {
        let now = chrono::Utc::now();
        Profile {
            id,
            username: "ada".into(),
            display_name: "Ada".into(),
            role: "member".into(),
            joined_at: now,
            created_at: now,
            email: None,
            email_verified_at: None,
        }
    }
}
