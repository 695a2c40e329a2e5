//! Brute-force protection (issue 13): rate limits on every credential surface, per IP and per
//! account or destination, shared by every node (the store or Redis); account lockout and
//! the owner's way back in; `X-Forwarded-For` believed only from trusted proxies.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, both_stores, json_of, link_in, mail_to, query_param, two_nodes, Backend, TestApp, PASSWORD,
};

async fn signin(app: &TestApp, slug: &str, identifier: &str, password: &str) -> reqwest::Response {
    app.post_json(&format!("/{slug}/v1/auth/signin"), &json!({ "identifier": identifier, "password": password })).await
}

async fn signin_from(app: &TestApp, slug: &str, identifier: &str, forwarded: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/{slug}/v1/auth/signin")))
        .header("x-forwarded-for", forwarded)
        .json(&json!({ "identifier": identifier, "password": "wrong-password" }))
        .send()
        .await
        .expect("request")
}

async fn assert_limited(response: reqwest::Response) -> Value {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a 429 says when to retry");
    assert!((1..=3600).contains(&retry_after), "Retry-After: {retry_after}");
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_EXCEEDED").await
}

/// Three wrong passwords (typed as three spellings of one username) lock the account: the
/// right password then gets the same `INVALID_CREDENTIALS`. A reset link lets the owner back
/// in, and a success clears the count.
async fn lockout_and_recovery(app: TestApp) {
    let owner = app.app_with_owner("vault").await;
    app.patch_config(&owner, "vault", &json!({"lockout_threshold": 3, "lockout_seconds": 600})).await;
    app.signup_end_user("vault", "alice").await;

    // A success between failures starts the count again.
    for _ in 0..2 {
        assert_error(
            signin(&app, "vault", "alice", "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    app.signin_end_user("vault", "alice").await;
    for spelling in ["alice", "  Alice ", "ＡＬＩＣＥ"] {
        assert_error(
            signin(&app, "vault", spelling, "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    // Locked: the right password is refused like a wrong one.
    let body =
        assert_error(signin(&app, "vault", "alice", PASSWORD).await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
            .await;
    assert_eq!(body["message"], "Invalid credentials");

    // The log says so, once, with the reasons of the refusals.
    let events =
        json_of(app.get_with_bearer("/v1/apps/vault/audit?type=end_user.*", &owner).await, StatusCode::OK).await;
    let kinds: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "end_user.locked_out").count(), 1, "{kinds:?}");
    let reasons: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "end_user.signin_failed")
        .map(|e| e["details"]["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"locked_out"), "{reasons:?}");

    // The owner resets the password through the mail; the lock is gone.
    let response = app.post_json("/vault/v1/auth/forgot-password", &json!({"email": "alice@example.com"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let message = mail_to(&app, "alice@example.com").await;
    let token = query_param(&link_in(&message, "reset-password"), "token");
    let response = app
        .post_json("/vault/v1/auth/reset-password", &json!({"token": token, "password": "A-new-passphrase-42"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    app.signin_end_user_with("vault", "alice", "A-new-passphrase-42").await;
}

/// Sign-in is limited per account (or identifier nobody holds: it gets its own count) and
/// per IP; past a limit every attempt is `429` with `Retry-After`, the right password too.
async fn signin_limits(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    app.patch_config(
        &owner,
        "gate",
        &json!({"rate_limit_window_seconds": 60, "rate_limit_signin_per_identifier": 3, "rate_limit_signin_per_ip": 8}),
    )
    .await;
    app.signup_end_user("gate", "bob").await;
    for spelling in ["bob", "BOB", " bob"] {
        assert_error(
            signin(&app, "gate", spelling, "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    assert_limited(signin(&app, "gate", "bob", PASSWORD).await).await;
    // An identifier nobody holds is counted as typed, spellings folded.
    for spelling in ["ghost@example.com", "GHOST@example.com", " ghost@EXAMPLE.com "] {
        assert_error(
            signin(&app, "gate", spelling, "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    assert_limited(signin(&app, "gate", "ghost@example.com", "wrong-password").await).await;
    // 8 from this IP so far (4 + 4): the IP is spent, for any identifier.
    assert_limited(signin(&app, "gate", "someone-else", "wrong-password").await).await;
    // Another app's counts are its own.
    app.app_with_owner("other-gate").await;
    app.signup_end_user("other-gate", "bob").await;
    app.signin_end_user("other-gate", "bob").await;
}

/// Mailed links and lookups are limited per address and per IP; the answer to a limited
/// address is the same whether it has a user or not.
async fn link_limits(app: TestApp) {
    let owner = app.app_with_owner("mailer").await;
    app.patch_config(
        &owner,
        "mailer",
        &json!({
            "rate_limit_window_seconds": 60,
            "rate_limit_links_per_destination": 2,
            "rate_limit_links_per_ip": 5,
            "check_email_enabled": true,
        }),
    )
    .await;
    app.signup_end_user("mailer", "carol").await;
    for email in ["carol@example.com", "nobody@example.com"] {
        for _ in 0..2 {
            let response = app.post_json("/mailer/v1/auth/forgot-password", &json!({"email": email})).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        assert_limited(app.post_json("/mailer/v1/auth/forgot-password", &json!({"email": email})).await).await;
    }
    // Six forgot-password requests from this IP: its count for that endpoint is spent...
    assert_limited(app.post_json("/mailer/v1/auth/forgot-password", &json!({"email": "x@example.com"})).await).await;
    // ...while check-email counts on its own, up to its limit.
    for _ in 0..5 {
        let response = app.post_json("/mailer/v1/auth/check-email", &json!({"email": "carol@example.com"})).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_limited(app.post_json("/mailer/v1/auth/check-email", &json!({"email": "carol@example.com"})).await).await;
}

/// Wrong API keys count against the caller's IP; once it is past the limit, even a right
/// key is refused before it is looked up.
async fn api_key_guessing(app: TestApp) {
    let owner = app.app_with_owner("keyed").await;
    let key = json_of(
        app.post_json_with_bearer(
            "/v1/apps/keyed/api-keys",
            &owner,
            &json!({"name": "backend", "scopes": ["app.read"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = key["secret"].as_str().expect("the key secret").to_owned();
    assert_eq!(app.get_with_bearer("/v1/apps/keyed", &secret).await.status(), StatusCode::OK);
    for i in 0..20 {
        let response = app.get_with_bearer("/v1/apps/keyed", &format!("rk_wrong{i:04}")).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    assert_limited(app.get_with_bearer("/v1/apps/keyed", "rk_wrong-again").await).await;
    assert_limited(app.get_with_bearer("/v1/apps/keyed", &secret).await).await;
    // Accounts are not API keys: their tokens still work from this IP.
    assert_eq!(app.get_with_bearer("/v1/apps/keyed", &owner).await.status(), StatusCode::OK);
}

/// Wrong app secrets (on refresh or OTP) count against the caller's IP; past the limit the
/// right secret is refused too, before anything is compared, and the refresh token is kept.
async fn app_secret_guessing(app: TestApp) {
    let owner = app.app_with_owner("backend").await;
    app.patch_config(&owner, "backend", &json!({"rate_limit_credential_failures_per_ip": 3})).await;
    let created = json_of(
        app.post_json_with_bearer("/v1/apps/backend/credentials", &owner, &json!({"name": "api"})).await,
        StatusCode::CREATED,
    )
    .await;
    let (app_id, secret) = (created["app_id"].as_str().unwrap(), created["app_secret"].as_str().unwrap());
    let pair = app.signup_end_user("backend", "gina").await;
    let refresh = pair["refresh_token"].as_str().unwrap();
    for guess in ["ras_one", "ras_two", "ras_three"] {
        let response = app
            .post_json(
                "/backend/v1/auth/refresh",
                &json!({"app_id": app_id, "app_secret": guess, "refresh_token": refresh}),
            )
            .await;
        assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS").await;
    }
    let send = json!({"app_id": app_id, "app_secret": secret, "email": "gina@example.com"});
    assert_limited(app.post_json("/backend/v1/auth/send-otp", &send).await).await;
    assert_limited(
        app.post_json(
            "/backend/v1/auth/refresh",
            &json!({"app_id": app_id, "app_secret": secret, "refresh_token": refresh}),
        )
        .await,
    )
    .await;
    // Without credentials (the app does not require them) the refresh token still works.
    let response = app.post_json("/backend/v1/auth/refresh", &json!({"refresh_token": refresh})).await;
    assert_eq!(response.status(), StatusCode::OK);
}

both_stores!(lockout_and_recovery, signin_limits, link_limits, api_key_guessing, app_secret_guessing);

/// Two nodes on one PostgreSQL count together: the limit holds however requests are spread.
async fn nodes_share_one_limit(a: TestApp, b: TestApp) {
    let owner = a.app_with_owner("shared").await;
    a.patch_config(&owner, "shared", &json!({"rate_limit_window_seconds": 60, "rate_limit_signin_per_identifier": 4}))
        .await;
    a.signup_end_user("shared", "dave").await;
    for node in [&a, &b, &a, &b] {
        assert_error(
            signin(node, "shared", "dave", "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    assert_limited(signin(&b, "shared", "dave", PASSWORD).await).await;
    assert_limited(signin(&a, "shared", "dave", PASSWORD).await).await;
}

two_nodes!(nodes_share_one_limit);

/// 40 concurrent wrong sign-ins against a limit of 10 on each store: of those the argon2
/// queue admits, exactly 10 get through to the password check; none fails open, none is a 500.
async fn racing_attempts_respect_the_limit(app: TestApp) {
    let owner = app.app_with_owner("race").await;
    app.patch_config(
        &owner,
        "race",
        &json!({"rate_limit_window_seconds": 3600, "rate_limit_signin_per_identifier": 10, "lockout_threshold": 0}),
    )
    .await;
    let attempts = (0..40).map(|_| {
        let client = app.client.clone();
        let url = app.url("/race/v1/auth/signin");
        tokio::spawn(async move {
            client.post(url).json(&json!({"identifier": "eve", "password": "nope-nope"})).send().await.unwrap().status()
        })
    });
    let statuses: Vec<StatusCode> =
        futures_util::future::join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect();
    let count = |status: StatusCode| statuses.iter().filter(|s| **s == status).count();
    let (checked, limited, shed) =
        (count(StatusCode::UNAUTHORIZED), count(StatusCode::TOO_MANY_REQUESTS), count(StatusCode::SERVICE_UNAVAILABLE));
    // Sign-ins the argon2 queue had no room for are shed first (503, see `admission`); every
    // one it admitted was counted, and exactly the limit's worth got to the password.
    assert_eq!(checked + limited + shed, 40, "nothing but 401, 429 and 503: {statuses:?}");
    assert_eq!(checked, (checked + limited).min(10), "{statuses:?}");
}

both_stores!(racing_attempts_respect_the_limit);

/// Behind a trusted proxy each client's address (from `X-Forwarded-For`) has its own count;
/// garbage in the header falls back to the proxy's address, one bucket, never a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_trusted_proxies_only() {
    let trusted =
        TestApp::spawn_with_env(Backend::Sqlite, &[("RAMPART_TRUSTED_PROXIES", "127.0.0.1/32".to_owned())]).await;
    let owner = trusted.app_with_owner("edge").await;
    trusted
        .patch_config(&owner, "edge", &json!({"rate_limit_window_seconds": 60, "rate_limit_signin_per_ip": 2, "rate_limit_signin_per_identifier": 1000}))
        .await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            let response = signin_from(&trusted, "edge", "nobody", client).await;
            assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
        }
        assert_limited(signin_from(&trusted, "edge", "nobody", client).await).await;
    }
    // Garbage: each falls back to the proxy's own address, which fills up like any other.
    for garbage in ["not-an-ip", "999.1.1.1, ,", ""] {
        let _ = signin_from(&trusted, "edge", "nobody", garbage).await;
    }
    assert_limited(signin_from(&trusted, "edge", "nobody", "also garbage").await).await;

    // Without trusted proxies the header is ignored: spoofed addresses share the peer's count.
    let direct = TestApp::spawn().await;
    let owner = direct.app_with_owner("edge").await;
    direct
        .patch_config(&owner, "edge", &json!({"rate_limit_window_seconds": 60, "rate_limit_signin_per_ip": 2, "rate_limit_signin_per_identifier": 1000}))
        .await;
    for spoofed in ["198.51.100.1", "198.51.100.2"] {
        let response = signin_from(&direct, "edge", "nobody", spoofed).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    }
    assert_limited(signin_from(&direct, "edge", "nobody", "198.51.100.3").await).await;
}

/// With `RAMPART_REDIS_URL` the counters live in Redis (the store keeps none), with the same
/// limits and lockout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_in_redis() {
    let url = std::env::var("RAMPART_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let app = TestApp::spawn_with_env(Backend::Sqlite, &[("RAMPART_REDIS_URL", url)]).await;
    let owner = app.app_with_owner("cached").await;
    app.patch_config(
        &owner,
        "cached",
        &json!({"rate_limit_window_seconds": 60, "rate_limit_signin_per_identifier": 3, "lockout_threshold": 2}),
    )
    .await;
    app.signup_end_user("cached", "frank").await;
    for _ in 0..2 {
        assert_error(
            signin(&app, "cached", "frank", "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    // Locked (2 failures), then limited (4th attempt).
    assert_error(signin(&app, "cached", "frank", PASSWORD).await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
        .await;
    assert_limited(signin(&app, "cached", "frank", PASSWORD).await).await;

    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&app.database_url).await.unwrap();
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM rate_counters").fetch_one(&mut conn).await.unwrap();
    assert_eq!(rows, 0, "with Redis, the store keeps no counters");
}
