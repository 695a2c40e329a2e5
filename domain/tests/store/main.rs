#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The store conformance suite: every test runs against a fresh SQLite file and a fresh PostgreSQL schema.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use domain::model::{
    App, AuthConfig, Contact, ContactKind, Membership, NewRefreshToken, RefreshSuccessor, RefreshToken, Role, Session,
    SigningKey, Status, User,
};
use domain::store::{self, DbPool, Store};
use domain::Error;

// ---------------------------------------------------------------------------------------
// Harness: a fresh, isolated store per test, removed afterwards.
// ---------------------------------------------------------------------------------------

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What to remove once the test is over.
enum Leftover {
    File(PathBuf),
    Schema { base_url: String, schema: String },
}

struct FreshStore {
    store: Arc<dyn Store>,
    pool: DbPool,
    leftover: Leftover,
}

fn postgres_base_url() -> String {
    std::env::var("RAMPART_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

async fn fresh_store(backend: Backend) -> FreshStore {
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join("rampart-store-tests").join(format!("{}.db", Uuid::new_v4()));
            let url = format!("sqlite://{}", path.display());
            let (store, pool) = store::connect(&url).await.expect("SQLite store");
            FreshStore { store, pool, leftover: Leftover::File(path) }
        }
        Backend::Postgres => {
            let (url, leftover) = new_postgres_schema().await;
            let (store, pool) = store::connect(&url).await.expect("PostgreSQL store");
            FreshStore { store, pool, leftover }
        }
    }
}

/// An empty schema of its own on the test PostgreSQL, and a URL whose connections work in it.
async fn new_postgres_schema() -> (String, Leftover) {
    let base_url = postgres_base_url();
    let schema = format!("t_{}", Uuid::new_v4().simple());
    let mut admin =
        PgConnection::connect(&base_url).await.expect("PostgreSQL is not reachable; set RAMPART_TEST_POSTGRES_URL");
    sqlx::query(&format!(r#"CREATE SCHEMA "{schema}""#)).execute(&mut admin).await.expect("create schema");
    admin.close().await.ok();
    // `options` is sent as the startup packet's options: every pooled connection, the
    // migrator's included, works inside the schema.
    let separator = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}");
    (url, Leftover::Schema { base_url, schema })
}

impl FreshStore {
    /// Best effort: a failure here must not hide the test's own outcome.
    async fn dispose(self) {
        drop(self.store);
        match self.pool {
            DbPool::Sqlite(pool) => pool.close().await,
            DbPool::Postgres(pool) => pool.close().await,
        }
        match self.leftover {
            Leftover::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Leftover::Schema { base_url, schema } => {
                if let Ok(mut admin) = PgConnection::connect(&base_url).await {
                    let _ =
                        sqlx::query(&format!(r#"DROP SCHEMA IF EXISTS "{schema}" CASCADE"#)).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// Runs one test body on a fresh store of `backend`, cleans up, then reports the outcome.
async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let fresh = fresh_store(backend).await;
    assert_eq!(fresh.store.backend(), backend.name());
    run_on(fresh, test).await;
}

/// Runs one test body on `fresh`, cleans up, then reports the outcome.
async fn run_on<F, Fut>(fresh: FreshStore, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Spawned so that a failing assertion still lets the cleanup below run.
    let outcome = tokio::spawn(test(Arc::clone(&fresh.store))).await;
    fresh.dispose().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

/// `conformance!(body => sqlite_body, postgres_body)` runs `async fn body(Arc<dyn Store>)` as
/// two tests, one per store.
macro_rules! conformance {
    ($($test:ident => $sqlite:ident, $postgres:ident;)+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $sqlite() {
                run(Backend::Sqlite, $test).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $postgres() {
                run(Backend::Postgres, $test).await;
            }
        )+
    };
}

conformance! {
    apps_round_trip => sqlite_apps_round_trip, postgres_apps_round_trip;
    update_app_changes_fields => sqlite_update_app_changes_fields, postgres_update_app_changes_fields;
    delete_app_cascades => sqlite_delete_app_cascades, postgres_delete_app_cascades;
    roles_round_trip => sqlite_roles_round_trip, postgres_roles_round_trip;
    roles_are_per_app => sqlite_roles_are_per_app, postgres_roles_are_per_app;
    memberships_round_trip => sqlite_memberships_round_trip, postgres_memberships_round_trip;
    users_by_username => sqlite_users_by_username, postgres_users_by_username;
    contacts_verified_lookup => sqlite_contacts_verified_lookup, postgres_contacts_verified_lookup;
    user_profile_joins_role_and_primary_email => sqlite_user_profile_joins_role_and_primary_email, postgres_user_profile_joins_role_and_primary_email;
    sessions_round_trip => sqlite_sessions_round_trip, postgres_sessions_round_trip;
    refresh_tokens_rotate_once => sqlite_refresh_tokens_rotate_once, postgres_refresh_tokens_rotate_once;
    concurrent_rotations_of_different_tokens_all_land => sqlite_concurrent_rotations_of_different_tokens_all_land, postgres_concurrent_rotations_of_different_tokens_all_land;
    dropped_tx_rolls_back => sqlite_dropped_tx_rolls_back, postgres_dropped_tx_rolls_back;
    committed_tx_is_visible => sqlite_committed_tx_is_visible, postgres_committed_tx_is_visible;
    concurrent_rotation_has_one_winner => sqlite_concurrent_rotation_has_one_winner, postgres_concurrent_rotation_has_one_winner;
    signing_keys_active_first => sqlite_signing_keys_active_first, postgres_signing_keys_active_first;
    ping_and_backend => sqlite_ping_and_backend, postgres_ping_and_backend;
}

#[tokio::test]
async fn connect_refuses_unknown_scheme() {
    let outcome = store::connect("mysql://localhost/rampart").await;
    assert!(matches!(outcome, Err(Error::InvalidRequest(_))));
}

// ---------------------------------------------------------------------------------------
// Records to insert.
// ---------------------------------------------------------------------------------------

/// Both stores keep milliseconds.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

fn new_app(slug: &str) -> App {
    let at = now();
    App {
        id: Uuid::new_v4(),
        slug: slug.to_owned(),
        display_name: format!("The {slug} app"),
        status: Status::Active,
        metadata: json!({ "plan": "team", "tags": ["a", "b"], "seats": 12, "nested": { "ok": true } }),
        config: AuthConfig {
            signup_enabled: false,
            password_min_length: 12,
            password_require_symbol: true,
            refresh_reuse_grace_seconds: 30,
            signup_default_role: "viewer".into(),
            ..AuthConfig::default()
        },
        created_at: at,
        updated_at: at,
    }
}

fn new_role(app_id: Uuid, name: &str, created_at: DateTime<Utc>) -> Role {
    Role {
        id: Uuid::new_v4(),
        app_id,
        name: name.to_owned(),
        description: format!("{name} of the app"),
        is_system: false,
        permissions: vec![format!("{name}:read"), format!("{name}:write")],
        created_at,
    }
}

fn new_user(app_id: Uuid, role_id: Uuid, username: &str) -> User {
    let at = now();
    User {
        id: Uuid::new_v4(),
        app_id,
        username: username.to_owned(),
        display_name: format!("{username} (display)"),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        role_id,
        status: Status::Active,
        created_at: at,
        updated_at: at,
    }
}

fn new_contact(user: &User, kind: ContactKind, value: &str, verified: bool, created_at: DateTime<Utc>) -> Contact {
    Contact {
        id: Uuid::new_v4(),
        app_id: user.app_id,
        user_id: user.id,
        kind,
        value: value.to_owned(),
        is_primary: false,
        verified_at: verified.then_some(created_at),
        created_at,
    }
}

fn new_session(user: &User) -> Session {
    let at = now();
    Session {
        id: Uuid::new_v4(),
        app_id: user.app_id,
        user_id: user.id,
        created_at: at,
        last_used_at: at,
        expires_at: at + secs(3600),
        revoked_at: None,
        ip: Some("203.0.113.7".into()),
        user_agent: Some("conformance/1.0".into()),
    }
}

fn new_refresh_token(session: &Session) -> NewRefreshToken {
    NewRefreshToken {
        app_id: session.app_id,
        session_id: session.id,
        digest: format!("digest-{}", Uuid::new_v4().simple()),
        created_at: now(),
    }
}

/// A successor whose digest starts with `label`, unique per call.
fn successor(label: &[u8], at: DateTime<Utc>) -> RefreshSuccessor {
    let label = String::from_utf8_lossy(label);
    RefreshSuccessor { digest: format!("digest-{label}-{}", Uuid::new_v4().simple()), created_at: at }
}

fn new_signing_key(app_id: Uuid, active: bool, created_at: DateTime<Utc>) -> SigningKey {
    let kid = format!("kid-{}", Uuid::new_v4().simple());
    SigningKey {
        public_jwk: json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
        }),
        kid,
        app_id,
        alg: "RS256".into(),
        // Every byte value, so no encoding can quietly mangle the sealed key.
        private_sealed: (0..=255u8).chain(0..=255u8).collect(),
        active,
        created_at,
        retired_at: (!active).then(|| created_at + secs(60)),
    }
}

/// An app with one role and one user, committed.
async fn seed(store: &Arc<dyn Store>, slug: &str) -> (App, Role, User) {
    let app = new_app(slug);
    let role = new_role(app.id, "member", now());
    let user = new_user(app.id, role.id, &format!("{slug}-user"));
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    (app, role, user)
}

/// A `Conflict` whose message can go to a client: no constraint, index or table name in it.
fn assert_conflict(outcome: domain::Result<()>) {
    let Err(Error::Conflict(message)) = &outcome else { panic!("expected Conflict, got {outcome:?}") };
    for leak in ["_key", "pkey", "unique", "UNIQUE", "constraint", "index", "apps", "users", "contacts", "app_slugs"] {
        assert!(!message.contains(leak), "the message names the database's internals ({leak}): {message}");
    }
}

// ---------------------------------------------------------------------------------------
// Apps
// ---------------------------------------------------------------------------------------

async fn apps_round_trip(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app.clone()));
    assert_eq!(store.app_by_id(app.id).await.unwrap(), Some(app.clone()));
    assert_eq!(store.app_by_slug("unknown").await.unwrap(), None);
    assert_eq!(store.app_by_id(Uuid::new_v4()).await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_app(&new_app("acme")).await);
    drop(tx);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app));
}

async fn update_app_changes_fields(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();

    let updated = App {
        display_name: "Acme, renamed".into(),
        status: Status::Suspended,
        metadata: json!({ "plan": "enterprise", "seats": [1, 2, 3] }),
        config: AuthConfig { signup_enabled: true, access_token_ttl_seconds: 600, ..AuthConfig::default() },
        updated_at: app.updated_at + secs(5),
        ..app.clone()
    };
    let mut tx = store.begin().await.unwrap();
    tx.update_app(&updated).await.unwrap();
    tx.commit().await.unwrap();

    let stored = store.app_by_id(app.id).await.unwrap().unwrap();
    assert_eq!(stored, updated);
    assert_eq!(stored.created_at, app.created_at);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(updated));
}

async fn delete_app_cascades(store: Arc<dyn Store>) {
    let (platform, _, account) = seed(&store, "platform").await;
    let (app, role, user) = seed(&store, "acme").await;
    let (other, other_role, other_user) = seed(&store, "other").await;

    let session = new_session(&user);
    let token = new_refresh_token(&session);
    let key = new_signing_key(app.id, true, now());
    let contact = new_contact(&user, ContactKind::Email, "user@acme.test", true, now());
    let other_session = new_session(&other_user);
    let other_key = new_signing_key(other.id, true, now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&new_role(app.id, "admin", now())).await.unwrap();
    tx.insert_contact(&contact).await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_refresh_token(&token).await.unwrap();
    tx.insert_signing_key(&key).await.unwrap();
    tx.insert_membership(app.id, account.id, role.id, now()).await.unwrap();
    tx.insert_membership(other.id, account.id, other_role.id, now()).await.unwrap();
    tx.insert_session(&other_session).await.unwrap();
    tx.insert_signing_key(&other_key).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app(app.id, now()).await.unwrap());
    tx.commit().await.unwrap();

    assert_eq!(store.app_by_id(app.id).await.unwrap(), None);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), None);
    assert!(store.roles(app.id).await.unwrap().is_empty());
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), None);
    assert!(store.contacts_of(app.id, user.id).await.unwrap().is_empty());
    assert_eq!(store.session(app.id, session.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(app.id, &token.digest).await.unwrap(), None);
    assert!(store.signing_keys(app.id).await.unwrap().is_empty());
    assert_eq!(store.member_role(app.id, account.id).await.unwrap(), None);

    // The neighbours are untouched.
    assert_eq!(store.app_by_id(platform.id).await.unwrap(), Some(platform.clone()));
    assert_eq!(store.user_by_id(platform.id, account.id).await.unwrap(), Some(account.clone()));
    assert_eq!(store.app_by_id(other.id).await.unwrap(), Some(other.clone()));
    assert_eq!(store.session(other.id, other_session.id).await.unwrap(), Some(other_session));
    assert_eq!(store.signing_keys(other.id).await.unwrap(), vec![other_key]);
    let memberships = store.memberships_of(account.id).await.unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].app, other);

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.delete_app(app.id, now()).await.unwrap());
    assert!(!tx.delete_app(Uuid::new_v4(), now()).await.unwrap());
    tx.commit().await.unwrap();

    // The slug stays taken: nobody may register it again and mint tokens with the deleted
    // app's issuer and audience.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_app(&new_app("acme")).await);
    drop(tx);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------

async fn roles_round_trip(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let t0 = now();
    // Listed system roles first, then by age.
    let owner = Role { is_system: true, permissions: vec!["*".into()], ..new_role(app.id, "owner", t0 + secs(2)) };
    let admin = new_role(app.id, "admin", t0);
    let member = Role { permissions: vec![], ..new_role(app.id, "member", t0 + secs(1)) };
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    for role in [&member, &owner, &admin] {
        tx.insert_role(role).await.unwrap();
    }
    tx.commit().await.unwrap();

    assert_eq!(store.roles(app.id).await.unwrap(), vec![owner.clone(), admin.clone(), member.clone()]);
    assert_eq!(store.role_by_name(app.id, "admin").await.unwrap(), Some(admin.clone()));
    assert_eq!(store.role_by_name(app.id, "member").await.unwrap(), Some(member.clone()));
    assert_eq!(store.role_by_name(app.id, "nobody").await.unwrap(), None);
    assert_eq!(store.role_by_id(app.id, owner.id).await.unwrap(), Some(owner));
    assert_eq!(store.role_by_id(app.id, Uuid::new_v4()).await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_role(&new_role(app.id, "admin", now())).await);
    drop(tx);
    assert_eq!(store.roles(app.id).await.unwrap().len(), 3);
}

async fn roles_are_per_app(store: Arc<dyn Store>) {
    let (a, a_role, _) = seed(&store, "app-a").await;
    let b = new_app("app-b");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&b).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.roles(b.id).await.unwrap().is_empty());
    assert_eq!(store.role_by_id(b.id, a_role.id).await.unwrap(), None);
    assert_eq!(store.role_by_name(b.id, &a_role.name).await.unwrap(), None);

    // The same name is free in another app.
    let b_role = new_role(b.id, &a_role.name, now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&b_role).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.roles(b.id).await.unwrap(), vec![b_role.clone()]);
    assert_eq!(store.role_by_name(b.id, &a_role.name).await.unwrap(), Some(b_role));
    assert_eq!(store.role_by_name(a.id, &a_role.name).await.unwrap(), Some(a_role.clone()));
    assert_eq!(store.roles(a.id).await.unwrap(), vec![a_role]);
}

// ---------------------------------------------------------------------------------------
// Memberships
// ---------------------------------------------------------------------------------------

async fn memberships_round_trip(store: Arc<dyn Store>) {
    let (platform, _, account) = seed(&store, "platform").await;
    let (_, _, stranger) = seed(&store, "strangers").await;
    let (first, first_role, _) = seed(&store, "first").await;
    let (second, _, _) = seed(&store, "second").await;
    let second_admin = new_role(second.id, "admin", now());
    let t0 = now();
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&second_admin).await.unwrap();
    // Inserted newest first: the listing orders by age, not by insertion.
    tx.insert_membership(second.id, account.id, second_admin.id, t0 + secs(10)).await.unwrap();
    tx.insert_membership(first.id, account.id, first_role.id, t0).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.member_role(first.id, account.id).await.unwrap(), Some(first_role.clone()));
    assert_eq!(store.member_role(second.id, account.id).await.unwrap(), Some(second_admin.clone()));
    assert_eq!(
        store.memberships_of(account.id).await.unwrap(),
        vec![
            Membership { app: first.clone(), role: first_role, created_at: t0 },
            Membership { app: second, role: second_admin, created_at: t0 + secs(10) },
        ]
    );

    assert_eq!(store.member_role(platform.id, account.id).await.unwrap(), None);
    assert_eq!(store.member_role(first.id, stranger.id).await.unwrap(), None);
    assert!(store.memberships_of(stranger.id).await.unwrap().is_empty());
    assert!(store.memberships_of(Uuid::new_v4()).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Users and contacts
// ---------------------------------------------------------------------------------------

async fn users_by_username(store: Arc<dyn Store>) {
    let (a, a_role, _) = seed(&store, "app-a").await;
    let (b, b_role, _) = seed(&store, "app-b").await;
    let ada = new_user(a.id, a_role.id, "ada");
    let grace = User { password_hash: None, status: Status::Suspended, ..new_user(a.id, a_role.id, "Grace.Hopper") };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&ada).await.unwrap();
    tx.insert_user(&grace).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.user_by_username(a.id, "ada").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_username(a.id, "ADA").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_username(a.id, "grace.hopper").await.unwrap(), Some(grace.clone()));
    assert_eq!(store.user_by_username(a.id, "nobody").await.unwrap(), None);
    assert_eq!(store.user_by_id(a.id, ada.id).await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_id(a.id, grace.id).await.unwrap(), Some(grace));
    assert_eq!(store.user_by_id(a.id, Uuid::new_v4()).await.unwrap(), None);

    // Taken in the same app, whatever the case.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_user(&new_user(a.id, a_role.id, "Ada")).await);
    drop(tx);

    // Free in another app, and each app sees only its own.
    let b_ada = new_user(b.id, b_role.id, "ada");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&b_ada).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_username(b.id, "Ada").await.unwrap(), Some(b_ada.clone()));
    assert_eq!(store.user_by_username(a.id, "Ada").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_id(b.id, ada.id).await.unwrap(), None);
    assert_eq!(store.user_by_id(a.id, b_ada.id).await.unwrap(), None);
}

async fn contacts_verified_lookup(store: Arc<dyn Store>) {
    let (a, a_role, ada) = seed(&store, "app-a").await;
    let (b, _, b_user) = seed(&store, "app-b").await;
    let bob = new_user(a.id, a_role.id, "bob");
    let t0 = now();
    let unverified = new_contact(&ada, ContactKind::Email, "Ada@Example.com", false, t0);
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&bob).await.unwrap();
    tx.insert_contact(&unverified).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Email, "ada@example.com").await.unwrap(), None);

    let verified =
        Contact { is_primary: true, ..new_contact(&ada, ContactKind::Email, "Ada@Example.com", true, t0 + secs(1)) };
    let phone = new_contact(&ada, ContactKind::Phone, "+15550100", true, t0 + secs(2));
    let mut tx = store.begin().await.unwrap();
    tx.insert_contact(&verified).await.unwrap();
    tx.insert_contact(&phone).await.unwrap();
    tx.commit().await.unwrap();

    for value in ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"] {
        assert_eq!(
            store.user_by_verified_contact(a.id, ContactKind::Email, value).await.unwrap(),
            Some(ada.clone()),
            "{value}"
        );
    }
    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Phone, "+15550100").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Phone, "ada@example.com").await.unwrap(), None);
    assert_eq!(store.user_by_verified_contact(b.id, ContactKind::Email, "ada@example.com").await.unwrap(), None);

    // A verified value belongs to one user of the app...
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_contact(&new_contact(&bob, ContactKind::Email, "ADA@example.com", true, now())).await);
    drop(tx);

    // ...but anyone may claim it unverified, and another app may verify it.
    let bob_claim = new_contact(&bob, ContactKind::Email, "ada@example.com", false, t0 + secs(3));
    let ada_again = new_contact(&ada, ContactKind::Email, "shared@example.com", false, t0 + secs(4));
    let bob_again = new_contact(&bob, ContactKind::Email, "shared@example.com", false, t0 + secs(5));
    let b_verified = new_contact(&b_user, ContactKind::Email, "ada@example.com", true, t0);
    let mut tx = store.begin().await.unwrap();
    for contact in [&bob_claim, &ada_again, &bob_again, &b_verified] {
        tx.insert_contact(contact).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        store.user_by_verified_contact(a.id, ContactKind::Email, "ada@example.com").await.unwrap(),
        Some(ada.clone())
    );
    assert_eq!(
        store.user_by_verified_contact(b.id, ContactKind::Email, "ada@example.com").await.unwrap(),
        Some(b_user)
    );
    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Email, "shared@example.com").await.unwrap(), None);

    // Primary first, then by age.
    assert_eq!(store.contacts_of(a.id, ada.id).await.unwrap(), vec![verified, unverified, phone, ada_again]);
    assert_eq!(store.contacts_of(a.id, bob.id).await.unwrap(), vec![bob_claim, bob_again]);
    assert!(store.contacts_of(b.id, ada.id).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Sessions and refresh tokens
// ---------------------------------------------------------------------------------------

async fn user_profile_joins_role_and_primary_email(store: Arc<dyn Store>) {
    let (a, member, ada) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    // No email at all: the profile still answers, with none.
    let profile = store.user_profile(a.id, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (profile.user.clone(), profile.role_name.as_str(), profile.email.clone()),
        (ada.clone(), "member", None)
    );

    // Only the primary email counts; neither a secondary one nor a phone does.
    let t0 = now();
    let secondary = new_contact(&ada, ContactKind::Email, "old@example.com", true, t0);
    let phone = Contact { is_primary: true, ..new_contact(&ada, ContactKind::Phone, "+15550100", true, t0) };
    let primary =
        Contact { is_primary: true, ..new_contact(&ada, ContactKind::Email, "Ada@Example.com", false, t0 + secs(1)) };
    let admin = new_role(a.id, "admin", t0);
    let mut tx = store.begin().await.unwrap();
    for c in [&secondary, &phone, &primary] {
        tx.insert_contact(c).await.unwrap();
    }
    tx.insert_role(&admin).await.unwrap();
    tx.commit().await.unwrap();
    let profile = store.user_profile(a.id, ada.id).await.unwrap().unwrap();
    assert_eq!(profile.email.as_deref(), Some("Ada@Example.com"), "stored as given");
    assert_eq!(profile.email_verified_at, None);

    // The role's name follows the user's role.
    let mut moved = ada.clone();
    moved.role_id = admin.id;
    let mut tx = store.begin().await.unwrap();
    tx.update_user(&moved).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.user_profile(a.id, ada.id).await.unwrap().unwrap().role_name, "admin");
    assert_ne!(member.id, admin.id);

    // Another app's id, or an unknown user, finds nothing.
    assert_eq!(store.user_profile(b.id, ada.id).await.unwrap(), None);
    assert_eq!(store.user_profile(a.id, Uuid::new_v4()).await.unwrap(), None);
}

async fn sessions_round_trip(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let session = new_session(&user);
    let bare = Session { ip: None, user_agent: None, ..new_session(&user) };
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_session(&bare).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.session(a.id, session.id).await.unwrap(), Some(session.clone()));
    let bare_id = bare.id;
    assert_eq!(store.session(a.id, bare.id).await.unwrap(), Some(bare));
    assert_eq!(store.session(b.id, session.id).await.unwrap(), None);
    assert_eq!(store.session(a.id, Uuid::new_v4()).await.unwrap(), None);

    let used = session.last_used_at + secs(30);
    let mut tx = store.begin().await.unwrap();
    tx.touch_session(a.id, session.id, used).await.unwrap();
    tx.commit().await.unwrap();
    let touched = store.session(a.id, session.id).await.unwrap().unwrap();
    assert_eq!(touched, Session { last_used_at: used, ..session.clone() });

    // A browser cookie names the session by its digest, within its app only; one cookie, one
    // session.
    let mut tx = store.begin().await.unwrap();
    tx.set_session_cookie(a.id, session.id, "cookie-digest").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.session_by_cookie(a.id, "cookie-digest").await.unwrap(), Some(session.id));
    assert_eq!(store.session_by_cookie(b.id, "cookie-digest").await.unwrap(), None);
    assert_eq!(store.session_by_cookie(a.id, "other-digest").await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.set_session_cookie(a.id, bare_id, "cookie-digest").await);
    drop(tx);

    let revoked = session.last_used_at + secs(60);
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.revoke_session(b.id, session.id, revoked).await.unwrap(), "another app's session");
    assert!(!tx.revoke_session(a.id, Uuid::new_v4(), revoked).await.unwrap(), "unknown session");
    assert!(tx.revoke_session(a.id, session.id, revoked).await.unwrap());
    assert!(!tx.revoke_session(a.id, session.id, revoked + secs(1)).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.revoke_session(a.id, session.id, revoked + secs(2)).await.unwrap());
    tx.commit().await.unwrap();

    let stored = store.session(a.id, session.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(revoked), "the first revocation's time is kept");
    assert!(!stored.is_live(now()));
}

async fn refresh_tokens_rotate_once(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let session = new_session(&user);
    let token = new_refresh_token(&session);
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_refresh_token(&token).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.refresh_token(a.id, &token.digest).await.unwrap(), Some(token.unrotated()));
    assert_eq!(store.refresh_token(b.id, &token.digest).await.unwrap(), None);
    assert_eq!(store.refresh_token(a.id, "no-such-digest").await.unwrap(), None);

    let rotated = token.created_at + secs(1);
    // Rotations are scoped by app: another app cannot rotate this token.
    assert_eq!(store.rotate_refresh_token(b.id, &token.digest, &successor(b"foreign", rotated)).await.unwrap(), None);
    assert_eq!(
        store.rotate_refresh_token(a.id, "no-such-digest", &successor(b"unknown", rotated)).await.unwrap(),
        None
    );
    let first = successor(b"first", rotated);
    assert_eq!(store.rotate_refresh_token(a.id, &token.digest, &first).await.unwrap(), Some(session.id));
    assert_eq!(
        store.rotate_refresh_token(a.id, &token.digest, &successor(b"late", rotated + secs(1))).await.unwrap(),
        None,
        "a token is rotated once"
    );

    let stored = store.refresh_token(a.id, &token.digest).await.unwrap().unwrap();
    assert_eq!(
        stored,
        RefreshToken { rotated_at: Some(rotated), successor_digest: Some(first.digest.clone()), ..token.unrotated() },
        "the first rotation's successor is kept"
    );
    // The successor joins the session and is itself current.
    let next = store.refresh_token(a.id, &first.digest).await.unwrap().unwrap();
    assert_eq!(
        next,
        RefreshToken {
            app_id: a.id,
            session_id: session.id,
            digest: first.digest.clone(),
            created_at: rotated,
            rotated_at: None,
            successor_digest: None,
        }
    );
    let third = successor(b"third", rotated + secs(2));
    assert_eq!(store.rotate_refresh_token(a.id, &first.digest, &third).await.unwrap(), Some(session.id));

    // A revoked or expired session's tokens do not rotate.
    let revoked = new_session(&user);
    let expired = Session { expires_at: now() - secs(1), ..new_session(&user) };
    let (revoked_token, expired_token) = (new_refresh_token(&revoked), new_refresh_token(&expired));
    let mut tx = store.begin().await.unwrap();
    for (session, token) in [(&revoked, &revoked_token), (&expired, &expired_token)] {
        tx.insert_session(session).await.unwrap();
        tx.insert_refresh_token(token).await.unwrap();
    }
    assert!(tx.revoke_session(a.id, revoked.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    for token in [&revoked_token, &expired_token] {
        assert_eq!(store.rotate_refresh_token(a.id, &token.digest, &successor(b"x", now())).await.unwrap(), None);
        assert_eq!(store.refresh_token(a.id, &token.digest).await.unwrap(), Some(token.unrotated()), "left as it was");
    }
}

// ---------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------

async fn dropped_tx_rolls_back(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let role = new_role(app.id, "member", now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.insert_user(&new_user(app.id, role.id, "ada")).await.unwrap();
    drop(tx);

    assert_eq!(store.app_by_slug("acme").await.unwrap(), None);
    assert_eq!(store.app_by_id(app.id).await.unwrap(), None);
    assert!(store.roles(app.id).await.unwrap().is_empty());
    assert_eq!(store.user_by_username(app.id, "ada").await.unwrap(), None);

    // Nothing was left half-done: the same records go in cleanly afterwards.
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app));
}

async fn committed_tx_is_visible(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    assert_eq!(store.app_by_slug("acme").await.unwrap(), None, "not visible before commit");
    tx.commit().await.unwrap();
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app.clone()));

    // Several writes of one transaction land together.
    let role = new_role(app.id, "member", now());
    let user = new_user(app.id, role.id, "ada");
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.insert_user(&user).await.unwrap();
    assert!(store.roles(app.id).await.unwrap().is_empty(), "not visible before commit");
    tx.commit().await.unwrap();
    assert_eq!(store.roles(app.id).await.unwrap(), vec![role]);
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), Some(user));
}

async fn concurrent_rotation_has_one_winner(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let session = new_session(&user);
    let token = new_refresh_token(&session);
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_refresh_token(&token).await.unwrap();
    tx.commit().await.unwrap();

    let app_id = a.id;
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            let digest = token.digest.clone();
            tokio::spawn(async move {
                let next = successor(format!("successor-{i}").as_bytes(), now());
                let won = store.rotate_refresh_token(app_id, &digest, &next).await.unwrap();
                won.map(|_| next.digest)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        winners.extend(attempt.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "exactly one refresh may rotate the token");

    let stored = store.refresh_token(a.id, &token.digest).await.unwrap().unwrap();
    assert!(stored.rotated_at.is_some());
    assert_eq!(stored.successor_digest.as_ref(), winners.first());
}

/// Rotations arriving together (SQLite commits them as one batch) each land, in their own
/// session, and each parent reads back with its own successor.
async fn concurrent_rotations_of_different_tokens_all_land(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let mut tokens = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for _ in 0..40 {
        let session = new_session(&user);
        let token = new_refresh_token(&session);
        tx.insert_session(&session).await.unwrap();
        tx.insert_refresh_token(&token).await.unwrap();
        tokens.push(token);
    }
    tx.commit().await.unwrap();

    let attempts: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let (store, token) = (Arc::clone(&store), token.clone());
            tokio::spawn(async move {
                let next = successor(format!("successor-{i}").as_bytes(), now());
                let session = store.rotate_refresh_token(token.app_id, &token.digest, &next).await.unwrap();
                (token, next, session)
            })
        })
        .collect();
    for attempt in attempts {
        let (token, next, session) = attempt.await.unwrap();
        assert_eq!(session, Some(token.session_id));
        let parent = store.refresh_token(a.id, &token.digest).await.unwrap().unwrap();
        assert_eq!(parent.successor_digest.as_ref(), Some(&next.digest));
        let child = store.refresh_token(a.id, &next.digest).await.unwrap().unwrap();
        assert_eq!((child.session_id, child.rotated_at), (token.session_id, None));
    }
}

// ---------------------------------------------------------------------------------------
// Signing keys
// ---------------------------------------------------------------------------------------

async fn signing_keys_active_first(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let t0 = now();
    // The retired key is the newer one, so only `active` can put the other first.
    let active = new_signing_key(a.id, true, t0);
    let retired = new_signing_key(a.id, false, t0 + secs(10));
    let mut tx = store.begin().await.unwrap();
    tx.insert_signing_key(&retired).await.unwrap();
    tx.insert_signing_key(&active).await.unwrap();
    tx.commit().await.unwrap();

    let keys = store.signing_keys(a.id).await.unwrap();
    assert_eq!(keys, vec![active.clone(), retired.clone()]);
    assert_eq!(keys[0].private_sealed, active.private_sealed);
    assert_eq!(keys[0].public_jwk["kid"], json!(active.kid));
    assert_eq!(keys[1].retired_at, Some(t0 + secs(70)));
    assert!(store.signing_keys(b.id).await.unwrap().is_empty());

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_signing_key(&SigningKey { app_id: b.id, ..active }).await);
}

// ---------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------

async fn ping_and_backend(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()), "{}", store.backend());
}

// Apps' permission catalogs, user paging, role and user changes, API keys, change messages.
mod management;

// ---------------------------------------------------------------------------------------
// Migrations
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tokens_rotated_before_0003_stay_rotated() {
    tokens_rotated_before_0003_stay_rotated(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tokens_rotated_before_0003_stay_rotated() {
    tokens_rotated_before_0003_stay_rotated(Backend::Postgres).await;
}

/// A migrator holding only the migrations older than `version`, copied to a directory of
/// their own.
async fn migrations_before(backend: Backend, version: &str, dir: &std::path::Path) -> sqlx::migrate::Migrator {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend.name());
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < version {
            std::fs::copy(&path, dir.join(name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(dir.to_path_buf()).await.unwrap()
}

/// Tokens stored by the schema before 0003 (rotation marked on the token itself) keep their
/// meaning once 0003 moves it to a successor row: rotated ones stay rotated, the others
/// rotate as usual.
async fn tokens_rotated_before_0003_stay_rotated(backend: Backend) {
    let scratch = std::env::temp_dir().join("rampart-store-tests").join(format!("m-{}", Uuid::new_v4()));
    let old = migrations_before(backend, "0003", &scratch).await;
    let (app_id, role_id, user_id, session_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let t0 = now() - secs(600);
    let rotated_at = t0 + secs(60);
    // The same rows on either store, written with the schema as it was before 0003.
    macro_rules! write_old_rows {
        ($conn:expr) => {{
            let conn = $conn;
            old.run(&mut *conn).await.unwrap();
            sqlx::query(
                "INSERT INTO apps (id, slug, display_name, status, metadata, config, created_at, updated_at) \
                 VALUES ($1, 'legacy', 'Legacy', 'active', '{}', '{}', $2, $2)",
            )
            .bind(app_id)
            .bind(store::Ts(t0))
            .execute(&mut *conn)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO roles (id, app_id, name, description, is_system, permissions, created_at) \
                 VALUES ($1, $2, 'member', '', FALSE, '[]', $3)",
            )
            .bind(role_id)
            .bind(app_id)
            .bind(store::Ts(t0))
            .execute(&mut *conn)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO users (id, app_id, username, username_normalized, display_name, role_id, status, created_at, updated_at) \
                 VALUES ($1, $2, 'ada', 'ada', 'Ada', $3, 'active', $4, $4)",
            )
            .bind(user_id)
            .bind(app_id)
            .bind(role_id)
            .bind(store::Ts(t0))
            .execute(&mut *conn)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO sessions (id, app_id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(session_id)
            .bind(app_id)
            .bind(user_id)
            .bind(store::Ts(t0))
            .bind(store::Ts(now() + secs(3600)))
            .execute(&mut *conn)
            .await
            .unwrap();
            for (digest, rotated, sealed) in
                [("legacy-rotated", Some(rotated_at), Some(b"sealed".to_vec())), ("legacy-current", None, None)]
            {
                sqlx::query(
                    "INSERT INTO refresh_tokens (id, app_id, session_id, digest, created_at, rotated_at, successor_sealed) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(Uuid::new_v4())
                .bind(app_id)
                .bind(session_id)
                .bind(digest)
                .bind(store::Ts(t0))
                .bind(rotated.map(store::Ts))
                .bind(sealed)
                .execute(&mut *conn)
                .await
                .unwrap();
            }
        }};
    }
    let (url, leftover) = match backend {
        Backend::Sqlite => {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
            let path = scratch.with_extension("db");
            let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
            let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
            write_old_rows!(&mut conn);
            conn.close().await.unwrap();
            (format!("sqlite://{}", path.display()), Leftover::File(path))
        }
        Backend::Postgres => {
            let (url, leftover) = new_postgres_schema().await;
            let mut conn = PgConnection::connect(&url).await.unwrap();
            write_old_rows!(&mut conn);
            conn.close().await.unwrap();
            (url, leftover)
        }
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let (store, pool) = store::connect(&url).await.expect("the store migrates the old schema");
    run_on(FreshStore { store, pool, leftover }, move |store| async move {
        let rotated = store.refresh_token(app_id, "legacy-rotated").await.unwrap().unwrap();
        assert_eq!(rotated.rotated_at, Some(rotated_at));
        assert_eq!(
            rotated.successor_digest.as_deref(),
            Some("rotated-before-0003:legacy-rotated"),
            "a marker no derived successor can match: no grace answer"
        );
        assert_eq!(store.rotate_refresh_token(app_id, "legacy-rotated", &successor(b"x", now())).await.unwrap(), None);

        let current = store.refresh_token(app_id, "legacy-current").await.unwrap().unwrap();
        assert_eq!((current.rotated_at, current.successor_digest), (None, None));
        let next = successor(b"next", now());
        assert_eq!(store.rotate_refresh_token(app_id, "legacy-current", &next).await.unwrap(), Some(session_id));
        assert_eq!(
            store.refresh_token(app_id, "legacy-current").await.unwrap().unwrap().successor_digest,
            Some(next.digest)
        );
    })
    .await;
}
