//! Moving end-users in and out (`/api/v1/apps/{slug}/end-users/export|import`): hashes
//! made by the reference libraries (Python's argon2-cffi, bcrypt, passlib; Firebase's
//! scrypt rebuilt from hashlib and cryptography) imported, verified at sign-in and rehashed
//! to argon2id; an export imported into a fresh app; reruns; bad lines; who may.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, both_stores, json_of, TestApp};

const PASSWORD: &str = "Corr3ct-Hörse-battery";

both_stores!(
    reference_hashes_sign_in_and_rehash,
    export_import_round_trip,
    bad_lines_and_reruns,
    owners_only,
    an_unverified_address_is_not_a_match
);

fn import_path(slug: &str) -> String {
    format!("/api/v1/apps/{slug}/end-users/import")
}

async fn import(app: &TestApp, token: &str, slug: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url(&import_path(slug)))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn import_ok(app: &TestApp, token: &str, slug: &str, body: String) -> Value {
    json_of(import(app, token, slug, body).await, StatusCode::OK).await
}

async fn export(app: &TestApp, token: &str, slug: &str) -> String {
    let response = app.get_with_bearer(&format!("/api/v1/apps/{slug}/end-users/export"), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    response.text().await.unwrap()
}

fn jsonl(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

async fn signin(app: &TestApp, slug: &str, identifier: &str, password: &str) -> reqwest::Response {
    app.post_json(&format!("/{slug}/v1/auth/signin"), &json!({"identifier": identifier, "password": password})).await
}

async fn stored_hash(app: &TestApp, slug: &str, username: &str) -> String {
    let store = app.engine.store();
    let found = store.app_by_slug(slug).await.unwrap().unwrap();
    let user = store.user_by_username(found.id, username).await.unwrap().unwrap();
    user.password_hash.unwrap()
}

/// Runs a Python script and answers what it printed, as JSON.
fn python(script: &str) -> Value {
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs (passlib, bcrypt, argon2-cffi and cryptography come from scripts/install-tools.sh)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One hash per format, of `PASSWORD`, by the libraries that define them; Firebase's by its
/// published algorithm (scrypt over salt ‖ separator, then AES-256-CTR of the signer key).
fn reference_hashes() -> Value {
    python(&format!(
        r#"
import base64, hashlib, json, os
import argon2, bcrypt
from passlib.hash import pbkdf2_sha256, django_pbkdf2_sha256, scrypt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
pw = {PASSWORD:?}
b = pw.encode()
signer, separator, salt = os.urandom(64), os.urandom(2), os.urandom(12)
derived = hashlib.scrypt(b, salt=salt + separator, n=2**14, r=8, p=1, dklen=64)
enc = Cipher(algorithms.AES(derived[:32]), modes.CTR(b"\0" * 16)).encryptor()
firebase = enc.update(signer) + enc.finalize()
b64 = lambda x: base64.b64encode(x).decode()
b2b = bcrypt.hashpw(b, bcrypt.gensalt(rounds=5)).decode()
print(json.dumps({{
  "hashes": {{
    "argon2id": argon2.PasswordHasher(time_cost=3, memory_cost=8192, parallelism=2).hash(pw),
    "argon2i": argon2.PasswordHasher(time_cost=2, memory_cost=4096, parallelism=1, type=argon2.Type.I).hash(pw),
    "argon2d": argon2.PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1, type=argon2.Type.D).hash(pw),
    "bcrypt2b": b2b,
    "bcrypt2a": bcrypt.hashpw(b, bcrypt.gensalt(rounds=4, prefix=b"2a")).decode(),
    # PHP's $2y$ is the same algorithm as $2b$ under another name; Python's bcrypt does not write it.
    "bcrypt2y": "$2y$" + b2b[4:],
    "scrypt": scrypt.using(rounds=12).hash(pw),
    "pbkdf2": pbkdf2_sha256.hash(pw),
    "django": django_pbkdf2_sha256.hash(pw),
  }},
  "firebase": {{"hash": b64(firebase), "salt": b64(salt)}},
  "firebase_config": {{"signer_key": b64(signer), "salt_separator": b64(separator), "rounds": 8, "mem_cost": 14}},
}}))
"#
    ))
}

async fn reference_hashes_sign_in_and_rehash(app: TestApp) {
    let owner = app.app_with_owner("legacy").await;
    let reference = reference_hashes();
    let header = json!({"format": "rampart.end-users", "version": 1, "firebase_scrypt": reference["firebase_config"]});
    let mut lines = vec![header];
    let hashes = reference["hashes"].as_object().unwrap();
    for (name, hash) in hashes {
        lines.push(json!({
            "username": name,
            "emails": [{"address": format!("{name}@example.com"), "verified": true}],
            "password_hash": hash,
        }));
    }
    lines.push(json!({
        "username": "firebase",
        "emails": [{"address": "firebase@example.com", "verified": true}],
        "password_hash": reference["firebase"]["hash"],
        "password_salt": reference["firebase"]["salt"],
        "password_format": "firebase-scrypt",
    }));
    let summary = import_ok(&app, &owner, "legacy", jsonl(&lines)).await;
    assert_eq!(summary["created"], hashes.len() + 1, "{summary}");
    assert_eq!(summary["failed"], json!([]), "{summary}");

    // A wrong password on a native user: the answer every wrong password must give.
    app.signup_end_user("legacy", "native").await;
    let native = signin(&app, "legacy", "native", "wrong-password").await;
    let refusal = assert_error(native, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;

    for name in hashes.keys().map(String::as_str).chain(["firebase"]) {
        let imported = stored_hash(&app, "legacy", name).await;
        assert!(!imported.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{name}: {imported}");
        let wrong = signin(&app, "legacy", name, "Corr3ct-Horse-battery").await;
        let body = assert_error(wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
        assert_eq!(body, refusal, "{name}: a wrong password reads as any other");
        assert_eq!(stored_hash(&app, "legacy", name).await, imported, "{name}: a failed sign-in rehashes nothing");

        let email = format!("{name}@example.com");
        let ok = signin(&app, "legacy", &email, PASSWORD).await;
        assert_eq!(ok.status(), StatusCode::OK, "{name}: {}", ok.text().await.unwrap());
        let rehashed = stored_hash(&app, "legacy", name).await;
        assert!(rehashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{name}: {rehashed}");
        // Now Rampart's own hash: the same password still works, another still does not.
        assert_eq!(signin(&app, "legacy", name, PASSWORD).await.status(), StatusCode::OK, "{name}");
        assert_eq!(signin(&app, "legacy", name, "nope-nope").await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(stored_hash(&app, "legacy", name).await, rehashed, "{name}: rehashed once");
    }
    let events = json_of(
        app.get_with_bearer("/api/v1/apps/legacy/audit?type=end_user.signed_in&limit=100", &owner).await,
        StatusCode::OK,
    )
    .await;
    let from: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["details"]["password_rehashed_from"].as_str())
        .collect();
    for scheme in ["argon2", "bcrypt", "scrypt", "firebase-scrypt", "pbkdf2-sha256", "django-pbkdf2-sha256"] {
        assert!(from.contains(&scheme), "{scheme} in {from:?}");
    }

    // A rerun of the same file does not put the old hashes back over the new ones.
    let summary = import_ok(&app, &owner, "legacy", jsonl(&lines)).await;
    assert_eq!((summary["created"].as_u64(), summary["updated"].as_u64()), (Some(0), Some(0)), "{summary}");
    assert!(stored_hash(&app, "legacy", "bcrypt2b").await.starts_with("$argon2id$"));
}

/// A source app filled by import (verified and unverified emails, a phone, roles, two
/// organizations, a suspended user, a bcrypt hash) and by a sign-up, exported and imported
/// into a fresh app: the same users, contacts, roles and organizations, and the same
/// passwords sign in.
async fn export_import_round_trip(app: TestApp) {
    let owner = app.app_with_owner("source").await;
    let bcrypt = python(&format!(
        "import bcrypt, json; print(json.dumps(bcrypt.hashpw({PASSWORD:?}.encode(), bcrypt.gensalt(rounds=4)).decode()))"
    ));
    let seed = jsonl(&[
        json!({"username": "ada", "display_name": "Ada L.", "role": "admin",
               "created_at": "2020-01-02T03:04:05Z", "password_hash": bcrypt,
               "emails": [{"address": "ada@example.com", "verified": true, "primary": true},
                          {"address": "ada@work.example", "verified": false}],
               "phones": [{"number": "+14155550123", "verified": true}],
               "organizations": [{"slug": "acme", "name": "Acme", "role": "owner"}, {"name": "Side Project"}]}),
        json!({"username": "bob", "status": "suspended", "emails": [{"address": "bob@example.com"}],
               "organizations": [{"slug": "acme", "role": "member"}]}),
    ]);
    let summary = import_ok(&app, &owner, "source", seed).await;
    assert_eq!(summary["created"], 2, "{summary}");
    app.signup_end_user("source", "carol").await;

    let exported = export(&app, &owner, "source").await;
    let lines: Vec<Value> = exported.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["format"], "rampart.end-users");
    assert_eq!(lines[0]["app"], "source");
    assert_eq!(lines.len(), 4, "{exported}");
    let ada = lines.iter().find(|l| l["username"] == "ada").unwrap();
    assert_eq!(ada["created_at"], "2020-01-02T03:04:05Z");
    assert_eq!(ada["role"], "admin");
    assert_eq!(ada["phones"], json!([{"number": "+14155550123", "verified": true}]));
    assert_eq!(ada["organizations"].as_array().unwrap().len(), 2);

    let target = app.account_token("target-owner").await;
    app.create_app_ok(&target, "target").await;
    let summary = import_ok(&app, &target, "target", exported.clone()).await;
    assert_eq!((summary["created"].as_u64(), summary["failed_count"].as_u64()), (Some(3), Some(0)), "{summary}");
    let again = export(&app, &target, "target").await;
    let strip = |text: &str| -> Vec<Value> {
        let mut users: Vec<Value> = text
            .lines()
            .skip(1)
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                // Ids are new where the source's are taken (both apps live on one server).
                v.as_object_mut().unwrap().remove("id");
                let orgs = v["organizations"].as_array_mut().unwrap();
                for org in orgs.iter_mut() {
                    org.as_object_mut().unwrap().remove("id");
                }
                // Memberships made in one transaction share their time: their order is not kept.
                orgs.sort_by_key(|o| o["slug"].as_str().unwrap().to_owned());
                v
            })
            .collect();
        users.sort_by_key(|u| u["username"].as_str().unwrap().to_owned());
        users
    };
    assert_eq!(strip(&again), strip(&exported), "the target holds what the source held");

    for who in ["ada@example.com", "carol"] {
        let password = if who == "carol" { crate::helpers::PASSWORD } else { PASSWORD };
        assert_eq!(signin(&app, "target", who, password).await.status(), StatusCode::OK, "{who}");
    }
    assert_eq!(signin(&app, "target", "bob", crate::helpers::PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let orgs = json_of(app.get_with_bearer("/api/v1/apps/target/organizations", &target).await, StatusCode::OK).await;
    let mut slugs: Vec<&str> =
        orgs["organizations"].as_array().unwrap().iter().map(|o| o["slug"].as_str().unwrap()).collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["acme", "side-project"], "{orgs}");

    // Rerun: nothing created, nothing changed.
    let summary = import_ok(&app, &target, "target", exported).await;
    assert_eq!(summary["unchanged"], 3, "{summary}");
    assert_eq!(summary["created"], 0, "{summary}");
}

/// Each bad line is reported with its number and code, and nothing of it is written; the
/// good lines go in. A large file (more than the API's body limit, several batches) is read
/// as it streams, and its rerun changes nothing.
async fn bad_lines_and_reruns(app: TestApp) {
    let owner = app.app_with_owner("lines").await;
    let body = [
        r#"{"username": "good", "emails": [{"address": "good@example.com", "verified": true}]}"#,
        r#"{"username": "broken", "emails": ["#,
        r#"{"username": "md5", "emails": [{"address": "md5@example.com"}], "password_hash": "$1$abc$def"}"#,
        r#"{"username": "twin", "emails": [{"address": "GOOD@example.com"}]}"#,
        r#"{"username": "boss", "emails": [{"address": "boss@example.com"}], "role": "emperor"}"#,
        r#"{"username": "fbuser", "emails": [{"address": "fb@example.com"}], "password_hash": "aGFzaA==", "password_salt": "c2FsdA==", "password_format": "firebase-scrypt"}"#,
        r#"{"username": "extra", "emails": [{"address": "extra@example.com"}], "favourite_colour": "blue"}"#,
        "",
        r#"{"username": "taken", "emails": [{"address": "taken@example.com"}]}"#,
    ]
    .join("\n");
    let summary = import_ok(&app, &owner, "lines", body).await;
    let codes: Vec<(u64, &str)> = summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            (2, "INVALID_JSON"),
            (3, "UNKNOWN_HASH_FORMAT"),
            (4, "DUPLICATE_IN_FILE"),
            (5, "UNKNOWN_ROLE"),
            (6, "MISSING_FIREBASE_PARAMS"),
            (7, "INVALID_LINE"),
        ],
        "{summary}"
    );
    assert_eq!((summary["created"].as_u64(), summary["lines"].as_u64()), (Some(2), Some(8)), "{summary}");
    let store = app.engine.store();
    let lines_app = store.app_by_slug("lines").await.unwrap().unwrap();
    for refused in ["broken", "md5", "twin", "boss", "fbuser", "extra"] {
        assert!(store.user_by_username(lines_app.id, refused).await.unwrap().is_none(), "{refused} was written");
    }
    assert!(store.email_contacts(lines_app.id, "md5@example.com").await.unwrap().is_empty());

    // A username already in the app fails its line whole: no contact of it is added.
    let clash = r#"{"username": "TAKEN", "emails": [{"address": "other@example.com", "verified": true}]}"#;
    let summary = import_ok(&app, &owner, "lines", clash.into()).await;
    assert_eq!(summary["failed"][0]["code"], "USERNAME_TAKEN", "{summary}");
    assert!(store.email_contacts(lines_app.id, "other@example.com").await.unwrap().is_empty());

    // Bigger than any other request may be, in several batches.
    let many: String = (0..1200)
        .map(|i| format!("{{\"username\": \"bulk{i:04}\", \"display_name\": \"Bulk user number {i} of a large file\", \"emails\": [{{\"address\": \"bulk{i}@example.com\", \"verified\": true}}]}}\n"))
        .collect();
    assert!(many.len() > 128 * 1024);
    let summary = import_ok(&app, &owner, "lines", many.clone()).await;
    assert_eq!((summary["created"].as_u64(), summary["failed_count"].as_u64()), (Some(1200), Some(0)), "{summary}");
    let summary = import_ok(&app, &owner, "lines", many.clone()).await;
    assert_eq!((summary["unchanged"].as_u64(), summary["created"].as_u64()), (Some(1200), Some(0)), "{summary}");
    // A changed file updates the users it changes, found by their email.
    let changed = many.replacen("Bulk user number 7 ", "Renamed ", 1);
    let summary = import_ok(&app, &owner, "lines", changed).await;
    assert_eq!((summary["updated"].as_u64(), summary["unchanged"].as_u64()), (Some(1), Some(1199)), "{summary}");
    let exported = export(&app, &owner, "lines").await;
    assert_eq!(exported.lines().count(), 1 + 2 + 1200, "one header, two good lines, the bulk");
}

/// An account made a member of the app with the `admin` role (all of `user.*`), by invite.
async fn admin_of(app: &TestApp, owner: &str, slug: &str) -> String {
    let token = app.account_token("helper").await;
    let invite = json!({"email": "helper@example.com", "roleName": "admin"});
    json_of(
        app.post_json_with_bearer(&format!("/api/v1/apps/{slug}/members"), owner, &invite).await,
        StatusCode::CREATED,
    )
    .await;
    let mail = crate::helpers::mail_to(app, "helper@example.com").await;
    let code = crate::helpers::query_param(&crate::helpers::link_in(&mail, "/console/accept-invite"), "code");
    let accepted = app.post_json_with_bearer("/api/v1/member-invites/accept", &token, &json!({"code": code})).await;
    json_of(accepted, StatusCode::OK).await;
    token
}

async fn owners_only(app: TestApp) {
    let owner = app.app_with_owner("guarded").await;
    let line = jsonl(&[json!({"username": "ada", "emails": [{"address": "ada@example.com"}]})]);
    let admin = admin_of(&app, &owner, "guarded").await;
    let (_, key) =
        crate::api_keys::create_key(&app, &owner, "guarded", &["user.read", "user.create", "user.list"]).await;
    for token in [&admin, &key] {
        let refused = import(&app, token, "guarded", line.clone()).await;
        assert_error(refused, StatusCode::FORBIDDEN, "FORBIDDEN").await;
        let refused = app.get_with_bearer("/api/v1/apps/guarded/end-users/export", token).await;
        assert_error(refused, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    }
    let stranger = app.account_token("stranger").await;
    assert_error(import(&app, &stranger, "guarded", line.clone()).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let anonymous = app.client.post(app.url(&import_path("guarded"))).body(line.clone()).send().await.unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let summary = import_ok(&app, &owner, "guarded", line).await;
    assert_eq!(summary["created"], 1);
    // The run and its user are on the log, as the owner's doing.
    let log = json_of(app.get_with_bearer("/api/v1/apps/guarded/audit?limit=50", &owner).await, StatusCode::OK).await;
    let types: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"end_users.imported") && types.contains(&"end_user.imported"), "{types:?}");
}

/// Anyone may sign up with an address they do not own and leave it unverified: an import
/// never takes such a user for the file's user of that address (it would hand them the
/// file's profile, verified address and organizations), while a line's own earlier import,
/// unverified too, is still found again.
async fn an_unverified_address_is_not_a_match(app: TestApp) {
    let owner = app.app_with_owner("squat").await;
    app.signup_end_user("squat", "mallory").await;
    let django = format!("pbkdf2_sha256$1000$c2FsdA${}=", "A".repeat(43));
    let victim = json!({
        "username": "victim",
        "display_name": "The Victim",
        "emails": [{"address": "mallory@example.com", "verified": true}],
        "password_hash": django,
        "organizations": [{"name": "Victim Corp", "role": "owner"}],
    });
    let summary = import_ok(&app, &owner, "squat", jsonl(&[victim])).await;
    assert_eq!(summary["failed"][0]["code"], "EMAIL_HELD_UNVERIFIED", "{summary}");
    assert_eq!((summary["created"].as_u64(), summary["updated"].as_u64()), (Some(0), Some(0)), "{summary}");
    let store = app.engine.store();
    let squat = store.app_by_slug("squat").await.unwrap().unwrap();
    let mallory = store.user_by_username(squat.id, "mallory").await.unwrap().unwrap();
    assert_eq!(mallory.display_name, "User mallory");
    let held = store.email_contacts(squat.id, "mallory@example.com").await.unwrap();
    assert!(held.iter().all(|c| c.verified_at.is_none()), "the address was verified for its squatter");
    assert!(store.organizations_of(squat.id, mallory.id).await.unwrap().is_empty());

    // A user the file itself brought in unverified is the same user on a rerun.
    let quiet = jsonl(&[json!({"username": "quiet", "emails": [{"address": "quiet@example.com"}]})]);
    assert_eq!(import_ok(&app, &owner, "squat", quiet.clone()).await["created"], 1);
    let rerun = import_ok(&app, &owner, "squat", quiet).await;
    assert_eq!((rerun["unchanged"].as_u64(), rerun["failed_count"].as_u64()), (Some(1), Some(0)), "{rerun}");
}
