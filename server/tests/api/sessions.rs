//! End-user sessions: refresh rotation and its grace window, reuse detection, many refreshes
//! at once, what ends a session, absolute expiry, and sign-in's one failure answer.

use chrono::TimeDelta;
use domain::crypto::token_digest;
use domain::model::{NewRefreshToken, Session};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::end_users::{now_ms, seed_user, user_id, Seeded};
use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp, PASSWORD};
use crate::quickstart::verify_with_jwks;

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/club/v1/auth/refresh", &json!({ "refresh_token": token })).await
}

async fn refresh_ok(app: &TestApp, token: &str) -> Value {
    json_of(refresh(app, token).await, StatusCode::OK).await
}

async fn signin(app: &TestApp, identifier: &str, password: &str) -> reqwest::Response {
    app.post_json("/club/v1/auth/signin", &json!({ "identifier": identifier, "password": password })).await
}

async fn sid_of(app: &TestApp, pair: &Value) -> Value {
    verify_with_jwks(app, "club", &access_token(pair)).await["sid"].clone()
}

async fn rotation_and_grace(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    // The retry tolerance is opt-in (seed 001's rule, reuse revokes, is the default).
    app.patch_config(&owner, "club", &json!({ "refresh_reuse_grace_seconds": 10 })).await;
    let first = app.signup_end_user("club", "ada").await;
    let r0 = refresh_token(&first);

    let second = refresh_ok(&app, &r0).await;
    let r1 = refresh_token(&second);
    assert_ne!(r1, r0);
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 3600);
    assert_eq!(sid_of(&app, &second).await, sid_of(&app, &first).await, "rotation keeps the session");
    app.me("club", &access_token(&second)).await;

    // Within the grace window the rotated token answers with the same successor.
    let retry = refresh_ok(&app, &r0).await;
    assert_eq!(refresh_token(&retry), r1);
    app.me("club", &access_token(&retry)).await;

    // The successor rotates in turn (camelCase accepted too).
    let third =
        json_of(app.post_json("/club/v1/auth/refresh", &json!({ "refreshToken": r1 })).await, StatusCode::OK).await;
    let r2 = refresh_token(&third);
    assert!(r2 != r1 && r2 != r0);
    // Still one session for the user.
    let sessions =
        json_of(app.get_with_bearer("/club/v1/me/sessions", &access_token(&third)).await, StatusCode::OK).await;
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1, "{sessions}");

    // Unknown and malformed tokens.
    for token in ["rt_not-a-real-token", "", "x"] {
        assert_error(refresh(&app, token).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // An access token is not a refresh token.
    assert_error(refresh(&app, &access_token(&third)).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

async fn reuse_after_grace_revokes_the_family(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    let config = app.patch_config(&owner, "club", &json!({ "refresh_reuse_grace_seconds": 0 })).await;
    assert_eq!(config["refresh_reuse_grace_seconds"], 0);
    let first = app.signup_end_user("club", "ada").await;
    let other = app.signin_end_user("club", "ada").await;
    let r0 = refresh_token(&first);
    let second = refresh_ok(&app, &r0).await;
    let r1 = refresh_token(&second);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // The rotated token comes back after the (zero) grace window: a thief's replay.
    assert_error(refresh(&app, &r0).await, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED").await;
    // The whole family is gone: the successor, and every access token of the session.
    assert_error(refresh(&app, &r1).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    for pair in [&first, &second] {
        assert_error(
            app.get_with_bearer("/club/v1/me", &access_token(pair)).await,
            StatusCode::UNAUTHORIZED,
            "SESSION_REVOKED",
        )
        .await;
    }
    // Replaying again changes nothing and is still refused.
    let response = refresh(&app, &r0).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The user's other session lives on.
    app.me("club", &access_token(&other)).await;
    refresh_ok(&app, &refresh_token(&other)).await;
}

/// Presents `token` to club's refresh `times` at once; the answers' statuses and bodies.
async fn refresh_in_parallel(app: &TestApp, token: &str, times: usize) -> Vec<(StatusCode, String)> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..times {
        let (client, url, body) =
            (app.client.clone(), app.url("/club/v1/auth/refresh"), json!({ "refresh_token": token }));
        tasks.spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        });
    }
    tasks.join_all().await
}

/// With the opt-in retry tolerance, a client's parallel refreshes of one token all get the
/// same successor (without it, seed 001's rule applies: see `parallel_reuse_revokes`).
async fn parallel_refreshes_share_one_successor(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    app.patch_config(&owner, "club", &json!({ "refresh_reuse_grace_seconds": 10 })).await;
    let first = app.signup_end_user("club", "ada").await;
    let r0 = refresh_token(&first);
    let mut successors = Vec::new();
    for (status, text) in refresh_in_parallel(&app, &r0, 20).await {
        assert_eq!(status, StatusCode::OK, "{text}");
        let pair: Value = serde_json::from_str(&text).unwrap();
        app.me("club", &access_token(&pair)).await;
        successors.push(refresh_token(&pair));
    }
    assert_eq!(successors.len(), 20);
    successors.dedup();
    assert_eq!(successors.len(), 1, "one successor family: {successors:?}");
    assert_ne!(successors[0], r0);
    // That successor is a live, single member of the family.
    let next = refresh_ok(&app, &successors[0]).await;
    let sessions =
        json_of(app.get_with_bearer("/club/v1/me/sessions", &access_token(&next)).await, StatusCode::OK).await;
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1, "{sessions}");
}

/// By default, twenty parallel refreshes of one token are one rotation and nineteen reuses:
/// at most one answer is a token pair, and the session ends.
async fn parallel_reuse_revokes(app: TestApp) {
    app.app_with_owner("club").await;
    let first = app.signup_end_user("club", "ada").await;
    let r0 = refresh_token(&first);
    let mut ok = 0;
    for (status, text) in refresh_in_parallel(&app, &r0, 20).await {
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::UNAUTHORIZED => {}
            other => panic!("unexpected {other}: {text}"),
        }
    }
    assert!(ok <= 1, "{ok} parallel refreshes of one token succeeded");
    assert_error(refresh(&app, &r0).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    assert_error(
        app.get_with_bearer("/club/v1/me", &access_token(&first)).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
}

async fn what_ends_a_session(app: TestApp) {
    let owner = app.app_with_owner("club").await;

    // Logout.
    let pair = app.signup_end_user("club", "ada").await;
    let response = app.post_json("/club/v1/auth/logout", &json!({ "refresh_token": refresh_token(&pair) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(refresh(&app, &refresh_token(&pair)).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    // A rotated-away token of the session is as dead.
    let pair = app.signin_end_user("club", "ada").await;
    let rotated = refresh_ok(&app, &refresh_token(&pair)).await;
    let response = app.post_json("/club/v1/auth/logout", &json!({ "refresh_token": refresh_token(&pair) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &refresh_token(&rotated)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &refresh_token(&pair)).await.status(), StatusCode::UNAUTHORIZED);
    // Unknown refresh tokens log nothing out.
    assert_error(
        app.post_json("/club/v1/auth/logout", &json!({ "refresh_token": "rt_nope" })).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;

    // DELETE me/sessions/{id}, from another session of the same user.
    let victim = app.signin_end_user("club", "ada").await;
    let actor = app.signin_end_user("club", "ada").await;
    let session = app.current_session_id("club", &access_token(&victim)).await;
    let response = app.delete_with_bearer(&format!("/club/v1/me/sessions/{session}"), &access_token(&actor)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(refresh(&app, &refresh_token(&victim)).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    assert_error(
        app.get_with_bearer("/club/v1/me", &access_token(&victim)).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
    let listed =
        json_of(app.get_with_bearer("/club/v1/me/sessions", &access_token(&actor)).await, StatusCode::OK).await;
    assert!(!listed["sessions"].as_array().unwrap().iter().any(|s| s["id"] == session.as_str()), "{listed}");
    // Revoking it again, or a session that never was, is a 404.
    for id in [session.clone(), Uuid::new_v4().to_string(), "not-a-uuid".into()] {
        let response = app.delete_with_bearer(&format!("/club/v1/me/sessions/{id}"), &access_token(&actor)).await;
        let status = response.status();
        if id == session {
            assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::NO_CONTENT), "{status}");
        } else {
            assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        }
    }
    // Another user's session is not yours to revoke.
    let grace = app.signup_end_user("club", "grace").await;
    let theirs = app.current_session_id("club", &access_token(&grace)).await;
    assert_error(
        app.delete_with_bearer(&format!("/club/v1/me/sessions/{theirs}"), &access_token(&actor)).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    app.me("club", &access_token(&grace)).await;
    // The session that revoked sits on, current.
    assert_eq!(app.current_session_id("club", &access_token(&actor)).await.len(), 36);

    // Suspension.
    let id = user_id(&app, &owner, "club", "ada").await;
    json_of(
        app.patch_json_with_bearer(
            &format!("/api/v1/apps/club/end-users/{id}"),
            &owner,
            &json!({ "status": "suspended" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refresh(&app, &refresh_token(&actor)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_with_bearer("/club/v1/me", &access_token(&actor)).await.status(), StatusCode::UNAUTHORIZED);
    // The other user is untouched.
    refresh_ok(&app, &refresh_token(&grace)).await;
}

/// A session's refresh family ends `refresh_token_ttl_seconds` after sign-in, however often
/// it is rotated.
async fn sessions_expire_absolutely(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    let config = app
        .patch_config(&owner, "club", &json!({ "refresh_token_ttl_seconds": 300, "access_token_ttl_seconds": 60 }))
        .await;
    assert_eq!(config["refresh_token_ttl_seconds"], 300);
    assert_eq!(config["access_token_ttl_seconds"], 60);
    let pair = app.signup_end_user("club", "ada").await;
    assert_eq!(pair["expires_in"], 60);
    let listed = json_of(app.get_with_bearer("/club/v1/me/sessions", &access_token(&pair)).await, StatusCode::OK).await;
    let session = &listed["sessions"][0];
    let at = |field: &str| chrono::DateTime::parse_from_rfc3339(session[field].as_str().unwrap()).unwrap();
    let lifetime = (at("expiresAt") - at("createdAt")).num_seconds();
    assert!((299..=301).contains(&lifetime), "{session}");
    // Rotation does not extend it.
    let rotated = refresh_ok(&app, &refresh_token(&pair)).await;
    let listed =
        json_of(app.get_with_bearer("/club/v1/me/sessions", &access_token(&rotated)).await, StatusCode::OK).await;
    assert_eq!(listed["sessions"][0]["expiresAt"], session["expiresAt"]);

    // Sessions written straight into the store: one whose lifetime is over, one still live.
    let record = app.engine.app("club").await.unwrap();
    let user = Uuid::parse_str(app.me("club", &access_token(&pair)).await["id"].as_str().unwrap()).unwrap();
    let now = now_ms();
    let mut tokens = Vec::new();
    for expires_at in [now - TimeDelta::seconds(1), now + TimeDelta::seconds(300)] {
        let session = Session {
            id: Uuid::new_v4(),
            app_id: record.id,
            user_id: user,
            created_at: expires_at - TimeDelta::seconds(300),
            last_used_at: now - TimeDelta::seconds(10),
            expires_at,
            revoked_at: None,
            ip: None,
            user_agent: None,
            amr: Vec::new(),
        };
        let token = domain::engine::first_refresh_token(session.id);
        let mut tx = app.engine.store().begin().await.unwrap();
        tx.insert_session(&session).await.unwrap();
        tx.insert_refresh_token(&NewRefreshToken {
            app_id: record.id,
            session_id: session.id,
            digest: token_digest(&token),
            created_at: session.created_at,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        tokens.push((session.id, token));
    }
    let (expired_id, expired) = &tokens[0];
    let (live_id, live) = &tokens[1];
    let body = assert_error(refresh(&app, expired).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
    let fresh = refresh_ok(&app, live).await;
    assert_eq!(fresh["expires_in"], 60);
    assert_eq!(sid_of(&app, &fresh).await, live_id.to_string());
    // Expired sessions are not listed.
    let listed =
        json_of(app.get_with_bearer("/club/v1/me/sessions", &access_token(&fresh)).await, StatusCode::OK).await;
    let ids: Vec<&str> = listed["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&live_id.to_string().as_str()), "{listed}");
    assert!(!ids.contains(&expired_id.to_string().as_str()), "{listed}");
}

/// Wrong password, unknown identifier, unverified email, suspended user and disabled sign-in:
/// one answer, byte for byte.
async fn signin_failures_are_identical(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    let ada = app.signup_end_user("club", "ada").await;
    app.signup_end_user("club", "sleeper").await;
    let sleeper = user_id(&app, &owner, "club", "sleeper").await;
    json_of(
        app.patch_json_with_bearer(
            &format!("/api/v1/apps/club/end-users/{sleeper}"),
            &owner,
            &json!({ "status": "suspended" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // A user whose email is verified signs in with it, in any letter case.
    seed_user(
        &app,
        "club",
        Seeded {
            username: "grace",
            email: Some("Grace@Example.com"),
            email_verified: true,
            password: Some(PASSWORD),
            ..Seeded::default()
        },
    )
    .await;
    for identifier in ["grace", "Grace@Example.com", "grace@example.com", " GRACE@EXAMPLE.COM "] {
        let pair = app.signin_end_user("club", identifier).await;
        assert_eq!(app.me("club", &access_token(&pair)).await["username"], "grace", "{identifier}");
    }

    let mut failures = Vec::new();
    for (identifier, password) in [
        ("ada", "NotThePassword1"),
        ("nobody", PASSWORD),
        ("nobody@example.com", PASSWORD),
        // Signed up, never verified: an email squatter must not get in.
        ("ada@example.com", PASSWORD),
        ("sleeper", PASSWORD),
        ("sleeper@example.com", PASSWORD),
        ("", ""),
    ] {
        let body =
            assert_error(signin(&app, identifier, password).await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
                .await;
        failures.push(body);
    }
    // Sign-in switched off: the right password fails the same way.
    app.patch_config(&owner, "club", &json!({ "signin_enabled": false })).await;
    for identifier in ["ada", "grace@example.com"] {
        let body =
            assert_error(signin(&app, identifier, PASSWORD).await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
                .await;
        failures.push(body);
    }
    // So does an app that does not exist.
    failures.push(
        assert_error(
            app.post_json("/no-such-app/v1/auth/signin", &json!({ "identifier": "ada", "password": PASSWORD })).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await,
    );
    for body in &failures {
        assert_eq!(body, &failures[0]);
    }
    assert_eq!(failures[0]["message"], "Invalid credentials");
    // Issued tokens live on while sign-in is off.
    app.me("club", &access_token(&ada)).await;
    refresh_ok(&app, &refresh_token(&ada)).await;
    app.patch_config(&owner, "club", &json!({ "signin_enabled": true })).await;
    app.signin_end_user("club", "ada").await;
}

/// A refresh token says where it is kept (its session and generation); a forged one finds
/// nothing there, whatever it names, and ends nobody's session.
async fn forged_refresh_tokens_find_nothing(app: TestApp) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    app.app_with_owner("club").await;
    let ada = app.signup_end_user("club", "ada").await;
    let grace = app.signup_end_user("club", "grace").await;
    let held = refresh_token(&ada);
    let bytes = b64.decode(held.strip_prefix("rt_").unwrap()).unwrap();
    assert_eq!(bytes.len(), 56, "session, generation, secret");
    let (session, generation) = (&bytes[..16], &bytes[16..24]);
    assert_eq!(Uuid::from_slice(session).unwrap().to_string(), sid_of(&app, &ada).await);
    assert_eq!(generation, &[0; 8]);
    let grace_session = b64.decode(refresh_token(&grace).strip_prefix("rt_").unwrap()).unwrap()[..16].to_vec();
    let forge = |session: &[u8], generation: i64, secret: &[u8]| {
        format!("rt_{}", b64.encode([session, &generation.to_be_bytes(), secret].concat()))
    };
    for forged in [
        forge(session, 0, &[0; 32]),
        forge(session, 1, &bytes[24..]),
        forge(session, -1, &bytes[24..]),
        forge(session, i64::MAX, &bytes[24..]),
        forge(&grace_session, 0, &bytes[24..]),
        forge(&[0; 16], 0, &bytes[24..]),
    ] {
        assert_error(refresh(&app, &forged).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        let response = app.post_json("/club/v1/auth/logout", &json!({ "refresh_token": forged })).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    // Both sessions go on.
    let next = refresh_ok(&app, &held).await;
    assert_eq!(b64.decode(refresh_token(&next).strip_prefix("rt_").unwrap()).unwrap()[16..24], 1i64.to_be_bytes());
    refresh_ok(&app, &refresh_token(&next)).await;
    refresh_ok(&app, &refresh_token(&grace)).await;
}

both_stores!(
    forged_refresh_tokens_find_nothing,
    rotation_and_grace,
    reuse_after_grace_revokes_the_family,
    parallel_refreshes_share_one_successor,
    parallel_reuse_revokes,
    what_ends_a_session,
    sessions_expire_absolutely,
    signin_failures_are_identical,
);
