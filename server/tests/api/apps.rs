//! Apps (`/v1/apps`, `/v1/introspect/apps/{slug}`): listing, reading, updating, deleting,
//! slug rules, and what another account may see.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, both_stores, json_of, TestApp};
use crate::quickstart::{assert_recent_timestamp, keys_of};

fn slugs_of(list: &Value) -> Vec<String> {
    list["apps"]
        .as_array()
        .unwrap_or_else(|| panic!("no apps array: {list}"))
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn listing_is_per_account(app: TestApp) {
    let alice = app.account_token("alice").await;
    let bob = app.account_token("bob").await;

    let empty = json_of(app.get_with_bearer("/v1/apps", &alice).await, StatusCode::OK).await;
    assert_eq!(empty, json!({ "apps": [] }));

    app.create_app_ok(&alice, "alice-one").await;
    app.create_app_ok(&alice, "alice-two").await;
    app.create_app_ok(&bob, "bob-one").await;

    let list = json_of(app.get_with_bearer("/v1/apps", &alice).await, StatusCode::OK).await;
    assert_eq!(keys_of(&list), ["apps"]);
    assert_eq!(slugs_of(&list), ["alice-one", "alice-two"]);
    for entry in list["apps"].as_array().unwrap() {
        assert_eq!(entry["role"], "owner", "{entry}");
        assert_eq!(entry["status"], "active");
        assert!(entry["id"].is_string() && entry["display_name"].is_string());
        assert_recent_timestamp(&entry["created_at"]);
    }
    let list = json_of(app.get_with_bearer("/v1/apps", &bob).await, StatusCode::OK).await;
    assert_eq!(slugs_of(&list), ["bob-one"]);

    assert_error(app.get("/v1/apps").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

async fn get_patch_delete(app: TestApp) {
    let owner = app.account_token("owner").await;
    let created = json_of(
        app.post_json_with_bearer(
            "/v1/apps",
            &owner,
            &json!({ "slug": "shop", "displayName": "Shop", "metadata": { "tier": "gold" } }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["metadata"], json!({ "tier": "gold" }));

    let fetched = json_of(app.get_with_bearer("/v1/apps/shop", &owner).await, StatusCode::OK).await;
    assert_eq!(fetched["id"], created["id"]);
    assert_eq!(fetched["slug"], "shop");
    assert_eq!(fetched["display_name"], "Shop");
    assert_eq!(fetched["role"], "owner");
    assert_eq!(fetched["created_at"], created["created_at"]);

    // displayName, and its snake_case alias.
    let patched = json_of(
        app.patch_json_with_bearer("/v1/apps/shop", &owner, &json!({ "displayName": "Shop 2" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["display_name"], "Shop 2");
    assert_eq!(patched["slug"], "shop");
    assert_eq!(patched["id"], created["id"]);
    assert_eq!(patched["metadata"], json!({ "tier": "gold" }), "untouched");
    let patched = json_of(
        app.patch_json_with_bearer(
            "/v1/apps/shop",
            &owner,
            &json!({ "display_name": "Shop 3", "metadata": { "tier": "silver" } }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["display_name"], "Shop 3");
    assert_eq!(patched["metadata"], json!({ "tier": "silver" }));
    let fetched = json_of(app.get_with_bearer("/v1/apps/shop", &owner).await, StatusCode::OK).await;
    assert_eq!(fetched["display_name"], "Shop 3");

    // The slug is permanent; restating it is harmless.
    assert_error(
        app.patch_json_with_bearer("/v1/apps/shop", &owner, &json!({ "slug": "other" })).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    json_of(app.patch_json_with_bearer("/v1/apps/shop", &owner, &json!({ "slug": "shop" })).await, StatusCode::OK)
        .await;
    assert_eq!(app.engine.app("shop").await.unwrap().slug, "shop");

    // Bad values are refused and change nothing.
    for body in [
        json!({ "status": "bogus" }),
        json!({ "status": 3 }),
        json!({ "metadata": [1, 2] }),
        json!({ "metadata": "text" }),
        json!({ "displayName": "" }),
        json!({ "displayName": "x".repeat(101) }),
        json!({ "unknown": true }),
    ] {
        assert_error(
            app.patch_json_with_bearer("/v1/apps/shop", &owner, &body).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    let fetched = json_of(app.get_with_bearer("/v1/apps/shop", &owner).await, StatusCode::OK).await;
    assert_eq!(fetched["display_name"], "Shop 3");
    assert_eq!(fetched["status"], "active");
    assert_eq!(fetched["metadata"], json!({ "tier": "silver" }));

    // Suspension: the owner still manages the app; its end-users are shut out.
    let user = app.signup_end_user("shop", "buyer").await;
    let suspended = json_of(
        app.patch_json_with_bearer("/v1/apps/shop", &owner, &json!({ "status": "suspended" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(suspended["status"], "suspended");
    let response = app.get_with_bearer("/shop/v1/me", &access_token(&user)).await;
    assert!(matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "{}", response.status());
    let response = app
        .post_json(
            "/shop/v1/auth/signup",
            &json!({
                "email": "late@example.com",
                "username": "late",
                "password": crate::helpers::PASSWORD,
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_error(
        app.post_json("/shop/v1/auth/signin", &json!({ "identifier": "buyer", "password": crate::helpers::PASSWORD }))
            .await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    let active = json_of(
        app.patch_json_with_bearer("/v1/apps/shop", &owner, &json!({ "status": "active" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(active["status"], "active");
    json_of(app.get_with_bearer("/shop/v1/me", &access_token(&user)).await, StatusCode::OK).await;

    // Delete: gone for its owner, its keys and its end-users.
    let response = app.delete_with_bearer("/v1/apps/shop", &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_error(app.get_with_bearer("/v1/apps/shop", &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.delete_with_bearer("/v1/apps/shop", &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.get_with_bearer("/v1/introspect/apps/shop", &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND")
        .await;
    assert_error(app.get("/shop/v1/.well-known/jwks.json").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let list = json_of(app.get_with_bearer("/v1/apps", &owner).await, StatusCode::OK).await;
    assert_eq!(slugs_of(&list), Vec::<String>::new());
    assert_error(
        app.get_with_bearer("/shop/v1/me", &access_token(&user)).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;

    // The slug is not free again: slugs are permanent, so no new app can mint tokens with the
    // old one's issuer and audience.
    assert_error(app.create_app(&owner, "shop").await, StatusCode::CONFLICT, "SLUG_TAKEN").await;
    assert_error(app.get("/shop/v1/.well-known/jwks.json").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

async fn other_accounts_see_nothing(app: TestApp) {
    let owner = app.account_token("keeper").await;
    let stranger = app.account_token("stranger").await;
    app.create_app_ok(&owner, "private").await;

    for response in [
        app.get_with_bearer("/v1/apps/private", &stranger).await,
        app.patch_json_with_bearer("/v1/apps/private", &stranger, &json!({ "displayName": "Mine now" })).await,
        app.delete_with_bearer("/v1/apps/private", &stranger).await,
        // Indistinguishable from an app that does not exist.
        app.get_with_bearer("/v1/apps/no-such-app", &stranger).await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }

    let introspection =
        json_of(app.get_with_bearer("/v1/introspect/apps/private", &stranger).await, StatusCode::OK).await;
    assert_eq!(introspection, json!({ "isMember": false, "role": null, "permissions": [] }));
    assert_error(
        app.get_with_bearer("/v1/introspect/apps/no-such-app", &stranger).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    // Nothing changed for the owner.
    let fetched = json_of(app.get_with_bearer("/v1/apps/private", &owner).await, StatusCode::OK).await;
    assert_eq!(fetched["display_name"], "App private");
    let list = json_of(app.get_with_bearer("/v1/apps", &stranger).await, StatusCode::OK).await;
    assert_eq!(list, json!({ "apps": [] }));

    // The reserved platform app is no one's to manage.
    for response in [
        app.get_with_bearer("/v1/apps/platform", &owner).await,
        app.delete_with_bearer("/v1/apps/platform", &owner).await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

async fn slug_rules(app: TestApp) {
    let token = app.account_token("slugger").await;
    let invalid = [
        "".to_owned(),
        "ab".to_owned(),
        "Acme".to_owned(),
        "ACME-CORP".to_owned(),
        "-acme".to_owned(),
        "acme-".to_owned(),
        "ac_me".to_owned(),
        "ac me".to_owned(),
        "acmé".to_owned(),
        "ac/me".to_owned(),
        "../x".to_owned(),
        "a".repeat(41),
        "api".to_owned(),
        "v1".to_owned(),
        "console".to_owned(),
        "platform".to_owned(),
        "pkg".to_owned(),
        "assets".to_owned(),
        "health".to_owned(),
        "ready".to_owned(),
        "metrics".to_owned(),
        "docs".to_owned(),
        "openapi.json".to_owned(),
        ".well-known".to_owned(),
        "static".to_owned(),
    ];
    for slug in &invalid {
        let body = assert_error(app.create_app(&token, slug).await, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        assert!(body["message"].as_str().unwrap().contains("slug"), "{slug}: {body}");
    }
    let list = json_of(app.get_with_bearer("/v1/apps", &token).await, StatusCode::OK).await;
    assert_eq!(list, json!({ "apps": [] }), "no invalid slug was created");

    // The longest and shortest allowed.
    let longest = "a".repeat(40);
    app.create_app_ok(&token, &longest).await;
    app.create_app_ok(&token, "a1b").await;

    // Taken, by the same account or another.
    app.create_app_ok(&token, "acme").await;
    assert_error(app.create_app(&token, "acme").await, StatusCode::CONFLICT, "SLUG_TAKEN").await;
    let other = app.account_token("other").await;
    assert_error(app.create_app(&other, "acme").await, StatusCode::CONFLICT, "SLUG_TAKEN").await;

    // Two creations of one slug at once: exactly one wins, the other is a 409.
    let (a, b) = tokio::join!(app.create_app(&token, "contested"), app.create_app(&other, "contested"));
    let mut statuses = vec![a.status(), b.status()];
    statuses.sort_unstable();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT]);
}

async fn create_body_rules(app: TestApp) {
    let token = app.account_token("maker").await;
    // `display_name` in place of `displayName`.
    let created = json_of(
        app.post_json_with_bearer("/v1/apps", &token, &json!({ "slug": "snake", "display_name": "Snake Case" })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["display_name"], "Snake Case");
    assert_eq!(created["metadata"], json!({}));

    let created = json_of(
        app.post_json_with_bearer(
            "/v1/apps",
            &token,
            &json!({ "slug": "meta", "displayName": "Meta", "metadata": { "a": [1, { "b": null }] } }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["metadata"], json!({ "a": [1, { "b": null }] }));

    for body in [
        json!({ "slug": "arr", "displayName": "Arr", "metadata": [] }),
        json!({ "slug": "str", "displayName": "Str", "metadata": "x" }),
        json!({ "slug": "num", "displayName": "Num", "metadata": 1 }),
        json!({ "slug": "nodisplay" }),
        json!({ "displayName": "No slug" }),
        json!({ "slug": "blank", "displayName": "   " }),
        json!({ "slug": 42, "displayName": "Number" }),
        json!({ "slug": "big", "displayName": "Big", "metadata": { "x": "y".repeat(17 * 1024) } }),
    ] {
        assert_error(
            app.post_json_with_bearer("/v1/apps", &token, &body).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    let list = json_of(app.get_with_bearer("/v1/apps", &token).await, StatusCode::OK).await;
    assert_eq!(slugs_of(&list), ["snake", "meta"]);
}

both_stores!(listing_is_per_account, get_patch_delete, other_accounts_see_nothing, slug_rules, create_body_rules,);
