//! Waitlists: one entry per user, feature and context, joined and left idempotently, let in
//! once, counted and paged oldest first, and gone with their user.

use super::*;
use domain::model::WaitlistEntry;

conformance! {
    waitlist_entries_are_unique_per_context => sqlite_waitlist_entries_are_unique_per_context, postgres_waitlist_entries_are_unique_per_context;
    waitlists_are_counted_paged_and_admitted_once => sqlite_waitlists_are_counted_paged_and_admitted_once, postgres_waitlists_are_counted_paged_and_admitted_once;
}

fn entry(app_id: Uuid, user_id: Uuid, feature: &str, at: DateTime<Utc>) -> WaitlistEntry {
    WaitlistEntry {
        id: Uuid::now_v7(),
        app_id,
        feature: feature.into(),
        user_id,
        org_id: None,
        created_at: at,
        admitted_at: None,
    }
}

async fn join(store: &Arc<dyn Store>, e: &WaitlistEntry) -> bool {
    let mut tx = store.begin().await.unwrap();
    let joined = tx.join_waitlist(e).await.unwrap();
    tx.commit().await.unwrap();
    joined
}

async fn waitlist_entries_are_unique_per_context(store: Arc<dyn Store>) {
    let (app, _, user) = seed(&store, "wl-unique").await;
    let first = entry(app.id, user.id, "beta", now());
    assert!(join(&store, &first).await);
    // The same user, feature and (empty) context: nothing new.
    assert!(!join(&store, &entry(app.id, user.id, "beta", now() + secs(1))).await);
    assert!(join(&store, &entry(app.id, user.id, "pro", now())).await);
    assert_eq!(store.waitlist_entry(app.id, "beta", user.id, None).await.unwrap(), Some(first.clone()));
    let mine = store.waitlist_entries_of(app.id, user.id, None).await.unwrap();
    assert_eq!(mine.iter().map(|e| e.feature.as_str()).collect::<Vec<_>>(), ["beta", "pro"]);
    // Another context sees none of them.
    assert_eq!(store.waitlist_entries_of(app.id, user.id, Some(Uuid::new_v4())).await.unwrap(), vec![]);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.leave_waitlist(app.id, "beta", user.id, None).await.unwrap(), Some(first.id));
    assert_eq!(tx.leave_waitlist(app.id, "beta", user.id, None).await.unwrap(), None);
    tx.commit().await.unwrap();
    assert_eq!(store.waitlist_entry(app.id, "beta", user.id, None).await.unwrap(), None);

    // Gone with the user.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_user(app.id, user.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.waitlist_counts(app.id).await.unwrap(), vec![]);
}

async fn waitlists_are_counted_paged_and_admitted_once(store: Arc<dyn Store>) {
    let (app, role, _) = seed(&store, "wl-page").await;
    let mut entries = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for i in 0..5 {
        let user = new_user(app.id, role.id, &format!("waiter{i}"));
        tx.insert_user(&user).await.unwrap();
        let e = entry(app.id, user.id, "beta", now() + secs(i));
        assert!(tx.join_waitlist(&e).await.unwrap());
        entries.push(e);
    }
    tx.commit().await.unwrap();

    let first = store.waitlist_page(app.id, "beta", None, None, 2).await.unwrap();
    assert_eq!(first.iter().map(|l| l.entry.id).collect::<Vec<_>>(), [entries[0].id, entries[1].id]);
    assert_eq!(first[0].username, "waiter0");
    let last = &first[1].entry;
    let rest = store.waitlist_page(app.id, "beta", None, Some((last.created_at, last.id)), 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|l| l.entry.id).collect::<Vec<_>>(),
        entries[2..].iter().map(|e| e.id).collect::<Vec<_>>()
    );

    let at = now() + secs(60);
    let mut tx = store.begin().await.unwrap();
    let admitted = tx.admit_waitlist_entry(app.id, "beta", entries[0].id, at).await.unwrap().unwrap();
    assert_eq!(admitted.admitted_at, Some(at));
    assert_eq!(tx.admit_waitlist_entry(app.id, "beta", entries[0].id, at).await.unwrap(), None, "once");
    assert_eq!(tx.admit_waitlist_entry(app.id, "pro", entries[1].id, at).await.unwrap(), None, "of its feature only");
    tx.commit().await.unwrap();

    let counts = store.waitlist_counts(app.id).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].waiting, counts[0].admitted), (4, 1));
    let waiting = store.waitlist_page(app.id, "beta", Some(false), None, 10).await.unwrap();
    assert_eq!(waiting.len(), 4);
    let admitted = store.waitlist_page(app.id, "beta", Some(true), None, 10).await.unwrap();
    assert_eq!(admitted.iter().map(|l| l.entry.id).collect::<Vec<_>>(), [entries[0].id]);
}
