//! Managing license keys (`/api/v1/apps/{slug}/licenses`): what an issue takes and refuses,
//! who may issue, read and revoke (accounts by role, API keys by scope, nobody across apps),
//! and listing with filters and paging.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::audit::member_with;
use crate::helpers::{assert_error, both_stores, json_of, TestApp};
use crate::licenses::{issue, user_id};

async fn issue_refused(app: &TestApp, token: &str, slug: &str, body: Value, status: StatusCode, code: &str) -> Value {
    let path = format!("/api/v1/apps/{slug}/licenses");
    assert_error(app.post_json_with_bearer(&path, token, &body).await, status, code).await
}

async fn bad_input_is_refused(app: TestApp) {
    let owner = app.app_with_owner("shop").await;
    app.app_with_owner("elsewhere").await;
    let stranger = app.signup_end_user("elsewhere", "sam").await;
    let stranger = user_id(&app, "elsewhere", &stranger).await;
    let bad = StatusCode::BAD_REQUEST;
    for (body, what) in [
        (json!({"product_id": "pro", "max_activations": 0}), "no activations"),
        (json!({"product_id": "pro", "max_activations": 10_001}), "too many activations"),
        (json!({"product_id": "pro", "max_activations": -1}), "negative"),
        (json!({"product_id": "", "max_activations": 1}), "empty product"),
        (json!({"product_id": "  ", "max_activations": 1}), "blank product"),
        (json!({"product_id": "p".repeat(129), "max_activations": 1}), "long product"),
        (json!({"product_id": "a\nb", "max_activations": 1}), "control character"),
        (json!({"product_id": "pro", "max_activations": 1, "expires_at": "2001-01-01T00:00:00Z"}), "past"),
        (json!({"product_id": "pro", "max_activations": 1, "expires_at": "tomorrow"}), "not a time"),
        (json!({"product_id": "pro", "max_activations": 1, "metadata": [1]}), "metadata array"),
        (json!({"product_id": "pro", "max_activations": 1, "metadata": {"k": "v".repeat(5000)}}), "metadata size"),
        (json!({"product_id": "pro", "max_activations": 1, "user_id": "nope"}), "user id not a uuid"),
        (json!({"product_id": "pro", "max_activations": 1, "colour": "red"}), "unknown field"),
        (json!({"product_id": "pro"}), "max_activations missing"),
        (json!({"max_activations": 1}), "product missing"),
        (json!({"product_id": 5, "max_activations": 1}), "wrong type"),
    ] {
        let body = issue_refused(&app, &owner, "shop", body, bad, "INVALID_REQUEST").await;
        assert!(!body["message"].as_str().unwrap().is_empty(), "{what}");
    }
    // Another app's user, an unknown user or organization: not in this app.
    let not_found = StatusCode::NOT_FOUND;
    let body = json!({"product_id": "pro", "max_activations": 1, "user_id": stranger});
    issue_refused(&app, &owner, "shop", body, not_found, "NOT_FOUND").await;
    let body = json!({"product_id": "pro", "max_activations": 1, "org_id": uuid::Uuid::new_v4()});
    issue_refused(&app, &owner, "shop", body, not_found, "NOT_FOUND").await;
    // camelCase is read too, and a key is issued for 10 000 devices.
    let issued = issue(&app, &owner, "shop", json!({"productId": "pro", "maxActivations": 10_000})).await;
    assert_eq!(issued["max_activations"], 10_000);
    // Unknown and malformed license ids.
    for id in [uuid::Uuid::new_v4().to_string(), "nope".into()] {
        let response = app.get_with_bearer(&format!("/api/v1/apps/shop/licenses/{id}"), &owner).await;
        assert_error(response, not_found, "NOT_FOUND").await;
        let response =
            app.post_json_with_bearer(&format!("/api/v1/apps/shop/licenses/{id}/revoke"), &owner, &json!({})).await;
        assert_error(response, not_found, "NOT_FOUND").await;
    }
    for query in ["status=lost", "limit=0", "limit=201", "cursor=garbage", "user_id=nope"] {
        let response = app.get_with_bearer(&format!("/api/v1/apps/shop/licenses?{query}"), &owner).await;
        assert_error(response, bad, "INVALID_REQUEST").await;
    }
}

async fn who_may_manage_licenses(app: TestApp) {
    let owner = app.app_with_owner("gated").await;
    let other_owner = app.app_with_owner("neighbour").await;
    let issued = issue(&app, &owner, "gated", json!({"product_id": "pro", "max_activations": 1})).await;
    let id = issued["id"].as_str().unwrap();
    let base = "/api/v1/apps/gated/licenses";
    let new = json!({"product_id": "pro", "max_activations": 1});

    // A reader may list and open, not issue, extend or revoke.
    let reader = member_with(&app, &owner, "gated", "reader", &["license.read"]).await;
    json_of(app.get_with_bearer(base, &reader).await, StatusCode::OK).await;
    json_of(app.get_with_bearer(&format!("{base}/{id}"), &reader).await, StatusCode::OK).await;
    assert_error(app.post_json_with_bearer(base, &reader, &new).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let revoke = app.post_json_with_bearer(&format!("{base}/{id}/revoke"), &reader, &json!({})).await;
    assert_error(revoke, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let later = json!({"expires_at": "2099-01-01T00:00:00Z"});
    let extend = app.post_json_with_bearer(&format!("{base}/{id}/extend"), &reader, &later).await;
    assert_error(extend, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // API keys by scope, only in their own app.
    let (_, issuer_key) = create_key(&app, &owner, "gated", &["license.create"]).await;
    let made = json_of(app.post_json_with_bearer(base, &issuer_key, &new).await, StatusCode::CREATED).await;
    assert!(made["license_key"].is_string());
    assert_error(app.get_with_bearer(base, &issuer_key).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let (_, revoker_key) = create_key(&app, &owner, "gated", &["license.revoke"]).await;
    let revoked = app.post_json_with_bearer(&format!("{base}/{id}/revoke"), &revoker_key, &json!({})).await;
    assert_eq!(json_of(revoked, StatusCode::OK).await["status"], "revoked");
    let (_, their_key) = create_key(&app, &other_owner, "neighbour", &["license.create", "license.read"]).await;
    assert_error(app.get_with_bearer(base, &their_key).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.post_json_with_bearer(base, &their_key, &new).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    // Another app's owner learns nothing, and cannot reach this license through its own app.
    assert_error(app.get_with_bearer(base, &other_owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let through_own = app.get_with_bearer(&format!("/api/v1/apps/neighbour/licenses/{id}"), &other_owner).await;
    assert_error(through_own, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let path = format!("/api/v1/apps/neighbour/licenses/{id}/revoke");
    let revoke_through_own = app.post_json_with_bearer(&path, &other_owner, &json!({})).await;
    assert_error(revoke_through_own, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // An end-user's token is no management caller.
    let pair = app.signup_end_user("gated", "eve").await;
    let eve = crate::helpers::access_token(&pair);
    assert_error(app.get_with_bearer(base, &eve).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

async fn listing_filters_and_pages(app: TestApp) {
    let owner = app.app_with_owner("catalog").await;
    let pair = app.signup_end_user("catalog", "lin").await;
    let lin = user_id(&app, "catalog", &pair).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let product = if n % 2 == 0 { "basic" } else { "pro" };
        let mut body = json!({"product_id": product, "max_activations": 1});
        if n == 4 {
            body["user_id"] = json!(lin);
        }
        ids.push(issue(&app, &owner, "catalog", body).await["id"].as_str().unwrap().to_owned());
    }
    let revoked = &ids[1];
    let path = format!("/api/v1/apps/catalog/licenses/{revoked}/revoke");
    json_of(app.post_json_with_bearer(&path, &owner, &json!({})).await, StatusCode::OK).await;

    let list = |query: &'static str| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let page = json_of(
                app.get_with_bearer(&format!("/api/v1/apps/catalog/licenses?{query}"), &owner).await,
                StatusCode::OK,
            )
            .await;
            page["licenses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(list("").await, newest_first);
    assert_eq!(list("product_id=pro").await, vec![ids[3].clone(), ids[1].clone()]);
    assert_eq!(list("status=revoked").await, vec![revoked.clone()]);
    assert_eq!(list("status=active&product_id=pro").await, vec![ids[3].clone()]);
    assert_eq!(list("status=expired").await, Vec::<String>::new());
    let by_user = format!("/api/v1/apps/catalog/licenses?user_id={lin}");
    let page = json_of(app.get_with_bearer(&by_user, &owner).await, StatusCode::OK).await;
    assert_eq!(page["licenses"].as_array().unwrap().len(), 1);
    assert_eq!(page["licenses"][0]["id"], ids[4].as_str());

    // Pages of two, by cursor, cover every license once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request =
            app.client.get(app.url("/api/v1/apps/catalog/licenses")).bearer_auth(&owner).query(&[("limit", "2")]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page = json_of(request.send().await.unwrap(), StatusCode::OK).await;
        let licenses = page["licenses"].as_array().unwrap();
        assert!(licenses.len() <= 2);
        seen.extend(licenses.iter().map(|l| l["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);
}

both_stores!(bad_input_is_refused, who_may_manage_licenses, listing_filters_and_pages);
