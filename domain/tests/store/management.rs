//! Conformance of what managing an app needs: permission catalogs, user paging and search,
//! role and user changes, sessions per user, API keys, and change messages between nodes.

use super::*;
use domain::model::{ApiKey, Permission, UserCursor};

conformance! {
    permissions_round_trip => sqlite_permissions_round_trip, postgres_permissions_round_trip;
    users_page_in_order_with_cursor => sqlite_users_page_in_order_with_cursor, postgres_users_page_in_order_with_cursor;
    users_page_search => sqlite_users_page_search, postgres_users_page_search;
    roles_change_and_move => sqlite_roles_change_and_move, postgres_roles_change_and_move;
    users_change_and_leave => sqlite_users_change_and_leave, postgres_users_change_and_leave;
    api_keys_round_trip => sqlite_api_keys_round_trip, postgres_api_keys_round_trip;
    change_messages => sqlite_change_messages, postgres_change_messages;
}

fn permission(app_id: Uuid, name: &str) -> Permission {
    Permission { app_id, name: name.into(), description: format!("may {name}"), created_at: now() }
}

async fn insert_users(store: &Arc<dyn Store>, app: &App, role: &Role, names: &[&str]) -> Vec<User> {
    let mut users = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for (i, name) in names.iter().enumerate() {
        let mut user = new_user(app.id, role.id, name);
        // Distinct, increasing creation times, and two users sharing one to test the tie-break.
        user.created_at += secs((i as i64).min(names.len() as i64 - 2));
        user.updated_at = user.created_at;
        tx.insert_user(&user).await.unwrap();
        users.push(user);
    }
    tx.commit().await.unwrap();
    users
}

async fn permissions_round_trip(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "perm-a").await;
    let (b, _, _) = seed(&store, "perm-b").await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_permission(&permission(a.id, "reports.read")).await.unwrap();
    tx.insert_permission(&permission(a.id, "billing.read")).await.unwrap();
    tx.insert_permission(&permission(b.id, "billing.read")).await.unwrap();
    tx.commit().await.unwrap();

    let names: Vec<_> = store.permissions(a.id).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["billing.read", "reports.read"]);
    assert_eq!(store.permissions(b.id).await.unwrap().len(), 1);
    let stored = &store.permissions(a.id).await.unwrap()[0];
    assert_eq!(stored.description, "may billing.read");

    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_permission(&permission(a.id, "billing.read")).await);
}

async fn users_page_in_order_with_cursor(store: Arc<dyn Store>) {
    let (app, role, first) = seed(&store, "paging").await;
    let (other, other_role, _) = seed(&store, "paging-other").await;
    let names: Vec<String> = (0..9).map(|i| format!("user{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    insert_users(&store, &app, &role, &refs).await;
    insert_users(&store, &other, &other_role, &["stranger"]).await;

    // Walk the pages: every user once, in (created_at, id) order, none of the other app's.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page: Vec<_> = store.users_page(app.id, None, true, after, 4).await.unwrap();
        assert!(page.iter().all(|p| p.role_name == role.name), "each row comes with its role's name");
        let page: Vec<_> = page.into_iter().map(|p| p.user).collect();
        assert!(page.len() <= 4);
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        after = Some(UserCursor { created_at: last.created_at, id: last.id });
        seen.extend(page);
    }
    assert_eq!(seen.len(), 10);
    assert!(seen.iter().any(|u| u.id == first.id));
    assert!(seen.iter().all(|u| u.app_id == app.id));
    let keys: Vec<_> = seen.iter().map(|u| (u.created_at, u.id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    sorted.dedup();
    assert_eq!(sorted.len(), 10, "no user twice");
}

async fn users_page_search(store: Arc<dyn Store>) {
    let (app, role, _) = seed(&store, "search").await;
    let users = insert_users(&store, &app, &role, &["ada", "grace", "al_an", "bob"]).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_contact(&new_contact(&users[3], ContactKind::Email, "Robert@Example.COM", false, now())).await.unwrap();
    tx.commit().await.unwrap();
    let find = |q: &'static str| {
        let store = Arc::clone(&store);
        async move {
            let page = store.users_page(app.id, Some(q), true, None, 50).await.unwrap();
            let mut names: Vec<_> = page.into_iter().map(|p| p.user.username).collect();
            names.sort();
            names
        }
    };
    assert_eq!(find("ADA").await, ["ada"]);
    // The primary email comes with its user; a secondary contact is found but not shown.
    let bob = store.users_page(app.id, Some("bob"), true, None, 50).await.unwrap();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].email, None, "{:?}", bob[0]);
    // Searching names only: a contact is no longer a way in.
    assert!(store.users_page(app.id, Some("robert@example"), false, None, 50).await.unwrap().is_empty());
    assert_eq!(store.users_page(app.id, Some("ADA"), false, None, 50).await.unwrap().len(), 1);
    assert_eq!(find("robert@example").await, ["bob"], "by a contact, case-insensitively");
    assert_eq!(find("(display)").await.len(), 5, "by display name");
    // `_` and `%` are literal, not wildcards.
    assert_eq!(find("l_a").await, ["al_an"]);
    assert!(find("a%a").await.is_empty());
    assert!(find("nobody").await.is_empty());
}

async fn roles_change_and_move(store: Arc<dyn Store>) {
    let (app, member, user) = seed(&store, "roles-change").await;
    let mut billing = new_role(app.id, "billing", now());
    let mut system = new_role(app.id, "owner", now());
    system.is_system = true;
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&billing).await.unwrap();
    tx.insert_role(&system).await.unwrap();
    tx.insert_membership(app.id, user.id, billing.id, now()).await.unwrap();
    tx.commit().await.unwrap();

    billing.description = "Pays the bills".into();
    billing.permissions = vec!["billing.read".into(), "billing.write".into()];
    let mut tx = store.begin().await.unwrap();
    tx.update_role(&billing).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.role_by_id(app.id, billing.id).await.unwrap(), Some(billing.clone()));

    assert_eq!(store.role_holders(app.id, member.id).await.unwrap(), 1, "the seeded user");
    assert_eq!(store.role_holders(app.id, billing.id).await.unwrap(), 1, "the membership");

    // System roles are never deleted by the store.
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.delete_role(app.id, system.id).await.unwrap());
    tx.commit().await.unwrap();

    // A role still held cannot go: the store says ForeignKey, not an internal failure.
    let mut tx = store.begin().await.unwrap();
    let outcome = tx.delete_role(app.id, billing.id).await;
    assert!(matches!(outcome, Err(StoreError::ForeignKey)), "{outcome:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.reassign_role(app.id, billing.id, member.id).await.unwrap();
    assert!(tx.delete_role(app.id, billing.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.role_by_id(app.id, billing.id).await.unwrap(), None);
    assert_eq!(store.role_holders(app.id, member.id).await.unwrap(), 2);
    assert_eq!(store.member_role(app.id, user.id).await.unwrap().map(|r| r.id), Some(member.id));
}

async fn users_change_and_leave(store: Arc<dyn Store>) {
    let (app, role, mut user) = seed(&store, "users-change").await;
    let admin = new_role(app.id, "admin", now());
    let (s1, s2) = (new_session(&user), new_session(&user));
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&admin).await.unwrap();
    tx.insert_session(&s1).await.unwrap();
    tx.insert_session(&s2).await.unwrap();
    tx.insert_contact(&new_contact(&user, ContactKind::Email, "u@example.com", true, now())).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.sessions_of(app.id, user.id).await.unwrap().len(), 2);
    assert!(store.sessions_of(Uuid::new_v4(), user.id).await.unwrap().is_empty());

    user.display_name = "Renamed".into();
    user.status = Status::Suspended;
    user.role_id = admin.id;
    user.updated_at = now() + secs(5);
    let mut tx = store.begin().await.unwrap();
    tx.update_user(&user).await.unwrap();
    assert_eq!(tx.revoke_user_sessions(app.id, user.id, now()).await.unwrap(), 2);
    assert_eq!(tx.revoke_user_sessions(app.id, user.id, now()).await.unwrap(), 0, "already revoked");
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), Some(user.clone()));
    assert!(store.sessions_of(app.id, user.id).await.unwrap().iter().all(|s| s.revoked_at.is_some()));
    let _ = role;

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.delete_user(Uuid::new_v4(), user.id).await.unwrap(), "scoped by app");
    assert!(tx.delete_user(app.id, user.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), None);
    assert!(store.sessions_of(app.id, user.id).await.unwrap().is_empty(), "sessions go with the user");
    assert!(store.contacts_of(app.id, user.id).await.unwrap().is_empty(), "contacts too");
}

fn api_key(app_id: Uuid, name: &str, created_at: DateTime<Utc>) -> ApiKey {
    ApiKey {
        id: Uuid::new_v4(),
        app_id,
        name: name.into(),
        prefix: "rk_abcdefgh".into(),
        digest: format!("digest-{}", Uuid::new_v4().simple()),
        scopes: vec!["user.list".into(), "rampart.signup.create".into()],
        created_by: Some(Uuid::new_v4()),
        created_at,
        expires_at: Some(created_at + secs(86_400)),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn api_keys_round_trip(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "keys-a").await;
    let (b, _, _) = seed(&store, "keys-b").await;
    let older = api_key(a.id, "older", now());
    let newer = api_key(a.id, "newer", now() + secs(1));
    let mut tx = store.begin().await.unwrap();
    tx.insert_api_key(&older).await.unwrap();
    tx.insert_api_key(&newer).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.api_keys(a.id).await.unwrap(), vec![newer.clone(), older.clone()]);
    assert!(store.api_keys(b.id).await.unwrap().is_empty());
    assert_eq!(store.api_key_by_digest(&older.digest).await.unwrap(), Some(older.clone()));
    assert_eq!(store.api_key_by_digest("unknown").await.unwrap(), None);

    let used = now() + secs(10);
    let mut tx = store.begin().await.unwrap();
    tx.touch_api_key(a.id, older.id, used).await.unwrap();
    assert!(!tx.revoke_api_key(b.id, older.id, used).await.unwrap(), "another app cannot revoke it");
    assert!(tx.revoke_api_key(a.id, older.id, used).await.unwrap());
    assert!(!tx.revoke_api_key(a.id, older.id, used).await.unwrap(), "once");
    tx.commit().await.unwrap();
    let stored = store.api_key_by_digest(&older.digest).await.unwrap().unwrap();
    assert_eq!((stored.last_used_at, stored.revoked_at), (Some(used), Some(used)));
    assert!(!stored.is_live(used));
    assert!(newer.is_live(used));

    let mut tx = store.begin().await.unwrap();
    let mut twin = api_key(a.id, "twin", now());
    twin.digest = newer.digest.clone();
    assert_conflict(tx.insert_api_key(&twin).await);
}

/// PostgreSQL delivers a committed change to every listener and a rolled-back one to none;
/// SQLite has no other nodes to tell.
async fn change_messages(store: Arc<dyn Store>) {
    use futures_util::StreamExt;
    let Some(mut changes) = store.subscribe().await.unwrap() else {
        assert_eq!(store.backend(), "sqlite");
        let mut tx = store.begin().await.unwrap();
        tx.publish("session:x").await.unwrap();
        tx.commit().await.unwrap();
        return;
    };
    let marker = Uuid::new_v4();
    let mut tx = store.begin().await.unwrap();
    tx.publish(&format!("rolled-back:{marker}")).await.unwrap();
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.publish(&format!("committed:{marker}")).await.unwrap();
    tx.commit().await.unwrap();
    // Other tests share the channel: skip their messages, and never see the rolled-back one.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let notice = tokio::time::timeout_at(deadline, changes.next()).await.expect("the committed message").unwrap();
        let domain::store::Notice::Message(message) = notice else {
            continue;
        };
        assert_ne!(message, format!("rolled-back:{marker}"));
        if message == format!("committed:{marker}") {
            break;
        }
    }
}
