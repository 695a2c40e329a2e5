//! Conformance of the audit log: events recorded with their change or not at all, read back
//! filtered and paged, linked once into one chain per app however many sequencers race, and
//! cut by retention to a checkpoint the rest still verifies from.

use domain::audit::{Actor, AuditEvent, AuditFilter, Checkpoint, Event, Head, Link, Outcome};
use domain::config::EngineConfig;
use domain::crypto::MasterKey;
use domain::engine::Engine;
use domain::store::AuditPage;

use super::*;

conformance! {
    events_are_read_back_filtered_and_paged => sqlite_events_are_read_back_filtered_and_paged, postgres_events_are_read_back_filtered_and_paged;
    a_failed_event_insert_rolls_back_its_change => sqlite_a_failed_event_insert_rolls_back_its_change, postgres_a_failed_event_insert_rolls_back_its_change;
    a_rotation_records_its_event_or_nothing => sqlite_a_rotation_records_its_event_or_nothing, postgres_a_rotation_records_its_event_or_nothing;
    events_are_linked_once_and_heads_move_by_compare_and_set => sqlite_events_are_linked_once_and_heads_move_by_compare_and_set, postgres_events_are_linked_once_and_heads_move_by_compare_and_set;
    a_cut_removes_a_prefix_once => sqlite_a_cut_removes_a_prefix_once, postgres_a_cut_removes_a_prefix_once;
    racing_writers_and_sequencers_make_one_valid_chain => sqlite_racing_writers_and_sequencers_make_one_valid_chain, postgres_racing_writers_and_sequencers_make_one_valid_chain;
    retention_leaves_a_chain_that_verifies => sqlite_retention_leaves_a_chain_that_verifies, postgres_retention_leaves_a_chain_that_verifies;
    an_event_rampart_did_not_write_is_named => sqlite_an_event_rampart_did_not_write_is_named, postgres_an_event_rampart_did_not_write_is_named;
}

/// The master key of the tests' engines (base64 of 32 bytes).
const MASTER_KEY: &str = "cmFtcGFydCBhdWRpdCB0ZXN0cyBtYXN0ZXIga2V5ISE=";

/// An event as Rampart writes it: sealed with the audit key of `MASTER_KEY`.
fn event(app_id: Uuid, kind: &str, at: DateTime<Utc>) -> AuditEvent {
    let key = MasterKey::from_base64(MASTER_KEY).unwrap().subkey("audit chain head").unwrap();
    AuditEvent::record(app_id, at, Event::new(kind, Actor::system())).seal(&key)
}

async fn insert(store: &Arc<dyn Store>, events: &[AuditEvent]) {
    let mut tx = store.begin().await.unwrap();
    for e in events {
        tx.insert_audit_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn all(store: &Arc<dyn Store>, app_id: Uuid, filter: &AuditFilter) -> Vec<AuditEvent> {
    store.audit_events(app_id, filter, AuditPage::Before(None), 1000).await.unwrap()
}

async fn events_are_read_back_filtered_and_paged(store: Arc<dyn Store>) {
    let (app, _, user) = seed(&store, "acme").await;
    let other = Uuid::new_v4();
    let t0 = now() - secs(60);
    let mut signed_in = AuditEvent::record(
        app.id,
        t0,
        Event::new("end_user.signed_in", Actor::end_user(user.id))
            .subject("end_user", user.id)
            .session(Uuid::new_v4())
            .details(json!({"method": "password"})),
    );
    signed_in.ip = Some("203.0.113.9".into());
    signed_in.user_agent = Some("agent/1".into());
    signed_in.request_id = Some("req-1".into());
    let failed = AuditEvent::record(
        app.id,
        t0 + secs(10),
        Event::new("end_user.signin_failed", Actor::end_user(user.id))
            .failed()
            .subject("end_user", user.id)
            .details(json!({"reason": "wrong_password"})),
    );
    let role = event(app.id, "role.created", t0 + secs(20));
    insert(&store, &[signed_in.clone(), failed.clone(), role.clone()]).await;
    insert(&store, &[event(other, "end_user.signed_in", t0)]).await;

    // As written, newest first, unlinked until the sequencer comes; another app's apart.
    let read = all(&store, app.id, &AuditFilter::default()).await;
    assert_eq!(read.iter().map(|e| e.id).collect::<Vec<_>>(), vec![role.id, failed.id, signed_in.id]);
    let back = &read[2];
    assert_eq!((back.kind.as_str(), back.outcome, back.at), ("end_user.signed_in", Outcome::Success, t0));
    assert_eq!(back.actor, Actor::end_user(user.id));
    assert_eq!(back.subject.as_ref().map(|s| (s.kind.as_str(), s.id)), Some(("end_user", user.id)));
    assert_eq!(back.session_id, signed_in.session_id);
    assert_eq!(
        (back.ip.as_deref(), back.user_agent.as_deref(), back.request_id.as_deref()),
        (Some("203.0.113.9"), Some("agent/1"), Some("req-1"))
    );
    assert_eq!(back.details, r#"{"method":"password"}"#);
    assert_eq!(back.link, None);
    assert!(read.windows(2).all(|w| w[0].seq > w[1].seq));

    let ids = |events: Vec<AuditEvent>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let filtered = |f: AuditFilter| {
        let store = store.clone();
        async move { ids(all(&store, app.id, &f).await) }
    };
    assert_eq!(
        filtered(AuditFilter { kind: Some("end_user.*".into()), ..Default::default() }).await,
        vec![failed.id, signed_in.id]
    );
    assert_eq!(filtered(AuditFilter { kind: Some("role.created".into()), ..Default::default() }).await, vec![role.id]);
    assert_eq!(
        filtered(AuditFilter { kind: Some("end_user.signed".into()), ..Default::default() }).await,
        Vec::<Uuid>::new()
    );
    assert_eq!(filtered(AuditFilter { outcome: Some(Outcome::Failure), ..Default::default() }).await, vec![failed.id]);
    assert_eq!(
        filtered(AuditFilter { actor_id: Some(user.id), ..Default::default() }).await,
        vec![failed.id, signed_in.id]
    );
    assert_eq!(filtered(AuditFilter { subject_id: Some(user.id), ..Default::default() }).await.len(), 2);
    assert_eq!(
        filtered(AuditFilter { ip: Some("203.0.113.9".into()), ..Default::default() }).await,
        vec![signed_in.id]
    );
    let window = AuditFilter { from: Some(t0 + secs(5)), to: Some(t0 + secs(20)), ..Default::default() };
    assert_eq!(filtered(window).await, vec![failed.id], "from is inclusive, to exclusive");

    // Pages: newest first before a seq.
    let first = store.audit_events(app.id, &AuditFilter::default(), AuditPage::Before(None), 2).await.unwrap();
    assert_eq!(ids(first.clone()), vec![role.id, failed.id]);
    let next =
        store.audit_events(app.id, &AuditFilter::default(), AuditPage::Before(Some(first[1].seq)), 2).await.unwrap();
    assert_eq!(ids(next), vec![signed_in.id]);
    assert_eq!(store.pending_audit(app.id).await.unwrap(), 3);
    let mut pending = store.apps_with_pending_audit(10).await.unwrap();
    pending.sort();
    let mut expected = vec![app.id, other];
    expected.sort();
    assert_eq!(pending, expected);

    // Or the linked ones in chain order after a position, which is not their seq order when
    // their transactions committed out of turn; the unlinked are not in the chain yet.
    let chain = |after: i64, filter: AuditFilter| {
        let store = store.clone();
        async move { ids(store.audit_events(app.id, &filter, AuditPage::ChainAfter(after), 2).await.unwrap()) }
    };
    assert!(chain(0, AuditFilter::default()).await.is_empty());
    let link = |position: i64| Link { position, prev_hash: format!("h{}", position - 1), hash: format!("h{position}") };
    let (role_seq, failed_seq, signed_in_seq) = (read[0].seq, read[1].seq, read[2].seq);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.link_audit_events(&[(role_seq, link(1)), (signed_in_seq, link(2))]).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(chain(0, AuditFilter::default()).await, vec![role.id, signed_in.id]);
    assert!(chain(2, AuditFilter::default()).await.is_empty());
    let mut tx = store.begin().await.unwrap();
    assert!(tx.link_audit_events(&[(failed_seq, link(3))]).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(chain(1, AuditFilter::default()).await, vec![signed_in.id, failed.id]);
    assert_eq!(chain(2, AuditFilter::default()).await, vec![failed.id]);
    let of_user = AuditFilter { actor_id: Some(user.id), ..Default::default() };
    assert_eq!(chain(0, of_user).await, vec![signed_in.id, failed.id], "filters hold in chain order too");
}

async fn a_failed_event_insert_rolls_back_its_change(store: Arc<dyn Store>) {
    let (app, role, _) = seed(&store, "acme").await;
    let user = new_user(app.id, role.id, "ada");
    let mut oversized = event(app.id, "end_user.created", now());
    oversized.details = json!({"note": "x".repeat(9000)}).to_string();
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.insert_audit_event(&event(app.id, "end_user.created", now())).await.unwrap();
    assert!(tx.insert_audit_event(&oversized).await.is_err(), "the store refuses details over 8 KiB");
    drop(tx);
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), None, "no change without its event");
    assert!(all(&store, app.id, &AuditFilter::default()).await.is_empty(), "nor the other event");

    // And a change that is rolled back leaves no event.
    let mut tx = store.begin().await.unwrap();
    tx.insert_audit_event(&event(app.id, "end_user.created", now())).await.unwrap();
    tx.insert_user(&user).await.unwrap();
    drop(tx);
    assert!(all(&store, app.id, &AuditFilter::default()).await.is_empty(), "no event without its change");
}

async fn a_rotation_records_its_event_or_nothing(store: Arc<dyn Store>) {
    let (app, _, user) = seed(&store, "acme").await;
    let (session, token) = super::sessions::session_with_token(&store, &user).await;
    let at = now();
    let mut template =
        AuditEvent::record(app.id, at, Event::new("end_user.token_refreshed", Actor::end_user(Uuid::nil())));
    template.ip = Some("198.51.100.4".into());
    template.request_id = Some("req-r".into());
    let next = successor(b"audited", at);
    assert_eq!(store.rotate_refresh_token(app.id, &token.key(), &next, &template).await.unwrap(), Some(session.id));
    let events = all(&store, app.id, &AuditFilter::default()).await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.id, e.kind.as_str(), e.at, e.outcome),
        (template.id, "end_user.token_refreshed", at, Outcome::Success)
    );
    assert_eq!(e.actor, Actor::end_user(user.id), "the store fills in the session's user");
    assert_eq!(e.subject.as_ref().map(|s| s.id), Some(user.id));
    assert_eq!(e.session_id, Some(session.id));
    assert_eq!((e.ip.as_deref(), e.request_id.as_deref()), (Some("198.51.100.4"), Some("req-r")));

    // A rotation that does not happen records nothing.
    let again = AuditEvent::record(app.id, now(), Event::new("end_user.token_refreshed", Actor::end_user(Uuid::nil())));
    assert_eq!(
        store.rotate_refresh_token(app.id, &token.key(), &successor(b"twice", now()), &again).await.unwrap(),
        None
    );
    let unknown =
        AuditEvent::record(app.id, now(), Event::new("end_user.token_refreshed", Actor::end_user(Uuid::nil())));
    let nope = RefreshKey { digest: "nope".into(), ..token.key() };
    assert_eq!(store.rotate_refresh_token(app.id, &nope, &successor(b"x", now()), &unknown).await.unwrap(), None);
    assert_eq!(all(&store, app.id, &AuditFilter::default()).await.len(), 1);
}

async fn events_are_linked_once_and_heads_move_by_compare_and_set(store: Arc<dyn Store>) {
    let app_id = Uuid::new_v4();
    insert(&store, &[event(app_id, "a.one", now()), event(app_id, "a.two", now())]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.audit_head(app_id).await.unwrap(), None);
    let pending = tx.pending_audit_events(app_id, 10).await.unwrap();
    assert_eq!(pending.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["a.one", "a.two"]);
    let link = Link { position: 1, prev_hash: "genesis".into(), hash: "h1".into() };
    assert!(tx.link_audit_events(&[(pending[0].seq, link.clone())]).await.unwrap());
    assert!(!tx.link_audit_events(&[(pending[0].seq, link.clone())]).await.unwrap(), "linked once");
    let head = Head { position: 1, hash: "h1".into(), mac: "m1".into() };
    assert!(tx.advance_audit_head(app_id, None, &head).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.audit_head(app_id).await.unwrap(), Some(head.clone()));
    assert_eq!(store.pending_audit(app_id).await.unwrap(), 1);

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.advance_audit_head(app_id, None, &head).await.unwrap(), "a second first head loses");
    let stale = Head { position: 2, hash: "h2".into(), mac: "m2".into() };
    assert!(!tx.advance_audit_head(app_id, Some(0), &stale).await.unwrap(), "a stale head loses");
    assert!(tx.advance_audit_head(app_id, Some(1), &stale).await.unwrap());
    // Another event at a taken position is refused by the store.
    let clash = Link { position: 1, prev_hash: "x".into(), hash: "y".into() };
    assert!(matches!(tx.link_audit_events(&[(pending[1].seq, clash)]).await, Err(StoreError::Unique { .. })));
    drop(tx);
    assert_eq!(store.audit_head(app_id).await.unwrap(), Some(head), "rolled back");

    let chain = store.audit_chain(app_id, 0, 10).await.unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].link, Some(link));
}

async fn a_cut_removes_a_prefix_once(store: Arc<dyn Store>) {
    let app_id = Uuid::new_v4();
    let engine = engine(&store).await;
    insert(&store, &(0..5).map(|i| event(app_id, &format!("a.e{i}"), now())).collect::<Vec<_>>()).await;
    insert(&store, &[event(Uuid::new_v4(), "b.other", now())]).await;
    engine.sequence_audit().await.unwrap();
    let chain = store.audit_chain(app_id, 0, 10).await.unwrap();
    let third = chain[2].link.clone().unwrap();
    let checkpoint = Checkpoint {
        app_id,
        head: Head { position: 3, hash: third.hash.clone(), mac: "m".into() },
        at: now(),
        removed: 3,
    };
    let mut tx = store.begin().await.unwrap();
    assert!(tx.cut_audit(&checkpoint).await.unwrap());
    assert!(!tx.cut_audit(&checkpoint).await.unwrap(), "once");
    tx.commit().await.unwrap();
    let left = store.audit_chain(app_id, 0, 10).await.unwrap();
    assert_eq!(left.iter().map(|e| e.link.as_ref().unwrap().position).collect::<Vec<_>>(), vec![4, 5]);
    assert_eq!(store.audit_checkpoint(app_id).await.unwrap(), Some(checkpoint));
}

async fn engine(store: &Arc<dyn Store>) -> Engine {
    engine_with(store, MASTER_KEY).await
}

async fn engine_with(store: &Arc<dyn Store>, key: &str) -> Engine {
    let config = EngineConfig {
        public_url: "http://rampart.test".into(),
        master_key: MasterKey::from_base64(key).unwrap(),
        mail: Default::default(),
        counters: None,
        outbound_reachable: Default::default(),
    };
    Engine::new(store.clone(), config).await.unwrap()
}

/// Writers on two apps and two engines (nodes) sequencing at once: each app still gets one
/// chain, every event linked once, and it verifies.
async fn racing_writers_and_sequencers_make_one_valid_chain(store: Arc<dyn Store>) {
    let nodes = [Arc::new(engine(&store).await), Arc::new(engine(&store).await)];
    let apps = [Uuid::new_v4(), Uuid::new_v4()];
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        let node = nodes[writer % 2].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let app_id = apps[(writer + i) % 2];
                let mut tx = store.begin().await.unwrap();
                tx.insert_audit_event(&event(app_id, "race.written", now())).await.unwrap();
                tx.commit().await.unwrap();
                if i % 5 == 0 {
                    node.sequence_audit().await.unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let (a, b) = tokio::join!(nodes[0].sequence_audit(), nodes[1].sequence_audit());
    a.unwrap();
    b.unwrap();
    let mut total = 0;
    for app_id in apps {
        let verification = nodes[1].verify_audit_of(app_id).await.unwrap();
        assert!(verification.valid, "{verification:?}");
        assert_eq!(verification.pending, 0);
        let chain = store.audit_chain(app_id, 0, 1000).await.unwrap();
        let positions: Vec<i64> = chain.iter().map(|e| e.link.as_ref().unwrap().position).collect();
        assert_eq!(positions, (1..=chain.len() as i64).collect::<Vec<_>>());
        assert_eq!(verification.checked, chain.len() as i64);
        total += chain.len();
    }
    assert_eq!(total, 200, "every event linked, once");
}

async fn retention_leaves_a_chain_that_verifies(store: Arc<dyn Store>) {
    let engine = engine(&store).await;
    let mut app = new_app("kept");
    app.config = AuthConfig { audit_retention_days: 30, ..AuthConfig::default() };
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();
    let at = now();
    let old: Vec<AuditEvent> = (0..4).map(|i| event(app.id, "old.event", at - TimeDelta::days(40) + secs(i))).collect();
    let recent: Vec<AuditEvent> =
        (0..3).map(|i| event(app.id, "recent.event", at - TimeDelta::days(1) + secs(i))).collect();
    insert(&store, &old).await;
    insert(&store, &recent).await;
    engine.sequence_audit().await.unwrap();

    assert_eq!(engine.apply_audit_retention(at).await.unwrap(), 4);
    assert_eq!(engine.apply_audit_retention(at).await.unwrap(), 0, "nothing more is due");
    let v = engine.verify_audit_of(app.id).await.unwrap();
    assert!(v.valid, "{v:?}");
    let checkpoint = v.checkpoint.clone().unwrap();
    assert_eq!((checkpoint.position, checkpoint.removed), (4, 4));
    // The three recent events, and the cut's own record of itself.
    assert_eq!(v.checked, 4);
    let kinds: Vec<String> = all(&store, app.id, &AuditFilter::default()).await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec!["audit.retention_applied", "recent.event", "recent.event", "recent.event"]);

    // A checkpoint forged without the master key does not verify.
    let other = engine_with(&store, &MasterKey::generate_base64()).await;
    let forged = other.verify_audit_of(app.id).await.unwrap();
    assert!(!forged.valid);
    assert_eq!(forged.first_broken.unwrap().reason, "checkpoint");
}

/// A row slipped into the table by someone without the master key is linked like any other
/// (the sequencer cannot tell who inserted it), and verification names it.
async fn an_event_rampart_did_not_write_is_named(store: Arc<dyn Store>) {
    let engine = engine(&store).await;
    let app_id = Uuid::new_v4();
    insert(&store, &[event(app_id, "a.real", now()), event(app_id, "a.real", now())]).await;
    let mut forged = AuditEvent::record(app_id, now(), Event::new("a.forged", Actor::system()));
    forged.mac = "0".repeat(64);
    insert(&store, &[forged.clone(), event(app_id, "a.real", now())]).await;
    let v = engine.verify_audit_of(app_id).await.unwrap();
    assert!(!v.valid);
    let broken = v.first_broken.unwrap();
    assert_eq!((broken.position, broken.id, broken.reason.as_str()), (3, Some(forged.id), "forged"));
    assert_eq!(v.checked, 2);
}
