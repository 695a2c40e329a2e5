//! Seed 001, "Wire signup + signin into your product", run as written (host replaced): the
//! app is made through the API (step 1 is the console's), then steps 2 to 7.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp};
use crate::quickstart::{assert_recent_timestamp, keys_of, verify_with_jwks};

/// Every field step 2 names, with its documented default.
pub fn seed_defaults() -> Value {
    json!({
        "signup_enabled": true,
        "signin_enabled": true,
        "signup_requires_pak": false,
        "password_min_length": 8,
        "password_require_uppercase": false,
        "password_require_number": false,
        "password_require_symbol": false,
        "access_token_ttl_seconds": 3600,
        "refresh_token_ttl_seconds": 2_592_000,
        "enforce_app_permissions": false,
        "signup_default_role": "member",
        "refresh_reuse_grace_seconds": 0,
    })
}

/// Checks that `config` holds every default of step 2.
pub fn assert_seed_defaults(config: &Value) {
    for (field, default) in seed_defaults().as_object().unwrap() {
        assert_eq!(&config[field], default, "{field} in {config}");
    }
}

fn assert_token_pair(pair: &Value) {
    assert_eq!(keys_of(pair), ["access_token", "expires_in", "refresh_token", "token_type"], "{pair}");
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 3600);
    assert_eq!(access_token(pair).split('.').count(), 3, "a JWT: {pair}");
    assert!(refresh_token(pair).len() >= 32, "{pair}");
}

async fn seed_001(app: TestApp) {
    // Step 1: create the app; the creator is its owner, with the three system roles.
    let owner = app.app_with_owner("acme").await;
    let roles = json_of(app.get_with_bearer("/api/v1/apps/acme/roles", &owner).await, StatusCode::OK).await;
    let mut names: Vec<&str> = roles["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["admin", "member", "owner"]);

    // Step 2: the auth config's defaults, on both prefixes.
    let config = app.config(&owner, "acme").await;
    assert_seed_defaults(&config);
    let alias = json_of(app.get_with_bearer("/v1/apps/acme/config", &owner).await, StatusCode::OK).await;
    assert_eq!(alias, config);

    // Step 3: exactly the seed's body, no bearer.
    let response = app
        .post_json(
            "/acme/v1/auth/signup",
            &json!({
                "email": "ada@example.com",
                "username": "ada",
                "password": "CorrectHorseBatteryStaple",
                "display_name": "Ada Lovelace"
            }),
        )
        .await;
    assert!(matches!(response.status(), StatusCode::CREATED | StatusCode::OK), "{}", response.status());
    let signed_up: Value = response.json().await.unwrap();
    assert_token_pair(&signed_up);

    // Step 4: sign in with the username.
    let response = app
        .post_json("/acme/v1/auth/signin", &json!({ "identifier": "ada", "password": "CorrectHorseBatteryStaple" }))
        .await;
    let signed_in = json_of(response, StatusCode::OK).await;
    assert_token_pair(&signed_in);
    assert_ne!(refresh_token(&signed_in), refresh_token(&signed_up));
    // Its failure mode: 401 with the seed's message.
    let failed = assert_error(
        app.post_json("/acme/v1/auth/signin", &json!({ "identifier": "ada", "password": "WrongHorseBatteryStaple" }))
            .await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_eq!(failed["statusCode"], 401);
    assert_eq!(failed["message"], "Invalid credentials");

    // Step 5: /me in exactly the seed's shape.
    let token = access_token(&signed_in);
    let me = app.me("acme", &token).await;
    assert_eq!(
        keys_of(&me),
        ["createdAt", "displayName", "email", "emailVerifiedAt", "id", "joinedAt", "role", "username"],
        "{me}"
    );
    assert!(uuid::Uuid::parse_str(me["id"].as_str().unwrap()).is_ok(), "{me}");
    assert_eq!(me["username"], "ada");
    assert_eq!(me["displayName"], "Ada Lovelace");
    assert_eq!(me["role"], "member");
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["emailVerifiedAt"], Value::Null);
    assert_recent_timestamp(&me["joinedAt"]);
    assert_recent_timestamp(&me["createdAt"]);
    // The same user behind both sessions.
    assert_eq!(app.me("acme", &access_token(&signed_up)).await, me);
    // A JWT the app's backend verifies on its own, against the app's JWKS.
    let claims = verify_with_jwks(&app, "acme", &token).await;
    assert_eq!(claims["sub"], me["id"]);
    assert_eq!(claims["role"], "member");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);

    // The role's flat permission set.
    let permissions = json_of(app.get_with_bearer("/acme/v1/me/permissions", &token).await, StatusCode::OK).await;
    assert_eq!(permissions, json!({ "role": "member", "permissions": ["app.read", "role.read"] }));

    // Step 6: refresh rotates the refresh token.
    let response = app.post_json("/acme/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&signed_in) })).await;
    let refreshed = json_of(response, StatusCode::OK).await;
    assert_token_pair(&refreshed);
    assert_ne!(refresh_token(&refreshed), refresh_token(&signed_in));
    assert_eq!(app.me("acme", &access_token(&refreshed)).await["id"], me["id"]);
    let claims = verify_with_jwks(&app, "acme", &access_token(&refreshed)).await;
    assert_eq!(claims["sid"], verify_with_jwks(&app, "acme", &token).await["sid"], "one session, rotated");

    // Step 7, first option: revoke the refresh token. The session is over.
    let response = app.post_json("/acme/v1/auth/logout", &json!({ "refresh_token": refresh_token(&refreshed) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.post_json("/acme/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&refreshed) })).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Step 7, second option: revoke the session server-side; its bearer dies at once.
    let signup_token = access_token(&signed_up);
    let session = app.current_session_id("acme", &signup_token).await;
    let response = app.delete_with_bearer(&format!("/acme/v1/me/sessions/{session}"), &signup_token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(app.get_with_bearer("/acme/v1/me", &signup_token).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED")
        .await;
    assert_error(
        app.post_json("/acme/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&signed_up) })).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;

    // Signing in again still works.
    let again = app.signin_end_user_with("acme", "ada", "CorrectHorseBatteryStaple").await;
    assert_eq!(app.me("acme", &access_token(&again)).await["id"], me["id"]);
}

both_stores!(seed_001);
