//! Webhooks: events delivered to a local receiver, signed per Standard Webhooks (checked with
//! the specification's algorithm in Python, not with Rampart's code), retried after the
//! receiver comes back, redelivered on request, secrets rotated with both signatures during
//! the overlap, an endpoint failing for a day disabled with a mail to the owners; SSRF
//! refusals, bad input and permissions. The servers here open loopback to webhooks
//! explicitly (`RAMPART_OUTBOUND_ALLOWED_NETWORKS`), except where the refusal is the point.

use std::future::Future;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::helpers::{assert_error, execute_sql, json_of, mail_to, Backend, TestApp};

/// One message the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A local HTTP endpoint that records what it receives and answers `status`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        let handler = move |headers: HeaderMap, body: String| {
            let (g, s) = (g.clone(), s.clone());
            async move {
                let header =
                    |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                g.lock().unwrap().push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                });
                axum::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, got, status }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` messages arrived (at most `limit`).
    async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "{} of {n} webhook messages within {limit:?}: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks `message` against `secret` the way the specification says a receiver must, in
/// Python's standard library: HMAC-SHA256 of `{id}.{timestamp}.{body}` under the base64
/// secret after `whsec_`, compared with each `v1,` entry. True when one matches.
fn verifies(secret: &str, message: &Received) -> bool {
    const SCRIPT: &str = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, sigs, body = sys.argv[1:6]
key = base64.b64decode(secret.split("_", 1)[1])
expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
ok = any(s.split(",", 1)[0] == "v1" and hmac.compare_digest(s.split(",", 1)[1], expected) for s in sigs.split(" "))
print("ok" if ok else "bad")
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT, secret, &message.id, &message.timestamp, &message.signature, &message.body])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim() == "ok"
}

async fn with_app<F, Fut>(backend: Backend, open_loopback: bool, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let opened = if open_loopback { "127.0.0.0/8" } else { "" };
    let env = vec![("RAMPART_OUTBOUND_ALLOWED_NETWORKS", opened.to_owned())];
    let mut app = TestApp::spawn_with_env(backend, &env).await;
    let cleanup = app.take_cleanup();
    let outcome = tokio::spawn(test(app)).await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn create_hook(app: &TestApp, owner: &str, slug: &str, body: &Value) -> reqwest::Response {
    app.post_json_with_bearer(&format!("/api/v1/apps/{slug}/webhooks"), owner, body).await
}

async fn deliveries(app: &TestApp, owner: &str, slug: &str, id: &str) -> Vec<Value> {
    let path = format!("/api/v1/apps/{slug}/webhooks/{id}/deliveries");
    json_of(app.get_with_bearer(&path, owner).await, StatusCode::OK).await["deliveries"].as_array().unwrap().clone()
}

async fn delivered_signed_and_logged(app: TestApp) {
    let receiver = Receiver::start().await;
    let owner = app.app_with_owner("hooked").await;
    let created = json_of(
        create_hook(
            &app,
            &owner,
            "hooked",
            &json!({"url": receiver.url, "event_types": ["end_user.signed_up"], "description": "CRM sync"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = created["id"].as_str().unwrap().to_owned();
    // Never shown again.
    let listed = json_of(app.get_with_bearer("/api/v1/apps/hooked/webhooks", &owner).await, StatusCode::OK).await;
    assert!(!listed.to_string().contains(&secret[6..]));
    assert_eq!(listed["webhooks"][0]["description"], "CRM sync");

    app.signup_end_user("hooked", "wendy").await;
    // A sign-in is not subscribed to: only the sign-up arrives.
    app.signin_end_user("hooked", "wendy").await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "only the subscribed type is sent");
    let message = &got[0];
    assert!(message.id.starts_with("msg_"));
    let ts: i64 = message.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    assert!(verifies(&secret, message), "signature does not verify: {message:?}");
    let tampered = Received { body: message.body.replace("wendy", "wendz"), ..message.clone() };
    assert!(!verifies(&secret, &tampered));
    let body: Value = serde_json::from_str(&message.body).unwrap();
    assert_eq!(body["type"], "end_user.signed_up");
    assert_eq!(body["data"]["type"], "end_user.signed_up");
    assert!(body["data"]["id"].is_string() && body["timestamp"].is_string());
    assert!(!message.body.contains("YourSecurePassword123"));

    // The log says it was delivered, with the receiver's status.
    let log = deliveries(&app, &owner, "hooked", &id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["last_status"], 200);
    assert_eq!(log[0]["attempts"], 1);

    // Redelivery sends the same message (same id) again.
    let path = format!("/api/v1/apps/hooked/webhooks/{id}/deliveries/{}/redeliver", log[0]["id"].as_str().unwrap());
    assert_eq!(app.post_json_with_bearer(&path, &owner, &json!({})).await.status(), StatusCode::ACCEPTED);
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got[1].id, got[0].id);
    assert!(verifies(&secret, &got[1]));

    // Rotation: during the overlap both secrets' signatures are sent.
    let path = format!("/api/v1/apps/hooked/webhooks/{id}/rotate-secret");
    let rotated =
        json_of(app.post_json_with_bearer(&path, &owner, &json!({"overlap_seconds": 600})).await, StatusCode::OK).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_until"].is_string());
    app.signup_end_user("hooked", "walter").await;
    let got = receiver.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got[2].signature.split(' ').count(), 2);
    assert!(verifies(&new_secret, &got[2]) && verifies(&secret, &got[2]));
    // Without overlap, only the newest secret signs.
    let rotated =
        json_of(app.post_json_with_bearer(&path, &owner, &json!({"overlap_seconds": 0})).await, StatusCode::OK).await;
    let newest = rotated["secret"].as_str().unwrap().to_owned();
    app.signup_end_user("hooked", "wilma").await;
    let got = receiver.wait_for(4, Duration::from_secs(10)).await;
    assert!(verifies(&newest, &got[3]) && !verifies(&new_secret, &got[3]));

    // Every change to the endpoint is audited.
    let audit =
        json_of(app.get_with_bearer("/api/v1/apps/hooked/audit?type=webhook.created", &owner).await, StatusCode::OK)
            .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1);
    assert!(!audit.to_string().contains(&secret[6..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_signed_and_logged_sqlite() {
    with_app(Backend::Sqlite, true, delivered_signed_and_logged).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_signed_and_logged_postgres() {
    with_app(Backend::Postgres, true, delivered_signed_and_logged).await
}

/// A receiver that fails gets the message again, with backoff, once it answers; a day of
/// failures disables the endpoint, says so in the log, and mails the owners.
async fn retried_then_disabled(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.status.store(503, Ordering::SeqCst);
    let owner = app.app_with_owner("flaky").await;
    let created = json_of(
        create_hook(&app, &owner, "flaky", &json!({"url": receiver.url, "event_types": ["*"]})).await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.signup_end_user("flaky", "fred").await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    // The first attempt failed and is queued again.
    let deadline = Instant::now() + Duration::from_secs(5);
    let first = loop {
        let log = deliveries(&app, &owner, "flaky", &id).await;
        if log.first().is_some_and(|d| d["attempts"] == 1) {
            break log[0].clone();
        }
        assert!(Instant::now() < deadline, "first attempt not recorded: {log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(first["status"], "queued");
    assert_eq!(first["last_status"], 503);
    // The receiver comes back: the retry (5 s later) delivers the same message.
    receiver.status.store(200, Ordering::SeqCst);
    let got = receiver.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(got[0].id, got[1].id);
    let deadline = Instant::now() + Duration::from_secs(5);
    while deliveries(&app, &owner, "flaky", &id).await[0]["status"] != "delivered" {
        assert!(Instant::now() < deadline, "retry not recorded as delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Now it fails again, and has been failing for more than a day: the next attempt disables it.
    receiver.status.store(500, Ordering::SeqCst);
    app.signup_end_user("flaky", "fiona").await;
    receiver.wait_for(3, Duration::from_secs(10)).await;
    let (sqlite_past, postgres_past) = (
        format!("{}", chrono::Utc::now().timestamp_millis() - 25 * 3_600_000),
        "now() - interval '25 hours'".to_owned(),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    execute_sql(
        &app,
        &format!("UPDATE webhook_endpoints SET failing_since = {sqlite_past}"),
        &format!("UPDATE webhook_endpoints SET failing_since = {postgres_past}"),
    )
    .await;
    execute_sql(
        &app,
        "UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE status = 'queued'",
        "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'queued'",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let disabled = loop {
        let hook =
            json_of(app.get_with_bearer(&format!("/api/v1/apps/flaky/webhooks/{id}"), &owner).await, StatusCode::OK)
                .await;
        if hook["enabled"] == false {
            break hook;
        }
        assert!(Instant::now() < deadline, "endpoint not disabled: {hook}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(disabled["disabled_reason"].as_str().unwrap().contains("a day"));
    let mail = mail_to(&app, "flaky-owner@example.com").await;
    assert!(mail.subject().unwrap_or_default().contains("disabled"), "{:?}", mail.subject());
    assert!(mail.text_body().unwrap_or_default().contains(&receiver.url));
    let audit =
        json_of(app.get_with_bearer("/api/v1/apps/flaky/audit?type=webhook.disabled", &owner).await, StatusCode::OK)
            .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1);
    // Nothing more is sent to a disabled endpoint, and redelivery asks to enable it first.
    let before = receiver.received().len();
    app.signup_end_user("flaky", "felix").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), before);
    let log = deliveries(&app, &owner, "flaky", &id).await;
    let path = format!("/api/v1/apps/flaky/webhooks/{id}/deliveries/{}/redeliver", log[0]["id"].as_str().unwrap());
    assert_error(app.post_json_with_bearer(&path, &owner, &json!({})).await, StatusCode::CONFLICT, "CONFLICT").await;
    // Enabled again, it forgets its failures.
    let path = format!("/api/v1/apps/flaky/webhooks/{id}");
    let enabled =
        json_of(app.patch_json_with_bearer(&path, &owner, &json!({"enabled": true})).await, StatusCode::OK).await;
    assert_eq!(enabled["enabled"], true);
    assert!(enabled["disabled_reason"].is_null() && enabled["failing_since"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_then_disabled_sqlite() {
    with_app(Backend::Sqlite, true, retried_then_disabled).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_then_disabled_postgres() {
    with_app(Backend::Postgres, true, retried_then_disabled).await
}

/// Without the operator opening them, internal addresses are refused as targets (SSRF);
/// bad input is a 400 that stores nothing; only `webhook.update` may change endpoints.
async fn refusals(app: TestApp) {
    let owner = app.app_with_owner("guarded").await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hook",
        "http://192.168.1.1/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "ftp://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "not a url",
    ] {
        let response = create_hook(&app, &owner, "guarded", &json!({"url": url, "event_types": ["*"]})).await;
        let body = assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        assert!(body["message"].as_str().unwrap().starts_with("url"), "{url}: {body}");
    }
    for bad in [
        json!({"url": "https://hooks.example.com/x", "event_types": []}),
        json!({"url": "https://hooks.example.com/x", "event_types": ["Signed In"]}),
        json!({"url": "https://hooks.example.com/x", "event_types": ["*"], "description": "x".repeat(201)}),
        json!({"url": "https://hooks.example.com/x", "event_types": ["*"], "secret": "mine"}),
        json!({"url": "https://hooks.example.com/x"}),
    ] {
        assert_error(create_hook(&app, &owner, "guarded", &bad).await, StatusCode::BAD_REQUEST, "INVALID_REQUEST")
            .await;
    }
    let listed = json_of(app.get_with_bearer("/api/v1/apps/guarded/webhooks", &owner).await, StatusCode::OK).await;
    assert_eq!(listed["webhooks"], json!([]));

    // A public URL is taken (it is resolved and checked again at each delivery).
    let ok = json!({"url": "https://hooks.example.com/rampart", "event_types": ["end_user.signed_in"]});
    let created = json_of(create_hook(&app, &owner, "guarded", &ok).await, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/apps/guarded/webhooks/{id}");
    let moved = app.patch_json_with_bearer(&path, &owner, &json!({"url": "http://127.0.0.1/x"})).await;
    assert_error(moved, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    // Permissions: a stranger sees nothing; a reading key cannot change anything.
    let stranger = app.account_token("hookstranger").await;
    assert_error(create_hook(&app, &stranger, "guarded", &ok).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let (_, reader) = create_key(&app, &owner, "guarded", &["webhook.read"]).await;
    let listed = json_of(app.get_with_bearer("/api/v1/apps/guarded/webhooks", &reader).await, StatusCode::OK).await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert_error(create_hook(&app, &reader, "guarded", &ok).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(app.delete_with_bearer(&path, &reader).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let unknown = "/api/v1/apps/guarded/webhooks/0190d5c1-8a1b-7c3d-9e4f-5a6b7c8d9e0f";
    assert_error(app.get_with_bearer(unknown, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(app.delete_with_bearer(&path, &owner).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get_with_bearer(&path, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_sqlite() {
    with_app(Backend::Sqlite, false, refusals).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_postgres() {
    with_app(Backend::Postgres, false, refusals).await
}
