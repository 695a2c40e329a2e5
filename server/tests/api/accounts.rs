//! Accounts (`/v1/auth/*`): sign-in, identical failures, refresh rotation with its grace
//! window and reuse detection, logout, `me`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp, PASSWORD};
use crate::quickstart::{assert_recent_timestamp, keys_of};

/// Changes an app's auth config straight in the store (there is no endpoint for it yet).
/// Configures any app (the member-less `platform` app included) the operator's way.
pub async fn set_config(app: &TestApp, slug: &str, change: impl FnOnce(&mut domain::model::AuthConfig)) {
    let mut config = app.engine.app(slug).await.unwrap().config;
    change(&mut config);
    let Value::Object(patch) = serde_json::to_value(&config).unwrap() else { panic!("config is an object") };
    app.engine.operator_update_config(slug, &patch).await.unwrap();
}

async fn signin(app: &TestApp, body: Value) -> reqwest::Response {
    app.post_json("/v1/auth/signin", &body).await
}

async fn me_and_signin(app: TestApp) {
    let pair = app.signup_account("ada").await;
    let me = json_of(app.get_with_bearer("/v1/auth/me", &access_token(&pair)).await, StatusCode::OK).await;
    assert_eq!(
        keys_of(&me),
        ["createdAt", "displayName", "email", "emailVerifiedAt", "id", "joinedAt", "role", "username"],
        "{me}"
    );
    assert!(uuid::Uuid::parse_str(me["id"].as_str().unwrap()).is_ok());
    assert_eq!(me["username"], "ada");
    assert_eq!(me["displayName"], "ada", "display name defaults to the username");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["emailVerifiedAt"], Value::Null);
    assert_eq!(me["role"], "member");
    assert_recent_timestamp(&me["joinedAt"]);
    assert_recent_timestamp(&me["createdAt"]);

    // Sign-in with the username, under each accepted field name, any letter case.
    for body in [
        json!({ "identifier": "ada", "password": PASSWORD }),
        json!({ "username": "ada", "password": PASSWORD }),
        json!({ "identifier": "ADA", "password": PASSWORD }),
    ] {
        let pair = json_of(signin(&app, body.clone()).await, StatusCode::OK).await;
        assert_eq!(pair["token_type"], "Bearer", "{body}");
        assert_eq!(pair["expires_in"], 3600);
        let again = json_of(app.get_with_bearer("/v1/auth/me", &access_token(&pair)).await, StatusCode::OK).await;
        assert_eq!(again["id"], me["id"]);
    }

    // Wrong password, unknown user, and an email that was never verified: the same answer.
    let wrong_password = assert_error(
        signin(&app, json!({ "identifier": "ada", "password": "NotThePassword1" })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    let unknown_user = assert_error(
        signin(&app, json!({ "identifier": "nobody", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    let unverified_email = assert_error(
        signin(&app, json!({ "identifier": "ada@example.com", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    let empty = assert_error(
        signin(&app, json!({ "identifier": "", "password": "" })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_eq!(wrong_password, unknown_user);
    assert_eq!(wrong_password, unverified_email);
    assert_eq!(wrong_password, empty);
}

async fn refresh_rotates(app: TestApp) {
    // The retry tolerance is opt-in (seed 001's rule, reuse revokes, is the default).
    set_config(&app, "platform", |c| c.refresh_reuse_grace_seconds = 10).await;
    let first = app.signup_account("rotor").await;
    let r0 = refresh_token(&first);

    let second =
        json_of(app.post_json("/v1/auth/refresh", &json!({ "refresh_token": r0 })).await, StatusCode::OK).await;
    let r1 = refresh_token(&second);
    assert_ne!(r1, r0);
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 3600);
    json_of(app.get_with_bearer("/v1/auth/me", &access_token(&second)).await, StatusCode::OK).await;

    // Within the grace window the rotated token answers with the same successor.
    let retry = json_of(app.post_json("/v1/auth/refresh", &json!({ "refresh_token": r0 })).await, StatusCode::OK).await;
    assert_eq!(refresh_token(&retry), r1);

    // The camelCase field name is accepted too, and the successor rotates in turn.
    let third = json_of(app.post_json("/v1/auth/refresh", &json!({ "refreshToken": r1 })).await, StatusCode::OK).await;
    let r2 = refresh_token(&third);
    assert!(r2 != r1 && r2 != r0);

    // Unknown tokens are refused.
    assert_error(
        app.post_json("/v1/auth/refresh", &json!({ "refresh_token": "rt_not-a-real-token" })).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
}

async fn refresh_reuse_after_grace_revokes_the_session(app: TestApp) {
    set_config(&app, "platform", |c| c.refresh_reuse_grace_seconds = 0).await;
    let first = app.signup_account("reuser").await;
    let r0 = refresh_token(&first);
    let second =
        json_of(app.post_json("/v1/auth/refresh", &json!({ "refresh_token": r0 })).await, StatusCode::OK).await;
    let r1 = refresh_token(&second);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // The rotated token comes back after the (zero) grace window: a thief's replay.
    assert_error(
        app.post_json("/v1/auth/refresh", &json!({ "refresh_token": r0 })).await,
        StatusCode::UNAUTHORIZED,
        "REFRESH_TOKEN_REUSED",
    )
    .await;
    // The whole session is gone: the successor and every access token of it.
    let body = assert_error(
        app.post_json("/v1/auth/refresh", &json!({ "refresh_token": r1 })).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("revoked"));
    for token in [access_token(&first), access_token(&second)] {
        assert_error(app.get_with_bearer("/v1/auth/me", &token).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED")
            .await;
    }
    // Another session of the same account is untouched.
    let other =
        json_of(signin(&app, json!({ "identifier": "reuser", "password": PASSWORD })).await, StatusCode::OK).await;
    json_of(app.get_with_bearer("/v1/auth/me", &access_token(&other)).await, StatusCode::OK).await;
}

async fn logout_kills_the_session(app: TestApp) {
    let pair = app.signup_account("leaver").await;
    let other =
        json_of(signin(&app, json!({ "identifier": "leaver", "password": PASSWORD })).await, StatusCode::OK).await;
    let response = app.post_json("/v1/auth/logout", &json!({ "refresh_token": refresh_token(&pair) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_error(
        app.post_json("/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&pair) })).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
    assert_error(
        app.get_with_bearer("/v1/auth/me", &access_token(&pair)).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
    assert_error(
        app.get_with_bearer("/v1/apps", &access_token(&pair)).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;

    // The account's other session lives on.
    json_of(app.get_with_bearer("/v1/auth/me", &access_token(&other)).await, StatusCode::OK).await;
    json_of(
        app.post_json("/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&other) })).await,
        StatusCode::OK,
    )
    .await;

    // An unknown refresh token cannot log anything out.
    assert_error(
        app.post_json("/v1/auth/logout", &json!({ "refresh_token": "rt_nope" })).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
}

/// Two refreshes of the same token at once: both succeed with the same successor, or the
/// loser is refused; never two different successors, never a 500.
/// With the retry tolerance, two refreshes at once share one successor. (Without it, the
/// second is a reuse and may end the session before the first answers: see
/// `sessions::parallel_reuse_revokes`.)
async fn concurrent_refresh_has_one_winner(app: TestApp) {
    set_config(&app, "platform", |c| c.refresh_reuse_grace_seconds = 10).await;
    let pair = app.signup_account("racer").await;
    let r0 = refresh_token(&pair);
    let body = json!({ "refresh_token": r0 });
    let (a, b) = tokio::join!(app.post_json("/v1/auth/refresh", &body), app.post_json("/v1/auth/refresh", &body));
    let mut successors = Vec::new();
    for response in [a, b] {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        match status {
            StatusCode::OK => successors.push(refresh_token(&body)),
            StatusCode::UNAUTHORIZED => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert!(!successors.is_empty());
    successors.dedup();
    assert_eq!(successors.len(), 1, "two different successors");
}

/// Two sign-ups of one username (in different letter case) at once: one account, one 409.
async fn concurrent_signups_one_wins(app: TestApp) {
    let body = |username: &str| {
        json!({
            "email": format!("{username}@example.com"),
            "username": username,
            "password": PASSWORD,
        })
    };
    let (upper, lower) = (body("Twin"), body("twin"));
    let (a, b) = tokio::join!(app.post_json("/v1/auth/signup", &upper), app.post_json("/v1/auth/signup", &lower));
    let mut statuses = vec![a.status(), b.status()];
    statuses.sort_unstable();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
    for response in [a, b] {
        if response.status() == StatusCode::CONFLICT {
            assert_error(response, StatusCode::CONFLICT, "USER_EXISTS").await;
        }
    }
}

/// The same flows for an app's end-users, under `/{slug}/v1`.
async fn end_user_session_flow(app: TestApp) {
    let owner = app.account_token("owner").await;
    app.create_app_ok(&owner, "club").await;
    let pair = json_of(
        app.post_json(
            "/club/v1/auth/signup",
            &json!({
                "email": "Grace@Example.com",
                "username": "grace",
                "password": PASSWORD,
                "display_name": "Grace Hopper",
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 3600);
    let me = json_of(app.get_with_bearer("/club/v1/me", &access_token(&pair)).await, StatusCode::OK).await;
    assert_eq!(
        keys_of(&me),
        ["createdAt", "displayName", "email", "emailVerifiedAt", "id", "joinedAt", "role", "username"]
    );
    assert_eq!(me["displayName"], "Grace Hopper");
    assert_eq!(me["email"], "Grace@Example.com");
    assert_eq!(me["role"], "member");
    assert_eq!(me["emailVerifiedAt"], Value::Null);

    // End-users are not accounts: the same credentials mean nothing to the platform.
    assert_error(
        signin(&app, json!({ "identifier": "grace", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;

    let signed_in = json_of(
        app.post_json("/club/v1/auth/signin", &json!({ "identifier": "grace", "password": PASSWORD })).await,
        StatusCode::OK,
    )
    .await;
    let rotated = json_of(
        app.post_json("/club/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&signed_in) })).await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(refresh_token(&rotated), refresh_token(&signed_in));
    let response = app.post_json("/club/v1/auth/logout", &json!({ "refresh_token": refresh_token(&rotated) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for token in [access_token(&signed_in), access_token(&rotated)] {
        assert_error(app.get_with_bearer("/club/v1/me", &token).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED")
            .await;
    }
    // The sign-up's own session is a different one.
    json_of(app.get_with_bearer("/club/v1/me", &access_token(&pair)).await, StatusCode::OK).await;
}

both_stores!(
    me_and_signin,
    refresh_rotates,
    refresh_reuse_after_grace_revokes_the_session,
    logout_kills_the_session,
    concurrent_refresh_has_one_winner,
    concurrent_signups_one_wins,
    end_user_session_flow,
);
