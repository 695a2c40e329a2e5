//! License keys and their activations: found only through their own app and key digest,
//! counted live activations, one live activation per device, revoke and extend, entitlements,
//! and gone with their app.

use super::*;
use domain::licenses::{Activation, License, LicenseFilter, LicenseStatus};

conformance! {
    licenses_round_trip => sqlite_licenses_round_trip, postgres_licenses_round_trip;
    activations_are_counted_once_per_device => sqlite_activations_are_counted_once_per_device, postgres_activations_are_counted_once_per_device;
    revoked_and_expired_licenses_entitle_nobody => sqlite_revoked_and_expired_licenses_entitle_nobody, postgres_revoked_and_expired_licenses_entitle_nobody;
}

fn license(app_id: Uuid, product: &str, user_id: Option<Uuid>, created_at: DateTime<Utc>) -> License {
    License {
        id: Uuid::now_v7(),
        app_id,
        key_digest: format!("digest-{}", Uuid::new_v4().simple()),
        key_prefix: "ABCDE".into(),
        product_id: product.into(),
        user_id,
        org_id: None,
        max_activations: 2,
        metadata: json!({"seats": 2}),
        created_at,
        updated_at: created_at,
        expires_at: None,
        revoked_at: None,
        activations: 0,
    }
}

fn activation(l: &License, fingerprint: &str) -> Activation {
    Activation {
        id: Uuid::now_v7(),
        license_id: l.id,
        app_id: l.app_id,
        fingerprint: fingerprint.into(),
        device_name: Some("laptop".into()),
        created_at: now(),
        last_verified_at: None,
        deactivated_at: None,
    }
}

async fn insert(store: &Arc<dyn Store>, licenses: &[&License]) {
    let mut tx = store.begin().await.unwrap();
    for l in licenses {
        tx.insert_license(l).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn licenses_round_trip(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "lic-a").await;
    let (b, _, _) = seed(&store, "lic-b").await;
    let older = license(a.id, "basic", Some(user.id), now());
    let newer = license(a.id, "pro", None, now() + secs(1));
    let theirs = license(b.id, "pro", None, now());
    insert(&store, &[&older, &newer, &theirs]).await;

    assert_eq!(store.license(a.id, older.id).await.unwrap(), Some(older.clone()));
    assert_eq!(store.license_by_digest(a.id, &older.key_digest).await.unwrap(), Some(older.clone()));
    // Only through its own app.
    assert_eq!(store.license(b.id, older.id).await.unwrap(), None);
    assert_eq!(store.license_by_digest(b.id, &older.key_digest).await.unwrap(), None);
    // A digest is one license's.
    let mut twin = license(a.id, "basic", None, now());
    twin.key_digest = older.key_digest.clone();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(tx.insert_license(&twin).await, Err(StoreError::Unique { .. })));
    drop(tx);

    let all = LicenseFilter::default();
    let page = store.licenses_page(a.id, &all, now(), None, 10).await.unwrap();
    assert_eq!(page, vec![newer.clone(), older.clone()], "newest first, only the app's");
    let after = domain::licenses::LicenseCursor { created_at: newer.created_at, id: newer.id };
    assert_eq!(store.licenses_page(a.id, &all, now(), Some(after), 10).await.unwrap(), vec![older.clone()]);
    let by_user = LicenseFilter { user_id: Some(user.id), ..Default::default() };
    assert_eq!(store.licenses_page(a.id, &by_user, now(), None, 10).await.unwrap(), vec![older.clone()]);
    let by_product = LicenseFilter { product_id: Some("pro".into()), ..Default::default() };
    assert_eq!(store.licenses_page(a.id, &by_product, now(), None, 10).await.unwrap(), vec![newer.clone()]);

    // Revoked once; extended only while not revoked.
    let at = now();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.extend_license(a.id, older.id, Some(at + secs(3600)), at).await.unwrap());
    assert!(tx.revoke_license(a.id, older.id, at).await.unwrap());
    assert!(!tx.revoke_license(a.id, older.id, at).await.unwrap());
    assert!(!tx.extend_license(a.id, older.id, None, at).await.unwrap());
    assert!(!tx.revoke_license(b.id, newer.id, at).await.unwrap(), "not through another app");
    tx.commit().await.unwrap();
    let revoked = store.license(a.id, older.id).await.unwrap().unwrap();
    assert_eq!((revoked.revoked_at, revoked.expires_at), (Some(at), Some(at + secs(3600))));
    let filter = LicenseFilter { status: Some(LicenseStatus::Revoked), ..Default::default() };
    assert_eq!(store.licenses_page(a.id, &filter, now(), None, 10).await.unwrap().len(), 1);

    // Gone with their app (and their user's deletion leaves the license, unassigned).
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_user(a.id, user.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.license(a.id, older.id).await.unwrap().unwrap().user_id, None);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app(b.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.license(b.id, theirs.id).await.unwrap(), None);
}

async fn activations_are_counted_once_per_device(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "act").await;
    let l = license(a.id, "pro", None, now());
    insert(&store, &[&l]).await;
    let laptop = activation(&l, "laptop");
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.locked_license(a.id, l.id).await.unwrap().unwrap().activations, 0);
    tx.insert_activation(&laptop).await.unwrap();
    tx.insert_activation(&activation(&l, "phone")).await.unwrap();
    assert_eq!(tx.locked_license(a.id, l.id).await.unwrap().unwrap().activations, 2, "seen within the transaction");
    assert_eq!(tx.live_activation(l.id, "laptop").await.unwrap(), Some(laptop.clone()));
    assert!(matches!(tx.insert_activation(&activation(&l, "laptop")).await, Err(StoreError::Unique { .. })));
    drop(tx);
    assert_eq!(store.license(a.id, l.id).await.unwrap().unwrap().activations, 0, "rolled back");

    let mut tx = store.begin().await.unwrap();
    tx.insert_activation(&laptop).await.unwrap();
    tx.commit().await.unwrap();
    let at = now() + secs(5);
    let mut tx = store.begin().await.unwrap();
    tx.touch_activation(a.id, laptop.id, at).await.unwrap();
    let gone = tx.deactivate(l.id, "laptop", at).await.unwrap().unwrap();
    assert_eq!((gone.id, gone.deactivated_at, gone.last_verified_at), (laptop.id, Some(at), Some(at)));
    assert_eq!(tx.deactivate(l.id, "laptop", at).await.unwrap(), None);
    // The device may activate again: a new activation.
    tx.insert_activation(&activation(&l, "laptop")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.license(a.id, l.id).await.unwrap().unwrap().activations, 1);
    let listed = store.license_activations(a.id, l.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].deactivated_at.is_none() && listed[1].id == laptop.id, "live ones first");
    assert!(store.license_activations(Uuid::new_v4(), l.id).await.unwrap().is_empty());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.locked_license(Uuid::new_v4(), l.id).await.unwrap(), None, "not through another app");
}

async fn revoked_and_expired_licenses_entitle_nobody(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "ent").await;
    let mut active = license(a.id, "pro", Some(user.id), now());
    active.expires_at = Some(now() + secs(3600));
    let mut expired = license(a.id, "old", Some(user.id), now() + secs(1));
    expired.expires_at = Some(now() - secs(1));
    let revoked = license(a.id, "gone", Some(user.id), now() + secs(2));
    let nobodys = license(a.id, "free", None, now() + secs(3));
    insert(&store, &[&active, &expired, &revoked, &nobodys]).await;
    let mut tx = store.begin().await.unwrap();
    tx.revoke_license(a.id, revoked.id, now()).await.unwrap();
    tx.commit().await.unwrap();
    let ids = |ls: Vec<License>| ls.into_iter().map(|l| l.id).collect::<Vec<_>>();
    assert_eq!(ids(store.entitlements(a.id, user.id, None, now()).await.unwrap()), vec![active.id]);
    assert_eq!(ids(store.entitlements(a.id, user.id, Some(Uuid::new_v4()), now()).await.unwrap()), vec![active.id]);
    assert!(store.entitlements(a.id, user.id, None, now() + secs(7200)).await.unwrap().is_empty(), "later");
    assert!(store.entitlements(Uuid::new_v4(), user.id, None, now()).await.unwrap().is_empty());
    assert!(!store.organization_in_app(a.id, Uuid::new_v4()).await.unwrap());
}
