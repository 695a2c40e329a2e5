//! Tenant isolation: app A's tokens, API keys, user ids, session ids and roles mean nothing at
//! app B, even on one server and one store.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_keys::create_key;
use crate::end_users::user_id;
use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp, PASSWORD};

async fn apps_do_not_meet(app: TestApp) {
    let owner_a = app.app_with_owner("alpha").await;
    let owner_b = app.app_with_owner("beta").await;
    // The same username in both apps: two unrelated users.
    let ada_a = app.signup_end_user("alpha", "ada").await;
    let ada_b = json_of(
        app.post_json(
            "/beta/v1/auth/signup",
            &json!({ "email": "ada@example.com", "username": "ada", "password": "AnotherPassword456" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let me_a = app.me("alpha", &access_token(&ada_a)).await;
    let me_b = app.me("beta", &access_token(&ada_b)).await;
    assert_ne!(me_a["id"], me_b["id"]);
    let id_a = me_a["id"].as_str().unwrap().to_owned();
    assert_eq!(user_id(&app, &owner_a, "alpha", "ada").await, id_a);
    let session_a = app.current_session_id("alpha", &access_token(&ada_a)).await;
    // Each app's password is its own.
    assert_error(
        app.post_json("/beta/v1/auth/signin", &json!({ "identifier": "ada", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;

    // A's user id, through B's management API with B's owner: not found.
    let foreign_user = format!("/api/v1/apps/beta/end-users/{id_a}");
    for response in [
        app.get_with_bearer(&foreign_user, &owner_b).await,
        app.patch_json_with_bearer(&foreign_user, &owner_b, &json!({ "status": "suspended" })).await,
        app.delete_with_bearer(&foreign_user, &owner_b).await,
        app.get_with_bearer(&format!("{foreign_user}/sessions"), &owner_b).await,
        app.delete_with_bearer(&format!("{foreign_user}/sessions"), &owner_b).await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    // B's user list holds only B's users.
    let list = json_of(app.get_with_bearer("/api/v1/apps/beta/end-users", &owner_b).await, StatusCode::OK).await;
    assert_eq!(list["users"].as_array().unwrap().len(), 1);
    assert_eq!(list["users"][0]["id"], me_b["id"]);
    // A's owner has no standing at B.
    for path in [
        "/api/v1/apps/beta/end-users",
        "/api/v1/apps/beta/config",
        "/api/v1/apps/beta/roles",
        "/api/v1/apps/beta/api-keys",
    ] {
        assert_error(app.get_with_bearer(path, &owner_a).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }

    // A's API key on B's routes: not found, whatever its scopes.
    let (_, key_a) = create_key(
        &app,
        &owner_a,
        "alpha",
        &["user.list", "user.read", "user.update", "config.read", "role.read", "apikey.read"],
    )
    .await;
    json_of(app.get_with_bearer("/api/v1/apps/alpha/end-users", &key_a).await, StatusCode::OK).await;
    for path in [
        "/api/v1/apps/beta/end-users".to_owned(),
        format!("/api/v1/apps/beta/end-users/{}", me_b["id"].as_str().unwrap()),
        "/api/v1/apps/beta/config".to_owned(),
        "/api/v1/apps/beta/roles".to_owned(),
        "/api/v1/apps/beta/api-keys".to_owned(),
    ] {
        assert_error(app.get_with_bearer(&path, &key_a).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    assert_error(
        app.patch_json_with_bearer(
            &format!("/api/v1/apps/beta/end-users/{}", me_b["id"].as_str().unwrap()),
            &key_a,
            &json!({ "status": "suspended" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    // A's end-user bearer at B's consumer API: unauthenticated.
    for path in ["/beta/v1/me", "/beta/v1/me/permissions", "/beta/v1/me/sessions", "/beta/v1/users", "/beta/v1/roles"] {
        assert_error(
            app.get_with_bearer(path, &access_token(&ada_a)).await,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
    }
    // A's refresh token at B: unknown there, and A's session is untouched by the attempt.
    assert_error(
        app.post_json("/beta/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&ada_a) })).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    assert_error(
        app.post_json("/beta/v1/auth/logout", &json!({ "refresh_token": refresh_token(&ada_a) })).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    // A's session id, revoked through B by a B user: not found.
    assert_error(
        app.delete_with_bearer(&format!("/beta/v1/me/sessions/{session_a}"), &access_token(&ada_b)).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    // A's user and session live on.
    assert_eq!(app.me("alpha", &access_token(&ada_a)).await, me_a);
    let rotated = json_of(
        app.post_json("/alpha/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&ada_a) })).await,
        StatusCode::OK,
    )
    .await;
    app.me("alpha", &access_token(&rotated)).await;

    // A's roles and permission strings are A's alone.
    json_of(
        app.post_json_with_bearer(
            "/api/v1/apps/alpha/roles",
            &owner_a,
            &json!({ "name": "billing", "permissions": ["billing.read"] }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_error(
        app.get_with_bearer("/api/v1/apps/beta/roles/billing", &owner_b).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let catalog = json_of(app.get_with_bearer("/api/v1/apps/beta/permissions", &owner_b).await, StatusCode::OK).await;
    assert!(!catalog.to_string().contains("billing.read"), "{catalog}");
    assert_error(
        app.patch_json_with_bearer(
            &format!("/api/v1/apps/beta/end-users/{}", me_b["id"].as_str().unwrap()),
            &owner_b,
            &json!({ "role": "billing" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_error(
        app.patch_json_with_bearer("/api/v1/apps/beta/config", &owner_b, &json!({ "signup_default_role": "billing" }))
            .await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    // Editing A's member role leaves B's alone.
    json_of(
        app.patch_json_with_bearer(
            "/api/v1/apps/alpha/roles/member",
            &owner_a,
            &json!({ "permissions": ["billing.read"] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let permissions =
        json_of(app.get_with_bearer("/beta/v1/me/permissions", &access_token(&ada_b)).await, StatusCode::OK).await;
    assert_eq!(permissions, json!({ "role": "member", "permissions": ["app.read", "role.read"] }));

    // A's config is A's alone.
    app.patch_config(&owner_a, "alpha", &json!({ "signup_enabled": false, "access_token_ttl_seconds": 120 })).await;
    let config_b = app.config(&owner_b, "beta").await;
    assert_eq!(config_b["signup_enabled"], true);
    assert_eq!(config_b["access_token_ttl_seconds"], 3600);
    assert_eq!(app.signup_end_user("beta", "grace").await["expires_in"], 3600);

    // Suspending B's ada leaves A's ada alone.
    json_of(
        app.patch_json_with_bearer(
            &format!("/api/v1/apps/beta/end-users/{}", me_b["id"].as_str().unwrap()),
            &owner_b,
            &json!({ "status": "suspended" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.me("alpha", &access_token(&rotated)).await;
    app.signin_end_user("alpha", "ada").await;
}

both_stores!(apps_do_not_meet);
