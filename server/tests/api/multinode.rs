//! Two nodes over one PostgreSQL store, as behind a load balancer: a revocation, a permission
//! edit or a suspension made through one node reaches the other's caches (through the store's
//! change messages) within moments, not when its cache entries happen to expire.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::api_keys::create_key;
use crate::end_users::user_id;
use crate::helpers::{
    access_token, assert_error, json_of, postgres_base_url, refresh_token, run_pair_with, two_nodes, TestApp,
};
use crate::proxy::Proxy;

/// Polls `check` every 20 ms until it holds, failing after 2 s (the caches' own lifetimes are
/// 30 and 60 s, so passing here means the change message arrived).
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(Duration::from_secs(2), what, check).await
}

/// Polls `check` every 20 ms until it holds, failing after `limit`.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not seen on the other node within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `GET me` on `node` with `token` until it is refused.
async fn refused_soon(what: &str, node: &TestApp, token: &str) {
    eventually(what, || async {
        node.get_with_bearer("/multi/v1/me", token).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
}

async fn permissions_on(node: &TestApp, token: &str) -> Value {
    json_of(node.get_with_bearer("/multi/v1/me/permissions", token).await, StatusCode::OK).await
}

/// One deployment: what one node made, the other serves.
async fn setup(a: &TestApp, b: &TestApp) -> String {
    let owner = a.app_with_owner("multi").await;
    assert_eq!(b.config(&owner, "multi").await, a.config(&owner, "multi").await);
    assert_eq!(a.jwks("multi").await, b.jwks("multi").await);
    owner
}

async fn session_revocation_reaches_the_other_node(a: TestApp, b: TestApp) {
    setup(&a, &b).await;
    let pair = a.signup_end_user("multi", "ada").await;
    let token = access_token(&pair);
    let bystander = b.signin_end_user("multi", "ada").await;
    // B now believes both sessions live, from its cache.
    assert_eq!(b.me("multi", &token).await, a.me("multi", &token).await);
    b.me("multi", &access_token(&bystander)).await;

    let session = a.current_session_id("multi", &token).await;
    let response = a.delete_with_bearer(&format!("/multi/v1/me/sessions/{session}"), &token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_soon("DELETE me/sessions/{id}", &b, &token).await;
    assert_error(b.get_with_bearer("/multi/v1/me", &token).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    assert_error(
        b.post_json("/multi/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&pair) })).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
    // The user's other session is untouched on both nodes.
    b.me("multi", &access_token(&bystander)).await;
    a.me("multi", &access_token(&bystander)).await;

    // Logout through A, of a session B has cached.
    let second = a.signin_end_user("multi", "ada").await;
    b.me("multi", &access_token(&second)).await;
    let response = a.post_json("/multi/v1/auth/logout", &json!({ "refresh_token": refresh_token(&second) })).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_soon("logout", &b, &access_token(&second)).await;

    // And the other way round: B revokes, A learns.
    let third = b.signin_end_user("multi", "ada").await;
    a.me("multi", &access_token(&third)).await;
    let session = b.current_session_id("multi", &access_token(&third)).await;
    let response = b.delete_with_bearer(&format!("/multi/v1/me/sessions/{session}"), &access_token(&bystander)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_soon("revocation through B", &a, &access_token(&third)).await;
    b.me("multi", &access_token(&bystander)).await;
}

async fn sessions_revoked_by_management_reach_the_other_node(a: TestApp, b: TestApp) {
    let owner = setup(&a, &b).await;
    let first = a.signup_end_user("multi", "ada").await;
    let second = a.signin_end_user("multi", "ada").await;
    let other = a.signup_end_user("multi", "grace").await;
    for pair in [&first, &second, &other] {
        b.me("multi", &access_token(pair)).await;
    }
    let id = user_id(&a, &owner, "multi", "ada").await;
    let revoked = json_of(
        a.delete_with_bearer(&format!("/api/v1/apps/multi/end-users/{id}/sessions"), &owner).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revoked, json!({ "revoked": 2 }));
    for pair in [&first, &second] {
        refused_soon("DELETE end-users/{id}/sessions", &b, &access_token(pair)).await;
    }
    b.me("multi", &access_token(&other)).await;
}

async fn permission_edits_reach_the_other_node(a: TestApp, b: TestApp) {
    let owner = setup(&a, &b).await;
    let token = access_token(&a.signup_end_user("multi", "ada").await);
    // B caches the member role's permissions.
    let before = permissions_on(&b, &token).await;
    assert_eq!(before, json!({ "role": "member", "permissions": ["app.read", "role.read"] }));

    let edited = a
        .patch_json_with_bearer(
            "/api/v1/apps/multi/roles/member",
            &owner,
            &json!({ "permissions": ["app.read", "user.read", "role.read", "billing.read"] }),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let wanted = json!({ "role": "member", "permissions": ["app.read", "billing.read", "role.read", "user.read"] });
    assert_eq!(permissions_on(&a, &token).await, wanted, "at once on the node that made it");
    eventually("role permission edit", || async { permissions_on(&b, &token).await == wanted }).await;

    // A user's role change, too: B's cached session carries the role name.
    let id = user_id(&a, &owner, "multi", "ada").await;
    let response = a
        .patch_json_with_bearer(&format!("/api/v1/apps/multi/end-users/{id}"), &owner, &json!({ "role": "admin" }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    eventually("user role change", || async { permissions_on(&b, &token).await["role"] == "admin" }).await;
    let permissions = permissions_on(&b, &token).await;
    assert!(permissions["permissions"].as_array().unwrap().contains(&json!("user.list")), "{permissions}");
    assert_eq!(b.me("multi", &token).await["role"], "admin");

    // With permissions enforced, B's gate follows an edit made through A.
    a.patch_config(&owner, "multi", &json!({ "enforce_app_permissions": true })).await;
    json_of(b.get_with_bearer("/multi/v1/users", &token).await, StatusCode::OK).await;
    let all_but_user_list: Vec<&str> =
        domain::permissions::MANAGEMENT.iter().copied().filter(|p| *p != "user.list" && *p != "app.delete").collect();
    let response = a
        .patch_json_with_bearer("/api/v1/apps/multi/roles/admin", &owner, &json!({ "permissions": all_but_user_list }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    eventually("permission removal", || async {
        b.get_with_bearer("/multi/v1/users", &token).await.status() == StatusCode::FORBIDDEN
    })
    .await;
}

async fn role_deletion_reaches_the_other_node(a: TestApp, b: TestApp) {
    let owner = setup(&a, &b).await;
    let created = a
        .post_json_with_bearer(
            "/api/v1/apps/multi/roles",
            &owner,
            &json!({ "name": "billing", "permissions": ["billing.read"] }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let token = access_token(&a.signup_end_user("multi", "ada").await);
    let id = user_id(&a, &owner, "multi", "ada").await;
    let response = a
        .patch_json_with_bearer(&format!("/api/v1/apps/multi/end-users/{id}"), &owner, &json!({ "role": "billing" }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let billing = json!({ "role": "billing", "permissions": ["billing.read"] });
    eventually("user role change", || async { permissions_on(&b, &token).await == billing }).await;

    // Deleting the role moves its holders; B's cached session must not keep the old name.
    let response = a.delete_with_bearer("/api/v1/apps/multi/roles/billing?reassign_to=member", &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let member = json!({ "role": "member", "permissions": ["app.read", "role.read"] });
    assert_eq!(permissions_on(&a, &token).await, member, "at once on the node that made it");
    eventually("role deletion", || async { permissions_on(&b, &token).await == member }).await;
}

async fn suspension_reaches_the_other_node(a: TestApp, b: TestApp) {
    let owner = setup(&a, &b).await;
    let pair = a.signup_end_user("multi", "ada").await;
    let doomed = a.signup_end_user("multi", "doomed").await;
    let other = a.signup_end_user("multi", "grace").await;
    for p in [&pair, &doomed, &other] {
        b.me("multi", &access_token(p)).await;
    }

    let id = user_id(&a, &owner, "multi", "ada").await;
    let path = format!("/api/v1/apps/multi/end-users/{id}");
    // B serves `me` from its cache; a rename through A replaces it there too.
    assert_eq!(b.me("multi", &access_token(&pair)).await["displayName"], "User ada");
    let response = a.patch_json_with_bearer(&path, &owner, &json!({ "displayName": "Ada Lovelace" })).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(a.me("multi", &access_token(&pair)).await["displayName"], "Ada Lovelace", "at once on A");
    eventually("rename", || async { b.me("multi", &access_token(&pair)).await["displayName"] == "Ada Lovelace" }).await;
    let response = a.patch_json_with_bearer(&path, &owner, &json!({ "status": "suspended" })).await;
    assert_eq!(response.status(), StatusCode::OK);
    refused_soon("suspension", &b, &access_token(&pair)).await;
    let response = b.post_json("/multi/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&pair) })).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_error(
        b.post_json("/multi/v1/auth/signin", &json!({ "identifier": "ada", "password": crate::helpers::PASSWORD }))
            .await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    b.me("multi", &access_token(&other)).await;

    // Deletion through A, likewise.
    let id = user_id(&a, &owner, "multi", "doomed").await;
    let response = a.delete_with_bearer(&format!("/api/v1/apps/multi/end-users/{id}"), &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    refused_soon("deletion", &b, &access_token(&doomed)).await;

    // Unsuspended through B: A lets the user sign in again.
    let response = b.patch_json_with_bearer(&path, &owner, &json!({ "status": "active" })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let back = a.signin_end_user("multi", "ada").await;
    b.me("multi", &access_token(&back)).await;

    // An API key revoked through A is refused by B.
    let (key, secret) = create_key(&a, &owner, "multi", &["user.list"]).await;
    json_of(b.get_with_bearer("/api/v1/apps/multi/end-users", &secret).await, StatusCode::OK).await;
    let response =
        a.delete_with_bearer(&format!("/api/v1/apps/multi/api-keys/{}", key["id"].as_str().unwrap()), &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_error(
        b.get_with_bearer("/api/v1/apps/multi/end-users", &secret).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;
}

/// Apps are cached by slug on every node: a suspension, a config change, a deletion and a
/// new app under the old slug, each made through A, are what B serves next.
async fn app_changes_reach_the_other_node(a: TestApp, b: TestApp) {
    let owner = setup(&a, &b).await;
    let pair = a.signup_end_user("multi", "ada").await;
    let token = access_token(&pair);
    b.me("multi", &token).await;

    let response = a.patch_json_with_bearer("/api/v1/apps/multi", &owner, &json!({ "status": "suspended" })).await;
    assert_eq!(response.status(), StatusCode::OK);
    eventually("app suspension", || async {
        b.get_with_bearer("/multi/v1/me", &token).await.status() == StatusCode::FORBIDDEN
    })
    .await;
    let response = a.patch_json_with_bearer("/api/v1/apps/multi", &owner, &json!({ "status": "active" })).await;
    assert_eq!(response.status(), StatusCode::OK);
    eventually("app reactivation", || async {
        b.get_with_bearer("/multi/v1/me", &token).await.status() == StatusCode::OK
    })
    .await;

    a.patch_config(&owner, "multi", &json!({ "signup_enabled": false })).await;
    let signup = json!({ "email": "late@example.com", "username": "late", "password": crate::helpers::PASSWORD });
    eventually("config change", || async {
        b.post_json("/multi/v1/auth/signup", &signup).await.status() == StatusCode::FORBIDDEN
    })
    .await;

    let response = a.delete_with_bearer("/api/v1/apps/multi", &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    eventually("app deletion", || async {
        b.get("/multi/v1/.well-known/jwks.json").await.status() == StatusCode::NOT_FOUND
    })
    .await;
    assert_eq!(b.get_with_bearer("/multi/v1/me", &token).await.status(), StatusCode::UNAUTHORIZED);

    // The slug stays taken on both nodes (slugs are permanent): B never serves the old app's
    // keys again, and nobody can register the slug through either node.
    for node in [&a, &b] {
        assert_eq!(node.create_app(&owner, "multi").await.status(), StatusCode::CONFLICT);
        assert_eq!(node.get("/multi/v1/.well-known/jwks.json").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(node.post_json("/multi/v1/auth/signup", &signup).await.status(), StatusCode::NOT_FOUND);
    }
}

two_nodes!(
    app_changes_reach_the_other_node,
    session_revocation_reaches_the_other_node,
    sessions_revoked_by_management_reach_the_other_node,
    permission_edits_reach_the_other_node,
    role_deletion_reaches_the_other_node,
    suspension_reaches_the_other_node,
);

/// A session A has cached, the revocation of which B makes through its API.
async fn cached_on_a(a: &TestApp, b: &TestApp) -> (String, String) {
    setup(a, b).await;
    let token = access_token(&a.signup_end_user("multi", "ada").await);
    let session = a.current_session_id("multi", &token).await;
    a.me("multi", &token).await;
    (token, session)
}

async fn revoke_through(node: &TestApp, token: &str, session: &str) {
    let response = node.delete_with_bearer(&format!("/multi/v1/me/sessions/{session}"), token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

/// Ends the backend of the connection that listens for changes on behalf of the node whose
/// connections are named `application_name`, and only that one (other tests' nodes listen on
/// the same database); returns once the backend is gone.
async fn kill_listener(application_name: &str) {
    let mut admin = PgConnection::connect(&postgres_base_url()).await.unwrap();
    let listeners: Vec<(i32,)> =
        sqlx::query_as("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'")
            .bind(application_name)
            .fetch_all(&mut admin)
            .await
            .unwrap();
    assert_eq!(listeners.len(), 1, "one listener named {application_name}");
    let pid = listeners[0].0;
    let (killed,): (bool,) =
        sqlx::query_as("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut admin).await.unwrap();
    assert!(killed, "terminate {pid}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the listener's backend {pid} is still there");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    admin.close().await.ok();
}

/// A's listening connection dies, and B revokes a session A has cached before A even learns
/// of it (A's connections pass through a proxy, paused meanwhile): the message is delivered to
/// no listener of A's, which must not go on believing the session live for the rest of its
/// cache's lifetime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_made_while_the_listener_reconnects_is_not_missed() {
    let proxy = Proxy::start(address_of(&postgres_base_url())).await;
    let port = proxy.port;
    let name = format!("rampart-test-{}", Uuid::new_v4().simple());
    let application_name = name.clone();
    let first_url = move |url: &str| format!("{}&application_name={application_name}", through(url, port));
    run_pair_with(first_url, |a, b| async move {
        let (token, session) = cached_on_a(&a, &b).await;
        proxy.pause();
        kill_listener(&name).await;
        revoke_through(&b, &token, &session).await;
        proxy.resume();
        within(Duration::from_secs(3), "revocation while A's listener reconnects", || async {
            a.get_with_bearer("/multi/v1/me", &token).await.status() == StatusCode::UNAUTHORIZED
        })
        .await;
        drop(proxy);
    })
    .await;
}

/// `host:port` of a PostgreSQL URL.
fn address_of(url: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
}

/// The URL, through the proxy on `port`.
fn through(url: &str, port: u16) -> String {
    let mut url = reqwest::Url::parse(url).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(port)).unwrap();
    url.to_string()
}

/// A's connections to PostgreSQL are all cut, and its listener's first attempts to connect
/// again fail; once PostgreSQL is reachable again, A caches the session anew, and a
/// revocation through B still reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_fails_to_reconnect_keeps_trying() {
    let proxy = Proxy::start(address_of(&postgres_base_url())).await;
    let port = proxy.port;
    run_pair_with(
        move |url| through(url, port),
        |a, b| async move {
            let (token, session) = cached_on_a(&a, &b).await;
            proxy.cut();
            tokio::time::sleep(Duration::from_millis(300)).await;
            proxy.restore();
            within(Duration::from_secs(5), "A reaching PostgreSQL again", || async {
                a.get_with_bearer("/multi/v1/me", &token).await.status() == StatusCode::OK
            })
            .await;
            revoke_through(&b, &token, &session).await;
            within(Duration::from_secs(3), "revocation after A's listener failed to reconnect", || async {
                a.get_with_bearer("/multi/v1/me", &token).await.status() == StatusCode::UNAUTHORIZED
            })
            .await;
            drop(proxy);
        },
    )
    .await;
}
