//! Seed 002's passwordless OTP sign-in (issue 13): codes by email (real SMTP into the test's
//! sink) and by SMS (a real HTTP request to the test's Twilio-shaped endpoint), with the
//! app's credentials; and the attacks: wrong secrets, reuse, expiry, guessing, racing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, both_stores, execute_sql, json_of, mail_to, TestApp, MAIL_WAIT};

/// Creates the app with an owner and a credential; answers (owner token, app_id, app_secret).
async fn app_with_credentials(app: &TestApp, slug: &str) -> (String, String, String) {
    let owner = app.app_with_owner(slug).await;
    let created = json_of(
        app.post_json_with_bearer(&format!("/v1/apps/{slug}/credentials"), &owner, &json!({"name": "backend"})).await,
        StatusCode::CREATED,
    )
    .await;
    let app_id = created["app_id"].as_str().expect("app_id").to_owned();
    let secret = created["app_secret"].as_str().expect("app_secret").to_owned();
    (owner, app_id, secret)
}

/// The first run of exactly six digits.
fn code_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(5))
        .find(|&i| {
            chars[i..i + 6].iter().all(char::is_ascii_digit)
                && (i == 0 || !chars[i - 1].is_ascii_digit())
                && chars.get(i + 6).is_none_or(|c| !c.is_ascii_digit())
        })
        .map(|i| chars[i..i + 6].iter().collect())
        .unwrap_or_else(|| panic!("no code in {text}"))
}

async fn send(app: &TestApp, slug: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/{slug}/v1/auth/send-otp"), &body).await
}

async fn verify(app: &TestApp, slug: &str, app_id: &str, secret: &str, request: &str, otp: &str) -> reqwest::Response {
    app.post_json(
        &format!("/{slug}/v1/auth/verify-otp"),
        &json!({"app_id": app_id, "app_secret": secret, "otp_request_id": request, "otp": otp}),
    )
    .await
}

/// By email: the code arrives by mail, the first sign-in makes the user with a verified
/// email and no password, the next one finds the same user.
async fn otp_by_email(app: TestApp) {
    let (owner, app_id, secret) = app_with_credentials(&app, "attendance-app").await;
    let sent = json_of(
        send(&app, "attendance-app", json!({"app_id": app_id, "app_secret": secret, "email": "Ravi@Example.com"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sent["expires_in"], 300);
    let request = sent["otp_request_id"].as_str().unwrap().to_owned();
    let message = mail_to(&app, "ravi@example.com").await;
    let code = code_in(&message.text_body().unwrap());
    assert_eq!(message.subject().unwrap(), format!("{code} is your App attendance-app code"));

    let pair = json_of(verify(&app, "attendance-app", &app_id, &secret, &request, &code).await, StatusCode::OK).await;
    let me = app.me("attendance-app", &access_token(&pair)).await;
    assert_eq!(me["email"], "ravi@example.com");
    assert!(me["emailVerifiedAt"].is_string(), "{me}");

    // Again: the same user, a second session; the code of the first request is spent.
    assert_error(
        verify(&app, "attendance-app", &app_id, &secret, &request, &code).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;
    let sent = json_of(
        send(&app, "attendance-app", json!({"appId": app_id, "appSecret": secret, "email": "ravi@example.com"})).await,
        StatusCode::OK,
    )
    .await;
    let again = sent["otp_request_id"].as_str().unwrap().to_owned();
    assert_ne!(again, request);
    let code = code_in(&mail_to(&app, "ravi@example.com").await.text_body().unwrap());
    let pair = json_of(verify(&app, "attendance-app", &app_id, &secret, &again, &code).await, StatusCode::OK).await;
    assert_eq!(app.me("attendance-app", &access_token(&pair)).await["id"], me["id"]);

    // The log has the sign-up and both sign-ins, and no code anywhere.
    let events =
        json_of(app.get_with_bearer("/v1/apps/attendance-app/audit", &owner).await, StatusCode::OK).await.to_string();
    assert!(events.contains("end_user.signed_up") && events.contains("otp.sent"), "{events}");
    assert!(!events.contains(&code), "a code in the log");
}

/// By phone: the code goes to the SMS provider as a Twilio form POST with its credentials;
/// the user's phone is verified.
async fn otp_by_phone(app: TestApp) {
    let (_, app_id, secret) = app_with_credentials(&app, "field-app").await;
    let sent = json_of(
        send(&app, "field-app", json!({"app_id": app_id, "app_secret": secret, "phone": "+1 (415) 555-0123"})).await,
        StatusCode::OK,
    )
    .await;
    let text = app.sms.wait_for("+14155550123", MAIL_WAIT).await.expect("a text message");
    assert_eq!(text.credentials.as_deref(), Some("ACtest:sms-token"));
    assert_eq!(text.path, "/2010-04-01/Accounts/ACtest/Messages.json");
    assert_eq!(text.from, "Rampart");
    let code = text.code().expect("a code in the text");
    assert!(text.body.contains("App field-app"), "{}", text.body);
    let pair = json_of(
        verify(&app, "field-app", &app_id, &secret, sent["otp_request_id"].as_str().unwrap(), &code).await,
        StatusCode::OK,
    )
    .await;
    let contacts =
        json_of(app.get_with_bearer("/field-app/v1/me/contacts", &access_token(&pair)).await, StatusCode::OK)
            .await
            .to_string();
    assert!(contacts.contains("+14155550123"), "{contacts}");
    assert!(contacts.contains("\"verified\":true"), "{contacts}");
}

/// Refusals: wrong or another app's credentials, a bad phone, both or neither contact, a
/// closed sign-up, OTP turned off; and nothing is sent for any of them.
async fn otp_refusals(app: TestApp) {
    let (owner, app_id, secret) = app_with_credentials(&app, "strict").await;
    let (_, other_id, other_secret) = app_with_credentials(&app, "elsewhere").await;
    for (id, key) in [(app_id.as_str(), "wrong-secret"), ("app_unknown", secret.as_str()), (&other_id, &other_secret)] {
        let response = send(&app, "strict", json!({"app_id": id, "app_secret": key, "email": "a@example.com"})).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS").await;
    }
    let bad_phone = send(&app, "strict", json!({"app_id": app_id, "app_secret": secret, "phone": "555-0123"})).await;
    assert_error(bad_phone, StatusCode::BAD_REQUEST, "INVALID_PHONE").await;
    let both = send(
        &app,
        "strict",
        json!({"app_id": app_id, "app_secret": secret, "phone": "+14155550123", "email": "a@example.com"}),
    )
    .await;
    assert_error(both, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let missing = send(&app, "strict", json!({"app_id": app_id})).await;
    assert_eq!(missing.status().as_u16() / 100, 4);
    assert_eq!(app.sms.requests(), 0);

    // Sign-up closed: an unknown contact gets its code (the answer says nothing), and the
    // right code is refused with SIGNUP_DISABLED.
    app.patch_config(&owner, "strict", &json!({"signup_enabled": false})).await;
    let sent = json_of(
        send(&app, "strict", json!({"app_id": app_id, "app_secret": secret, "email": "new@example.com"})).await,
        StatusCode::OK,
    )
    .await;
    let code = code_in(&mail_to(&app, "new@example.com").await.text_body().unwrap());
    let refused = verify(&app, "strict", &app_id, &secret, sent["otp_request_id"].as_str().unwrap(), &code).await;
    assert_error(refused, StatusCode::FORBIDDEN, "SIGNUP_DISABLED").await;

    app.patch_config(&owner, "strict", &json!({"otp_enabled": false})).await;
    let off = send(&app, "strict", json!({"app_id": app_id, "app_secret": secret, "email": "new@example.com"})).await;
    assert_error(off, StatusCode::FORBIDDEN, "FORBIDDEN").await;
}

/// Five tries per request, then the request is dead even for the right code; a resend keeps
/// the count and makes the old code useless; an expired code fails; sends to one address are
/// throttled.
async fn otp_attempts_expiry_and_resend(app: TestApp) {
    let (owner, app_id, secret) = app_with_credentials(&app, "guarded").await;
    let ask = |email: &'static str| {
        let app = &app;
        let body = json!({"app_id": app_id, "app_secret": secret, "email": email});
        async move {
            json_of(send(app, "guarded", body).await, StatusCode::OK).await["otp_request_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let wrong = |code: &str| if code == "000000" { "000001".to_owned() } else { "000000".to_owned() };

    // Five wrong tries: the right code then fails too.
    let request = ask("five@example.com").await;
    let code = code_in(&mail_to(&app, "five@example.com").await.text_body().unwrap());
    for left in (0..5).rev() {
        let body = assert_error(
            verify(&app, "guarded", &app_id, &secret, &request, &wrong(&code)).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_OTP",
        )
        .await;
        assert!(body["message"].as_str().unwrap().contains(&left.to_string()) || left == 0, "{body}");
    }
    assert_error(
        verify(&app, "guarded", &app_id, &secret, &request, &code).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;

    // A resend: the same request, a new code, the old one useless, the tries kept.
    let request = ask("resend@example.com").await;
    let first = code_in(&mail_to(&app, "resend@example.com").await.text_body().unwrap());
    for _ in 0..3 {
        let _ = verify(&app, "guarded", &app_id, &secret, &request, &wrong(&first)).await;
    }
    let resent = ask("resend@example.com").await;
    assert_eq!(resent, request, "a resend keeps its request");
    let second = code_in(&mail_to(&app, "resend@example.com").await.text_body().unwrap());
    if second != first {
        assert_error(
            verify(&app, "guarded", &app_id, &secret, &request, &first).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_OTP",
        )
        .await;
    } else {
        let _ = verify(&app, "guarded", &app_id, &secret, &request, &wrong(&first)).await;
    }
    let _ = verify(&app, "guarded", &app_id, &secret, &request, &wrong(&second)).await;
    // 3 + 2 tries: dead.
    assert_error(
        verify(&app, "guarded", &app_id, &secret, &request, &second).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;

    // Expired.
    let request = ask("late@example.com").await;
    let code = code_in(&mail_to(&app, "late@example.com").await.text_body().unwrap());
    execute_sql(
        &app,
        "UPDATE otp_requests SET expires_at = expires_at - 600000",
        "UPDATE otp_requests SET expires_at = expires_at - interval '10 minutes'",
    )
    .await;
    assert_error(
        verify(&app, "guarded", &app_id, &secret, &request, &code).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;

    // Sends to one address are throttled (5 per window by default): a sixth is refused.
    app.patch_config(&owner, "guarded", &json!({"rate_limit_otp_per_destination": 2})).await;
    ask("busy@example.com").await;
    ask("busy@example.com").await;
    let third =
        send(&app, "guarded", json!({"app_id": app_id, "app_secret": secret, "email": "busy@example.com"})).await;
    assert_error(third, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_EXCEEDED").await;
}

/// 100 parallel guesses, the right code among them: at most five are compared, and the
/// right one does not get in past them.
async fn parallel_guesses(app: TestApp) {
    let (owner, app_id, secret) = app_with_credentials(&app, "racy").await;
    app.patch_config(&owner, "racy", &json!({"rate_limit_redeem_per_ip": 1000})).await;
    let sent = json_of(
        send(&app, "racy", json!({"app_id": app_id, "app_secret": secret, "email": "race@example.com"})).await,
        StatusCode::OK,
    )
    .await;
    let request = sent["otp_request_id"].as_str().unwrap().to_owned();
    let code = code_in(&mail_to(&app, "race@example.com").await.text_body().unwrap());
    let wrong = if code == "000000" { "000001".to_owned() } else { "000000".to_owned() };
    let guesses = (0..100).map(|i| {
        let (client, url) = (app.client.clone(), app.url("/racy/v1/auth/verify-otp"));
        let otp = if i == 50 { code.clone() } else { wrong.clone() };
        let body = json!({"app_id": app_id, "app_secret": secret, "otp_request_id": request, "otp": otp});
        tokio::spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status();
            (i, status, response.json::<Value>().await.unwrap())
        })
    });
    let answers: Vec<(usize, StatusCode, Value)> =
        futures_util::future::join_all(guesses).await.into_iter().map(|r| r.unwrap()).collect();
    let compared = answers
        .iter()
        .filter(|(_, status, body)| {
            *status == StatusCode::OK || body["message"].as_str().is_some_and(|m| m.starts_with("Wrong code"))
        })
        .count();
    assert!(compared <= 5, "{compared} guesses compared");
    assert!(answers.iter().all(|(_, s, _)| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED), "{answers:?}");
    let successes = answers.iter().filter(|(_, s, _)| *s == StatusCode::OK).count();
    assert!(successes <= 1);
    // Whatever happened, the request is finished now.
    assert_error(
        verify(&app, "racy", &app_id, &secret, &request, &code).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;
}

/// A signed-in user proves a phone they added with a code sent to it; a contact code is no
/// sign-in code; afterwards OTP sign-in by that phone finds the same user.
async fn phone_contact_verified_by_code(app: TestApp) {
    let (_, app_id, secret) = app_with_credentials(&app, "phones").await;
    let pair = app.signup_end_user("phones", "ivy").await;
    let token = access_token(&pair);
    let added = json_of(
        app.post_json_with_bearer(
            "/phones/v1/me/contacts",
            &token,
            &json!({"kind": "phone", "value": "+44 20 7946 0958", "password": crate::helpers::PASSWORD}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(added["verified"], false);
    let id = added["id"].as_str().unwrap().to_owned();
    let sent = json_of(
        app.post_json_with_bearer(&format!("/phones/v1/me/contacts/{id}/verification"), &token, &json!({})).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let code = app.sms.wait_for("+442079460958", MAIL_WAIT).await.expect("a text").code().expect("a code");
    // Not a sign-in code.
    let request = sent["otp_request_id"].as_str().unwrap();
    assert_error(
        verify(&app, "phones", &app_id, &secret, request, &code).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let verify_path = format!("/phones/v1/me/contacts/{id}/verify");
    assert_error(
        app.post_json_with_bearer(&verify_path, &token, &json!({"code": wrong})).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_OTP",
    )
    .await;
    let verified =
        json_of(app.post_json_with_bearer(&verify_path, &token, &json!({"code": code})).await, StatusCode::OK).await;
    assert_eq!(verified["verified"], true);
    assert_error(
        app.post_json_with_bearer(&verify_path, &token, &json!({"code": code})).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;

    // OTP sign-in by that phone is the same user.
    let sent = json_of(
        send(&app, "phones", json!({"app_id": app_id, "app_secret": secret, "phone": "+442079460958"})).await,
        StatusCode::OK,
    )
    .await;
    let code = app.sms.wait_for("+442079460958", MAIL_WAIT).await.expect("a text").code().expect("a code");
    let signed_in = json_of(
        verify(&app, "phones", &app_id, &secret, sent["otp_request_id"].as_str().unwrap(), &code).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app.me("phones", &access_token(&signed_in)).await["id"], app.me("phones", &token).await["id"]);
}

both_stores!(
    otp_by_email,
    otp_by_phone,
    otp_refusals,
    otp_attempts_expiry_and_resend,
    parallel_guesses,
    phone_contact_verified_by_code
);
