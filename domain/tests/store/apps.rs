//! Conformance of apps (slugs, cascading deletes), their roles and memberships.

use super::*;

conformance! {
    apps_round_trip => sqlite_apps_round_trip, postgres_apps_round_trip;
    update_app_changes_fields => sqlite_update_app_changes_fields, postgres_update_app_changes_fields;
    delete_app_cascades => sqlite_delete_app_cascades, postgres_delete_app_cascades;
    roles_round_trip => sqlite_roles_round_trip, postgres_roles_round_trip;
    roles_are_per_app => sqlite_roles_are_per_app, postgres_roles_are_per_app;
    memberships_round_trip => sqlite_memberships_round_trip, postgres_memberships_round_trip;
}

async fn apps_round_trip(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app.clone()));
    assert_eq!(store.app_by_id(app.id).await.unwrap(), Some(app.clone()));
    assert_eq!(store.app_by_slug("unknown").await.unwrap(), None);
    assert_eq!(store.app_by_id(Uuid::new_v4()).await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_app(&new_app("acme")).await);
    drop(tx);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app));
}

async fn update_app_changes_fields(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();

    let updated = App {
        display_name: "Acme, renamed".into(),
        status: Status::Suspended,
        metadata: json!({ "plan": "enterprise", "seats": [1, 2, 3] }),
        config: AuthConfig { signup_enabled: true, access_token_ttl_seconds: 600, ..AuthConfig::default() },
        updated_at: app.updated_at + secs(5),
        ..app.clone()
    };
    let mut tx = store.begin().await.unwrap();
    tx.update_app(&updated).await.unwrap();
    tx.commit().await.unwrap();

    let stored = store.app_by_id(app.id).await.unwrap().unwrap();
    assert_eq!(stored, updated);
    assert_eq!(stored.created_at, app.created_at);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(updated));
}

async fn delete_app_cascades(store: Arc<dyn Store>) {
    let (platform, _, account) = seed(&store, "platform").await;
    let (app, role, user) = seed(&store, "acme").await;
    let (other, other_role, other_user) = seed(&store, "other").await;

    let session = new_session(&user);
    let token = new_refresh_token(&session);
    let key = new_signing_key(app.id, true, now());
    let contact = new_contact(&user, ContactKind::Email, "user@acme.test", true, now());
    let other_session = new_session(&other_user);
    let other_key = new_signing_key(other.id, true, now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&new_role(app.id, "admin", now())).await.unwrap();
    tx.insert_contact(&contact).await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_refresh_token(&token).await.unwrap();
    tx.insert_signing_key(&key).await.unwrap();
    tx.insert_membership(app.id, account.id, role.id, now()).await.unwrap();
    tx.insert_membership(other.id, account.id, other_role.id, now()).await.unwrap();
    tx.insert_session(&other_session).await.unwrap();
    tx.insert_signing_key(&other_key).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app(app.id, now()).await.unwrap());
    tx.commit().await.unwrap();

    assert_eq!(store.app_by_id(app.id).await.unwrap(), None);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), None);
    assert!(store.roles(app.id).await.unwrap().is_empty());
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), None);
    assert!(store.contacts_of(app.id, user.id).await.unwrap().is_empty());
    assert_eq!(store.session(app.id, session.id).await.unwrap(), None);
    assert_eq!(store.refresh_token(app.id, &token.key()).await.unwrap(), None);
    assert!(store.signing_keys(app.id).await.unwrap().is_empty());
    assert_eq!(store.member_role(app.id, account.id).await.unwrap(), None);

    // The neighbours are untouched.
    assert_eq!(store.app_by_id(platform.id).await.unwrap(), Some(platform.clone()));
    assert_eq!(store.user_by_id(platform.id, account.id).await.unwrap(), Some(account.clone()));
    assert_eq!(store.app_by_id(other.id).await.unwrap(), Some(other.clone()));
    assert_eq!(store.session(other.id, other_session.id).await.unwrap(), Some(other_session));
    assert_eq!(store.signing_keys(other.id).await.unwrap(), vec![other_key]);
    let memberships = store.memberships_of(account.id).await.unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].app, other);

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.delete_app(app.id, now()).await.unwrap());
    assert!(!tx.delete_app(Uuid::new_v4(), now()).await.unwrap());
    tx.commit().await.unwrap();

    // The slug stays taken: nobody may register it again and mint tokens with the deleted
    // app's issuer and audience.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_app(&new_app("acme")).await);
    drop(tx);
    assert_eq!(store.app_by_slug("acme").await.unwrap(), None);
}

async fn roles_round_trip(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let t0 = now();
    // Listed system roles first, then by age.
    let owner = Role { is_system: true, permissions: vec!["*".into()], ..new_role(app.id, "owner", t0 + secs(2)) };
    let admin = new_role(app.id, "admin", t0);
    let member = Role { permissions: vec![], ..new_role(app.id, "member", t0 + secs(1)) };
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    for role in [&member, &owner, &admin] {
        tx.insert_role(role).await.unwrap();
    }
    tx.commit().await.unwrap();

    assert_eq!(store.roles(app.id).await.unwrap(), vec![owner.clone(), admin.clone(), member.clone()]);
    assert_eq!(store.role_by_name(app.id, "admin").await.unwrap(), Some(admin.clone()));
    assert_eq!(store.role_by_name(app.id, "member").await.unwrap(), Some(member.clone()));
    assert_eq!(store.role_by_name(app.id, "nobody").await.unwrap(), None);
    assert_eq!(store.role_by_id(app.id, owner.id).await.unwrap(), Some(owner));
    assert_eq!(store.role_by_id(app.id, Uuid::new_v4()).await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_role(&new_role(app.id, "admin", now())).await);
    drop(tx);
    assert_eq!(store.roles(app.id).await.unwrap().len(), 3);
}

async fn roles_are_per_app(store: Arc<dyn Store>) {
    let (a, a_role, _) = seed(&store, "app-a").await;
    let b = new_app("app-b");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&b).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.roles(b.id).await.unwrap().is_empty());
    assert_eq!(store.role_by_id(b.id, a_role.id).await.unwrap(), None);
    assert_eq!(store.role_by_name(b.id, &a_role.name).await.unwrap(), None);

    // The same name is free in another app.
    let b_role = new_role(b.id, &a_role.name, now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&b_role).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.roles(b.id).await.unwrap(), vec![b_role.clone()]);
    assert_eq!(store.role_by_name(b.id, &a_role.name).await.unwrap(), Some(b_role));
    assert_eq!(store.role_by_name(a.id, &a_role.name).await.unwrap(), Some(a_role.clone()));
    assert_eq!(store.roles(a.id).await.unwrap(), vec![a_role]);
}

async fn memberships_round_trip(store: Arc<dyn Store>) {
    let (platform, _, account) = seed(&store, "platform").await;
    let (_, _, stranger) = seed(&store, "strangers").await;
    let (first, first_role, _) = seed(&store, "first").await;
    let (second, _, _) = seed(&store, "second").await;
    let second_admin = new_role(second.id, "admin", now());
    let t0 = now();
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&second_admin).await.unwrap();
    // Inserted newest first: the listing orders by age, not by insertion.
    tx.insert_membership(second.id, account.id, second_admin.id, t0 + secs(10)).await.unwrap();
    tx.insert_membership(first.id, account.id, first_role.id, t0).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.member_role(first.id, account.id).await.unwrap(), Some(first_role.clone()));
    assert_eq!(store.member_role(second.id, account.id).await.unwrap(), Some(second_admin.clone()));
    assert_eq!(
        store.memberships_of(account.id).await.unwrap(),
        vec![
            Membership { app: first.clone(), role: first_role, created_at: t0 },
            Membership { app: second, role: second_admin, created_at: t0 + secs(10) },
        ]
    );

    assert_eq!(store.member_role(platform.id, account.id).await.unwrap(), None);
    assert_eq!(store.member_role(first.id, stranger.id).await.unwrap(), None);
    assert!(store.memberships_of(stranger.id).await.unwrap().is_empty());
    assert!(store.memberships_of(Uuid::new_v4()).await.unwrap().is_empty());
}
