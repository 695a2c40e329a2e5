//! Sign-in through external providers: an app's providers found only through it and unique
//! by name, changed except for name, kind and issuer; identities unique per (provider,
//! subject) and per (provider, user), gone with their provider or user; unlinking never
//! takes a user's last way in, even when two unlinks race; states spent once and swept.

use super::*;
use domain::model::{Identity, OAuthProvider, Unlinked};

conformance! {
    oauth_providers_round_trip => sqlite_oauth_providers_round_trip, postgres_oauth_providers_round_trip;
    identities_are_unique_and_go_with_their_provider => sqlite_identities_are_unique_and_go_with_their_provider, postgres_identities_are_unique_and_go_with_their_provider;
    unlinking_keeps_a_way_to_sign_in => sqlite_unlinking_keeps_a_way_to_sign_in, postgres_unlinking_keeps_a_way_to_sign_in;
    racing_unlinks_keep_the_last_identity => sqlite_racing_unlinks_keep_the_last_identity, postgres_racing_unlinks_keep_the_last_identity;
    racing_links_of_one_subject_make_one_identity => sqlite_racing_links_of_one_subject_make_one_identity, postgres_racing_links_of_one_subject_make_one_identity;
    oauth_states_are_spent_once_and_swept => sqlite_oauth_states_are_spent_once_and_swept, postgres_oauth_states_are_spent_once_and_swept;
}

fn provider(app_id: Uuid, name: &str, created_at: DateTime<Utc>) -> OAuthProvider {
    OAuthProvider {
        id: Uuid::new_v4(),
        app_id,
        name: name.into(),
        kind: "oidc".into(),
        display_name: format!("Sign in with {name}"),
        client_id: format!("client-{}", Uuid::new_v4().simple()),
        // Every byte value, so no encoding can quietly mangle the sealed secret.
        client_secret_sealed: Some((0..=255u8).collect()),
        issuer: Some(format!("https://{name}.example")),
        authorization_url: None,
        token_url: None,
        userinfo_url: None,
        scopes: "openid email profile".into(),
        enabled: true,
        auto_link: false,
        created_at,
        updated_at: created_at,
    }
}

fn identity(p: &OAuthProvider, user: &User, subject: &str, created_at: DateTime<Utc>) -> Identity {
    Identity {
        id: Uuid::new_v4(),
        app_id: p.app_id,
        provider_id: p.id,
        user_id: user.id,
        subject: subject.into(),
        email: Some(format!("{subject}@mail.example")),
        created_at,
        last_used_at: None,
    }
}

async fn insert_providers(store: &Arc<dyn Store>, providers: &[&OAuthProvider]) {
    let mut tx = store.begin().await.unwrap();
    for p in providers {
        tx.insert_oauth_provider(p).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn link(store: &Arc<dyn Store>, i: &Identity) -> Result<(), StoreError> {
    let mut tx = store.begin().await.unwrap();
    tx.insert_identity(i).await?;
    tx.commit().await.unwrap();
    Ok(())
}

async fn unlink(store: &Arc<dyn Store>, app_id: Uuid, user_id: Uuid, id: Uuid) -> Unlinked {
    let mut tx = store.begin().await.unwrap();
    let outcome = tx.unlink_identity(app_id, user_id, id).await.unwrap();
    tx.commit().await.unwrap();
    outcome
}

/// A user of `app` who has no password: identities are their only way in.
async fn passwordless_user(store: &Arc<dyn Store>, app: &App, role: &Role, username: &str) -> User {
    let user = User { password_hash: None, ..new_user(app.id, role.id, username) };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    user
}

async fn oauth_providers_round_trip(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "fed-a").await;
    let (b, _, _) = seed(&store, "fed-b").await;
    // Inserted newest first: the list is still oldest first.
    let newer = OAuthProvider {
        kind: "github".into(),
        client_secret_sealed: None,
        issuer: None,
        authorization_url: Some("https://github.example/login/oauth/authorize".into()),
        token_url: Some("https://github.example/login/oauth/access_token".into()),
        userinfo_url: Some("https://api.github.example/user".into()),
        scopes: "read:user user:email".into(),
        auto_link: true,
        ..provider(a.id, "github", now() + secs(1))
    };
    let older = provider(a.id, "corp", now());
    let theirs = provider(b.id, "corp", now());
    insert_providers(&store, &[&newer, &older, &theirs]).await;

    assert_eq!(store.oauth_providers(a.id).await.unwrap(), vec![older.clone(), newer.clone()]);
    assert_eq!(store.oauth_provider(a.id, "corp").await.unwrap(), Some(older.clone()));
    assert_eq!(store.oauth_provider(a.id, "github").await.unwrap(), Some(newer.clone()));
    assert_eq!(store.oauth_provider(a.id, "gitlab").await.unwrap(), None);
    // Only through its own app: the same name elsewhere is another provider.
    assert_eq!(store.oauth_providers(b.id).await.unwrap(), vec![theirs.clone()]);
    assert_eq!(store.oauth_provider(b.id, "corp").await.unwrap(), Some(theirs.clone()));
    assert_eq!(store.oauth_provider(b.id, "github").await.unwrap(), None);
    assert_eq!(store.oauth_providers(Uuid::new_v4()).await.unwrap(), vec![]);

    // A name is unique in its app.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_oauth_provider(&provider(a.id, "corp", now())).await);
    drop(tx);
    assert_eq!(store.oauth_providers(a.id).await.unwrap().len(), 2, "nothing half-written");

    // Changed: what management may change does; name, kind and issuer stay.
    let changed = OAuthProvider {
        name: "renamed".into(),
        kind: "google".into(),
        issuer: Some("https://elsewhere.example".into()),
        display_name: "Corporate sign-in".into(),
        client_id: "client-rotated".into(),
        client_secret_sealed: Some(vec![9, 0, 9]),
        authorization_url: Some("https://corp.example/authorize".into()),
        token_url: Some("https://corp.example/token".into()),
        userinfo_url: Some("https://corp.example/userinfo".into()),
        scopes: "openid".into(),
        enabled: false,
        auto_link: true,
        updated_at: now() + secs(5),
        ..older.clone()
    };
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_oauth_provider(&changed).await.unwrap());
    // Not through another app.
    assert!(!tx.update_oauth_provider(&OAuthProvider { app_id: b.id, ..changed.clone() }).await.unwrap());
    tx.commit().await.unwrap();
    let expected = OAuthProvider {
        name: older.name.clone(),
        kind: older.kind.clone(),
        issuer: older.issuer.clone(),
        ..changed.clone()
    };
    assert_eq!(store.oauth_provider(a.id, "corp").await.unwrap(), Some(expected.clone()));
    assert_eq!(store.oauth_provider(a.id, "renamed").await.unwrap(), None);
    assert_eq!(store.oauth_provider(b.id, "corp").await.unwrap(), Some(theirs.clone()), "theirs untouched");
    // A secret can be cleared.
    let cleared = OAuthProvider { client_secret_sealed: None, ..expected.clone() };
    let mut tx = store.begin().await.unwrap();
    assert!(tx.update_oauth_provider(&cleared).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.oauth_provider(a.id, "corp").await.unwrap(), Some(cleared.clone()));

    // Deleted: not through another app, once.
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.delete_oauth_provider(b.id, older.id).await.unwrap());
    assert!(tx.delete_oauth_provider(a.id, older.id).await.unwrap());
    assert!(!tx.delete_oauth_provider(a.id, older.id).await.unwrap());
    assert!(!tx.update_oauth_provider(&cleared).await.unwrap(), "gone");
    tx.commit().await.unwrap();
    assert_eq!(store.oauth_providers(a.id).await.unwrap(), vec![newer.clone()]);
    // Its name is free again.
    insert_providers(&store, &[&provider(a.id, "corp", now())]).await;

    // Gone with their app.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_app(b.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.oauth_providers(b.id).await.unwrap(), vec![]);
}

async fn identities_are_unique_and_go_with_their_provider(store: Arc<dyn Store>) {
    let (a, role, ann) = seed(&store, "fed-ids").await;
    let (b, _, _) = seed(&store, "fed-ids-b").await;
    let bob = passwordless_user(&store, &a, &role, "bob").await;
    let corp = provider(a.id, "corp", now());
    let social = provider(a.id, "social", now());
    insert_providers(&store, &[&corp, &social]).await;

    // Inserted newest first: a user's identities are still oldest first.
    let ann_social = identity(&social, &ann, "ann-social", now() + secs(1));
    let ann_corp = identity(&corp, &ann, "sub-1", now());
    link(&store, &ann_social).await.unwrap();
    link(&store, &ann_corp).await.unwrap();
    assert_eq!(store.identities_of(a.id, ann.id).await.unwrap(), vec![ann_corp.clone(), ann_social.clone()]);
    assert_eq!(store.identity_by_subject(a.id, corp.id, "sub-1").await.unwrap(), Some(ann_corp.clone()));
    // A subject is one provider's: the same subject elsewhere is not this identity.
    assert_eq!(store.identity_by_subject(a.id, social.id, "sub-1").await.unwrap(), None);
    assert_eq!(store.identity_by_subject(a.id, corp.id, "SUB-1").await.unwrap(), None, "subjects are exact");
    // Only through its own app.
    assert_eq!(store.identity_by_subject(b.id, corp.id, "sub-1").await.unwrap(), None);
    assert_eq!(store.identities_of(b.id, ann.id).await.unwrap(), vec![]);

    // The subject already has an identity at the provider: not another user's too.
    assert_conflict(link(&store, &identity(&corp, &bob, "sub-1", now())).await);
    // The user already has an identity at the provider: not a second one.
    assert_conflict(link(&store, &identity(&corp, &ann, "sub-2", now())).await);
    assert_eq!(store.identities_of(a.id, bob.id).await.unwrap(), vec![], "nothing half-written");
    // The same subject at another provider is fine.
    let bob_social = identity(&social, &bob, "sub-1", now());
    link(&store, &bob_social).await.unwrap();

    // A sign-in through it records when, and the email given this time (or none).
    let at = now() + secs(10);
    let mut tx = store.begin().await.unwrap();
    tx.touch_identity(a.id, ann_corp.id, Some("ann@new.example"), at).await.unwrap();
    tx.touch_identity(b.id, bob_social.id, Some("hijack@b.example"), at).await.unwrap();
    tx.touch_identity(a.id, bob_social.id, None, at).await.unwrap();
    tx.commit().await.unwrap();
    let touched = Identity { email: Some("ann@new.example".into()), last_used_at: Some(at), ..ann_corp.clone() };
    assert_eq!(store.identity_by_subject(a.id, corp.id, "sub-1").await.unwrap(), Some(touched));
    let bob_touched = Identity { email: None, last_used_at: Some(at), ..bob_social.clone() };
    assert_eq!(store.identities_of(a.id, bob.id).await.unwrap(), vec![bob_touched], "not through another app");

    // Removing the provider removes its identities, and only them.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_oauth_provider(a.id, corp.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.identity_by_subject(a.id, corp.id, "sub-1").await.unwrap(), None);
    assert_eq!(store.identities_of(a.id, ann.id).await.unwrap(), vec![ann_social.clone()]);
    // A new provider of the same name starts with no identities: its subject is free.
    let corp_again = provider(a.id, "corp", now());
    insert_providers(&store, &[&corp_again]).await;
    link(&store, &identity(&corp_again, &bob, "sub-1", now())).await.unwrap();

    // Gone with their user.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_user(a.id, ann.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.identities_of(a.id, ann.id).await.unwrap(), vec![]);
    assert_eq!(store.identity_by_subject(a.id, social.id, "ann-social").await.unwrap(), None);
    // Bob's stay.
    assert_eq!(store.identities_of(a.id, bob.id).await.unwrap().len(), 2);
}

async fn unlinking_keeps_a_way_to_sign_in(store: Arc<dyn Store>) {
    let (a, role, ann) = seed(&store, "fed-unlink").await;
    let (b, _, _) = seed(&store, "fed-unlink-b").await;
    let bob = passwordless_user(&store, &a, &role, "bob").await;
    let corp = provider(a.id, "corp", now());
    let social = provider(a.id, "social", now());
    insert_providers(&store, &[&corp, &social]).await;
    let ann_corp = identity(&corp, &ann, "ann", now());
    let bob_corp = identity(&corp, &bob, "bob", now());
    let bob_social = identity(&social, &bob, "bob", now() + secs(1));
    for i in [&ann_corp, &bob_corp, &bob_social] {
        link(&store, i).await.unwrap();
    }

    // Not someone else's identity, not through another app, not an unknown one.
    assert_eq!(unlink(&store, a.id, ann.id, bob_corp.id).await, Unlinked::NotFound);
    assert_eq!(unlink(&store, b.id, bob.id, bob_corp.id).await, Unlinked::NotFound);
    assert_eq!(unlink(&store, a.id, bob.id, Uuid::new_v4()).await, Unlinked::NotFound);
    assert_eq!(unlink(&store, a.id, Uuid::new_v4(), bob_corp.id).await, Unlinked::NotFound);
    assert_eq!(store.identities_of(a.id, bob.id).await.unwrap().len(), 2);

    // Ann has a password: her only identity may go.
    assert_eq!(unlink(&store, a.id, ann.id, ann_corp.id).await, Unlinked::Removed);
    assert_eq!(store.identities_of(a.id, ann.id).await.unwrap(), vec![]);
    assert_eq!(unlink(&store, a.id, ann.id, ann_corp.id).await, Unlinked::NotFound, "once");

    // Bob has none: one of his two may go, not the last.
    assert_eq!(unlink(&store, a.id, bob.id, bob_corp.id).await, Unlinked::Removed);
    assert_eq!(unlink(&store, a.id, bob.id, bob_social.id).await, Unlinked::LastMethod);
    assert_eq!(store.identities_of(a.id, bob.id).await.unwrap(), vec![bob_social.clone()]);
    // Once he has a password, it may.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.set_password_hash(a.id, bob.id, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", now()).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(unlink(&store, a.id, bob.id, bob_social.id).await, Unlinked::Removed);
    assert_eq!(store.identities_of(a.id, bob.id).await.unwrap(), vec![]);
}

async fn racing_unlinks_keep_the_last_identity(store: Arc<dyn Store>) {
    let (a, role, _) = seed(&store, "fed-race-unlink").await;
    let corp = provider(a.id, "corp", now());
    let social = provider(a.id, "social", now());
    insert_providers(&store, &[&corp, &social]).await;
    for round in 0..5 {
        let user = passwordless_user(&store, &a, &role, &format!("racer{round}")).await;
        let one = identity(&corp, &user, &format!("r{round}"), now());
        let two = identity(&social, &user, &format!("r{round}"), now());
        link(&store, &one).await.unwrap();
        link(&store, &two).await.unwrap();

        // Each sees another identity left; run one after the other, only one may go.
        let (first, second) =
            tokio::join!(unlink(&store, a.id, user.id, one.id), unlink(&store, a.id, user.id, two.id));
        let mut outcomes = [first, second];
        outcomes.sort_by_key(|o| *o == Unlinked::LastMethod);
        assert_eq!(outcomes, [Unlinked::Removed, Unlinked::LastMethod], "round {round}");
        assert_eq!(store.identities_of(a.id, user.id).await.unwrap().len(), 1, "round {round}");
    }
}

async fn racing_links_of_one_subject_make_one_identity(store: Arc<dyn Store>) {
    let (a, role, ann) = seed(&store, "fed-race-link").await;
    let bob = passwordless_user(&store, &a, &role, "bob").await;
    let corp = provider(a.id, "corp", now());
    insert_providers(&store, &[&corp]).await;

    // Two first sign-ins with one subject, each creating a link for a different user.
    let for_ann = identity(&corp, &ann, "shared", now());
    let for_bob = identity(&corp, &bob, "shared", now());
    let (first, second) = tokio::join!(link(&store, &for_ann), link(&store, &for_bob));
    let won = match (first, second) {
        (Ok(()), Err(e)) => {
            assert_conflict(Err(e));
            for_ann
        }
        (Err(e), Ok(())) => {
            assert_conflict(Err(e));
            for_bob
        }
        other => panic!("expected exactly one link, got {other:?}"),
    };
    assert_eq!(store.identity_by_subject(a.id, corp.id, "shared").await.unwrap(), Some(won.clone()));
    let linked = [ann.id, bob.id];
    let mut all = Vec::new();
    for user_id in linked {
        all.extend(store.identities_of(a.id, user_id).await.unwrap());
    }
    assert_eq!(all, vec![won]);
}

async fn oauth_states_are_spent_once_and_swept(store: Arc<dyn Store>) {
    let (a, _, _) = seed(&store, "fed-states").await;
    let (b, _, _) = seed(&store, "fed-states-b").await;
    let start = now();
    let live = format!("state-{}", Uuid::new_v4().simple());
    let raced = format!("state-{}", Uuid::new_v4().simple());
    let expired = format!("state-{}", Uuid::new_v4().simple());
    let mut tx = store.begin().await.unwrap();
    tx.insert_oauth_state(a.id, &live, start + secs(600)).await.unwrap();
    tx.insert_oauth_state(a.id, &raced, start + secs(600)).await.unwrap();
    tx.insert_oauth_state(a.id, &expired, start + secs(60)).await.unwrap();
    tx.commit().await.unwrap();

    // A digest is kept once.
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.insert_oauth_state(b.id, &live, start + secs(600)).await);
    drop(tx);

    let spend = |app_id: Uuid, digest: String, at: DateTime<Utc>| {
        let store = Arc::clone(&store);
        async move {
            let mut tx = store.begin().await.unwrap();
            let spent = tx.consume_oauth_state(app_id, &digest, at).await.unwrap();
            tx.commit().await.unwrap();
            spent
        }
    };
    // Not another app's, not an unknown one; neither spends it.
    assert!(!spend(b.id, live.clone(), start).await);
    assert!(!spend(a.id, "state-unknown".into(), start).await);
    // Spent once.
    assert!(spend(a.id, live.clone(), start).await);
    assert!(!spend(a.id, live.clone(), start).await, "a second spend fails");
    // Not once expired (its expiry is the first instant it no longer works).
    assert!(!spend(a.id, expired.clone(), start + secs(60)).await);

    // Two racing callbacks with one state: exactly one spends it.
    let (first, second) = tokio::join!(spend(a.id, raced.clone(), start), spend(a.id, raced.clone(), start));
    assert_eq!(usize::from(first) + usize::from(second), 1, "{first} {second}");

    // The sweep removes expired states only.
    let kept = format!("state-{}", Uuid::new_v4().simple());
    let mut tx = store.begin().await.unwrap();
    tx.insert_oauth_state(a.id, &kept, start + secs(600)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.sweep_counters(start + secs(60)).await.unwrap(), 1, "the expired state");
    assert_eq!(store.sweep_counters(start + secs(60)).await.unwrap(), 0);
    assert!(spend(a.id, kept.clone(), start + secs(120)).await, "a live state survives the sweep");
    // A swept digest can be kept anew (the expired row is gone, not just ignored).
    let mut tx = store.begin().await.unwrap();
    tx.insert_oauth_state(a.id, &expired, start + secs(600)).await.unwrap();
    tx.commit().await.unwrap();
    assert!(spend(a.id, expired.clone(), start + secs(120)).await);

    // Gone with their app.
    let mut tx = store.begin().await.unwrap();
    tx.insert_oauth_state(b.id, &live, start + secs(600)).await.unwrap();
    assert!(tx.delete_app(b.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_oauth_state(a.id, &live, start + secs(600)).await.unwrap();
    tx.commit().await.unwrap();
}
