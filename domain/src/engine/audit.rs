//! The audit log after recording: the sequencer that links each app's events into its hash
//! chain shortly after they commit (writers never wait on the chain's head), verification,
//! retention, and reading the log.
//!
//! Writers insert events with only a store sequence number, in the transaction of their
//! change (`write.rs`; refresh rotations in the store's rotation statement). The sequencer
//! takes an app's pending events in insertion order, gives each the next chain position and
//! `hash = SHA-256(prev_hash, position, content)`, and moves the app's head, all in one
//! transaction that fails if another node's sequencer got there first (the head moves by
//! compare-and-set; an event is linked only while unlinked). The head carries a MAC under a
//! key derived from the master key, so a chain rewritten by someone who can write the
//! database but does not hold the key does not verify.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{now, Access, Caller, Engine, Principal};
use crate::audit::{
    event_mac_holds, genesis, head_mac, link_hash, Actor, AuditEvent, AuditFilter, Checkpoint, Event, Head, Link,
    Outcome,
};
use crate::store::{AuditPage, Store, StoreError};
use crate::{Error, Result};

pub use shared::audit::{AuditEventView, AuditPageView, BrokenLink, ChainHead, CheckpointView, Party, Verification};

/// Events linked per transaction, at most.
const BATCH: u32 = 500;
/// How long the sequencer lets events gather after a wake-up.
const GATHER: Duration = Duration::from_millis(50);
/// How often the sequencer looks for other nodes' events without being woken.
const IDLE: Duration = Duration::from_millis(500);
/// How often retention runs, the first time this long after the start.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
const RETENTION_FIRST: Duration = Duration::from_secs(60);
/// Events per page of the log, at most.
pub const PAGE_MAX: u32 = 200;

/// Links events into their apps' chains; one per node, woken by the node's commits.
pub(crate) struct Sequencer {
    store: Arc<dyn Store>,
    key: aws_lc_rs::hmac::Key,
    wake: Notify,
}

impl Sequencer {
    pub(crate) fn new(store: Arc<dyn Store>, key: aws_lc_rs::hmac::Key) -> Sequencer {
        Sequencer { store, key, wake: Notify::new() }
    }

    /// Signs an event as Rampart's own before it is written.
    pub(crate) fn seal(&self, event: AuditEvent) -> AuditEvent {
        event.seal(&self.key)
    }

    /// Says events were committed: link them soon.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Links every node's events as they come, and applies retention every hour.
    pub(crate) async fn run(self: Arc<Self>) {
        let mut retention_due = tokio::time::Instant::now() + RETENTION_FIRST;
        loop {
            tokio::select! {
                _ = self.wake.notified() => tokio::time::sleep(GATHER).await,
                _ = tokio::time::sleep(IDLE) => {}
            }
            if let Err(e) = self.sequence_all().await {
                tracing::warn!(error = ?e, "linking audit events failed; retrying");
            }
            if tokio::time::Instant::now() >= retention_due {
                retention_due = tokio::time::Instant::now() + RETENTION_EVERY;
                if let Err(e) = self.apply_retention(now()).await {
                    tracing::warn!(error = ?e, "audit retention failed");
                }
            }
        }
    }

    /// Links every pending event of every app; answers how many this node linked.
    pub(crate) async fn sequence_all(&self) -> Result<u64> {
        let mut linked = 0;
        loop {
            let apps = self.store.apps_with_pending_audit(100).await?;
            let mut progress = 0;
            for app_id in &apps {
                progress += self.sequence_app(*app_id).await?;
            }
            linked += progress;
            // Another node may be linking the same events: stop when nothing moved here.
            if apps.is_empty() || progress == 0 {
                return Ok(linked);
            }
        }
    }

    /// Links the app's pending events, a batch per transaction; stops early when another
    /// sequencer is linking them.
    pub(crate) async fn sequence_app(&self, app_id: Uuid) -> Result<u64> {
        let mut linked = 0;
        let mut raced = 0;
        loop {
            match self.link_batch(app_id).await {
                Ok(Some(n)) => {
                    linked += n;
                    if n < u64::from(BATCH) {
                        return Ok(linked);
                    }
                }
                // Another sequencer (this node's timer, another node) took the positions
                // first. Going on after it, rather than stopping, is what lets a verification
                // that sequences first see every event committed before it asked.
                Ok(None) | Err(StoreError::Unique { .. }) if raced < 5 => {
                    raced += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                Ok(None) | Err(StoreError::Unique { .. }) => return Ok(linked),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// One batch; `None` when another sequencer got there first.
    async fn link_batch(&self, app_id: Uuid) -> std::result::Result<Option<u64>, StoreError> {
        let mut tx = self.store.begin().await?;
        let head = tx.audit_head(app_id).await?;
        let pending = tx.pending_audit_events(app_id, BATCH).await?;
        if pending.is_empty() {
            return Ok(Some(0));
        }
        let (mut position, mut prev) = match &head {
            Some(h) => (h.position, h.hash.clone()),
            None => (0, genesis(app_id)),
        };
        let mut links = Vec::with_capacity(pending.len());
        for event in &pending {
            position += 1;
            let hash = link_hash(&prev, position, event);
            links.push((event.seq, Link { position, prev_hash: std::mem::replace(&mut prev, hash.clone()), hash }));
        }
        // The head first: it is the one row every sequencer of the app writes, so a second
        // sequencer waits on it (and then finds it moved) before it locks any event. Linking
        // events first let two sequencers lock overlapping events in different orders, and
        // PostgreSQL broke the deadlock by failing one of them.
        let new_head = Head { position, mac: head_mac(&self.key, app_id, position, &prev), hash: prev };
        if !tx.advance_audit_head(app_id, head.map(|h| h.position), &new_head).await? {
            return Ok(None);
        }
        if !tx.link_audit_events(&links).await? {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(pending.len() as u64))
    }

    /// Recomputes the app's chain from its genesis (or its last retention checkpoint) to its
    /// head, after linking what is pending.
    pub(crate) async fn verify(&self, app_id: Uuid) -> Result<Verification> {
        self.sequence_app(app_id).await?;
        let checkpoint = self.store.audit_checkpoint(app_id).await?;
        let mut verification = Verification {
            valid: true,
            checked: 0,
            first_broken: None,
            head: None,
            checkpoint: checkpoint.as_ref().map(|c| CheckpointView {
                position: c.head.position,
                at: c.at,
                removed: c.removed,
            }),
            pending: 0,
            checked_at: now(),
        };
        let broken = |v: &mut Verification, position: i64, id: Option<Uuid>, reason: &str| {
            v.valid = false;
            v.first_broken = Some(BrokenLink { position, id, reason: reason.to_owned() });
        };
        let (mut position, mut prev) = match &checkpoint {
            Some(c) => (c.head.position, c.head.hash.clone()),
            None => (0, genesis(app_id)),
        };
        if let Some(c) = &checkpoint {
            if !self.mac_holds(app_id, &c.head) {
                broken(&mut verification, c.head.position, None, "checkpoint");
            }
        }
        // The head first: events linked after it was read are the next check's.
        let head = self.store.audit_head(app_id).await?;
        let end = head.as_ref().map_or(position, |h| h.position);
        'chain: while verification.valid && position < end {
            let page = self.store.audit_chain(app_id, position, 1000).await?;
            if page.is_empty() {
                break;
            }
            for event in page {
                let Some(link) = &event.link else { continue };
                let expected = position + 1;
                if expected > end {
                    break 'chain;
                }
                if link.position != expected {
                    broken(&mut verification, expected, None, "missing");
                    break 'chain;
                }
                if link.prev_hash != prev {
                    broken(&mut verification, expected, Some(event.id), "link");
                    break 'chain;
                }
                if link_hash(&prev, expected, &event) != link.hash {
                    broken(&mut verification, expected, Some(event.id), "content");
                    break 'chain;
                }
                if !event_mac_holds(&self.key, &event) {
                    broken(&mut verification, expected, Some(event.id), "forged");
                    break 'chain;
                }
                prev = link.hash.clone();
                position = expected;
                verification.checked += 1;
            }
        }
        if verification.valid {
            match &head {
                _ if position < end => broken(&mut verification, position + 1, None, "missing"),
                Some(h) if h.hash == prev && self.mac_holds(app_id, h) => {}
                None if self.store.audit_chain(app_id, position, 1).await?.is_empty() => {}
                _ => broken(&mut verification, position, None, "head"),
            }
        }
        verification.head = head.map(|h| ChainHead { position: h.position, hash: h.hash });
        verification.pending = self.store.pending_audit(app_id).await?;
        Ok(verification)
    }

    fn mac_holds(&self, app_id: Uuid, head: &Head) -> bool {
        let expected = head_mac(&self.key, app_id, head.position, &head.hash);
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), head.mac.as_bytes()).is_ok()
    }

    /// Cuts, for every app with a retention period, the linked events older than it: a
    /// prefix of the chain, ending at a checkpoint the rest still verifies from. Answers how
    /// many events went.
    pub(crate) async fn apply_retention(&self, at: DateTime<Utc>) -> Result<i64> {
        let mut removed = 0;
        for app_id in self.store.app_ids().await? {
            let Some(app) = self.store.app_by_id(app_id).await? else { continue };
            let days = app.config.audit_retention_days;
            if days > 0 {
                removed += self.cut(app_id, at - TimeDelta::days(days), days).await?;
            }
        }
        Ok(removed)
    }

    async fn cut(&self, app_id: Uuid, before: DateTime<Utc>, days: i64) -> Result<i64> {
        self.sequence_app(app_id).await?;
        let last = self.store.audit_checkpoint(app_id).await?.map_or(0, |c| c.head.position);
        // The last linked event older than the cut, found from the oldest end of the chain.
        let mut through: Option<(i64, String)> = None;
        let mut after = last;
        'scan: loop {
            let page = self.store.audit_chain(app_id, after, 1000).await?;
            if page.is_empty() {
                break;
            }
            for event in page {
                let Some(link) = event.link else { continue };
                if event.at >= before {
                    break 'scan;
                }
                after = link.position;
                through = Some((link.position, link.hash));
            }
        }
        let Some((position, hash)) = through else { return Ok(0) };
        let removed = position - last;
        let checkpoint = Checkpoint {
            app_id,
            head: Head { position, mac: head_mac(&self.key, app_id, position, &hash), hash },
            at: now(),
            removed,
        };
        let mut tx = self.store.begin().await?;
        if !tx.cut_audit(&checkpoint).await? {
            return Ok(0);
        }
        let event = Event::new("audit.retention_applied", Actor::system()).details(serde_json::json!({
            "through_position": position,
            "removed": removed,
            "retention_days": days,
        }));
        tx.insert_audit_event(&self.seal(AuditEvent::record(app_id, now(), event))).await?;
        tx.commit().await?;
        self.wake();
        tracing::info!(app = %app_id, removed, through = position, "audit retention applied");
        Ok(removed)
    }
}

/// What a read of the log asks for, as the API and the console take it.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub outcome: Option<String>,
    pub ip: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// The filter, with each bad value refused by name.
    pub fn filter(&self) -> Result<AuditFilter> {
        let uuid = |raw: &Option<String>, name: &str| -> Result<Option<Uuid>> {
            match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => Uuid::parse_str(s).map(Some).map_err(|_| Error::invalid(format!("{name} must be an id"))),
                None => Ok(None),
            }
        };
        let time = |raw: &Option<String>, name: &str| -> Result<Option<DateTime<Utc>>> {
            match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => DateTime::parse_from_rfc3339(s)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(|_| Error::invalid(format!("{name} must be an RFC 3339 time, like 2026-01-31T12:00:00Z"))),
                None => Ok(None),
            }
        };
        let kind = match self.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(k) => {
                let body = k.strip_suffix(".*").unwrap_or(k);
                let well_formed = !body.is_empty()
                    && body.len() <= 64
                    && body.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                if !well_formed {
                    return Err(Error::invalid(
                        "type must be an event type (end_user.signed_in) or a prefix (end_user.*)",
                    ));
                }
                Some(k.to_owned())
            }
            None => None,
        };
        let outcome = match self.outcome.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(o) => Some(Outcome::parse(o).ok_or_else(|| Error::invalid("outcome must be success or failure"))?),
            None => None,
        };
        let ip = match self.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(ip) => Some(
                ip.parse::<std::net::IpAddr>().map_err(|_| Error::invalid("ip must be an IP address"))?.to_string(),
            ),
            None => None,
        };
        let from = time(&self.from, "from")?;
        let to = time(&self.to, "to")?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(Error::invalid("from must not be after to"));
            }
        }
        Ok(AuditFilter {
            kind,
            actor_id: uuid(&self.actor, "actor")?,
            subject_id: uuid(&self.subject, "subject")?,
            outcome,
            ip,
            from,
            to,
        })
    }

    fn page(&self) -> Result<(Option<i64>, u32)> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(Error::invalid(format!("limit must be between 1 and {PAGE_MAX}")));
        }
        let cursor = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(decode_cursor(c)?),
            None => None,
        };
        Ok((cursor, limit))
    }
}

/// Cursors name the last event of a page by its store sequence, opaquely.
fn encode_cursor(seq: i64) -> String {
    format!("e{seq:x}")
}

fn decode_cursor(raw: &str) -> Result<i64> {
    raw.strip_prefix('e')
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .filter(|seq| *seq > 0)
        .ok_or_else(|| Error::invalid("cursor is not one this API gave out"))
}

pub fn event_view(e: AuditEvent) -> AuditEventView {
    AuditEventView {
        id: e.id,
        time: e.at,
        kind: e.kind,
        outcome: e.outcome.as_str().to_owned(),
        actor: Party { kind: e.actor.kind.as_str().to_owned(), id: e.actor.id },
        subject: e.subject.map(|s| Party { kind: s.kind, id: Some(s.id) }),
        session_id: e.session_id,
        ip: e.ip,
        user_agent: e.user_agent,
        request_id: e.request_id,
        details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
        position: e.link.map(|l| l.position),
    }
}

/// The events an end-user sees of their own: how their account was signed in to and
/// changed, not every token refresh.
const MY_ACTIVITY_HIDDEN: &[&str] = &["token_refreshed"];

impl Engine {
    /// A page of the app's log, newest first (permission `audit.read`).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn audit_page(&self, caller: &Caller, slug: &str, query: &AuditQuery) -> Result<AuditPageView> {
        let Access { app, .. } = self.authorize(caller, slug, "audit.read").await?;
        let filter = query.filter()?;
        let (cursor, limit) = query.page()?;
        let events = self.store.audit_events(app.id, &filter, AuditPage::Before(cursor), limit).await?;
        let next_cursor =
            (events.len() == limit as usize).then(|| events.last().map(|e| encode_cursor(e.seq))).flatten();
        Ok(AuditPageView { events: events.into_iter().map(event_view).collect(), next_cursor })
    }

    /// Authorises an export of the app's log (permission `audit.read`), checks its filter,
    /// and links what is committed so far: an export is the chain, whose pages come from
    /// `audit_export_page`.
    pub async fn audit_export(&self, caller: &Caller, slug: &str, query: &AuditQuery) -> Result<(Uuid, AuditFilter)> {
        let Access { app, .. } = self.authorize(caller, slug, "audit.read").await?;
        let filter = query.filter()?;
        self.audit.sequence_app(app.id).await?;
        Ok((app.id, filter))
    }

    /// The next page of an export, in chain order, after chain position `after` (0 at
    /// first). Chain order, not store sequence: on PostgreSQL an event can commit, and be
    /// linked, after one inserted later, and the file must read as the chain it checks.
    pub async fn audit_export_page(&self, app_id: Uuid, filter: &AuditFilter, after: i64) -> Result<Vec<AuditEvent>> {
        Ok(self.store.audit_events(app_id, filter, AuditPage::ChainAfter(after), 500).await?)
    }

    /// Recomputes the app's chain (permission `audit.read`).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn verify_audit(&self, caller: &Caller, slug: &str) -> Result<Verification> {
        let Access { app, .. } = self.authorize(caller, slug, "audit.read").await?;
        self.audit.verify(app.id).await
    }

    /// Recomputes an app's chain for the operator (`rampart verify-audit`), deleted apps'
    /// included.
    pub async fn verify_audit_of(&self, app_id: Uuid) -> Result<Verification> {
        self.audit.verify(app_id).await
    }

    /// Every app id whose log the operator can verify.
    pub async fn audited_apps(&self) -> Result<Vec<Uuid>> {
        Ok(self.store.app_ids().await?)
    }

    /// Links every committed event now, rather than when the sequencer next runs.
    pub async fn sequence_audit(&self) -> Result<u64> {
        self.audit.sequence_all().await
    }

    /// Applies every app's retention as of `at`; answers how many events went.
    pub async fn apply_audit_retention(&self, at: DateTime<Utc>) -> Result<i64> {
        self.audit.apply_retention(at).await
    }

    /// The end-user's own recent security events (`GET /{slug}/v1/me/activity`), newest first.
    pub async fn my_activity(&self, me: &Principal, limit: u32) -> Result<Vec<AuditEventView>> {
        let filter = AuditFilter { subject_id: Some(me.user_id), ..AuditFilter::default() };
        let mut shown = Vec::new();
        let mut before = None;
        // Refreshes are many and say nothing to the user: page past them.
        for _ in 0..10 {
            let page = self.store.audit_events(me.app.id, &filter, AuditPage::Before(before), PAGE_MAX).await?;
            let done = page.len() < PAGE_MAX as usize;
            before = page.last().map(|e| e.seq);
            shown.extend(
                page.into_iter().filter(|e| !MY_ACTIVITY_HIDDEN.iter().any(|h| e.kind.ends_with(h))).map(event_view),
            );
            if done || shown.len() >= limit as usize {
                break;
            }
        }
        shown.truncate(limit as usize);
        Ok(shown)
    }
}

/// Who a management caller is in the log.
pub(crate) fn actor_of(caller: &Caller) -> Actor {
    match caller {
        Caller::Account(account) => Actor::account(account.user_id),
        Caller::ApiKey { key, .. } => Actor::api_key(key.id),
    }
}

/// How the log names an app's end-users: the `platform` app's are accounts.
pub(crate) fn user_kind(app_slug: &str) -> &'static str {
    if app_slug == crate::types::PLATFORM_SLUG {
        "account"
    } else {
        "end_user"
    }
}

/// The actor an app's end-user is: an account in the `platform` app.
pub(crate) fn user_actor(app_slug: &str, user_id: Uuid) -> Actor {
    if app_slug == crate::types::PLATFORM_SLUG {
        Actor::account(user_id)
    } else {
        Actor::end_user(user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(12345)).unwrap(), 12345);
        for bad in ["", "e", "x12", "e-1", "e0", "ezz", "e7fffffffffffffff1"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_values_are_checked_by_name() {
        let bad = [
            (AuditQuery { kind: Some("End User".into()), ..Default::default() }, "type"),
            (AuditQuery { actor: Some("nope".into()), ..Default::default() }, "actor"),
            (AuditQuery { subject: Some("nope".into()), ..Default::default() }, "subject"),
            (AuditQuery { outcome: Some("maybe".into()), ..Default::default() }, "outcome"),
            (AuditQuery { ip: Some("999.1.1.1".into()), ..Default::default() }, "ip"),
            (AuditQuery { from: Some("yesterday".into()), ..Default::default() }, "from"),
            (
                AuditQuery {
                    from: Some("2026-02-01T00:00:00Z".into()),
                    to: Some("2026-01-01T00:00:00Z".into()),
                    ..Default::default()
                },
                "from",
            ),
            (AuditQuery { limit: Some(0), ..Default::default() }, "limit"),
            (AuditQuery { limit: Some(PAGE_MAX + 1), ..Default::default() }, "limit"),
        ];
        for (query, field) in bad {
            let err = query.filter().and_then(|_| query.page().map(|_| ())).unwrap_err();
            assert!(err.to_string().starts_with(field), "{query:?}: {err}");
        }
        let ok = AuditQuery {
            kind: Some("end_user.*".into()),
            ip: Some(" 127.0.0.1 ".into()),
            outcome: Some("failure".into()),
            ..Default::default()
        };
        let filter = ok.filter().unwrap();
        assert_eq!(filter.kind.as_deref(), Some("end_user.*"));
        assert_eq!(filter.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(filter.outcome, Some(Outcome::Failure));
    }
}
