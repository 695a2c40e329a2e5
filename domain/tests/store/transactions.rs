//! Conformance of write transactions (all or nothing) and of the health check.

use super::*;

conformance! {
    dropped_tx_rolls_back => sqlite_dropped_tx_rolls_back, postgres_dropped_tx_rolls_back;
    committed_tx_is_visible => sqlite_committed_tx_is_visible, postgres_committed_tx_is_visible;
    ping_and_backend => sqlite_ping_and_backend, postgres_ping_and_backend;
}

async fn dropped_tx_rolls_back(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let role = new_role(app.id, "member", now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.insert_user(&new_user(app.id, role.id, "ada")).await.unwrap();
    drop(tx);

    assert_eq!(store.app_by_slug("acme").await.unwrap(), None);
    assert_eq!(store.app_by_id(app.id).await.unwrap(), None);
    assert!(store.roles(app.id).await.unwrap().is_empty());
    assert_eq!(store.user_by_username(app.id, "ada").await.unwrap(), None);

    // Nothing was left half-done: the same records go in cleanly afterwards.
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app));
}

async fn committed_tx_is_visible(store: Arc<dyn Store>) {
    let app = new_app("acme");
    let mut tx = store.begin().await.unwrap();
    tx.insert_app(&app).await.unwrap();
    assert_eq!(store.app_by_slug("acme").await.unwrap(), None, "not visible before commit");
    tx.commit().await.unwrap();
    assert_eq!(store.app_by_slug("acme").await.unwrap(), Some(app.clone()));

    // Several writes of one transaction land together.
    let role = new_role(app.id, "member", now());
    let user = new_user(app.id, role.id, "ada");
    let mut tx = store.begin().await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.insert_user(&user).await.unwrap();
    assert!(store.roles(app.id).await.unwrap().is_empty(), "not visible before commit");
    tx.commit().await.unwrap();
    assert_eq!(store.roles(app.id).await.unwrap(), vec![role]);
    assert_eq!(store.user_by_id(app.id, user.id).await.unwrap(), Some(user));
}

async fn ping_and_backend(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert!(["sqlite", "postgres"].contains(&store.backend()), "{}", store.backend());
}
