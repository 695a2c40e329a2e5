//! Conformance of apps' signing keys.

use super::*;

conformance! {
    signing_keys_active_first => sqlite_signing_keys_active_first, postgres_signing_keys_active_first;
    rotation_and_revocation => sqlite_rotation_and_revocation, postgres_rotation_and_revocation;
}

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

/// A retirement is conditional on the key being the app's active one, one key of an app is
/// active at most, and a revocation touches only a key that no longer signs.
async fn rotation_and_revocation(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let t0 = now();
    let first = new_signing_key(a.id, true, t0);
    let mut tx = store.begin().await.unwrap();
    tx.insert_signing_key(&first).await.unwrap();
    tx.commit().await.unwrap();

    // A second active key is refused while the first is active.
    let second = new_signing_key(a.id, true, t0 + secs(1));
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_signing_key(&second).await, Err(StoreError::Unique { .. })));
    drop(tx);

    // Another app's id, or a key that is not active, retires nothing.
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.retire_signing_key(b.id, &first.kid, t0 + secs(100)).await.unwrap());
    assert!(!tx.retire_signing_key(a.id, "nope", t0 + secs(100)).await.unwrap());
    assert!(tx.retire_signing_key(a.id, &first.kid, t0 + secs(100)).await.unwrap());
    assert!(!tx.retire_signing_key(a.id, &first.kid, t0 + secs(200)).await.unwrap(), "retired twice");
    tx.insert_signing_key(&second).await.unwrap();
    tx.commit().await.unwrap();

    let keys = store.signing_keys(a.id).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.kid.as_str(), k.active)).collect::<Vec<_>>(),
        [(second.kid.as_str(), true), (first.kid.as_str(), false)]
    );
    assert_eq!(keys[1].retired_at, Some(t0 + secs(100)));
    assert!(keys[1].live_at(t0 + secs(99)) && !keys[1].live_at(t0 + secs(100)));
    assert!(keys[0].live_at(t0 + secs(1_000_000)));

    // Revocation: never the active key, never another app's, once.
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.revoke_signing_key(a.id, &second.kid, t0 + secs(5)).await.unwrap());
    assert!(!tx.revoke_signing_key(b.id, &first.kid, t0 + secs(5)).await.unwrap());
    assert!(tx.revoke_signing_key(a.id, &first.kid, t0 + secs(5)).await.unwrap());
    assert!(!tx.revoke_signing_key(a.id, &first.kid, t0 + secs(6)).await.unwrap());
    tx.commit().await.unwrap();
    let keys = store.signing_keys(a.id).await.unwrap();
    assert_eq!(keys[1].revoked_at, Some(t0 + secs(5)));
    assert_eq!(keys[1].retired_at, Some(t0 + secs(5)));
    assert!(!keys[1].live_at(t0));
    assert!(keys[0].revoked_at.is_none());
}
