//! The harness: a real server per test on port 0, over a fresh SQLite file or a fresh
//! PostgreSQL schema, removed once the test is over.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use domain::crypto::MasterKey;
use domain::engine::Engine;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use testkit::{PgSchema, SqliteFile};
use tokio::task::AbortHandle;
use uuid::Uuid;

pub use testkit::postgres_base_url;

/// The password every test account and end-user signs up with.
pub const PASSWORD: &str = "YourSecurePassword123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
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
    /// Another node's cleanup removes the shared database.
    Nothing,
}

/// Stops the server and removes its database; taken before the `TestApp` is handed over.
pub struct Cleanup {
    server: AbortHandle,
    leftover: Leftover,
}

impl Cleanup {
    /// Best effort: a failure here must not hide the test's own outcome.
    pub async fn run(self) {
        self.server.abort();
        // Let the aborted server drop its pools before the schema goes.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        match self.leftover {
            Leftover::File(file) => file.remove(),
            Leftover::Schema(schema) => {
                let _ = schema.drop().await;
            }
            Leftover::Nothing => {}
        }
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, where this server listens.
    pub address: String,
    /// The base of every issuer: `address`, except for the second node of a pair, which
    /// shares the first one's (as nodes behind one load balancer do).
    pub public_url: String,
    pub backend: Backend,
    /// Follows no redirects and keeps no cookies, like a backend calling the API.
    pub client: reqwest::Client,
    pub engine: Arc<Engine>,
    /// The master key the server was started with (`RAMPART_MASTER_KEY`).
    pub master_key: MasterKey,
    /// The store's `DATABASE_URL`, for tests that look at what is stored as an attacker
    /// with a copy of the database would.
    pub database_url: String,
    /// The SMTP server this server sends its mail to (`RAMPART_SMTP_URL`).
    pub mail: Arc<testkit::smtp::Sink>,
    /// The SMS provider this server sends its text messages to (`RAMPART_SMS_URL`).
    pub sms: Arc<testkit::sms::SmsSink>,
    cleanup: Option<Cleanup>,
}

/// A fresh schema of the test PostgreSQL database: the URL that confines a store to it, and
/// what removes it.
async fn fresh_schema() -> (String, Leftover) {
    let schema = PgSchema::for_test().await;
    (schema.url.clone(), Leftover::Schema(schema))
}

/// A fresh SQLite file: its URL, its directory (the server's data dir too), and what removes it.
fn fresh_sqlite() -> (String, PathBuf, Leftover) {
    let file = SqliteFile::create("rampart-api-tests").expect("create the test's data dir");
    (file.url.clone(), file.dir.clone(), Leftover::File(file))
}

impl TestApp {
    /// A server over a fresh SQLite file in its own temporary directory.
    pub async fn spawn() -> TestApp {
        let (url, dir, leftover) = fresh_sqlite();
        Self::start(Backend::Sqlite, url, dir, leftover, MasterKey::generate_base64(), None).await
    }

    /// A server over a fresh SQLite file with no SMTP server configured: its mail stays in the
    /// dev outbox (`mail` is a sink nobody sends to).
    pub async fn spawn_without_smtp() -> TestApp {
        let (url, dir, leftover) = fresh_sqlite();
        Self::launch(Backend::Sqlite, url, dir, leftover, MasterKey::generate_base64(), None, false, &[]).await
    }

    /// A server over a fresh SQLite file that believes it is reached at `public_url` (say an
    /// https URL behind a TLS-terminating proxy).
    pub async fn spawn_with_public_url(public_url: &str) -> TestApp {
        let (url, dir, leftover) = fresh_sqlite();
        let (key, public_url) = (MasterKey::generate_base64(), Some(public_url.to_owned()));
        Self::start(Backend::Sqlite, url, dir, leftover, key, public_url).await
    }

    /// A server over a fresh schema of the test PostgreSQL database.
    pub async fn spawn_postgres() -> TestApp {
        let (url, leftover) = fresh_schema().await;
        Self::start_postgres(url, leftover, MasterKey::generate_base64(), None).await
    }

    /// Two servers over one fresh PostgreSQL schema, with one master key and one public URL
    /// (the first node's address): two nodes of one deployment behind a load balancer.
    /// The first node connects with the URL `first_url` makes of the schema's (`str::to_owned`,
    /// or through a proxy, or with its own `application_name`).
    pub async fn spawn_postgres_pair_with(first_url: impl FnOnce(&str) -> String) -> (TestApp, TestApp) {
        let (url, leftover) = fresh_schema().await;
        let master = MasterKey::generate_base64();
        let first = Self::start_postgres(first_url(&url), leftover, master.clone(), None).await;
        let second = Self::start_postgres(url, Leftover::Nothing, master, Some(first.public_url.clone())).await;
        (first, second)
    }

    async fn start_postgres(url: String, leftover: Leftover, master: String, public_url: Option<String>) -> TestApp {
        let schema = match &leftover {
            Leftover::Schema(schema) => Some(schema.name.clone()),
            _ => None,
        };
        let data_dir = std::env::temp_dir().join("rampart-api-tests").join(Uuid::new_v4().to_string());
        let app = Self::start(Backend::Postgres, url.clone(), data_dir.clone(), leftover, master, public_url).await;
        // Nothing should have been written to the data dir: the master key is given.
        let _ = std::fs::remove_dir_all(&data_dir);
        if let Some(schema) = schema {
            // Prove the URL form really confines the store to the schema: a connection made
            // with it lands there, and the migrations created their tables there.
            let mut conn = PgConnection::connect(&url).await.expect("schema URL");
            let (current,): (String,) =
                sqlx::query_as("SELECT current_schema()").fetch_one(&mut conn).await.expect("current_schema");
            assert_eq!(current, schema, "search_path option not applied");
            let (tables,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'apps'",
            )
            .bind(&schema)
            .fetch_one(&mut conn)
            .await
            .expect("information_schema");
            assert_eq!(tables, 1, "the store's tables are not in {schema}");
            conn.close().await.ok();
        }
        app
    }

    pub async fn spawn_with(backend: Backend) -> TestApp {
        match backend {
            Backend::Sqlite => Self::spawn().await,
            Backend::Postgres => Self::spawn_postgres().await,
        }
    }

    async fn start(
        backend: Backend,
        database_url: String,
        data_dir: PathBuf,
        leftover: Leftover,
        master: String,
        public_url: Option<String>,
    ) -> TestApp {
        Self::launch(backend, database_url, data_dir, leftover, master, public_url, true, &[]).await
    }

    /// A server over a fresh store of `backend` with these extra environment variables (say
    /// `RAMPART_TRUSTED_PROXIES`, or `RAMPART_REDIS_URL`).
    pub async fn spawn_with_env(backend: Backend, extra: &[(&'static str, String)]) -> TestApp {
        let master = MasterKey::generate_base64();
        match backend {
            Backend::Sqlite => {
                let (url, dir, leftover) = fresh_sqlite();
                Self::launch(backend, url, dir, leftover, master, None, true, extra).await
            }
            Backend::Postgres => {
                let (url, leftover) = fresh_schema().await;
                let dir = std::env::temp_dir().join("rampart-api-tests").join(Uuid::new_v4().to_string());
                Self::launch(backend, url, dir, leftover, master, None, true, extra).await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn launch(
        backend: Backend,
        database_url: String,
        data_dir: PathBuf,
        leftover: Leftover,
        master: String,
        public_url: Option<String>,
        smtp: bool,
        extra: &[(&'static str, String)],
    ) -> TestApp {
        let mail = Arc::new(testkit::smtp::Sink::start().await.expect("start the SMTP sink"));
        let sms = Arc::new(testkit::sms::SmsSink::start().await.expect("start the SMS sink"));
        let mut vars = HashMap::from([
            ("DATABASE_URL", database_url.clone()),
            ("RAMPART_MASTER_KEY", master.clone()),
            ("RAMPART_DATA_DIR", data_dir.display().to_string()),
            ("RAMPART_MAIL_FROM", "Rampart Tests <auth@rampart.test>".to_owned()),
            // The tests' fake providers and webhook receivers listen on loopback, which
            // requests made for a tenant may not reach unless the operator opens it; the tests
            // of that refusal close it again (`extra`).
            ("RAMPART_OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8,::1".to_owned()),
        ]);
        if smtp {
            vars.insert("RAMPART_SMTP_URL", mail.url());
        }
        if smtp {
            vars.insert("RAMPART_SMS_URL", sms.url());
        }
        if let Some(url) = &public_url {
            vars.insert("RAMPART_PUBLIC_URL", url.clone());
        }
        for (name, value) in extra {
            vars.insert(name, value.clone());
        }
        let (config, spawned) = testkit::server::spawn(vars).await.expect("start the server");
        assert!(!config.master_key_generated());
        let address = format!("http://127.0.0.1:{}", spawned.port);
        let public_url = public_url.unwrap_or_else(|| address.clone());
        assert_eq!(spawned.public_url, public_url);
        let engine = spawned.engine;
        let server = spawned.server;
        // A request the server never answers fails its test instead of stalling the suite.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .expect("HTTP client");
        TestApp {
            address,
            public_url,
            backend,
            client,
            engine,
            master_key: MasterKey::from_base64(&master).expect("master key"),
            database_url,
            mail,
            sms,
            cleanup: Some(Cleanup { server, leftover }),
        }
    }

    /// Takes what must be undone after the test, so the app itself can be moved into it.
    pub fn take_cleanup(&mut self) -> Option<Cleanup> {
        self.cleanup.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The issuer of an app's tokens.
    pub fn issuer(&self, slug: &str) -> String {
        format!("{}/{slug}", self.public_url)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    pub async fn post_json_with_bearer(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn patch_json_with_bearer(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.patch(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_with_bearer(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn delete_with_bearer(&self, path: &str, token: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    /// Signs an account up (`username@example.com`, [`PASSWORD`]) and returns its token pair.
    pub async fn signup_account(&self, username: &str) -> Value {
        let response = self
            .post_json(
                "/v1/auth/signup",
                &json!({
                    "email": format!("{username}@example.com"),
                    "username": username,
                    "password": PASSWORD,
                }),
            )
            .await;
        json_of(response, StatusCode::CREATED).await
    }

    /// The access token of a freshly signed-up account.
    pub async fn account_token(&self, username: &str) -> String {
        access_token(&self.signup_account(username).await)
    }

    pub async fn create_app(&self, token: &str, slug: &str) -> Response {
        self.post_json_with_bearer("/v1/apps", token, &json!({ "slug": slug, "displayName": format!("App {slug}") }))
            .await
    }

    /// Creates an app, asserting it worked, and returns it.
    pub async fn create_app_ok(&self, token: &str, slug: &str) -> Value {
        json_of(self.create_app(token, slug).await, StatusCode::CREATED).await
    }

    /// Signs an end-user up to an app through its consumer API; returns the token pair.
    pub async fn signup_end_user(&self, slug: &str, username: &str) -> Value {
        let response = self
            .post_json(
                &format!("/{slug}/v1/auth/signup"),
                &json!({
                    "email": format!("{username}@example.com"),
                    "username": username,
                    "password": PASSWORD,
                    "display_name": format!("User {username}"),
                }),
            )
            .await;
        json_of(response, StatusCode::CREATED).await
    }

    /// Signs up an account `{slug}-owner`, creates the app with it; returns the owner's
    /// access token.
    pub async fn app_with_owner(&self, slug: &str) -> String {
        let owner = self.account_token(&format!("{slug}-owner")).await;
        self.create_app_ok(&owner, slug).await;
        owner
    }

    /// Signs an end-user in (username or verified email, [`PASSWORD`]); returns the token pair.
    pub async fn signin_end_user(&self, slug: &str, identifier: &str) -> Value {
        self.signin_end_user_with(slug, identifier, PASSWORD).await
    }

    /// Signs an end-user in with this password; returns the token pair.
    pub async fn signin_end_user_with(&self, slug: &str, identifier: &str, password: &str) -> Value {
        let response = self
            .post_json(&format!("/{slug}/v1/auth/signin"), &json!({ "identifier": identifier, "password": password }))
            .await;
        json_of(response, StatusCode::OK).await
    }

    /// Patches an app's auth config through the API, asserting it worked; returns the config.
    pub async fn patch_config(&self, token: &str, slug: &str, patch: &Value) -> Value {
        json_of(self.patch_json_with_bearer(&format!("/api/v1/apps/{slug}/config"), token, patch).await, StatusCode::OK)
            .await
    }

    /// The app's auth config, as `GET /api/v1/apps/{slug}/config` shows it.
    pub async fn config(&self, token: &str, slug: &str) -> Value {
        json_of(self.get_with_bearer(&format!("/api/v1/apps/{slug}/config"), token).await, StatusCode::OK).await
    }

    /// The end-user's `GET /{slug}/v1/me`.
    pub async fn me(&self, slug: &str, token: &str) -> Value {
        json_of(self.get_with_bearer(&format!("/{slug}/v1/me"), token).await, StatusCode::OK).await
    }

    /// The id of the session an end-user's access token belongs to, from `GET me/sessions`.
    pub async fn current_session_id(&self, slug: &str, token: &str) -> String {
        let list = json_of(self.get_with_bearer(&format!("/{slug}/v1/me/sessions"), token).await, StatusCode::OK).await;
        let sessions = list["sessions"].as_array().unwrap_or_else(|| panic!("no sessions array: {list}"));
        let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
        assert_eq!(current.len(), 1, "exactly one current session: {list}");
        current[0]["id"].as_str().expect("session id").to_owned()
    }

    /// The app's JWKS document.
    pub async fn jwks(&self, slug: &str) -> Value {
        json_of(self.get(&format!("/{slug}/v1/.well-known/jwks.json")).await, StatusCode::OK).await
    }
}

pub fn access_token(pair: &Value) -> String {
    pair["access_token"].as_str().expect("access_token in the pair").to_owned()
}

pub fn refresh_token(pair: &Value) -> String {
    pair["refresh_token"].as_str().expect("refresh_token in the pair").to_owned()
}

/// The body as JSON, after checking the status (the body is shown when it differs).
pub async fn json_of(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let url = response.url().clone();
    let text = response.text().await.expect("response body");
    assert_eq!(actual, status, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}"))
}

/// Checks a response is an error in the documented shape, with this status and code; returns
/// the body.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = json_of(response, status).await;
    assert!(content_type.starts_with("application/json"), "content type {content_type}");
    assert_error_shape(&body, status);
    assert_eq!(body["error"], code, "{body}");
    body
}

/// `{"statusCode": N, "error": CODE, "message": ...}` and nothing else, N the HTTP status.
pub fn assert_error_shape(body: &Value, status: StatusCode) {
    let object = body.as_object().unwrap_or_else(|| panic!("not an object: {body}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["error", "message", "statusCode"], "{body}");
    assert_eq!(body["statusCode"], status.as_u16(), "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_')),
        "{body}"
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

/// Runs one test body against a fresh server over `backend`, cleans up, then reports the
/// outcome.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut app = TestApp::spawn_with(backend).await;
    let cleanup = app.take_cleanup();
    // Spawned so that a failing assertion still lets the cleanup below run.
    let outcome = tokio::spawn(test(app)).await;
    if let Some(cleanup) = cleanup {
        cleanup.run().await;
    }
    report(outcome);
}

/// Runs one test body against two nodes sharing one fresh PostgreSQL schema, cleans up, then
/// reports the outcome.
pub async fn run_pair<F, Fut>(test: F)
where
    F: FnOnce(TestApp, TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_pair_with(str::to_owned, test).await
}

/// As `run_pair`, the first node connecting with the URL `first_url` makes of the schema's.
pub async fn run_pair_with<F, Fut>(first_url: impl FnOnce(&str) -> String, test: F)
where
    F: FnOnce(TestApp, TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (mut first, mut second) = TestApp::spawn_postgres_pair_with(first_url).await;
    // Both servers stop before the first node's cleanup drops the schema.
    let cleanups = [second.take_cleanup(), first.take_cleanup()];
    let outcome = tokio::spawn(test(first, second)).await;
    for cleanup in cleanups.into_iter().flatten() {
        cleanup.run().await;
    }
    report(outcome);
}

fn report(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

/// Declares, for each flow `async fn name(app: TestApp)`, the tests `name::sqlite` and
/// `name::postgres`.
macro_rules! both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::helpers::run(crate::helpers::Backend::Sqlite, super::$name).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::helpers::run(crate::helpers::Backend::Postgres, super::$name).await
                }
            }
        )+
    };
}
pub(crate) use both_stores;

/// Declares, for each flow `async fn name(a: TestApp, b: TestApp)`, the test `name::postgres`
/// running it on two nodes over one PostgreSQL schema.
macro_rules! two_nodes {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::helpers::run_pair(super::$name).await
                }
            }
        )+
    };
}
pub(crate) use two_nodes;

/// Every value stored in every table of the app's database, as bytes (text as UTF-8, blobs
/// as they are; numbers, UUIDs and timestamps left out): what someone holding a copy of the
/// database would read.
pub async fn stored_values(app: &TestApp) -> Vec<Vec<u8>> {
    use sqlx::{Column, Row};
    macro_rules! collect {
        ($conn:expr, $tables_sql:expr) => {{
            let tables: Vec<String> = sqlx::query_scalar($tables_sql).fetch_all(&mut $conn).await.expect("tables");
            let mut values = Vec::new();
            for table in tables {
                let rows =
                    sqlx::query(&format!(r#"SELECT * FROM "{table}""#)).fetch_all(&mut $conn).await.expect("rows");
                for row in rows {
                    for column in row.columns() {
                        let i = column.ordinal();
                        if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                            values.push(text.into_bytes());
                        } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                            values.push(bytes);
                        } else if let Ok(Some(json)) = row.try_get::<Option<Value>, _>(i) {
                            values.push(json.to_string().into_bytes());
                        }
                    }
                }
            }
            values
        }};
    }
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.expect("sqlite");
            collect!(conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&app.database_url).await.expect("postgres");
            collect!(
                conn,
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        }
    }
}

/// Runs `sqlite` or `postgres` (one statement, no arguments) on the app's database, behind
/// the server's back: what a test does to make time pass.
pub async fn execute_sql(app: &TestApp, sqlite: &str, postgres: &str) {
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.expect("sqlite");
            sqlx::query(sqlite).execute(&mut conn).await.expect("sqlite statement");
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&app.database_url).await.expect("postgres");
            sqlx::query(postgres).execute(&mut conn).await.expect("postgres statement");
        }
    }
}

/// How long a test waits for mail before it fails.
pub const MAIL_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// The next message to `to` that the app's SMTP sink receives.
pub async fn mail_to(app: &TestApp, to: &str) -> testkit::smtp::Received {
    app.mail.wait_for(to, MAIL_WAIT).await.unwrap_or_else(|| panic!("no mail to {to} within {MAIL_WAIT:?}"))
}

/// The first link of a message that contains `part`.
pub fn link_in(message: &testkit::smtp::Received, part: &str) -> String {
    message
        .links()
        .into_iter()
        .find(|l| l.contains(part))
        .unwrap_or_else(|| panic!("no link with {part} in {:?}", message.text_body()))
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
        .to_owned()
}
