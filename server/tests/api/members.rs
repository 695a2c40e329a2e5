//! App members (`/api/v1/apps/{slug}/members`, `/api/v1/member-invites/accept`): seed 000's
//! workspace teammates end to end (invite, mail, accept, introspect, manage), the last-owner
//! rules under races, escalation attempts, and bad input.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::audit::{census, events};
use crate::helpers::{
    access_token, assert_error, both_stores, execute_sql, json_of, link_in, mail_to, query_param, TestApp,
};

const SLUG: &str = "team";

fn members_path(rest: &str) -> String {
    format!("/api/v1/apps/{SLUG}/members{rest}")
}

/// The account's id, from `GET /v1/auth/me`.
async fn account_id(app: &TestApp, token: &str) -> String {
    let me = json_of(app.get_with_bearer("/v1/auth/me", token).await, StatusCode::OK).await;
    me["id"].as_str().unwrap_or_else(|| panic!("no id: {me}")).to_owned()
}

async fn invite(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json_with_bearer(&members_path(""), token, &body).await
}

/// Invites `{username}@example.com` with `role`, and answers the code its mail carries.
async fn invite_code(app: &TestApp, token: &str, username: &str, role: &str) -> String {
    let email = format!("{username}@example.com");
    json_of(invite(app, token, json!({"email": email, "roleName": role})).await, StatusCode::CREATED).await;
    let mail = mail_to(app, &email).await;
    query_param(&link_in(&mail, "/console/accept-invite"), "code")
}

async fn accept(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json_with_bearer("/api/v1/member-invites/accept", token, &json!({"code": code})).await
}

/// Signs `username` up, invites it with `role` and accepts: answers its token and id.
async fn teammate(app: &TestApp, owner: &str, username: &str, role: &str) -> (String, String) {
    let token = app.account_token(username).await;
    let code = invite_code(app, owner, username, role).await;
    json_of(accept(app, &token, &code).await, StatusCode::OK).await;
    let id = account_id(app, &token).await;
    (token, id)
}

async fn members(app: &TestApp, token: &str) -> Vec<Value> {
    let list = json_of(app.get_with_bearer(&members_path(""), token).await, StatusCode::OK).await;
    list["members"].as_array().unwrap_or_else(|| panic!("no members: {list}")).clone()
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    json_of(app.get_with_bearer(&format!("/api/v1/introspect/apps/{SLUG}"), token).await, StatusCode::OK).await
}

async fn role_permissions(app: &TestApp, owner: &str, role: &str) -> Value {
    let role =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/{SLUG}/roles/{role}"), owner).await, StatusCode::OK).await;
    role["permissions"].clone()
}

async fn set_role(app: &TestApp, token: &str, account: &str, role: &str) -> reqwest::Response {
    app.patch_json_with_bearer(&members_path(&format!("/{account}")), token, &json!({"roleName": role})).await
}

async fn owners(app: &TestApp, token: &str) -> usize {
    members(app, token).await.iter().filter(|m| m["role"]["name"] == "owner").count()
}

async fn workspace_teammates(app: TestApp) {
    let owner = app.app_with_owner(SLUG).await;
    let owner_id = account_id(&app, &owner).await;
    let listed = members(&app, &owner).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["accountId"], owner_id.as_str());
    assert_eq!(listed[0]["username"], "team-owner");
    assert_eq!(listed[0]["email"], "team-owner@example.com");
    assert_eq!(listed[0]["role"]["name"], "owner");
    assert!(listed[0]["role"]["id"].is_string() && listed[0]["joinedAt"].is_string(), "{}", listed[0]);
    // Owners hold the new permissions.
    let perms = role_permissions(&app, &owner, "owner").await;
    for p in ["member.read", "member.invite", "member.update", "member.remove"] {
        assert!(perms.as_array().unwrap().contains(&json!(p)), "owner lacks {p}: {perms}");
        assert!(role_permissions(&app, &owner, "admin").await.as_array().unwrap().contains(&json!(p)));
    }

    // Invite: pending, listed, mailed with a console link (never the code in the API).
    let created = json_of(
        invite(&app, &owner, json!({"email": "Bob@Example.com", "roleName": "admin"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["status"], "pending", "{created}");
    assert_eq!(created["role"], "admin");
    let pending = json_of(app.get_with_bearer(&members_path("/invites"), &owner).await, StatusCode::OK).await;
    assert_eq!(pending["invites"].as_array().unwrap().len(), 1, "{pending}");
    assert!(!pending.to_string().contains("minv_"), "no code in the API: {pending}");
    let mail = mail_to(&app, "Bob@Example.com").await;
    assert_eq!(mail.subject().as_deref(), Some("You are invited to help manage App team"));
    let text = mail.text_body().unwrap();
    assert!(text.contains("with the role admin"), "{text}");
    assert!(text.contains("create one with this address"), "{text}");
    let link = link_in(&mail, "/console/accept-invite?code=minv_");
    assert!(link.starts_with(&format!("{}/console/accept-invite?code=minv_", app.public_url)), "{link}");
    let code = query_param(&link, "code");

    // A GET of the link (a mail scanner) consumes nothing.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("App team") && !html.contains("team-owner"), "the accept page: {html}");
    let lookup =
        json_of(app.post_json("/api/v1/member-invites/lookup", &json!({"code": code})).await, StatusCode::OK).await;
    assert_eq!(lookup["status"], "pending", "{lookup}");
    assert_eq!(lookup["appSlug"], SLUG);
    assert_eq!(lookup["role"], "admin");

    // Bob creates his account with the invited address (unverified) and accepts.
    let bob = app.account_token("bob").await;
    assert_eq!(introspect(&app, &bob).await, json!({"isMember": false, "role": null, "permissions": []}));
    assert_error(app.get_with_bearer(&members_path(""), &bob).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let joined = json_of(accept(&app, &bob, &code).await, StatusCode::OK).await;
    assert_eq!(joined["appSlug"], SLUG);
    assert_eq!(joined["role"], "admin");
    assert_eq!(joined["status"], "accepted");

    // Introspection answers for the member as it does for the owner.
    let seen = introspect(&app, &bob).await;
    assert_eq!(seen["isMember"], true, "{seen}");
    assert_eq!(seen["role"]["name"], "admin");
    assert_eq!(seen["permissions"], role_permissions(&app, &owner, "admin").await);
    let owner_seen = introspect(&app, &owner).await;
    assert_eq!(owner_seen["role"]["name"], "owner");
    let apps = json_of(app.get_with_bearer("/api/v1/apps", &bob).await, StatusCode::OK).await;
    assert!(apps.to_string().contains(SLUG), "{apps}");
    let bob_id = account_id(&app, &bob).await;
    let listed = members(&app, &bob).await;
    let bob_entry = listed.iter().find(|m| m["accountId"] == bob_id.as_str()).expect("bob listed");
    assert_eq!(bob_entry["role"]["name"], "admin");
    assert_eq!(bob_entry["emailVerified"], true, "accepting proved the address: {bob_entry}");
    let invites = json_of(app.get_with_bearer(&members_path("/invites"), &owner).await, StatusCode::OK).await;
    assert_eq!(invites["invites"][0]["status"], "accepted", "{invites}");
    assert_eq!(
        invites["invites"][0]["user_id"].as_str().or(invites["invites"][0]["userId"].as_str()),
        Some(bob_id.as_str())
    );

    // Bob manages end-users within the admin's permissions.
    app.signup_end_user(SLUG, "enduser").await;
    let users =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/{SLUG}/end-users"), &bob).await, StatusCode::OK).await;
    assert!(users.to_string().contains("enduser"), "{users}");
    // ...but an admin cannot delete the app.
    assert_error(
        app.delete_with_bearer(&format!("/api/v1/apps/{SLUG}"), &bob).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;

    // The owner makes Bob a plain member: his permissions follow at once.
    let changed = json_of(set_role(&app, &owner, &bob_id, "member").await, StatusCode::OK).await;
    assert_eq!(changed["role"]["name"], "member", "{changed}");
    assert_eq!(introspect(&app, &bob).await["permissions"], role_permissions(&app, &owner, "member").await);
    assert_error(
        app.get_with_bearer(&format!("/api/v1/apps/{SLUG}/end-users"), &bob).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;

    // Removed: the app is gone for Bob.
    let removed = app.delete_with_bearer(&members_path(&format!("/{bob_id}")), &owner).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(introspect(&app, &bob).await["isMember"], false);
    assert_error(app.get_with_bearer(&format!("/api/v1/apps/{SLUG}"), &bob).await, StatusCode::NOT_FOUND, "NOT_FOUND")
        .await;

    // Carol joins and leaves on her own (`member` has no `member.remove`).
    let (carol, carol_id) = teammate(&app, &owner, "carol", "member").await;
    let left = app.delete_with_bearer(&members_path(&format!("/{carol_id}")), &carol).await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(introspect(&app, &carol).await["isMember"], false);

    // Every step is in the app's log, and the chain holds.
    let log = census(&events(&app, &owner, SLUG, &[]).await);
    for (kind, n) in [
        ("member.invited", 2),
        ("member.joined", 2),
        ("member.role_changed", 1),
        ("member.removed", 1),
        ("member.left", 1),
    ] {
        assert_eq!(log.get(kind).copied().unwrap_or(0), n, "{kind}: {log:?}");
    }
}

async fn last_owner_protections(app: TestApp) {
    let owner = app.app_with_owner(SLUG).await;
    let owner_id = account_id(&app, &owner).await;
    // Alone: cannot leave, step down, or be removed.
    assert_error(
        app.delete_with_bearer(&members_path(&format!("/{owner_id}")), &owner).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    assert_error(set_role(&app, &owner, &owner_id, "admin").await, StatusCode::CONFLICT, "CONFLICT").await;
    assert_eq!(owners(&app, &owner).await, 1);

    // Two owners demoting each other at once: at most one wins, an owner always remains.
    let (second, second_id) = teammate(&app, &owner, "second", "owner").await;
    assert_eq!(owners(&app, &owner).await, 2);
    for round in 0..3 {
        let (a, b) =
            tokio::join!(set_role(&app, &owner, &second_id, "admin"), set_role(&app, &second, &owner_id, "admin"));
        let wins = [a.status(), b.status()].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(wins, 1, "round {round}: {} {}", a.status(), b.status());
        let survivor = if a.status() == StatusCode::OK { &owner } else { &second };
        assert_eq!(owners(&app, survivor).await, 1, "round {round}");
        // Back to two owners for the next round.
        let demoted = if a.status() == StatusCode::OK { &second_id } else { &owner_id };
        json_of(set_role(&app, survivor, demoted, "owner").await, StatusCode::OK).await;
    }
    // Each stepping down at once: one of them stays owner.
    let (a, b) = tokio::join!(set_role(&app, &owner, &owner_id, "admin"), set_role(&app, &second, &second_id, "admin"));
    let statuses = [a.status(), b.status()];
    assert!(statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT), "{statuses:?}");
    let survivor = if a.status() == StatusCode::OK { &second } else { &owner };
    assert_eq!(owners(&app, survivor).await, 1);
    let demoted = if a.status() == StatusCode::OK { &owner_id } else { &second_id };
    json_of(set_role(&app, survivor, demoted, "owner").await, StatusCode::OK).await;
    // Both leaving at once: one leaves, the other is the last owner.
    let (path_a, path_b) = (members_path(&format!("/{owner_id}")), members_path(&format!("/{second_id}")));
    let (a, b) = tokio::join!(app.delete_with_bearer(&path_a, &owner), app.delete_with_bearer(&path_b, &second));
    let statuses = [a.status(), b.status()];
    assert!(statuses.contains(&StatusCode::NO_CONTENT) && statuses.contains(&StatusCode::CONFLICT), "{statuses:?}");
    let survivor = if a.status() == StatusCode::NO_CONTENT { &second } else { &owner };
    let left = members(&app, survivor).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["role"]["name"], "owner");
}

async fn escalation_attempts(app: TestApp) {
    let owner = app.app_with_owner(SLUG).await;
    let owner_id = account_id(&app, &owner).await;
    let (admin, admin_id) = teammate(&app, &owner, "admin1", "admin").await;
    let (member, member_id) = teammate(&app, &owner, "member1", "member").await;

    // A member cannot make itself owner (nor admin), nor read the member list.
    assert_error(set_role(&app, &member, &member_id, "owner").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(set_role(&app, &member, &member_id, "admin").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(app.get_with_bearer(&members_path(""), &member).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(
        invite(&app, &member, json!({"email": "x@example.com", "roleName": "member"})).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    assert_error(
        app.delete_with_bearer(&members_path(&format!("/{admin_id}")), &member).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;

    // An admin (no app.delete) cannot grant owner, touch an owner, or raise itself.
    assert_error(set_role(&app, &admin, &admin_id, "owner").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(set_role(&app, &admin, &member_id, "owner").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(
        invite(&app, &admin, json!({"email": "boss@example.com", "roleName": "owner"})).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    assert_error(set_role(&app, &admin, &owner_id, "member").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(
        app.delete_with_bearer(&members_path(&format!("/{owner_id}")), &admin).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    // ...but manages what it could grant.
    json_of(set_role(&app, &admin, &member_id, "admin").await, StatusCode::OK).await;
    json_of(set_role(&app, &admin, &member_id, "member").await, StatusCode::OK).await;
    json_of(
        invite(&app, &admin, json!({"email": "helper@example.com", "roleName": "admin"})).await,
        StatusCode::CREATED,
    )
    .await;

    // A custom role that may only manage members cannot hand out admin.
    json_of(
        app.post_json_with_bearer(
            &format!("/api/v1/apps/{SLUG}/roles"),
            &owner,
            &json!({"name": "recruiter", "permissions": ["member.read", "member.invite", "member.update"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let (recruiter, recruiter_id) = teammate(&app, &owner, "recruiter1", "recruiter").await;
    assert_error(
        invite(&app, &recruiter, json!({"email": "y@example.com", "roleName": "admin"})).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    assert_error(set_role(&app, &recruiter, &recruiter_id, "admin").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(set_role(&app, &recruiter, &member_id, "admin").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // An API key: lists, and invites only roles within its scopes.
    let key = json_of(
        app.post_json_with_bearer(
            &format!("/api/v1/apps/{SLUG}/api-keys"),
            &owner,
            &json!({"name": "hr", "scopes": ["member.read", "member.invite", "app.read", "role.read"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let key = key["secret"].as_str().unwrap().to_owned();
    assert_eq!(members(&app, &key).await.len(), 4);
    json_of(invite(&app, &key, json!({"email": "z@example.com", "roleName": "member"})).await, StatusCode::CREATED)
        .await;
    assert_error(
        invite(&app, &key, json!({"email": "z@example.com", "roleName": "admin"})).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    assert_error(set_role(&app, &key, &member_id, "member").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // An API key accepts nothing: accepting needs an account.
    assert_error(accept(&app, &key, "minv_x").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // Someone else's invite: another address is refused, and the invite stays pending.
    let code = invite_code(&app, &owner, "dora", "admin").await;
    let eve = app.account_token("eve").await;
    assert_error(accept(&app, &eve, &code).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(accept(&app, &member, &code).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // Dora accepts; the code is spent.
    let dora = app.account_token("dora").await;
    json_of(accept(&app, &dora, &code).await, StatusCode::OK).await;
    assert_error(accept(&app, &dora, &code).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    // Revoked and expired invites are refused.
    let frank = app.account_token("frank").await;
    let revoked_code = invite_code(&app, &owner, "frank", "member").await;
    let listed = json_of(app.get_with_bearer(&members_path("/invites"), &owner).await, StatusCode::OK).await;
    let frank_invite = listed["invites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "frank@example.com" && i["status"] == "pending")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = app.delete_with_bearer(&members_path(&format!("/invites/{frank_invite}")), &owner).await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.delete_with_bearer(&members_path(&format!("/invites/{frank_invite}")), &owner).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    assert_error(accept(&app, &frank, &revoked_code).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let expired_code = invite_code(&app, &owner, "frank", "member").await;
    execute_sql(
        &app,
        "UPDATE member_invites SET expires_at = 0 WHERE email = 'frank@example.com'",
        "UPDATE member_invites SET expires_at = now() - interval '1 minute' WHERE email = 'frank@example.com'",
    )
    .await;
    assert_error(accept(&app, &frank, &expired_code).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    assert_eq!(introspect(&app, &frank).await["isMember"], false);
    for made_up in ["minv_", "minv_nope", "inv_abc", ""] {
        assert_error(accept(&app, &frank, made_up).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    }

    let log = census(&events(&app, &owner, SLUG, &[]).await);
    assert_eq!(log.get("member_invite.revoked").copied(), Some(1), "{log:?}");
}

async fn non_members_and_bad_input(app: TestApp) {
    let owner = app.app_with_owner(SLUG).await;
    let owner_id = account_id(&app, &owner).await;
    let stranger = app.account_token("stranger").await;
    let stranger_id = account_id(&app, &stranger).await;
    // A non-member learns nothing.
    for response in [
        app.get_with_bearer(&members_path(""), &stranger).await,
        app.get_with_bearer(&members_path("/invites"), &stranger).await,
        invite(&app, &stranger, json!({"email": "s@example.com", "roleName": "owner"})).await,
        set_role(&app, &stranger, &owner_id, "member").await,
        app.delete_with_bearer(&members_path(&format!("/{owner_id}")), &stranger).await,
        app.delete_with_bearer(&members_path(&format!("/{stranger_id}")), &stranger).await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    // Another app's owner is a stranger here too.
    let other = app.app_with_owner("other").await;
    assert_error(app.get_with_bearer(&members_path(""), &other).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // Without a bearer.
    assert_error(app.get(&members_path("")).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_error(
        app.post_json("/api/v1/member-invites/accept", &json!({"code": "minv_x"})).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
    // An end-user's token is no account's.
    let end_user = access_token(&app.signup_end_user(SLUG, "someone").await);
    assert_error(accept(&app, &end_user, "minv_x").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // Members that are not there.
    assert_error(set_role(&app, &owner, &stranger_id, "member").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(set_role(&app, &owner, "not-a-uuid", "member").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(
        app.delete_with_bearer(&members_path(&format!("/{stranger_id}")), &owner).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.delete_with_bearer(&members_path("/invites/not-a-uuid"), &owner).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    // Bad bodies.
    for (body, code) in [
        (json!({"email": "nope", "roleName": "member"}), "INVALID_EMAIL"),
        (json!({"email": "a@example.com", "roleName": "ghost"}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com"}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "roleName": "member", "roleId": owner_id}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "roleId": "not-a-uuid"}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "roleName": "member", "expiresInHours": 0}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "roleName": "member", "expiresInHours": 100000}), "INVALID_REQUEST"),
        (json!({"email": "a@example.com", "roleName": "member", "extra": 1}), "INVALID_REQUEST"),
        (json!({"email": 5, "roleName": "member"}), "INVALID_REQUEST"),
    ] {
        let response = invite(&app, &owner, body.clone()).await;
        assert!(response.status().is_client_error(), "{body}: {}", response.status());
        let got = response.json::<Value>().await.unwrap();
        assert_eq!(got["error"], code, "{body}: {got}");
    }
    let malformed = app
        .client
        .post(app.url(&members_path("")))
        .bearer_auth(&owner)
        .header("content-type", "application/json")
        .body("{\"email\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    assert_error(
        app.patch_json_with_bearer(&members_path(&format!("/{owner_id}")), &owner, &json!({})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_error(
        app.post_json_with_bearer("/api/v1/member-invites/accept", &stranger, &json!({"code": 1})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
    assert_error(
        app.post_json("/api/v1/member-invites/lookup", &json!({"code": "minv_nope"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_TOKEN",
    )
    .await;

    // By role id, and an existing member is not invited again.
    let admin_role =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/{SLUG}/roles/admin"), &owner).await, StatusCode::OK).await;
    let by_id = json_of(
        invite(&app, &owner, json!({"email": "stranger@example.com", "roleId": admin_role["id"]})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(by_id["role"], "admin");
    let code = query_param(&link_in(&mail_to(&app, "stranger@example.com").await, "/console/accept-invite"), "code");
    json_of(accept(&app, &stranger, &code).await, StatusCode::OK).await;
    assert_error(
        invite(&app, &owner, json!({"email": "stranger@example.com", "roleName": "member"})).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    // A second invite to a member: accepting it is refused as already a member.
    // The `platform` app has no members to manage.
    assert_error(
        app.get_with_bearer("/api/v1/apps/platform/members", &owner).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    // The alias answers as `/api/v1`.
    let aliased = json_of(app.get_with_bearer(&format!("/v1/apps/{SLUG}/members"), &owner).await, StatusCode::OK).await;
    assert_eq!(aliased["members"].as_array().unwrap().len(), 2);
}

/// Migration 0011 gives the new permissions to the owner and admin roles of apps that existed
/// before it: its statement, run again on roles that lack them, puts them back, once.
async fn migration_grants_existing_roles(app: TestApp) {
    let owner = app.app_with_owner(SLUG).await;
    let before = role_permissions(&app, &owner, "admin").await;
    execute_sql(
        &app,
        "UPDATE roles SET permissions = (SELECT json_group_array(value) FROM json_each(roles.permissions) \
         WHERE value NOT LIKE 'member.%') WHERE name IN ('owner', 'admin')",
        "UPDATE roles SET permissions = (SELECT jsonb_agg(p) FROM jsonb_array_elements_text(roles.permissions) p \
         WHERE p NOT LIKE 'member.%') WHERE name IN ('owner', 'admin')",
    )
    .await;
    assert_error(app.get_with_bearer(&members_path(""), &owner).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let statement = |file: &str| {
        let sql = file.split("UPDATE roles").nth(1).expect("the migration's UPDATE");
        format!("UPDATE roles{sql}")
    };
    let sqlite = statement(include_str!("../../../migrations/sqlite/0011_members.sql"));
    let postgres = statement(include_str!("../../../migrations/postgres/0011_members.sql"));
    for _ in 0..2 {
        execute_sql(&app, &sqlite, &postgres).await;
    }
    let after = role_permissions(&app, &owner, "admin").await;
    let sorted = |v: &Value| {
        let mut all: Vec<String> = v.as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
        all.sort();
        all
    };
    assert_eq!(sorted(&after), sorted(&before), "every permission back, none twice");
    assert_eq!(members(&app, &owner).await.len(), 1);
    let member_role = role_permissions(&app, &owner, "member").await;
    assert!(!member_role.to_string().contains("member."), "{member_role}");
}

both_stores!(
    workspace_teammates,
    last_owner_protections,
    escalation_attempts,
    non_members_and_bad_input,
    migration_grants_existing_roles
);
