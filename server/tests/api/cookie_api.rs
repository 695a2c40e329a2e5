//! Seed 003's cookie-session API (`/{slug}/api/auth/*`) and seed 004's cookie refresh and
//! CSRF (issue 14): the seed's calls as written (host replaced), the cookie's flags and path,
//! sliding expiry under an absolute cap, revocation ending the cookie at once, and the
//! cross-site writes that must be refused.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, REFERER, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    access_token, assert_error, both_stores, execute_sql, json_of, link_in, mail_to, query_param, refresh_token,
    TestApp,
};

/// The `Set-Cookie` lines of a response for cookie `name`.
fn set_cookies(response: &Response, name: &str) -> Vec<String> {
    set_cookies_of(response.headers(), name)
}

fn set_cookies_of(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|line| line.starts_with(&format!("{name}=")))
        .map(str::to_owned)
        .collect()
}

/// The value a `Set-Cookie` line gives.
fn cookie_value(line: &str) -> String {
    line.split(';').next().and_then(|pair| pair.split_once('=')).map(|(_, v)| v.to_owned()).unwrap_or_default()
}

/// The session cookie a response sets (it must set exactly one).
fn session_cookie(response: &Response) -> String {
    let lines = set_cookies(response, "session");
    assert_eq!(lines.len(), 1, "{lines:?}");
    cookie_value(&lines[0])
}

async fn post_cookie(app: &TestApp, path: &str, cookie: &str, extra: &[(&str, &str)]) -> Response {
    let mut request = app.client.post(app.url(path)).header(COOKIE, cookie);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

async fn get_cookie(app: &TestApp, path: &str, cookie: &str) -> Response {
    app.client.get(app.url(path)).header(COOKIE, cookie).send().await.expect("request")
}

/// An app whose owner's token is returned.
async fn saas(app: &TestApp, slug: &str) -> String {
    app.app_with_owner(slug).await
}

/// Seed 003 from top to bottom, each call as the seed writes it with the host replaced by
/// `{PUBLIC_URL}/{slug}` (the seed's obfuscated `[email protected]` stands for a real address).
async fn seed_003(app: TestApp) {
    saas(&app, "saas").await;
    let base = "/saas/api/auth";

    // Sign up.
    let response = app
        .post_json(
            &format!("{base}/sign-up/email"),
            &json!({"email": "john@example.com", "password": "securePassword123", "name": "John Doe"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let line = set_cookies(&response, "session").pop().expect("a session cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/saas;"), "{line}");
    assert!(!line.contains("Secure"), "plain http: {line}");
    let first_cookie = cookie_value(&line);
    let body: Value = response.json().await.unwrap();
    let user = &body["user"];
    assert_eq!(user["email"], "john@example.com");
    assert_eq!(user["name"], "John Doe");
    assert_eq!(user["email_verified"], false);
    for field in ["created_at", "updated_at"] {
        let at = user[field].as_str().unwrap();
        assert!(at.ends_with('Z') && at.len() == 20, "{field}: {at}");
    }
    assert_eq!(body["session"]["user_id"], user["id"]);
    assert!(body["session"]["id"].is_string() && body["session"]["expires_at"].is_string(), "{body}");

    // "After signup, a verification email is automatically sent."
    mail_to(&app, "john@example.com").await;

    // Before verifying, sign-in works (and sends a new link, which replaces the first, as
    // the seed says).
    let response = app
        .post_json(
            &format!("{base}/sign-in/email"),
            &json!({"email": "john@example.com", "password": "securePassword123"}),
        )
        .await;
    let signed_in = json_of(response, StatusCode::OK).await;
    assert_eq!(signed_in["user"]["email_verified"], false);
    let message = mail_to(&app, "john@example.com").await;
    let token = query_param(&link_in(&message, "/verify-email?token="), "token");

    // Verify email: GET with the token.
    let response = app.get(&format!("{base}/verify-email?token={token}")).await;
    assert_eq!(
        json_of(response, StatusCode::OK).await,
        json!({"success": true, "message": "Email verified successfully"})
    );
    let again = app.get(&format!("{base}/verify-email?token={token}")).await;
    assert_error(again, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    // Sign in (from a browser): a new cookie, and the seed's shape.
    let response = app
        .client
        .post(app.url(&format!("{base}/sign-in/email")))
        .header("user-agent", "Mozilla/5.0 (seed 003)")
        .json(&json!({"email": "john@example.com", "password": "securePassword123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response);
    assert_ne!(cookie, first_cookie, "every sign-in gets its own cookie");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email_verified"], true);
    assert_eq!(body["user"]["name"], "John Doe");
    assert_eq!(body["session"]["active_organization_id"], Value::Null);
    assert_eq!(body["subscription"], json!({"isSubscribed": false, "productId": null}));

    // Get session.
    let session_header = format!("session={cookie}");
    let response =
        app.client.get(app.url(&format!("{base}/get-session"))).header(COOKIE, &session_header).send().await.unwrap();
    let current = json_of(response, StatusCode::OK).await;
    assert_eq!(current["user"]["id"], body["user"]["id"]);
    assert_eq!(current["user"]["email"], "john@example.com");
    assert_eq!(current["session"]["id"], body["session"]["id"]);
    assert_eq!(current["session"]["ip_address"], "127.0.0.1");
    assert_eq!(current["session"]["user_agent"], "Mozilla/5.0 (seed 003)");
    assert_eq!(current["subscription"]["isSubscribed"], false);

    // Generate JWT token: an hour, verifiable through the app's JWKS.
    let response = post_cookie(&app, &format!("{base}/token"), &session_header, &[]).await;
    let token = json_of(response, StatusCode::OK).await["token"].as_str().unwrap().to_owned();
    let claims = verify_with_jwks(&app, "saas", &token).await;
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["sid"], body["session"]["id"]);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    let me = app.me("saas", &token).await;
    assert_eq!(me["email"], "john@example.com");

    // Request a password reset (both spellings), then reset.
    for path in ["forget-password", "forgot-password"] {
        let response = app
            .post_json(&format!("{base}/{path}"), &json!({"email": "john@example.com", "redirectTo": "/dashboard"}))
            .await;
        assert_eq!(
            json_of(response, StatusCode::OK).await,
            json!({"success": true, "message": "Password reset email sent"})
        );
        // Read each link before asking again: the newer one replaces it.
        mail_to(&app, "john@example.com").await;
    }
    let response = app
        .post_json(
            &format!("{base}/forget-password"),
            &json!({"email": "john@example.com", "redirectTo": "/dashboard"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let message = mail_to(&app, "john@example.com").await;
    let reset = query_param(&link_in(&message, "/reset-password?token="), "token");
    let response = app
        .post_json(&format!("{base}/reset-password"), &json!({"token": reset, "password": "newSecurePassword456"}))
        .await;
    assert_eq!(
        json_of(response, StatusCode::OK).await,
        json!({"success": true, "message": "Password reset successfully"})
    );

    // A reset signs every session out: the cookie is over, and get-session says null.
    let response = get_cookie(&app, &format!("{base}/get-session"), &session_header).await;
    let cleared = set_cookies(&response, "session");
    assert!(cleared.iter().any(|l| l.contains("Max-Age=0")), "{cleared:?}");
    assert_eq!(json_of(response, StatusCode::OK).await, Value::Null);

    // Sign in with the new password, then sign out.
    let response = app
        .post_json(
            &format!("{base}/sign-in/email"),
            &json!({"email": "john@example.com", "password": "newSecurePassword456"}),
        )
        .await;
    let cookie = format!("session={}", session_cookie(&response));
    let response = post_cookie(&app, &format!("{base}/sign-out"), &cookie, &[]).await;
    assert!(set_cookies(&response, "session").iter().any(|l| l.contains("Max-Age=0")));
    assert_eq!(json_of(response, StatusCode::OK).await, json!({"success": true}));
    let response = get_cookie(&app, &format!("{base}/get-session"), &cookie).await;
    assert_eq!(json_of(response, StatusCode::OK).await, Value::Null);
    let response = post_cookie(&app, &format!("{base}/token"), &cookie, &[]).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // The seed's error responses.
    let response = app
        .post_json(
            &format!("{base}/sign-up/email"),
            &json!({"email": "john@example.com", "password": "securePassword123", "name": "J"}),
        )
        .await;
    let body = assert_error(response, StatusCode::CONFLICT, "USER_EXISTS").await;
    assert_eq!(body["message"], "User with this email already exists");
    let response = app
        .post_json(
            &format!("{base}/sign-up/email"),
            &json!({"email": "not-an-email", "password": "securePassword123", "name": "J"}),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
    let response = app
        .post_json(
            &format!("{base}/sign-in/email"),
            &json!({"email": "john@example.com", "password": "wrong-password"}),
        )
        .await;
    let body = assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    assert_eq!(body["message"], "Email or password is incorrect");
    let response = app.post_json(&format!("{base}/sign-in/email"), &json!({"email": 5})).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let response = app.get(&format!("{base}/verify-email")).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let response = app.get("/saas/api/auth/nope").await;
    assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let response =
        app.post_json("/no-such-app/api/auth/sign-in/email", &json!({"email": "a@b.co", "password": "x"})).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
}

/// The seed's curl commands themselves, run by curl (host replaced).
async fn seed_003_with_curl(app: TestApp) {
    saas(&app, "curl-app").await;
    let base = app.url("/curl-app/api/auth");
    let curl = |args: Vec<String>| async move {
        let out = tokio::process::Command::new("curl").arg("-s").args(&args).output().await.expect("curl runs");
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)))
    };
    let signed_up = curl(vec![
        "-X".into(),
        "POST".into(),
        format!("{base}/sign-up/email"),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-d".into(),
        "{\n\"email\": \"jane@example.com\",\n\"password\": \"securePassword123\",\n\"name\": \"John Doe\"\n}".into(),
    ])
    .await;
    assert_eq!(signed_up["user"]["email"], "jane@example.com");
    let jar = std::env::temp_dir().join(format!("rampart-jar-{}", uuid::Uuid::new_v4()));
    let jar_arg = jar.to_string_lossy().to_string();
    let signed_in = curl(vec![
        "-c".into(),
        jar_arg.clone(),
        "-X".into(),
        "POST".into(),
        format!("{base}/sign-in/email"),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-d".into(),
        "{\n\"email\": \"jane@example.com\",\n\"password\": \"securePassword123\"\n}".into(),
    ])
    .await;
    assert_eq!(signed_in["subscription"]["isSubscribed"], false);
    let jar_text = std::fs::read_to_string(&jar).unwrap();
    let cookie =
        jar_text.lines().find(|l| l.contains("\tsession\t")).and_then(|l| l.split('\t').nth(6)).unwrap().to_owned();
    let current = curl(vec![
        "-X".into(),
        "GET".into(),
        format!("{base}/get-session"),
        "-H".into(),
        format!("Cookie: session={cookie}"),
    ])
    .await;
    assert_eq!(current["user"]["email"], "jane@example.com");
    let token = curl(vec![
        "-X".into(),
        "POST".into(),
        format!("{base}/token"),
        "-H".into(),
        format!("Cookie: session={cookie}"),
    ])
    .await;
    assert!(token["token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{token}");
    let out = curl(vec![
        "-X".into(),
        "POST".into(),
        format!("{base}/sign-out"),
        "-H".into(),
        format!("Cookie: session={cookie}"),
    ])
    .await;
    assert_eq!(out["success"], true);
    let _ = std::fs::remove_file(&jar);
}

async fn verify_with_jwks(app: &TestApp, slug: &str, token: &str) -> Value {
    let jwks = app.jwks(slug).await;
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[app.issuer(slug)]);
    validation.set_audience(&[slug]);
    let _: Algorithm = header.alg;
    jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap().claims
}

/// Signs `email` up through the cookie API and answers the `Cookie` header of its session.
async fn cookie_user(app: &TestApp, slug: &str, email: &str) -> (String, Value) {
    let response = app
        .post_json(
            &format!("/{slug}/api/auth/sign-up/email"),
            &json!({"email": email, "password": "securePassword123", "name": "Pat"}),
        )
        .await;
    let cookie = format!("session={}", session_cookie(&response));
    let body = json_of(response, StatusCode::OK).await;
    (cookie, body)
}

/// Revoking the session anywhere (the owner's API, the user's own API) ends the cookie at once;
/// a cookie of one app means nothing to another on the same host.
async fn cookies_end_with_their_session_and_stay_in_their_app(app: TestApp) {
    let owner = saas(&app, "one").await;
    saas(&app, "two").await;
    let (cookie, body) = cookie_user(&app, "one", "pat@example.com").await;
    let user_id = body["user"]["id"].as_str().unwrap().to_owned();
    let alive = get_cookie(&app, "/one/api/auth/get-session", &cookie).await;
    assert_eq!(json_of(alive, StatusCode::OK).await["user"]["id"], user_id.as_str());
    // The other app does not know this cookie.
    let elsewhere = get_cookie(&app, "/two/api/auth/get-session", &cookie).await;
    assert_eq!(json_of(elsewhere, StatusCode::OK).await, Value::Null);
    let token = post_cookie(&app, "/two/api/auth/token", &cookie, &[]).await;
    assert_error(token, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // The owner signs the user out everywhere.
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/apps/one/end-users/{user_id}/sessions")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let after = get_cookie(&app, "/one/api/auth/get-session", &cookie).await;
    assert_eq!(json_of(after, StatusCode::OK).await, Value::Null);

    // The user revokes their cookie session from the bearer API.
    let response = app
        .post_json("/one/api/auth/sign-in/email", &json!({"email": "pat@example.com", "password": "securePassword123"}))
        .await;
    let cookie = format!("session={}", session_cookie(&response));
    let session_id = json_of(response, StatusCode::OK).await["session"]["id"].as_str().unwrap().to_owned();
    let jwt = post_cookie(&app, "/one/api/auth/token", &cookie, &[]).await;
    let jwt = json_of(jwt, StatusCode::OK).await["token"].as_str().unwrap().to_owned();
    let response = app.delete_with_bearer(&format!("/one/v1/me/sessions/{session_id}"), &jwt).await;
    assert!(response.status().is_success(), "{}", response.status());
    let after = get_cookie(&app, "/one/api/auth/get-session", &cookie).await;
    assert_eq!(json_of(after, StatusCode::OK).await, Value::Null);

    // Garbage cookies are no session, and are told to go.
    for garbage in ["session=cs_forged", "session=x", &format!("session=cs_{}", "a".repeat(500))] {
        let response = get_cookie(&app, "/one/api/auth/get-session", garbage).await;
        assert!(set_cookies(&response, "session").iter().any(|l| l.contains("Max-Age=0")));
        assert_eq!(json_of(response, StatusCode::OK).await, Value::Null);
    }
    // No cookie at all: null, nothing set.
    let response = app.get("/one/api/auth/get-session").await;
    assert!(set_cookies(&response, "session").is_empty());
    assert_eq!(json_of(response, StatusCode::OK).await, Value::Null);
}

/// Over https the cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_over_https() {
    let app = TestApp::spawn_with_public_url("https://auth.example.com").await;
    saas(&app, "sec").await;
    let response = app
        .post_json("/sec/api/auth/sign-up/email", &json!({"email": "s@example.com", "password": "securePassword123"}))
        .await;
    let line = set_cookies(&response, "session").pop().unwrap();
    assert!(line.contains("; Secure") && line.contains("HttpOnly") && line.contains("Path=/sec;"), "{line}");
}

/// A session used near its end is renewed (the cookie's `Max-Age` follows), never past the
/// absolute lifetime; a session past its end is over.
async fn sliding_expiry_under_a_cap(app: TestApp) {
    let owner = saas(&app, "slide").await;
    app.patch_config(
        &owner,
        "slide",
        &json!({"session_cookie_ttl_seconds": 300, "session_cookie_renew_within_seconds": 300, "session_max_lifetime_seconds": 3600}),
    )
    .await;
    let (cookie, body) = cookie_user(&app, "slide", "slide@example.com").await;
    let first_end = body["session"]["expires_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = get_cookie(&app, "/slide/api/auth/get-session", &cookie).await;
    let renewed = set_cookies(&response, "session");
    assert_eq!(renewed.len(), 1, "a renewal resets the cookie: {renewed:?}");
    assert!(renewed[0].contains("Max-Age=29") || renewed[0].contains("Max-Age=300"), "{}", renewed[0]);
    assert_eq!(format!("session={}", cookie_value(&renewed[0])), cookie, "the same cookie, a later end");
    let later = json_of(response, StatusCode::OK).await["session"]["expires_at"].as_str().unwrap().to_owned();
    assert!(later > first_end, "{later} after {first_end}");

    // Capped: with the absolute lifetime reached, no renewal.
    app.patch_config(&owner, "slide", &json!({"session_max_lifetime_seconds": 300})).await;
    let (cookie, body) = cookie_user(&app, "slide", "capped@example.com").await;
    let end = body["session"]["expires_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = get_cookie(&app, "/slide/api/auth/get-session", &cookie).await;
    assert!(set_cookies(&response, "session").is_empty());
    assert_eq!(json_of(response, StatusCode::OK).await["session"]["expires_at"], end.as_str());

    // Past its end, the session is over (a session no request has read yet, so no node
    // holds it in its cache).
    let (cookie, _) = cookie_user(&app, "slide", "over@example.com").await;
    execute_sql(
        &app,
        "UPDATE sessions SET expires_at = 1000",
        "UPDATE sessions SET expires_at = now() - interval '1 second'",
    )
    .await;
    let response = get_cookie(&app, "/slide/api/auth/get-session", &cookie).await;
    assert_eq!(json_of(response, StatusCode::OK).await, Value::Null);
}

/// Cookie-authenticated writes from pages the app does not trust are refused; its own pages,
/// its allowed origins and cookie-less calls pass; with `csrf_token_required`, the token of
/// `GET auth/csrf` is needed too.
async fn csrf_guards_cookie_writes(app: TestApp) {
    let owner = saas(&app, "guarded").await;
    app.patch_config(&owner, "guarded", &json!({"allowed_origins": ["https://app.example.com"]})).await;
    let (cookie, _) = cookie_user(&app, "guarded", "g@example.com").await;
    let own_origin = app.public_url.clone();

    for refused in [
        vec![(ORIGIN.as_str(), "https://evil.example")],
        vec![(ORIGIN.as_str(), "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![(REFERER.as_str(), "https://evil.example/page")],
        vec![(ORIGIN.as_str(), "https://app.example.com.evil.example")],
    ] {
        let response = post_cookie(&app, "/guarded/api/auth/token", &cookie, &refused).await;
        assert_error(response, StatusCode::FORBIDDEN, "CSRF_FAILED").await;
        let response = post_cookie(&app, "/guarded/api/auth/sign-out", &cookie, &refused).await;
        assert_error(response, StatusCode::FORBIDDEN, "CSRF_FAILED").await;
    }
    // Nothing was signed out by the refused calls.
    let alive = get_cookie(&app, "/guarded/api/auth/get-session", &cookie).await;
    assert!(json_of(alive, StatusCode::OK).await["user"].is_object());

    // Same origin, an allowed origin (with CORS for it), same-site: accepted.
    let response = post_cookie(&app, "/guarded/api/auth/token", &cookie, &[(ORIGIN.as_str(), &own_origin)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response =
        post_cookie(&app, "/guarded/api/auth/token", &cookie, &[(ORIGIN.as_str(), "https://app.example.com")]).await;
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
    assert_eq!(response.headers()["access-control-allow-credentials"], "true");
    assert_eq!(response.status(), StatusCode::OK);
    let response = post_cookie(&app, "/guarded/api/auth/token", &cookie, &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Preflights: answered for allowed origins only.
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/guarded/api/auth/sign-in/email"))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://app.example.com");
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    // Calls without cookies are not a browser's session: unaffected.
    let response = app
        .client
        .post(app.url("/guarded/api/auth/sign-in/email"))
        .header(ORIGIN, "https://evil.example")
        .json(&json!({"email": "g@example.com", "password": "securePassword123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Token mode.
    app.patch_config(&owner, "guarded", &json!({"csrf_token_required": true})).await;
    let response = post_cookie(&app, "/guarded/api/auth/token", &cookie, &[]).await;
    assert_error(response, StatusCode::FORBIDDEN, "CSRF_FAILED").await;
    let script = app.get("/guarded/v1/auth/csrf").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    let line = set_cookies(&script, "csrf").pop().expect("a CSRF cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict") && line.contains("Path=/guarded"), "{line}");
    let text = script.text().await.unwrap();
    assert!(text.contains("/guarded/v1/auth/csrf/token") && text.contains("X-CSRF-Token"), "{text}");
    let csrf_cookie = format!("csrf={}", cookie_value(&line));
    let response = get_cookie(&app, "/guarded/v1/auth/csrf/token", &csrf_cookie).await;
    assert!(set_cookies(&response, "csrf").is_empty(), "the browser's cookie is kept");
    let token = json_of(response, StatusCode::OK).await["csrf_token"].as_str().unwrap().to_owned();
    let both = format!("{cookie}; {csrf_cookie}");
    let response = post_cookie(&app, "/guarded/api/auth/token", &both, &[("x-csrf-token", &token)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Another cookie's token, a forged one, a token without its cookie: refused.
    let other = app.get("/guarded/v1/auth/csrf/token").await;
    let other_token = json_of(other, StatusCode::OK).await["csrf_token"].as_str().unwrap().to_owned();
    for (cookies, token) in
        [(both.clone(), other_token.as_str()), (both.clone(), "forged"), (cookie.clone(), token.as_str())]
    {
        let response = post_cookie(&app, "/guarded/api/auth/token", &cookies, &[("x-csrf-token", token)]).await;
        assert_error(response, StatusCode::FORBIDDEN, "CSRF_FAILED").await;
    }
    // A token of one app does not pass in another.
    saas(&app, "neighbour").await;
    let neighbour = get_cookie(&app, "/neighbour/v1/auth/csrf/token", &csrf_cookie).await;
    let neighbour_token = json_of(neighbour, StatusCode::OK).await["csrf_token"].as_str().unwrap().to_owned();
    assert_ne!(neighbour_token, token);
}

/// Seed 004: refresh reads the refresh-token cookie when the body has none, and sets the
/// rotated cookies; reuse is still detected; logout by cookie clears them.
async fn refresh_by_cookie(app: TestApp) {
    app.app_with_owner("rcook").await;
    app.signup_end_user("rcook", "cookie-refresher").await;
    let pair = app.signin_end_user("rcook", "cookie-refresher").await;
    let rt = refresh_token(&pair);
    let response = post_cookie(&app, "/rcook/v1/auth/refresh", &format!("refresh_token={rt}"), &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let line = set_cookies(&response, "refresh_token").pop().expect("a rotated refresh cookie");
    assert!(
        line.contains("Path=/rcook/v1/auth") && line.contains("HttpOnly") && line.contains("SameSite=Strict"),
        "{line}"
    );
    assert_eq!(set_cookies(&response, "access_token").len(), 1);
    let rotated = cookie_value(&line);
    let body = json_of(response, StatusCode::OK).await;
    assert_eq!(body["refresh_token"], rotated.as_str());
    app.me("rcook", &access_token(&body)).await;

    // From another site: refused, and the token stays unspent.
    let response = post_cookie(
        &app,
        "/rcook/v1/auth/refresh",
        &format!("refresh_token={rotated}"),
        &[(ORIGIN.as_str(), "https://evil.example")],
    )
    .await;
    assert_error(response, StatusCode::FORBIDDEN, "CSRF_FAILED").await;
    // The body wins over the cookie; reuse of the first is detected.
    let response = app.post_json("/rcook/v1/auth/refresh", &json!({"refresh_token": rt})).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED").await;

    // Nothing to refresh with.
    let response = app.client.post(app.url("/rcook/v1/auth/refresh")).send().await.unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    // Logout by cookie.
    let pair = app.signin_end_user("rcook", "cookie-refresher").await;
    let rt = refresh_token(&pair);
    let response = post_cookie(&app, "/rcook/v1/auth/logout", &format!("refresh_token={rt}"), &[]).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(set_cookies(&response, "refresh_token").iter().all(|l| l.contains("Max-Age=0")));
    let response = app.post_json("/rcook/v1/auth/refresh", &json!({"refresh_token": rt})).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// An unverified address signs in only when one user holds it; two sign-ups of one unverified
/// address leave it to whoever verifies first.
async fn unverified_email_signs_in_only_when_unambiguous(app: TestApp) {
    saas(&app, "dup").await;
    cookie_user(&app, "dup", "shared@example.com").await;
    let credentials = json!({"email": "shared@example.com", "password": "securePassword123"});
    let signin = || app.post_json("/dup/api/auth/sign-in/email", &credentials);
    assert_eq!(signin().await.status(), StatusCode::OK);
    // A second sign-up of the unverified address: allowed (no one owns it yet)...
    let response = app
        .post_json(
            "/dup/api/auth/sign-up/email",
            &json!({"email": "shared@example.com", "password": "securePassword123"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // ...and now the address names nobody until one of them verifies it.
    assert_error(signin().await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
}

/// Mail is written in the language of the request that sends it: `Accept-Language` or `?lang=`.
async fn mail_speaks_the_callers_language(app: TestApp) {
    saas(&app, "polyglot").await;
    let response = app
        .client
        .post(app.url("/polyglot/api/auth/sign-up/email"))
        .header("accept-language", "fr-FR, fr;q=0.9, en;q=0.5")
        .json(&json!({"email": "zoe@example.com", "password": "securePassword123", "name": "Zoé"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let message = mail_to(&app, "zoe@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Confirmez votre adresse e-mail pour App polyglot"));
    let text = message.text_body().unwrap();
    assert!(text.starts_with("Bonjour Zoé,") && text.contains("Confirmer mon adresse"), "{text}");
    let response =
        app.post_json("/polyglot/api/auth/forget-password?lang=en", &json!({"email": "zoe@example.com"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let message = mail_to(&app, "zoe@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Reset your App polyglot password"));
}

both_stores!(
    mail_speaks_the_callers_language,
    seed_003,
    seed_003_with_curl,
    cookies_end_with_their_session_and_stay_in_their_app,
    sliding_expiry_under_a_cap,
    csrf_guards_cookie_writes,
    refresh_by_cookie,
    unverified_email_signs_in_only_when_unambiguous,
);
