//! One Rampart app as the upstream OpenID provider of another on the same server: seed 004's
//! provider-first flow end to end, with no mock on either side. The downstream app's relying
//! party (the `openidconnect` crate) discovers the upstream app at its issuer, sends the
//! browser to its authorize endpoint, where the user signs in on the upstream's hosted page;
//! the code comes back, is exchanged, its ID token verified against the upstream's JWKS, and
//! the downstream app signs the user in.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{json_of, Backend, TestApp, PASSWORD};
use crate::hosted::Browser;
use crate::oidc_provider::{code_for, payload_of, token_request, web_client, Client, RP, VERIFIER};

async fn rampart_upstream(app: TestApp) {
    let owner = app.app_with_owner("upstream").await;
    app.create_app_ok(&owner, "downstream").await;
    let callback = format!("{}/downstream/v1/auth/oauth/upstream-id/callback", app.public_url);
    let client = json_of(
        app.post_json_with_bearer(
            "/api/v1/apps/upstream/oidc-clients",
            &owner,
            &json!({"name": "Downstream", "redirect_uris": [callback], "scopes": ["openid", "profile", "email"],
                    "first_party": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let provider = json!({
        "name": "upstream-id", "kind": "oidc", "display_name": "Upstream ID", "issuer": app.issuer("upstream"),
        "client_id": client["client_id"], "client_secret": client["client_secret"],
    });
    let response = app.post_json_with_bearer("/api/v1/apps/downstream/oauth-providers", &owner, &provider).await;
    json_of(response, StatusCode::CREATED).await;
    let methods = json_of(app.get("/downstream/v1/auth/methods").await, StatusCode::OK).await;
    assert!(methods.to_string().contains("/downstream/v1/auth/oauth/upstream-id/authorize"), "{methods}");

    let upstream_user = app.signup_end_user("upstream", "ursula").await;
    let upstream_me = app.me("upstream", upstream_user["access_token"].as_str().unwrap()).await;

    // An API caller's flow (no redirect_to): the upstream's sign-in page, then tokens.
    let browser = Browser::new(&app);
    let page = browser.get("/downstream/v1/auth/oauth/upstream-id/authorize").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.path.starts_with("/upstream/signin"), "{}", page.path);
    let done = browser.submit(&page, "signin-form", &[("identifier", "ursula"), ("password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::OK, "{} {}", done.path, done.html);
    assert!(done.path.starts_with("/downstream/v1/auth/oauth/upstream-id/callback"), "{}", done.path);
    let pair: Value = serde_json::from_str(&done.html).unwrap_or_else(|_| panic!("not JSON: {}", done.html));
    let token = pair["access_token"].as_str().unwrap();
    let me = app.me("downstream", token).await;
    assert_eq!(me["email"], "ursula@example.com", "{me}");
    assert_ne!(me["id"], upstream_me["id"], "each app has its own users");
    let identities = json_of(app.get_with_bearer("/downstream/v1/me/identities", token).await, StatusCode::OK).await;
    assert_eq!(identities["identities"][0]["provider"], "upstream-id", "{identities}");
    // The upstream's token is not the downstream's: each app's tokens are its own.
    let foreign = app.get_with_bearer("/downstream/v1/me", upstream_user["access_token"].as_str().unwrap()).await;
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED);

    // A browser's flow (redirect_to), the upstream session still open: no sign-in asked, the
    // downstream's session cookie and its page, for the same downstream user.
    let page = browser.get("/downstream/v1/auth/oauth/upstream-id/authorize?redirect_to=/downstream/account").await;
    assert_eq!(page.status, StatusCode::OK, "{} {}", page.path, page.html);
    assert_eq!(page.path, "/downstream/account");
    assert!(browser.cookie("session").is_some());
    assert!(page.html.contains("Upstream ID"), "the account page lists the linked provider");
    let again = browser.get("/downstream/v1/auth/oauth/upstream-id/authorize").await;
    let pair: Value = serde_json::from_str(&again.html).unwrap_or_else(|_| panic!("not JSON: {}", again.html));
    assert_eq!(app.me("downstream", pair["access_token"].as_str().unwrap()).await["id"], me["id"]);

    // The downstream app as a provider in turn: its ID token says that browser session came
    // from a sign-in through an external provider (`amr`: `fed`).
    let (rp, rp_secret) = web_client(&app, &owner, "downstream").await;
    let code = code_for(&app, &browser, "downstream", &rp).await;
    let form =
        [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", RP), ("code_verifier", VERIFIER)];
    let r = token_request(&app, "downstream", Client::Basic(&rp, &rp_secret), &form).send().await.unwrap();
    let tokens = json_of(r, StatusCode::OK).await;
    assert_eq!(payload_of(tokens["id_token"].as_str().unwrap())["amr"], json!(["fed"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rampart_upstream_sqlite() {
    crate::helpers::run(Backend::Sqlite, rampart_upstream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rampart_upstream_postgres() {
    crate::helpers::run(Backend::Postgres, rampart_upstream).await
}

/// Provider URLs are set by a tenant's admin: without the operator opening loopback, a
/// provider there is never reached (SSRF), and the sign-in fails with a clear error instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_provider_is_not_reached_unless_opened() {
    let mut app =
        TestApp::spawn_with_env(Backend::Sqlite, &[("RAMPART_OUTBOUND_ALLOWED_NETWORKS", String::new())]).await;
    let cleanup = app.take_cleanup();
    let outcome = tokio::spawn(async move {
        let owner = app.app_with_owner("inner").await;
        app.create_app_ok(&owner, "outer").await;
        let provider = json!({
            "name": "inner-id", "kind": "oidc", "issuer": app.issuer("inner"),
            "client_id": "whatever", "client_secret": "whatever",
        });
        let created = app.post_json_with_bearer("/api/v1/apps/outer/oauth-providers", &owner, &provider).await;
        if created.status() == StatusCode::CREATED {
            let start = app.get("/outer/v1/auth/oauth/inner-id/authorize").await;
            assert_ne!(start.status(), StatusCode::FOUND, "the provider's discovery was fetched from loopback");
            let body: Value = start.json().await.unwrap();
            assert_eq!(body["error"], "OAUTH_PROVIDER_UNAVAILABLE", "{body}");
        } else {
            assert!(created.status().is_client_error(), "{}", created.status());
        }
    })
    .await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
