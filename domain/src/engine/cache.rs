//! Short caches in front of the store for what every request asks: is this session live,
//! and what may this role do. Each node drops entries the moment a change is made on it,
//! and on every other node through the store's change messages (PostgreSQL NOTIFY); the
//! TTLs bound staleness should a message be lost.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long a live session is believed without asking the store.
pub const SESSION_TTL: Duration = Duration::from_secs(30);
/// How long a role's permission set is believed (seed 001: "a 60-second LRU").
pub const PERMISSIONS_TTL: Duration = Duration::from_secs(60);
/// Bound on entries, so a flood of sessions cannot grow a node without limit.
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone)]
pub(super) struct LiveSession {
    pub user_id: Uuid,
    pub role: String,
}

/// Entries with the time they were loaded.
type Timed<V> = RwLock<HashMap<Uuid, (Instant, V)>>;

#[derive(Default)]
pub(super) struct Caches {
    sessions: Timed<LiveSession>,
    permissions: Timed<Arc<Vec<String>>>,
}

/// A change that makes cached answers wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Session(Uuid),
    User(Uuid),
    Role(Uuid),
    Everything,
}

impl Change {
    pub fn encode(self) -> String {
        match self {
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

impl Caches {
    pub fn session(&self, id: Uuid) -> Option<LiveSession> {
        let map = self.sessions.read().ok()?;
        let (at, s) = map.get(&id)?;
        (at.elapsed() < SESSION_TTL).then(|| s.clone())
    }

    pub fn put_session(&self, id: Uuid, s: LiveSession) {
        if let Ok(mut map) = self.sessions.write() {
            bounded(&mut map);
            map.insert(id, (Instant::now(), s));
        }
    }

    pub fn permissions(&self, role_id: Uuid) -> Option<Arc<Vec<String>>> {
        let map = self.permissions.read().ok()?;
        let (at, p) = map.get(&role_id)?;
        (at.elapsed() < PERMISSIONS_TTL).then(|| p.clone())
    }

    pub fn put_permissions(&self, role_id: Uuid, p: Arc<Vec<String>>) {
        if let Ok(mut map) = self.permissions.write() {
            bounded(&mut map);
            map.insert(role_id, (Instant::now(), p));
        }
    }

    pub fn apply(&self, change: Change) {
        match change {
            Change::Session(id) => {
                if let Ok(mut map) = self.sessions.write() {
                    map.remove(&id);
                }
            }
            Change::User(user) => {
                if let Ok(mut map) = self.sessions.write() {
                    map.retain(|_, (_, s)| s.user_id != user);
                }
            }
            Change::Role(id) => {
                if let Ok(mut map) = self.permissions.write() {
                    map.remove(&id);
                }
            }
            Change::Everything => {
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
        for c in [Change::Session(id), Change::User(id), Change::Role(id), Change::Everything] {
            assert_eq!(Change::decode(&c.encode()), c);
        }
        assert_eq!(Change::decode("session:nope"), Change::Everything);
        assert_eq!(Change::decode(""), Change::Everything);
    }

    #[test]
    fn invalidation() {
        let caches = Caches::default();
        let (s1, s2, user, role) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        caches.put_session(s1, LiveSession { user_id: user, role: "member".into() });
        caches.put_session(s2, LiveSession { user_id: Uuid::new_v4(), role: "member".into() });
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
}
