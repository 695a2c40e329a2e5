//! App credentials (seed 002's `app_id` + `app_secret`, `/api/v1/apps/{slug}/credentials`):
//! the secret shown once and never listed, rotation with an overlap, revocation, who may
//! manage them, and what they do on refresh and logout.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::audit::{account_id, events, member_with, party};
use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, two_nodes, TestApp, PASSWORD};
use crate::quickstart::{assert_recent_timestamp, keys_of};

/// Creates a credential through the API, asserting it worked; returns `(app_id, app_secret)`.
pub async fn create_credential(app: &TestApp, token: &str, slug: &str) -> (String, String) {
    let path = format!("/api/v1/apps/{slug}/credentials");
    let created = json_of(app.post_json_with_bearer(&path, token, &json!({})).await, StatusCode::CREATED).await;
    (created["app_id"].as_str().unwrap().to_owned(), created["app_secret"].as_str().unwrap().to_owned())
}

/// `POST /{slug}/v1/auth/refresh` with this body.
async fn refresh_with(app: &TestApp, slug: &str, body: Value) -> Response {
    app.post_json(&format!("/{slug}/v1/auth/refresh"), &body).await
}

/// Refreshes with the credential, asserting it worked; returns the new refresh token.
async fn refresh_ok(app: &TestApp, slug: &str, token: &str, (id, secret): (&str, &str)) -> String {
    let body = json!({ "app_id": id, "app_secret": secret, "refresh_token": token });
    refresh_token(&json_of(refresh_with(app, slug, body).await, StatusCode::OK).await)
}

/// Asserts the credential is refused on refresh, and that the refresh token was left as it
/// was: it still refreshes (and is then spent); returns its successor.
async fn refused_then_still_works(app: &TestApp, slug: &str, token: &str, body: Value) -> String {
    let mut body = body;
    body["refresh_token"] = json!(token);
    let refused =
        assert_error(refresh_with(app, slug, body.clone()).await, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS")
            .await;
    assert_eq!(refused["message"], "Invalid app credentials", "one message for every failure: {body}");
    let pair = json_of(refresh_with(app, slug, json!({ "refresh_token": token })).await, StatusCode::OK).await;
    refresh_token(&pair)
}

async fn credentials_are_shown_once(app: TestApp) {
    let owner = app.app_with_owner("creds").await;
    let path = "/api/v1/apps/creds/credentials";
    let created = json_of(
        app.post_json_with_bearer(path, &owner, &json!({ "name": "Billing backend" })).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(keys_of(&created), ["app_id", "app_secret", "created_at", "name"], "{created}");
    let id = created["app_id"].as_str().unwrap().to_owned();
    let secret = created["app_secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("app_") && id.len() >= 20, "{id}");
    assert!(secret.starts_with("ras_") && secret.len() >= 40, "{secret}");
    assert_eq!(created["name"], "Billing backend");
    assert_recent_timestamp(&created["created_at"]);
    // Without a body, or an empty one: a default name.
    let bare = app.client.post(app.url(path)).bearer_auth(&owner).send().await.unwrap();
    let bare = json_of(bare, StatusCode::CREATED).await;
    assert_eq!(bare["name"], "default");
    let (other_id, _) = create_credential(&app, &owner, "creds").await;
    assert!(other_id != id && bare["app_id"] != id.as_str());

    // The list shows every credential, newest first, and never a secret.
    let response = app.get_with_bearer(path, &owner).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&secret) && !text.contains(&secret[4..]), "a secret is listed: {text}");
    assert!(!text.contains("ras_"), "{text}");
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(keys_of(&list), ["credentials"]);
    let listed = list["credentials"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2]["app_id"], id.as_str());
    assert_eq!(
        keys_of(&listed[2]),
        ["app_id", "created_at", "last_used_at", "name", "previous_secret_expires_at", "revoked_at", "rotated_at"],
        "{listed:?}"
    );
    for field in ["last_used_at", "previous_secret_expires_at", "revoked_at", "rotated_at"] {
        assert_eq!(listed[2][field], Value::Null, "{field}");
    }

    // Rotation: a new secret, shown once; the old one works for a day by default.
    let rotated =
        json_of(app.post_json_with_bearer(&format!("{path}/{id}/rotate"), &owner, &json!({})).await, StatusCode::OK)
            .await;
    assert_eq!(keys_of(&rotated), ["app_id", "app_secret", "previous_secret_expires_at"], "{rotated}");
    assert_eq!(rotated["app_id"], id.as_str());
    let rotated_secret = rotated["app_secret"].as_str().unwrap();
    assert!(rotated_secret.starts_with("ras_") && rotated_secret != secret);
    let until = chrono::DateTime::parse_from_rfc3339(rotated["previous_secret_expires_at"].as_str().unwrap()).unwrap();
    let hours = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!((23 * 60..=24 * 60).contains(&hours), "{rotated}");
    let list = json_of(app.get_with_bearer(path, &owner).await, StatusCode::OK).await;
    let listed = list["credentials"].as_array().unwrap().iter().find(|c| c["app_id"] == id.as_str()).unwrap().clone();
    assert_recent_timestamp(&listed["rotated_at"]);
    assert_eq!(listed["previous_secret_expires_at"], rotated["previous_secret_expires_at"]);
    assert!(!list.to_string().contains(rotated_secret));

    // Revocation: once; then it cannot be rotated or revoked again.
    let response = app.delete_with_bearer(&format!("{path}/{id}"), &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let again = app.delete_with_bearer(&format!("{path}/{id}"), &owner).await;
    assert_error(again, StatusCode::CONFLICT, "CONFLICT").await;
    let rotate = app.post_json_with_bearer(&format!("{path}/{id}/rotate"), &owner, &json!({})).await;
    assert_error(rotate, StatusCode::CONFLICT, "CONFLICT").await;
    let list = json_of(app.get_with_bearer(path, &owner).await, StatusCode::OK).await;
    let listed = list["credentials"].as_array().unwrap().iter().find(|c| c["app_id"] == id.as_str()).unwrap().clone();
    assert_recent_timestamp(&listed["revoked_at"]);
    assert_eq!(listed["previous_secret_expires_at"], Value::Null, "its previous secret went with it");

    // Unknown credentials, and another app's: not here.
    let theirs = app.app_with_owner("theirs").await;
    let (their_id, _) = create_credential(&app, &theirs, "theirs").await;
    for unknown in [their_id.as_str(), "app_000000000000000000000000", "nope", "%20"] {
        let response = app.delete_with_bearer(&format!("{path}/{unknown}"), &owner).await;
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        let response = app.post_json_with_bearer(&format!("{path}/{unknown}/rotate"), &owner, &json!({})).await;
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }

    // Bad input is a 4xx in the documented shape, never a 500.
    let long = "x".repeat(101);
    for body in [
        json!({ "name": "" }),
        json!({ "name": "  " }),
        json!({ "name": long }),
        json!({ "name": 5 }),
        json!({ "scopes": [] }),
    ] {
        let response = app.post_json_with_bearer(path, &owner, &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let rotate_path = format!("{path}/{other_id}/rotate");
    for body in [
        json!({ "overlap_seconds": -1 }),
        json!({ "overlap_seconds": 604_801 }),
        json!({ "overlap_seconds": "60" }),
        json!({ "overlap_seconds": 1.5 }),
        json!({ "overlap": 60 }),
    ] {
        let response = app.post_json_with_bearer(&rotate_path, &owner, &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let response = app
        .client
        .post(app.url(&rotate_path))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    json_of(
        app.post_json_with_bearer(&rotate_path, &owner, &json!({ "overlap_seconds": 604_800 })).await,
        StatusCode::OK,
    )
    .await;

    // Each change is in the log, by whom and to what, and no secret is.
    let log = events(&app, &owner, "creds", &[("type", "app_credential.*")]).await;
    let kinds: Vec<&str> = log.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "app_credential.rotated",
            "app_credential.revoked",
            "app_credential.rotated",
            "app_credential.created",
            "app_credential.created",
            "app_credential.created",
        ]
    );
    let by_owner = party("account", &account_id(&app, &owner).await);
    for event in &log {
        assert_eq!(event["outcome"], "success");
        assert_eq!(event["actor"], by_owner);
        assert_eq!(event["subject"]["type"], "app_credential");
    }
    assert_eq!(log[5]["details"], json!({ "app_id": id, "name": "Billing backend" }));
    assert_eq!(log[2]["details"]["app_id"], id.as_str());
    assert_eq!(log[2]["details"]["overlap_seconds"], 86_400);
    assert_eq!(log[2]["details"]["previous_secret_expires_at"], rotated["previous_secret_expires_at"]);
    assert_eq!(log[1]["details"], json!({ "app_id": id }));
    assert_eq!(
        (log[5]["subject"].clone(), log[2]["subject"].clone()),
        (log[1]["subject"].clone(), log[1]["subject"].clone())
    );
    assert_eq!(log[0]["details"]["app_id"], other_id.as_str());
    assert_eq!(log[0]["details"]["overlap_seconds"], 604_800);
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("ras_"), "a secret is in the log: {text}");
}

/// Managing credentials takes the API-key permissions: `apikey.read` lists, `apikey.create`
/// creates, `apikey.revoke` revokes, and rotating needs both of the last two.
async fn who_may_manage_credentials(app: TestApp) {
    let owner = app.app_with_owner("guarded").await;
    let (id, _) = create_credential(&app, &owner, "guarded").await;
    let path = "/api/v1/apps/guarded/credentials";
    let rotate = format!("{path}/{id}/rotate");
    let revoke = format!("{path}/{id}");

    // A member whose role holds no apikey.* permission.
    let bob = member_with(&app, &owner, "guarded", "bob", &["app.read"]).await;
    assert_error(app.get_with_bearer(path, &bob).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(app.post_json_with_bearer(path, &bob, &json!({})).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(app.post_json_with_bearer(&rotate, &bob, &json!({})).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(app.delete_with_bearer(&revoke, &bob).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // API keys, by their scopes.
    let (_, reader) = create_key(&app, &owner, "guarded", &["apikey.read"]).await;
    let (_, creator) = create_key(&app, &owner, "guarded", &["apikey.create"]).await;
    let (_, manager) = create_key(&app, &owner, "guarded", &["apikey.create", "apikey.revoke"]).await;
    json_of(app.get_with_bearer(path, &reader).await, StatusCode::OK).await;
    assert_error(app.post_json_with_bearer(path, &reader, &json!({})).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    json_of(app.post_json_with_bearer(path, &creator, &json!({})).await, StatusCode::CREATED).await;
    let response = app.post_json_with_bearer(&rotate, &creator, &json!({})).await;
    let body = assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert!(body["message"].as_str().unwrap().contains("apikey.revoke"), "{body}");
    json_of(app.post_json_with_bearer(&rotate, &manager, &json!({})).await, StatusCode::OK).await;
    assert_eq!(app.delete_with_bearer(&revoke, &manager).await.status(), StatusCode::NO_CONTENT);

    // No standing on the app: it is not there. No bearer: unauthenticated.
    let carol = app.account_token("carol").await;
    assert_error(app.get_with_bearer(path, &carol).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.post_json_with_bearer(path, &carol, &json!({})).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.get(path).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // An end-user is not a caller of the management API, and a credential is not a bearer.
    let end_user = app.signup_end_user("guarded", "ada").await;
    assert_eq!(app.get_with_bearer(path, &access_token(&end_user)).await.status(), StatusCode::UNAUTHORIZED);
    let (_, secret) = create_credential(&app, &owner, "guarded").await;
    assert_eq!(app.get_with_bearer(path, &secret).await.status(), StatusCode::UNAUTHORIZED);
}

/// Seed 002's refresh: `{app_id, app_secret, refresh_token}`. A credential that is wrong in
/// any way is `401 INVALID_APP_CREDENTIALS` and leaves the refresh token unspent.
async fn refresh_and_logout_with_credentials(app: TestApp) {
    let owner = app.app_with_owner("backend").await;
    let theirs = app.app_with_owner("theirs").await;
    let (id, secret) = create_credential(&app, &owner, "backend").await;
    let (their_id, their_secret) = create_credential(&app, &theirs, "theirs").await;
    let mut token = refresh_token(&app.signup_end_user("backend", "ada").await);

    token = refresh_ok(&app, "backend", &token, (&id, &secret)).await;
    // Without credentials, as before: the app does not require them.
    token = refresh_token(
        &json_of(refresh_with(&app, "backend", json!({ "refresh_token": token })).await, StatusCode::OK).await,
    );
    // The seed's camelCase readers are understood too.
    let camel = json!({ "appId": id, "appSecret": secret, "refreshToken": token });
    token = refresh_token(&json_of(refresh_with(&app, "backend", camel).await, StatusCode::OK).await);

    for wrong in [
        json!({ "app_id": id, "app_secret": their_secret }),
        json!({ "app_id": id, "app_secret": format!("{secret}x") }),
        json!({ "app_id": id, "app_secret": "" }),
        json!({ "app_id": their_id, "app_secret": their_secret }),
        json!({ "app_id": "app_000000000000000000000000", "app_secret": secret }),
        json!({ "app_id": "", "app_secret": secret }),
        json!({ "app_id": "x".repeat(5000), "app_secret": secret }),
        json!({ "app_id": id }),
        json!({ "app_secret": secret }),
        json!({ "app_id": id, "app_secret": null }),
    ] {
        token = refused_then_still_works(&app, "backend", &token, wrong).await;
    }
    // Wrong types are bad requests, not a way around the check.
    let response =
        refresh_with(&app, "backend", json!({ "app_id": 5, "app_secret": secret, "refresh_token": token })).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    // The use is recorded on the credential.
    let list = json_of(app.get_with_bearer("/api/v1/apps/backend/credentials", &owner).await, StatusCode::OK).await;
    assert_recent_timestamp(&list["credentials"][0]["last_used_at"]);
    // The other app's credential works for the other app only.
    let their_token = refresh_token(&app.signup_end_user("theirs", "bob").await);
    refresh_ok(&app, "theirs", &their_token, (&their_id, &their_secret)).await;

    // Logout: a wrong credential leaves the session live; the right one ends it.
    let wrong = json!({ "app_id": id, "app_secret": their_secret, "refresh_token": token });
    let response = app.post_json("/backend/v1/auth/logout", &wrong).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS").await;
    let body = json!({ "app_id": id, "app_secret": secret, "refresh_token": token });
    assert_eq!(app.post_json("/backend/v1/auth/logout", &body).await.status(), StatusCode::NO_CONTENT);
    let response = refresh_with(&app, "backend", json!({ "refresh_token": token })).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Revoked: refused at once.
    let mut token = refresh_token(&app.signin_end_user("backend", "ada").await);
    token = refresh_ok(&app, "backend", &token, (&id, &secret)).await;
    let response = app.delete_with_bearer(&format!("/api/v1/apps/backend/credentials/{id}"), &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_then_still_works(&app, "backend", &token, json!({ "app_id": id, "app_secret": secret })).await;
}

/// The previous secret works during the overlap and not after; a second rotation replaces
/// the previous secret; an overlap of 0 ends it at once.
async fn rotation_overlaps(app: TestApp) {
    let owner = app.app_with_owner("rotating").await;
    let (id, first) = create_credential(&app, &owner, "rotating").await;
    let rotate = |overlap: Value| {
        let (app, owner, id) = (&app, &owner, &id);
        async move {
            let path = format!("/api/v1/apps/rotating/credentials/{id}/rotate");
            let body = match overlap {
                Value::Null => json!({}),
                seconds => json!({ "overlap_seconds": seconds }),
            };
            let rotated = json_of(app.post_json_with_bearer(&path, owner, &body).await, StatusCode::OK).await;
            rotated["app_secret"].as_str().unwrap().to_owned()
        }
    };
    let mut token = refresh_token(&app.signup_end_user("rotating", "ada").await);
    token = refresh_ok(&app, "rotating", &token, (&id, &first)).await;

    // Default overlap: both secrets work.
    let second = rotate(Value::Null).await;
    token = refresh_ok(&app, "rotating", &token, (&id, &first)).await;
    token = refresh_ok(&app, "rotating", &token, (&id, &second)).await;

    // A second rotation: the secret it replaces is the previous one now; the first is gone.
    let third = rotate(json!(3600)).await;
    token = refresh_ok(&app, "rotating", &token, (&id, &second)).await;
    token = refresh_ok(&app, "rotating", &token, (&id, &third)).await;
    token = refused_then_still_works(&app, "rotating", &token, json!({ "app_id": id, "app_secret": first })).await;

    // No overlap: the old secret stops at once.
    let fourth = rotate(json!(0)).await;
    token = refused_then_still_works(&app, "rotating", &token, json!({ "app_id": id, "app_secret": third })).await;
    token = refused_then_still_works(&app, "rotating", &token, json!({ "app_id": id, "app_secret": second })).await;
    token = refresh_ok(&app, "rotating", &token, (&id, &fourth)).await;

    // A one-second overlap: over a moment later.
    let fifth = rotate(json!(1)).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    token = refused_then_still_works(&app, "rotating", &token, json!({ "app_id": id, "app_secret": fourth })).await;
    refresh_ok(&app, "rotating", &token, (&id, &fifth)).await;
}

/// `refresh_requires_app_credentials`: refresh and logout without credentials are refused;
/// accounts' own refresh and logout are never affected.
async fn apps_may_require_credentials(app: TestApp) {
    let owner = app.app_with_owner("strict").await;
    assert_eq!(app.config(&owner, "strict").await["refresh_requires_app_credentials"], false);
    let config = app.patch_config(&owner, "strict", &json!({ "refresh_requires_app_credentials": true })).await;
    assert_eq!(config["refresh_requires_app_credentials"], true);
    let response = app
        .patch_json_with_bearer(
            "/api/v1/apps/strict/config",
            &owner,
            &json!({ "refresh_requires_app_credentials": "yes" }),
        )
        .await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    assert!(body["message"].as_str().unwrap().starts_with("refresh_requires_app_credentials"), "{body}");

    let (id, secret) = create_credential(&app, &owner, "strict").await;
    let token = refresh_token(&app.signup_end_user("strict", "ada").await);
    let token = refused_then_still_works_with_credentials(&app, &token, (&id, &secret)).await;
    let token = refresh_ok(&app, "strict", &token, (&id, &secret)).await;

    let response = app.post_json("/strict/v1/auth/logout", &json!({ "refresh_token": token })).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS").await;
    let token = refresh_ok(&app, "strict", &token, (&id, &secret)).await;
    let body = json!({ "app_id": id, "app_secret": secret, "refresh_token": token });
    assert_eq!(app.post_json("/strict/v1/auth/logout", &body).await.status(), StatusCode::NO_CONTENT);

    // Sign-up and sign-in are not refresh: they still work without credentials.
    app.signin_end_user("strict", "ada").await;
    // The console and the accounts refresh and sign out as before.
    let pair = json_of(
        app.post_json("/api/v1/auth/signin", &json!({ "identifier": "strict-owner", "password": PASSWORD })).await,
        StatusCode::OK,
    )
    .await;
    let pair = json_of(
        app.post_json("/api/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&pair) })).await,
        StatusCode::OK,
    )
    .await;
    let body = json!({ "refresh_token": refresh_token(&pair) });
    assert_eq!(app.post_json("/api/v1/auth/logout", &body).await.status(), StatusCode::NO_CONTENT);
}

/// With the app requiring credentials, a refresh without them is refused and the token kept.
async fn refused_then_still_works_with_credentials(app: &TestApp, token: &str, (id, secret): (&str, &str)) -> String {
    let response = refresh_with(app, "strict", json!({ "refresh_token": token })).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS").await;
    refresh_ok(app, "strict", token, (id, secret)).await
}

/// Refreshes `token` on `node` with the credential until the answer is `wanted` (a refusal
/// leaves the token as it was; a success spends it for the next), for at most 2 s: the other
/// node learns of a change through the store's change messages, within moments (its cache
/// would otherwise believe the credential for 30 s).
async fn refresh_until(node: &TestApp, token: &mut String, (id, secret): (&str, &str), wanted: StatusCode) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let body = json!({ "app_id": id, "app_secret": secret, "refresh_token": token });
        let response = refresh_with(node, "multi", body).await;
        let status = response.status();
        if status == StatusCode::OK {
            *token = refresh_token(&response.json().await.unwrap());
        }
        if status == wanted {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "still {status} on the other node after 2 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A credential checked (and so cached) on one node follows a rotation or a revocation made
/// through the other at once, not when its cache entry expires.
async fn revocation_reaches_every_node(a: TestApp, b: TestApp) {
    let owner = a.app_with_owner("multi").await;
    let (id, secret) = create_credential(&a, &owner, "multi").await;
    let mut token = refresh_token(&b.signup_end_user("multi", "ada").await);
    token = refresh_ok(&b, "multi", &token, (&id, &secret)).await;
    token = refresh_ok(&b, "multi", &token, (&id, &secret)).await;

    let path = format!("/api/v1/apps/multi/credentials/{id}/rotate");
    let rotated =
        json_of(a.post_json_with_bearer(&path, &owner, &json!({ "overlap_seconds": 0 })).await, StatusCode::OK).await;
    let new_secret = rotated["app_secret"].as_str().unwrap().to_owned();
    refresh_until(&b, &mut token, (&id, &new_secret), StatusCode::OK).await;
    token = refused_then_still_works(&b, "multi", &token, json!({ "app_id": id, "app_secret": secret })).await;

    let response = a.delete_with_bearer(&format!("/api/v1/apps/multi/credentials/{id}"), &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refresh_until(&b, &mut token, (&id, &new_secret), StatusCode::UNAUTHORIZED).await;
    refused_then_still_works(&b, "multi", &token, json!({ "app_id": id, "app_secret": new_secret })).await;
}

both_stores!(
    credentials_are_shown_once,
    who_may_manage_credentials,
    refresh_and_logout_with_credentials,
    rotation_overlaps,
    apps_may_require_credentials,
);
two_nodes!(revocation_reaches_every_node);
