#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The store conformance suite: every test runs against a fresh SQLite file and a fresh PostgreSQL schema.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use domain::model::{
    App, AuthConfig, Contact, ContactKind, Membership, NewRefreshToken, RefreshKey, RefreshSuccessor, RefreshToken,
    Role, Session, SigningKey, Status, User,
};
use domain::store::{self, Store, StoreError};
use domain::Error;
use testkit::{PgSchema, SqliteFile};

// ---------------------------------------------------------------------------------------
// Harness: a fresh, isolated store per test, removed afterwards.
// ---------------------------------------------------------------------------------------

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
    File(SqliteFile),
    Schema(PgSchema),
}

struct FreshStore {
    store: Arc<dyn Store>,
    leftover: Leftover,
}

async fn fresh_store(backend: Backend) -> FreshStore {
    match backend {
        Backend::Sqlite => {
            let file = SqliteFile::create("rampart-store-tests").expect("a temporary directory");
            let store = store::connect(&file.url).await.expect("SQLite store");
            FreshStore { store, leftover: Leftover::File(file) }
        }
        Backend::Postgres => {
            let schema = PgSchema::for_test().await;
            let store = store::connect(&schema.url).await.expect("PostgreSQL store");
            FreshStore { store, leftover: Leftover::Schema(schema) }
        }
    }
}

impl FreshStore {
    /// Best effort: a failure here must not hide the test's own outcome.
    async fn dispose(self) {
        self.store.close().await;
        drop(self.store);
        match self.leftover {
            Leftover::File(file) => file.remove(),
            Leftover::Schema(schema) => {
                let _ = schema.drop().await;
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

// One module per aggregate; each lists its tests in `conformance!`.
mod apps;
// The audit log: recording, reading, linking, racing sequencers, retention.
mod audit;
// App credentials: per app, rotation with an overlap, revocation, cascade.
mod credentials;
// Sign-in through external providers: providers per app, identities unique and unlinked
// safely, states spent once and swept.
mod federation;
// License keys: per app, activations counted once per device, revoke and extend, entitlements.
mod licenses;
// Apps' permission catalogs, user paging, role and user changes, API keys, change messages.
mod mail;
mod management;
mod migrations;
// Each app as an OIDC provider: clients, consents, codes spent once, grants, assertions.
mod oidc;
mod sessions;
mod signing_keys;
mod transactions;
// What an import asks: ids taken across apps, organizations by slug, the rehash's condition.
mod transfer;
mod users;
// Waitlists: unique per user, feature and context; paged, counted, admitted once.
mod waitlists;

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
        amr: vec!["otp".into(), "sms".into()],
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

/// Where `successor`, the successor of the token kept at `parent`, is kept.
fn next_key(parent: &RefreshKey, successor: &RefreshSuccessor) -> RefreshKey {
    RefreshKey { session_id: parent.session_id, generation: parent.generation + 1, digest: successor.digest.clone() }
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
        revoked_at: None,
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

/// A unique refusal, which reaches a client as a `Conflict` whose message can go to it: no
/// constraint, index or table name in it.
fn assert_conflict(outcome: Result<(), StoreError>) {
    let refusal = match outcome {
        Err(e @ StoreError::Unique { .. }) => e,
        other => panic!("expected a unique refusal, got {other:?}"),
    };
    let Error::Conflict(message) = Error::from(refusal) else { panic!("a unique refusal is not a Conflict") };
    for leak in ["_key", "pkey", "unique", "UNIQUE", "constraint", "index", "apps", "users", "contacts", "app_slugs"] {
        assert!(!message.contains(leak), "the message names the database's internals ({leak}): {message}");
    }
}

/// The audit event a refresh rotation of app `app_id` records (the store fills in the user).
fn rotation_event(app_id: Uuid) -> domain::audit::AuditEvent {
    use domain::audit::{Actor, AuditEvent, Event};
    AuditEvent::record(app_id, now(), Event::new("end_user.token_refreshed", Actor::end_user(Uuid::nil())))
}
