//! Who reads the audit log (issue 11): members holding `audit.read` and keys with that
//! scope, nobody else; an end-user's (or account's) own activity; and what the log, like the
//! rest of the database, never holds: a password, a token or a key's secret.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_keys::create_key;
use crate::audit::{account_id, census, events, member_with, party, refresh, signin, user_and_session, verify};
use crate::credentials::create_credential;
use crate::helpers::{
    access_token, assert_error, both_stores, json_of, refresh_token, stored_values, TestApp, PASSWORD,
};

/// The log, its verification and its export: `audit.read` through a member's role or a key's
/// scopes (403 without it), nothing for callers with no standing on the app (404).
async fn who_may_read_the_log(app: TestApp) {
    let owner = app.app_with_owner("guarded").await;
    let other_owner = app.app_with_owner("other").await;
    let again = app.post_json("/v1/auth/signin", &json!({ "identifier": "other-owner", "password": PASSWORD })).await;
    json_of(again, StatusCode::OK).await;
    app.signup_end_user("guarded", "ada").await;
    let end_user = access_token(&app.signin_end_user("guarded", "ada").await);

    // A member whose role lacks audit.read.
    let bob = member_with(&app, &owner, "guarded", "bob", &["app.read"]).await;
    json_of(app.get_with_bearer("/api/v1/apps/guarded", &bob).await, StatusCode::OK).await;
    let carol = app.account_token("carol").await;
    let (_, reader) = create_key(&app, &owner, "guarded", &["audit.read"]).await;
    let (_, lister) = create_key(&app, &owner, "guarded", &["user.list"]).await;
    let (_, stranger) = create_key(&app, &other_owner, "other", &["audit.read"]).await;

    for path in ["/api/v1/apps/guarded/audit", "/api/v1/apps/guarded/audit/verify", "/api/v1/apps/guarded/audit/export"]
    {
        let body = assert_error(app.get_with_bearer(path, &bob).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        assert!(body["message"].as_str().unwrap().contains("audit.read"), "{body}");
        assert_error(app.get_with_bearer(path, &lister).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        // No standing on the app: it is not there.
        assert_error(app.get_with_bearer(path, &carol).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        assert_error(app.get_with_bearer(path, &stranger).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        assert_error(app.get(path).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        // End-users are not callers of the management API.
        let response = app.get_with_bearer(path, &end_user).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let response = app.get_with_bearer(path, &reader).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert!(!events(&app, &reader, "guarded", &[]).await.is_empty());
    assert_eq!(verify(&app, &reader, "guarded").await["valid"], true);
    // That other app's key found nothing here; its owner reads its own log.
    assert!(!events(&app, &other_owner, "other", &[]).await.is_empty());

    // Accounts see their own activity through the platform's consumer API.
    let activity = json_of(app.get_with_bearer("/platform/v1/me/activity", &bob).await, StatusCode::OK).await;
    let kinds: Vec<&str> = activity["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["account.signed_up"], "{activity}");
    assert_eq!(activity["events"][0]["actor"], party("account", &account_id(&app, &bob).await));
    let other_kinds =
        json_of(app.get_with_bearer("/platform/v1/me/activity", &other_owner).await, StatusCode::OK).await;
    let other_kinds: Vec<&str> =
        other_kinds["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(other_kinds, ["account.signed_in", "account.signed_up"]);
}

/// Issue 11: no password, token or key secret in any stored value, the audit events included.
async fn no_secret_is_ever_stored(app: TestApp) {
    let owner_password = "Owner-Passphrase-Unique-4417";
    let response = app
        .post_json(
            "/v1/auth/signup",
            &json!({ "email": "vault-owner@example.com", "username": "vault-owner", "password": owner_password }),
        )
        .await;
    let owner_pair = json_of(response, StatusCode::CREATED).await;
    let owner = access_token(&owner_pair);
    app.create_app_ok(&owner, "vault").await;
    let password = "Vault-User-Passphrase-9921";
    let signup = app
        .post_json(
            "/vault/v1/auth/signup",
            &json!({ "email": "ada@example.com", "username": "ada", "password": password }),
        )
        .await;
    let mut pairs = vec![owner_pair, json_of(signup, StatusCode::CREATED).await];
    let signed_in = app.signin_end_user_with("vault", "ada", password).await;
    pairs.push(json_of(refresh(&app, "vault", &refresh_token(&signed_in)).await, StatusCode::OK).await);
    pairs.push(signed_in);
    // Refused sign-ins: a wrong guess, a password typed into the identifier field, and a name
    // nobody has (not kept either: it may be a password too).
    let guess = "Wrong-Guess-Passphrase-3310";
    for (identifier, typed) in [("ada", guess), (password, password), ("Mistyped-Identifier-7781", guess)] {
        let refused = signin(&app, "vault", identifier, typed, None).await;
        assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    }
    let (_, secret) = create_key(&app, &owner, "vault", &["user.list", "rampart.signup.create"]).await;
    json_of(app.get_with_bearer("/api/v1/apps/vault/end-users", &secret).await, StatusCode::OK).await;
    // An app credential, rotated (so a previous secret is kept too), each secret used.
    let (credential, first_secret) = create_credential(&app, &owner, "vault").await;
    let rotate = format!("/api/v1/apps/vault/credentials/{credential}/rotate");
    let rotated = json_of(app.post_json_with_bearer(&rotate, &owner, &json!({})).await, StatusCode::OK).await;
    let app_secret = rotated["app_secret"].as_str().unwrap().to_owned();
    let mut latest = refresh_token(&pairs[2]);
    for used in [&first_secret, &app_secret] {
        let body = json!({ "app_id": credential, "app_secret": used, "refresh_token": latest });
        let pair = json_of(app.post_json("/vault/v1/auth/refresh", &body).await, StatusCode::OK).await;
        latest = refresh_token(&pair);
        pairs.push(pair);
    }
    app.engine.sequence_audit().await.unwrap();

    let log = events(&app, &owner, "vault", &[]).await;
    for kind in ["end_user.signed_up", "end_user.signed_in", "end_user.token_refreshed", "api_key.used"] {
        assert!(log.iter().any(|e| e["type"] == kind), "{kind} in {:?}", census(&log));
    }
    assert_eq!(log.iter().filter(|e| e["type"] == "end_user.signin_failed").count(), 3);
    let mut secrets: Vec<String> = vec![
        owner_password.into(),
        password.into(),
        guess.into(),
        "Mistyped-Identifier-7781".into(),
        secret.clone(),
        secret[secret.len() / 2..].to_owned(),
        first_secret.clone(),
        app_secret.clone(),
        app_secret[app_secret.len() / 2..].to_owned(),
    ];
    for pair in &pairs {
        secrets.push(access_token(pair));
        secrets.push(refresh_token(pair));
    }
    let values = stored_values(&app).await;
    assert!(values.iter().any(|v| String::from_utf8_lossy(v).contains("signin_failed")), "the log is scanned");
    for value in &values {
        for secret in &secrets {
            let found = value.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a secret is stored: {}", String::from_utf8_lossy(value));
        }
    }
    // Nor does the API's view of the log hold one.
    let text = serde_json::to_string(&log).unwrap();
    assert!(secrets.iter().all(|s| !text.contains(s.as_str())));
}

/// `GET /{slug}/v1/me/activity`: the user's own sign-ins, sign-outs and refused sign-ins,
/// not their token refreshes and not anyone else's.
async fn my_activity_is_mine(app: TestApp) {
    let owner = app.app_with_owner("diary").await;
    let first = app.signup_end_user("diary", "ada").await;
    let (ada, _) = user_and_session(&app, "diary", &first).await;
    let grace = app.signup_end_user("diary", "grace").await;
    app.signin_end_user("diary", "grace").await;
    let refused = signin(&app, "diary", "grace", "not-the-password", None).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let pair = app.signin_end_user("diary", "ada").await;
    let refused = signin(&app, "diary", "ada", "not-the-password", None).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let mut current = pair;
    for _ in 0..3 {
        current = json_of(refresh(&app, "diary", &refresh_token(&current)).await, StatusCode::OK).await;
    }
    let response = app.post_json("/diary/v1/auth/logout", &json!({ "refresh_token": refresh_token(&first) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    app.engine.sequence_audit().await.unwrap();

    let token = access_token(&current);
    let activity = json_of(app.get_with_bearer("/diary/v1/me/activity", &token).await, StatusCode::OK).await;
    let mine = activity["events"].as_array().unwrap();
    let kinds: Vec<&str> = mine.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["end_user.signed_out", "end_user.signin_failed", "end_user.signed_in", "end_user.signed_up"],
        "{activity}"
    );
    for event in mine {
        assert_eq!(event["subject"], party("end_user", &ada), "{event}");
    }
    assert_eq!(mine[1]["outcome"], "failure");
    assert_eq!(mine[1]["details"]["reason"], "wrong_password");
    // The refreshes are in the app's log all the same.
    let refreshes = events(&app, &owner, "diary", &[("type", "end_user.token_refreshed")]).await;
    assert_eq!(refreshes.len(), 3);

    // Grace sees hers.
    let hers = json_of(app.get_with_bearer("/diary/v1/me/activity", &access_token(&grace)).await, StatusCode::OK).await;
    let kinds: Vec<&str> = hers["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["end_user.signin_failed", "end_user.signed_in", "end_user.signed_up"]);

    let limited = json_of(app.get_with_bearer("/diary/v1/me/activity?limit=2", &token).await, StatusCode::OK).await;
    assert_eq!(limited["events"].as_array().unwrap()[..], mine[..2]);
    for bad in ["0", "101", "many"] {
        let response = app.get_with_bearer(&format!("/diary/v1/me/activity?limit={bad}"), &token).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    assert_error(app.get("/diary/v1/me/activity").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // Another app's token is nobody here.
    let response = app.get_with_bearer("/diary/v1/me/activity", &owner).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

both_stores!(who_may_read_the_log, no_secret_is_ever_stored, my_activity_is_mine);
