//! Conformance of end-users and their contacts: lookups, uniqueness, profiles.

use super::*;

conformance! {
    users_by_username => sqlite_users_by_username, postgres_users_by_username;
    contacts_verified_lookup => sqlite_contacts_verified_lookup, postgres_contacts_verified_lookup;
    user_profile_joins_role_and_primary_email => sqlite_user_profile_joins_role_and_primary_email, postgres_user_profile_joins_role_and_primary_email;
}

async fn users_by_username(store: Arc<dyn Store>) {
    let (a, a_role, _) = seed(&store, "app-a").await;
    let (b, b_role, _) = seed(&store, "app-b").await;
    let ada = new_user(a.id, a_role.id, "ada");
    let grace = User { password_hash: None, status: Status::Suspended, ..new_user(a.id, a_role.id, "Grace.Hopper") };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&ada).await.unwrap();
    tx.insert_user(&grace).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.user_by_username(a.id, "ada").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_username(a.id, "ADA").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_username(a.id, "grace.hopper").await.unwrap(), Some(grace.clone()));
    assert_eq!(store.user_by_username(a.id, "nobody").await.unwrap(), None);
    assert_eq!(store.user_by_id(a.id, ada.id).await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_id(a.id, grace.id).await.unwrap(), Some(grace));
    assert_eq!(store.user_by_id(a.id, Uuid::new_v4()).await.unwrap(), None);

    // Taken in the same app, whatever the case.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_user(&new_user(a.id, a_role.id, "Ada")).await);
    drop(tx);

    // Free in another app, and each app sees only its own.
    let b_ada = new_user(b.id, b_role.id, "ada");
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&b_ada).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_username(b.id, "Ada").await.unwrap(), Some(b_ada.clone()));
    assert_eq!(store.user_by_username(a.id, "Ada").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_id(b.id, ada.id).await.unwrap(), None);
    assert_eq!(store.user_by_id(a.id, b_ada.id).await.unwrap(), None);
}

async fn contacts_verified_lookup(store: Arc<dyn Store>) {
    let (a, a_role, ada) = seed(&store, "app-a").await;
    let (b, _, b_user) = seed(&store, "app-b").await;
    let bob = new_user(a.id, a_role.id, "bob");
    let t0 = now();
    let unverified = new_contact(&ada, ContactKind::Email, "Ada@Example.com", false, t0);
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&bob).await.unwrap();
    tx.insert_contact(&unverified).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Email, "ada@example.com").await.unwrap(), None);

    let verified =
        Contact { is_primary: true, ..new_contact(&ada, ContactKind::Email, "Ada@Example.com", true, t0 + secs(1)) };
    let phone = new_contact(&ada, ContactKind::Phone, "+15550100", true, t0 + secs(2));
    let mut tx = store.begin().await.unwrap();
    tx.insert_contact(&verified).await.unwrap();
    tx.insert_contact(&phone).await.unwrap();
    tx.commit().await.unwrap();

    for value in ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"] {
        assert_eq!(
            store.user_by_verified_contact(a.id, ContactKind::Email, value).await.unwrap(),
            Some(ada.clone()),
            "{value}"
        );
    }
    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Phone, "+15550100").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Phone, "ada@example.com").await.unwrap(), None);
    assert_eq!(store.user_by_verified_contact(b.id, ContactKind::Email, "ada@example.com").await.unwrap(), None);

    // A verified value belongs to one user of the app...
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_contact(&new_contact(&bob, ContactKind::Email, "ADA@example.com", true, now())).await);
    drop(tx);

    // ...but anyone may claim it unverified, and another app may verify it.
    let bob_claim = new_contact(&bob, ContactKind::Email, "ada@example.com", false, t0 + secs(3));
    let ada_again = new_contact(&ada, ContactKind::Email, "shared@example.com", false, t0 + secs(4));
    let bob_again = new_contact(&bob, ContactKind::Email, "shared@example.com", false, t0 + secs(5));
    let b_verified = new_contact(&b_user, ContactKind::Email, "ada@example.com", true, t0);
    let mut tx = store.begin().await.unwrap();
    for contact in [&bob_claim, &ada_again, &bob_again, &b_verified] {
        tx.insert_contact(contact).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        store.user_by_verified_contact(a.id, ContactKind::Email, "ada@example.com").await.unwrap(),
        Some(ada.clone())
    );
    assert_eq!(
        store.user_by_verified_contact(b.id, ContactKind::Email, "ada@example.com").await.unwrap(),
        Some(b_user)
    );
    assert_eq!(store.user_by_verified_contact(a.id, ContactKind::Email, "shared@example.com").await.unwrap(), None);

    // Primary first, then by age.
    assert_eq!(store.contacts_of(a.id, ada.id).await.unwrap(), vec![verified, unverified, phone, ada_again]);
    assert_eq!(store.contacts_of(a.id, bob.id).await.unwrap(), vec![bob_claim, bob_again]);
    assert!(store.contacts_of(b.id, ada.id).await.unwrap().is_empty());
}

async fn user_profile_joins_role_and_primary_email(store: Arc<dyn Store>) {
    let (a, member, ada) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    // No email at all: the profile still answers, with none.
    let profile = store.user_profile(a.id, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (profile.user.clone(), profile.role_name.as_str(), profile.email.clone()),
        (ada.clone(), "member", None)
    );

    // Only the primary email counts; neither a secondary one nor a phone does.
    let t0 = now();
    let secondary = new_contact(&ada, ContactKind::Email, "old@example.com", true, t0);
    let phone = Contact { is_primary: true, ..new_contact(&ada, ContactKind::Phone, "+15550100", true, t0) };
    let primary =
        Contact { is_primary: true, ..new_contact(&ada, ContactKind::Email, "Ada@Example.com", false, t0 + secs(1)) };
    let admin = new_role(a.id, "admin", t0);
    let mut tx = store.begin().await.unwrap();
    for c in [&secondary, &phone, &primary] {
        tx.insert_contact(c).await.unwrap();
    }
    tx.insert_role(&admin).await.unwrap();
    tx.commit().await.unwrap();
    let profile = store.user_profile(a.id, ada.id).await.unwrap().unwrap();
    assert_eq!(profile.email.as_deref(), Some("Ada@Example.com"), "stored as given");
    assert_eq!(profile.email_verified_at, None);

    // The role's name follows the user's role.
    let mut moved = ada.clone();
    moved.role_id = admin.id;
    let mut tx = store.begin().await.unwrap();
    tx.update_user(&moved).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.user_profile(a.id, ada.id).await.unwrap().unwrap().role_name, "admin");
    assert_ne!(member.id, admin.id);

    // Another app's id, or an unknown user, finds nothing.
    assert_eq!(store.user_profile(b.id, ada.id).await.unwrap(), None);
    assert_eq!(store.user_profile(a.id, Uuid::new_v4()).await.unwrap(), None);
}
