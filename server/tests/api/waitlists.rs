//! Waitlists (seed 004): `PUT|GET|DELETE /{slug}/v1/me/waitlists/{feature}` and
//! `GET me/waitlists` for end-users; counts, pages, CSV export and admission for admins.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::end_users::{seed_user, Seeded};
use crate::helpers::{access_token, assert_error, both_stores, json_of, mail_to, refresh_token, TestApp};

async fn put(app: &TestApp, slug: &str, feature: &str, token: &str) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/{slug}/v1/me/waitlists/{feature}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

/// An app listing the features `beta` and `pro`; returns the owner's token.
async fn app_with_waitlists(app: &TestApp, slug: &str) -> String {
    let owner = app.app_with_owner(slug).await;
    app.patch_config(&owner, slug, &json!({ "waitlists": ["beta", "pro"] })).await;
    owner
}

/// Events of one type in the app's audit log.
async fn events(app: &TestApp, owner: &str, slug: &str, kind: &str) -> Vec<Value> {
    let path = format!("/api/v1/apps/{slug}/audit?type={kind}");
    let page = json_of(app.get_with_bearer(&path, owner).await, StatusCode::OK).await;
    page["events"].as_array().expect("events").clone()
}

async fn joining_is_idempotent_and_per_user(app: TestApp) {
    let slug = "wl-join";
    let owner = app_with_waitlists(&app, slug).await;
    let ada = access_token(&app.signup_end_user(slug, "ada").await);
    let bob = access_token(&app.signup_end_user(slug, "bob").await);

    let first = json_of(put(&app, slug, "beta", &ada).await, StatusCode::OK).await;
    assert_eq!(first["feature"], "beta");
    assert_eq!(first["joined"], true);
    assert_eq!(first["status"], "waiting");
    assert_eq!(first["organization_id"], Value::Null);
    let again = json_of(put(&app, slug, "beta", &ada).await, StatusCode::OK).await;
    assert_eq!(again, first, "a repeat answers the same entry");

    let mine = json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists"), &ada).await, StatusCode::OK).await;
    assert_eq!(mine["waitlists"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["waitlists"][0], first);
    let beta = json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &ada).await, StatusCode::OK).await;
    assert_eq!(beta, first);
    let pro = json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/pro"), &ada).await, StatusCode::OK).await;
    assert_eq!(pro["joined"], false);
    assert_eq!(pro["status"], Value::Null);

    // Another user is on nobody's list but its own.
    let bobs = json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists"), &bob).await, StatusCode::OK).await;
    assert_eq!(bobs["waitlists"], json!([]));
    let bob_beta =
        json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &bob).await, StatusCode::OK).await;
    assert_eq!(bob_beta["joined"], false);

    // Leaving is idempotent too.
    let leave = app.delete_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &ada).await;
    assert_eq!(leave.status(), StatusCode::NO_CONTENT);
    let leave = app.delete_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &ada).await;
    assert_eq!(leave.status(), StatusCode::NO_CONTENT);
    let beta = json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &ada).await, StatusCode::OK).await;
    assert_eq!(beta["joined"], false);

    // One event per change, none for the repeats.
    assert_eq!(events(&app, &owner, slug, "waitlist.joined").await.len(), 1);
    assert_eq!(events(&app, &owner, slug, "waitlist.left").await.len(), 1);
}

async fn unknown_features_and_strangers_are_refused(app: TestApp) {
    let slug = "wl-refuse";
    app_with_waitlists(&app, slug).await;
    let ada = access_token(&app.signup_end_user(slug, "ada").await);
    assert_error(put(&app, slug, "gamma", &ada).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(put(&app, slug, "Bad%20Name", &ada).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let path = format!("/{slug}/v1/me/waitlists/gamma");
    assert_error(app.get_with_bearer(&path, &ada).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(put(&app, slug, "beta", "not-a-token").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_error(app.get(&format!("/{slug}/v1/me/waitlists")).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // A token of another app is no token here.
    let other = "wl-refuse-other";
    app_with_waitlists(&app, other).await;
    let stranger = access_token(&app.signup_end_user(other, "eve").await);
    assert_error(put(&app, slug, "beta", &stranger).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // The config takes only well-formed, distinct names.
    let owner = app.account_token("wl-refuse-admin").await;
    app.create_app_ok(&owner, "wl-refuse-cfg").await;
    let path = "/api/v1/apps/wl-refuse-cfg/config";
    for bad in [json!(["Beta"]), json!(["beta", "beta"]), json!(["a b"]), json!([""]), json!("beta")] {
        let response = app.patch_json_with_bearer(path, &owner, &json!({ "waitlists": bad })).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }

    // A feature dropped from the config takes no one new, but those on it can still look
    // and leave.
    app.patch_config(&owner, "wl-refuse-cfg", &json!({ "waitlists": ["beta"] })).await;
    let zoe = access_token(&app.signup_end_user("wl-refuse-cfg", "zoe").await);
    json_of(put(&app, "wl-refuse-cfg", "beta", &zoe).await, StatusCode::OK).await;
    app.patch_config(&owner, "wl-refuse-cfg", &json!({ "waitlists": [] })).await;
    assert_error(put(&app, "wl-refuse-cfg", "beta", &zoe).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let still = app.get_with_bearer("/wl-refuse-cfg/v1/me/waitlists/beta", &zoe).await;
    assert_eq!(json_of(still, StatusCode::OK).await["joined"], true);
    let summary =
        json_of(app.get_with_bearer("/api/v1/apps/wl-refuse-cfg/waitlists", &owner).await, StatusCode::OK).await;
    assert_eq!(summary["waitlists"], json!([{"feature": "beta", "configured": false, "waiting": 1, "admitted": 0}]));
}

async fn admins_count_page_export_and_admit(app: TestApp) {
    let slug = "wl-admin";
    let owner = app_with_waitlists(&app, slug).await;
    let mut tokens = Vec::new();
    for (name, display) in [("ann", "Ann"), ("ben", "=HYPERLINK(\"http://x\")"), ("cat", "Cat, the third")] {
        seed_user(
            &app,
            slug,
            Seeded {
                username: name,
                display_name: Some(display),
                email: Some(&format!("{name}@example.com")),
                email_verified: true,
                password: Some(crate::helpers::PASSWORD),
                ..Seeded::default()
            },
        )
        .await;
        let token = access_token(&app.signin_end_user(slug, name).await);
        json_of(put(&app, slug, "beta", &token).await, StatusCode::OK).await;
        tokens.push(token);
    }

    let summary =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/{slug}/waitlists"), &owner).await, StatusCode::OK).await;
    assert_eq!(
        summary["waitlists"],
        json!([
            {"feature": "beta", "configured": true, "waiting": 3, "admitted": 0},
            {"feature": "pro", "configured": true, "waiting": 0, "admitted": 0},
        ])
    );

    // Oldest first, a page at a time.
    let base = format!("/api/v1/apps/{slug}/waitlists/beta");
    let first = json_of(app.get_with_bearer(&format!("{base}?limit=2"), &owner).await, StatusCode::OK).await;
    let names: Vec<&str> =
        first["entries"].as_array().unwrap().iter().map(|e| e["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "ben"]);
    assert_eq!(first["entries"][0]["email"], "ann@example.com");
    assert_eq!(first["entries"][0]["status"], "waiting");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second =
        json_of(app.get_with_bearer(&format!("{base}?limit=2&cursor={cursor}"), &owner).await, StatusCode::OK).await;
    assert_eq!(second["entries"].as_array().unwrap().len(), 1);
    assert_eq!(second["entries"][0]["username"], "cat");
    assert_eq!(second["next_cursor"], Value::Null);

    // Let the two who waited longest in: each gets a mail, in the request's language.
    let admitted = json_of(
        app.post_json_with_bearer(&format!("{base}/admit"), &owner, &json!({ "count": 2 })).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> =
        admitted["admitted"].as_array().unwrap().iter().map(|e| e["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "ben"]);
    assert!(admitted["admitted"].as_array().unwrap().iter().all(|e| e["status"] == "admitted"));
    let mail = mail_to(&app, "ann@example.com").await;
    let (subject, text) = (mail.subject().unwrap_or_default(), mail.text_body().unwrap_or_default());
    assert!(subject.contains("beta"), "{subject}");
    assert!(text.contains("beta") && text.contains("Hello Ann"), "{text}");
    mail_to(&app, "ben@example.com").await;

    // The end-user sees it; admitting the same entry again lets no one in twice.
    let ann =
        json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &tokens[0]).await, StatusCode::OK).await;
    assert_eq!(ann["status"], "admitted");
    assert!(ann["admitted_at"].is_string());
    let ann_id = first["entries"][0]["id"].as_str().unwrap();
    let cat_id = second["entries"][0]["id"].as_str().unwrap();
    let again = json_of(
        app.post_json_with_bearer(&format!("{base}/admit"), &owner, &json!({ "ids": [ann_id, cat_id] })).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> =
        again["admitted"].as_array().unwrap().iter().map(|e| e["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["cat"], "only the one still waiting");
    assert_eq!(events(&app, &owner, slug, "waitlist.admitted").await.len(), 3);

    // Filters.
    let waiting = json_of(app.get_with_bearer(&format!("{base}?status=waiting"), &owner).await, StatusCode::OK).await;
    assert_eq!(waiting["entries"], json!([]));
    assert_eq!(waiting["summary"], json!({"feature": "beta", "configured": true, "waiting": 0, "admitted": 3}));

    // The export: every entry, and nothing a spreadsheet would run.
    let response = app.get_with_bearer(&format!("{base}/export"), &owner).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("id,feature,user_id,username,display_name,email"));
    assert!(lines[2].contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(lines[3].contains("\"Cat, the third\""), "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.contains(",admitted,")), "{csv}");
}

async fn who_may_manage_waitlists(app: TestApp) {
    let slug = "wl-who";
    let owner = app_with_waitlists(&app, slug).await;
    let base = format!("/api/v1/apps/{slug}/waitlists");

    // No standing on the app: nothing to see.
    let stranger = app.account_token("wl-who-stranger").await;
    assert_error(app.get_with_bearer(&base, &stranger).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    // A key that may read lists and exports, but not let anyone in.
    let (_, reader) = create_key(&app, &owner, slug, &["waitlist.read"]).await;
    json_of(app.get_with_bearer(&base, &reader).await, StatusCode::OK).await;
    json_of(app.get_with_bearer(&format!("{base}/beta"), &reader).await, StatusCode::OK).await;
    let admit = app.post_json_with_bearer(&format!("{base}/beta/admit"), &reader, &json!({ "count": 1 })).await;
    assert_error(admit, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    let (_, writer) = create_key(&app, &owner, slug, &["waitlist.update"]).await;
    assert_error(app.get_with_bearer(&base, &writer).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;

    // Bad input is a 400 naming it; an unknown list a 404.
    for body in [
        json!({}),
        json!({ "count": 0 }),
        json!({ "count": 501 }),
        json!({ "ids": [] }),
        json!({ "ids": ["nope"] }),
        json!({ "ids": ["00000000-0000-0000-0000-000000000000"], "count": 1 }),
    ] {
        let response = app.post_json_with_bearer(&format!("{base}/beta/admit"), &owner, &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let response = app.post_json_with_bearer(&format!("{base}/beta/admit"), &owner, &json!({ "who": 1 })).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    for query in ["status=later", "limit=0", "limit=1000", "limit=x", "cursor=garbage"] {
        let response = app.get_with_bearer(&format!("{base}/beta?{query}"), &owner).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    assert_error(app.get_with_bearer(&format!("{base}/gamma"), &owner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let export = app.get_with_bearer(&format!("{base}/gamma/export"), &owner).await;
    assert_error(export, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

/// Admins letting the same people in at once mail each of them once.
async fn parallel_admissions_let_each_in_once(app: TestApp) {
    let slug = "wl-race";
    let owner = app_with_waitlists(&app, slug).await;
    for i in 0..4 {
        let name = format!("racer{i}");
        let token = access_token(&app.signup_end_user(slug, &name).await);
        json_of(put(&app, slug, "beta", &token).await, StatusCode::OK).await;
    }
    let path = format!("/api/v1/apps/{slug}/waitlists/beta/admit");
    let body = json!({ "count": 4 });
    let admissions = (0..8).map(|_| app.post_json_with_bearer(&path, &owner, &body));
    let mut total = 0;
    for response in futures_util::future::join_all(admissions).await {
        total += json_of(response, StatusCode::OK).await["admitted"].as_array().unwrap().len();
    }
    assert_eq!(total, 4, "each entry admitted exactly once");
    assert_eq!(events(&app, &owner, slug, "waitlist.admitted").await.len(), 4);
}

/// Seed 004's "token account context": a token acting in an organization joins, sees and
/// leaves that organization's entries; the same user's own entries are another list, and
/// admins see both, each with its organization.
async fn entries_follow_the_tokens_organization(app: TestApp) {
    let slug = "wl-org";
    let owner = app_with_waitlists(&app, slug).await;
    app.patch_config(&owner, slug, &json!({ "organizations_enabled": true, "organization_creation": "any_user" }))
        .await;
    let pair = app.signup_end_user(slug, "ada").await;
    let personal = access_token(&pair);
    let path = format!("/{slug}/v1/orgs");
    let org = json_of(
        app.post_json_with_bearer(&path, &personal, &json!({ "name": "Acme Corp" })).await,
        StatusCode::CREATED,
    )
    .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let switch = format!("/{slug}/v1/auth/switch-organization");
    let body = json!({ "org_id": org_id, "refresh_token": refresh_token(&pair) });
    let in_org_pair = json_of(app.post_json_with_bearer(&switch, &personal, &body).await, StatusCode::OK).await;
    let in_org = access_token(&in_org_pair);

    let joined = json_of(put(&app, slug, "beta", &in_org).await, StatusCode::OK).await;
    assert_eq!(joined["organization_id"], org_id.as_str());
    // In the org's context it is joined; in the user's own, not.
    let own =
        json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &in_org).await, StatusCode::OK).await;
    assert_eq!(own["joined"], true);
    let body_back = json!({ "org_id": null, "refresh_token": refresh_token(&in_org_pair) });
    let back = json_of(app.post_json_with_bearer(&switch, &in_org, &body_back).await, StatusCode::OK).await;
    let personal = access_token(&back);
    let mine =
        json_of(app.get_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &personal).await, StatusCode::OK).await;
    assert_eq!(mine["joined"], false);
    assert_eq!(mine["organization_id"], Value::Null);
    json_of(put(&app, slug, "beta", &personal).await, StatusCode::OK).await;

    // Leaving in one context leaves the other alone.
    let leave = app.delete_with_bearer(&format!("/{slug}/v1/me/waitlists/beta"), &personal).await;
    assert_eq!(leave.status(), StatusCode::NO_CONTENT);
    let page =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/{slug}/waitlists/beta"), &owner).await, StatusCode::OK)
            .await;
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{page}");
    assert_eq!(entries[0]["organization_id"], org_id.as_str());
    assert_eq!(entries[0]["organization_name"], "Acme Corp");
}

both_stores!(
    joining_is_idempotent_and_per_user,
    unknown_features_and_strangers_are_refused,
    admins_count_page_export_and_admit,
    who_may_manage_waitlists,
    parallel_admissions_let_each_in_once,
    entries_follow_the_tokens_organization,
);
