//! Conformance of sessions and refresh tokens: rotation, once, also under concurrency.

use super::*;

conformance! {
    sessions_round_trip => sqlite_sessions_round_trip, postgres_sessions_round_trip;
    refresh_tokens_rotate_once => sqlite_refresh_tokens_rotate_once, postgres_refresh_tokens_rotate_once;
    concurrent_rotation_has_one_winner => sqlite_concurrent_rotation_has_one_winner, postgres_concurrent_rotation_has_one_winner;
    concurrent_rotations_of_different_tokens_all_land => sqlite_concurrent_rotations_of_different_tokens_all_land, postgres_concurrent_rotations_of_different_tokens_all_land;
    ended_sessions_lose_their_tokens => sqlite_ended_sessions_lose_their_tokens, postgres_ended_sessions_lose_their_tokens;
}

async fn sessions_round_trip(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let session = new_session(&user);
    // The authentication methods come back as written, in order; none recorded is none.
    let bare = Session { ip: None, user_agent: None, amr: Vec::new(), ..new_session(&user) };
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_session(&bare).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.session(a.id, session.id).await.unwrap(), Some(session.clone()));
    let bare_id = bare.id;
    assert_eq!(store.session(a.id, bare.id).await.unwrap(), Some(bare));
    assert_eq!(store.session(b.id, session.id).await.unwrap(), None);
    assert_eq!(store.session(a.id, Uuid::new_v4()).await.unwrap(), None);

    let used = session.last_used_at + secs(30);
    let mut tx = store.begin().await.unwrap();
    tx.touch_session(a.id, session.id, used).await.unwrap();
    tx.commit().await.unwrap();
    let touched = store.session(a.id, session.id).await.unwrap().unwrap();
    assert_eq!(touched, Session { last_used_at: used, ..session.clone() });

    // A browser cookie names the session by its digest, within its app only; one cookie, one
    // session.
    let mut tx = store.begin().await.unwrap();
    tx.set_session_cookie(a.id, session.id, "cookie-digest", None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.session_by_cookie(a.id, "cookie-digest").await.unwrap(), Some(session.id));
    assert_eq!(store.session(a.id, session.id).await.unwrap().unwrap().expires_at, session.expires_at);
    assert_eq!(store.session_by_cookie(b.id, "cookie-digest").await.unwrap(), None);
    assert_eq!(store.session_by_cookie(a.id, "other-digest").await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    assert_conflict(tx.set_session_cookie(a.id, bare_id, "cookie-digest", None).await);
    drop(tx);

    // A browser session's end is set with its cookie, and moved later only while it is live,
    // within its app, and only later.
    let shorter = session.created_at + secs(3600);
    let mut tx = store.begin().await.unwrap();
    tx.set_session_cookie(a.id, session.id, "cookie-digest-2", Some(shorter)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.session_by_cookie(a.id, "cookie-digest").await.unwrap(), None, "the old cookie is gone");
    assert_eq!(store.session(a.id, session.id).await.unwrap().unwrap().expires_at, shorter);
    let at = used + secs(1);
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.extend_session(b.id, session.id, at, shorter + secs(60)).await.unwrap(), "another app's session");
    assert!(!tx.extend_session(a.id, session.id, at, shorter - secs(60)).await.unwrap(), "never earlier");
    assert!(!tx.extend_session(a.id, session.id, shorter + secs(1), shorter + secs(60)).await.unwrap(), "already over");
    assert!(tx.extend_session(a.id, session.id, at, shorter + secs(60)).await.unwrap());
    tx.commit().await.unwrap();
    let extended = store.session(a.id, session.id).await.unwrap().unwrap();
    assert_eq!((extended.expires_at, extended.last_used_at), (shorter + secs(60), at));

    let revoked = session.last_used_at + secs(60);
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.revoke_session(b.id, session.id, revoked).await.unwrap(), "another app's session");
    assert!(!tx.revoke_session(a.id, Uuid::new_v4(), revoked).await.unwrap(), "unknown session");
    assert!(tx.revoke_session(a.id, session.id, revoked).await.unwrap());
    assert!(!tx.revoke_session(a.id, session.id, revoked + secs(1)).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.revoke_session(a.id, session.id, revoked + secs(2)).await.unwrap());
    assert!(!tx.extend_session(a.id, session.id, revoked + secs(3), shorter + secs(600)).await.unwrap(), "revoked");
    tx.commit().await.unwrap();

    let stored = store.session(a.id, session.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(revoked), "the first revocation's time is kept");
    assert!(!stored.is_live(now()));
}

/// A new session of `user` with its first refresh token, both stored.
pub(super) async fn session_with_token(store: &Arc<dyn Store>, user: &User) -> (Session, NewRefreshToken) {
    let session = new_session(user);
    let token = new_refresh_token(&session);
    let mut tx = store.begin().await.unwrap();
    tx.insert_session(&session).await.unwrap();
    tx.insert_refresh_token(&token).await.unwrap();
    tx.commit().await.unwrap();
    (session, token)
}

async fn refresh_tokens_rotate_once(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let (b, _, _) = seed(&store, "app-b").await;
    let (session, token) = session_with_token(&store, &user).await;

    let unknown = RefreshKey { digest: "no-such-digest".into(), ..token.key() };
    assert_eq!(store.refresh_token(a.id, &token.key()).await.unwrap(), Some(token.unrotated()));
    assert_eq!(store.refresh_token(b.id, &token.key()).await.unwrap(), None);
    assert_eq!(store.refresh_token(a.id, &unknown).await.unwrap(), None);
    assert_eq!(store.refresh_token(a.id, &RefreshKey { generation: 1, ..token.key() }).await.unwrap(), None);
    assert_eq!(store.legacy_refresh_token(a.id, &token.digest).await.unwrap(), None, "only legacy tokens by digest");

    let rotated = token.created_at + secs(1);
    // Rotations are scoped by app: another app cannot rotate this token.
    assert_eq!(
        store
            .rotate_refresh_token(b.id, &token.key(), &successor(b"foreign", rotated), &rotation_event(b.id))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .rotate_refresh_token(a.id, &unknown, &successor(b"unknown", rotated), &rotation_event(a.id))
            .await
            .unwrap(),
        None
    );
    let first = successor(b"first", rotated);
    assert_eq!(
        store.rotate_refresh_token(a.id, &token.key(), &first, &rotation_event(a.id)).await.unwrap(),
        Some(session.id)
    );
    assert_eq!(
        store
            .rotate_refresh_token(a.id, &token.key(), &successor(b"late", rotated + secs(1)), &rotation_event(a.id))
            .await
            .unwrap(),
        None,
        "a token is rotated once"
    );

    let stored = store.refresh_token(a.id, &token.key()).await.unwrap().unwrap();
    assert_eq!(
        stored,
        RefreshToken { rotated_at: Some(rotated), successor_digest: Some(first.digest.clone()), ..token.unrotated() },
        "the first rotation's successor is kept"
    );
    // The successor is the session's next generation, and is itself current.
    let next = store.refresh_token(a.id, &next_key(&token.key(), &first)).await.unwrap().unwrap();
    assert_eq!(
        next,
        RefreshToken {
            app_id: a.id,
            session_id: session.id,
            generation: 1,
            digest: first.digest.clone(),
            created_at: rotated,
            rotated_at: None,
            successor_digest: None,
        }
    );
    let third = successor(b"third", rotated + secs(2));
    assert_eq!(
        store.rotate_refresh_token(a.id, &next.key(), &third, &rotation_event(a.id)).await.unwrap(),
        Some(session.id)
    );

    // A revoked or expired session's tokens do not rotate.
    let revoked = new_session(&user);
    let expired = Session { expires_at: now() - secs(1), ..new_session(&user) };
    let (revoked_token, expired_token) = (new_refresh_token(&revoked), new_refresh_token(&expired));
    let mut tx = store.begin().await.unwrap();
    for (session, token) in [(&revoked, &revoked_token), (&expired, &expired_token)] {
        tx.insert_session(session).await.unwrap();
        tx.insert_refresh_token(token).await.unwrap();
    }
    assert!(tx.revoke_session(a.id, revoked.id, now()).await.unwrap());
    tx.commit().await.unwrap();
    for token in [&revoked_token, &expired_token] {
        assert_eq!(
            store
                .rotate_refresh_token(a.id, &token.key(), &successor(b"x", now()), &rotation_event(a.id))
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.refresh_token(a.id, &token.key()).await.unwrap(), Some(token.unrotated()), "left as it was");
    }
}

async fn concurrent_rotation_has_one_winner(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let (_, token) = session_with_token(&store, &user).await;

    let app_id = a.id;
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            let key = token.key();
            tokio::spawn(async move {
                let next = successor(format!("successor-{i}").as_bytes(), now());
                let won = store.rotate_refresh_token(app_id, &key, &next, &rotation_event(app_id)).await.unwrap();
                won.map(|_| next.digest)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        winners.extend(attempt.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "exactly one refresh may rotate the token");

    let stored = store.refresh_token(a.id, &token.key()).await.unwrap().unwrap();
    assert!(stored.rotated_at.is_some());
    assert_eq!(stored.successor_digest.as_ref(), winners.first());
}

/// Rotations arriving together (SQLite commits them as one batch) each land, in their own
/// session, and each parent reads back with its own successor.
async fn concurrent_rotations_of_different_tokens_all_land(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let mut tokens = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for _ in 0..40 {
        let session = new_session(&user);
        let token = new_refresh_token(&session);
        tx.insert_session(&session).await.unwrap();
        tx.insert_refresh_token(&token).await.unwrap();
        tokens.push(token);
    }
    tx.commit().await.unwrap();

    let attempts: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, token)| {
            let (store, token) = (Arc::clone(&store), token.clone());
            tokio::spawn(async move {
                let next = successor(format!("successor-{i}").as_bytes(), now());
                let session = store
                    .rotate_refresh_token(token.app_id, &token.key(), &next, &rotation_event(token.app_id))
                    .await
                    .unwrap();
                (token, next, session)
            })
        })
        .collect();
    for attempt in attempts {
        let (token, next, session) = attempt.await.unwrap();
        assert_eq!(session, Some(token.session_id));
        let parent = store.refresh_token(a.id, &token.key()).await.unwrap().unwrap();
        assert_eq!(parent.successor_digest.as_ref(), Some(&next.digest));
        let child = store.refresh_token(a.id, &next_key(&token.key(), &next)).await.unwrap().unwrap();
        assert_eq!((child.session_id, child.rotated_at), (token.session_id, None));
    }
}

/// Pruning removes every token of the sessions that ended before the cut, a batch of sessions
/// at a time, and nothing else: not the sessions, not a live or recently ended session's.
async fn ended_sessions_lose_their_tokens(store: Arc<dyn Store>) {
    let (a, _, user) = seed(&store, "app-a").await;
    let cut = now() - secs(7 * 86_400);
    let live = new_session(&user);
    let revoked_long_ago = Session { revoked_at: Some(cut - secs(60)), ..new_session(&user) };
    let expired_long_ago = Session { expires_at: cut - secs(1), ..new_session(&user) };
    let revoked_lately = Session { revoked_at: Some(cut + secs(60)), ..new_session(&user) };
    let sessions = [&live, &revoked_long_ago, &expired_long_ago, &revoked_lately];
    let mut tokens = Vec::new();
    let mut tx = store.begin().await.unwrap();
    for session in sessions {
        let token = new_refresh_token(session);
        tx.insert_session(session).await.unwrap();
        tx.insert_refresh_token(&token).await.unwrap();
        tokens.push(token);
    }
    tx.commit().await.unwrap();
    // The live session's chain is longer than one.
    let next = successor(b"live", now());
    assert_eq!(
        store.rotate_refresh_token(a.id, &tokens[0].key(), &next, &rotation_event(a.id)).await.unwrap(),
        Some(live.id)
    );

    assert_eq!(store.prune_refresh_tokens(cut, 1).await.unwrap(), 1, "one session a batch");
    assert_eq!(store.prune_refresh_tokens(cut, 1).await.unwrap(), 1);
    assert_eq!(store.prune_refresh_tokens(cut, 1).await.unwrap(), 0, "none left");
    assert_eq!(store.prune_refresh_tokens(cut, 10).await.unwrap(), 0);

    for (session, token) in sessions.iter().zip(&tokens) {
        let kept = store.refresh_token(a.id, &token.key()).await.unwrap();
        let ended_long_ago = [revoked_long_ago.id, expired_long_ago.id].contains(&session.id);
        assert_eq!(kept.is_none(), ended_long_ago, "session {}", session.id);
        assert!(store.session(a.id, session.id).await.unwrap().is_some(), "sessions stay");
    }
    let current = store.refresh_token(a.id, &next_key(&tokens[0].key(), &next)).await.unwrap().unwrap();
    assert_eq!(current.rotated_at, None);
    assert_eq!(
        store
            .rotate_refresh_token(a.id, &current.key(), &successor(b"on", now()), &rotation_event(a.id))
            .await
            .unwrap(),
        Some(live.id),
        "a live session goes on"
    );
}
