//! The audit log's hash chain (issue 11): the export is the chain, recomputable line by line;
//! rows edited, removed, reordered or rewritten in the database are found by verify; many
//! writers at once, through one node or two, still make one valid chain.

use chrono::{DateTime, Utc};
use domain::audit::{genesis, link_hash, Actor, ActorKind, AuditEvent, Event, Outcome, Subject};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use uuid::Uuid;

use crate::audit::{events, verify};
use crate::helpers::{access_token, both_stores, json_of, refresh_token, two_nodes, Backend, TestApp, PASSWORD};

/// The app's id.
async fn id_of(app: &TestApp, slug: &str) -> Uuid {
    app.engine.app(slug).await.unwrap().id
}

/// The app's export, as JSON lines; checks the answer is one.
async fn export(app: &TestApp, token: &str, slug: &str, query: &str) -> Vec<Value> {
    let response = app.get_with_bearer(&format!("/api/v1/apps/{slug}/audit/export{query}"), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "application/x-ndjson");
    assert_eq!(header("content-disposition"), format!("attachment; filename=\"audit-{slug}.jsonl\""));
    let text = response.text().await.unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect()
}

/// The event an export line describes, as it was hashed.
fn event_of(app_id: Uuid, line: &Value) -> AuditEvent {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let id = |v: &Value| v.as_str().map(|s| Uuid::parse_str(s).unwrap());
    let time = DateTime::parse_from_rfc3339(line["time"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    AuditEvent {
        seq: 0,
        id: id(&line["id"]).unwrap(),
        app_id,
        at: time,
        kind: text(&line["type"]).unwrap(),
        outcome: Outcome::parse(line["outcome"].as_str().unwrap()).unwrap(),
        actor: Actor {
            kind: ActorKind::parse(line["actor"]["type"].as_str().unwrap()).unwrap(),
            id: id(&line["actor"]["id"]),
        },
        subject: line["subject"]["type"].as_str().map(|kind| Subject::new(kind, id(&line["subject"]["id"]).unwrap())),
        session_id: id(&line["session_id"]),
        ip: text(&line["ip"]),
        user_agent: text(&line["user_agent"]),
        request_id: text(&line["request_id"]),
        details: line["details"].to_string(),
        mac: String::new(),
        link: None,
    }
}

/// Checks that the lines are the app's whole chain in order: positions 1, 2, …, each line
/// linked to the one before, each hash recomputed from the line as it reads.
fn assert_chain(app_id: Uuid, lines: &[Value]) {
    let mut prev = genesis(app_id);
    for (i, line) in lines.iter().enumerate() {
        let position = i as i64 + 1;
        assert_eq!(line["position"], position, "line {position}: {line}");
        assert_eq!(line["prev_hash"], prev.as_str(), "line {position}: {line}");
        let hash = link_hash(&prev, position, &event_of(app_id, line));
        assert_eq!(line["hash"], hash.as_str(), "line {position} does not hash to its hash: {line}");
        prev = hash;
    }
}

async fn refresh(app: &TestApp, slug: &str, token: &str) -> Value {
    let response = app.post_json(&format!("/{slug}/v1/auth/refresh"), &json!({ "refresh_token": token })).await;
    json_of(response, StatusCode::OK).await
}

async fn export_is_the_chain(app: TestApp) {
    let owner = app.app_with_owner("ledger").await;
    let app_id = id_of(&app, "ledger").await;
    for name in ["ada", "grace"] {
        app.signup_end_user("ledger", name).await;
        let pair = app.signin_end_user("ledger", name).await;
        refresh(&app, "ledger", &refresh_token(&pair)).await;
    }
    app.patch_config(&owner, "ledger", &json!({ "password_min_length": 12, "signup_enabled": false })).await;

    let lines = export(&app, &owner, "ledger", "").await;
    let log = events(&app, &owner, "ledger", &[]).await;
    assert_eq!(lines.len(), log.len());
    assert_chain(app_id, &lines);
    // Oldest first: the list, the other way round; the same events, plus their links.
    for (line, event) in lines.iter().zip(log.iter().rev()) {
        let mut without_link = line.clone();
        for field in ["prev_hash", "hash"] {
            without_link.as_object_mut().unwrap().remove(field);
        }
        assert_eq!(&without_link, event);
    }
    let verification = verify(&app, &owner, "ledger").await;
    assert_eq!(verification["head"]["hash"], lines.last().unwrap()["hash"]);
    assert_eq!(verification["checked"], lines.len());

    // Filtered: those events only, still in chain order.
    let signed_in = export(&app, &owner, "ledger", "?type=end_user.signed_in").await;
    assert_eq!(signed_in.len(), 2);
    assert!(signed_in.iter().all(|l| l["type"] == "end_user.signed_in"));
    assert!(signed_in[0]["position"].as_i64() < signed_in[1]["position"].as_i64());
    assert!(export(&app, &owner, "ledger", "?type=license.*").await.is_empty());
}

/// Seven linked events in a new app `slug` (its creation, two sign-ups, two sign-ins), the
/// chain verified; returns the owner's token and the app's id.
async fn linked_chain(app: &TestApp, slug: &str) -> (String, Uuid) {
    let owner = app.app_with_owner(slug).await;
    for name in ["ada", "grace"] {
        app.signup_end_user(slug, name).await;
    }
    for name in ["ada", "grace"] {
        app.signin_end_user(slug, name).await;
    }
    let verification = verify(app, &owner, slug).await;
    assert_eq!((verification["valid"].clone(), verification["checked"].clone()), (json!(true), json!(7)));
    (owner, id_of(app, slug).await)
}

/// Runs `statements` on the app's database, as someone who can write to it but does not
/// hold the master key would; `$1` in each is the app's id.
async fn tamper(app: &TestApp, app_id: Uuid, statements: &[String]) {
    macro_rules! run {
        ($conn:expr) => {{
            let mut conn = $conn.await.expect("the test's database");
            for sql in statements {
                let done = sqlx::query(sql).bind(app_id).execute(&mut conn).await.expect(sql);
                assert!(done.rows_affected() > 0, "{sql} changed nothing");
            }
            conn.close().await.ok();
        }};
    }
    match app.backend {
        Backend::Sqlite => run!(SqliteConnection::connect(&app.database_url)),
        Backend::Postgres => run!(PgConnection::connect(&app.database_url)),
    }
}

/// Each way of tampering with a chain, each on a fresh app: verify names where it breaks and
/// why, through the API and the operator's check alike.
async fn tampering_is_detected(app: TestApp) {
    let forged = r#"{"reason":"forged"}"#;
    for case in ["content", "ip", "missing", "reorder", "tail", "head-mac", "rewrite"] {
        let slug = format!("tamper-{case}");
        let (owner, app_id) = linked_chain(&app, &slug).await;
        let chain = app.engine.store().audit_chain(app_id, 0, 100).await.unwrap();
        assert_eq!(chain.len(), 7);
        let id_at = |position: usize| json!(chain[position - 1].id);
        let at = |position: i64| format!("WHERE app_id = $1 AND position = {position}");
        let (statements, broken, checked) = match case {
            "content" => (
                vec![format!("UPDATE audit_events SET details = '{forged}' {}", at(4))],
                json!({ "position": 4, "id": id_at(4), "reason": "content" }),
                3,
            ),
            "ip" => (
                vec![format!("UPDATE audit_events SET ip = '10.9.9.9' {}", at(2))],
                json!({ "position": 2, "id": id_at(2), "reason": "content" }),
                1,
            ),
            "missing" => (
                vec![format!("DELETE FROM audit_events {}", at(4))],
                json!({ "position": 4, "id": null, "reason": "missing" }),
                3,
            ),
            "reorder" => (
                vec![
                    format!("UPDATE audit_events SET position = -4 {}", at(4)),
                    format!("UPDATE audit_events SET position = 4 {}", at(5)),
                    format!("UPDATE audit_events SET position = 5 {}", at(-4)),
                ],
                // The event now at 4 does not follow 3.
                json!({ "position": 4, "id": id_at(5), "reason": "link" }),
                3,
            ),
            "tail" => (
                vec![format!("DELETE FROM audit_events {}", at(7))],
                json!({ "position": 7, "id": null, "reason": "missing" }),
                6,
            ),
            "head-mac" => (
                vec![format!("UPDATE audit_heads SET mac = '{}' WHERE app_id = $1", "0".repeat(64))],
                json!({ "position": 7, "id": null, "reason": "head" }),
                7,
            ),
            // Rewritten with every later hash recomputed, as SHA-256 lets anyone: the event's
            // own MAC, keyed by the master key, gives it away (and the head's would next).
            "rewrite" => {
                let mut statements = Vec::new();
                let mut prev = chain[3].link.as_ref().unwrap().prev_hash.clone();
                for (i, event) in chain.iter().enumerate().skip(3) {
                    let mut event = event.clone();
                    let position = i as i64 + 1;
                    if position == 4 {
                        event.details = forged.to_owned();
                    }
                    let hash = link_hash(&prev, position, &event);
                    statements.push(format!(
                        "UPDATE audit_events SET details = '{}', prev_hash = '{prev}', hash = '{hash}' {}",
                        event.details,
                        at(position)
                    ));
                    prev = hash;
                }
                statements.push(format!("UPDATE audit_heads SET hash = '{prev}' WHERE app_id = $1"));
                (statements, json!({ "position": 4, "id": chain[3].id, "reason": "forged" }), 3)
            }
            other => unreachable!("{other}"),
        };
        tamper(&app, app_id, &statements).await;

        let verification = verify(&app, &owner, &slug).await;
        assert_eq!(verification["valid"], false, "{case}: {verification}");
        assert_eq!(verification["first_broken"], broken, "{case}: {verification}");
        assert_eq!(verification["checked"], checked, "{case}: {verification}");
        let operator = app.engine.verify_audit_of(app_id).await.unwrap();
        assert!(!operator.valid, "{case}");
        assert_eq!(json!(operator.first_broken), broken, "{case}");
    }
    // The other chains are untouched by all this; a deleted app's log outlives it.
    let (owner, untouched) = linked_chain(&app, "untouched").await;
    assert_eq!(app.delete_with_bearer("/api/v1/apps/untouched", &owner).await.status(), StatusCode::NO_CONTENT);
    let operator = app.engine.verify_audit_of(untouched).await.unwrap();
    assert!(operator.valid && operator.checked == 8, "{operator:?}");
    let platform = id_of(&app, "platform").await;
    assert!(app.engine.verify_audit_of(platform).await.unwrap().valid);
}

/// Signs `identifier` in to `slug` through `client`, again while the password queue is full
/// (other tests share it); returns the token pair.
async fn signin_patiently(client: &reqwest::Client, base: &str, slug: &str, identifier: &str) -> Value {
    for _ in 0..100 {
        let response = client
            .post(format!("{base}/{slug}/v1/auth/signin"))
            .json(&json!({ "identifier": identifier, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            return json_of(response, StatusCode::OK).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{identifier} could not sign in: the password queue stayed full");
}

/// Twenty sign-ins, each refreshed twice, at once, through `nodes` in turn.
async fn rush(nodes: &[&TestApp], slug: &str) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let node = nodes[i % nodes.len()];
        let (client, base, slug) = (node.client.clone(), node.address.clone(), slug.to_owned());
        let name = RUSHERS[i % RUSHERS.len()];
        tasks.spawn(async move {
            let mut pair = signin_patiently(&client, &base, &slug, name).await;
            for _ in 0..2 {
                let response = client
                    .post(format!("{base}/{slug}/v1/auth/refresh"))
                    .json(&json!({ "refresh_token": refresh_token(&pair) }))
                    .send()
                    .await
                    .unwrap();
                pair = json_of(response, StatusCode::OK).await;
            }
            access_token(&pair)
        });
    }
    assert_eq!(tasks.join_all().await.len(), 20);
}

/// Checks the app's chain holds every one of its events, valid, through `node`.
async fn assert_one_valid_chain(node: &TestApp, owner: &str, slug: &str, expected: usize) {
    let log = events(node, owner, slug, &[]).await;
    assert_eq!(log.len(), expected, "{:?}", crate::audit::census(&log));
    let verification = verify(node, owner, slug).await;
    assert_eq!(verification["valid"], true, "{verification}");
    assert_eq!(verification["checked"], log.len(), "{verification}");
    assert_eq!(verification["pending"], 0, "{verification}");
    let lines = export(node, owner, slug, "").await;
    assert_eq!(lines.len(), log.len());
    assert_chain(id_of(node, slug).await, &lines);
}

const RUSHERS: [&str; 4] = ["ada", "grace", "edsger", "barbara"];

async fn concurrent_writers_make_one_chain(app: TestApp) {
    let owner = app.app_with_owner("rush").await;
    for name in RUSHERS {
        app.signup_end_user("rush", name).await;
    }
    rush(&[&app], "rush").await;
    // Its creation (3), the sign-ups (4), and 20 sign-ins with 40 refreshes.
    assert_one_valid_chain(&app, &owner, "rush", 3 + 4 + 20 + 40).await;
}

async fn two_nodes_make_one_chain(a: TestApp, b: TestApp) {
    let owner = a.app_with_owner("rush").await;
    for (i, name) in RUSHERS.into_iter().enumerate() {
        [&a, &b][i % 2].signup_end_user("rush", name).await;
    }
    let roles = async {
        for (i, node) in [&a, &b, &a, &b].into_iter().enumerate() {
            let body = json!({ "name": format!("team-{i}"), "permissions": [format!("team{i}.read")] });
            let response = node.post_json_with_bearer("/api/v1/apps/rush/roles", &owner, &body).await;
            json_of(response, StatusCode::CREATED).await;
        }
    };
    let nodes = [&a, &b];
    tokio::join!(rush(&nodes, "rush"), roles);
    // Its creation, the sign-ups, the rush, and four roles with a permission each.
    let expected = 3 + 4 + 20 + 40 + 8;
    assert_one_valid_chain(&a, &owner, "rush", expected).await;
    assert_one_valid_chain(&b, &owner, "rush", expected).await;
    assert_eq!(verify(&a, &owner, "rush").await["head"], verify(&b, &owner, "rush").await["head"]);
}

/// A change that commits after a later one is linked after it: the export follows the
/// chain, not the order the events were first written in. (PostgreSQL only: SQLite has one
/// writer, so its commits cannot interleave.)
async fn export_follows_the_chain_when_commits_interleave(app: TestApp) {
    let owner = app.app_with_owner("late").await;
    let app_id = id_of(&app, "late").await;
    let mut slow = app.engine.store().begin().await.unwrap();
    let event = Event::new("app.updated", Actor::system()).subject("app", app_id).details(json!({ "slow": true }));
    let key = app.master_key.subkey("audit chain head").unwrap();
    slow.insert_audit_event(&AuditEvent::record(app_id, Utc::now(), event).seal(&key)).await.unwrap();
    // Meanwhile another change commits, and is linked.
    app.signup_end_user("late", "ada").await;
    app.engine.sequence_audit().await.unwrap();
    slow.commit().await.unwrap();
    app.engine.sequence_audit().await.unwrap();

    let lines = export(&app, &owner, "late", "").await;
    assert_eq!(lines.len(), 5);
    assert_chain(app_id, &lines);
    assert_eq!(lines[3]["type"], "end_user.signed_up");
    assert_eq!(lines[4]["details"], json!({ "slow": true }));
    assert_eq!(verify(&app, &owner, "late").await["valid"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_follows_the_chain_when_commits_interleave_postgres() {
    crate::helpers::run(Backend::Postgres, export_follows_the_chain_when_commits_interleave).await
}

both_stores!(export_is_the_chain, tampering_is_detected, concurrent_writers_make_one_chain);
two_nodes!(two_nodes_make_one_chain);
