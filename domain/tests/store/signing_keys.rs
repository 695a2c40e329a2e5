//! Conformance of apps' signing keys.

use super::*;

conformance! {
    signing_keys_active_first => sqlite_signing_keys_active_first, postgres_signing_keys_active_first;
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
