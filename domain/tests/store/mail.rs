//! Conformance of the mail queue, emailed one-time tokens and invites: claims that nodes
//! share, tokens consumed once however many race, invites accepted once.

use domain::model::{Invite, Mail, MailStatus, OneTimeToken, TokenPurpose};

use super::*;

conformance! {
    mail_is_claimed_once_and_finished => sqlite_mail_is_claimed_once_and_finished, postgres_mail_is_claimed_once_and_finished;
    a_token_is_consumed_once_for_its_app_and_purpose => sqlite_a_token_is_consumed_once_for_its_app_and_purpose, postgres_a_token_is_consumed_once_for_its_app_and_purpose;
    racing_redemptions_have_one_winner => sqlite_racing_redemptions_have_one_winner, postgres_racing_redemptions_have_one_winner;
    invites_are_superseded_revoked_and_accepted_once => sqlite_invites_are_superseded_revoked_and_accepted_once, postgres_invites_are_superseded_revoked_and_accepted_once;
}

fn mail(app_id: Uuid, to: &str, at: DateTime<Utc>) -> Mail {
    Mail {
        id: Uuid::now_v7(),
        app_id,
        kind: "invite".into(),
        sender: "Acme <auth@acme.test>".into(),
        to: to.into(),
        subject: "Hello".into(),
        body: Some(b"sealed".to_vec()),
        channel: domain::model::OtpChannel::Email,
        status: MailStatus::Queued,
        attempts: 0,
        next_attempt_at: at,
        last_error: None,
        created_at: at,
        sent_at: None,
    }
}

async fn mail_is_claimed_once_and_finished(store: Arc<dyn Store>) {
    let (app, _, _) = seed(&store, "acme").await;
    let t = now();
    let (due, later) = (mail(app.id, "a@example.com", t - secs(1)), mail(app.id, "b@example.com", t + secs(600)));
    let mut tx = store.begin().await.unwrap();
    tx.insert_mail(&due).await.unwrap();
    tx.insert_mail(&later).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.next_mail_due().await.unwrap(), Some(due.next_attempt_at));

    // Two workers: the first claims what is due, the second gets nothing until the claim lapses.
    let mut tx = store.begin().await.unwrap();
    let claimed = tx.claim_mail(t, t + secs(60), 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed, vec![due.clone()]);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.claim_mail(t + secs(1), t + secs(61), 10).await.unwrap().is_empty());
    let again = tx.claim_mail(t + secs(61), t + secs(121), 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), vec![due.id], "a lapsed claim is claimed again");

    // A failed attempt waits for its retry; a sent message loses its body; an outbox one keeps it.
    let mut tx = store.begin().await.unwrap();
    tx.retry_mail(due.id, t + secs(30), "connection refused").await.unwrap();
    tx.commit().await.unwrap();
    let retried = store.mail_by_id(app.id, due.id).await.unwrap().unwrap();
    assert_eq!((retried.attempts, retried.status), (1, MailStatus::Queued));
    assert_eq!(retried.last_error.as_deref(), Some("connection refused"));
    let mut tx = store.begin().await.unwrap();
    assert!(tx.claim_mail(t + secs(2), t + secs(62), 10).await.unwrap().is_empty(), "not due before its retry");
    tx.finish_mail(due.id, MailStatus::Sent, t + secs(31), None).await.unwrap();
    tx.finish_mail(later.id, MailStatus::Outbox, t + secs(31), None).await.unwrap();
    tx.commit().await.unwrap();
    let sent = store.mail_by_id(app.id, due.id).await.unwrap().unwrap();
    assert_eq!((sent.status, sent.attempts, sent.body), (MailStatus::Sent, 2, None));
    assert!(sent.sent_at.is_some());
    let kept = store.mail_by_id(app.id, later.id).await.unwrap().unwrap();
    assert_eq!((kept.status, kept.body.as_deref()), (MailStatus::Outbox, Some(&b"sealed"[..])));
    assert_eq!(store.next_mail_due().await.unwrap(), None);

    // Pages, newest first, by app.
    let page = store.mail_page(app.id, None, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    let rest = store.mail_page(app.id, Some((page[0].created_at, page[0].id)), 10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_ne!(rest[0].id, page[0].id);
    assert!(store.mail_page(Uuid::new_v4(), None, 10).await.unwrap().is_empty());
    assert_eq!(store.mail_by_id(Uuid::new_v4(), due.id).await.unwrap(), None, "another app's message");
}

fn token(app_id: Uuid, user_id: Uuid, purpose: TokenPurpose, digest: &str, expires_at: DateTime<Utc>) -> OneTimeToken {
    OneTimeToken {
        digest: digest.into(),
        app_id,
        purpose,
        user_id,
        contact_id: None,
        redirect_to: Some("/next".into()),
        created_at: now(),
        expires_at,
    }
}

async fn a_token_is_consumed_once_for_its_app_and_purpose(store: Arc<dyn Store>) {
    let (app, _, user) = seed(&store, "acme").await;
    let (other, _, _) = seed(&store, "globex").await;
    let t = now();
    let reset = token(app.id, user.id, TokenPurpose::ResetPassword, "d-reset", t + secs(600));
    let expired = token(app.id, user.id, TokenPurpose::VerifyEmail, "d-old", t - secs(1));
    let mut tx = store.begin().await.unwrap();
    tx.insert_one_time_token(&reset).await.unwrap();
    tx.insert_one_time_token(&expired).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.one_time_token(app.id, "d-reset").await.unwrap(), Some(reset.clone()));
    assert_eq!(store.one_time_token(other.id, "d-reset").await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    // Another app, another purpose, an expired token: nothing, and nothing spent.
    assert_eq!(tx.consume_one_time_token(other.id, TokenPurpose::ResetPassword, "d-reset", t).await.unwrap(), None);
    assert_eq!(tx.consume_one_time_token(app.id, TokenPurpose::MagicLink, "d-reset", t).await.unwrap(), None);
    assert_eq!(tx.consume_one_time_token(app.id, TokenPurpose::VerifyEmail, "d-old", t).await.unwrap(), None);
    let spent = tx.consume_one_time_token(app.id, TokenPurpose::ResetPassword, "d-reset", t).await.unwrap();
    assert_eq!(spent, Some(reset.clone()));
    assert_eq!(tx.consume_one_time_token(app.id, TokenPurpose::ResetPassword, "d-reset", t).await.unwrap(), None);
    tx.commit().await.unwrap();

    // A newer token of the same user and purpose supersedes the older; other purposes stay.
    let first = token(app.id, user.id, TokenPurpose::MagicLink, "d-first", t + secs(600));
    let second = token(app.id, user.id, TokenPurpose::MagicLink, "d-second", t + secs(600));
    let verify = token(app.id, user.id, TokenPurpose::VerifyEmail, "d-verify", t + secs(600));
    let mut tx = store.begin().await.unwrap();
    tx.insert_one_time_token(&first).await.unwrap();
    tx.insert_one_time_token(&verify).await.unwrap();
    tx.insert_one_time_token(&second).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.one_time_token(app.id, "d-first").await.unwrap(), None);
    assert!(store.one_time_token(app.id, "d-second").await.unwrap().is_some());
    assert!(store.one_time_token(app.id, "d-verify").await.unwrap().is_some());
}

async fn racing_redemptions_have_one_winner(store: Arc<dyn Store>) {
    let (app, _, user) = seed(&store, "acme").await;
    let t = now();
    let mut tx = store.begin().await.unwrap();
    tx.insert_one_time_token(&token(app.id, user.id, TokenPurpose::MagicLink, "d-race", t + secs(600))).await.unwrap();
    tx.commit().await.unwrap();
    let attempts = (0..10).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tx = store.begin().await?;
            let won = tx.consume_one_time_token(app.id, TokenPurpose::MagicLink, "d-race", now()).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(won.is_some())
        })
    });
    let outcomes: Vec<bool> =
        futures_util::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().unwrap_or(false)).collect();
    assert_eq!(outcomes.iter().filter(|w| **w).count(), 1, "{outcomes:?}");
}

fn invite(app_id: Uuid, role_id: Uuid, email: &str, digest: &str, at: DateTime<Utc>) -> Invite {
    Invite {
        id: Uuid::now_v7(),
        app_id,
        email: email.into(),
        name: Some("New User".into()),
        role_id,
        code_digest: digest.into(),
        invited_by_kind: "account".into(),
        invited_by: Some(Uuid::new_v4()),
        created_at: at,
        expires_at: at + secs(3600),
        accepted_at: None,
        revoked_at: None,
        user_id: None,
    }
}

async fn invites_are_superseded_revoked_and_accepted_once(store: Arc<dyn Store>) {
    let (app, role, user) = seed(&store, "acme").await;
    let t = now();
    let first = invite(app.id, role.id, "New@Example.com", "c-1", t);
    let second = invite(app.id, role.id, "new@example.com", "c-2", t + secs(1));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.insert_invite(&first, "new@example.com").await.unwrap(), 0);
    assert_eq!(tx.insert_invite(&second, "new@example.com").await.unwrap(), 1, "the first is superseded");
    tx.commit().await.unwrap();
    let listed = store.invites(app.id, 10).await.unwrap();
    assert_eq!(listed.iter().map(|i| i.id).collect::<Vec<_>>(), vec![second.id, first.id]);
    assert!(listed[1].revoked_at.is_some());
    assert_eq!(store.invite_by_code(app.id, "c-2").await.unwrap().map(|i| i.id), Some(second.id));
    assert_eq!(store.invite_by_code(Uuid::new_v4(), "c-2").await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    assert!(!tx.accept_invite(app.id, first.id, user.id, t + secs(2)).await.unwrap(), "a revoked invite");
    assert!(!tx.accept_invite(app.id, second.id, user.id, t + secs(7200)).await.unwrap(), "an expired invite");
    assert!(tx.accept_invite(app.id, second.id, user.id, t + secs(2)).await.unwrap());
    assert!(!tx.accept_invite(app.id, second.id, user.id, t + secs(3)).await.unwrap(), "accepted once");
    assert!(!tx.revoke_invite(app.id, second.id, t + secs(3)).await.unwrap(), "an accepted invite stays accepted");
    tx.commit().await.unwrap();
    let accepted = store.invite_by_id(app.id, second.id).await.unwrap().unwrap();
    assert_eq!((accepted.user_id, accepted.revoked_at), (Some(user.id), None));
    assert_eq!(accepted.state(t + secs(10)), "accepted");

    let third = invite(app.id, role.id, "other@example.com", "c-3", t);
    let mut tx = store.begin().await.unwrap();
    tx.insert_invite(&third, "other@example.com").await.unwrap();
    assert!(tx.revoke_invite(app.id, third.id, t + secs(1)).await.unwrap());
    assert!(!tx.revoke_invite(app.id, third.id, t + secs(2)).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(store.invite_by_id(app.id, third.id).await.unwrap().unwrap().state(t), "revoked");
}
