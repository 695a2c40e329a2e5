//! Platform API keys (`/api/v1/apps/{slug}/api-keys`, seed 001's PAKs): the secret is shown
//! once, scopes are enforced, revoked and expired keys are refused.

use chrono::{DateTime, TimeDelta, Utc};
use domain::crypto::token_digest;
use domain::model::ApiKey;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::end_users::now_ms;
use crate::helpers::{assert_error, both_stores, json_of, TestApp};
use crate::quickstart::{assert_recent_timestamp, keys_of};

/// Creates a key with these scopes, asserting it worked; returns the answer and the secret.
pub async fn create_key(app: &TestApp, token: &str, slug: &str, scopes: &[&str]) -> (Value, String) {
    let response = app
        .post_json_with_bearer(
            &format!("/api/v1/apps/{slug}/api-keys"),
            token,
            &json!({ "name": format!("key for {}", scopes.join(" ")), "scopes": scopes }),
        )
        .await;
    let created = json_of(response, StatusCode::CREATED).await;
    let secret = created["secret"].as_str().expect("the secret").to_owned();
    (created, secret)
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}")))
        .unwrap()
        .with_timezone(&Utc)
}

async fn shown_once_listed_without_secret(app: TestApp) {
    let owner = app.app_with_owner("keys").await;
    let path = "/api/v1/apps/keys/api-keys";
    let created = json_of(
        app.post_json_with_bearer(
            path,
            &owner,
            &json!({ "name": "Backend", "scopes": ["user.list", "rampart.signup.create", "user.list"], "expiresInDays": 30 }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        keys_of(&created),
        ["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "revokedAt", "scopes", "secret"],
        "{created}"
    );
    let secret = created["secret"].as_str().unwrap().to_owned();
    let prefix = created["prefix"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("rk_") && secret.len() >= 32, "{secret}");
    assert!(secret.starts_with(&prefix) && prefix.len() > 3 && prefix.len() < secret.len() / 2, "{prefix}");
    assert_eq!(created["name"], "Backend");
    assert_eq!(created["scopes"], json!(["user.list", "rampart.signup.create"]), "deduplicated, in order");
    assert_recent_timestamp(&created["createdAt"]);
    let days = (timestamp(&created["expiresAt"]) - timestamp(&created["createdAt"])).num_hours();
    assert!((30 * 24 - 1..=30 * 24 + 1).contains(&days), "{created}");
    assert_eq!(created["lastUsedAt"], Value::Null);
    assert_eq!(created["revokedAt"], Value::Null);

    // The list never shows the secret, anywhere; the prefix is there to tell keys apart.
    let response = app.get_with_bearer(path, &owner).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&secret), "the secret is listed: {text}");
    assert!(!text.contains(&secret[prefix.len()..]), "part of the secret is listed: {text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(keys_of(&list), ["apiKeys"]);
    let listed = &list["apiKeys"][0];
    assert_eq!(
        keys_of(listed),
        ["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "revokedAt", "scopes"],
        "{listed}"
    );
    assert_eq!(listed["prefix"], prefix.as_str());
    assert_eq!(listed["id"], created["id"]);
    assert_eq!(listed["lastUsedAt"], Value::Null);

    // Using the key records when.
    json_of(app.get_with_bearer("/api/v1/apps/keys/end-users", &secret).await, StatusCode::OK).await;
    let list = json_of(app.get_with_bearer(path, &owner).await, StatusCode::OK).await;
    assert_recent_timestamp(&list["apiKeys"][0]["lastUsedAt"]);

    // Lifetimes: 1 to 3650 days, or none.
    let (app, owner) = (&app, &owner);
    let create = |body: Value| async move { app.post_json_with_bearer(path, owner, &body).await };
    let forever =
        json_of(create(json!({ "name": "Forever", "scopes": ["user.list"] })).await, StatusCode::CREATED).await;
    assert_eq!(forever["expiresAt"], Value::Null);
    for days in [1, 3650] {
        let key = json_of(
            create(json!({ "name": "Bounded", "scopes": ["user.list"], "expiresInDays": days })).await,
            StatusCode::CREATED,
        )
        .await;
        let hours = (timestamp(&key["expiresAt"]) - timestamp(&key["createdAt"])).num_hours();
        assert!((days * 24 - 1..=days * 24 + 1).contains(&hours), "{key}");
    }
    json_of(
        create(json!({ "name": "Snake", "scopes": ["user.list"], "expires_in_days": 7 })).await,
        StatusCode::CREATED,
    )
    .await;
    for body in [
        json!({ "name": "Zero", "scopes": ["user.list"], "expiresInDays": 0 }),
        json!({ "name": "Negative", "scopes": ["user.list"], "expiresInDays": -1 }),
        json!({ "name": "Too long", "scopes": ["user.list"], "expiresInDays": 3651 }),
        json!({ "name": "Text", "scopes": ["user.list"], "expiresInDays": "7" }),
        // Scopes must be known, and there must be one.
        json!({ "name": "Unknown", "scopes": ["billing.read"] }),
        json!({ "name": "Unknown", "scopes": ["user.list", "root"] }),
        json!({ "name": "None", "scopes": [] }),
        json!({ "name": "Missing" }),
        json!({ "name": "", "scopes": ["user.list"] }),
        json!({ "scopes": ["user.list"] }),
    ] {
        let body = assert_error(create(body.clone()).await, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        assert!(!body.to_string().contains("rk_"), "{body}");
    }
    let list = json_of(app.get_with_bearer(path, owner).await, StatusCode::OK).await;
    assert_eq!(list["apiKeys"].as_array().unwrap().len(), 5, "{list}");
}

async fn scopes_are_enforced(app: TestApp) {
    let owner = app.app_with_owner("keys").await;
    app.signup_end_user("keys", "ada").await;
    let (_, lister) = create_key(&app, &owner, "keys", &["user.list"]).await;

    let list = json_of(app.get_with_bearer("/api/v1/apps/keys/end-users", &lister).await, StatusCode::OK).await;
    assert_eq!(list["users"][0]["username"], "ada");
    let id = list["users"][0]["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/api/v1/apps/keys/end-users/{id}"),
        format!("/api/v1/apps/keys/end-users/{id}/sessions"),
        "/api/v1/apps/keys/roles".to_owned(),
        "/api/v1/apps/keys/roles/member".to_owned(),
        "/api/v1/apps/keys/permissions".to_owned(),
        "/api/v1/apps/keys/config".to_owned(),
        "/api/v1/apps/keys/api-keys".to_owned(),
        "/api/v1/apps/keys".to_owned(),
    ] {
        let body = assert_error(app.get_with_bearer(&path, &lister).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        assert!(body["message"].as_str().unwrap().contains("scope"), "{path}: {body}");
    }
    for response in [
        app.patch_json_with_bearer("/api/v1/apps/keys/config", &lister, &json!({ "signup_enabled": false })).await,
        app.patch_json_with_bearer(
            &format!("/api/v1/apps/keys/end-users/{id}"),
            &lister,
            &json!({ "status": "suspended" }),
        )
        .await,
        app.delete_with_bearer(&format!("/api/v1/apps/keys/end-users/{id}"), &lister).await,
        app.post_json_with_bearer("/api/v1/apps/keys/roles", &lister, &json!({ "name": "sneaky", "permissions": [] }))
            .await,
        app.post_json_with_bearer(
            "/api/v1/apps/keys/api-keys",
            &lister,
            &json!({ "name": "k", "scopes": ["user.list"] }),
        )
        .await,
    ] {
        assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    }
    // Nothing changed.
    let user =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/keys/end-users/{id}"), &owner).await, StatusCode::OK).await;
    assert_eq!(user["status"], "active");
    assert_eq!(app.config(&owner, "keys").await["signup_enabled"], true);
    // Keys are not accounts.
    for path in ["/api/v1/apps", "/api/v1/auth/me", "/api/v1/introspect/apps/keys"] {
        assert_error(app.get_with_bearer(path, &lister).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }

    // A key that makes keys grants only scopes it holds itself.
    let (_, maker) = create_key(&app, &owner, "keys", &["apikey.create", "apikey.read", "user.list"]).await;
    let (child, child_secret) = create_key(&app, &maker, "keys", &["user.list"]).await;
    assert_eq!(child["scopes"], json!(["user.list"]));
    json_of(app.get_with_bearer("/api/v1/apps/keys/end-users", &child_secret).await, StatusCode::OK).await;
    for scopes in [json!(["config.read"]), json!(["user.list", "user.delete"]), json!(["rampart.signup.create"])] {
        assert_error(
            app.post_json_with_bearer("/api/v1/apps/keys/api-keys", &maker, &json!({ "name": "k", "scopes": scopes }))
                .await,
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        )
        .await;
    }
    assert_error(
        app.post_json_with_bearer(
            "/api/v1/apps/keys/api-keys",
            &maker,
            &json!({ "name": "k", "scopes": ["nope.nope"] }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    // Signing users up rides on user.create.
    let (_, creator) = create_key(&app, &owner, "keys", &["apikey.create", "user.create"]).await;
    let (signup_key, _) = create_key(&app, &creator, "keys", &["heimdall.signup.create"]).await;
    assert_eq!(signup_key["scopes"], json!(["heimdall.signup.create"]));
    // Five keys in all, listed to a key holding apikey.read.
    let list = json_of(app.get_with_bearer("/api/v1/apps/keys/api-keys", &maker).await, StatusCode::OK).await;
    assert_eq!(list["apiKeys"].as_array().unwrap().len(), 5, "{list}");
}

async fn revoked_and_expired_keys_are_refused(app: TestApp) {
    let owner = app.app_with_owner("keys").await;
    let (created, secret) = create_key(&app, &owner, "keys", &["user.list", "apikey.revoke"]).await;
    let (_, bystander) = create_key(&app, &owner, "keys", &["user.list"]).await;
    json_of(app.get_with_bearer("/api/v1/apps/keys/end-users", &secret).await, StatusCode::OK).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/apps/keys/api-keys/{id}");

    let response = app.delete_with_bearer(&path, &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.get_with_bearer("/api/v1/apps/keys/end-users", &secret).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    // It cannot even revoke others any more.
    let list = json_of(app.get_with_bearer("/api/v1/apps/keys/api-keys", &owner).await, StatusCode::OK).await;
    let other = list["apiKeys"].as_array().unwrap().iter().find(|k| k["id"] != id).unwrap()["id"].clone();
    let response =
        app.delete_with_bearer(&format!("/api/v1/apps/keys/api-keys/{}", other.as_str().unwrap()), &secret).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    json_of(app.get_with_bearer("/api/v1/apps/keys/end-users", &bystander).await, StatusCode::OK).await;
    // The list keeps it, marked revoked.
    let revoked = list["apiKeys"].as_array().unwrap().iter().find(|k| k["id"] == id).unwrap().clone();
    assert_recent_timestamp(&revoked["revokedAt"]);
    // Twice is a conflict; unknown keys are not found.
    assert_error(app.delete_with_bearer(&path, &owner).await, StatusCode::CONFLICT, "CONFLICT").await;
    for missing in [Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
        assert_error(
            app.delete_with_bearer(&format!("/api/v1/apps/keys/api-keys/{missing}"), &owner).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }

    // A key past its expiry, written straight into the store.
    let record = app.engine.app("keys").await.unwrap();
    let expired_secret = format!("rk_{}", Uuid::new_v4().simple());
    let now = now_ms();
    let mut tx = app.engine.store().begin().await.unwrap();
    tx.insert_api_key(&ApiKey {
        id: Uuid::new_v4(),
        app_id: record.id,
        name: "Expired".into(),
        prefix: expired_secret[..11].to_owned(),
        digest: token_digest(&expired_secret),
        scopes: vec!["user.list".into()],
        created_by: None,
        created_at: now - TimeDelta::days(2),
        expires_at: Some(now - TimeDelta::seconds(1)),
        last_used_at: None,
        revoked_at: None,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_error(
        app.get_with_bearer("/api/v1/apps/keys/end-users", &expired_secret).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    // Made-up keys are refused the same way.
    for made_up in ["rk_", "rk_nope", &format!("rk_{}", "a".repeat(43))] {
        assert_error(
            app.get_with_bearer("/api/v1/apps/keys/end-users", made_up).await,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
    }
}

/// A key may hand on only what it holds: with `role.update` alone it cannot grow a role's
/// management permissions (no escalation to `app.delete` through `admin`).
async fn keys_cannot_grant_what_they_lack(app: TestApp) {
    let owner = app.app_with_owner("escalate").await;
    let (_, secret) = create_key(&app, &owner, "escalate", &["role.update", "role.create", "role.read"]).await;
    let grow = app
        .patch_json_with_bearer(
            "/api/v1/apps/escalate/roles/admin",
            &secret,
            &json!({ "permissions": ["app.read", "app.delete"] }),
        )
        .await;
    assert_error(grow, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let create = app
        .post_json_with_bearer(
            "/api/v1/apps/escalate/roles",
            &secret,
            &json!({ "name": "sneaky", "permissions": ["config.update"] }),
        )
        .await;
    assert_error(create, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // What it holds, and custom strings, it may grant.
    let ok = app
        .post_json_with_bearer(
            "/api/v1/apps/escalate/roles",
            &secret,
            &json!({ "name": "editors", "permissions": ["role.read", "docs.edit"] }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let admin = app.get_with_bearer("/api/v1/apps/escalate/roles/admin", &owner).await;
    let admin = json_of(admin, StatusCode::OK).await;
    assert!(!admin["permissions"].as_array().unwrap().iter().any(|p| p == "app.delete"));
}

both_stores!(
    shown_once_listed_without_secret,
    scopes_are_enforced,
    revoked_and_expired_keys_are_refused,
    keys_cannot_grant_what_they_lack
);
