//! Seed 000, the quickstart, run as written (host replaced): steps 1, 2, 4 and 5.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, both_stores, json_of, TestApp};

/// The keys of a JSON object, sorted.
pub fn keys_of(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().cloned().collect();
    keys.sort_unstable();
    keys
}

/// An RFC 3339 UTC timestamp in whole seconds, as the seeds show them, close to now.
pub fn assert_recent_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    assert!(text.ends_with('Z'), "{text}");
    assert!(!text.contains('.'), "whole seconds expected: {text}");
    let at = chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let age = chrono::Utc::now().signed_duration_since(at);
    assert!(age.num_seconds().abs() < 300, "{text} is not close to now");
}

/// Step 5: verifies `token` as a backend would (the seed's `jose.jwtVerify` with a remote
/// JWKS): the key named by its `kid`, with the algorithm that key states, and the issuer and
/// audience pinned; returns the claims.
pub async fn verify_with_jwks(app: &TestApp, slug: &str, token: &str) -> Value {
    let response = app.get(&format!("/{slug}/v1/.well-known/jwks.json")).await;
    let cache_control = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cache_control.contains("max-age="), "{cache_control}");
    let jwks = json_of(response, StatusCode::OK).await;
    let kid = decode_header(token).unwrap().kid.expect("kid in the header");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("no key {kid} in {jwks}"));
    let alg: Algorithm = jwk["alg"].as_str().expect("alg in the JWK").parse().unwrap();
    let key = DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk.clone()).unwrap()).unwrap();
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[app.issuer(slug)]);
    validation.set_audience(&[slug]);
    decode::<Value>(token, &key, &validation).unwrap_or_else(|e| panic!("token does not verify for {slug}: {e}")).claims
}

async fn quickstart(app: TestApp) {
    // Step 1: exactly the seed's body.
    let response = app
        .post_json(
            "/v1/auth/signup",
            &json!({
                "email": "you@example.com",
                "username": "yourname",
                "password": "YourSecurePassword123"
            }),
        )
        .await;
    assert!(matches!(response.status(), StatusCode::CREATED | StatusCode::OK), "{}", response.status());
    let pair: Value = response.json().await.unwrap();
    assert_eq!(keys_of(&pair), ["access_token", "expires_in", "refresh_token", "token_type"]);
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 3600);
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 32);
    let token = access_token(&pair);

    // Step 2.
    let response = app
        .post_json_with_bearer("/v1/apps", &token, &json!({ "slug": "acme-corp", "displayName": "Acme Corporation" }))
        .await;
    let created = json_of(response, StatusCode::CREATED).await;
    assert_eq!(keys_of(&created), ["created_at", "display_name", "id", "metadata", "slug", "status"], "{created}");
    assert!(uuid::Uuid::parse_str(created["id"].as_str().unwrap()).is_ok());
    assert_eq!(created["slug"], "acme-corp");
    assert_eq!(created["display_name"], "Acme Corporation");
    assert_eq!(created["status"], "active");
    assert_eq!(created["metadata"], json!({}));
    assert_recent_timestamp(&created["created_at"]);

    // Step 4, on both prefixes.
    for prefix in ["/v1", "/api/v1"] {
        let response = app.get_with_bearer(&format!("{prefix}/introspect/apps/acme-corp"), &token).await;
        let introspection = json_of(response, StatusCode::OK).await;
        assert_eq!(introspection["isMember"], true);
        assert_eq!(introspection["role"]["name"], "owner");
        assert!(uuid::Uuid::parse_str(introspection["role"]["id"].as_str().unwrap()).is_ok());
        let permissions: Vec<&str> =
            introspection["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        for wanted in
            ["user.create", "user.read", "user.update", "user.delete", "user.list", "role.create", "role.read"]
        {
            assert!(permissions.contains(&wanted), "{wanted} in {permissions:?}");
        }
        // The owner holds every management permission.
        for wanted in domain::permissions::MANAGEMENT {
            assert!(permissions.contains(wanted), "{wanted} in {permissions:?}");
        }
    }

    // Step 5: an end-user of the app, and its token verified locally.
    let user = app.signup_end_user("acme-corp", "enduser").await;
    let user_token = access_token(&user);
    let me = json_of(app.get_with_bearer("/acme-corp/v1/me", &user_token).await, StatusCode::OK).await;
    let claims = verify_with_jwks(&app, "acme-corp", &user_token).await;
    assert_eq!(claims["iss"], format!("{}/acme-corp", app.address));
    assert_eq!(claims["aud"], "acme-corp");
    assert_eq!(claims["sub"], me["id"]);
    assert_eq!(claims["role"], "member");
    assert_eq!(me["role"], "member");
    for claim in ["jti", "sid"] {
        assert!(claims[claim].as_str().is_some_and(|c| !c.is_empty()), "{claims}");
    }
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);

    // Account tokens verify the same way against the platform's keys.
    let claims = verify_with_jwks(&app, "platform", &token).await;
    assert_eq!(claims["iss"], format!("{}/platform", app.address));
    assert_eq!(claims["aud"], "platform");
    let account = json_of(app.get_with_bearer("/v1/auth/me", &token).await, StatusCode::OK).await;
    assert_eq!(claims["sub"], account["id"]);
    assert_eq!(account["username"], "yourname");
    assert_eq!(account["email"], "you@example.com");

    // The published keys are public halves only. Apps sign with RS256 unless told otherwise;
    // the platform's own accounts with EdDSA (its key is made on the first start, where an
    // RSA key takes tens to hundreds of milliseconds).
    for (slug, kty, alg) in [("acme-corp", "RSA", "RS256"), ("platform", "OKP", "EdDSA")] {
        let jwks = app.jwks(slug).await;
        let keys = jwks["keys"].as_array().unwrap();
        assert!(!keys.is_empty());
        for key in keys {
            assert_eq!(key["kty"], kty, "{key}");
            assert_eq!(key["alg"], alg, "{key}");
            assert_eq!(key["use"], "sig", "{key}");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(key.get(private).is_none(), "{private} published: {key}");
            }
        }
    }
    // Each app has its own key.
    let acme_kids: Vec<Value> =
        app.jwks("acme-corp").await["keys"].as_array().unwrap().iter().map(|k| k["kid"].clone()).collect();
    let platform = app.jwks("platform").await;
    for key in platform["keys"].as_array().unwrap() {
        assert!(!acme_kids.contains(&key["kid"]));
    }

    // The discovery document names the same issuer and JWKS.
    let discovery = json_of(app.get("/acme-corp/v1/.well-known/openid-configuration").await, StatusCode::OK).await;
    assert_eq!(discovery["issuer"], app.issuer("acme-corp"));
    assert_eq!(discovery["jwks_uri"], format!("{}/acme-corp/v1/.well-known/jwks.json", app.address));
    // The app is an OpenID Connect provider: the code flow only.
    assert_eq!(discovery["response_types_supported"], serde_json::json!(["code"]), "{discovery}");
    assert_eq!(discovery["token_endpoint"], format!("{}/acme-corp/oauth2/token", app.address));
}

/// `/api/v1/...` answers exactly as `/v1/...` does.
async fn api_prefix_is_the_same_api(app: TestApp) {
    let response = app
        .post_json(
            "/api/v1/auth/signup",
            &json!({
                "email": "prefix@example.com",
                "username": "prefix",
                "password": "YourSecurePassword123"
            }),
        )
        .await;
    let pair = json_of(response, StatusCode::CREATED).await;
    let token = access_token(&pair);

    let signin = json_of(
        app.post_json("/api/v1/auth/signin", &json!({ "identifier": "prefix", "password": "YourSecurePassword123" }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(signin["token_type"], "Bearer");

    let created = json_of(
        app.post_json_with_bearer("/api/v1/apps", &token, &json!({ "slug": "prefixed", "displayName": "Prefixed" }))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let via_api = json_of(app.get_with_bearer("/api/v1/apps/prefixed", &token).await, StatusCode::OK).await;
    let via_alias = json_of(app.get_with_bearer("/v1/apps/prefixed", &token).await, StatusCode::OK).await;
    assert_eq!(via_api, via_alias);
    assert_eq!(via_api["id"], created["id"]);

    let me_api = json_of(app.get_with_bearer("/api/v1/auth/me", &token).await, StatusCode::OK).await;
    let me_alias = json_of(app.get_with_bearer("/v1/auth/me", &token).await, StatusCode::OK).await;
    assert_eq!(me_api, me_alias);

    let list_api = json_of(app.get_with_bearer("/api/v1/apps", &token).await, StatusCode::OK).await;
    let list_alias = json_of(app.get_with_bearer("/v1/apps", &token).await, StatusCode::OK).await;
    assert_eq!(list_api, list_alias);
    assert_eq!(list_api["apps"].as_array().unwrap().len(), 1);
}

both_stores!(quickstart, api_prefix_is_the_same_api);
