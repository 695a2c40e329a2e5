//! Each app as an OpenID Connect provider: clients found only through their own app,
//! changed and deleted with what hangs on them; consents replaced; codes spent once; the
//! sessions opened for a client revoked with it; assertions' `jti` seen once.

use super::*;
use domain::model::{OidcClient, OidcCode, OidcGrant};

conformance! {
    oidc_clients_round_trip => sqlite_oidc_clients_round_trip, postgres_oidc_clients_round_trip;
    oidc_codes_are_spent_once => sqlite_oidc_codes_are_spent_once, postgres_oidc_codes_are_spent_once;
    oidc_client_deletion_ends_its_sessions => sqlite_oidc_client_deletion_ends_its_sessions, postgres_oidc_client_deletion_ends_its_sessions;
    oidc_assertions_are_single_use => sqlite_oidc_assertions_are_single_use, postgres_oidc_assertions_are_single_use;
}

fn client(app_id: Uuid, name: &str, created_at: DateTime<Utc>) -> OidcClient {
    OidcClient {
        id: Uuid::new_v4(),
        app_id,
        client_id: format!("oc_{}", Uuid::new_v4().simple()),
        name: name.into(),
        confidential: true,
        secret_digest: Some(format!("digest-{}", Uuid::new_v4().simple())),
        redirect_uris: vec!["https://rp.example/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        scopes: vec!["openid".into(), "email".into()],
        first_party: false,
        jwks: None,
        created_at,
        updated_at: created_at,
        secret_rotated_at: None,
    }
}

fn code(c: &OidcClient, user: &User, at: DateTime<Utc>) -> OidcCode {
    OidcCode {
        digest: format!("code-{}", Uuid::new_v4().simple()),
        app_id: c.app_id,
        client_id: c.id,
        user_id: user.id,
        redirect_uri: c.redirect_uris[0].clone(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        nonce: Some("n-1".into()),
        scopes: vec!["openid".into()],
        auth_time: at,
        amr: vec!["pwd".into()],
        created_at: at,
        expires_at: at + secs(60),
        used_at: None,
        session_id: None,
    }
}

async fn insert(store: &Arc<dyn Store>, clients: &[&OidcClient]) {
    let mut tx = store.begin().await.unwrap();
    for c in clients {
        tx.insert_oidc_client(c).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// A session of `user` opened for `c`.
async fn granted_session(store: &Arc<dyn Store>, c: &OidcClient, user: &User) -> Session {
    let session = new_session(user);
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_refresh_token(&new_refresh_token(&session)).await.unwrap();
    tx.insert_oidc_grant(&OidcGrant {
        session_id: session.id,
        app_id: c.app_id,
        client_id: c.id,
        scopes: vec!["openid".into()],
        nonce: None,
        auth_time: session.created_at,
        amr: vec![],
        created_at: session.created_at,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    session
}

async fn oidc_clients_round_trip(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "oidc-a").await;
    let (b, _, _) = seed(&store, "oidc-b").await;
    let older = client(a.id, "older", now());
    let mut newer = client(a.id, "newer", now() + secs(1));
    newer.jwks = Some(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "abc"}]}));
    newer.confidential = false;
    newer.secret_digest = None;
    let theirs = client(b.id, "theirs", now());
    insert(&store, &[&older, &newer, &theirs]).await;

    assert_eq!(store.oidc_clients(a.id).await.unwrap(), vec![newer.clone(), older.clone()]);
    assert_eq!(store.oidc_client(a.id, &newer.client_id).await.unwrap(), Some(newer.clone()));
    assert_eq!(store.oidc_client_by_id(a.id, older.id).await.unwrap(), Some(older.clone()));
    // Only through its own app.
    assert_eq!(store.oidc_client(b.id, &older.client_id).await.unwrap(), None);
    assert_eq!(store.oidc_client_by_id(b.id, older.id).await.unwrap(), None);
    // A public identifier is unique.
    let mut twin = client(b.id, "twin", now());
    twin.client_id = older.client_id.clone();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_oidc_client(&twin).await, Err(StoreError::Unique { .. })));
    drop(tx);

    // Changed: what may change does; not through another app.
    let mut changed = older.clone();
    changed.name = "renamed".into();
    changed.redirect_uris = vec!["https://rp.example/a".into(), "https://rp.example/b".into()];
    changed.first_party = true;
    changed.secret_digest = Some("rotated".into());
    changed.secret_rotated_at = Some(now() + secs(5));
    changed.updated_at = now() + secs(5);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_oidc_client(&changed).await.unwrap());
    assert!(!tx.update_oidc_client(&OidcClient { app_id: b.id, ..changed.clone() }).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.oidc_client(a.id, &older.client_id).await.unwrap(), Some(changed.clone()));

    // Consent: none, given, replaced.
    assert_eq!(store.oidc_consent(older.id, user.id).await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    tx.grant_oidc_consent(a.id, older.id, user.id, &["openid".into()], now()).await.unwrap();
    tx.grant_oidc_consent(a.id, older.id, user.id, &["openid".into(), "email".into()], now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.oidc_consent(older.id, user.id).await.unwrap(), Some(vec!["openid".into(), "email".into()]));
    assert_eq!(store.oidc_consent(newer.id, user.id).await.unwrap(), None);

    // Gone with their app.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app(b.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.oidc_clients(b.id).await.unwrap(), vec![]);
}

async fn oidc_codes_are_spent_once(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "oidc-codes").await;
    let c = client(a.id, "web", now());
    insert(&store, &[&c]).await;
    let issued = code(&c, &user, now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_oidc_code(&issued).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.oidc_code(a.id, &issued.digest).await.unwrap(), Some(issued.clone()));

    // Two racing exchanges: exactly one gets the code.
    let used = now() + secs(1);
    let (first, second) = tokio::join!(
        async {
            let mut tx = store.begin().await.unwrap();
            let got = tx.consume_oidc_code(a.id, &issued.digest, used).await.unwrap();
            tx.commit().await.unwrap();
            got
        },
        async {
            let mut tx = store.begin().await.unwrap();
            let got = tx.consume_oidc_code(a.id, &issued.digest, used).await;
            let got = got.unwrap_or(None);
            let _ = tx.commit().await;
            got
        }
    );
    assert_eq!(usize::from(first.is_some()) + usize::from(second.is_some()), 1, "{first:?} {second:?}");
    assert_eq!(first.or(second), Some(OidcCode { used_at: Some(used), ..issued.clone() }), "answered, marked used");

    let session = granted_session(&store, &c, &user).await;
    let mut tx = store.begin().await.unwrap();
    tx.set_oidc_code_session(a.id, &issued.digest, session.id).await.unwrap();
    assert_eq!(tx.consume_oidc_code(a.id, &issued.digest, used).await.unwrap(), None, "spent");
    tx.commit().await.unwrap();
    let stored = store.oidc_code(a.id, &issued.digest).await.unwrap().unwrap();
    assert_eq!((stored.used_at, stored.session_id), (Some(used), Some(session.id)));
    let grant = store.oidc_grant(a.id, session.id).await.unwrap().unwrap();
    assert_eq!((grant.client_id, grant.session_id), (c.id, session.id));
    // Not through another app.
    let (b, _, _) = seed(&store, "oidc-codes-b").await;
    assert_eq!(store.oidc_code(b.id, &issued.digest).await.unwrap(), None);
    assert_eq!(store.oidc_grant(b.id, session.id).await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.consume_oidc_code(b.id, &code(&c, &user, now()).digest, used).await.unwrap(), None);
    tx.commit().await.unwrap();
}

async fn oidc_client_deletion_ends_its_sessions(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "oidc-delete").await;
    let gone = client(a.id, "gone", now());
    let kept = client(a.id, "kept", now());
    insert(&store, &[&gone, &kept]).await;
    let theirs = granted_session(&store, &gone, &user).await;
    let other = granted_session(&store, &kept, &user).await;
    let plain = new_session(&user);
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&plain).await.unwrap();
    tx.grant_oidc_consent(a.id, gone.id, user.id, &["openid".into()], now()).await.unwrap();
    tx.commit().await.unwrap();

    let at = now() + secs(2);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.revoke_oidc_client_sessions(a.id, gone.id, at).await.unwrap(), vec![theirs.id]);
    assert!(tx.delete_oidc_client(a.id, gone.id).await.unwrap());
    assert!(!tx.delete_oidc_client(a.id, gone.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.session(a.id, theirs.id).await.unwrap().unwrap().revoked_at, Some(at));
    assert_eq!(store.session(a.id, other.id).await.unwrap().unwrap().revoked_at, None);
    assert_eq!(store.session(a.id, plain.id).await.unwrap().unwrap().revoked_at, None);
    assert_eq!(store.oidc_client(a.id, &gone.client_id).await.unwrap(), None);
    assert_eq!(store.oidc_consent(gone.id, user.id).await.unwrap(), None);
    assert_eq!(store.oidc_grant(a.id, theirs.id).await.unwrap(), None);
}

async fn oidc_assertions_are_single_use(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "oidc-jti").await;
    let c = client(a.id, "job", now());
    let d = client(a.id, "other-job", now());
    insert(&store, &[&c, &d]).await;
    let at = now();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.use_oidc_assertion(c.id, "jti-1", at + secs(60), at).await.unwrap());
    assert!(!tx.use_oidc_assertion(c.id, "jti-1", at + secs(60), at).await.unwrap(), "replayed");
    assert!(tx.use_oidc_assertion(d.id, "jti-1", at + secs(60), at).await.unwrap(), "per client");
    tx.commit().await.unwrap();
    // Once expired, forgotten (the assertion itself is refused by then).
    let later = at + secs(120);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.use_oidc_assertion(c.id, "jti-1", later + secs(60), later).await.unwrap());
    tx.commit().await.unwrap();
}
