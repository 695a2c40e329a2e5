//! Per-app signing algorithms: an app made with `signing_alg` ES256 or EdDSA publishes that
//! key, signs with it, and its tokens verify the way a backend verifies them (JWKS + pinned
//! algorithm); forgeries across algorithms are refused; bad choices store nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use domain::keys::{generate, Signer, SigningAlg};
use domain::tokens::Claims;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp};
use crate::tokens::signer_of;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Verifies `token` as an independent backend would: the JWK named by its `kid`, from the
/// app's JWKS, with the algorithm the JWK states.
async fn verify_externally(app: &TestApp, slug: &str, token: &str, alg: Algorithm) -> Value {
    let jwks = app.jwks(slug).await;
    let kid = decode_header(token).unwrap().kid.expect("kid");
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("key in JWKS");
    let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[app.issuer(slug)]);
    validation.set_audience(&[slug]);
    decode::<Value>(token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation).unwrap().claims
}

async fn create_with_alg(app: &TestApp, owner: &str, slug: &str, alg: &Value) -> reqwest::Response {
    app.post_json_with_bearer("/api/v1/apps", owner, &json!({ "slug": slug, "displayName": slug, "signing_alg": alg }))
        .await
}

async fn each_algorithm_signs_and_verifies(app: TestApp) {
    let owner = app.account_token("keyowner").await;
    for (slug, alg, jose, kty, crv) in [
        ("rsa-app", "RS256", Algorithm::RS256, "RSA", None),
        ("ec-app", "ES256", Algorithm::ES256, "EC", Some("P-256")),
        ("ed-app", "EdDSA", Algorithm::EdDSA, "OKP", Some("Ed25519")),
    ] {
        json_of(create_with_alg(&app, &owner, slug, &json!(alg)).await, StatusCode::CREATED).await;
        let jwks = app.jwks(slug).await;
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{jwks}");
        assert_eq!((keys[0]["alg"].as_str(), keys[0]["kty"].as_str()), (Some(alg), Some(kty)), "{jwks}");
        assert_eq!(keys[0]["crv"].as_str(), crv, "{jwks}");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(keys[0].get(private).is_none(), "private member {private} published: {jwks}");
        }

        let pair = app.signup_end_user(slug, "signer").await;
        let token = access_token(&pair);
        assert_eq!(decode_header(&token).unwrap().alg, jose);
        let claims = verify_externally(&app, slug, &token, jose).await;
        assert_eq!(claims["aud"], slug);
        json_of(app.get_with_bearer(&format!("/{slug}/v1/me"), &token).await, StatusCode::OK).await;

        // Refreshed tokens are signed the same way.
        let refreshed = json_of(
            app.post_json(&format!("/{slug}/v1/auth/refresh"), &json!({ "refresh_token": refresh_token(&pair) })).await,
            StatusCode::OK,
        )
        .await;
        verify_externally(&app, slug, &access_token(&refreshed), jose).await;

        let discovery =
            json_of(app.get(&format!("/{slug}/v1/.well-known/openid-configuration")).await, StatusCode::OK).await;
        assert_eq!(discovery["id_token_signing_alg_values_supported"], json!([alg]), "{discovery}");
    }
    // No choice means RS256.
    json_of(create_with_alg(&app, &owner, "default-app", &Value::Null).await, StatusCode::CREATED).await;
    assert_eq!(app.jwks("default-app").await["keys"][0]["alg"], "RS256");
}

async fn bad_choices_are_refused_and_store_nothing(app: TestApp) {
    let owner = app.account_token("picky").await;
    for bad in [json!("HS256"), json!("none"), json!("rs256"), json!(""), json!("PS256"), json!("ES384")] {
        let body = assert_error(
            create_with_alg(&app, &owner, "picky-app", &bad).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
        assert!(body["message"].as_str().unwrap().contains("signing_alg"), "{bad}: {body}");
    }
    for bad in [json!(256), json!(["EdDSA"]), json!({ "alg": "EdDSA" })] {
        let response = create_with_alg(&app, &owner, "picky-app", &bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    // Nothing was half-made: the slug is still free and the app list is empty.
    let list = json_of(app.get_with_bearer("/api/v1/apps", &owner).await, StatusCode::OK).await;
    assert_eq!(list["apps"], json!([]), "{list}");
    json_of(create_with_alg(&app, &owner, "picky-app", &json!("EdDSA")).await, StatusCode::CREATED).await;
}

/// A signer of `alg` over a key the server never saw, claiming the key id `kid`.
fn impostor(app: &TestApp, alg: SigningAlg, kid: &str) -> Signer {
    let fresh = generate(alg, &app.master_key).unwrap();
    let pkcs8 = app.master_key.open(&fresh.private_sealed, fresh.kid.as_bytes()).unwrap();
    let resealed = app.master_key.seal(&pkcs8, kid.as_bytes()).unwrap();
    Signer::open(&app.master_key, kid, fresh.alg, &resealed).unwrap()
}

async fn forgeries_across_algorithms_are_refused(app: TestApp) {
    let owner = app.account_token("forger").await;
    json_of(create_with_alg(&app, &owner, "ed-target", &json!("EdDSA")).await, StatusCode::CREATED).await;
    json_of(create_with_alg(&app, &owner, "ec-target", &json!("ES256")).await, StatusCode::CREATED).await;
    for slug in ["ed-target", "ec-target"] {
        let genuine = access_token(&app.signup_end_user(slug, "victim").await);
        let path = format!("/{slug}/v1/me");
        json_of(app.get_with_bearer(&path, &genuine).await, StatusCode::OK).await;
        let mut parts = genuine.split('.');
        let (header, payload, signature) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let kid = decode_header(&genuine).unwrap().kid.unwrap();
        let mut claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims.jti = uuid::Uuid::new_v4().to_string();
        let jwk = app.jwks(slug).await["keys"][0].clone();
        let x = jwk["x"].as_str().unwrap().to_owned();

        let mut forged: Vec<(String, String)> = Vec::new();
        // The right kid on a key of every algorithm, the app's own included.
        for alg in SigningAlg::ALL {
            forged.push((format!("{} impostor key", alg.as_str()), impostor(&app, alg, &kid).sign(&claims).unwrap()));
        }
        // The genuine signature under a header naming another algorithm.
        let own = decode_header(&genuine).unwrap().alg;
        for alg in
            ["RS256", "ES256", "ES384", "EdDSA", "HS256", "none"].into_iter().filter(|a| format!("{own:?}") != *a)
        {
            let h = b64(&serde_json::to_vec(&json!({ "alg": alg, "typ": "JWT", "kid": kid })).unwrap());
            forged.push((format!("header alg {alg}"), format!("{h}.{payload}.{signature}")));
        }
        // HMAC keyed with the public key material.
        for secret in [x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(&x).unwrap(), jwk.to_string().into_bytes()] {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(kid.clone());
            forged.push((
                "HS256 with public key".into(),
                encode(&h, &claims, &EncodingKey::from_secret(&secret)).unwrap(),
            ));
        }
        // A tampered payload under the genuine signature, and a stripped signature.
        let mut tampered = claims.clone();
        tampered.role = "owner".into();
        let tampered = b64(&serde_json::to_vec(&tampered).unwrap());
        forged.push(("tampered role".into(), format!("{header}.{tampered}.{signature}")));
        forged.push(("signature stripped".into(), format!("{header}.{payload}.")));
        // A token the other algorithm's app signed, presented here.
        let other = if slug == "ed-target" { "ec-target" } else { "ed-target" };
        forged.push(("token of the other app".into(), signer_of(&app, other).await.sign(&claims).unwrap()));

        for (name, token) in &forged {
            let response = app.get_with_bearer(&path, token).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{slug}: {name}");
        }
        // The harness can mint a token the server accepts, so the refusals are real.
        json_of(app.get_with_bearer(&path, &signer_of(&app, slug).await.sign(&claims).unwrap()).await, StatusCode::OK)
            .await;
    }
}

both_stores!(
    each_algorithm_signs_and_verifies,
    bad_choices_are_refused_and_store_nothing,
    forgeries_across_algorithms_are_refused
);
