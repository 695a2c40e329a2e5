//! The findings of the outside security review (issue 9), each as the attack it describes:
//! listing accounts through the platform app, unbounded bodies, refresh tokens recoverable
//! from a copy of the data, emails of an app's whole directory, role escalation, a deleted
//! app's slug re-registered, and the smaller ones.

use reqwest::header::{HeaderMap, ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api_keys::create_key;
use crate::end_users::user_id;
use crate::helpers::{
    access_token, assert_error, both_stores, json_of, refresh_token, stored_values, TestApp, PASSWORD,
};

// ---------------------------------------------------------------------------------------
// 1. The platform app exposes only the account flows on consumer routes.
// ---------------------------------------------------------------------------------------

async fn platform_consumer_routes_are_only_account_flows(app: TestApp) {
    let account = app.account_token("ada").await;
    app.account_token("grace").await;
    for path in
        ["/platform/v1/users", "/platform/v1/users?search=grace", "/platform/v1/roles", "/platform/v1/roles/owner"]
    {
        assert_error(app.get_with_bearer(path, &account).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    // Account tokens stay verifiable through the platform's public keys.
    json_of(app.get("/platform/v1/.well-known/jwks.json").await, StatusCode::OK).await;
    // The account flows themselves are there.
    let me = json_of(app.get_with_bearer("/platform/v1/me", &account).await, StatusCode::OK).await;
    assert_eq!(me["username"], "ada");
    json_of(app.get_with_bearer("/platform/v1/me/permissions", &account).await, StatusCode::OK).await;
    let pair = app.post_json("/platform/v1/auth/signin", &json!({ "identifier": "ada", "password": PASSWORD })).await;
    json_of(pair, StatusCode::OK).await;
}

// ---------------------------------------------------------------------------------------
// 2. One body limit for every surface; passwords bounded before argon2.
// ---------------------------------------------------------------------------------------

/// Posts `body_len` bytes to `path` over a connection of its own, by hand: chunked (no
/// declared length) or with a `Content-Length`. The server may answer before the body is all
/// sent (a client library would report the broken pipe instead of the answer). Returns the
/// status code and the answer's body.
async fn post_raw(app: &TestApp, path: &str, body_len: usize, chunked: bool) -> (u16, String) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let framing = if chunked { "Transfer-Encoding: chunked".to_owned() } else { format!("Content-Length: {body_len}") };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         {framing}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 16 * 1024];
    let mut sent = 0;
    while sent < body_len {
        let frame = if chunked {
            [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat()
        } else {
            chunk.clone()
        };
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    if chunked {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

async fn one_body_limit_everywhere(app: TestApp) {
    // A server function of the console (unauthenticated, without Origin), the REST API and a
    // page route: a body over the limit is refused before anything reads it into memory,
    // whether its length is declared or it arrives chunked.
    for path in ["/console/_fn/sign_in", "/v1/auth/signin", "/console/signin"] {
        for chunked in [false, true] {
            let (status, body) = post_raw(&app, path, 1024 * 1024, chunked).await;
            assert_eq!(status, 413, "{path}, chunked: {chunked}: {body}");
            let body: Value = serde_json::from_str(body.trim()).unwrap_or_else(|_| panic!("{path}: {body}"));
            assert_eq!(body["error"], "PAYLOAD_TOO_LARGE", "{body}");
        }
    }
    // Within the limit, the server still answers normally.
    json_of(app.get("/health").await, StatusCode::OK).await;
    let (status, _) = post_raw(&app, "/console/_fn/sign_in", 1024, false).await;
    assert_ne!(status, 413);
}

async fn passwords_are_bounded_and_normalised(app: TestApp) {
    app.app_with_owner("club").await;
    // A 2 KiB password: sign-up refuses it, sign-in answers like any wrong password.
    let long = "Aa1!".repeat(512);
    let response = app
        .post_json(
            "/club/v1/auth/signup",
            &json!({ "email": "long@example.com", "username": "long", "password": long }),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "WEAK_PASSWORD").await;
    app.signup_end_user("club", "ada").await;
    for password in [long.clone(), format!("{PASSWORD}{}", "x".repeat(2048))] {
        let response =
            app.post_json("/club/v1/auth/signin", &json!({ "identifier": "ada", "password": password })).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    }

    // NFKC: the same password typed two ways is one password.
    let composed = "Caf\u{e9}-Pa\u{df}word-\u{ff11}\u{ff12}";
    let decomposed = "Cafe\u{301}-Pa\u{df}word-12";
    let response = app
        .post_json(
            "/club/v1/auth/signup",
            &json!({ "email": "zoe@example.com", "username": "zoe", "password": composed }),
        )
        .await;
    json_of(response, StatusCode::CREATED).await;
    app.signin_end_user_with("club", "zoe", decomposed).await;
    app.signin_end_user_with("club", "zoe", composed).await;
}

// ---------------------------------------------------------------------------------------
// 3. Nothing stored yields a live refresh token, even with the master key.
// ---------------------------------------------------------------------------------------

async fn a_copy_of_the_data_yields_no_refresh_token(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    // With the retry tolerance on, the old code kept every successor sealed for it.
    app.patch_config(&owner, "club", &json!({ "refresh_reuse_grace_seconds": 60 })).await;
    let mut issued = Vec::new();
    let mut parents = Vec::new();
    for name in ["ada", "grace"] {
        let mut pair = app.signup_end_user("club", name).await;
        issued.push(refresh_token(&pair));
        for _ in 0..3 {
            let presented = refresh_token(&pair);
            parents.push(domain::crypto::token_digest(&presented));
            let response = app.post_json("/club/v1/auth/refresh", &json!({ "refresh_token": presented })).await;
            pair = json_of(response, StatusCode::OK).await;
            issued.push(refresh_token(&pair));
        }
        // A double refresh within the tolerance still gets the same successor (derived again).
        let last_parent = issued[issued.len() - 2].clone();
        let response = app.post_json("/club/v1/auth/refresh", &json!({ "refresh_token": last_parent })).await;
        assert_eq!(refresh_token(&json_of(response, StatusCode::OK).await), refresh_token(&pair));
    }
    // What an attacker holding the database and the master key can try.
    let values = stored_values(&app).await;
    assert!(!values.is_empty());
    for value in &values {
        for token in &issued {
            assert!(!contains(value, token.as_bytes()), "a refresh token is stored as it is");
        }
        for parent in &parents {
            assert!(app.master_key.open(value, parent.as_bytes()).is_err(), "a stored value opens to a secret");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// 6. The consumer user list shows emails only to roles holding `user.read`.
// ---------------------------------------------------------------------------------------

async fn directory_without_emails_for_plain_members(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    let member = access_token(&app.signup_end_user("club", "ada").await);
    app.signup_end_user("club", "grace").await;
    let page = json_of(app.get_with_bearer("/club/v1/users", &member).await, StatusCode::OK).await;
    let users = page["users"].as_array().unwrap();
    assert_eq!(users.len(), 2, "{page}");
    for user in users {
        assert!(user.get("email").is_none() && user.get("emailVerifiedAt").is_none(), "{user}");
        assert!(user["username"].is_string());
    }
    // Searching by an address is no way round it.
    let found =
        json_of(app.get_with_bearer("/club/v1/users?search=grace@example", &member).await, StatusCode::OK).await;
    assert_eq!(found["users"].as_array().unwrap().len(), 0, "{found}");

    // A role holding user.read sees them.
    app.post_json_with_bearer(
        "/api/v1/apps/club/roles",
        &owner,
        &json!({ "name": "support", "permissions": ["user.read", "user.list"] }),
    )
    .await;
    let ada = user_id(&app, &owner, "club", "ada").await;
    let response = app
        .patch_json_with_bearer(&format!("/api/v1/apps/club/end-users/{ada}"), &owner, &json!({ "role": "support" }))
        .await;
    json_of(response, StatusCode::OK).await;
    let support = access_token(&app.signin_end_user("club", "ada").await);
    let page = json_of(app.get_with_bearer("/club/v1/users", &support).await, StatusCode::OK).await;
    let emails: Vec<&Value> = page["users"].as_array().unwrap().iter().map(|u| &u["email"]).collect();
    assert!(emails.contains(&&json!("grace@example.com")), "{page}");
    // And the management API always shows them.
    let listed = json_of(app.get_with_bearer("/api/v1/apps/club/end-users", &owner).await, StatusCode::OK).await;
    assert!(listed["users"].as_array().unwrap().iter().all(|u| u["email"].is_string()), "{listed}");
}

// ---------------------------------------------------------------------------------------
// 7. Grant only what you hold: assigning a role is granting its permissions.
// ---------------------------------------------------------------------------------------

async fn no_role_assignment_beyond_what_the_caller_holds(app: TestApp) {
    let owner = app.app_with_owner("club").await;
    app.signup_end_user("club", "ada").await;
    let ada = user_id(&app, &owner, "club", "ada").await;
    let path = format!("/api/v1/apps/club/end-users/{ada}");
    app.post_json_with_bearer(
        "/api/v1/apps/club/roles",
        &owner,
        &json!({ "name": "temp", "permissions": ["app.read"] }),
    )
    .await;

    // A key that may update users may not make anyone owner or admin.
    let (_, helpdesk) = create_key(&app, &owner, "club", &["user.update", "user.read"]).await;
    for role in ["owner", "admin"] {
        let response = app.patch_json_with_bearer(&path, &helpdesk, &json!({ "role": role })).await;
        let body = assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        assert!(body["message"].as_str().unwrap().contains(role), "{body}");
    }
    // Nor through a role deletion's reassignment, nor as the role every sign-up gets.
    let (_, deleter) = create_key(&app, &owner, "club", &["role.delete"]).await;
    let response = app.delete_with_bearer("/api/v1/apps/club/roles/temp?reassign_to=owner", &deleter).await;
    assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let (_, configurer) = create_key(&app, &owner, "club", &["config.update", "config.read"]).await;
    let response = app
        .patch_json_with_bearer("/api/v1/apps/club/config", &configurer, &json!({ "signup_default_role": "admin" }))
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // Nothing changed.
    assert_eq!(json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await["role"], "member");
    assert_eq!(app.config(&owner, "club").await["signup_default_role"], "member");
    json_of(app.get_with_bearer("/api/v1/apps/club/roles/temp", &owner).await, StatusCode::OK).await;

    // What the caller holds, it may assign.
    let (_, able) = create_key(&app, &owner, "club", &["user.update", "user.read", "app.read"]).await;
    let response = app.patch_json_with_bearer(&path, &able, &json!({ "role": "temp" })).await;
    assert_eq!(json_of(response, StatusCode::OK).await["role"], "temp");
    // And the owner may assign anything.
    let response = app.patch_json_with_bearer(&path, &owner, &json!({ "role": "admin" })).await;
    assert_eq!(json_of(response, StatusCode::OK).await["role"], "admin");
}

// ---------------------------------------------------------------------------------------
// 8. Slugs are permanent.
// ---------------------------------------------------------------------------------------

async fn a_deleted_apps_slug_is_never_reused(app: TestApp) {
    let owner = app.app_with_owner("gone").await;
    let old_issuer = app.issuer("gone");
    let response = app.delete_with_bearer("/api/v1/apps/gone", &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(app.get("/gone/v1/.well-known/jwks.json").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let stranger = app.account_token("stranger").await;
    for token in [&owner, &stranger] {
        let body = assert_error(app.create_app(token, "gone").await, StatusCode::CONFLICT, "SLUG_TAKEN").await;
        assert!(body["message"].as_str().unwrap().contains("permanent"), "{body}");
    }
    assert_error(app.get("/gone/v1/.well-known/jwks.json").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(app.issuer("gone"), old_issuer);
    // Other slugs are unaffected.
    app.create_app_ok(&stranger, "gone-too").await;
}

// ---------------------------------------------------------------------------------------
// 10. Seed 001's rule by default: re-using a rotated refresh token revokes the session.
// ---------------------------------------------------------------------------------------

async fn reuse_revokes_by_default(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    assert_eq!(app.config(&owner, "acme").await["refresh_reuse_grace_seconds"], 0);
    let first = app.signup_end_user("acme", "ada").await;
    let response = app.post_json("/acme/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&first) })).await;
    let second = json_of(response, StatusCode::OK).await;
    // At once, as a thief replaying the stolen previous token would.
    let response = app.post_json("/acme/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&first) })).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED").await;
    // Both die: the legitimate user's token and its bearer.
    let response = app.post_json("/acme/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&second) })).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    assert_error(
        app.get_with_bearer("/acme/v1/me", &access_token(&second)).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// 9. The smaller ones: framing, the console cookie, a key created without JavaScript.
// ---------------------------------------------------------------------------------------

async fn no_page_may_be_framed(app: TestApp) {
    for path in ["/console/signin", "/console", "/health", "/v1/auth/me"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{path}");
        let csp = headers.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
        assert!(csp.is_some_and(|c| c.contains("frame-ancestors 'none'")), "{path}");
    }
}

/// RFC 6750: a 401 names the Bearer scheme, and says when a token was sent and refused.
async fn unauthorized_answers_name_the_bearer_scheme(app: TestApp) {
    app.app_with_owner("club").await;
    let challenge = |r: &reqwest::Response| {
        r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    let missing = app.get("/club/v1/me").await;
    assert_eq!(challenge(&missing), "Bearer");
    assert_error(missing, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let garbage = app.get_with_bearer("/club/v1/me", "not-a-token").await;
    assert_eq!(challenge(&garbage), "Bearer error=\"invalid_token\"");
    assert_error(garbage, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let wrong = app.post_json("/club/v1/auth/signin", &json!({ "identifier": "x", "password": "y" })).await;
    assert_eq!(challenge(&wrong), "Bearer");
}

/// The cookies a response sets, as `name=value` pairs, with their whole header lines.
fn set_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let line = v.to_str().unwrap().to_owned();
            (line.split(';').next().unwrap().to_owned(), line)
        })
        .collect()
}

/// Signs an account in to the console through its server function; returns the cookie
/// header lines it set.
async fn console_sign_in(app: &TestApp, username: &str) -> Vec<(String, String)> {
    let response = app
        .client
        .post(app.url("/console/_fn/sign_in"))
        .form(&[("identifier", username), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let cookies = set_cookies(response.headers());
    let body = response.text().await.unwrap();
    assert!(status.is_success() || status.is_redirection(), "{status}: {body}");
    cookies
}

async fn a_key_made_without_javascript_is_never_stored_in_the_clear(app: TestApp) {
    app.app_with_owner("club").await;
    let cookies = console_sign_in(&app, "club-owner").await;
    let session = cookies.iter().find(|(pair, _)| pair.starts_with("rampart_console=")).expect("console cookie");
    let mut jar = vec![session.0.clone()];

    // The form posted by a browser without JavaScript.
    let response = app
        .client
        .post(app.url("/console/_fn/create_api_key"))
        .header(ACCEPT, "text/html")
        .header(COOKIE, jar.join("; "))
        .header("referer", app.url("/console/apps/club/api-keys"))
        .form(&[("slug", "club"), ("name", "no-js"), ("scopes[]", "app.read"), ("expires_in_days", "")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(response.headers().get(LOCATION).is_some());
    let flash = set_cookies(response.headers())
        .into_iter()
        .find(|(pair, _)| pair.starts_with("rampart_flash="))
        .expect("the one-time key goes to the browser");
    assert!(flash.1.contains("HttpOnly") && flash.1.contains("Path=/console"), "{}", flash.1);
    // What the database holds while the key waits for its page; the cookie is sealed too.
    let stored = stored_values(&app).await;
    jar.push(flash.0.clone());

    let response = app.client.get(app.url("/console/apps/club/api-keys")).header(COOKIE, jar.join("; ")).send().await;
    let response = response.unwrap();
    // The page that shows it tells the browser to forget it.
    let forget = set_cookies(response.headers()).into_iter().find(|(pair, _)| pair.starts_with("rampart_flash="));
    assert!(forget.is_some_and(|(pair, line)| pair == "rampart_flash=" && line.contains("Max-Age=0")));
    jar.pop();
    let page = response.text().await.unwrap();
    let shown = page.find("data-testid=\"api-key-secret\"").expect("the page shows the new key once");
    let start = shown + page[shown..].find('>').unwrap() + 1;
    let secret: String = page[start..].chars().take_while(|c| *c != '<').collect();
    assert!(secret.starts_with("rk_"), "{secret}");
    for value in &stored {
        assert!(!contains(value, secret.as_bytes()), "the secret sat in the database in the clear");
    }
    assert!(!flash.0.contains(&secret) && !flash.0.contains(&secret[3..]), "the cookie holds it in the clear");
    // It is a real key, and it is shown only once.
    json_of(app.get_with_bearer("/api/v1/apps/club", &secret).await, StatusCode::OK).await;
    let again = app.client.get(app.url("/console/apps/club/api-keys")).header(COOKIE, jar.join("; ")).send().await;
    assert!(!again.unwrap().text().await.unwrap().contains(&secret));
}

/// The console's cookie names the account's Rampart session, kept only as a digest: ending
/// that session anywhere (here, with the account's own API) signs the console out at once.
async fn the_console_cookie_is_the_rampart_session(app: TestApp) {
    let account = app.account_token("ada").await;
    let cookies = console_sign_in(&app, "ada").await;
    let (pair, line) = cookies.iter().find(|(pair, _)| pair.starts_with("rampart_console=")).expect("cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax"), "{line}");
    let token = pair.trim_start_matches("rampart_console=").to_owned();
    assert!(token.starts_with("cs_") && token.len() > 40, "{token}");
    let whoami = |cookie: String| {
        let request = app.client.post(app.url("/console/_fn/whoami")).header(COOKIE, cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    assert!(whoami(pair.clone()).await.contains("\"ada\""));
    // Not stored as it is.
    assert!(stored_values(&app).await.iter().all(|v| !contains(v, token.as_bytes())));
    // A made-up or tampered cookie is nobody.
    assert_eq!(whoami("rampart_console=cs_forged".into()).await, "null");
    assert_eq!(whoami(format!("{pair}x")).await, "null");

    // The console's session is one of the account's sessions; ending it ends the cookie.
    let sessions = json_of(app.get_with_bearer("/platform/v1/me/sessions", &account).await, StatusCode::OK).await;
    let console =
        sessions["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).expect("the console's");
    let id = console["id"].as_str().unwrap();
    let response = app.delete_with_bearer(&format!("/platform/v1/me/sessions/{id}"), &account).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(whoami(pair.clone()).await, "null", "the revoked session's cookie still signs in");
    // Signing in again gives a new cookie, not the old one back.
    let again = console_sign_in(&app, "ada").await;
    let (fresh, _) = again.iter().find(|(pair, _)| pair.starts_with("rampart_console=")).expect("cookie");
    assert_ne!(fresh, pair);
    assert!(whoami(fresh.clone()).await.contains("\"ada\""));
}

/// Over https the console cookie takes the `__Host-` prefix; over plain http it cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_cookie_is_host_prefixed_over_https() {
    let mut secure = TestApp::spawn_with_public_url("https://auth.example.com").await;
    let cleanup = secure.take_cleanup();
    let outcome = tokio::spawn(async move {
        secure.account_token("ada").await;
        let cookies = console_sign_in(&secure, "ada").await;
        let (_, line) = cookies.iter().find(|(pair, _)| pair.starts_with("__Host-rampart_console=")).expect("cookie");
        for flag in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
            assert!(line.split("; ").any(|part| part == flag), "{flag} in {line}");
        }
        assert!(!line.to_ascii_lowercase().contains("domain="), "{line}");
    })
    .await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
    outcome.unwrap();

    let mut plain = TestApp::spawn().await;
    let cleanup = plain.take_cleanup();
    let outcome = tokio::spawn(async move {
        plain.account_token("ada").await;
        let cookies = console_sign_in(&plain, "ada").await;
        let (_, line) = cookies.iter().find(|(pair, _)| pair.starts_with("rampart_console=")).expect("cookie");
        assert!(line.contains("Path=/console") && !line.contains("Secure"), "{line}");
    })
    .await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
    outcome.unwrap();
}

both_stores!(
    platform_consumer_routes_are_only_account_flows,
    one_body_limit_everywhere,
    passwords_are_bounded_and_normalised,
    a_copy_of_the_data_yields_no_refresh_token,
    directory_without_emails_for_plain_members,
    no_role_assignment_beyond_what_the_caller_holds,
    a_deleted_apps_slug_is_never_reused,
    reuse_revokes_by_default,
    no_page_may_be_framed,
    unauthorized_answers_name_the_bearer_scheme,
    a_key_made_without_javascript_is_never_stored_in_the_clear,
    the_console_cookie_is_the_rampart_session,
);
