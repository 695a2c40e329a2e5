//! Conformance of what an import asks of the store: ids taken across apps, organizations by
//! slug, and the conditional password replacement of a rehash at sign-in.

use super::*;

conformance! {
    ids_taken_across_apps => sqlite_ids_taken_across_apps, postgres_ids_taken_across_apps;
    rehash_replaces_only_the_verified_hash => sqlite_rehash_replaces_only_the_verified_hash, postgres_rehash_replaces_only_the_verified_hash;
    statistics_refresh_after_bulk_writes => sqlite_statistics_refresh_after_bulk_writes, postgres_statistics_refresh_after_bulk_writes;
}

/// What an import calls between its batches: it names real tables on both stores (a typo
/// would only show as a warning in an import's log), inside no transaction, and changes
/// nothing anyone reads.
async fn statistics_refresh_after_bulk_writes(store: Arc<dyn Store>) {
    let (a, role, ada) = seed(&store, "app-a").await;
    let mut tx = store.begin().await.unwrap();
    for n in 0..200 {
        tx.insert_user(&new_user(a.id, role.id, &format!("bulk{n:03}"))).await.unwrap();
    }
    tx.commit().await.unwrap();
    store.refresh_statistics().await.unwrap();
    store.refresh_statistics().await.unwrap();
    assert_eq!(store.user_by_id(a.id, ada.id).await.unwrap(), Some(ada));
    assert!(store.user_by_username(a.id, "bulk199").await.unwrap().is_some());
}

fn new_org(app_id: Uuid, slug: &str) -> domain::model::Organization {
    domain::model::Organization {
        id: Uuid::now_v7(),
        app_id,
        slug: slug.into(),
        name: format!("Org {slug}"),
        metadata: json!({}),
        created_by: None,
        created_at: now(),
        updated_at: now(),
    }
}

async fn ids_taken_across_apps(store: Arc<dyn Store>) {
    let (a, _, ada) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    assert!(store.user_id_taken(ada.id).await.unwrap(), "taken, whatever the app asking");
    assert!(!store.user_id_taken(Uuid::new_v4()).await.unwrap());

    let acme = new_org(a.id, "acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&acme).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.organization_by_slug(a.id, "acme").await.unwrap(), Some(acme.clone()));
    assert_eq!(store.organization_by_slug(b.id, "acme").await.unwrap(), None, "each app sees its own");
    assert_eq!(store.organization_by_slug(a.id, "other").await.unwrap(), None);
    assert!(store.organization_id_taken(acme.id).await.unwrap());
    assert!(!store.organization_id_taken(Uuid::new_v4()).await.unwrap());
    // The same slug is free in another app.
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&new_org(b.id, "acme")).await.unwrap();
    tx.commit().await.unwrap();
}

async fn rehash_replaces_only_the_verified_hash(store: Arc<dyn Store>) {
    let (a, _, ada) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let imported = ada.password_hash.clone().unwrap();
    let at = now();

    // Another app's id, or a hash that is no longer the stored one: nothing changes.
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.replace_password_hash(b.id, ada.id, &imported, "$argon2id$new", at).await.unwrap());
    assert!(!tx.replace_password_hash(a.id, ada.id, "$2b$stale", "$argon2id$new", at).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_id(a.id, ada.id).await.unwrap().unwrap().password_hash, Some(imported.clone()));

    // A password change commits between the verify and the rehash: the rehash loses.
    let mut change = store.begin().await.unwrap();
    assert!(change.set_password_hash(a.id, ada.id, "$argon2id$changed", at).await.unwrap());
    change.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.replace_password_hash(a.id, ada.id, &imported, "$argon2id$rehash", at).await.unwrap());
    tx.commit().await.unwrap();
    let stored = store.user_by_id(a.id, ada.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some("$argon2id$changed"));

    // Still the one verified: replaced, with the time.
    let later = at + secs(5);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.replace_password_hash(a.id, ada.id, "$argon2id$changed", "$argon2id$rehash", later).await.unwrap());
    tx.commit().await.unwrap();
    let stored = store.user_by_id(a.id, ada.id).await.unwrap().unwrap();
    assert_eq!((stored.password_hash.as_deref(), stored.updated_at), (Some("$argon2id$rehash"), later));
}
