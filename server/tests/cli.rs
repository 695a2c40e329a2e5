#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `rampart` binary as an operator runs it: start-up refusals, `migrate`, `create-account`,
//! `verify-audit`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-cli-tests/{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with a clean environment of our own plus `vars`.
fn rampart(dir: &PathBuf, args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RAMPART_DATA_DIR", dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_bad_value_stops_the_start_with_one_line_naming_it() {
    let dir = temp_dir();
    for (var, value) in [
        ("RAMPART_BIND", "not-an-address"),
        ("DATABASE_URL", "mysql://nope"),
        ("RAMPART_MASTER_KEY", "too-short"),
        ("RAMPART_LOG_FORMAT", "xml"),
    ] {
        let out = rampart(&dir, &["serve"], &[(var, value)], None);
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{var}: {stderr}");
        assert!(stderr.starts_with(&format!("rampart: invalid {var}: ")), "{stderr}");
        assert!(!stderr.contains(value) || var != "RAMPART_MASTER_KEY", "the key is not echoed");
    }
}

#[test]
fn migrate_then_create_account_then_sign_in() {
    let dir = temp_dir();
    let db = format!("sqlite://{}/rampart.db", dir.display());
    let vars = [("DATABASE_URL", db.as_str())];
    let out = rampart(&dir, &["migrate"], &vars, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("rampart.db").exists());
    // Migrating needs no master key, so none is made: loading the configuration writes nothing.
    assert!(!dir.join("data/master.key").exists(), "migrate made a development key");

    // The password comes from stdin, never from the command line.
    let out = rampart(
        &dir,
        &["create-account", "--email", "ops@example.com", "--username", "ops"],
        &vars,
        Some("CorrectHorseBatteryStaple\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("account 'ops' created"));
    assert!(dir.join("data/master.key").exists(), "the account's signing needed a development key");

    // A weak password is refused with the rule, and nothing is created.
    let out = rampart(
        &dir,
        &["create-account", "--email", "weak@example.com", "--username", "weak"],
        &[("DATABASE_URL", db.as_str()), ("RAMPART_ACCOUNT_PASSWORD", "short")],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));

    // The same account, twice: refused.
    let out = rampart(
        &dir,
        &["create-account", "--email", "ops2@example.com", "--username", "OPS"],
        &[("DATABASE_URL", db.as_str()), ("RAMPART_ACCOUNT_PASSWORD", "CorrectHorseBatteryStaple")],
        None,
    );
    assert!(!out.status.success());

    // The account signs in by its (verified) email through the engine the server uses.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = domain::store::connect(&db).await.unwrap();
        let key = std::fs::read_to_string(dir.join("data/master.key")).unwrap();
        let engine = domain::engine::Engine::new(
            store,
            domain::config::EngineConfig {
                public_url: "http://127.0.0.1:3000".into(),
                master_key: domain::crypto::MasterKey::from_base64(&key).unwrap(),
                mail: Default::default(),
                counters: None,
                outbound_reachable: Default::default(),
            },
        )
        .await
        .unwrap();
        let pair = engine
            .signin(
                "platform",
                "ops@example.com",
                secrecy::SecretString::from("CorrectHorseBatteryStaple"),
                &Default::default(),
            )
            .await
            .unwrap();
        assert_eq!(pair.token_type, "Bearer");
    });
}

/// Fills a store through the engine the server uses, with master key `key`: the platform's
/// account `ops` and its app `ledger` with an end-user signed up and in, every event linked.
/// Returns the id of the event at position 3 of `ledger`'s chain.
async fn audited_store(db: &str, key: &str) -> uuid::Uuid {
    use domain::engine::{Engine, NewApp, SignupInput};
    let store = domain::store::connect(db).await.unwrap();
    let engine = Engine::new(
        store.clone(),
        domain::config::EngineConfig {
            public_url: "http://127.0.0.1:3000".into(),
            master_key: domain::crypto::MasterKey::from_base64(key).unwrap(),
            mail: Default::default(),
            counters: None,
            outbound_reachable: Default::default(),
        },
    )
    .await
    .unwrap();
    let input = |name: &str| SignupInput {
        email: format!("{name}@example.com"),
        username: name.to_owned(),
        password: secrecy::SecretString::from("CorrectHorseBatteryStaple"),
        display_name: None,
        email_verified: false,
        api_key: None,
    };
    let meta = Default::default();
    let (_, ops) = engine.signup_session("platform", input("ops"), &meta).await.unwrap();
    let new_app = NewApp { slug: "ledger".into(), display_name: "Ledger".into(), metadata: None, signing_alg: None };
    let app = engine.create_app(&ops, new_app).await.unwrap();
    engine.signup("ledger", input("ada"), &meta).await.unwrap();
    let password = secrecy::SecretString::from("CorrectHorseBatteryStaple");
    engine.signin("ledger", "ada", password, &meta).await.unwrap();
    engine.sequence_audit().await.unwrap();
    store.audit_chain(app.id, 2, 1).await.unwrap()[0].id
}

/// Runs one statement on the store behind `db`, as someone who can write to the database.
async fn tamper(db: &str, sql: &str) {
    use sqlx::Connection;
    if db.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(db).await.unwrap();
        assert_eq!(sqlx::query(sql).execute(&mut conn).await.unwrap().rows_affected(), 1);
    } else {
        let mut conn = sqlx::PgConnection::connect(db).await.unwrap();
        assert_eq!(sqlx::query(sql).execute(&mut conn).await.unwrap().rows_affected(), 1);
    }
}

/// `rampart verify-audit`, for every app and for one: `ok` and exit 0 while the chains are
/// intact; the first broken link named and exit 1 once a row is edited behind the server's
/// back, or when the key is not the server's.
fn verify_audit_over(dir: &PathBuf, db: &str, runtime: &tokio::runtime::Runtime) {
    let key = domain::crypto::MasterKey::generate_base64();
    let tampered_id = runtime.block_on(audited_store(db, &key));
    let vars = [("DATABASE_URL", db), ("RAMPART_MASTER_KEY", key.as_str())];
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();

    let out = rampart(dir, &["verify-audit"], &vars, None);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    lines.sort_unstable();
    // The platform's creation and the account's sign-up; the app's creation, its owner, and
    // its end-user's sign-up and sign-in.
    assert_eq!(lines, ["ledger: ok, 5 events verified", "platform: ok, 3 events verified"]);
    let out = rampart(dir, &["verify-audit", "--app", "ledger"], &vars, None);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "ledger: ok, 5 events verified\n");
    let out = rampart(dir, &["verify-audit", "--app", "nope"], &vars, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app named nope"));

    // Another key: every chain still links, but no event is that key's writer's.
    let other = domain::crypto::MasterKey::generate_base64();
    let out = rampart(dir, &["verify-audit"], &[("DATABASE_URL", db), ("RAMPART_MASTER_KEY", &other)], None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let printed = stdout(&out);
    let ledger = printed.lines().find(|l| l.starts_with("ledger: ")).unwrap_or_default();
    assert!(ledger.starts_with("ledger: BROKEN at position 1 (event "), "{printed}");
    assert!(ledger.ends_with("): forged; 0 events verified before it"), "{printed}");

    runtime.block_on(tamper(db, "UPDATE audit_events SET details = '{}' WHERE position = 3 AND type = 'member.added'"));
    let out = rampart(dir, &["verify-audit", "--app", "ledger"], &vars, None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        format!("ledger: BROKEN at position 3 (event {tampered_id}): content; 2 events verified before it\n")
    );
    let out = rampart(dir, &["verify-audit"], &vars, None);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("platform: ok, 3 events verified"), "{}", stdout(&out));
    assert!(stdout(&out).contains("ledger: BROKEN at position 3"), "{}", stdout(&out));
}

/// A CLI test over each store: a SQLite file in `dir`, or a fresh PostgreSQL schema that
/// is dropped whether the test passes or not.
type StoreTest = fn(&PathBuf, &str, &tokio::runtime::Runtime);

fn on_sqlite(test: StoreTest) {
    let dir = temp_dir();
    let db = format!("sqlite://{}/rampart.db", dir.display());
    test(&dir, &db, &tokio::runtime::Runtime::new().unwrap());
}

fn on_postgres(test: StoreTest) {
    let dir = temp_dir();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let schema = runtime.block_on(testkit::PgSchema::for_test());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&dir, &schema.url, &runtime)));
    let _ = runtime.block_on(schema.drop());
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn verify_audit_over_sqlite() {
    on_sqlite(verify_audit_over);
}

#[test]
fn verify_audit_over_postgres() {
    on_postgres(verify_audit_over);
}

/// An engine over `db` with master key `key`, as the server would have it.
async fn engine_over(db: &str, key: &str) -> domain::engine::Engine {
    let store = domain::store::connect(db).await.unwrap();
    domain::engine::Engine::new(
        store,
        domain::config::EngineConfig {
            public_url: "http://127.0.0.1:3000".into(),
            master_key: domain::crypto::MasterKey::from_base64(key).unwrap(),
            mail: Default::default(),
            counters: None,
            outbound_reachable: Default::default(),
        },
    )
    .await
    .unwrap()
}

/// A Django hash and a Firebase one (with its project's parameters) of `password`, made by
/// passlib and by Firebase's algorithm on hashlib and cryptography.
fn foreign_hashes(password: &str) -> serde_json::Value {
    let script = format!(
        r#"
import base64, hashlib, json, os
from passlib.hash import django_pbkdf2_sha256
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
b = {password:?}.encode()
signer, separator, salt = os.urandom(64), b"\x07", os.urandom(12)
derived = hashlib.scrypt(b, salt=salt + separator, n=2**12, r=8, p=1, dklen=64)
enc = Cipher(algorithms.AES(derived[:32]), modes.CTR(b"\0" * 16)).encryptor()
b64 = lambda x: base64.b64encode(x).decode()
print(json.dumps({{"django": django_pbkdf2_sha256.hash({password:?}), "firebase": b64(enc.update(signer) + enc.finalize()),
  "salt": b64(salt), "signer_key": b64(signer), "separator": b64(separator)}}))
"#
    );
    let out = Command::new("python3").args(["-c", &script]).output().expect("python3 with passlib and cryptography");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `rampart import` and `rampart export`: foreign hashes in through the flags, the export
/// imported into another app from standard input, reruns that change nothing, refused lines
/// on standard error with exit 1.
fn transfer_over(dir: &PathBuf, db: &str, runtime: &tokio::runtime::Runtime) {
    let key = domain::crypto::MasterKey::generate_base64();
    runtime.block_on(audited_store(db, &key));
    let vars = [("DATABASE_URL", db), ("RAMPART_MASTER_KEY", key.as_str())];
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let password = "Legacy-Pässword-1";
    let h = foreign_hashes(password);
    let file = dir.join("users.jsonl");
    let lines = [
        serde_json::json!({"username": "django", "emails": [{"address": "django@example.com", "verified": true}], "password_hash": h["django"]}),
        serde_json::json!({"emails": [{"address": "fb@example.com", "verified": true}], "password_hash": h["firebase"],
            "password_salt": h["salt"], "password_format": "firebase-scrypt",
            "organizations": [{"name": "Fire Base", "role": "admin"}]}),
    ];
    std::fs::write(&file, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let file = file.display().to_string();
    let args = |app: &'static str| -> Vec<String> {
        [
            "import",
            "--app",
            app,
            "--input",
            &file,
            "--firebase-salt-separator",
            h["separator"].as_str().unwrap(),
            "--firebase-rounds",
            "8",
            "--firebase-mem-cost",
            "12",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let with_key: Vec<(&str, &str)> =
        vars.iter().copied().chain([("RAMPART_FIREBASE_SIGNER_KEY", h["signer_key"].as_str().unwrap())]).collect();
    let argv = args("ledger");
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = rampart(dir, &argv, &with_key, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!((summary["created"].as_u64(), summary["failed_count"].as_u64()), (Some(2), Some(0)), "{summary}");
    assert!(text(&out.stderr).contains("import: 2 lines in "), "{}", text(&out.stderr));

    // Partial Firebase parameters are refused before anything is read.
    let out = rampart(dir, &["import", "--app", "ledger", "--firebase-rounds", "8"], &vars, Some(""));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--firebase-* flags go together"), "{}", text(&out.stderr));

    let out = rampart(dir, &["export", "--app", "ledger"], &vars, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = text(&out.stdout);
    assert_eq!(exported.lines().count(), 4, "a header and ada, django, the Firebase user: {exported}");
    for line in exported.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: not JSON, a log line? {line}"));
    }
    assert!(text(&out.stderr).contains("export: 3 users written"), "{}", text(&out.stderr));
    assert!(exported.contains("$firebase-scrypt$ln=12,r=8$"), "the stored form carries the parameters");

    // Into a fresh app, from standard input; then again, which changes nothing.
    runtime.block_on(async {
        let engine = engine_over(db, &key).await;
        let ops = engine
            .signin_session(
                "platform",
                "ops",
                secrecy::SecretString::from("CorrectHorseBatteryStaple"),
                &Default::default(),
            )
            .await
            .unwrap()
            .1;
        let new_app = domain::engine::NewApp {
            slug: "copy".into(),
            display_name: "Copy".into(),
            metadata: None,
            signing_alg: None,
        };
        engine.create_app(&ops, new_app).await.unwrap();
    });
    for (created, unchanged) in [(3, 0), (0, 3)] {
        let out = rampart(dir, &["import", "--app", "copy"], &vars, Some(&exported));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (summary["created"].as_u64(), summary["unchanged"].as_u64()),
            (Some(created), Some(unchanged)),
            "{summary}"
        );
    }
    runtime.block_on(async {
        let engine = engine_over(db, &key).await;
        for who in ["django", "fb@example.com", "ada"] {
            let pw = if who == "ada" { "CorrectHorseBatteryStaple" } else { password };
            engine.signin("copy", who, secrecy::SecretString::from(pw), &Default::default()).await.unwrap();
            let wrong =
                engine.signin("copy", who, secrecy::SecretString::from("wrong-password"), &Default::default()).await;
            assert!(matches!(wrong, Err(domain::Error::InvalidCredentials)), "{who}: {wrong:?}");
        }
        let app = engine.store().app_by_slug("copy").await.unwrap().unwrap();
        let dj = engine.store().user_by_username(app.id, "django").await.unwrap().unwrap();
        assert!(dj.password_hash.unwrap().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    });

    let out = rampart(dir, &["import", "--app", "copy"], &vars, Some("{not json\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("import: line 1: INVALID_JSON: "), "{}", text(&out.stderr));
    let out = rampart(dir, &["export", "--app", "nope"], &vars, None);
    assert!(!out.status.success());
}

#[test]
fn transfer_over_sqlite() {
    on_sqlite(transfer_over);
}

#[test]
fn transfer_over_postgres() {
    on_postgres(transfer_over);
}
