//! `GET /metrics`: scraped after a flow and parsed as Prometheus text; the counters the flow
//! moved are there, labels are bounded (route templates, real apps only, no ids), and the
//! optional bearer guards it.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{access_token, refresh_token, Backend, TestApp};

/// One sample: its metric name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses Prometheus's text format (comments skipped), failing on any line it cannot read.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = BTreeMap::new();
                let mut rest = body;
                while !rest.is_empty() {
                    let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
                    // Values here never hold an escaped quote (route templates, slugs, codes).
                    let (value, after) = after.split_once('"').unwrap_or_else(|| panic!("bad label value: {line}"));
                    labels.insert(key.to_owned(), value.to_owned());
                    rest = after.strip_prefix(',').unwrap_or(after);
                }
                (name.to_owned(), labels)
            }
        };
        samples.push(Sample { name, labels, value });
    }
    samples
}

fn sum(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && with.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
        .sum()
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn metrics_after_a_flow(app: TestApp) {
    app.app_with_owner("metered").await;
    let pair = app.signup_end_user("metered", "meg").await;
    app.me("metered", &access_token(&pair)).await;
    let wrong =
        app.post_json("/metered/v1/auth/signin", &json!({"identifier": "meg", "password": "not-the-password"})).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let refreshed = app.post_json("/metered/v1/auth/refresh", &json!({"refresh_token": refresh_token(&pair)})).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    // Made-up apps and ids in paths must not become labels.
    for junk in ["nosuchapp-1", "nosuchapp-2", "nosuchapp-3"] {
        app.get(&format!("/{junk}/v1/me")).await;
        app.get(&format!("/{junk}/v1/.well-known/jwks.json")).await;
    }
    app.get("/api/v1/apps/metered/end-users/0190d5c1-8a1b-7c3d-9e4f-5a6b7c8d9e0f").await;

    let response = scrape(&app, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain"));
    let samples = parse(&response.text().await.unwrap());

    // Requests by route template, status and app.
    let me = [("route", "/{slug}/v1/me"), ("app", "metered"), ("status", "200"), ("method", "GET")];
    assert!(sum(&samples, "rampart_http_requests_total", &me) >= 1.0);
    assert!(sum(&samples, "rampart_http_request_duration_seconds_count", &[("route", "/{slug}/v1/me")]) >= 1.0);
    assert!(samples.iter().any(|s| s.name == "rampart_http_request_duration_seconds_bucket"));
    // The engine's counters (the recorder is the process's: other tests add to it too).
    assert!(sum(&samples, "rampart_signins_total", &[("outcome", "failure")]) >= 1.0);
    assert!(sum(&samples, "rampart_refreshes_total", &[]) >= 1.0);
    assert!(sum(&samples, "rampart_audit_events_total", &[("type", "end_user.signed_up")]) >= 1.0);
    assert!(sum(&samples, "rampart_cache_lookups_total", &[("cache", "app"), ("result", "hit")]) >= 1.0);
    // Gauges read at scrape.
    assert!(sum(&samples, "rampart_db_pool_connections", &[("pool", "reader"), ("state", "max")]) >= 1.0);
    assert!(samples.iter().any(|s| s.name == "rampart_argon2_queue_depth"));
    assert!(samples.iter().any(|s| s.name == "rampart_mail_queue_depth"));

    // Bounded labels: no made-up app, no id, no raw path.
    for s in &samples {
        for (key, value) in &s.labels {
            assert!(!value.contains("nosuchapp"), "a made-up app became a label: {s:?}");
            assert!(!value.contains("0190d5c1"), "an id became a label: {s:?}");
            if key == "route" {
                assert!(value == "unmatched" || value.starts_with('/'), "{s:?}");
                assert!(!value.contains("metered"), "a raw path became a route label: {s:?}");
            }
        }
    }
    let junk_routes = sum(&samples, "rampart_http_requests_total", &[("route", "/{slug}/v1/me"), ("app", "-")]);
    assert!(junk_routes >= 3.0, "requests naming made-up apps are counted under app \"-\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_flow_sqlite() {
    crate::helpers::run(Backend::Sqlite, metrics_after_a_flow).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_flow_postgres() {
    crate::helpers::run(Backend::Postgres, metrics_after_a_flow).await
}

/// With `RAMPART_METRICS_TOKEN`, only its bearer may scrape; every answer carries a request id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_token_guards_the_endpoint() {
    let token = "metrics-token-0123456789";
    let mut app = TestApp::spawn_with_env(Backend::Sqlite, &[("RAMPART_METRICS_TOKEN", token.to_owned())]).await;
    let cleanup = app.take_cleanup();
    let outcome = tokio::spawn(async move {
        let refused = scrape(&app, None).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.headers().contains_key("x-request-id"));
        assert_eq!(scrape(&app, Some("metrics-token-012345678X")).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(scrape(&app, Some("short")).await.status(), StatusCode::UNAUTHORIZED);
        let allowed = scrape(&app, Some(token)).await;
        assert_eq!(allowed.status(), StatusCode::OK);
        assert!(!parse(&allowed.text().await.unwrap()).is_empty());
    })
    .await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
    outcome.unwrap();
}
