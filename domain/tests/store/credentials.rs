//! App credentials (seed 002's `app_id` + `app_secret`): kept per app, found only through
//! their own app, rotated with an overlap, revoked, and gone with their app.

use super::*;
use domain::model::AppCredential;

conformance! {
    credentials_round_trip => sqlite_credentials_round_trip, postgres_credentials_round_trip;
    rotation_keeps_one_previous_secret => sqlite_rotation_keeps_one_previous_secret, postgres_rotation_keeps_one_previous_secret;
    revoked_credentials_stay_revoked => sqlite_revoked_credentials_stay_revoked, postgres_revoked_credentials_stay_revoked;
    credentials_leave_with_their_app => sqlite_credentials_leave_with_their_app, postgres_credentials_leave_with_their_app;
}

fn credential(app_id: Uuid, name: &str, created_at: DateTime<Utc>) -> AppCredential {
    AppCredential {
        id: Uuid::new_v4(),
        app_id,
        client_id: format!("app_{}", Uuid::new_v4().simple()),
        name: name.into(),
        secret_digest: format!("digest-{}", Uuid::new_v4().simple()),
        previous_digest: None,
        previous_expires_at: None,
        created_at,
        rotated_at: None,
        last_used_at: None,
        revoked_at: None,
    }
}

async fn insert(store: &Arc<dyn Store>, credentials: &[&AppCredential]) {
    let mut tx = store.begin().await.unwrap();
    for c in credentials {
        tx.insert_app_credential(c).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn credentials_round_trip(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "creds-a").await;
    let (b, _, _) = seed(&store, "creds-b").await;
    let older = credential(a.id, "older", now());
    let newer = credential(a.id, "newer", now() + secs(1));
    let theirs = credential(b.id, "theirs", now());
    insert(&store, &[&older, &newer, &theirs]).await;

    assert_eq!(store.app_credentials(a.id).await.unwrap(), vec![newer.clone(), older.clone()]);
    assert_eq!(store.app_credentials(b.id).await.unwrap(), vec![theirs.clone()]);
    assert_eq!(store.app_credential(a.id, &older.client_id).await.unwrap(), Some(older.clone()));
    // Only through its own app.
    assert_eq!(store.app_credential(b.id, &older.client_id).await.unwrap(), None);
    assert_eq!(store.app_credential(a.id, &theirs.client_id).await.unwrap(), None);
    assert_eq!(store.app_credential(a.id, "app_unknown").await.unwrap(), None);

    let used = now() + secs(10);
    let mut tx = store.begin().await.unwrap();
    tx.touch_app_credential(b.id, older.id, used).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.app_credential(a.id, &older.client_id).await.unwrap().unwrap().last_used_at, None, "not by b");
    let mut tx = store.begin().await.unwrap();
    tx.touch_app_credential(a.id, older.id, used).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.app_credential(a.id, &older.client_id).await.unwrap().unwrap().last_used_at, Some(used));

    // Public identifiers are unique across apps.
    let mut twin = credential(b.id, "twin", now());
    twin.client_id = newer.client_id.clone();
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_app_credential(&twin).await);
}

async fn rotation_keeps_one_previous_secret(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "rotate-a").await;
    let (b, _, _) = seed(&store, "rotate-b").await;
    let c = credential(a.id, "backend", now());
    insert(&store, &[&c]).await;

    let (first, until) = (now() + secs(5), now() + secs(3600));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.rotate_app_credential(b.id, c.id, "second", Some(until), first).await.unwrap(), None, "not by b");
    let rotated = tx.rotate_app_credential(a.id, c.id, "second", Some(until), first).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    let expected = AppCredential {
        secret_digest: "second".into(),
        previous_digest: Some(c.secret_digest.clone()),
        previous_expires_at: Some(until),
        rotated_at: Some(first),
        ..c.clone()
    };
    assert_eq!(rotated, expected);
    assert_eq!(store.app_credential(a.id, &c.client_id).await.unwrap(), Some(expected));

    // A second rotation replaces the previous secret with the one it replaces.
    let (again, later) = (now() + secs(6), now() + secs(60));
    let mut tx = store.begin().await.unwrap();
    let rotated = tx.rotate_app_credential(a.id, c.id, "third", Some(later), again).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (rotated.secret_digest.as_str(), rotated.previous_digest.as_deref(), rotated.previous_expires_at),
        ("third", Some("second"), Some(later))
    );

    // Without an overlap, the old secret is not kept at all.
    let mut tx = store.begin().await.unwrap();
    let rotated = tx.rotate_app_credential(a.id, c.id, "fourth", None, again).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (rotated.secret_digest.as_str(), rotated.previous_digest, rotated.previous_expires_at),
        ("fourth", None, None)
    );
}

async fn revoked_credentials_stay_revoked(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "revoke-a").await;
    let (b, _, _) = seed(&store, "revoke-b").await;
    let c = credential(a.id, "backend", now());
    let kept = credential(a.id, "kept", now());
    insert(&store, &[&c, &kept]).await;
    let mut tx = store.begin().await.unwrap();
    tx.rotate_app_credential(a.id, c.id, "second", Some(now() + secs(3600)), now()).await.unwrap().unwrap();
    tx.commit().await.unwrap();

    let at = now() + secs(1);
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.revoke_app_credential(b.id, c.id, at).await.unwrap(), "another app cannot revoke it");
    assert!(tx.revoke_app_credential(a.id, c.id, at).await.unwrap());
    assert!(!tx.revoke_app_credential(a.id, c.id, at).await.unwrap(), "once");
    assert_eq!(
        tx.rotate_app_credential(a.id, c.id, "third", None, at).await.unwrap(),
        None,
        "a revoked one is not rotated"
    );
    tx.commit().await.unwrap();

    let stored = store.app_credential(a.id, &c.client_id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(at));
    assert_eq!(stored.secret_digest, "second");
    // Its previous secret goes with it.
    assert_eq!((stored.previous_digest, stored.previous_expires_at), (None, None));
    assert_eq!(store.app_credential(a.id, &kept.client_id).await.unwrap(), Some(kept));
}

async fn credentials_leave_with_their_app(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "leaving").await;
    let (b, _, _) = seed(&store, "staying").await;
    let gone = credential(a.id, "gone", now());
    let kept = credential(b.id, "kept", now());
    insert(&store, &[&gone, &kept]).await;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app(a.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    assert!(store.app_credentials(a.id).await.unwrap().is_empty());
    assert_eq!(store.app_credential(a.id, &gone.client_id).await.unwrap(), None);
    assert_eq!(store.app_credentials(b.id).await.unwrap(), vec![kept]);
}
