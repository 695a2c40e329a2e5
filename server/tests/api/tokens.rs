//! Access tokens that must not pass: forgeries of every classic kind, expired tokens, and
//! tokens of one app presented to another.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::Utc;
use domain::keys::Signer;
use domain::tokens::Claims;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, both_stores, json_of, TestApp};
use crate::quickstart::verify_with_jwks;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(part: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(part).unwrap()
}

fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let (h, p, s) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    assert!(it.next().is_none());
    (h.to_owned(), p.to_owned(), s.to_owned())
}

fn payload_of(token: &str) -> Value {
    serde_json::from_slice(&unb64(&parts(token).1)).unwrap()
}

// A minimal DER encoder, enough to write an RSA public key the ways HMAC key-confusion
// attacks feed it in as a "secret".
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn der_uint(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::new();
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(bytes);
    der(0x02, &content)
}

/// The public key of a JWK in every form an HMAC key-confusion attack feeds it in as a
/// "secret": the raw key (RSA `n`; Ed25519 `x`), PKCS#1 DER (RSA), SPKI DER and PEM, and the
/// JWK itself.
fn public_key_encodings(jwk: &Value) -> Vec<Vec<u8>> {
    let (mut out, spki) = match jwk["kty"].as_str() {
        Some("RSA") => {
            let n = unb64(jwk["n"].as_str().unwrap());
            let e = unb64(jwk["e"].as_str().unwrap());
            let pkcs1 = der(0x30, &[der_uint(&n), der_uint(&e)].concat());
            // rsaEncryption OID 1.2.840.113549.1.1.1, NULL parameters.
            let algorithm = der(
                0x30,
                &[der(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]), der(0x05, &[])].concat(),
            );
            let spki = der(0x30, &[algorithm, der(0x03, &[&[0u8][..], &pkcs1].concat())].concat());
            (vec![n, pkcs1], spki)
        }
        Some("OKP") => {
            let x = unb64(jwk["x"].as_str().unwrap());
            // id-Ed25519 OID 1.3.101.112, no parameters.
            let algorithm = der(0x30, &der(0x06, &[0x2b, 0x65, 0x70]));
            let spki = der(0x30, &[algorithm, der(0x03, &[&[0u8][..], &x].concat())].concat());
            (vec![x], spki)
        }
        other => panic!("no encodings for kty {other:?}"),
    };
    let body = STANDARD.encode(&spki);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));
    out.extend([spki, pem.into_bytes(), serde_json::to_vec(jwk).unwrap()]);
    out
}

/// A signer over the app's own private key, as the engine keeps it (sealed with the master
/// key the test started the server with).
pub async fn signer_of(app: &TestApp, slug: &str) -> Signer {
    let record = app.engine.app(slug).await.unwrap();
    let keys = app.engine.store().signing_keys(record.id).await.unwrap();
    let key = keys.iter().find(|k| k.active).expect("an active key");
    Signer::open(&app.master_key, &key.kid, &key.alg, &key.private_sealed).unwrap()
}

/// A signer over a brand-new key the app has never seen; with `kid` given, it claims that
/// key id (a right `kid` on a wrong key).
fn stranger_signer(app: &TestApp, kid: Option<&str>) -> Signer {
    let fresh = domain::keys::generate(domain::keys::SigningAlg::Rs256, &app.master_key).unwrap();
    match kid {
        None => Signer::open(&app.master_key, &fresh.kid, fresh.alg, &fresh.private_sealed).unwrap(),
        Some(kid) => {
            let pkcs8 = app.master_key.open(&fresh.private_sealed, fresh.kid.as_bytes()).unwrap();
            let resealed = app.master_key.seal(&pkcs8, kid.as_bytes()).unwrap();
            Signer::open(&app.master_key, kid, fresh.alg, &resealed).unwrap()
        }
    }
}

fn claims_of(token: &str) -> Claims {
    serde_json::from_value(payload_of(token)).unwrap()
}

/// Every forgery of `genuine` (a live access token of `slug`) that a verifier must refuse,
/// each with a name for the failure message.
async fn forgeries(app: &TestApp, slug: &str, genuine: &str, other_user: &str) -> Vec<(String, String)> {
    let (header, payload, signature) = parts(genuine);
    let header_json: Value = serde_json::from_slice(&unb64(&header)).unwrap();
    let kid = header_json["kid"].as_str().unwrap().to_owned();
    let claims = payload_of(genuine);
    let jwks = app.jwks(slug).await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();

    let mut out = Vec::new();

    // alg: none, with and without a signature, in several spellings.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = b64(&serde_json::to_vec(&json!({ "alg": alg, "typ": "JWT", "kid": kid })).unwrap());
        out.push((format!("alg {alg}, empty signature"), format!("{h}.{payload}.")));
        out.push((format!("alg {alg}, original signature"), format!("{h}.{payload}.{signature}")));
    }
    let h = b64(&serde_json::to_vec(&json!({ "typ": "JWT", "kid": kid })).unwrap());
    out.push(("no alg at all".into(), format!("{h}.{payload}.")));

    // HS256 keyed with the public key, in every encoding an attacker might try.
    for (i, secret) in public_key_encodings(&jwk).into_iter().enumerate() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut h = Header::new(alg);
            h.kid = Some(kid.clone());
            let token = encode(&h, &claims, &EncodingKey::from_secret(&secret)).unwrap();
            out.push((format!("{alg:?} with public key encoding #{i}"), token));
        }
    }
    out.push(("HS256 with the key's base64url string".into(), {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.clone());
        let text = jwk["n"].as_str().or(jwk["x"].as_str()).unwrap();
        encode(&h, &claims, &EncodingKey::from_secret(text.as_bytes())).unwrap()
    }));

    // The genuine signature over a changed payload.
    let tamper = |change: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        change(&mut c);
        format!("{header}.{}.{signature}", b64(&serde_json::to_vec(&c).unwrap()))
    };
    out.push(("tampered sub".into(), tamper(&|c| c["sub"] = json!(other_user))));
    out.push(("tampered role".into(), tamper(&|c| c["role"] = json!("owner"))));
    out.push(("tampered exp".into(), tamper(&|c| c["exp"] = json!(c["exp"].as_i64().unwrap() + 86_400))));
    out.push(("tampered aud".into(), tamper(&|c| c["aud"] = json!("elsewhere"))));
    // Header changes under the same signature.
    let other_header = |h: Value| format!("{}.{payload}.{signature}", b64(&serde_json::to_vec(&h).unwrap()));
    out.push(("header without kid".into(), other_header(json!({ "alg": "RS256", "typ": "JWT" }))));
    out.push((
        "unknown kid, genuine signature".into(),
        other_header(json!({ "alg": "RS256", "typ": "JWT", "kid": "0".repeat(32) })),
    ));
    out.push((
        "kid path traversal".into(),
        other_header(json!({ "alg": "RS256", "typ": "JWT", "kid": "../../etc/passwd" })),
    ));
    out.push(("RS512 header".into(), other_header(json!({ "alg": "RS512", "typ": "JWT", "kid": kid }))));
    out.push(("signature stripped".into(), format!("{header}.{payload}.")));
    out.push(("signature flipped".into(), {
        let mut sig = unb64(&signature);
        sig[0] ^= 1;
        format!("{header}.{payload}.{}", b64(&sig))
    }));

    // Correctly signed RS256, but by a key the app never published.
    let now = Utc::now().timestamp();
    let mut fresh = claims_of(genuine);
    fresh.iat = now;
    fresh.exp = now + 600;
    out.push(("unknown kid, own key".into(), stranger_signer(app, None).sign(&fresh).unwrap()));
    out.push(("right kid, wrong key".into(), stranger_signer(app, Some(&kid)).sign(&fresh).unwrap()));

    // Signed with the app's real key, but with claims the server must still refuse.
    let signer = signer_of(app, slug).await;
    let signed = |change: &dyn Fn(&mut Claims)| {
        let mut c = fresh.clone();
        change(&mut c);
        signer.sign(&c).unwrap()
    };
    out.push(("wrong issuer".into(), signed(&|c| c.iss = format!("{}/elsewhere", app.address))));
    out.push(("issuer of another host".into(), signed(&|c| c.iss = format!("https://evil.example/{slug}"))));
    out.push(("wrong audience".into(), signed(&|c| c.aud = "elsewhere".into())));
    out.push(("sub of another user".into(), signed(&|c| c.sub = other_user.to_owned())));
    out.push(("unknown session".into(), signed(&|c| c.sid = uuid::Uuid::new_v4().to_string())));
    out.push(("sid not a uuid".into(), signed(&|c| c.sid = "x".into())));
    out.push(("sub not a uuid".into(), signed(&|c| c.sub = "x".into())));

    // Garbage.
    for (name, token) in [
        ("empty segments", ".."),
        ("one segment", "abc"),
        ("random", "eyJhbGciOiJSUzI1NiJ9.garbage.garbage"),
        ("four segments", "a.b.c.d"),
        ("not base64", "%%%.%%%.%%%"),
    ] {
        out.push((name.into(), token.into()));
    }
    out
}

/// `GET path` with each forged token: 401 in the documented shape, never anything else.
async fn assert_all_refused(app: &TestApp, path: &str, forged: &[(String, String)]) {
    for (name, token) in forged {
        let response = app.get_with_bearer(path, token).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {name}: {body}");
        crate::helpers::assert_error_shape(&body, status);
    }
}

async fn forged_tokens_are_refused(app: TestApp) {
    let account = app.signup_account("victim").await;
    let other_account = app.signup_account("bystander").await;
    let account_token = access_token(&account);
    let other_account_id = claims_of(&access_token(&other_account)).sub;
    app.create_app_ok(&account_token, "forge").await;
    let user = app.signup_end_user("forge", "enduser").await;
    let other_user = app.signup_end_user("forge", "otheruser").await;
    let user_token = access_token(&user);
    let other_user_id = claims_of(&access_token(&other_user)).sub;

    // The genuine tokens pass, so every refusal below is down to the forgery.
    json_of(app.get_with_bearer("/v1/auth/me", &account_token).await, StatusCode::OK).await;
    json_of(app.get_with_bearer("/forge/v1/me", &user_token).await, StatusCode::OK).await;

    let forged = forgeries(&app, "platform", &account_token, &other_account_id).await;
    assert!(forged.len() > 40);
    assert_all_refused(&app, "/v1/auth/me", &forged).await;
    assert_all_refused(&app, "/v1/apps", &forged).await;
    let forged = forgeries(&app, "forge", &user_token, &other_user_id).await;
    assert_all_refused(&app, "/forge/v1/me", &forged).await;

    // The harness itself can mint a token the server accepts: the refusals above are real.
    let signer = signer_of(&app, "forge").await;
    let mut claims = claims_of(&user_token);
    claims.jti = uuid::Uuid::new_v4().to_string();
    json_of(app.get_with_bearer("/forge/v1/me", &signer.sign(&claims).unwrap()).await, StatusCode::OK).await;
}

async fn expired_tokens_are_refused(app: TestApp) {
    let account_token = app.account_token("sleeper").await;
    app.create_app_ok(&account_token, "timely").await;
    let user_token = access_token(&app.signup_end_user("timely", "dozer").await);
    let now = Utc::now().timestamp();
    for (slug, token, path) in [("platform", &account_token, "/v1/auth/me"), ("timely", &user_token, "/timely/v1/me")] {
        let signer = signer_of(&app, slug).await;
        let mut claims = claims_of(token);
        claims.iat = now - 7200;
        claims.exp = now - 3600;
        let expired = signer.sign(&claims).unwrap();
        assert_error(app.get_with_bearer(path, &expired).await, StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED").await;
        // Just past the leeway the server allows for clock skew.
        claims.exp = now - 60;
        assert_error(
            app.get_with_bearer(path, &signer.sign(&claims).unwrap()).await,
            StatusCode::UNAUTHORIZED,
            "TOKEN_EXPIRED",
        )
        .await;
        // An expired token with a tampered exp is a forgery, not a renewal.
        let (h, _, s) = parts(&expired);
        let mut payload = payload_of(&expired);
        payload["exp"] = json!(now + 3600);
        let tampered = format!("{h}.{}.{s}", b64(&serde_json::to_vec(&payload).unwrap()));
        assert_error(app.get_with_bearer(path, &tampered).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        // Missing exp is refused rather than taken as "never expires".
        let mut no_exp = payload_of(token);
        no_exp.as_object_mut().unwrap().remove("exp");
        let response = app.get_with_bearer(path, &signer.sign(&no_exp).unwrap()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
}

async fn missing_and_garbage_bearers(app: TestApp) {
    let account_token = app.account_token("plain").await;
    app.create_app_ok(&account_token, "gate").await;
    for path in ["/v1/auth/me", "/api/v1/auth/me", "/v1/apps", "/gate/v1/me", "/v1/introspect/apps/gate"] {
        assert_error(app.get(path).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        for header in [
            "Bearer",
            "Bearer ",
            "Bearer garbage",
            "Bearer a.b.c",
            "Basic dXNlcjpwYXNz",
            &format!("Token {account_token}"),
            &format!("Bearer {account_token}x"),
            &format!("Bearer x{account_token}"),
        ] {
            let response =
                app.client.get(app.url(path)).header(reqwest::header::AUTHORIZATION, header).send().await.unwrap();
            assert_error(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        }
    }
    // The scheme is case-insensitive.
    let response = app
        .client
        .get(app.url("/v1/auth/me"))
        .header(reqwest::header::AUTHORIZATION, format!("bearer {account_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn tokens_stay_in_their_app(app: TestApp) {
    let account_token = app.account_token("landlord").await;
    app.create_app_ok(&account_token, "app-a").await;
    app.create_app_ok(&account_token, "app-b").await;
    // The same username in two apps: two unrelated users.
    let a_user = app.signup_end_user("app-a", "tenant").await;
    let b_user = app.signup_end_user("app-b", "tenant").await;
    let a_token = access_token(&a_user);
    let b_token = access_token(&b_user);
    let a_me = json_of(app.get_with_bearer("/app-a/v1/me", &a_token).await, StatusCode::OK).await;
    let b_me = json_of(app.get_with_bearer("/app-b/v1/me", &b_token).await, StatusCode::OK).await;
    assert_ne!(a_me["id"], b_me["id"]);

    // A's token at B's API, and at the platform API.
    assert_error(app.get_with_bearer("/app-b/v1/me", &a_token).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
        .await;
    for path in ["/v1/auth/me", "/v1/apps", "/v1/introspect/apps/app-a", "/v1/apps/app-a", "/platform/v1/me"] {
        let response = app.get_with_bearer(path, &a_token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        crate::helpers::assert_error_shape(&response.json().await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let response =
        app.post_json_with_bearer("/v1/apps", &a_token, &json!({ "slug": "sneaky", "displayName": "Sneaky" })).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // An account token is not an end-user token of any app.
    for path in ["/app-a/v1/me", "/app-b/v1/me"] {
        assert_error(app.get_with_bearer(path, &account_token).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
            .await;
    }
    // Refresh tokens do not cross either.
    for (path, token) in [
        ("/app-b/v1/auth/refresh", crate::helpers::refresh_token(&a_user)),
        ("/v1/auth/refresh", crate::helpers::refresh_token(&a_user)),
        ("/app-a/v1/auth/logout", crate::helpers::refresh_token(&b_user)),
    ] {
        assert_error(
            app.post_json(path, &json!({ "refresh_token": token })).await,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        )
        .await;
    }
    // A user of B does not exist in A.
    app.signup_end_user("app-b", "onlyinb").await;
    assert_error(
        app.post_json(
            "/app-a/v1/auth/signin",
            &json!({ "identifier": "onlyinb", "password": crate::helpers::PASSWORD }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;

    // Locally, with a standard library: A's token verifies for A only.
    verify_with_jwks(&app, "app-a", &a_token).await;
    let b_jwks = app.jwks("app-b").await;
    let kid = decode_header(&a_token).unwrap().kid.unwrap();
    assert!(!b_jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()), "A's kid is in B's JWKS");
    let a_jwks = app.jwks("app-a").await;
    let key_of =
        |jwk: &Value| DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let pinned = |slug: &str| {
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[app.issuer(slug)]);
        v.set_audience(&[slug]);
        v
    };
    // B's keys, B's issuer and audience: the signature fails.
    for jwk in b_jwks["keys"].as_array().unwrap() {
        let err = decode::<Value>(&a_token, &key_of(jwk), &pinned("app-b")).unwrap_err();
        assert!(matches!(err.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature), "{err:?}");
        // Even ignoring issuer and audience.
        let mut loose = Validation::new(Algorithm::RS256);
        loose.validate_aud = false;
        assert!(decode::<Value>(&a_token, &key_of(jwk), &loose).is_err());
    }
    // A's own key, but B's issuer and audience pinned: refused on the claims.
    let a_key = key_of(&a_jwks["keys"][0]);
    let err = decode::<Value>(&a_token, &a_key, &pinned("app-b")).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            jsonwebtoken::errors::ErrorKind::InvalidIssuer | jsonwebtoken::errors::ErrorKind::InvalidAudience
        ),
        "{err:?}"
    );
    let mut only_aud = Validation::new(Algorithm::RS256);
    only_aud.set_audience(&["app-b"]);
    let err = decode::<Value>(&a_token, &a_key, &only_aud).unwrap_err();
    assert!(matches!(err.kind(), jsonwebtoken::errors::ErrorKind::InvalidAudience), "{err:?}");
}

both_stores!(
    forged_tokens_are_refused,
    expired_tokens_are_refused,
    missing_and_garbage_bearers,
    tokens_stay_in_their_app,
);
