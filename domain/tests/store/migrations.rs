//! Migrations keep the meaning of data stored by older schemas.

use super::*;
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tokens_rotated_before_0003_stay_rotated() {
    tokens_rotated_before_0003_stay_rotated(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tokens_rotated_before_0003_stay_rotated() {
    tokens_rotated_before_0003_stay_rotated(Backend::Postgres).await;
}

/// An app `legacy` with a member role and a user `ada` signed in at `$t0` in `$sessions`
/// (live for an hour yet), written on `$conn` (SQLite's or PostgreSQL's connection).
macro_rules! write_app_with_user {
    ($conn:expr, $app_id:expr, $role_id:expr, $user_id:expr, $t0:expr, $sessions:expr) => {{
        sqlx::query(
            "INSERT INTO apps (id, slug, display_name, status, metadata, config, created_at, updated_at) \
             VALUES ($1, 'legacy', 'Legacy', 'active', '{}', '{}', $2, $2)",
        )
        .bind($app_id)
        .bind(store::Ts($t0))
        .execute(&mut *$conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO roles (id, app_id, name, description, is_system, permissions, created_at) \
             VALUES ($1, $2, 'member', '', FALSE, '[]', $3)",
        )
        .bind($role_id)
        .bind($app_id)
        .bind(store::Ts($t0))
        .execute(&mut *$conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO users (id, app_id, username, username_normalized, display_name, role_id, status, created_at, updated_at) \
             VALUES ($1, $2, 'ada', 'ada', 'Ada', $3, 'active', $4, $4)",
        )
        .bind($user_id)
        .bind($app_id)
        .bind($role_id)
        .bind(store::Ts($t0))
        .execute(&mut *$conn)
        .await
        .unwrap();
        for session in $sessions {
            sqlx::query(
                "INSERT INTO sessions (id, app_id, user_id, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(session)
            .bind($app_id)
            .bind($user_id)
            .bind(store::Ts($t0))
            .bind(store::Ts(now() + secs(3600)))
            .execute(&mut *$conn)
            .await
            .unwrap();
        }
    }};
}

/// A store of `$backend` migrated from what `$write!(conn)` wrote on a new database (with
/// the old migrations it runs from `$scratch`, removed once written).
macro_rules! migrated {
    ($backend:expr, $write:ident, $scratch:expr) => {{
        let (url, leftover) = match $backend {
            Backend::Sqlite => {
                use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
                let file = SqliteFile::create("rampart-store-tests").unwrap();
                let options = SqliteConnectOptions::new().filename(file.dir.join("rampart.db")).create_if_missing(true);
                let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
                $write!(&mut conn);
                conn.close().await.unwrap();
                (file.url.clone(), Leftover::File(file))
            }
            Backend::Postgres => {
                let schema = PgSchema::for_test().await;
                let mut conn = sqlx::PgConnection::connect(&schema.url).await.unwrap();
                $write!(&mut conn);
                conn.close().await.unwrap();
                (schema.url.clone(), Leftover::Schema(schema))
            }
        };
        let _ = std::fs::remove_dir_all(&$scratch);
        let store = store::connect(&url).await.expect("the store migrates the old schema");
        FreshStore { store, leftover }
    }};
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
            write_app_with_user!(conn, app_id, role_id, user_id, t0, [session_id]);
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
    run_on(migrated!(backend, write_old_rows, scratch), move |store| async move {
        let rotated = store.legacy_refresh_token(app_id, "legacy-rotated").await.unwrap().unwrap();
        assert_eq!(rotated.rotated_at, Some(rotated_at));
        assert_eq!(
            rotated.successor_digest.as_deref(),
            Some("rotated-before-0003:legacy-rotated"),
            "a marker no derived successor can match: no grace answer"
        );
        assert_eq!(
            store
                .rotate_refresh_token(app_id, &rotated.key(), &successor(b"x", now()), &rotation_event(app_id))
                .await
                .unwrap(),
            None
        );

        let current = store.legacy_refresh_token(app_id, "legacy-current").await.unwrap().unwrap();
        assert_eq!((current.rotated_at, current.successor_digest.as_deref()), (None, None));
        let next = successor(b"next", now());
        assert_eq!(
            store.rotate_refresh_token(app_id, &current.key(), &next, &rotation_event(app_id)).await.unwrap(),
            Some(session_id)
        );
        assert_eq!(
            store.legacy_refresh_token(app_id, "legacy-current").await.unwrap().unwrap().successor_digest,
            Some(next.digest.clone())
        );
        let child = store.refresh_token(app_id, &next_key(&current.key(), &next)).await.unwrap().unwrap();
        assert_eq!((child.session_id, child.rotated_at), (session_id, None));
        assert_eq!(
            store.legacy_refresh_token(app_id, &next.digest).await.unwrap(),
            None,
            "the successor is not legacy"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tokens_keyed_by_digest_keep_their_chains() {
    tokens_keyed_by_digest_keep_their_chains(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tokens_keyed_by_digest_keep_their_chains() {
    tokens_keyed_by_digest_keep_their_chains(Backend::Postgres).await;
}

/// Tokens stored by the schema before 0020 (keyed by digest, each naming its parent) are
/// found by digest once 0020 keys them by session and generation: each session's chain keeps
/// its order, rotated tokens stay rotated with the successor they had, and the current one
/// rotates into the new keys. Two sessions, one with a chain of three, one with one token.
async fn tokens_keyed_by_digest_keep_their_chains(backend: Backend) {
    let scratch = std::env::temp_dir().join("rampart-store-tests").join(format!("m-{}", Uuid::new_v4()));
    let old = migrations_before(backend, "0020", &scratch).await;
    let (app_id, role_id, user_id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (long, short) = (Uuid::new_v4(), Uuid::new_v4());
    let t0 = now() - secs(600);
    // (digest, session, created, parent)
    let tokens = [
        ("d-root", long, t0, None),
        ("d-second", long, t0 + secs(10), Some("d-root")),
        ("d-third", long, t0 + secs(20), Some("d-second")),
        ("d-alone", short, t0, None),
    ];
    macro_rules! write_old_rows {
        ($conn:expr) => {{
            let conn = $conn;
            old.run(&mut *conn).await.unwrap();
            write_app_with_user!(conn, app_id, role_id, user_id, t0, [long, short]);
            for (digest, session, created, parent) in tokens {
                sqlx::query(
                    "INSERT INTO refresh_tokens (digest, app_id, session_id, created_at, parent) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(digest)
                .bind(app_id)
                .bind(session)
                .bind(store::Ts(created))
                .bind(parent)
                .execute(&mut *conn)
                .await
                .unwrap();
            }
        }};
    }
    run_on(migrated!(backend, write_old_rows, scratch), move |store| async move {
        let mut chain = Vec::new();
        for digest in ["d-root", "d-second", "d-third"] {
            chain.push(store.legacy_refresh_token(app_id, digest).await.unwrap().unwrap());
        }
        assert_eq!(chain.iter().map(|t| t.generation).collect::<Vec<_>>(), [0, 1, 2], "the chain keeps its order");
        assert_eq!(chain[0].successor_digest.as_deref(), Some("d-second"));
        assert_eq!((chain[0].rotated_at, chain[1].rotated_at), (Some(t0 + secs(10)), Some(t0 + secs(20))));
        assert_eq!(chain[1].successor_digest.as_deref(), Some("d-third"));
        assert_eq!((chain[2].session_id, chain[2].rotated_at), (long, None));
        // A rotated token does not rotate again; the current one does, into the next generation.
        let stale = successor(b"stale", now());
        assert_eq!(
            store.rotate_refresh_token(app_id, &chain[1].key(), &stale, &rotation_event(app_id)).await.unwrap(),
            None
        );
        let next = successor(b"next", now());
        assert_eq!(
            store.rotate_refresh_token(app_id, &chain[2].key(), &next, &rotation_event(app_id)).await.unwrap(),
            Some(long)
        );
        let child = store.refresh_token(app_id, &next_key(&chain[2].key(), &next)).await.unwrap().unwrap();
        assert_eq!((child.generation, child.rotated_at), (3, None));
        // The other session's token is its own chain's first.
        let alone = store.legacy_refresh_token(app_id, "d-alone").await.unwrap().unwrap();
        assert_eq!((alone.session_id, alone.generation, alone.rotated_at), (short, 0, None));
        // Digests are of this app only.
        assert_eq!(store.legacy_refresh_token(Uuid::new_v4(), "d-alone").await.unwrap(), None);
    })
    .await;
}
