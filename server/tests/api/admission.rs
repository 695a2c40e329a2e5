//! Admission of password work: a storm of sign-ins to one app is refused past that app's
//! share of the queue (503 with `Retry-After`, never a 500), and another app's sign-in,
//! started while the storm's queue is full, is served in turn instead of behind the storm.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

use crate::helpers::{assert_error, both_stores, TestApp, PASSWORD};

const STORM: usize = 100;

/// The admission queue is one per process, shared by every test server in this binary: two
/// storms at once (this flow over both stores) would together fill its overall bound and
/// refuse the calm app too. One storm at a time.
static ONE_STORM_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn a_sign_in_storm_is_bounded_and_other_apps_are_served_in_turn(app: TestApp) {
    let owner = app.app_with_owner("stormy").await;
    // Admission is what is under test here, not the rate limits that would stop a storm
    // on one account long before.
    let unlimited = json!({"rate_limit_signin_per_identifier": 1_000_000, "rate_limit_signin_per_ip": 1_000_000});
    app.patch_config(&owner, "stormy", &unlimited).await;
    let owner = app.app_with_owner("calm").await;
    app.patch_config(&owner, "calm", &unlimited).await;
    app.signup_end_user("stormy", "gale").await;
    app.signup_end_user("calm", "still").await;
    let _storm = ONE_STORM_AT_A_TIME.lock().await;

    // Storm sign-ins answered 200 so far, and a signal at the first refusal: by then the
    // storm's queue is full.
    let served = Arc::new(AtomicUsize::new(0));
    let full = Arc::new(Notify::new());
    let mut storm = tokio::task::JoinSet::new();
    for _ in 0..STORM {
        let (client, url) = (app.client.clone(), app.url("/stormy/v1/auth/signin"));
        let (served, full) = (served.clone(), full.clone());
        storm.spawn(async move {
            let response =
                client.post(url).json(&json!({ "identifier": "gale", "password": PASSWORD })).send().await.unwrap();
            match response.status() {
                StatusCode::OK => {
                    served.fetch_add(1, Ordering::SeqCst);
                    false
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    full.notify_one();
                    let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).cloned();
                    assert_eq!(retry_after.as_ref().and_then(|v| v.to_str().ok()), Some("1"), "Retry-After");
                    let body = assert_error(response, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
                    assert_eq!(body["message"], "Too many sign-ins at once, please try again shortly");
                    true
                }
                other => panic!("a storm sign-in answered {other}: {}", response.text().await.unwrap_or_default()),
            }
        });
    }

    full.notified().await;
    let before = served.load(Ordering::SeqCst);
    let calm = app.post_json("/calm/v1/auth/signin", &json!({ "identifier": "still", "password": PASSWORD })).await;
    let during = served.load(Ordering::SeqCst) - before;
    assert_eq!(calm.status(), StatusCode::OK, "the other app's sign-in is admitted");

    let mut refused = 0;
    while let Some(outcome) = storm.join_next().await {
        refused += usize::from(outcome.unwrap());
    }
    let served = served.load(Ordering::SeqCst);
    assert_eq!(served + refused, STORM);
    assert!(refused > 0, "the storm is bounded: {served} served, none refused");
    // The storm's sign-ins still queued when the calm one started: it overtook most of them.
    let queued = served - before;
    eprintln!("storm: {served} served, {refused} refused; calm served after {during} of the {queued} queued");
    assert!(2 * during < queued, "served in turn: the calm sign-in waited for {during} of the storm's {queued}");

    // The storm is over: its app is served again.
    app.signin_end_user("stormy", "gale").await;
}

both_stores!(a_sign_in_storm_is_bounded_and_other_apps_are_served_in_turn);
