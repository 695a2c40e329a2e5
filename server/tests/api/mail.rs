//! Mail and one-time links (issue 12): seed 000's invite step verbatim, email verification,
//! forgotten passwords, magic links; every message through real SMTP into the test's sink,
//! and the attacks on one-time links.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    access_token, assert_error, both_stores, execute_sql, json_of, link_in, mail_to, query_param, refresh_token,
    stored_values, TestApp, PASSWORD,
};

/// Seed 000, step 3, as written (host replaced): the workspace token mints an invite, the
/// mail carries the code, the code and a password make a signed-in user.
async fn seed_000_invite(app: TestApp) {
    let owner = app.app_with_owner("acme-corp").await;
    let response = app
        .post_json_with_bearer(
            "/v1/apps/acme-corp/end-users/invites",
            &owner,
            &json!({
                "email": "newuser@example.com",
                "name": "New User",
                "roleName": "member",
                "expiresInHours": 72
            }),
        )
        .await;
    let invite = json_of(response, StatusCode::CREATED).await;
    assert_eq!(invite["email"], "newuser@example.com");
    assert_eq!(invite["role"], "member");
    assert_eq!(invite["status"], "pending");
    assert!(invite.get("code").is_none(), "the code travels only by mail: {invite}");

    let message = mail_to(&app, "newuser@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("You are invited to App acme-corp"));
    assert_eq!(message.from, "auth@rampart.test");
    let text = message.text_body().unwrap();
    let code = text
        .split_whitespace()
        .find(|w| w.starts_with("inv_"))
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();
    assert!(code.len() >= 4 + 43, "256 bits: {code}");
    let link = link_in(&message, "/accept-invite?code=");
    assert!(link.starts_with(&format!("{}/acme-corp/accept-invite?code=", app.public_url)), "{link}");
    assert_eq!(query_param(&link, "code"), code);

    let response = app
        .post_json(
            "/acme-corp/v1/auth/accept-invite",
            &json!({ "code": code, "password": "CorrectHorseBatteryStaple" }),
        )
        .await;
    let pair = json_of(response, StatusCode::OK).await;
    let me = app.me("acme-corp", &access_token(&pair)).await;
    assert_eq!(me["email"], "newuser@example.com");
    assert_eq!(me["displayName"], "New User");
    assert_eq!(me["role"], "member");
    assert!(me["emailVerifiedAt"].is_string(), "{me}");
    // The verified email signs in with the chosen password.
    app.signin_end_user_with("acme-corp", "newuser@example.com", "CorrectHorseBatteryStaple").await;

    // Single use.
    let again = app
        .post_json(
            "/acme-corp/v1/auth/accept-invite",
            &json!({ "code": code, "password": "CorrectHorseBatteryStaple" }),
        )
        .await;
    assert_error(again, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let list =
        json_of(app.get_with_bearer("/api/v1/apps/acme-corp/end-users/invites", &owner).await, StatusCode::OK).await;
    assert_eq!(list["invites"][0]["status"], "accepted");
    assert_eq!(list["invites"][0]["user_id"], me["id"]);
}

/// The code of the next invite mail to `to`.
async fn invite_code(app: &TestApp, to: &str) -> String {
    let message = mail_to(app, to).await;
    query_param(&link_in(&message, "/accept-invite?code="), "code")
}

async fn invite(app: &TestApp, owner: &str, slug: &str, body: Value) -> reqwest::Response {
    app.post_json_with_bearer(&format!("/api/v1/apps/{slug}/end-users/invites"), owner, &body).await
}

/// An invite is bound to its app, single use, revocable, superseded by a newer one, expires,
/// and its role is the inviter's choice.
async fn invite_rules(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let other = app.account_token("other-owner").await;
    app.create_app_ok(&other, "globex").await;
    let accept = |slug: &'static str, code: String| {
        let app = &app;
        async move {
            app.post_json(
                &format!("/{slug}/v1/auth/accept-invite"),
                &json!({"code": code, "password": PASSWORD, "role": "admin"}),
            )
            .await
        }
    };

    // Bad requests.
    for (body, code) in [
        (json!({"email": "nope"}), "INVALID_EMAIL"),
        (json!({"email": "a@example.com", "roleName": "ghost"}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "roleName": "owner"}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "expiresInHours": 0}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "expiresInHours": 721}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "unknown": 1}), "INVALID_REQUEST"),
    ] {
        assert_error(invite(&app, &owner, "acme", body).await, StatusCode::BAD_REQUEST, code).await;
    }
    // Another app's owner cannot invite into acme.
    assert_error(
        invite(&app, &other, "acme", json!({"email": "x@example.com"})).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    // Bound to its app; the accepter cannot pick the role.
    json_of(invite(&app, &owner, "acme", json!({"email": "bound@example.com"})).await, StatusCode::CREATED).await;
    let code = invite_code(&app, "bound@example.com").await;
    assert_error(accept("globex", code.clone()).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let pair = json_of(accept("acme", code).await, StatusCode::OK).await;
    assert_eq!(app.me("acme", &access_token(&pair)).await["role"], "member");
    // Inviting an address that already has a user is refused.
    assert_error(
        invite(&app, &owner, "acme", json!({"email": "BOUND@example.com"})).await,
        StatusCode::CONFLICT,
        "USER_EXISTS",
    )
    .await;

    // Revoked.
    let revoked =
        json_of(invite(&app, &owner, "acme", json!({"email": "revoked@example.com"})).await, StatusCode::CREATED).await;
    let code = invite_code(&app, "revoked@example.com").await;
    let path = format!("/api/v1/apps/acme/end-users/invites/{}", revoked["id"].as_str().unwrap());
    assert_eq!(app.delete_with_bearer(&path, &owner).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.delete_with_bearer(&path, &owner).await, StatusCode::CONFLICT, "CONFLICT").await;
    assert_error(accept("acme", code).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    // Superseded by a newer invite of the same email.
    json_of(invite(&app, &owner, "acme", json!({"email": "twice@example.com"})).await, StatusCode::CREATED).await;
    let first = invite_code(&app, "twice@example.com").await;
    json_of(
        invite(&app, &owner, "acme", json!({"email": "twice@example.com", "roleName": "admin"})).await,
        StatusCode::CREATED,
    )
    .await;
    let second = invite_code(&app, "twice@example.com").await;
    assert_error(accept("acme", first).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let pair = json_of(accept("acme", second).await, StatusCode::OK).await;
    assert_eq!(app.me("acme", &access_token(&pair)).await["role"], "admin");

    // Expired.
    json_of(
        invite(&app, &owner, "acme", json!({"email": "late@example.com", "expiresInHours": 1})).await,
        StatusCode::CREATED,
    )
    .await;
    let code = invite_code(&app, "late@example.com").await;
    execute_sql(
        &app,
        "UPDATE invites SET expires_at = 0 WHERE email = 'late@example.com'",
        "UPDATE invites SET expires_at = now() - interval '1 second' WHERE email = 'late@example.com'",
    )
    .await;
    assert_error(accept("acme", code).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    // A weak password is refused and the code still works after.
    json_of(invite(&app, &owner, "acme", json!({"email": "weak@example.com"})).await, StatusCode::CREATED).await;
    let code = invite_code(&app, "weak@example.com").await;
    let weak = app.post_json("/acme/v1/auth/accept-invite", &json!({"code": code, "password": "short"})).await;
    assert_error(weak, StatusCode::BAD_REQUEST, "WEAK_PASSWORD").await;

    // Ten parallel acceptances of one code: exactly one user.
    let attempts = (0..10).map(|_| accept("acme", code.clone()));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || s.is_client_error()), "{statuses:?}");

    // The log has each step.
    let log = json_of(app.get_with_bearer("/api/v1/apps/acme/audit?type=invite.*", &owner).await, StatusCode::OK).await;
    let types: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in ["invite.created", "invite.accepted", "invite.revoked"] {
        assert!(types.contains(&kind), "{kind} missing from {types:?}");
    }
}

/// Signs up `username` and verifies the email through the emailed link (the JSON way).
async fn verified_user(app: &TestApp, slug: &str, username: &str) -> Value {
    let pair = app.signup_end_user(slug, username).await;
    let email = format!("{username}@example.com");
    let response = app
        .post_json_with_bearer(&format!("/{slug}/v1/auth/send-verification-email"), &access_token(&pair), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let message = mail_to(app, &email).await;
    let token = query_param(&link_in(&message, "/v1/auth/verify-email?token="), "token");
    json_of(app.post_json(&format!("/{slug}/v1/auth/verify-email"), &json!({"token": token})).await, StatusCode::OK)
        .await;
    pair
}

/// Email verification: sent on sign-up when the app asks, the link's GET spends nothing (a
/// scanner may follow it), its page's POST verifies, and then the email signs in.
async fn email_verification(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    app.patch_config(&owner, "acme", &json!({"verify_email_on_signup": true})).await;
    let pair = app.signup_end_user("acme", "ann").await;
    let message = mail_to(&app, "ann@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Confirm your email for App acme"));
    let link = link_in(&message, "/acme/v1/auth/verify-email?token=");
    assert!(link.starts_with(&app.public_url), "{link}");
    let token = query_param(&link, "token");

    // Not verified yet: the email does not sign in.
    let signin =
        app.post_json("/acme/v1/auth/signin", &json!({"identifier": "ann@example.com", "password": PASSWORD})).await;
    assert_error(signin, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;

    // A scanner's GET, HEAD and a second GET all leave the link working.
    for _ in 0..2 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("<form method=\"post\" action=\"/acme/verify-email?lang=en\""), "{html}");
        assert!(html.contains(&token));
    }
    assert_eq!(app.client.head(&link).send().await.unwrap().status(), StatusCode::OK);

    // The page's form (its redirect followed).
    let browser = crate::hosted::Browser::new(&app);
    let page = browser.get(&link).await;
    let done = browser.submit(&page, "confirm-form", &[]).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.contains("Email confirmed"));
    app.signin_end_user("acme", "ann@example.com").await;
    assert!(app.me("acme", &access_token(&pair)).await["emailVerifiedAt"].is_string());

    // Spent: the link's page says so, and so does the API.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("no longer works"));
    let again = app.post_json("/acme/v1/auth/verify-email", &json!({"token": token})).await;
    assert_error(again, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let resend =
        app.post_json_with_bearer("/acme/v1/auth/send-verification-email", &access_token(&pair), &json!({})).await;
    assert_error(resend, StatusCode::CONFLICT, "CONFLICT").await;
    let anonymous = app.post_json("/acme/v1/auth/send-verification-email", &json!({})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// A forgotten password: the same answer for every address, a link to the hosted page, a
/// policy-checked new password that revokes every session, a mail saying so.
async fn password_reset(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let pair = app.signup_end_user("acme", "bob").await;
    let known = app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "bob@example.com"})).await;
    let unknown = app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "nobody@example.com"})).await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());

    let message = mail_to(&app, "bob@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Reset your App acme password"));
    let link = link_in(&message, "/acme/reset-password?token=");
    let token = query_param(&link, "token");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("type=\"password\""));

    // A reset token is no verify token, and trying it as one spends nothing.
    let wrong = app.post_json("/acme/v1/auth/verify-email", &json!({"token": token})).await;
    assert_error(wrong, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let magic = app.post_json("/acme/v1/auth/sign-in/token", &json!({"token": token})).await;
    assert_error(magic, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    // The policy refuses a weak password without spending the link.
    let weak = app.post_json("/acme/v1/auth/reset-password", &json!({"token": token, "password": "short"})).await;
    assert_error(weak, StatusCode::BAD_REQUEST, "WEAK_PASSWORD").await;

    // Ten parallel redemptions: one wins.
    let attempts = (0..10).map(|i| {
        let app = &app;
        let token = token.clone();
        async move {
            app.post_json(
                "/acme/v1/auth/reset-password",
                &json!({"token": token, "password": format!("NewPassword{i}!")}),
            )
            .await
        }
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");

    // Every session is gone; the old password is dead.
    let refresh = app.post_json("/acme/v1/auth/refresh", &json!({"refresh_token": refresh_token(&pair)})).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let me = app.get_with_bearer("/acme/v1/me", &access_token(&pair)).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let old = app.post_json("/acme/v1/auth/signin", &json!({"identifier": "bob", "password": PASSWORD})).await;
    assert_error(old, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let notice = mail_to(&app, "bob@example.com").await;
    assert_eq!(notice.subject().as_deref(), Some("Your App acme password was changed"));

    // A second request supersedes the first link.
    app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "bob@example.com"})).await;
    let first = query_param(&link_in(&mail_to(&app, "bob@example.com").await, "reset-password"), "token");
    app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "bob@example.com"})).await;
    let second = query_param(&link_in(&mail_to(&app, "bob@example.com").await, "reset-password"), "token");
    let stale =
        app.post_json("/acme/v1/auth/reset-password", &json!({"token": first, "password": "Another1!pass"})).await;
    assert_error(stale, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    // Expired.
    execute_sql(&app, "UPDATE one_time_tokens SET expires_at = 0", "UPDATE one_time_tokens SET expires_at = now()")
        .await;
    let late =
        app.post_json("/acme/v1/auth/reset-password", &json!({"token": second, "password": "Another1!pass"})).await;
    assert_error(late, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    // The hosted page's form works the same way.
    app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "bob@example.com"})).await;
    let link = link_in(&mail_to(&app, "bob@example.com").await, "reset-password");
    let browser = crate::hosted::Browser::new(&app);
    let page = browser.get(&link).await;
    let form = [("password", "FormPassword9!"), ("password_confirm", "FormPassword9!")];
    let done = browser.submit(&page, "reset-form", &form).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.contains("Password changed"));
    app.signin_end_user_with("acme", "bob", "FormPassword9!").await;

    let log =
        json_of(app.get_with_bearer("/api/v1/apps/acme/audit?type=end_user.*", &owner).await, StatusCode::OK).await;
    let types: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(
        types.contains(&"end_user.password_reset_requested") && types.contains(&"end_user.password_reset_completed"),
        "{types:?}"
    );
}

/// Magic links sign in once, only where the app enables them, and redirect only where the
/// app allows.
async fn magic_links(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    verified_user(&app, "acme", "cat").await;
    let ask = |body: Value| {
        let app = &app;
        async move { app.post_json("/acme/v1/auth/magic-link", &body).await }
    };
    assert_error(ask(json!({"email": "cat@example.com"})).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    app.patch_config(
        &owner,
        "acme",
        &json!({"magic_link_enabled": true, "allowed_redirect_urls": ["https://app.example.com/welcome"]}),
    )
    .await;
    let methods = json_of(app.get("/acme/v1/auth/methods").await, StatusCode::OK).await;
    assert_eq!(methods["magic_link"]["enabled"], true);
    assert_eq!(methods["password"]["submit"], format!("{}/acme/v1/auth/signin", app.public_url));

    assert_eq!(ask(json!({"email": "cat@example.com"})).await.status(), StatusCode::OK);
    let link = link_in(&mail_to(&app, "cat@example.com").await, "/acme/v1/auth/sign-in/token?token=");
    let token = query_param(&link, "token");
    assert_eq!(app.client.get(&link).send().await.unwrap().status(), StatusCode::OK);
    let pair =
        json_of(app.post_json("/acme/v1/auth/sign-in/token", &json!({"token": token})).await, StatusCode::OK).await;
    assert_eq!(app.me("acme", &access_token(&pair)).await["email"], "cat@example.com");
    let again = app.post_json("/acme/v1/auth/sign-in/token", &json!({"token": token})).await;
    assert_error(again, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    // With an allowed redirect, the page's form sends the browser there, tokens in the fragment.
    assert_eq!(
        ask(json!({"email": "cat@example.com", "redirectTo": "https://app.example.com/welcome"})).await.status(),
        StatusCode::OK
    );
    let link = link_in(&mail_to(&app, "cat@example.com").await, "sign-in/token");
    let browser = crate::hosted::Browser::new(&app);
    let page = browser.get(&link).await;
    let done = browser.submit_raw(&page, "confirm-form", &[]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://app.example.com/welcome#access_token="), "{location}");

    // Open redirects are refused before anything is sent.
    for evil in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://app.example.com/welcome/x",
    ] {
        let response = ask(json!({"email": "cat@example.com", "redirectTo": evil})).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        let reset = app
            .post_json("/acme/v1/auth/forgot-password", &json!({"email": "cat@example.com", "redirectTo": evil}))
            .await;
        assert_error(reset, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    // An unknown address gets the same answer, and no mail.
    assert_eq!(ask(json!({"email": "ghost@example.com"})).await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.mail.messages().iter().all(|m| !m.to.iter().any(|t| t == "ghost@example.com")));
}

/// Links are built from the public URL, whatever Host or X-Forwarded-Host a request claims.
async fn host_poisoning(app: TestApp) {
    app.app_with_owner("acme").await;
    app.signup_end_user("acme", "dan").await;
    let response = app
        .client
        .post(app.url("/acme/v1/auth/forgot-password"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("Forwarded", "host=evil.example")
        .json(&json!({"email": "dan@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let message = mail_to(&app, "dan@example.com").await;
    for link in message.links() {
        assert!(link.starts_with(&app.public_url) && !link.contains("evil"), "{link}");
    }
    assert!(!message.html_body().unwrap().contains("evil.example"));
}

/// With the SMTP server down, the API answers as usual; the mail goes out once it is back.
async fn smtp_down_then_up(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let port = app.mail.port();
    app.mail.stop().await;
    let started = std::time::Instant::now();
    json_of(invite(&app, &owner, "acme", json!({"email": "patient@example.com"})).await, StatusCode::CREATED).await;
    assert!(started.elapsed() < Duration::from_secs(3), "the API waited for SMTP");
    // The worker's first attempt fails while the sink is down.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sink = testkit::smtp::Sink::start_on(port).await.expect("restart the sink");
    let message =
        sink.wait_for("patient@example.com", Duration::from_secs(30)).await.expect("delivered after recovery");
    assert!(message.text_body().unwrap().contains("inv_"));
    // The worker records the delivery just after the sink has it.
    let mut sent = Value::Null;
    for _ in 0..50 {
        let mail = json_of(app.get_with_bearer("/api/v1/apps/acme/mail", &owner).await, StatusCode::OK).await;
        assert_eq!(mail["dev_outbox"], false, "SMTP is configured: {mail}");
        sent = mail["messages"][0].clone();
        if sent["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sent["status"], "sent", "{sent}");
    assert!(sent["attempts"].as_i64().unwrap() >= 2, "{sent}");
    assert!(sent["text"].is_null(), "a sent message's body is erased: {sent}");
}

/// `check-email` is off unless the app turns it on; then it answers for verified emails.
async fn check_email(app: TestApp) {
    let owner = app.app_with_owner("acme2").await;
    verified_user(&app, "acme2", "eve").await;
    let ask = |email: &'static str| {
        let app = &app;
        async move { app.post_json("/acme2/v1/auth/check-email", &json!({"email": email})).await }
    };
    assert_error(ask("eve@example.com").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    app.patch_config(&owner, "acme2", &json!({"check_email_enabled": true})).await;
    let known = json_of(ask("EVE@example.com").await, StatusCode::OK).await;
    assert_eq!(known, json!({"exists": true, "methods": ["password"]}));
    let unknown = json_of(ask("nobody@example.com").await, StatusCode::OK).await;
    assert_eq!(unknown, json!({"exists": false, "methods": []}));
    assert_error(ask("not-an-email").await, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
}

/// No invite code, link token or password is stored anywhere in the clear, the dev outbox
/// included (bodies are sealed).
async fn no_secret_at_rest(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    json_of(invite(&app, &owner, "acme", json!({"email": "frank@example.com"})).await, StatusCode::CREATED).await;
    let code = invite_code(&app, "frank@example.com").await;
    app.signup_end_user("acme", "gina").await;
    app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "gina@example.com"})).await;
    let token = query_param(&link_in(&mail_to(&app, "gina@example.com").await, "reset-password"), "token");
    let values = stored_values(&app).await;
    for secret in [code.as_str(), token.as_str(), PASSWORD] {
        assert!(
            !values.iter().any(|v| v.windows(secret.len()).any(|w| w == secret.as_bytes())),
            "{secret} is stored in the clear"
        );
    }
}

/// Without SMTP, mail stays in the dev outbox: the console's reader (and only who may change
/// the app's config) sees it whole, link included, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_outbox_keeps_mail_for_the_console() {
    let mut app = TestApp::spawn_without_smtp().await;
    let cleanup = app.take_cleanup();
    let owner = app.app_with_owner("acme").await;
    json_of(invite(&app, &owner, "acme", json!({"email": "dev@example.com"})).await, StatusCode::CREATED).await;
    let mut kept = Value::Null;
    for _ in 0..100 {
        let mail = json_of(app.get_with_bearer("/api/v1/apps/acme/mail", &owner).await, StatusCode::OK).await;
        kept = mail["messages"][0].clone();
        if kept["status"] == "outbox" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kept["status"], "outbox", "{kept}");
    assert_eq!(kept["to"], "dev@example.com");
    assert_eq!(kept["from"], "App acme <auth@rampart.test>");
    let text = kept["text"].as_str().unwrap();
    assert!(text.contains(&format!("{}/acme/accept-invite?code=inv_", app.public_url)), "{text}");
    assert!(kept["html"].as_str().unwrap().contains("accept-invite?code=inv_"));
    assert!(app.mail.messages().is_empty(), "nothing went out");
    // A member without config.update does not read the outbox (it holds sign-in links).
    let member = app.account_token("reader").await;
    assert_error(app.get_with_bearer("/api/v1/apps/acme/mail", &member).await, StatusCode::NOT_FOUND, "NOT_FOUND")
        .await;
    assert_error(app.get("/api/v1/apps/acme/mail").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
}

/// An app's own wording: previewed with example values, refused when it would lose the link,
/// then used for real mail; dropping it brings Rampart's back.
async fn app_templates(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let template = json!({"subject": "Join {{app}}, {{name}}", "text": "Your code: {{code}}\n\nOr follow {{link}} within {{expires}}."});
    let preview = app
        .post_json_with_bearer(
            "/api/v1/apps/acme/mail/preview",
            &owner,
            &json!({"kind": "invite", "template": template}),
        )
        .await;
    let preview = json_of(preview, StatusCode::OK).await;
    assert_eq!(preview["subject"], "Join App acme, Ada Lovelace");
    assert!(
        preview["text"].as_str().unwrap().contains("/acme/accept-invite?code=inv_EXAMPLE within 3 days"),
        "{preview}"
    );
    assert!(preview["html"].as_str().unwrap().contains("<p>Your code: inv_EXAMPLE</p>"), "{preview}");
    let default = json_of(
        app.post_json_with_bearer("/api/v1/apps/acme/mail/preview", &owner, &json!({"kind": "reset_password"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(default["subject"], "Reset your App acme password");
    for bad in [json!({"kind": "fax"}), json!({"kind": "magic_link", "template": {"subject": "s", "text": "no link"}})]
    {
        let response = app.post_json_with_bearer("/api/v1/apps/acme/mail/preview", &owner, &bad).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let lost = app
        .patch_json_with_bearer(
            "/api/v1/apps/acme/config",
            &owner,
            &json!({"mail_templates": {"invite": {"subject": "s", "text": "{{link}}"}}}),
        )
        .await;
    let refused = assert_error(lost, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    assert!(refused["message"].as_str().unwrap().contains("{{code}}"), "{refused}");

    app.patch_config(&owner, "acme", &json!({"mail_templates": {"invite": template}, "mail_from_name": "Acme Team"}))
        .await;
    json_of(
        invite(&app, &owner, "acme", json!({"email": "kim@example.com", "name": "Kim"})).await,
        StatusCode::CREATED,
    )
    .await;
    let message = mail_to(&app, "kim@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Join App acme, Kim"));
    assert_eq!(message.header("From").as_deref(), Some("\"Acme Team\" <auth@rampart.test>"));
    let code = query_param(&link_in(&message, "/accept-invite?code="), "code");
    assert!(message.text_body().unwrap().contains(&format!("Your code: {code}")));

    app.patch_config(&owner, "acme", &json!({"mail_templates": {"invite": null}})).await;
    json_of(invite(&app, &owner, "acme", json!({"email": "lee@example.com"})).await, StatusCode::CREATED).await;
    assert_eq!(mail_to(&app, "lee@example.com").await.subject().as_deref(), Some("You are invited to App acme"));
}

/// The app's branding in its mail: the display name in place of the app's (subject, text,
/// sender), the primary colour on the button, the logo on top, every value escaped; the
/// preview shows the same. Without branding, Rampart's look.
async fn branded_mail(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    app.signup_end_user("acme", "bea").await;
    app.patch_config(
        &owner,
        "acme",
        &json!({"branding": {
            "display_name": "Acme <Labs> & Co",
            "logo_url": "https://cdn.acme.test/logo.png?v=1&s=2",
            "primary_color": "#0a7d5a",
            "css_variables": {"on-primary": "#102030"}
        }}),
    )
    .await;
    let forgot = app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "bea@example.com"})).await;
    assert_eq!(forgot.status(), StatusCode::OK);
    let message = mail_to(&app, "bea@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Reset your Acme <Labs> & Co password"));
    // The sender's name loses its angle brackets (they would end it).
    assert_eq!(message.header("From").as_deref(), Some("Acme Labs & Co <auth@rampart.test>"));
    let text = message.text_body().unwrap();
    assert!(text.ends_with("-- \nAcme <Labs> & Co\n"), "{text}");
    assert!(!text.contains("App acme"), "{text}");
    let html = message.html_body().unwrap();
    assert!(
        html.contains("<img src=\"https://cdn.acme.test/logo.png?v=1&amp;s=2\" alt=\"Acme &lt;Labs&gt; &amp; Co\""),
        "{html}"
    );
    assert!(html.contains("background:#0a7d5a;color:#102030;"), "{html}");
    assert!(!html.contains("<Labs>"), "escaped: {html}");
    // The link still works.
    let token = query_param(&link_in(&message, "/acme/reset-password?token="), "token");
    let reset =
        app.post_json("/acme/v1/auth/reset-password", &json!({"token": token, "password": "BrandNewPass1!"})).await;
    assert_eq!(reset.status(), StatusCode::OK);
    let changed = mail_to(&app, "bea@example.com").await;
    assert_eq!(changed.subject().as_deref(), Some("Your Acme <Labs> & Co password was changed"));

    let preview = json_of(
        app.post_json_with_bearer("/api/v1/apps/acme/mail/preview", &owner, &json!({"kind": "magic_link"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["subject"], "Sign in to Acme <Labs> & Co");
    assert!(preview["html"].as_str().unwrap().contains("background:#0a7d5a;"), "{preview}");

    // A sender name of the app's own still wins; a blank display name brings the app's back.
    app.patch_config(&owner, "acme", &json!({"mail_from_name": "Acme Team", "branding": {"display_name": ""}})).await;
    app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "bea@example.com"})).await;
    let message = mail_to(&app, "bea@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("Reset your App acme password"));
    assert_eq!(message.header("From").as_deref(), Some("\"Acme Team\" <auth@rampart.test>"));
}

async fn delete_json(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client.delete(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

/// Contacts: another email (verified by link before it counts or can be primary), a phone,
/// the current password for every change, the addresses concerned told, the last verified
/// email and the primary never removed.
async fn contacts(app: TestApp) {
    app.app_with_owner("acme").await;
    let pair = app.signup_end_user("acme", "hal").await;
    let token = access_token(&pair);
    let list = |token: String| {
        let app = &app;
        async move { json_of(app.get_with_bearer("/acme/v1/me/contacts", &token).await, StatusCode::OK).await }
    };
    let contacts = list(token.clone()).await;
    assert_eq!(contacts["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(contacts["contacts"][0]["primary"], true);
    assert_eq!(contacts["contacts"][0]["verified"], false);

    let add = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.post_json_with_bearer("/acme/v1/me/contacts", &token, &body).await }
    };
    assert_error(
        add(json!({"kind": "email", "value": "hal2@example.com"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_error(
        add(json!({"kind": "email", "value": "hal2@example.com", "password": "wrong-password"})).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_error(
        add(json!({"kind": "fax", "value": "1", "password": PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_error(
        add(json!({"kind": "phone", "value": "555-0123", "password": PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PHONE",
    )
    .await;
    let added = json_of(
        add(json!({"kind": "email", "value": "hal2@example.com", "password": PASSWORD})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!((added["primary"].clone(), added["verified"].clone()), (json!(false), json!(false)));
    assert_error(
        add(json!({"kind": "email", "value": "HAL2@example.com", "password": PASSWORD})).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    let phone = json_of(
        add(json!({"kind": "phone", "value": "+1 (415) 555-0123", "password": PASSWORD})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(phone["value"], "+14155550123");
    let notice = mail_to(&app, "hal@example.com").await;
    assert_eq!(notice.subject().as_deref(), Some("Your App acme account's contact details changed"));
    assert!(notice.text_body().unwrap().contains("hal2@example.com was added"));
    assert!(mail_to(&app, "hal@example.com").await.text_body().unwrap().contains("+14155550123 was added"));

    // Unverified, it can be neither primary nor a sign-in identifier.
    let id = added["id"].as_str().unwrap().to_owned();
    let primary = format!("/acme/v1/me/contacts/{id}/primary");
    assert_error(
        app.post_json_with_bearer(&primary, &token, &json!({"password": PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    let link = link_in(&mail_to(&app, "hal2@example.com").await, "verify-email?token=");
    json_of(
        app.post_json("/acme/v1/auth/verify-email", &json!({"token": query_param(&link, "token")})).await,
        StatusCode::OK,
    )
    .await;
    app.signin_end_user("acme", "hal2@example.com").await;

    // The last verified email stays.
    let path = format!("/acme/v1/me/contacts/{id}");
    assert_error(
        delete_json(&app, &path, &token, json!({"password": PASSWORD})).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    // Primary now; the old primary address is told.
    let made =
        json_of(app.post_json_with_bearer(&primary, &token, &json!({"password": PASSWORD})).await, StatusCode::OK)
            .await;
    assert_eq!(made["primary"], true);
    assert!(mail_to(&app, "hal@example.com").await.text_body().unwrap().contains("primary email changed"));
    assert_eq!(app.me("acme", &token).await["email"], "hal2@example.com");
    // The primary is never removed; the old one goes, with the password, and is told.
    assert_error(
        delete_json(&app, &path, &token, json!({"password": PASSWORD})).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    let old = contacts["contacts"][0]["id"].as_str().unwrap();
    let old_path = format!("/acme/v1/me/contacts/{old}");
    let nobody = app.signup_end_user("acme", "ivy").await;
    assert_error(
        delete_json(&app, &old_path, &access_token(&nobody), json!({"password": PASSWORD})).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(app.delete_with_bearer(&old_path, &token).await, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    assert_eq!(
        delete_json(&app, &old_path, &token, json!({"password": PASSWORD})).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(mail_to(&app, "hal@example.com").await.text_body().unwrap().contains("hal@example.com was removed"));
    let left: Vec<String> = list(token.clone()).await["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, ["hal2@example.com", "+14155550123"]);
}

both_stores!(
    app_templates,
    branded_mail,
    contacts,
    seed_000_invite,
    invite_rules,
    email_verification,
    password_reset,
    magic_links,
    host_poisoning,
    smtp_down_then_up,
    check_email,
    no_secret_at_rest,
);
