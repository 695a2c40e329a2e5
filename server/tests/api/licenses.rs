//! License keys (seed 002 "04 — License Keys"): issued through the management API with the
//! key shown once, activated, verified online and offline (the license token through the
//! app's JWKS with a standard JWT library), deactivated, revoked, extended and expired; the
//! activation limit under parallel activations; what a backend without the app's
//! credentials, a key of another app, a mistyped key and a key guesser get.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::audit::{census, events};
use crate::credentials::create_credential;
use crate::helpers::{access_token, assert_error, both_stores, execute_sql, json_of, TestApp};

/// An app's backend: its slug and credentials.
pub struct Backend {
    pub slug: String,
    pub app_id: String,
    pub secret: String,
}

impl Backend {
    pub async fn new(app: &TestApp, owner: &str, slug: &str) -> Backend {
        let (app_id, secret) = create_credential(app, owner, slug).await;
        Backend { slug: slug.to_owned(), app_id, secret }
    }

    /// `POST /{slug}/v1/licenses/{action}` with the credentials, the key and the device.
    pub async fn call(&self, app: &TestApp, action: &str, key: &str, device: &str) -> Response {
        let body = json!({
            "app_id": self.app_id,
            "app_secret": self.secret,
            "license_key": key,
            "device_fingerprint": device,
            "device_name": format!("{device}'s laptop"),
        });
        app.post_json(&format!("/{}/v1/licenses/{action}", self.slug), &body).await
    }

    pub async fn activate(&self, app: &TestApp, key: &str, device: &str) -> Value {
        json_of(self.call(app, "activate", key, device).await, StatusCode::OK).await
    }

    pub async fn verify(&self, app: &TestApp, key: &str, device: &str) -> Value {
        json_of(self.call(app, "verify", key, device).await, StatusCode::OK).await
    }
}

/// Issues a license through the API, asserting it worked; returns the answer (with the key).
pub async fn issue(app: &TestApp, token: &str, slug: &str, body: Value) -> Value {
    let path = format!("/api/v1/apps/{slug}/licenses");
    json_of(app.post_json_with_bearer(&path, token, &body).await, StatusCode::CREATED).await
}

/// The end-user's id, from its `me`.
pub async fn user_id(app: &TestApp, slug: &str, pair: &Value) -> String {
    app.me(slug, &access_token(pair)).await["id"].as_str().unwrap().to_owned()
}

/// The license token's claims, checked as a device would offline: signature against the
/// app's JWKS, issuer and audience pinned, `exp` checked, by `jsonwebtoken`.
pub async fn offline_claims(app: &TestApp, slug: &str, token: &str) -> Value {
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("license+jwt"), "{header:?}");
    let kid = header.kid.expect("a kid");
    let jwks = app.jwks(slug).await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let key = DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk).unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[app.issuer(slug)]);
    validation.set_audience(&[slug]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    decode::<Value>(token, &key, &validation).unwrap().claims
}

fn is_key_shaped(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups.iter().all(|g| g.len() == 5 && g.bytes().all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)))
}

/// Seed 002's license flow from issue to revocation, on one key and three devices.
async fn seed_002_license_flow(app: TestApp) {
    let owner = app.app_with_owner("desk").await;
    let backend = Backend::new(&app, &owner, "desk").await;
    let pair = app.signup_end_user("desk", "ada").await;
    let ada = user_id(&app, "desk", &pair).await;

    // Issue: the key once, in the typeable shape; the license without it.
    let issued = issue(
        &app,
        &owner,
        "desk",
        json!({"product_id": "desk_pro", "user_id": ada, "max_activations": 2, "metadata": {"seats": 2}}),
    )
    .await;
    let key = issued["license_key"].as_str().unwrap().to_owned();
    assert!(is_key_shaped(&key), "{key}");
    assert_eq!(issued["key_prefix"], key[..5]);
    assert_eq!(issued["status"], "active");
    assert_eq!((issued["max_activations"].as_i64(), issued["activation_count"].as_i64()), (Some(2), Some(0)));
    assert_eq!(issued["user_id"], ada.as_str());
    assert_eq!(issued["expires_at"], Value::Null);
    assert_eq!(issued["metadata"], json!({"seats": 2}));
    let id = issued["id"].as_str().unwrap().to_owned();
    let list = app.get_with_bearer("/api/v1/apps/desk/licenses", &owner).await.text().await.unwrap();
    assert!(!list.contains(&key) && !list.contains(&key[6..]), "a key is listed: {list}");
    assert!(list.contains(&id));

    // Activate: an activation and a license token that verifies offline.
    let first = backend.activate(&app, &key, "device-a").await;
    let activation = first["activation_id"].as_str().unwrap().to_owned();
    assert_eq!(first["license_id"], id.as_str());
    assert_eq!(first["product_id"], "desk_pro");
    assert_eq!(first["activation_count"], 1);
    let claims = offline_claims(&app, "desk", first["license_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["product"], "desk_pro");
    assert_eq!(claims["fingerprint"], "device-a");
    assert_eq!(claims["aid"], activation.as_str());
    assert_eq!(claims["user"], ada.as_str());
    let ttl = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(ttl, 14 * 86_400, "a perpetual license's token lasts the longest a token may: {claims}");
    assert!(claims.get("sid").is_none() && claims.get("license_exp").is_none(), "{claims}");

    // Again on the same device: the same activation, not a second one.
    let again = backend.activate(&app, &key, "device-a").await;
    assert_eq!(again["activation_id"], activation.as_str());
    assert_eq!(again["activation_count"], 1);

    // Verify online: valid here, not activated elsewhere.
    let verified = backend.verify(&app, &key, "device-a").await;
    assert_eq!((verified["valid"].as_bool(), verified["status"].as_str()), (Some(true), Some("active")), "{verified}");
    assert_eq!(verified["activation_id"], activation.as_str());
    let fresh = offline_claims(&app, "desk", verified["license_token"].as_str().unwrap()).await;
    assert_eq!(fresh["aid"], activation.as_str());
    let elsewhere = backend.verify(&app, &key, "device-b").await;
    assert_eq!(elsewhere["valid"], false);
    assert_eq!(elsewhere["status"], "not_activated");
    assert!(elsewhere["reason"].as_str().unwrap().contains("not activated"), "{elsewhere}");
    assert_eq!(elsewhere["license_token"], Value::Null);

    // The limit: two devices, the third refused until one gives its activation back.
    backend.activate(&app, &key, "device-b").await;
    let third = backend.call(&app, "activate", &key, "device-c").await;
    assert_error(third, StatusCode::CONFLICT, "ACTIVATION_LIMIT_REACHED").await;
    let gone = json_of(backend.call(&app, "deactivate", &key, "device-a").await, StatusCode::OK).await;
    assert_eq!(gone, json!({"deactivated": true, "activation_id": activation, "license_id": id}));
    let twice = backend.call(&app, "deactivate", &key, "device-a").await;
    assert_error(twice, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(backend.verify(&app, &key, "device-a").await["status"], "not_activated");
    backend.activate(&app, &key, "device-c").await;

    // The license with its activations, live ones first.
    let detail =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/desk/licenses/{id}"), &owner).await, StatusCode::OK).await;
    assert_eq!(detail["activation_count"], 2);
    let activations = detail["activations"].as_array().unwrap();
    assert_eq!(activations.len(), 3, "{detail}");
    assert!(activations[..2].iter().all(|a| a["deactivated_at"].is_null()));
    assert_eq!(activations[2]["id"], activation.as_str());
    assert_eq!(activations[2]["device_name"], "device-a's laptop");
    assert!(activations[2]["deactivated_at"].is_string());
    assert!(activations[2]["last_verified_at"].is_string(), "the verification was recorded: {detail}");

    // Revoke: every device stops verifying; it cannot be activated, revoked or extended.
    let path = format!("/api/v1/apps/desk/licenses/{id}");
    let revoked =
        json_of(app.post_json_with_bearer(&format!("{path}/revoke"), &owner, &json!({})).await, StatusCode::OK).await;
    assert_eq!(revoked["status"], "revoked");
    let verified = backend.verify(&app, &key, "device-b").await;
    assert_eq!((verified["valid"].as_bool(), verified["status"].as_str()), (Some(false), Some("revoked")));
    assert_error(backend.call(&app, "activate", &key, "device-d").await, StatusCode::FORBIDDEN, "LICENSE_REVOKED")
        .await;
    let again = app.post_json_with_bearer(&format!("{path}/revoke"), &owner, &json!({})).await;
    assert_error(again, StatusCode::CONFLICT, "CONFLICT").await;
    let later = json!({"expires_at": "2099-01-01T00:00:00Z"});
    let extend = app.post_json_with_bearer(&format!("{path}/extend"), &owner, &later).await;
    assert_error(extend, StatusCode::CONFLICT, "CONFLICT").await;
    // A revoked license's device may still give its activation back.
    json_of(backend.call(&app, "deactivate", &key, "device-b").await, StatusCode::OK).await;

    // Every step is in the log, failures as failures.
    let log = events(&app, &owner, "desk", &[]).await;
    let counts = census(&log);
    for (kind, n) in [
        ("license.issued", 1),
        ("license.activated", 3),
        ("license.activation_refused", 2),
        ("license.deactivated", 2),
        ("license.revoked", 1),
        ("license.verify_failed", 3),
    ] {
        assert_eq!(counts.get(kind).copied().unwrap_or(0), n, "{kind}: {counts:?}");
    }
    assert!(log.iter().filter(|e| e["type"] == "license.verify_failed").all(|e| e["outcome"] == "failure"));
    assert!(!serde_json::to_string(&log).unwrap().contains(&key[6..]), "a key in the log");
}

/// A license expires; its token never outlives it; extending brings it back.
async fn expiry(app: TestApp) {
    let owner = app.app_with_owner("timed").await;
    let backend = Backend::new(&app, &owner, "timed").await;
    let in_an_hour = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let issued = issue(
        &app,
        &owner,
        "timed",
        json!({"product_id": "trial", "max_activations": 1, "expires_at": domain::time_format::format(&in_an_hour)}),
    )
    .await;
    let (key, id) = (issued["license_key"].as_str().unwrap(), issued["id"].as_str().unwrap());
    let activated = backend.activate(&app, key, "laptop").await;
    let claims = offline_claims(&app, "timed", activated["license_token"].as_str().unwrap()).await;
    assert_eq!(claims["exp"].as_i64(), Some(in_an_hour.timestamp()), "the token ends with the license: {claims}");
    assert_eq!(claims["license_exp"].as_i64(), Some(in_an_hour.timestamp()));

    // Time passes.
    execute_sql(
        &app,
        &format!("UPDATE licenses SET expires_at = 1000 WHERE key_prefix = '{}'", &key[..5]),
        &format!("UPDATE licenses SET expires_at = now() - interval '1 minute' WHERE key_prefix = '{}'", &key[..5]),
    )
    .await;
    let verified = backend.verify(&app, key, "laptop").await;
    assert_eq!((verified["valid"].as_bool(), verified["status"].as_str()), (Some(false), Some("expired")));
    assert_error(backend.call(&app, "activate", key, "laptop").await, StatusCode::FORBIDDEN, "LICENSE_EXPIRED").await;
    let listed =
        json_of(app.get_with_bearer("/api/v1/apps/timed/licenses?status=expired", &owner).await, StatusCode::OK).await;
    assert_eq!(listed["licenses"][0]["id"], id);

    // Extending: into the past is refused; into the future revives it.
    let path = format!("/api/v1/apps/timed/licenses/{id}/extend");
    let past = app.post_json_with_bearer(&path, &owner, &json!({"expires_at": "2001-01-01T00:00:00Z"})).await;
    assert_error(past, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let extended = json_of(
        app.post_json_with_bearer(&path, &owner, &json!({"expires_at": "2099-01-01T00:00:00Z"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(extended["status"], "active");
    assert_eq!(extended["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(backend.verify(&app, key, "laptop").await["valid"], true);
    let counts = census(&events(&app, &owner, "timed", &[]).await);
    assert_eq!(counts.get("license.extended"), Some(&1), "{counts:?}");
}

/// Twenty devices activate a key of three activations at once: exactly three get in.
async fn parallel_activations(app: TestApp) {
    let owner = app.app_with_owner("rush").await;
    let backend = std::sync::Arc::new(Backend::new(&app, &owner, "rush").await);
    let issued = issue(&app, &owner, "rush", json!({"product_id": "pro", "max_activations": 3})).await;
    let key = issued["license_key"].as_str().unwrap().to_owned();
    let app = std::sync::Arc::new(app);
    let mut racers = Vec::new();
    for n in 0..20 {
        let (app, backend, key) = (app.clone(), backend.clone(), key.clone());
        racers.push(tokio::spawn(async move {
            let response = backend.call(&app, "activate", &key, &format!("device-{n}")).await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut won = 0;
    for racer in racers {
        let (status, body) = racer.await.unwrap();
        match status {
            StatusCode::OK => won += 1,
            StatusCode::CONFLICT => assert_eq!(body["error"], "ACTIVATION_LIMIT_REACHED", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(won, 3);
    let id = issued["id"].as_str().unwrap();
    let detail =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/rush/licenses/{id}"), &owner).await, StatusCode::OK).await;
    assert_eq!(detail["activation_count"], 3);
    assert_eq!(detail["activations"].as_array().unwrap().len(), 3);

    // The same device racing itself gets one activation.
    let issued = issue(&app, &owner, "rush", json!({"product_id": "pro", "max_activations": 5})).await;
    let key = issued["license_key"].as_str().unwrap().to_owned();
    let mut racers = Vec::new();
    for _ in 0..8 {
        let (app, backend, key) = (app.clone(), backend.clone(), key.clone());
        racers.push(tokio::spawn(async move { backend.activate(&app, &key, "one-device").await }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for racer in racers {
        ids.insert(racer.await.unwrap()["activation_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
}

/// Without the app's credentials nothing is said about a key; another app's key, a mistyped
/// key and a license token as a bearer are refused; typing slack is forgiven.
async fn keys_stay_in_their_app(app: TestApp) {
    let owner = app.app_with_owner("mine").await;
    let backend = Backend::new(&app, &owner, "mine").await;
    let theirs_owner = app.app_with_owner("theirs").await;
    let theirs = Backend::new(&app, &theirs_owner, "theirs").await;
    let key = issue(&app, &owner, "mine", json!({"product_id": "pro", "max_activations": 2})).await["license_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let their_key = issue(&app, &theirs_owner, "theirs", json!({"product_id": "pro", "max_activations": 2})).await
        ["license_key"]
        .as_str()
        .unwrap()
        .to_owned();

    // Wrong secret, no secret, another app's credentials: one answer.
    let wrong = Backend { secret: "ras_wrong".into(), ..Backend::new(&app, &owner, "mine").await };
    let borrowed = Backend { slug: "mine".into(), app_id: theirs.app_id.clone(), secret: theirs.secret.clone() };
    for action in ["activate", "verify", "deactivate"] {
        for caller in [&wrong, &borrowed] {
            let response = caller.call(&app, action, &key, "d1").await;
            assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_APP_CREDENTIALS").await;
        }
    }
    let bare = app.post_json("/mine/v1/licenses/verify", &json!({"license_key": key, "device_fingerprint": "d"})).await;
    assert_error(bare, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    // Another app's key is no key here, and the other way round.
    let response = backend.call(&app, "activate", &their_key, "d1").await;
    let body = assert_error(response, StatusCode::BAD_REQUEST, "LICENSE_INVALID").await;
    assert_eq!(body["message"], "No license of this app has this key");
    assert_error(theirs.call(&app, "verify", &key, "d1").await, StatusCode::BAD_REQUEST, "LICENSE_INVALID").await;

    // One symbol changed: the check symbol catches it before any lookup.
    let mut tampered: Vec<char> = key.chars().collect();
    tampered[3] = if tampered[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let body =
        assert_error(backend.call(&app, "activate", &tampered, "d1").await, StatusCode::BAD_REQUEST, "LICENSE_INVALID")
            .await;
    assert!(body["message"].as_str().unwrap().contains("mistyped"), "{body}");
    for junk in ["", "not a key", &"Z".repeat(100)] {
        assert_error(backend.call(&app, "verify", junk, "d1").await, StatusCode::BAD_REQUEST, "LICENSE_INVALID").await;
    }

    // Lowercase, spaces instead of hyphens, O for 0: the same key.
    let sloppy = key.to_lowercase().replace('-', " ").replace('0', "o");
    let activated = backend.activate(&app, &sloppy, "d1").await;
    assert_eq!(backend.activate(&app, &key, "d1").await["activation_id"], activated["activation_id"]);

    // Bad devices.
    for device in ["", " ", &"x".repeat(257), "a\u{0}b"] {
        let response = backend.call(&app, "activate", &key, device).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }

    // A license token is no access token, here or anywhere.
    let token = activated["license_token"].as_str().unwrap();
    for path in ["/mine/v1/me", "/mine/v1/me/entitlements", "/theirs/v1/me"] {
        assert_error(app.get_with_bearer(path, token).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    assert_error(app.get_with_bearer("/api/v1/apps", token).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // The platform app has no license routes.
    let response = app.post_json("/platform/v1/licenses/verify", &json!({})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// Guessing keys counts as failed credential checks from the caller's IP: past the limit,
/// even the right key is refused with `429`.
async fn guessing_keys_is_rate_limited(app: TestApp) {
    let owner = app.app_with_owner("guard").await;
    app.patch_config(&owner, "guard", &json!({"rate_limit_credential_failures_per_ip": 3})).await;
    let backend = Backend::new(&app, &owner, "guard").await;
    let key = issue(&app, &owner, "guard", json!({"product_id": "pro", "max_activations": 2})).await["license_key"]
        .as_str()
        .unwrap()
        .to_owned();
    backend.activate(&app, &key, "mine").await;
    // Well-formed keys nobody holds, and a mistyped one.
    let mut mistyped: Vec<char> = key.chars().collect();
    mistyped[0] = if mistyped[0] == 'A' { 'B' } else { 'A' };
    let guesses = [
        domain::licenses::LicenseKey::generate().display(),
        domain::licenses::LicenseKey::generate().display(),
        mistyped.into_iter().collect::<String>(),
    ];
    for guess in &guesses {
        assert_error(backend.call(&app, "verify", guess, "mine").await, StatusCode::BAD_REQUEST, "LICENSE_INVALID")
            .await;
    }
    for action in ["verify", "activate"] {
        let response = backend.call(&app, action, &key, "mine").await;
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_error(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_EXCEEDED").await;
        assert!(retry_after.is_some(), "a 429 says when to retry");
    }
    let counts = census(&events(&app, &owner, "guard", &[]).await);
    assert_eq!(counts.get("license.verify_failed"), Some(&3), "{counts:?}");
}

both_stores!(
    seed_002_license_flow,
    expiry,
    parallel_activations,
    keys_stay_in_their_app,
    guessing_keys_is_rate_limited
);
