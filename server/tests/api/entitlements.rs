//! Entitlements: the licenses active for an end-user (its own, and its organization's),
//! `GET /{slug}/v1/me/entitlements`, and seed 003's `subscription` in the cookie API's
//! sign-in and get-session, which shows the newest one's product.

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{access_token, both_stores, execute_sql, json_of, TestApp, PASSWORD};
use crate::licenses::{issue, user_id};

async fn entitlements(app: &TestApp, slug: &str, token: &str) -> Vec<Value> {
    let body = json_of(app.get_with_bearer(&format!("/{slug}/v1/me/entitlements"), token).await, StatusCode::OK).await;
    body["entitlements"].as_array().unwrap_or_else(|| panic!("{body}")).clone()
}

async fn revoke(app: &TestApp, owner: &str, slug: &str, id: &str) {
    let path = format!("/api/v1/apps/{slug}/licenses/{id}/revoke");
    json_of(app.post_json_with_bearer(&path, owner, &json!({})).await, StatusCode::OK).await;
}

async fn my_active_licenses(app: TestApp) {
    let owner = app.app_with_owner("ent").await;
    let ada_pair = app.signup_end_user("ent", "ada").await;
    let ada = user_id(&app, "ent", &ada_pair).await;
    let bob_pair = app.signup_end_user("ent", "bob").await;
    let bob = user_id(&app, "ent", &bob_pair).await;
    let token = access_token(&ada_pair);
    assert!(entitlements(&app, "ent", &token).await.is_empty());

    let soon = chrono::Utc::now() + chrono::TimeDelta::days(30);
    let basic = issue(
        &app,
        &owner,
        "ent",
        json!({"product_id": "basic", "user_id": ada, "max_activations": 1,
               "expires_at": domain::time_format::format(&soon)}),
    )
    .await;
    let pro = issue(&app, &owner, "ent", json!({"product_id": "pro", "user_id": ada, "max_activations": 1})).await;
    issue(&app, &owner, "ent", json!({"product_id": "bobs", "user_id": bob, "max_activations": 1})).await;
    issue(&app, &owner, "ent", json!({"product_id": "nobody", "max_activations": 1})).await;
    let gone = issue(&app, &owner, "ent", json!({"product_id": "gone", "user_id": ada, "max_activations": 1})).await;
    revoke(&app, &owner, "ent", gone["id"].as_str().unwrap()).await;

    let mine = entitlements(&app, "ent", &token).await;
    assert_eq!(
        mine,
        vec![
            json!({"license_id": pro["id"], "product_id": "pro", "expires_at": null, "source": "user"}),
            json!({"license_id": basic["id"], "product_id": "basic", "expires_at": basic["expires_at"], "source": "user"}),
        ]
    );
    // Expired ones drop out.
    execute_sql(
        &app,
        "UPDATE licenses SET expires_at = 1000 WHERE product_id = 'basic'",
        "UPDATE licenses SET expires_at = now() - interval '1 second' WHERE product_id = 'basic'",
    )
    .await;
    let mine = entitlements(&app, "ent", &token).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["product_id"], "pro");
    // Bob sees his, not Ada's; a token of another app is refused.
    let bobs = entitlements(&app, "ent", &access_token(&bob_pair)).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["product_id"], "bobs");
    app.app_with_owner("other").await;
    let stranger = app.signup_end_user("other", "ada").await;
    let response = app.get_with_bearer("/ent/v1/me/entitlements", &access_token(&stranger)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/ent/v1/me/entitlements").await.status(), StatusCode::UNAUTHORIZED);
}

/// A license issued to an organization entitles whoever acts in it (`Engine::entitlements`
/// with the active organization), marked as the organization's.
async fn an_organizations_licenses(app: TestApp) {
    let owner = app.app_with_owner("teams").await;
    let pair = app.signup_end_user("teams", "cleo").await;
    let cleo: Uuid = user_id(&app, "teams", &pair).await.parse().unwrap();
    let record = app.engine.app("teams").await.unwrap();
    let org = Uuid::new_v4();
    let hex = |id: Uuid| id.simple().to_string();
    execute_sql(
        &app,
        &format!(
            "INSERT INTO organizations (id, app_id, slug, name, created_at, updated_at) \
             VALUES (X'{}', X'{}', 'acme', 'Acme', 0, 0)",
            hex(org),
            hex(record.id)
        ),
        &format!(
            "INSERT INTO organizations (id, app_id, slug, name, created_at, updated_at) \
             VALUES ('{org}', '{}', 'acme', 'Acme', now(), now())",
            record.id
        ),
    )
    .await;
    let team =
        issue(&app, &owner, "teams", json!({"product_id": "teams_yearly", "org_id": org, "max_activations": 5})).await;
    assert_eq!(team["org_id"], org.to_string());
    let own = issue(&app, &owner, "teams", json!({"product_id": "solo", "user_id": cleo, "max_activations": 1})).await;

    let with_org = app.engine.entitlements(&record, cleo, Some(org)).await.unwrap();
    let seen: Vec<(String, &str)> = with_org.iter().map(|e| (e.license_id.to_string(), e.source)).collect();
    assert_eq!(
        seen,
        vec![
            (own["id"].as_str().unwrap().to_owned(), "user"),
            (team["id"].as_str().unwrap().to_owned(), "organization")
        ]
    );
    let without = app.engine.entitlements(&record, cleo, None).await.unwrap();
    assert_eq!(without.len(), 1);
    assert_eq!(without[0].product_id, "solo");
    // Another organization's id (of this app or none) entitles nothing more.
    let other = app.engine.entitlements(&record, cleo, Some(Uuid::new_v4())).await.unwrap();
    assert_eq!(other.len(), 1);
}

/// Seed 003: `subscription` is `{isSubscribed: false, productId: null}` without a license,
/// then the newest active license's product, in sign-in and in get-session.
async fn subscription_in_the_cookie_api(app: TestApp) {
    let owner = app.app_with_owner("saas").await;
    let base = "/saas/api/auth";
    let signup = app
        .post_json(
            &format!("{base}/sign-up/email"),
            &json!({"email": "john@example.com", "password": PASSWORD, "name": "John Doe"}),
        )
        .await;
    // Seed 003's sign-up answers `{user, session}`; sign-in and get-session carry the
    // subscription.
    let body = json_of(signup, StatusCode::OK).await;
    let john = body["user"]["id"].as_str().unwrap().to_owned();

    let sign_in = || async {
        let response = app
            .post_json(&format!("{base}/sign-in/email"), &json!({"email": "john@example.com", "password": PASSWORD}))
            .await;
        let cookie = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.starts_with("session="))
            .and_then(|l| l.split(';').next())
            .unwrap()
            .to_owned();
        (cookie, json_of(response, StatusCode::OK).await)
    };
    let app = &app;
    let session = |cookie: String| async move {
        let response = app.client.get(app.url(&format!("{base}/get-session"))).header(COOKIE, cookie).send().await;
        json_of(response.unwrap(), StatusCode::OK).await
    };

    let (cookie, signed_in) = sign_in().await;
    assert_eq!(signed_in["subscription"], json!({"isSubscribed": false, "productId": null}));
    assert_eq!(session(cookie).await["subscription"], json!({"isSubscribed": false, "productId": null}));
    issue(app, &owner, "saas", json!({"product_id": "prod_pro_monthly", "user_id": john, "max_activations": 1})).await;
    let (cookie, signed_in) = sign_in().await;
    assert_eq!(signed_in["subscription"], json!({"isSubscribed": true, "productId": "prod_pro_monthly"}));
    assert_eq!(session(cookie.clone()).await["subscription"]["productId"], "prod_pro_monthly");

    // The newest license wins; revoking it falls back to the one before; none left, none.
    let teams =
        issue(app, &owner, "saas", json!({"product_id": "prod_teams_yearly", "user_id": john, "max_activations": 1}))
            .await;
    assert_eq!(
        session(cookie.clone()).await["subscription"],
        json!({"isSubscribed": true, "productId": "prod_teams_yearly"})
    );
    revoke(app, &owner, "saas", teams["id"].as_str().unwrap()).await;
    assert_eq!(session(cookie.clone()).await["subscription"]["productId"], "prod_pro_monthly");
    let list =
        json_of(app.get_with_bearer("/api/v1/apps/saas/licenses?status=active", &owner).await, StatusCode::OK).await;
    for license in list["licenses"].as_array().unwrap() {
        revoke(app, &owner, "saas", license["id"].as_str().unwrap()).await;
    }
    assert_eq!(session(cookie).await["subscription"], json!({"isSubscribed": false, "productId": null}));
    let (_, signed_in) = sign_in().await;
    assert_eq!(signed_in["subscription"]["isSubscribed"], false);
}

/// Through the API: a token switched into an organization is entitled to the organization's
/// licenses too; the same user's token outside it is not.
async fn a_switched_token_sees_its_organizations_licenses(app: TestApp) {
    let owner = app.app_with_owner("orgent").await;
    app.patch_config(&owner, "orgent", &json!({"organizations_enabled": true, "organization_creation": "any_user"}))
        .await;
    let pair = app.signup_end_user("orgent", "dora").await;
    let token = access_token(&pair);
    let org = json_of(
        app.post_json_with_bearer("/orgent/v1/orgs", &token, &json!({"name": "Dora's Team"})).await,
        StatusCode::CREATED,
    )
    .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    issue(&app, &owner, "orgent", json!({"product_id": "team_plan", "org_id": org_id, "max_activations": 5})).await;
    assert!(entitlements(&app, "orgent", &token).await.is_empty(), "not outside the organization");
    let switched = json_of(
        app.post_json_with_bearer(
            "/orgent/v1/auth/switch-organization",
            &token,
            &json!({"org_id": org_id, "refresh_token": crate::helpers::refresh_token(&pair)}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let mine = entitlements(&app, "orgent", &access_token(&switched)).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["product_id"], "team_plan");
    assert_eq!(mine[0]["source"], "organization");
}

both_stores!(
    my_active_licenses,
    an_organizations_licenses,
    subscription_in_the_cookie_api,
    a_switched_token_sees_its_organizations_licenses,
);
