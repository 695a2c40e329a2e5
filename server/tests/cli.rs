#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `rampart` binary as an operator runs it: start-up refusals, `migrate`, `create-account`.

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
