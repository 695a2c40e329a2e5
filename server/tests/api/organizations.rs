//! Organizations inside an app (issue 15): create, invite, accept, switch, refresh and leave
//! with the access token's `org` / `org_role` checked through the app's JWKS by a standard
//! JWT library; a removed member's bearer refused at once; privilege escalation inside and
//! across organizations; the last owner; the config switches; the management API; seed 003's
//! `active_organization_id` and `organization/set-active`.

use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    access_token, assert_error, both_stores, execute_sql, json_of, link_in, mail_to, query_param, refresh_token,
    TestApp,
};
use crate::quickstart::verify_with_jwks;

/// An app with organizations on (anyone may create one); returns the app owner's token.
async fn org_app(app: &TestApp, slug: &str, creation: &str) -> String {
    let owner = app.app_with_owner(slug).await;
    app.patch_config(&owner, slug, &json!({"organizations_enabled": true, "organization_creation": creation})).await;
    owner
}

/// Marks the address verified behind the server's back (as clicking its link would).
async fn verify(app: &TestApp, email: &str) {
    execute_sql(
        app,
        &format!("UPDATE contacts SET verified_at = 1700000000000 WHERE value = '{email}'"),
        &format!("UPDATE contacts SET verified_at = now() WHERE value = '{email}'"),
    )
    .await;
}

/// A verified end-user's access token and id.
async fn user(app: &TestApp, slug: &str, name: &str) -> (String, String) {
    let pair = app.signup_end_user(slug, name).await;
    verify(app, &format!("{name}@example.com")).await;
    let token = access_token(&pair);
    let id = app.me(slug, &token).await["id"].as_str().unwrap().to_owned();
    (token, id)
}

async fn create_org(app: &TestApp, slug: &str, token: &str, body: Value) -> Value {
    json_of(app.post_json_with_bearer(&format!("/{slug}/v1/orgs"), token, &body).await, StatusCode::CREATED).await
}

async fn add(app: &TestApp, slug: &str, token: &str, org: &str, user_id: &str, role: &str) -> Response {
    let path = format!("/{slug}/v1/orgs/{org}/members");
    app.post_json_with_bearer(&path, token, &json!({"user_id": user_id, "roleName": role})).await
}

async fn set_role(app: &TestApp, slug: &str, token: &str, org: &str, user_id: &str, role: &str) -> Response {
    let path = format!("/{slug}/v1/orgs/{org}/members/{user_id}");
    app.patch_json_with_bearer(&path, token, &json!({"role": role})).await
}

async fn remove(app: &TestApp, slug: &str, token: &str, org: &str, user_id: &str) -> Response {
    app.delete_with_bearer(&format!("/{slug}/v1/orgs/{org}/members/{user_id}"), token).await
}

/// Switches the session of `pair` (its bearer, and its refresh token to rotate).
async fn switch(app: &TestApp, slug: &str, pair: &Value, org: Value) -> Response {
    let body = json!({"org_id": org, "refresh_token": refresh_token(pair)});
    app.post_json_with_bearer(&format!("/{slug}/v1/auth/switch-organization"), &access_token(pair), &body).await
}

async fn refresh(app: &TestApp, slug: &str, refresh: &str) -> Value {
    let response = app.post_json(&format!("/{slug}/v1/auth/refresh"), &json!({"refresh_token": refresh})).await;
    json_of(response, StatusCode::OK).await
}

/// The whole path of an invitee, with every token's claims read through the JWKS.
async fn invite_accept_switch_refresh_leave(app: TestApp) {
    let owner = org_app(&app, "acme", "verified_users").await;
    let (ada, _) = user(&app, "acme", "ada").await;
    let org = create_org(&app, "acme", &ada, json!({"name": "Acme Corp", "metadata": {"plan": "teams"}})).await;
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["role"], "owner");
    assert_eq!(org["metadata"]["plan"], "teams");
    let org_id = org["id"].as_str().unwrap().to_owned();

    // Invited by email; the mail carries the code and the hosted page's link.
    let path = format!("/acme/v1/orgs/{org_id}/invites");
    let invite = json_of(
        app.post_json_with_bearer(&path, &ada, &json!({"email": "bob@example.com", "roleName": "member"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(invite["role"], "member");
    let message = mail_to(&app, "bob@example.com").await;
    assert!(message.text_body().unwrap_or_default().contains("Acme Corp"), "{:?}", message.text_body());
    let code = query_param(&link_in(&message, "accept-org-invite"), "code");
    assert!(code.starts_with("oinv_"), "{code}");

    // Bob signs up; until his address is verified, the code does not make him a member.
    let bob_pair = app.signup_end_user("acme", "bob").await;
    let bob = access_token(&bob_pair);
    let accept = |token: String, code: String| {
        let app = &app;
        async move { app.post_json_with_bearer("/acme/v1/auth/accept-org-invite", &token, &json!({"code": code})).await }
    };
    assert_error(accept(bob.clone(), code.clone()).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // Nor someone else's verified address.
    let (carol, _) = user(&app, "acme", "carol").await;
    assert_error(accept(carol.clone(), code.clone()).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    verify(&app, "bob@example.com").await;
    let joined = json_of(accept(bob.clone(), code.clone()).await, StatusCode::OK).await;
    assert_eq!(joined["id"], org_id.as_str());
    assert_eq!(joined["role"], "member");
    // Single use.
    assert_error(accept(bob.clone(), code.clone()).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    assert_error(accept(bob.clone(), "oinv_nope".into()).await, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    let mine = json_of(app.get_with_bearer("/acme/v1/me/organizations", &bob).await, StatusCode::OK).await;
    assert_eq!(mine["organizations"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["organizations"][0]["role"], "member");
    assert_eq!(mine["active_organization_id"], Value::Null);

    // Switching answers a pair of the same session whose access token carries the org.
    let before = verify_with_jwks(&app, "acme", &bob).await;
    assert!(before.get("org").is_none(), "{before}");
    // A bearer alone never yields a refresh token: the switch rotates the session's own
    // (another session's, or one already rotated, is refused, and nothing switches).
    let path = "/acme/v1/auth/switch-organization";
    let bare = app.post_json_with_bearer(path, &bob, &json!({"org_id": org_id})).await;
    assert_error(bare, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let other_session = app.signin_end_user("acme", "bob").await;
    let body = json!({"org_id": org_id, "refresh_token": refresh_token(&other_session)});
    let foreign = app.post_json_with_bearer(path, &bob, &body).await;
    assert_error(foreign, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let mine = json_of(app.get_with_bearer("/acme/v1/me/organizations", &bob).await, StatusCode::OK).await;
    assert_eq!(mine["active_organization_id"], Value::Null, "nothing switched");
    let pair = json_of(switch(&app, "acme", &bob_pair, json!(org_id)).await, StatusCode::OK).await;
    let replay = json!({"org_id": org_id, "refresh_token": refresh_token(&bob_pair)});
    let rotated = app.post_json_with_bearer(path, &access_token(&pair), &replay).await;
    assert_error(rotated, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let claims = verify_with_jwks(&app, "acme", &access_token(&pair)).await;
    assert_eq!(claims["org"], org_id.as_str());
    assert_eq!(claims["org_role"], "member");
    assert_eq!(claims["role"], "member");
    assert_eq!(claims["sid"], before["sid"]);
    let in_org = access_token(&pair);
    let mine = json_of(app.get_with_bearer("/acme/v1/me/organizations", &in_org).await, StatusCode::OK).await;
    assert_eq!(mine["active_organization_id"], org_id.as_str());

    // Refreshes keep the org.
    let next = refresh(&app, "acme", &refresh_token(&pair)).await;
    let claims = verify_with_jwks(&app, "acme", &access_token(&next)).await;
    assert_eq!((claims["org"].as_str(), claims["org_role"].as_str()), (Some(org_id.as_str()), Some("member")));

    // Members read the org and its members, with their roles.
    let members =
        json_of(app.get_with_bearer(&format!("/acme/v1/orgs/{org_id}/members"), &in_org).await, StatusCode::OK).await;
    let roles: Vec<&str> = members["members"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["owner", "member"]);

    // Leaving: the org's bearer stops at once, the next refresh has no org.
    let bob_id = app.me("acme", &in_org).await["id"].as_str().unwrap().to_owned();
    let current = access_token(&next);
    assert_eq!(remove(&app, "acme", &current, &org_id, &bob_id).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get_with_bearer("/acme/v1/me", &current).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let after = refresh(&app, "acme", &refresh_token(&next)).await;
    let claims = verify_with_jwks(&app, "acme", &access_token(&after)).await;
    assert!(claims.get("org").is_none() && claims.get("org_role").is_none(), "{claims}");
    let gone = app.get_with_bearer(&format!("/acme/v1/orgs/{org_id}"), &access_token(&after)).await;
    assert_error(gone, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    // Every step is in the app's audit log.
    let log = json_of(app.get_with_bearer("/api/v1/apps/acme/audit?limit=200", &owner).await, StatusCode::OK).await;
    let text = log.to_string();
    for kind in ["org.created", "org.invited", "org.invite_accepted", "org.switched", "org.member_left"] {
        assert!(text.contains(&format!("\"{kind}\"")), "no {kind} in the log");
    }
}

/// A removed member's bearer is refused at once and its refresh carries no org; deleting
/// the org ends every bearer minted in it.
async fn removal_and_deletion_end_org_bearers(app: TestApp) {
    org_app(&app, "club", "any_user").await;
    let (ada, _) = user(&app, "club", "ada").await;
    let bob_pair = app.signup_end_user("club", "bob").await;
    let bob = access_token(&bob_pair);
    let bob_id = app.me("club", &bob).await["id"].as_str().unwrap().to_owned();
    let org = create_org(&app, "club", &ada, json!({"name": "Chess", "slug": "chess"})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let added = json_of(add(&app, "club", &ada, &org_id, &bob_id, "member").await, StatusCode::CREATED).await;
    assert_eq!(added["role"], "member");
    let pair = json_of(switch(&app, "club", &bob_pair, json!(org_id)).await, StatusCode::OK).await;
    let in_org = access_token(&pair);
    app.me("club", &in_org).await;

    // A role change stops the bearer that carries the old org_role; a refresh carries the new.
    json_of(set_role(&app, "club", &ada, &org_id, &bob_id, "admin").await, StatusCode::OK).await;
    assert_error(app.get_with_bearer("/club/v1/me", &in_org).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let pair = refresh(&app, "club", &refresh_token(&pair)).await;
    assert_eq!(verify_with_jwks(&app, "club", &access_token(&pair)).await["org_role"], "admin");
    let in_org = access_token(&pair);
    app.me("club", &in_org).await;

    assert_eq!(remove(&app, "club", &ada, &org_id, &bob_id).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get_with_bearer("/club/v1/me", &in_org).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // A bearer minted outside the org is untouched.
    app.me("club", &bob).await;
    let pair = refresh(&app, "club", &refresh_token(&pair)).await;
    assert!(verify_with_jwks(&app, "club", &access_token(&pair)).await.get("org").is_none());
    assert_error(switch(&app, "club", &pair, json!(org_id)).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    // Deleting the org ends its owner's bearers minted in it.
    let ada_pair = app.signin_end_user("club", "ada").await;
    let ada_pair = json_of(switch(&app, "club", &ada_pair, json!(org_id)).await, StatusCode::OK).await;
    let ada_in = access_token(&ada_pair);
    assert_eq!(
        app.delete_with_bearer(&format!("/club/v1/orgs/{org_id}"), &ada_in).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(app.get_with_bearer("/club/v1/me", &ada_in).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let ada_pair = refresh(&app, "club", &refresh_token(&ada_pair)).await;
    assert!(verify_with_jwks(&app, "club", &access_token(&ada_pair)).await.get("org").is_none());
}

/// Members cannot promote themselves, admins cannot touch owners or grant owner, nobody
/// reaches another org, and the last owner stays.
async fn escalation_and_last_owner(app: TestApp) {
    org_app(&app, "guild", "any_user").await;
    let (ada, ada_id) = user(&app, "guild", "ada").await;
    let (bob, bob_id) = user(&app, "guild", "bob").await;
    let (cat, cat_id) = user(&app, "guild", "cat").await;
    let (dan, _) = user(&app, "guild", "dan").await;
    let org = create_org(&app, "guild", &ada, json!({"name": "Guild One"})).await["id"].as_str().unwrap().to_owned();
    let other = create_org(&app, "guild", &dan, json!({"name": "Guild Two"})).await["id"].as_str().unwrap().to_owned();
    json_of(add(&app, "guild", &ada, &org, &bob_id, "admin").await, StatusCode::CREATED).await;
    json_of(add(&app, "guild", &ada, &org, &cat_id, "member").await, StatusCode::CREATED).await;

    // A member granting itself owner, or anything.
    assert_error(set_role(&app, "guild", &cat, &org, &cat_id, "owner").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(set_role(&app, "guild", &cat, &org, &cat_id, "admin").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(remove(&app, "guild", &cat, &org, &bob_id).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let patch = app.patch_json_with_bearer(&format!("/guild/v1/orgs/{org}"), &cat, &json!({"name": "Mine"})).await;
    assert_error(patch, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let invite = json!({"email": "eve@example.com"});
    let path = format!("/guild/v1/orgs/{org}/invites");
    assert_error(app.post_json_with_bearer(&path, &cat, &invite).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // An admin: not owner for itself or others, not over the owner, not deleting the org.
    assert_error(set_role(&app, "guild", &bob, &org, &bob_id, "owner").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(set_role(&app, "guild", &bob, &org, &cat_id, "owner").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert_error(set_role(&app, "guild", &bob, &org, &ada_id, "member").await, StatusCode::FORBIDDEN, "FORBIDDEN")
        .await;
    assert_error(remove(&app, "guild", &bob, &org, &ada_id).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let owner_invite = json!({"email": "eve@example.com", "roleName": "owner"});
    assert_error(app.post_json_with_bearer(&path, &bob, &owner_invite).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let delete = app.delete_with_bearer(&format!("/guild/v1/orgs/{org}"), &bob).await;
    assert_error(delete, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // What an admin may do.
    json_of(set_role(&app, "guild", &bob, &org, &cat_id, "admin").await, StatusCode::OK).await;
    json_of(set_role(&app, "guild", &bob, &org, &cat_id, "member").await, StatusCode::OK).await;
    let renamed = app.patch_json_with_bearer(&format!("/guild/v1/orgs/{org}"), &bob, &json!({"name": "Guild 1"})).await;
    assert_eq!(json_of(renamed, StatusCode::OK).await["name"], "Guild 1");

    // Another org is out of reach, whatever the role in one's own: 404, as if it did not exist.
    for response in [
        app.get_with_bearer(&format!("/guild/v1/orgs/{other}"), &ada).await,
        app.get_with_bearer(&format!("/guild/v1/orgs/{other}/members"), &ada).await,
        app.patch_json_with_bearer(&format!("/guild/v1/orgs/{other}"), &ada, &json!({"name": "x"})).await,
        app.delete_with_bearer(&format!("/guild/v1/orgs/{other}"), &ada).await,
        add(&app, "guild", &ada, &other, &ada_id, "owner").await,
        app.post_json_with_bearer(&format!("/guild/v1/orgs/{other}/invites"), &ada, &invite).await,
        switch(&app, "guild", &app.signin_end_user("guild", "ada").await, json!(other)).await,
        app.get_with_bearer("/guild/v1/orgs/not-a-uuid", &ada).await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    // Nor through another app's token.
    org_app(&app, "elsewhere", "any_user").await;
    let (stranger, _) = user(&app, "elsewhere", "zed").await;
    let response = app.get_with_bearer(&format!("/guild/v1/orgs/{org}"), &stranger).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // The last owner cannot leave, be demoted or removed.
    assert_error(remove(&app, "guild", &ada, &org, &ada_id).await, StatusCode::CONFLICT, "CONFLICT").await;
    assert_error(set_role(&app, "guild", &ada, &org, &ada_id, "admin").await, StatusCode::CONFLICT, "CONFLICT").await;
    // With a second owner, the first may leave.
    json_of(set_role(&app, "guild", &ada, &org, &bob_id, "owner").await, StatusCode::OK).await;
    assert_eq!(remove(&app, "guild", &ada, &org, &ada_id).await.status(), StatusCode::NO_CONTENT);
    assert_error(remove(&app, "guild", &bob, &org, &bob_id).await, StatusCode::CONFLICT, "CONFLICT").await;
}

/// Two owners leaving at once: one of them stays.
async fn last_owner_under_race(app: TestApp) {
    org_app(&app, "race", "any_user").await;
    for round in 0..3 {
        let (ada, ada_id) = user(&app, "race", &format!("ada{round}")).await;
        let (bob, bob_id) = user(&app, "race", &format!("bob{round}")).await;
        let org = create_org(&app, "race", &ada, json!({"name": format!("Race {round}")})).await;
        let org = org["id"].as_str().unwrap().to_owned();
        json_of(add(&app, "race", &ada, &org, &bob_id, "owner").await, StatusCode::CREATED).await;
        let (a, b) = tokio::join!(remove(&app, "race", &ada, &org, &ada_id), remove(&app, "race", &bob, &org, &bob_id));
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::CONFLICT], "round {round}");
        // And two owners demoting each other at once.
        let (cat, cat_id) = user(&app, "race", &format!("cat{round}")).await;
        let survivor = if a.status() == StatusCode::NO_CONTENT { &bob } else { &ada };
        json_of(add(&app, "race", survivor, &org, &cat_id, "owner").await, StatusCode::CREATED).await;
        let survivor_id = if a.status() == StatusCode::NO_CONTENT { &bob_id } else { &ada_id };
        let (x, y) = tokio::join!(
            set_role(&app, "race", survivor, &org, &cat_id, "member"),
            set_role(&app, "race", &cat, &org, survivor_id, "member"),
        );
        assert!(x.status() == StatusCode::OK || y.status() == StatusCode::OK);
        let members = app.get_with_bearer(&format!("/race/v1/orgs/{org}/members"), survivor).await;
        let members = match members.status() {
            StatusCode::OK => members.json::<Value>().await.unwrap(),
            _ => {
                json_of(app.get_with_bearer(&format!("/race/v1/orgs/{org}/members"), &cat).await, StatusCode::OK).await
            }
        };
        let owners = members["members"].as_array().unwrap().iter().filter(|m| m["role"] == "owner").count();
        assert_eq!(owners, 1, "round {round}: {members}");
    }
}

/// The config's switches, the creation rule, slugs and bad input.
async fn config_and_input(app: TestApp) {
    let owner = app.app_with_owner("shop").await;
    let (ada, _) = user(&app, "shop", "ada").await;
    let body = json!({"name": "Ada's"});
    let response = app.post_json_with_bearer("/shop/v1/orgs", &ada, &body).await;
    let refused = assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert!(refused["message"].as_str().unwrap().contains("not enabled"), "{refused}");
    assert_error(app.get_with_bearer("/shop/v1/me/organizations", &ada).await, StatusCode::FORBIDDEN, "FORBIDDEN")
        .await;
    // Leaving every org is always possible.
    json_of(switch(&app, "shop", &app.signin_end_user("shop", "ada").await, Value::Null).await, StatusCode::OK).await;

    let config = app.patch_config(&owner, "shop", &json!({"organizations_enabled": true})).await;
    assert_eq!(config["organization_creation"], "verified_users");
    let bad =
        app.patch_json_with_bearer("/api/v1/apps/shop/config", &owner, &json!({"organization_creation": "all"})).await;
    let bad = assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    assert!(bad["message"].as_str().unwrap().starts_with("organization_creation must be one of"), "{bad}");

    // Seed 003: the email must be verified first.
    let unverified = access_token(&app.signup_end_user("shop", "uma").await);
    let response = app.post_json_with_bearer("/shop/v1/orgs", &unverified, &body).await;
    let refused = assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert!(refused["message"].as_str().unwrap().contains("Verify your email"), "{refused}");
    let org = create_org(&app, "shop", &ada, json!({"name": "Ada's", "slug": "adas"})).await;
    assert_eq!(org["slug"], "adas");

    // Slugs are unique per app, and checked; names and metadata too.
    let taken = app.post_json_with_bearer("/shop/v1/orgs", &ada, &json!({"name": "Other", "slug": "adas"})).await;
    assert_error(taken, StatusCode::CONFLICT, "CONFLICT").await;
    let second = create_org(&app, "shop", &ada, json!({"name": "Second"})).await;
    let path = format!("/shop/v1/orgs/{}", second["id"].as_str().unwrap());
    assert_error(
        app.patch_json_with_bearer(&path, &ada, &json!({"slug": "adas"})).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    for bad in [
        json!({"name": "x", "slug": "Not A Slug"}),
        json!({"name": "x", "slug": "ab"}),
        json!({"name": ""}),
        json!({"name": "x", "metadata": [1, 2]}),
        json!({"name": "x", "metadata": {"big": "x".repeat(9000)}}),
        json!({"name": 5}),
        json!({}),
    ] {
        let response = app.post_json_with_bearer("/shop/v1/orgs", &ada, &bad).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let response =
        app.post_json_with_bearer(&format!("{path}/members"), &ada, &json!({"user_id": "x", "role": "nope"})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let ada_id = app.me("shop", &ada).await["id"].as_str().unwrap().to_owned();
    let response = set_role(&app, "shop", &ada, second["id"].as_str().unwrap(), &ada_id, "no-such-role").await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let response = app.post_json_with_bearer(&format!("{path}/invites"), &ada, &json!({"email": "not-an-email"})).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;

    // admins_only: end-users whose app role is owner or admin.
    app.patch_config(&owner, "shop", &json!({"organization_creation": "admins_only"})).await;
    let response = app.post_json_with_bearer("/shop/v1/orgs", &ada, &json!({"name": "Third"})).await;
    assert_error(response, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // A role held by an org member cannot be deleted.
    let role = json!({"name": "billing", "description": "Billing", "permissions": []});
    json_of(app.post_json_with_bearer("/api/v1/apps/shop/roles", &owner, &role).await, StatusCode::CREATED).await;
    let bob = access_token(&app.signup_end_user("shop", "bob").await);
    let bob_id = app.me("shop", &bob).await["id"].as_str().unwrap().to_owned();
    json_of(add(&app, "shop", &ada, org["id"].as_str().unwrap(), &bob_id, "billing").await, StatusCode::CREATED).await;
    let response = app.delete_with_bearer("/api/v1/apps/shop/roles/billing", &owner).await;
    assert_error(response, StatusCode::CONFLICT, "CONFLICT").await;
}

/// The management API: list, search, page, open, members, remove a member, delete; only with
/// `org.read` / `org.update` on the app.
async fn management_api(app: TestApp) {
    let owner = org_app(&app, "corp", "any_user").await;
    let (ada, _) = user(&app, "corp", "ada").await;
    let (_, bob_id) = user(&app, "corp", "bob").await;
    let mut ids = Vec::new();
    for name in ["Alpha Team", "Beta Team", "Gamma Crew"] {
        ids.push(create_org(&app, "corp", &ada, json!({"name": name})).await["id"].as_str().unwrap().to_owned());
    }
    json_of(add(&app, "corp", &ada, &ids[0], &bob_id, "member").await, StatusCode::CREATED).await;

    let page =
        json_of(app.get_with_bearer("/api/v1/apps/corp/organizations?limit=2", &owner).await, StatusCode::OK).await;
    assert_eq!(page["organizations"].as_array().unwrap().len(), 2);
    assert_eq!(page["organizations"][0]["member_count"], 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app.get_with_bearer(&format!("/api/v1/apps/corp/organizations?limit=2&cursor={cursor}"), &owner).await;
    let rest = json_of(rest, StatusCode::OK).await;
    assert_eq!(rest["organizations"][0]["name"], "Gamma Crew");
    assert_eq!(rest["next_cursor"], Value::Null);
    let found = app.get_with_bearer("/api/v1/apps/corp/organizations?search=TEAM", &owner).await;
    assert_eq!(json_of(found, StatusCode::OK).await["organizations"].as_array().unwrap().len(), 2);
    let bad = app.get_with_bearer("/api/v1/apps/corp/organizations?cursor=zzz", &owner).await;
    assert_error(bad, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    let path = format!("/api/v1/apps/corp/organizations/{}", ids[0]);
    assert_eq!(json_of(app.get_with_bearer(&path, &owner).await, StatusCode::OK).await["name"], "Alpha Team");
    let members = json_of(app.get_with_bearer(&format!("{path}/members"), &owner).await, StatusCode::OK).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 2);

    // Bob acts in the org; removed by the app's admin, his org bearer stops.
    let bob_pair = app.signin_end_user("corp", "bob").await;
    let in_org = access_token(&json_of(switch(&app, "corp", &bob_pair, json!(ids[0])).await, StatusCode::OK).await);
    assert_eq!(
        app.delete_with_bearer(&format!("{path}/members/{bob_id}"), &owner).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(app.get_with_bearer("/corp/v1/me", &in_org).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // Not the last owner, though.
    let ada_id = app.me("corp", &ada).await["id"].as_str().unwrap().to_owned();
    let response = app.delete_with_bearer(&format!("{path}/members/{ada_id}"), &owner).await;
    assert_error(response, StatusCode::CONFLICT, "CONFLICT").await;

    // Accounts without standing on the app learn nothing; an org of another app is not found.
    let stranger = app.account_token("stranger").await;
    assert_error(app.get_with_bearer(&path, &stranger).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let other_owner = org_app(&app, "other", "any_user").await;
    assert_error(
        app.get_with_bearer(&format!("/api/v1/apps/other/organizations/{}", ids[0]), &other_owner).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.delete_with_bearer(&format!("/api/v1/apps/other/organizations/{}", ids[0]), &other_owner).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    assert_eq!(app.delete_with_bearer(&path, &owner).await.status(), StatusCode::NO_CONTENT);
    assert_error(app.get_with_bearer(&path, &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let log =
        json_of(app.get_with_bearer("/api/v1/apps/corp/audit?type=org.deleted", &owner).await, StatusCode::OK).await;
    assert!(log.to_string().contains("org.deleted"), "{log}");
}

fn session_cookie(response: &Response) -> String {
    let line = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.starts_with("session="))
        .expect("a session cookie")
        .to_owned();
    format!("session={}", line.split(';').next().unwrap().trim_start_matches("session="))
}

/// Seed 003's cookie API: `active_organization_id` follows the session, and
/// `organization/set-active` sets it under the cookie writes' CSRF rules.
async fn cookie_api_active_organization(app: TestApp) {
    org_app(&app, "saas", "any_user").await;
    let (ada, _) = user(&app, "saas", "ada").await;
    let org = create_org(&app, "saas", &ada, json!({"name": "Saas Org"})).await["id"].as_str().unwrap().to_owned();
    let response = app
        .post_json(
            "/saas/api/auth/sign-in/email",
            &json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD}),
        )
        .await;
    let cookie = session_cookie(&response);
    let body = json_of(response, StatusCode::OK).await;
    assert_eq!(body["session"]["active_organization_id"], Value::Null);

    let set = |org: Value, origin: Option<String>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let mut request = app
                .client
                .post(app.url("/saas/api/auth/organization/set-active"))
                .header(COOKIE, cookie)
                .json(&json!({"organizationId": org}));
            if let Some(origin) = origin {
                request = request.header(ORIGIN, origin);
            }
            request.send().await.unwrap()
        }
    };
    assert_error(set(json!(org), Some("https://evil.example".into())).await, StatusCode::FORBIDDEN, "CSRF_FAILED")
        .await;
    let answer = json_of(set(json!(org), Some(app.public_url.clone())).await, StatusCode::OK).await;
    assert_eq!(answer["session"]["active_organization_id"], org.as_str());
    let session = app.client.get(app.url("/saas/api/auth/get-session")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(json_of(session, StatusCode::OK).await["session"]["active_organization_id"], org.as_str());
    let token = app.client.post(app.url("/saas/api/auth/token")).header(COOKIE, &cookie).send().await.unwrap();
    let token = json_of(token, StatusCode::OK).await["token"].as_str().unwrap().to_owned();
    let claims = verify_with_jwks(&app, "saas", &token).await;
    assert_eq!((claims["org"].as_str(), claims["org_role"].as_str()), (Some(org.as_str()), Some("owner")));

    // Not into an org one is not a member of; `null` leaves.
    let (dan, _) = user(&app, "saas", "dan").await;
    let foreign = create_org(&app, "saas", &dan, json!({"name": "Dan Org"})).await["id"].as_str().unwrap().to_owned();
    assert_error(set(json!(foreign), None).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let left = json_of(set(Value::Null, None).await, StatusCode::OK).await;
    assert_eq!(left["session"]["active_organization_id"], Value::Null);
    let without = app.post_json("/saas/api/auth/organization/set-active", &json!({"organization_id": org})).await;
    assert_error(without, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

/// The invite mail's link opens a hosted page: without a session it says to sign in as the
/// invited address; signed in (the address verified), its form joins; a spent code is dead.
async fn hosted_accept_page(app: TestApp) {
    use crate::hosted::{assert_secure_page, signed_up, Browser};
    org_app(&app, "club", "any_user").await;
    let (ada, _) = user(&app, "club", "ada").await;
    let org = create_org(&app, "club", &ada, json!({"name": "Night Owls"})).await["id"].as_str().unwrap().to_owned();
    let path = format!("/club/v1/orgs/{org}/invites");
    let sent = app.post_json_with_bearer(&path, &ada, &json!({"email": "zoe@example.com", "role": "admin"})).await;
    json_of(sent, StatusCode::CREATED).await;
    let link = link_in(&mail_to(&app, "zoe@example.com").await, "accept-org-invite");
    let link = link.trim_start_matches(&app.public_url).to_owned();

    let stranger = Browser::new(&app).get(&link).await;
    assert_eq!(stranger.status, StatusCode::OK);
    assert!(stranger.contains("Night Owls") && stranger.contains("Sign in as zoe@example.com"), "{}", stranger.html);
    assert!(!stranger.contains("confirm-form"), "no form without a session");

    let zoe = signed_up(&app, "club", "zoe@example.com").await;
    verify(&app, "zoe@example.com").await;
    let page = zoe.get(&link).await;
    assert_secure_page(&page);
    let done = zoe.submit(&page, "confirm-form", &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(done.path.contains("done=1"), "{}", done.path);
    let zoe_token = access_token(&app.signin_end_user("club", "zoe@example.com").await);
    let mine = json_of(app.get_with_bearer("/club/v1/me/organizations", &zoe_token).await, StatusCode::OK).await;
    assert_eq!(mine["organizations"][0]["role"], "admin");
    assert_eq!(zoe.get(&link).await.status, StatusCode::BAD_REQUEST, "spent");
}

both_stores!(
    hosted_accept_page,
    invite_accept_switch_refresh_leave,
    removal_and_deletion_end_org_bearers,
    escalation_and_last_owner,
    last_owner_under_race,
    config_and_input,
    management_api,
    cookie_api_active_organization,
);
