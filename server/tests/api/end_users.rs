//! Managing an app's end-users (`/api/v1/apps/{slug}/end-users`): search, cursor paging, get,
//! update, suspend, delete, and revoking every session of a user.

use std::collections::HashSet;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use domain::model::{Contact, ContactKind, Status, User};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp, PASSWORD};
use crate::quickstart::{assert_recent_timestamp, keys_of};

/// An end-user written straight into the store, for tests that need many quickly (an argon2
/// sign-up each would be slow) or a state the API cannot make yet (a verified email).
#[derive(Default)]
pub struct Seeded<'a> {
    pub username: &'a str,
    /// Defaults to the username.
    pub display_name: Option<&'a str>,
    /// The primary email; none when absent.
    pub email: Option<&'a str>,
    pub email_verified: bool,
    /// No password (an OTP-only user) when absent.
    pub password: Option<&'a str>,
    /// Defaults to now.
    pub created_at: Option<DateTime<Utc>>,
}

/// Now, at the millisecond precision both stores keep.
pub fn now_ms() -> DateTime<Utc> {
    Utc::now().duration_trunc(TimeDelta::milliseconds(1)).unwrap()
}

/// Writes `seeded` into the app, with the `member` role; returns the user's id.
pub async fn seed_user(app: &TestApp, slug: &str, seeded: Seeded<'_>) -> Uuid {
    let record = app.engine.app(slug).await.unwrap();
    let store = app.engine.store();
    let role = store.role_by_name(record.id, "member").await.unwrap().expect("member role");
    let password_hash = match seeded.password {
        Some(p) => Some(domain::password::hash(secrecy::SecretString::from(p.to_owned())).await.unwrap()),
        None => None,
    };
    let at = seeded.created_at.unwrap_or_else(now_ms);
    let user = User {
        id: Uuid::new_v4(),
        app_id: record.id,
        username: seeded.username.to_owned(),
        display_name: seeded.display_name.unwrap_or(seeded.username).to_owned(),
        password_hash,
        role_id: role.id,
        status: Status::Active,
        created_at: at,
        updated_at: at,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    if let Some(email) = seeded.email {
        tx.insert_contact(&Contact {
            id: Uuid::new_v4(),
            app_id: record.id,
            user_id: user.id,
            kind: ContactKind::Email,
            value: email.to_owned(),
            is_primary: true,
            verified_at: seeded.email_verified.then_some(at),
            created_at: at,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    user.id
}

/// Percent-encodes a query parameter's value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn usernames(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users array: {page}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    json_of(app.get_with_bearer(&format!("/api/v1/apps/crowd/end-users{query}"), token).await, StatusCode::OK).await
}

/// Every user matching `query`, page by page with `limit`; checks each page's shape.
async fn walk(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut q = format!("?limit={limit}{query}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let body = page(app, token, &q).await;
        assert_eq!(keys_of(&body), ["nextCursor", "users"], "{body}");
        let users = body["users"].as_array().unwrap();
        assert!(users.len() <= limit, "{body}");
        all.extend(users.iter().cloned());
        match &body["nextCursor"] {
            Value::Null => return all,
            Value::String(next) => {
                assert_eq!(users.len(), limit, "only full pages have a next one: {body}");
                cursor = Some(next.clone());
            }
            other => panic!("nextCursor {other}"),
        }
    }
    panic!("paging does not end");
}

async fn search_and_paging(app: TestApp) {
    let owner = app.app_with_owner("crowd").await;
    let empty = page(&app, &owner, "").await;
    assert_eq!(empty, json!({ "users": [], "nextCursor": null }));

    // 25 users, three to a millisecond, so pages must break ties by id.
    let base = now_ms() - TimeDelta::minutes(1);
    let mut seeded = HashSet::new();
    for i in 0..25 {
        let username = format!("user{i:02}");
        let email = format!("user{i:02}@crowd.test");
        let name = format!("Person {i:02}");
        let at = base + TimeDelta::milliseconds(i / 3);
        let id = seed_user(
            &app,
            "crowd",
            Seeded {
                username: &username,
                display_name: Some(&name),
                email: Some(&email),
                created_at: Some(at),
                ..Seeded::default()
            },
        )
        .await;
        seeded.insert(id.to_string());
    }

    for limit in [10, 7, 1, 24, 25, 100] {
        let all = walk(&app, &owner, "", limit).await;
        let ids: Vec<String> = all.iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(ids.len(), 25, "limit {limit}: everyone exactly once");
        assert_eq!(unique, seeded, "limit {limit}");
        // Oldest first: users were made three to a millisecond, in name order.
        let groups: Vec<u32> =
            all.iter().map(|u| u["username"].as_str().unwrap()[4..].parse::<u32>().unwrap() / 3).collect();
        assert!(groups.windows(2).all(|w| w[0] <= w[1]), "limit {limit}: not in creation order: {groups:?}");
    }
    // Pages of 10: 10, 10, 5, the last without a cursor.
    let first = page(&app, &owner, "?limit=10").await;
    assert_eq!(usernames(&first).len(), 10);
    let next = first["nextCursor"].as_str().unwrap();
    let second = page(&app, &owner, &format!("?limit=10&cursor={next}")).await;
    assert_eq!(usernames(&second).len(), 10);
    let next = second["nextCursor"].as_str().unwrap();
    let third = page(&app, &owner, &format!("?limit=10&cursor={next}")).await;
    assert_eq!(usernames(&third).len(), 5);
    assert_eq!(third["nextCursor"], Value::Null);
    // The default page is 20.
    let default = page(&app, &owner, "").await;
    assert_eq!(usernames(&default).len(), 20);
    assert!(default["nextCursor"].is_string());

    // Each entry in the management shape.
    let user = &first["users"][0];
    assert_eq!(
        keys_of(user),
        ["createdAt", "displayName", "email", "emailVerifiedAt", "id", "role", "status", "updatedAt", "username"],
        "{user}"
    );
    assert_eq!(user["role"], "member");
    assert_eq!(user["status"], "active");
    assert_recent_timestamp(&user["createdAt"]);

    // Bad paging parameters.
    for query in [
        "?limit=0",
        "?limit=101",
        "?limit=abc",
        "?limit=-1",
        "?limit=1.5",
        "?cursor=garbage",
        "?cursor=bm90LWEtY3Vyc29y",
        "?cursor=",
    ] {
        assert_error(
            app.get_with_bearer(&format!("/api/v1/apps/crowd/end-users{query}"), &owner).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }

    // Search: username, display name and email, any letter case, `%` and `_` taken literally.
    for (username, name, email) in [
        ("under_score", "Under Score", "us@crowd.test"),
        ("underxscore", "Decoy", "decoy@crowd.test"),
        ("percent", "100% Sure", "pc@crowd.test"),
        ("hundred", "1000 Sure", "hd@crowd.test"),
        ("mixer", "Grace Hopper", "Mixed.Case@Example.ORG"),
        ("back", "Back\\slash", "bs@crowd.test"),
    ] {
        seed_user(
            &app,
            "crowd",
            Seeded { username, display_name: Some(name), email: Some(email), ..Seeded::default() },
        )
        .await;
    }
    for (search, expected) in [
        ("under_score", vec!["under_score"]),
        ("_", vec!["under_score"]),
        ("r_s", vec!["under_score"]),
        ("%", vec!["percent"]),
        ("0%", vec!["percent"]),
        ("\\", vec!["back"]),
        ("GRACE", vec!["mixer"]),
        ("hopper", vec!["mixer"]),
        ("example.org", vec!["mixer"]),
        ("MIXED.case@EXAMPLE", vec!["mixer"]),
        ("UNDER", vec!["under_score", "underxscore"]),
        ("sure", vec!["percent", "hundred"]),
        ("user2", vec!["user20", "user21", "user22", "user23", "user24"]),
        (
            "PERSON 1",
            vec!["user10", "user11", "user12", "user13", "user14", "user15", "user16", "user17", "user18", "user19"],
        ),
        ("nobody-at-all", vec![]),
    ] {
        let found = page(&app, &owner, &format!("?search={}&limit=100", encode(search))).await;
        let mut got = usernames(&found);
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "search {search:?}");
    }
    // `q` is the same parameter; blank means no filter.
    assert_eq!(usernames(&page(&app, &owner, "?q=GRACE").await), ["mixer"]);
    assert_eq!(usernames(&page(&app, &owner, "?search=%20%20&limit=100").await).len(), 31);
    // A search pages like the full list.
    let all = walk(&app, &owner, "&search=USER", 4).await;
    let ids: HashSet<String> = all.iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 25);
    assert_eq!(ids, seeded);
    // Overlong searches are refused.
    assert_error(
        app.get_with_bearer(&format!("/api/v1/apps/crowd/end-users?search={}", "a".repeat(101)), &owner).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
}

/// The user's id, through the management API's search.
pub async fn user_id(app: &TestApp, owner: &str, slug: &str, username: &str) -> String {
    let found = json_of(
        app.get_with_bearer(&format!("/api/v1/apps/{slug}/end-users?search={username}&limit=100"), owner).await,
        StatusCode::OK,
    )
    .await;
    let users = found["users"].as_array().unwrap();
    let user = users.iter().find(|u| u["username"] == username).unwrap_or_else(|| panic!("{username} in {found}"));
    user["id"].as_str().unwrap().to_owned()
}

async fn get_update_suspend_delete(app: TestApp) {
    let owner = app.app_with_owner("crowd").await;
    let pair = app.signup_end_user("crowd", "ada").await;
    let bystander = app.signup_end_user("crowd", "bystander").await;
    let me = app.me("crowd", &access_token(&pair)).await;
    let id = me["id"].as_str().unwrap().to_owned();
    assert_eq!(user_id(&app, &owner, "crowd", "ada").await, id);
    let path = format!("/api/v1/apps/crowd/end-users/{id}");

    // Get.
    let user = json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await;
    assert_eq!(
        keys_of(&user),
        ["createdAt", "displayName", "email", "emailVerifiedAt", "id", "role", "status", "updatedAt", "username"],
        "{user}"
    );
    assert_eq!(user["id"], me["id"]);
    assert_eq!(user["username"], "ada");
    assert_eq!(user["displayName"], "User ada");
    assert_eq!(user["role"], "member");
    assert_eq!(user["status"], "active");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["emailVerifiedAt"], Value::Null);
    assert_eq!(user["createdAt"], me["createdAt"]);
    for missing in ["not-a-uuid".to_owned(), Uuid::new_v4().to_string()] {
        let path = format!("/api/v1/apps/crowd/end-users/{missing}");
        assert_error(app.get_with_bearer(&path, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        assert_error(
            app.patch_json_with_bearer(&path, &owner, &json!({ "displayName": "X" })).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
        assert_error(app.delete_with_bearer(&path, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }

    // Display name, under either spelling; the user sees it at once.
    let updated =
        json_of(app.patch_json_with_bearer(&path, &owner, &json!({ "displayName": "Ada King" })).await, StatusCode::OK)
            .await;
    assert_eq!(updated["displayName"], "Ada King");
    assert_eq!(app.me("crowd", &access_token(&pair)).await["displayName"], "Ada King");
    let updated = json_of(
        app.patch_json_with_bearer(&path, &owner, &json!({ "display_name": "Countess of Lovelace" })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["displayName"], "Countess of Lovelace");

    // Role: visible to the user on the next request.
    let updated =
        json_of(app.patch_json_with_bearer(&path, &owner, &json!({ "role": "admin" })).await, StatusCode::OK).await;
    assert_eq!(updated["role"], "admin");
    assert_eq!(app.me("crowd", &access_token(&pair)).await["role"], "admin");
    let permissions =
        json_of(app.get_with_bearer("/crowd/v1/me/permissions", &access_token(&pair)).await, StatusCode::OK).await;
    assert_eq!(permissions["role"], "admin");
    assert!(permissions["permissions"].as_array().unwrap().contains(&json!("user.list")), "{permissions}");
    json_of(app.patch_json_with_bearer(&path, &owner, &json!({ "roleName": "member" })).await, StatusCode::OK).await;

    // Bad patches change nothing.
    let before = json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await;
    for body in [
        json!({ "status": "banned" }),
        json!({ "status": true }),
        json!({ "role": "no-such-role" }),
        json!({ "displayName": "" }),
        json!({ "displayName": "x".repeat(101) }),
        json!({ "displayName": "Valid", "status": "banned" }),
        json!({ "username": "renamed" }),
        json!([1, 2]),
    ] {
        assert_error(
            app.patch_json_with_bearer(&path, &owner, &body).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    assert_eq!(json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await, before);

    // Suspend: the bearer and refresh token stop working, and so does signing in.
    let suspended =
        json_of(app.patch_json_with_bearer(&path, &owner, &json!({ "status": "suspended" })).await, StatusCode::OK)
            .await;
    assert_eq!(suspended["status"], "suspended");
    assert_error(
        app.get_with_bearer("/crowd/v1/me", &access_token(&pair)).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
    let response = app.post_json("/crowd/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&pair) })).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_error(
        app.post_json("/crowd/v1/auth/signin", &json!({ "identifier": "ada", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    // The bystander is untouched.
    app.me("crowd", &access_token(&bystander)).await;

    // Unsuspend: signing in works again; the sessions ended by the suspension stay ended.
    let active =
        json_of(app.patch_json_with_bearer(&path, &owner, &json!({ "status": "active" })).await, StatusCode::OK).await;
    assert_eq!(active["status"], "active");
    let back = app.signin_end_user("crowd", "ada").await;
    assert_eq!(app.me("crowd", &access_token(&back)).await["id"], me["id"]);
    let response = app.get_with_bearer("/crowd/v1/me", &access_token(&pair)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Delete: gone, and so are its sessions.
    let response = app.delete_with_bearer(&path, &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_error(app.get_with_bearer(&path, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.delete_with_bearer(&path, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let response = app.get_with_bearer("/crowd/v1/me", &access_token(&back)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.post_json("/crowd/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&back) })).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_error(
        app.post_json("/crowd/v1/auth/signin", &json!({ "identifier": "ada", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    let list = json_of(app.get_with_bearer("/api/v1/apps/crowd/end-users", &owner).await, StatusCode::OK).await;
    assert_eq!(usernames(&list), ["bystander"]);
    // The username is free again, for a new user.
    let reborn = app.signup_end_user("crowd", "ada").await;
    assert_ne!(app.me("crowd", &access_token(&reborn)).await["id"], me["id"]);
    app.me("crowd", &access_token(&bystander)).await;
}

async fn revoke_every_session(app: TestApp) {
    let owner = app.app_with_owner("crowd").await;
    let pairs = vec![
        app.signup_end_user("crowd", "ada").await,
        app.signin_end_user("crowd", "ada").await,
        app.signin_end_user("crowd", "ada").await,
    ];
    let bystander = app.signup_end_user("crowd", "bystander").await;
    let id = user_id(&app, &owner, "crowd", "ada").await;
    let path = format!("/api/v1/apps/crowd/end-users/{id}/sessions");

    let listed = json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{listed}");
    for session in sessions {
        assert_eq!(session["current"], false, "{session}");
        assert_recent_timestamp(&session["createdAt"]);
        assert_recent_timestamp(&session["lastUsedAt"]);
    }
    // The user sees the same three, one of them current.
    let own =
        json_of(app.get_with_bearer("/crowd/v1/me/sessions", &access_token(&pairs[0])).await, StatusCode::OK).await;
    let mut own_ids: Vec<&str> =
        own["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    let mut listed_ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
    own_ids.sort_unstable();
    listed_ids.sort_unstable();
    assert_eq!(own_ids, listed_ids);

    let revoked = json_of(app.delete_with_bearer(&path, &owner).await, StatusCode::OK).await;
    assert_eq!(revoked, json!({ "revoked": 3 }));
    for pair in &pairs {
        assert_error(
            app.get_with_bearer("/crowd/v1/me", &access_token(pair)).await,
            StatusCode::UNAUTHORIZED,
            "SESSION_REVOKED",
        )
        .await;
        let response = app.post_json("/crowd/v1/auth/refresh", &json!({ "refresh_token": refresh_token(pair) })).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let listed = json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await;
    assert_eq!(listed, json!({ "sessions": [] }));
    let revoked = json_of(app.delete_with_bearer(&path, &owner).await, StatusCode::OK).await;
    assert_eq!(revoked, json!({ "revoked": 0 }));
    app.me("crowd", &access_token(&bystander)).await;
    // A new sign-in is a new, live session.
    let fresh = app.signin_end_user("crowd", "ada").await;
    app.me("crowd", &access_token(&fresh)).await;
    let unknown = format!("/api/v1/apps/crowd/end-users/{}/sessions", Uuid::new_v4());
    assert_error(app.delete_with_bearer(&unknown, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(app.get_with_bearer(&unknown, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

both_stores!(search_and_paging, get_update_suspend_delete, revoke_every_session);
