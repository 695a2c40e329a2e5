//! Audit events: what one is, how the log links an app's events into a hash chain, and the
//! request a change was made in. Recording is `engine::write` (in the transaction of the
//! change); sequencing, verifying and reading are `engine::audit`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Whether what an event records succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    pub fn parse(raw: &str) -> Option<Outcome> {
        match raw {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// Who did it: an account, an end-user of the app, an API key, or Rampart itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    Account,
    EndUser,
    ApiKey,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Account => "account",
            ActorKind::EndUser => "end_user",
            ActorKind::ApiKey => "api_key",
            ActorKind::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<ActorKind> {
        match raw {
            "account" => Some(ActorKind::Account),
            "end_user" => Some(ActorKind::EndUser),
            "api_key" => Some(ActorKind::ApiKey),
            "system" => Some(ActorKind::System),
            _ => None,
        }
    }
}

impl Actor {
    pub fn system() -> Actor {
        Actor { kind: ActorKind::System, id: None }
    }

    pub fn account(id: Uuid) -> Actor {
        Actor { kind: ActorKind::Account, id: Some(id) }
    }

    pub fn end_user(id: Uuid) -> Actor {
        Actor { kind: ActorKind::EndUser, id: Some(id) }
    }

    pub fn api_key(id: Uuid) -> Actor {
        Actor { kind: ActorKind::ApiKey, id: Some(id) }
    }
}

/// What it was done to: a kind (`end_user`, `account`, `session`, `role`, `permission`,
/// `api_key`, `app_credential`, `app`, `signing_key`) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: String,
    pub id: Uuid,
}

impl Subject {
    pub fn new(kind: &str, id: Uuid) -> Subject {
        Subject { kind: kind.to_owned(), id }
    }
}

/// An event as a change records it; the write path adds the id, time, app and request.
#[derive(Debug, Clone)]
pub struct Event {
    /// Dotted: `end_user.signed_in`, `role.updated`, …
    pub kind: String,
    pub outcome: Outcome,
    pub actor: Actor,
    pub subject: Option<Subject>,
    pub session_id: Option<Uuid>,
    /// Never a password, token, code or secret.
    pub details: Value,
}

impl Event {
    pub fn new(kind: impl Into<String>, actor: Actor) -> Event {
        Event {
            kind: kind.into(),
            outcome: Outcome::Success,
            actor,
            subject: None,
            session_id: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn failed(mut self) -> Event {
        self.outcome = Outcome::Failure;
        self
    }

    pub fn subject(mut self, kind: &str, id: Uuid) -> Event {
        self.subject = Some(Subject::new(kind, id));
        self
    }

    pub fn session(mut self, id: Uuid) -> Event {
        self.session_id = Some(id);
        self
    }

    pub fn details(mut self, details: Value) -> Event {
        self.details = details;
        self
    }
}

/// The request a change was made in, as the server saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// The language the caller reads (`?lang=`, else `Accept-Language`): mail queued while
    /// serving the request is written in it.
    pub language: Option<crate::i18n::Language>,
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `f` as part of the request `context`: the events its changes record carry it.
pub async fn in_request<F: std::future::Future>(context: RequestContext, f: F) -> F::Output {
    REQUEST.scope(context, f).await
}

/// The request the current task serves, if any (none on the command line and in background
/// tasks).
pub fn current_request() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}

/// At most this many characters of a user agent are kept.
const USER_AGENT_MAX: usize = 512;

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// The store's insertion order; the chain's order is `link.position`.
    pub seq: i64,
    pub id: Uuid,
    pub app_id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub outcome: Outcome,
    pub actor: Actor,
    pub subject: Option<Subject>,
    pub session_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// JSON, exactly as hashed.
    pub details: String,
    /// The writer's MAC of the event (see [`event_mac`]), set by [`AuditEvent::seal`].
    pub mac: String,
    /// Set by the sequencer.
    pub link: Option<Link>,
}

impl AuditEvent {
    /// The event `event` of app `app_id`, made now in the current request.
    pub fn record(app_id: Uuid, at: DateTime<Utc>, event: Event) -> AuditEvent {
        let request = current_request();
        AuditEvent {
            seq: 0,
            id: Uuid::now_v7(),
            app_id,
            at,
            kind: event.kind,
            outcome: event.outcome,
            actor: event.actor,
            subject: event.subject,
            session_id: event.session_id,
            ip: request.ip,
            user_agent: request.user_agent.map(|ua| ua.chars().take(USER_AGENT_MAX).collect()),
            request_id: request.request_id,
            details: event.details.to_string(),
            mac: String::new(),
            link: None,
        }
    }

    /// Signs the event as Rampart's own, before it is written.
    pub fn seal(mut self, key: &aws_lc_rs::hmac::Key) -> AuditEvent {
        self.mac = event_mac(key, &self);
        self
    }
}

/// An event's place in its app's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// 1, 2, 3, … in the app, without gaps.
    pub position: i64,
    /// The previous event's `hash` (the genesis hash for the first).
    pub prev_hash: String,
    /// SHA-256 of `prev_hash`, `position` and the event's content.
    pub hash: String,
}

/// The last link of an app's chain (or where a retention cut stopped), MAC'd so that a chain
/// rewritten by someone without the master key does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub position: i64,
    pub hash: String,
    pub mac: String,
}

/// Where a retention cut left the chain: the events up to `position` are gone, and the next
/// one links to `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub app_id: Uuid,
    pub head: Head,
    pub at: DateTime<Utc>,
    pub removed: i64,
}

/// Filters of a read of the log; all optional, all must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// An exact type, or a prefix ending in `.*` (`end_user.*`).
    pub kind: Option<String>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub outcome: Option<Outcome>,
    pub ip: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The hash the first event of an app links to: bound to the app, so that no chain can be
/// passed off as another app's.
pub fn genesis(app_id: Uuid) -> String {
    hex(&Sha256::new().chain_update(b"rampart audit genesis v1\0").chain_update(app_id.as_bytes()).finalize())
}

/// Feeds `event`'s content to `field`, each field on its own so the caller can frame it with
/// its length; without the ids of the actor, the subject and the session when `with_ids` is
/// false (what a writer's MAC covers, see [`event_mac`]).
fn content(event: &AuditEvent, with_ids: bool, field: &mut dyn FnMut(&[u8])) {
    let uuid = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    field(event.id.to_string().as_bytes());
    field(event.app_id.to_string().as_bytes());
    field(&event.at.timestamp_millis().to_be_bytes());
    field(event.kind.as_bytes());
    field(event.outcome.as_str().as_bytes());
    field(event.actor.kind.as_str().as_bytes());
    if with_ids {
        field(uuid(event.actor.id).as_bytes());
    }
    field(event.subject.as_ref().map_or("", |s| s.kind.as_str()).as_bytes());
    if with_ids {
        field(uuid(event.subject.as_ref().map(|s| s.id)).as_bytes());
        field(uuid(event.session_id).as_bytes());
    }
    field(event.ip.as_deref().unwrap_or_default().as_bytes());
    field(event.user_agent.as_deref().unwrap_or_default().as_bytes());
    field(event.request_id.as_deref().unwrap_or_default().as_bytes());
    field(event.details.as_bytes());
}

/// The hash of `event` at `position`, after `prev_hash`. Every field goes in with its length,
/// so no two different events hash alike by moving bytes between fields.
pub fn link_hash(prev_hash: &str, position: i64, event: &AuditEvent) -> String {
    let mut h = Sha256::new();
    h.update(b"rampart audit event v1\0");
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(&position.to_be_bytes());
    content(event, true, &mut field);
    hex(&h.finalize())
}

/// The MAC the writer puts on an event, under the audit key: every field but the ids of the
/// actor, the subject and the session, which a refresh rotation's statement fills in from the
/// session (the chain binds them once the event is linked). An event the sequencer finds in
/// the table without a MAC that holds was not written by Rampart, and verification says so.
pub fn event_mac(key: &aws_lc_rs::hmac::Key, event: &AuditEvent) -> String {
    let mut ctx = aws_lc_rs::hmac::Context::with_key(key);
    ctx.update(b"rampart audit event mac v1\0");
    content(event, false, &mut |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    });
    hex(ctx.sign().as_ref())
}

/// Whether the event's MAC is the one Rampart would have put on it.
pub fn event_mac_holds(key: &aws_lc_rs::hmac::Key, event: &AuditEvent) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(event_mac(key, event).as_bytes(), event.mac.as_bytes()).is_ok()
}

/// The MAC of a head (or checkpoint) of app `app_id`, under the audit key.
pub fn head_mac(key: &aws_lc_rs::hmac::Key, app_id: Uuid, position: i64, hash: &str) -> String {
    let mut ctx = aws_lc_rs::hmac::Context::with_key(key);
    ctx.update(b"rampart audit head v1\0");
    ctx.update(app_id.as_bytes());
    ctx.update(&position.to_be_bytes());
    ctx.update(hash.as_bytes());
    hex(ctx.sign().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> AuditEvent {
        AuditEvent::record(Uuid::new_v4(), Utc::now(), Event::new("end_user.signed_in", Actor::system()))
    }

    #[test]
    fn every_field_changes_the_hash() {
        let e = event();
        let base = link_hash("prev", 1, &e);
        assert_eq!(base, link_hash("prev", 1, &e.clone()), "deterministic");
        assert_ne!(base, link_hash("prev", 2, &e));
        assert_ne!(base, link_hash("other", 1, &e));
        type Edit = Box<dyn Fn(&mut AuditEvent)>;
        let edits: Vec<Edit> = vec![
            Box::new(|e| e.kind = "end_user.signed_out".into()),
            Box::new(|e| e.outcome = Outcome::Failure),
            Box::new(|e| e.actor = Actor::end_user(Uuid::nil())),
            Box::new(|e| e.subject = Some(Subject::new("end_user", Uuid::nil()))),
            Box::new(|e| e.session_id = Some(Uuid::nil())),
            Box::new(|e| e.ip = Some("10.0.0.1".into())),
            Box::new(|e| e.user_agent = Some("curl".into())),
            Box::new(|e| e.request_id = Some("r".into())),
            Box::new(|e| e.details = "{\"a\":1}".into()),
            Box::new(|e| e.at += chrono::TimeDelta::milliseconds(1)),
            Box::new(|e| e.id = Uuid::new_v4()),
            Box::new(|e| e.app_id = Uuid::new_v4()),
        ];
        for edit in edits {
            let mut changed = e.clone();
            edit(&mut changed);
            assert_ne!(base, link_hash("prev", 1, &changed), "{changed:?}");
        }
    }

    #[test]
    fn fields_cannot_trade_bytes() {
        let mut a = event();
        a.ip = Some("ab".into());
        a.user_agent = Some("c".into());
        let mut b = a.clone();
        b.ip = Some("a".into());
        b.user_agent = Some("bc".into());
        assert_ne!(link_hash("p", 1, &a), link_hash("p", 1, &b));
    }

    #[test]
    fn the_mac_binds_what_the_writer_knew() {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"test key");
        let other = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"other key");
        let sealed = event().seal(&key);
        assert!(event_mac_holds(&key, &sealed));
        assert!(!event_mac_holds(&other, &sealed));
        let mut forged = sealed.clone();
        forged.details = "{\"forged\":true}".into();
        assert!(!event_mac_holds(&key, &forged));
        let mut forged = sealed.clone();
        forged.kind = "end_user.signed_out".into();
        assert!(!event_mac_holds(&key, &forged));
        // Filled in by a rotation's statement, bound by the chain instead.
        let mut filled = sealed.clone();
        filled.actor.id = Some(Uuid::new_v4());
        filled.session_id = Some(Uuid::new_v4());
        assert!(event_mac_holds(&key, &filled));
    }

    #[test]
    fn genesis_is_per_app() {
        assert_ne!(genesis(Uuid::new_v4()), genesis(Uuid::new_v4()));
        assert_eq!(genesis(Uuid::nil()).len(), 64);
    }
}
