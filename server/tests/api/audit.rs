//! The audit log through the API (issue 11): every flow leaves its event, with who did it to
//! whom, from where and in which request; the log read filtered and paged; no event for a
//! refused change.

use std::collections::BTreeMap;

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::api_keys::create_key;
use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp, PASSWORD};
use crate::quickstart::verify_with_jwks;

/// The user agent every request of the flow sends, to be found on its events.
const AGENT: &str = "rampart-audit-tests/1.0";

/// The same server, its client sending [`AGENT`].
fn with_agent(mut app: TestApp) -> TestApp {
    app.client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(AGENT)
        .build()
        .expect("HTTP client");
    app
}

/// Every event of the app's log passing `query`, newest first, paged through 200 at a time.
pub async fn events(app: &TestApp, token: &str, slug: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/apps/{slug}/audit")))
            .bearer_auth(token)
            .query(query)
            .query(&[("limit", "200")]);
        if let Some(cursor) = &cursor {
            request = request.query(&[("cursor", cursor)]);
        }
        let page = json_of(request.send().await.unwrap(), StatusCode::OK).await;
        all.extend(page["events"].as_array().unwrap_or_else(|| panic!("no events: {page}")).iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// `GET /api/v1/apps/{slug}/audit/verify`.
pub async fn verify(app: &TestApp, token: &str, slug: &str) -> Value {
    json_of(app.get_with_bearer(&format!("/api/v1/apps/{slug}/audit/verify"), token).await, StatusCode::OK).await
}

/// How many events of each type.
pub fn census(events: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts.entry(event["type"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    counts
}

/// The one event of type `kind` that `pick` chooses.
fn find<'a>(events: &'a [Value], kind: &str, pick: impl Fn(&Value) -> bool) -> &'a Value {
    let found: Vec<&Value> = events.iter().filter(|e| e["type"] == kind && pick(e)).collect();
    assert_eq!(found.len(), 1, "one such {kind} in {:?}", census(events));
    found[0]
}

/// The one event of type `kind`.
fn the<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    find(events, kind, |_| true)
}

/// What an event says of who did what to whom: `[outcome, actor, subject, session_id]`.
fn who(event: &Value) -> Value {
    json!([event["outcome"], event["actor"], event["subject"], event["session_id"]])
}

/// An event's actor or subject, as the API shows it.
pub fn party(kind: &str, id: &str) -> Value {
    json!({ "type": kind, "id": id })
}

/// The `sub` and `sid` of a token pair's access token.
pub async fn user_and_session(app: &TestApp, slug: &str, pair: &Value) -> (String, String) {
    let claims = verify_with_jwks(app, slug, &access_token(pair)).await;
    (claims["sub"].as_str().unwrap().to_owned(), claims["sid"].as_str().unwrap().to_owned())
}

/// The id of the account behind `token`.
pub async fn account_id(app: &TestApp, token: &str) -> String {
    let me = json_of(app.get_with_bearer("/api/v1/auth/me", token).await, StatusCode::OK).await;
    me["id"].as_str().unwrap().to_owned()
}

/// Signs up account `username` and makes it a member of the app (memberships are made only
/// with their app so far, so straight in the store) with a new role `{username}-role` holding
/// `permissions`; returns its access token.
pub async fn member_with(app: &TestApp, owner: &str, slug: &str, username: &str, permissions: &[&str]) -> String {
    let role = app
        .post_json_with_bearer(
            &format!("/api/v1/apps/{slug}/roles"),
            owner,
            &json!({ "name": format!("{username}-role"), "permissions": permissions }),
        )
        .await;
    let role = json_of(role, StatusCode::CREATED).await;
    let token = app.account_token(username).await;
    let record = app.engine.app(slug).await.unwrap();
    let mut tx = app.engine.store().begin().await.unwrap();
    let role = uuid::Uuid::parse_str(role["id"].as_str().unwrap()).unwrap();
    let id = uuid::Uuid::parse_str(&account_id(app, &token).await).unwrap();
    tx.insert_membership(record.id, id, role, chrono::Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    token
}

/// `POST /{slug}/v1/auth/signin`, with the caller's own `X-Request-Id` if given.
pub async fn signin(app: &TestApp, slug: &str, identifier: &str, password: &str, request_id: Option<&str>) -> Response {
    let mut request = app
        .client
        .post(app.url(&format!("/{slug}/v1/auth/signin")))
        .json(&json!({ "identifier": identifier, "password": password }));
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    request.send().await.unwrap()
}

/// `POST /{slug}/v1/auth/refresh`.
pub async fn refresh(app: &TestApp, slug: &str, token: &str) -> Response {
    app.post_json(&format!("/{slug}/v1/auth/refresh"), &json!({ "refresh_token": token })).await
}

fn request_id_of(response: &Response) -> String {
    let value = response.headers().get("x-request-id").expect("X-Request-Id in the response");
    value.to_str().unwrap().to_owned()
}

/// Issue 11's first test: each flow, then the log, event by event; then the chain.
async fn every_flow_leaves_its_event(app: TestApp) {
    let app = with_agent(app);
    let owner = app.app_with_owner("logbook").await;
    let owner_id = account_id(&app, &owner).await;
    let record = json_of(app.get_with_bearer("/api/v1/apps/logbook", &owner).await, StatusCode::OK).await;
    let app_id = record["id"].as_str().unwrap().to_owned();
    let by_owner = party("account", &owner_id);

    // The end-user's own flows.
    let signed_up = app.signup_end_user("logbook", "ada").await;
    let (ada, s_up) = user_and_session(&app, "logbook", &signed_up).await;
    app.signup_end_user("logbook", "grace").await;
    // A request id of the caller's own is kept and echoed.
    let response = signin(&app, "logbook", "ada", PASSWORD, Some("audit-test-42")).await;
    assert_eq!(request_id_of(&response), "audit-test-42");
    let signed_in = json_of(response, StatusCode::OK).await;
    let (_, s_in) = user_and_session(&app, "logbook", &signed_in).await;
    // One that could forge a log line is replaced by a fresh one.
    let response = signin(&app, "logbook", "ada", "not-the-password", Some("has spaces in it")).await;
    let replaced = request_id_of(&response);
    assert!(Uuid::parse_str(&replaced).is_ok(), "{replaced}");
    let wrong = assert_error(response, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let unknown = signin(&app, "logbook", "nobody", PASSWORD, None).await;
    let unknown = assert_error(unknown, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    assert_eq!(wrong, unknown, "one answer for every refused sign-in");
    for reason in ["wrong_password", "unknown_identifier", "reason"] {
        assert!(!wrong.to_string().contains(reason), "{wrong}");
    }
    let refreshed = json_of(refresh(&app, "logbook", &refresh_token(&signed_in)).await, StatusCode::OK).await;
    // The rotated token replayed: reuse, and the session ends.
    let replay = refresh(&app, "logbook", &refresh_token(&signed_in)).await;
    assert_error(replay, StatusCode::UNAUTHORIZED, "REFRESH_TOKEN_REUSED").await;
    let after = refresh(&app, "logbook", &refresh_token(&refreshed)).await;
    assert_error(after, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    let leaving = app.signin_end_user("logbook", "ada").await;
    let (_, s_out) = user_and_session(&app, "logbook", &leaving).await;
    let response = app.post_json("/logbook/v1/auth/logout", &json!({ "refresh_token": refresh_token(&leaving) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let victim = app.signin_end_user("logbook", "ada").await;
    let (_, s_victim) = user_and_session(&app, "logbook", &victim).await;
    let keeper = app.signin_end_user("logbook", "ada").await;
    let (_, s_keeper) = user_and_session(&app, "logbook", &keeper).await;
    let response = app.delete_with_bearer(&format!("/logbook/v1/me/sessions/{s_victim}"), &access_token(&keeper)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // The admin's.
    app.patch_config(&owner, "logbook", &json!({ "access_token_ttl_seconds": 900 })).await;
    let roles = "/api/v1/apps/logbook/roles";
    let support = app
        .post_json_with_bearer(
            roles,
            &owner,
            &json!({ "name": "support", "permissions": ["user.read", "tickets.read"] }),
        )
        .await;
    let support = json_of(support, StatusCode::CREATED).await;
    let patched = app
        .patch_json_with_bearer(
            &format!("{roles}/support"),
            &owner,
            &json!({ "description": "Support desk", "permissions": ["user.read", "user.list"] }),
        )
        .await;
    json_of(patched, StatusCode::OK).await;
    let temp = app.post_json_with_bearer(roles, &owner, &json!({ "name": "temp", "permissions": [] })).await;
    let temp = json_of(temp, StatusCode::CREATED).await;
    assert_eq!(app.delete_with_bearer(&format!("{roles}/temp"), &owner).await.status(), StatusCode::NO_CONTENT);
    let permission = app
        .post_json_with_bearer(
            "/api/v1/apps/logbook/permissions",
            &owner,
            &json!({ "name": "billing.read", "description": "Reads invoices" }),
        )
        .await;
    json_of(permission, StatusCode::CREATED).await;
    let user = format!("/api/v1/apps/logbook/end-users/{ada}");
    for patch in
        [json!({ "displayName": "Ada Lovelace" }), json!({ "role": "support" }), json!({ "status": "suspended" })]
    {
        json_of(app.patch_json_with_bearer(&user, &owner, &patch).await, StatusCode::OK).await;
    }
    let suspended = signin(&app, "logbook", "ada", PASSWORD, None).await;
    assert_error(suspended, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    json_of(app.patch_json_with_bearer(&user, &owner, &json!({ "status": "active" })).await, StatusCode::OK).await;
    app.signin_end_user("logbook", "ada").await;
    let revoked = json_of(app.delete_with_bearer(&format!("{user}/sessions"), &owner).await, StatusCode::OK).await;
    assert_eq!(revoked["revoked"], 1);
    let (key, secret) = create_key(&app, &owner, "logbook", &["user.list"]).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    json_of(app.get_with_bearer("/api/v1/apps/logbook/end-users", &secret).await, StatusCode::OK).await;
    let response = app.delete_with_bearer(&format!("/api/v1/apps/logbook/api-keys/{key_id}"), &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.delete_with_bearer(&user, &owner).await.status(), StatusCode::NO_CONTENT);
    for patch in [json!({ "displayName": "Log Book" }), json!({ "status": "suspended" })] {
        let response = app.patch_json_with_bearer("/api/v1/apps/logbook", &owner, &patch).await;
        json_of(response, StatusCode::OK).await;
    }
    let closed = signin(&app, "logbook", "grace", PASSWORD, None).await;
    assert_error(closed, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;

    // The log, newest first: every event of the flows above, and nothing else.
    let log = events(&app, &owner, "logbook", &[]).await;
    let expected: BTreeMap<String, usize> = [
        ("app.created", 1),
        ("signing_key.created", 1),
        ("member.added", 1),
        ("end_user.signed_up", 2),
        ("end_user.signed_in", 5),
        ("end_user.signin_failed", 4),
        ("end_user.token_refreshed", 1),
        ("end_user.refresh_reuse_detected", 1),
        ("end_user.signed_out", 1),
        ("session.revoked", 1),
        ("app.config_changed", 1),
        ("permission.created", 2),
        ("role.created", 2),
        ("role.updated", 1),
        ("role.deleted", 1),
        ("end_user.updated", 1),
        ("end_user.role_changed", 1),
        ("end_user.suspended", 1),
        ("end_user.reactivated", 1),
        ("end_user.sessions_revoked", 1),
        ("end_user.deleted", 1),
        ("api_key.created", 1),
        ("api_key.used", 1),
        ("api_key.revoked", 1),
        ("app.updated", 1),
        ("app.suspended", 1),
    ]
    .into_iter()
    .map(|(kind, n)| (kind.to_owned(), n))
    .collect();
    assert_eq!(census(&log), expected);
    for event in &log {
        assert_eq!(event["ip"], "127.0.0.1", "{event}");
        assert_eq!(event["user_agent"], AGENT, "{event}");
        assert!(event["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{event}");
        let failure =
            ["end_user.signin_failed", "end_user.refresh_reuse_detected"].contains(&event["type"].as_str().unwrap());
        assert_eq!(event["outcome"], if failure { "failure" } else { "success" }, "{event}");
    }
    let times: Vec<&str> = log.iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");

    let end_user = party("end_user", &ada);
    let signed_up = find(&log, "end_user.signed_up", |e| e["subject"]["id"] == ada.as_str());
    assert_eq!(who(signed_up), json!(["success", end_user, end_user, s_up]));
    assert_eq!(
        signed_up["details"],
        json!({ "username": "ada", "role": "member", "email_verified": false, "method": "password" })
    );
    let signed_in = find(&log, "end_user.signed_in", |e| e["session_id"] == s_in.as_str());
    assert_eq!(who(signed_in), json!(["success", end_user, end_user, s_in]));
    assert_eq!(signed_in["request_id"], "audit-test-42");
    let wrong = find(&log, "end_user.signin_failed", |e| e["details"]["reason"] == "wrong_password");
    assert_eq!(who(wrong), json!(["failure", end_user, end_user, null]));
    assert_eq!(wrong["request_id"], replaced.as_str());
    // Who was named is not kept when nobody has that name (it may be a mistyped password).
    let unknown = find(&log, "end_user.signin_failed", |e| e["details"]["reason"] == "unknown_identifier");
    assert_eq!(who(unknown), json!(["failure", { "type": "end_user", "id": null }, null, null]));
    assert_eq!(unknown["details"], json!({ "reason": "unknown_identifier" }));
    let refused = find(&log, "end_user.signin_failed", |e| e["details"]["reason"] == "user_suspended");
    assert_eq!(who(refused), json!(["failure", end_user, end_user, null]));
    let closed = find(&log, "end_user.signin_failed", |e| e["details"]["reason"] == "app_suspended");
    assert_eq!(closed["outcome"], "failure");
    assert_eq!(who(the(&log, "end_user.token_refreshed")), json!(["success", end_user, end_user, s_in]));
    let reuse = the(&log, "end_user.refresh_reuse_detected");
    assert_eq!(who(reuse), json!(["failure", end_user, end_user, s_in]));
    assert_eq!(reuse["details"]["session_revoked"], true);
    assert_eq!(who(the(&log, "end_user.signed_out")), json!(["success", end_user, end_user, s_out]));
    let revoked = the(&log, "session.revoked");
    assert_eq!(who(revoked), json!(["success", end_user, end_user, s_victim]));
    assert_eq!(revoked["details"], json!({ "by": "owner", "current": false }));
    assert_ne!(s_victim, s_keeper);

    let on_app = party("app", &app_id);
    for kind in ["app.created", "app.config_changed", "app.updated", "app.suspended"] {
        assert_eq!(who(the(&log, kind)), json!(["success", by_owner, on_app, null]), "{kind}");
    }
    assert_eq!(
        the(&log, "app.config_changed")["details"],
        json!({ "changes": { "access_token_ttl_seconds": { "old": 3600, "new": 900 } } })
    );
    assert_eq!(
        the(&log, "app.updated")["details"],
        json!({ "changes": { "display_name": { "old": "App logbook", "new": "Log Book" } } })
    );
    assert_eq!(who(the(&log, "member.added")), json!(["success", by_owner, party("account", &owner_id), null]));
    let on_support = party("role", support["id"].as_str().unwrap());
    let created = find(&log, "role.created", |e| e["details"]["name"] == "support");
    assert_eq!(who(created), json!(["success", by_owner, on_support, null]));
    assert_eq!(created["details"]["permissions"], json!(["user.read", "tickets.read"]));
    let updated = the(&log, "role.updated");
    assert_eq!(who(updated), json!(["success", by_owner, on_support, null]));
    let changes = &updated["details"]["changes"];
    assert_eq!(changes["description"], json!({ "old": "", "new": "Support desk" }));
    assert_eq!(changes["permissions"]["added"], json!(["user.list"]));
    assert_eq!(changes["permissions"]["removed"], json!(["tickets.read"]));
    let deleted = the(&log, "role.deleted");
    assert_eq!(who(deleted), json!(["success", by_owner, party("role", temp["id"].as_str().unwrap()), null]));
    find(&log, "permission.created", |e| e["details"] == json!({ "name": "tickets.read", "description": "" }));
    let billing = find(&log, "permission.created", |e| e["details"]["name"] == "billing.read");
    assert_eq!(billing["details"]["description"], "Reads invoices");
    assert_eq!(billing["actor"], by_owner);

    for kind in ["updated", "role_changed", "suspended", "reactivated", "sessions_revoked", "deleted"] {
        let kind = format!("end_user.{kind}");
        assert_eq!(who(the(&log, &kind)), json!(["success", by_owner, end_user, null]), "{kind}");
    }
    assert_eq!(
        the(&log, "end_user.updated")["details"],
        json!({ "changes": { "display_name": { "old": "User ada", "new": "Ada Lovelace" } } })
    );
    assert_eq!(the(&log, "end_user.role_changed")["details"], json!({ "old": "member", "new": "support" }));
    // Its sign-up session and the keeper were live; the others had ended.
    assert_eq!(the(&log, "end_user.suspended")["details"], json!({ "sessions_revoked": 2 }));
    assert_eq!(the(&log, "end_user.sessions_revoked")["details"], json!({ "count": 1 }));
    assert_eq!(the(&log, "end_user.deleted")["details"], json!({ "username": "ada" }));

    let on_key = party("api_key", &key_id);
    let created = the(&log, "api_key.created");
    assert_eq!(who(created), json!(["success", by_owner, on_key, null]));
    assert_eq!(created["details"]["prefix"], key["prefix"]);
    assert_eq!(created["details"]["scopes"], json!(["user.list"]));
    assert_eq!(who(the(&log, "api_key.used")), json!(["success", on_key, on_key, null]));
    assert_eq!(who(the(&log, "api_key.revoked")), json!(["success", by_owner, on_key, null]));

    // The account's own sign-up is in the platform's log, as an account's.
    let platform = app.engine.app("platform").await.unwrap();
    let filter = domain::audit::AuditFilter { subject_id: Uuid::parse_str(&owner_id).ok(), ..Default::default() };
    let own = app.engine.store().audit_events(platform.id, &filter, domain::store::AuditPage::Before(None), 50);
    let own: Vec<String> = own.await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(own, ["account.signed_up"]);

    // The chain holds every one of them.
    let verification = verify(&app, &owner, "logbook").await;
    assert_eq!(verification["valid"], true, "{verification}");
    assert_eq!(verification["checked"], log.len(), "{verification}");
    assert_eq!(verification["pending"], 0, "{verification}");
    assert_eq!(verification["first_broken"], Value::Null);
    assert_eq!(verification["head"]["position"], log.len(), "{verification}");
    let mut positions: Vec<i64> =
        events(&app, &owner, "logbook", &[]).await.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=log.len() as i64).collect::<Vec<_>>());
}

/// A few users' sign-ups, sign-ins (one refused) and refreshes in app `slug`; returns the
/// owner's token and the users' ids.
async fn some_activity(app: &TestApp, slug: &str) -> (String, Vec<String>) {
    let owner = app.app_with_owner(slug).await;
    let mut ids = Vec::new();
    for name in ["ada", "grace"] {
        let pair = app.signup_end_user(slug, name).await;
        ids.push(user_and_session(app, slug, &pair).await.0);
        let pair = app.signin_end_user(slug, name).await;
        json_of(refresh(app, slug, &refresh_token(&pair)).await, StatusCode::OK).await;
    }
    let refused = signin(app, slug, "ada", "not-the-password", None).await;
    assert_error(refused, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    app.patch_config(&owner, slug, &json!({ "signup_enabled": false })).await;
    (owner, ids)
}

async fn filters_and_paging(app: TestApp) {
    let (owner, ids) = some_activity(&app, "sieve").await;
    // Linked now, so that no read below sees an event's position appear.
    app.engine.sequence_audit().await.unwrap();
    let all = events(&app, &owner, "sieve", &[]).await;
    assert_eq!(all.len(), 11, "{:?}", census(&all));
    let read = |query: Vec<(&'static str, String)>| {
        let (app, owner) = (&app, &owner);
        async move {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            events(app, owner, "sieve", &query).await
        }
    };
    let expect = |pick: &dyn Fn(&Value) -> bool| all.iter().filter(|e| pick(e)).cloned().collect::<Vec<Value>>();

    // Type, exact or a prefix.
    let signed_up = read(vec![("type", "end_user.signed_up".into())]).await;
    assert_eq!(signed_up.len(), 2);
    assert_eq!(signed_up, expect(&|e| e["type"] == "end_user.signed_up"));
    let end_user = read(vec![("type", "end_user.*".into())]).await;
    assert_eq!(end_user, expect(&|e| e["type"].as_str().unwrap().starts_with("end_user.")));
    assert_eq!(end_user.len(), 7);
    assert_eq!(read(vec![("type", "app.*".into())]).await.len(), 2);
    assert!(read(vec![("type", "end_user".into())]).await.is_empty(), "a type without .* is exact");
    // Outcome, actor, subject, ip.
    let failures = read(vec![("outcome", "failure".into())]).await;
    assert_eq!(failures, expect(&|e| e["outcome"] == "failure"));
    assert_eq!(failures.len(), 1);
    assert_eq!(read(vec![("outcome", "success".into())]).await.len(), 10);
    let by_ada = read(vec![("actor", ids[0].clone())]).await;
    assert_eq!(by_ada, expect(&|e| e["actor"]["id"] == ids[0].as_str()));
    assert_eq!(by_ada.len(), 4);
    let about_grace = read(vec![("subject", ids[1].clone())]).await;
    assert_eq!(about_grace, expect(&|e| e["subject"]["id"] == ids[1].as_str()));
    assert_eq!(about_grace.len(), 3);
    assert_eq!(read(vec![("ip", "127.0.0.1".into())]).await, all);
    assert!(read(vec![("ip", "10.0.0.1".into())]).await.is_empty());
    // Several at once all hold.
    let combined = read(vec![("type", "end_user.*".into()), ("outcome", "failure".into()), ("actor", ids[0].clone())]);
    assert_eq!(combined.await, failures);
    // Time: from inclusive, to exclusive.
    let middle = all[all.len() / 2]["time"].as_str().unwrap().to_owned();
    let from = read(vec![("from", middle.clone())]).await;
    assert_eq!(from, expect(&|e| e["time"].as_str().unwrap() >= middle.as_str()));
    let to = read(vec![("to", middle.clone())]).await;
    assert_eq!(to, expect(&|e| e["time"].as_str().unwrap() < middle.as_str()));
    assert_eq!(from.len() + to.len(), all.len());
    assert!(!from.is_empty() && !to.is_empty());
    let window = read(vec![("from", "2000-01-01T00:00:00Z".into()), ("to", "2000-01-02T00:00:00+01:00".into())]);
    assert!(window.await.is_empty());

    // Paging: small pages, newest first, every event once.
    for (size, query) in [(1, vec![]), (3, vec![]), (5, vec![("type", "end_user.*")]), (11, vec![])] {
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut request = app
                .client
                .get(app.url("/api/v1/apps/sieve/audit"))
                .bearer_auth(&owner)
                .query(&query)
                .query(&[("limit", size.to_string())]);
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor)]);
            }
            let page = json_of(request.send().await.unwrap(), StatusCode::OK).await;
            let batch = page["events"].as_array().unwrap();
            assert!(batch.len() <= size, "{page}");
            seen.extend(batch.iter().cloned());
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let whole = if query.is_empty() { all.clone() } else { end_user.clone() };
        assert_eq!(seen, whole, "pages of {size}");
        assert!(pages >= whole.len().div_ceil(size), "{pages} pages of {size}");
    }

    // Bad values are refused by name, in the documented shape, on the list and the export.
    let far = "2026-02-01T00:00:00Z";
    for (name, value) in [
        ("type", "end user"),
        ("type", "End_User.*"),
        ("type", ".*"),
        ("type", "end_user*"),
        ("outcome", "maybe"),
        ("actor", "nope"),
        ("subject", "42"),
        ("ip", "999.1.1.1"),
        ("from", "yesterday"),
        ("from", "2026-01-31"),
        ("to", "2026-01-31 12:00:00"),
        ("limit", "0"),
        ("limit", "201"),
        ("limit", "abc"),
        ("limit", "-1"),
        ("cursor", "garbage"),
        ("cursor", "e0"),
    ] {
        let request = app.client.get(app.url("/api/v1/apps/sieve/audit")).bearer_auth(&owner).query(&[(name, value)]);
        let body = assert_error(request.send().await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        assert!(body["message"].as_str().unwrap().starts_with(name), "{name}={value}: {body}");
        if !["limit", "cursor"].contains(&name) {
            let export =
                app.client.get(app.url("/api/v1/apps/sieve/audit/export")).bearer_auth(&owner).query(&[(name, value)]);
            assert_error(export.send().await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        }
    }
    let backwards = app
        .client
        .get(app.url("/api/v1/apps/sieve/audit"))
        .bearer_auth(&owner)
        .query(&[("from", far), ("to", "2026-01-01T00:00:00Z")]);
    let body = assert_error(backwards.send().await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    assert!(body["message"].as_str().unwrap().contains("after"), "{body}");
}

/// A refused change records nothing: the event is written in the change's transaction.
async fn a_refused_change_leaves_no_event(app: TestApp) {
    let owner = app.app_with_owner("atomic").await;
    let pair = app.signup_end_user("atomic", "ada").await;
    let (ada, _) = user_and_session(&app, "atomic", &pair).await;
    let before = events(&app, &owner, "atomic", &[]).await;

    for patch in [
        json!({ "access_token_ttl_seconds": 10 }),
        json!({ "password_min_length": 4 }),
        json!({ "signup_default_role": "ghost" }),
        json!({ "signup_default_role": "owner" }),
        json!({ "signup_enabled": false, "no_such_setting": 1 }),
        json!({ "signup_enabled": "yes" }),
    ] {
        let response = app.patch_json_with_bearer("/api/v1/apps/atomic/config", &owner, &patch).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let roles = "/api/v1/apps/atomic/roles";
    // A duplicate name, with a new permission string that would have been registered with it.
    let duplicate = json!({ "name": "member", "permissions": ["ghost.read"] });
    assert_error(app.post_json_with_bearer(roles, &owner, &duplicate).await, StatusCode::CONFLICT, "CONFLICT").await;
    for body in [json!({ "name": "Bad Name", "permissions": [] }), json!({ "name": "ok", "permissions": ["NOPE"] })] {
        let response = app.post_json_with_bearer(roles, &owner, &body).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let response = app.patch_json_with_bearer(&format!("{roles}/owner"), &owner, &json!({ "permissions": [] })).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let user = format!("/api/v1/apps/atomic/end-users/{ada}");
    for patch in [json!({ "role": "ghost" }), json!({ "status": "frozen" }), json!({ "displayName": "" })] {
        let response = app.patch_json_with_bearer(&user, &owner, &patch).await;
        assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    }
    let response = app.patch_json_with_bearer("/api/v1/apps/atomic", &owner, &json!({ "status": "paused" })).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
    let response = app.post_json_with_bearer("/api/v1/apps/atomic/permissions", &owner, &json!({ "name": "x" })).await;
    assert_error(response, StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;

    app.engine.sequence_audit().await.unwrap();
    let after = events(&app, &owner, "atomic", &[]).await;
    assert_eq!(after.len(), before.len(), "{:?}", census(&after));
    let catalog = json_of(app.get_with_bearer("/api/v1/apps/atomic/permissions", &owner).await, StatusCode::OK).await;
    assert!(!catalog.to_string().contains("ghost.read"), "the refused role's permission stayed: {catalog}");
    let verification = verify(&app, &owner, "atomic").await;
    assert_eq!((verification["valid"].clone(), verification["checked"].clone()), (json!(true), json!(before.len())));
}

both_stores!(every_flow_leaves_its_event, filters_and_paging, a_refused_change_leaves_no_event);
