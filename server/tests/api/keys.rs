//! Signing key rotation (`/api/v1/apps/{slug}/keys`): a rotation makes a new key sign while
//! tokens signed before it keep verifying (through Rampart and through PyJWT against the
//! JWKS), an emergency revocation refuses them at once, on every node; permissions, bad
//! input, races and the schedule.

use jsonwebtoken::decode_header;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::helpers::{access_token, assert_error, execute_sql, json_of, run_pair, TestApp};

fn kid_of(token: &str) -> String {
    decode_header(token).expect("JWT header").kid.expect("kid")
}

fn jwks_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}

async fn keys_of(app: &TestApp, owner: &str, slug: &str) -> Vec<Value> {
    let body = json_of(app.get_with_bearer(&format!("/api/v1/apps/{slug}/keys"), owner).await, StatusCode::OK).await;
    body["keys"].as_array().expect("keys").clone()
}

async fn rotate(app: &TestApp, owner: &str, slug: &str, body: &Value) -> reqwest::Response {
    app.post_json_with_bearer(&format!("/api/v1/apps/{slug}/keys/rotate"), owner, body).await
}

async fn revoke(app: &TestApp, owner: &str, slug: &str, kid: &str) -> reqwest::Response {
    app.post_json_with_bearer(&format!("/api/v1/apps/{slug}/keys/{kid}/revoke"), owner, &json!({})).await
}

/// Verifies each token as a Python backend does with PyJWT: the key its `kid` names in the
/// JWKS, the algorithm that key states, issuer and audience pinned. Returns each token's `sub`.
fn verify_with_pyjwt(jwks: &Value, issuer: &str, audience: &str, tokens: &[&str]) -> Vec<String> {
    const SCRIPT: &str = r#"
import json, sys, jwt
jwks = jwt.PyJWKSet.from_dict(json.loads(sys.argv[1]))
for token in sys.argv[4:]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name], issuer=sys.argv[2], audience=sys.argv[3])
    print(claims["sub"])
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(jwks.to_string())
        .arg(issuer)
        .arg(audience)
        .args(tokens)
        .output()
        .expect("python3 runs (PyJWT is installed by scripts/install-tools.sh)");
    assert!(output.status.success(), "PyJWT refused a token: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").lines().map(str::to_owned).collect()
}

async fn rotation_keeps_earlier_tokens_until_revoked(app: TestApp) {
    let owner = app.app_with_owner("rot").await;
    let before = access_token(&app.signup_end_user("rot", "rosa").await);
    let first = kid_of(&before);
    let keys = keys_of(&app, &owner, "rot").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0]["kid"], first.as_str());
    assert_eq!(keys[0]["status"], "active");
    assert!(keys[0].get("private_sealed").is_none() && keys[0]["public_jwk"]["d"].is_null(), "{keys:?}");

    let rotated = json_of(rotate(&app, &owner, "rot", &json!({})).await, StatusCode::OK).await;
    let second = rotated["kid"].as_str().expect("kid").to_owned();
    assert_ne!(second, first);
    assert_eq!(rotated["status"], "active");
    assert_eq!(rotated["alg"], "RS256");

    // The previous key verifies for the longest token lifetime plus the JWKS max-age.
    let keys = keys_of(&app, &owner, "rot").await;
    assert_eq!(keys.iter().map(|k| k["status"].as_str().unwrap()).collect::<Vec<_>>(), ["active", "previous"]);
    let retires = chrono::DateTime::parse_from_rfc3339(keys[1]["retires_at"].as_str().expect("retires_at")).unwrap();
    assert!(retires > chrono::Utc::now() + chrono::TimeDelta::days(14), "{keys:?}");

    // Tokens from before still work; new ones are signed with the new key; both verify
    // against the published JWKS.
    app.me("rot", &before).await;
    let after = access_token(&app.signin_end_user("rot", "rosa").await);
    assert_eq!(kid_of(&after), second);
    app.me("rot", &after).await;
    let jwks = app.jwks("rot").await;
    assert_eq!(jwks_kids(&jwks), [second.clone(), first.clone()]);
    let subs = verify_with_pyjwt(&jwks, &app.issuer("rot"), "rot", &[&before, &after]);
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0], subs[1]);

    // Emergency revocation: the active key cannot be, the previous one is, at once.
    assert_error(revoke(&app, &owner, "rot", &second).await, StatusCode::CONFLICT, "CONFLICT").await;
    let revoked = json_of(revoke(&app, &owner, "rot", &first).await, StatusCode::OK).await;
    assert_eq!(revoked["status"], "revoked");
    assert_error(app.get_with_bearer("/rot/v1/me", &before).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    app.me("rot", &after).await;
    assert_eq!(jwks_kids(&app.jwks("rot").await), std::slice::from_ref(&second));
    assert_error(revoke(&app, &owner, "rot", &first).await, StatusCode::CONFLICT, "CONFLICT").await;
    assert_error(revoke(&app, &owner, "rot", "no-such-kid").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    // Another algorithm on request; a bad one changes nothing.
    assert_error(
        rotate(&app, &owner, "rot", &json!({"alg": "HS256"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_error(
        rotate(&app, &owner, "rot", &json!({"kid": "mine"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_eq!(keys_of(&app, &owner, "rot").await.len(), 2);
    let es = json_of(rotate(&app, &owner, "rot", &json!({"alg": "ES256"})).await, StatusCode::OK).await;
    assert_eq!(es["alg"], "ES256");
    let third = access_token(&app.signin_end_user("rot", "rosa").await);
    assert_eq!(decode_header(&third).unwrap().alg, jsonwebtoken::Algorithm::ES256);
    app.me("rot", &after).await;
    verify_with_pyjwt(&app.jwks("rot").await, &app.issuer("rot"), "rot", &[&after, &third]);

    // Every change is in the audit log.
    let audit =
        json_of(app.get_with_bearer("/api/v1/apps/rot/audit?type=signing_key.rotated", &owner).await, StatusCode::OK)
            .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 2, "{audit}");
    let audit =
        json_of(app.get_with_bearer("/api/v1/apps/rot/audit?type=signing_key.revoked", &owner).await, StatusCode::OK)
            .await;
    assert_eq!(audit["events"][0]["details"]["kid"], first.as_str());
}

async fn only_key_rotate_may_rotate(app: TestApp) {
    let owner = app.app_with_owner("keyperm").await;
    let stranger = app.account_token("keystranger").await;
    assert_error(rotate(&app, &stranger, "keyperm", &json!({})).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.get_with_bearer("/api/v1/apps/keyperm/keys", &stranger).await, StatusCode::NOT_FOUND, "NOT_FOUND")
        .await;
    // An API key scoped to reading keys can list them, not rotate or revoke.
    let (_, reader) = create_key(&app, &owner, "keyperm", &["key.read"]).await;
    let keys = keys_of(&app, &reader, "keyperm").await;
    assert_error(rotate(&app, &reader, "keyperm", &json!({})).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let kid = keys[0]["kid"].as_str().unwrap();
    assert_error(revoke(&app, &reader, "keyperm", kid).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_eq!(keys_of(&app, &owner, "keyperm").await, keys);
}

/// Concurrent rotations: each either wins or is told to retry; one key stays active.
async fn racing_rotations_leave_one_active_key(app: TestApp) {
    let owner = app.app_with_owner("keyrace").await;
    let body = json!({});
    let attempts = (0..6).map(|_| rotate(&app, &owner, "keyrace", &body));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status()).collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(wins >= 1);
    let keys = keys_of(&app, &owner, "keyrace").await;
    assert_eq!(keys.iter().filter(|k| k["status"] == "active").count(), 1, "{keys:?}");
    assert_eq!(keys.len(), wins + 1);
    let token = access_token(&app.signup_end_user("keyrace", "kim").await);
    assert_eq!(kid_of(&token), keys[0]["kid"].as_str().unwrap());
}

/// `signing_key_rotation_days`: a key older than that is rotated by the schedule (run here
/// directly); a fresh one is left alone; bad values are refused.
async fn scheduled_rotation(app: TestApp) {
    let owner = app.app_with_owner("keysched").await;
    for bad in [json!(7), json!(-1), json!(4000)] {
        let response = app
            .patch_json_with_bearer(
                "/api/v1/apps/keysched/config",
                &owner,
                &json!({ "signing_key_rotation_days": bad }),
            )
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    app.patch_config(&owner, "keysched", &json!({"signing_key_rotation_days": 30})).await;
    app.engine.rotate_due_keys().await.expect("schedule");
    assert_eq!(keys_of(&app, &owner, "keysched").await.len(), 1, "a fresh key is not rotated");
    let old = keys_of(&app, &owner, "keysched").await[0]["kid"].as_str().unwrap().to_owned();
    // The active key was made 31 days ago.
    let sqlite =
        format!("UPDATE signing_keys SET created_at = created_at - {} WHERE kid = '{old}'", 31_i64 * 86_400_000);
    let postgres = format!("UPDATE signing_keys SET created_at = created_at - interval '31 days' WHERE kid = '{old}'");
    execute_sql(&app, &sqlite, &postgres).await;
    app.engine.rotate_due_keys().await.expect("schedule");
    let keys = keys_of(&app, &owner, "keysched").await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[1]["kid"], old.as_str());
    assert_eq!(keys[1]["status"], "previous");
    let token = access_token(&app.signup_end_user("keysched", "sam").await);
    assert_eq!(kid_of(&token), keys[0]["kid"].as_str().unwrap());
}

crate::helpers::both_stores!(
    rotation_keeps_earlier_tokens_until_revoked,
    only_key_rotate_may_rotate,
    racing_rotations_leave_one_active_key,
    scheduled_rotation
);

/// Two nodes on one PostgreSQL: a rotation through one makes the other sign with the new key
/// at once (its key ring hears the change), tokens from before keep verifying on both, and a
/// revocation through one node is refused by the other within moments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_revocation_reach_every_node() {
    run_pair(|a, b| async move {
        let owner = a.app_with_owner("keynodes").await;
        // Node b signs (and so caches its signer) before the rotation.
        let before = access_token(&b.signup_end_user("keynodes", "nora").await);
        b.me("keynodes", &before).await;
        let rotated = json_of(rotate(&a, &owner, "keynodes", &json!({})).await, StatusCode::OK).await;
        let new_kid = rotated["kid"].as_str().unwrap().to_owned();
        let mut switched = false;
        for _ in 0..100 {
            let token = access_token(&b.signin_end_user("keynodes", "nora").await);
            if kid_of(&token) == new_kid {
                switched = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(switched, "node b kept signing with the previous key");
        b.me("keynodes", &before).await;
        a.me("keynodes", &before).await;
        let jwks = b.jwks("keynodes").await;
        verify_with_pyjwt(&jwks, &b.issuer("keynodes"), "keynodes", &[&before]);

        json_of(revoke(&a, &owner, "keynodes", &kid_of(&before)).await, StatusCode::OK).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while b.get_with_bearer("/keynodes/v1/me", &before).await.status() != StatusCode::UNAUTHORIZED {
            assert!(std::time::Instant::now() < deadline, "node b still accepts a token of a revoked key");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
}
