//! An end-user's own account, as the hosted account page changes it: the display name, and
//! the password (the current one required, checked as a sign-in checks it).

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::audit::{user_actor, user_kind};
use super::cache::Change;
use super::limits::Rule;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::Event;
use crate::mail::render::{render, MailKind, Vars};
use crate::model::{ContactKind, User};
use crate::types::{normalized_password, DisplayName, PasswordPolicy, PASSWORD_MAX_LENGTH};
use crate::{password, Error, Result};

impl Engine {
    async fn my_user(&self, me: &Principal) -> Result<User> {
        self.store.user_by_id(me.app.id, me.user_id).await?.ok_or(Error::Unauthenticated("Unknown user"))
    }

    /// Sets the caller's display name.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn update_my_display_name(&self, me: &Principal, name: &str) -> Result<()> {
        let name = DisplayName::parse(name, "display_name")?;
        let mut user = self.my_user(me).await?;
        if user.display_name == name.as_str() {
            return Ok(());
        }
        let old = std::mem::replace(&mut user.display_name, name.as_str().to_owned());
        user.updated_at = now();
        let mut tx = self.write().await?;
        tx.update_user(&user).await?;
        tx.changed(Change::User(user.id));
        let kind = user_kind(&me.app.slug);
        tx.record(
            me.app.id,
            Event::new(format!("{kind}.updated"), user_actor(&me.app.slug, me.user_id))
                .subject(kind, user.id)
                .session(me.session_id)
                .details(json!({"changes": {"display_name": {"old": old, "new": user.display_name}}})),
        );
        tx.commit().await
    }

    /// Changes the caller's password. The current one is checked through the same argon2
    /// path as a sign-in, and its guesses count against the sign-in limits of the IP and
    /// the account (a stolen session cannot try passwords at will, nor lock the owner out).
    /// In one change: the new hash, the end of the user's other sessions, the audit event
    /// and the mail that tells the user. Answers how many other sessions ended.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn change_my_password(
        &self,
        me: &Principal,
        current: SecretString,
        new: SecretString,
        meta: &RequestMeta,
    ) -> Result<u64> {
        let app = &me.app;
        self.limit_ip(app, Rule::SigninPerIp, meta).await?;
        self.limit(app, Rule::SigninPerIdentifier, &format!("user:{}", me.user_id)).await?;
        let new = normalized_password(&new)
            .ok_or_else(|| Error::WeakPassword(format!("Password must be at most {PASSWORD_MAX_LENGTH} characters")))?;
        PasswordPolicy::from(&app.config).check(new.expose_secret())?;
        let user = self.my_user(me).await?;
        let Some(stored) = user.password_hash.clone() else {
            return Err(Error::invalid("You have no password yet: ask for a reset link to choose one"));
        };
        // An oversized input is checked as an empty one: refused after the same work.
        let current = normalized_password(&current).unwrap_or_else(|| SecretString::from(String::new()));
        if !password::verify_for(app.id, current, Some(stored)).await? {
            return Err(Error::InvalidCredentials);
        }
        let hash = password::hash_for(app.id, new).await?;
        let at = now();
        let others: Vec<_> = self
            .store
            .sessions_of(app.id, user.id)
            .await?
            .into_iter()
            .filter(|s| s.id != me.session_id && s.is_live(at))
            .collect();
        let contacts = self.store.contacts_of(app.id, user.id).await?;
        let mut tx = self.write().await?;
        tx.set_password_hash(app.id, user.id, &hash, at).await?;
        let mut revoked = 0u64;
        for session in &others {
            if tx.revoke_session(app.id, session.id, at).await? {
                revoked += 1;
            }
            tx.changed(Change::Session(session.id));
        }
        tx.changed(Change::User(user.id));
        if let Some(primary) = contacts.iter().find(|c| c.kind == ContactKind::Email && c.is_primary) {
            let rendered = render(
                MailKind::PasswordChanged,
                &Vars { app: app.display_name.clone(), name: Some(user.display_name.clone()), ..Vars::default() },
                &app.config,
            );
            tx.mail(app, &primary.value, MailKind::PasswordChanged, rendered)?;
        }
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.password_changed"), user_actor(&app.slug, user.id))
                .subject(kind, user.id)
                .session(me.session_id)
                .details(json!({"sessions_revoked": revoked})),
        );
        tx.commit().await?;
        Ok(revoked)
    }
}
