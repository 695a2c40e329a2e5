//! End-user authentication for any app (accounts are the `platform` app's end-users):
//! sign-up, sign-in, refresh rotation with reuse detection, logout. Verifying bearers and
//! resuming sessions is `sessions.rs`; minting what they carry is `issuer.rs`.

use chrono::TimeDelta;
use secrecy::SecretString;
use uuid::Uuid;

use super::audit::{user_actor, user_kind};
use super::cache::Change;
use super::credentials::AppCredentials;
use super::issuer::AMR_PASSWORD;
use super::limits::Rule;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::{Actor, ActorKind, AuditEvent, Event};
use crate::crypto::token_digest;
use crate::limits::{canonical_identifier, value_key};
use crate::model::{App, Contact, ContactKind, RefreshSuccessor, Status, User};
use crate::store::StoreError;
use crate::tokens::TokenPair;
use crate::types::{normalized_password, DisplayName, Email, Username, PASSWORD_MAX_LENGTH};
use crate::{password, Error, Result};

/// What a sign-up asks for (seed 001, step 3).
#[derive(Debug)]
pub struct SignupInput {
    pub email: String,
    pub username: String,
    pub password: SecretString,
    pub display_name: Option<String>,
    /// Only for accounts made from the command line: the operator vouches for the address.
    pub email_verified: bool,
    /// The request's bearer, for apps that set `signup_requires_pak`.
    pub api_key: Option<String>,
}

fn invalid_refresh() -> Error {
    Error::Unauthenticated("Invalid refresh token")
}

impl Engine {
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn signup(&self, slug: &str, input: SignupInput, meta: &RequestMeta) -> Result<TokenPair> {
        self.signup_session(slug, input, meta).await.map(|(pair, _)| pair)
    }

    /// Sign-up that also answers with the principal, for the console's cookie session.
    pub async fn signup_session(
        &self,
        slug: &str,
        input: SignupInput,
        meta: &RequestMeta,
    ) -> Result<(TokenPair, Principal)> {
        let app = self.active_app(slug).await?;
        if !app.config.signup_enabled {
            return Err(Error::SignupDisabled);
        }
        if app.config.signup_requires_pak {
            self.require_signup_key(app.id, input.api_key.as_deref()).await?;
        }
        let email = Email::parse(&input.email)?;
        let username = Username::parse(&input.username)?;
        let display_name = match &input.display_name {
            Some(name) => DisplayName::parse(name, "display_name")?,
            None => DisplayName::parse(username.as_str(), "display_name")?,
        };
        let password = normalized_password(&input.password)
            .ok_or_else(|| Error::WeakPassword(format!("Password must be at most {PASSWORD_MAX_LENGTH} characters")))?;
        {
            use secrecy::ExposeSecret;
            crate::types::PasswordPolicy::from(&app.config).check(password.expose_secret())?;
        }
        let taken = || Error::UserExists("User with this username or email already exists".into());
        if self.store.user_by_username(app.id, username.as_str()).await?.is_some()
            || self.store.user_by_verified_contact(app.id, ContactKind::Email, &email.normalized()).await?.is_some()
        {
            return Err(taken());
        }
        let role =
            self.store.role_by_name(app.id, &app.config.signup_default_role).await?.ok_or_else(|| {
                Error::internal(anyhow::anyhow!("signup_default_role is missing in app {}", app.slug))
            })?;
        let hash = password::hash_for(app.id, password).await?;

        let at = now();
        let user = User {
            id: Uuid::new_v4(),
            app_id: app.id,
            username: username.as_str().to_owned(),
            display_name: display_name.as_str().to_owned(),
            password_hash: Some(hash),
            role_id: role.id,
            status: Status::Active,
            created_at: at,
            updated_at: at,
        };
        let contact = Contact::primary_email(&user, email.as_str(), input.email_verified.then_some(at));
        let mut tx = self.write().await?;
        tx.insert_user(&user).await.map_err(|e| match e {
            StoreError::Unique { .. } => taken(),
            e => e.into(),
        })?;
        tx.insert_contact(&contact).await.map_err(|e| match e {
            StoreError::Unique { .. } => taken(),
            e => e.into(),
        })?;
        let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at, AMR_PASSWORD).await?;
        if app.config.verify_email_on_signup && !input.email_verified {
            self.queue_verification(&mut tx, &app, &user, &contact).await?;
        }
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.signed_up"), user_actor(&app.slug, user.id))
                .subject(kind, user.id)
                .session(session.id)
                .details(serde_json::json!({
                    "username": user.username,
                    "role": role.name,
                    "email_verified": input.email_verified,
                    "method": "password",
                })),
        );
        tx.commit().await?;
        tracing::info!(user = %user.id, "signed up");
        let pair = self.token_pair(&app, user.id, &role.name, None, session.id, refresh).await?;
        let principal =
            Principal { app, user_id: user.id, session_id: session.id, role_id: role.id, role: role.name, org: None };
        Ok((pair, principal))
    }

    /// Username or *verified* email + password. Every failure is the same
    /// `INVALID_CREDENTIALS`, after the same argon2 work.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn signin(
        &self,
        slug: &str,
        identifier: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<TokenPair> {
        self.signin_session(slug, identifier, password, meta).await.map(|(pair, _)| pair)
    }

    /// Sign-in that also answers with the principal, for the console's cookie session.
    pub async fn signin_session(
        &self,
        slug: &str,
        identifier: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<(TokenPair, Principal)> {
        self.signin_by(slug, identifier, password, meta, false).await
    }

    /// Sign-in; with `unverified_email`, an email no one has verified also names the one user
    /// whose primary address it is (seed 003 signs in before verifying).
    pub(super) async fn signin_by(
        &self,
        slug: &str,
        identifier: &str,
        password: SecretString,
        meta: &RequestMeta,
        unverified_email: bool,
    ) -> Result<(TokenPair, Principal)> {
        // An unknown app is just another wrong credential; a store failure is not.
        let app = match self.app(slug).await {
            Err(Error::NotFound(_)) => Err(Error::InvalidCredentials),
            other => Ok(other?),
        };
        // A place in the argon2 queue before anything else: when the queue is full, a storm
        // of sign-ins is refused without a store read each.
        let place = password::admit(app.as_ref().map_or(password::NEUTRAL, |a| a.id))?;
        if let Ok(app) = &app {
            self.limit_ip(app, Rule::SigninPerIp, meta).await?;
        }
        let user = match &app {
            Ok(app) => self.find_by_identifier(app.id, identifier, unverified_email).await?,
            Err(_) => None,
        };
        // Per account when the identifier names one (its username and its emails, however
        // spelled, share one count), else per identifier as typed.
        let mut failures = 0;
        let mut locked = false;
        if let Ok(app) = &app {
            let key = match &user {
                Some(user) => format!("user:{}", user.id),
                None => value_key("id", &canonical_identifier(identifier)),
            };
            self.limit(app, Rule::SigninPerIdentifier, &key).await?;
            if let Some(user) = &user {
                (locked, failures) = self.lockout(app, user.id).await?;
            }
        }
        // An oversized password is checked as an empty one against the dummy hash: refused
        // in the same time, without feeding argon2 what the client chose.
        let password = normalized_password(&password);
        let eligible = password.is_some()
            && matches!(&app, Ok(a) if a.status == Status::Active && a.config.signin_enabled)
            && user.as_ref().is_some_and(|u| u.status == Status::Active);
        // A locked account is checked against the dummy hash too: the same answer, in the
        // same time, whatever the password.
        let stored = user.as_ref().filter(|_| eligible && !locked).and_then(|u| u.password_hash.clone());
        let password = password.unwrap_or_else(|| SecretString::from(String::new()));
        // An imported hash (or older parameters) is replaced by Rampart's argon2id once the
        // password is known right: kept to hash again after a successful verify.
        let rehash = stored.as_deref().filter(|h| password::needs_rehash(h)).map(|h| (h.to_owned(), password.clone()));
        let verified = password::verify_admitted(place, password, stored).await?;
        let (app, user) = match (app, user, verified) {
            (Ok(app), Some(user), true) => (app, user),
            (app, user, _) => {
                if let Ok(app) = &app {
                    let reason = if !eligible && matches!(&user, Some(u) if u.status != Status::Active) {
                        "user_suspended"
                    } else if app.status != Status::Active {
                        "app_suspended"
                    } else if !app.config.signin_enabled {
                        "signin_disabled"
                    } else if user.is_none() {
                        "unknown_identifier"
                    } else if !eligible {
                        "password_too_long"
                    } else if locked {
                        "locked_out"
                    } else {
                        "wrong_password"
                    };
                    self.record_signin_failure(app, user.as_ref().map(|u| u.id), reason).await?;
                    if let (Some(user), "wrong_password" | "password_too_long") = (&user, reason) {
                        self.password_failed(app, user.id).await?;
                    }
                }
                return Err(Error::InvalidCredentials);
            }
        };
        if failures > 0 {
            self.clear_lockout(&app, user.id).await?;
        }
        let role = self.role_name(&app, user.role_id).await?;
        let new_device = self.is_new_device(app.id, user.id, meta).await?;
        let rehashed = match rehash {
            Some((old, password)) => self.rehashed(&app, &user, old, password).await,
            None => None,
        };
        let at = now();
        let mut tx = self.write().await?;
        let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at, AMR_PASSWORD).await?;
        let mut details = serde_json::json!({"method": "password", "new_device": new_device});
        if let Some((old, new)) = rehashed {
            // Only while the hash is still the one verified: a password change that committed
            // meanwhile stays.
            if tx.replace_password_hash(app.id, user.id, &old, &new, at).await? {
                details["password_rehashed_from"] = password::scheme_name(&old).into();
            }
        }
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.signed_in"), user_actor(&app.slug, user.id))
                .subject(kind, user.id)
                .session(session.id)
                .details(details),
        );
        tx.commit().await?;
        let pair = self.token_pair(&app, user.id, &role, None, session.id, refresh).await?;
        Ok((pair, Principal { app, user_id: user.id, session_id: session.id, role_id: user.role_id, role, org: None }))
    }

    /// Rampart's argon2id of a password just verified against an imported (or older) hash,
    /// with the hash it replaces. A busy argon2 queue leaves the old hash for the next
    /// sign-in rather than failing this one.
    async fn rehashed(&self, app: &App, user: &User, old: String, password: SecretString) -> Option<(String, String)> {
        match password::hash_for(app.id, password).await {
            Ok(new) => Some((old, new)),
            Err(e) => {
                tracing::warn!(user = %user.id, error = ?e, "rehashing an imported password hash failed; kept for now");
                None
            }
        }
    }

    /// A device is its user agent: one no earlier session of the user came from is new (the
    /// user's activity feed says so). Asked before the new session opens.
    pub(super) async fn is_new_device(&self, app_id: Uuid, user_id: Uuid, meta: &RequestMeta) -> Result<bool> {
        let user_agent = meta.user_agent.as_ref().map(|ua| ua.chars().take(512).collect::<String>());
        Ok(!self.store.sessions_of(app_id, user_id).await?.iter().any(|s| s.user_agent == user_agent))
    }

    /// A refused sign-in, with the reason kept here and never in the answer. Without a
    /// known user the actor is an anonymous end-user, and what was typed is not kept (it may
    /// be a password typed in the wrong field).
    async fn record_signin_failure(&self, app: &App, user_id: Option<Uuid>, reason: &str) -> Result<()> {
        let kind = user_kind(&app.slug);
        let actor = match user_id {
            Some(id) => user_actor(&app.slug, id),
            None => Actor { kind: if kind == "account" { ActorKind::Account } else { ActorKind::EndUser }, id: None },
        };
        let mut event =
            Event::new(format!("{kind}.signin_failed"), actor).failed().details(serde_json::json!({"reason": reason}));
        if let Some(id) = user_id {
            event = event.subject(kind, id);
        }
        let mut tx = self.write().await?;
        tx.record(app.id, event);
        tx.commit().await
    }

    /// The user an identifier names, however it is spelled (case, surrounding space, Unicode
    /// compatibility forms such as fullwidth letters).
    async fn find_by_identifier(&self, app_id: Uuid, identifier: &str, unverified_email: bool) -> Result<Option<User>> {
        if identifier.len() > 1024 {
            return Ok(None);
        }
        let identifier = canonical_identifier(identifier);
        if identifier.is_empty() || identifier.len() > 254 {
            return Ok(None);
        }
        if identifier.contains('@') {
            let verified = self.store.user_by_verified_contact(app_id, ContactKind::Email, &identifier).await?;
            if verified.is_some() || !unverified_email {
                return Ok(verified);
            }
            // Only when exactly one user holds it, unverified, as their primary address: two
            // sign-ups of one address leave it to the first to verify.
            let holders: Vec<_> = self
                .store
                .email_contacts(app_id, &identifier)
                .await?
                .into_iter()
                .filter(|c| c.is_primary && c.verified_at.is_none())
                .collect();
            match holders.as_slice() {
                [only] => Ok(self.store.user_by_id(app_id, only.user_id).await?),
                _ => Ok(None),
            }
        } else {
            Ok(self.store.user_by_username(app_id, &identifier).await?)
        }
    }

    /// Rotates a refresh token. Presenting a token already rotated revokes the whole session
    /// (seed 001, step 6), unless the app opted into a retry tolerance
    /// (`refresh_reuse_grace_seconds`) and the repeat comes within it: then it answers with
    /// the same successor.
    ///
    /// `credentials` are seed 002's `app_id` + `app_secret`: when given they must be the
    /// app's, and an app may require them; refused, the token is left as it was.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn refresh(
        &self,
        slug: &str,
        refresh_token: &str,
        credentials: Option<&AppCredentials>,
    ) -> Result<TokenPair> {
        let app = self.active_app(slug).await?;
        self.require_app_credentials(&app, credentials).await?;
        // An OIDC client's refresh token is the token endpoint's, bound to its client.
        if refresh_token.starts_with(super::issuer::OIDC_REFRESH_PREFIX) {
            return Err(invalid_refresh());
        }
        let (sid, live, successor) = self.rotate_refresh(&app, refresh_token).await?;
        // The session's organization, as it is now: one left or removed from is gone.
        self.token_pair(&app, live.user_id, &live.role, live.org.as_ref(), sid, successor).await
    }

    /// Rotates a refresh token of `app` (see `refresh`): the session, its live state and the
    /// successor token, or why not (`RefreshTokenReused` having revoked the session).
    pub(super) async fn rotate_refresh(
        &self,
        app: &App,
        refresh_token: &str,
    ) -> Result<(Uuid, super::cache::LiveSession, String)> {
        let at = now();
        // Where the token is kept: a token issued before tokens carried their key is looked
        // up by digest first (once per session: its successor carries one).
        let key = match super::issuer::RefreshLookup::of(refresh_token) {
            super::issuer::RefreshLookup::Keyed(key) => key,
            super::issuer::RefreshLookup::Legacy(digest) => {
                self.store.legacy_refresh_token(app.id, &digest).await?.ok_or_else(invalid_refresh)?.key()
            }
        };
        // Derived from the presented token, never stored: a repeat derives the same one.
        let successor = self.successor_of(refresh_token, &key);
        let rotation = RefreshSuccessor { digest: token_digest(&successor), created_at: at };
        let kind = user_kind(&app.slug);
        // The store fills in the session's user as actor and subject.
        let event = self.audit.seal(AuditEvent::record(
            app.id,
            at,
            Event::new(format!("{kind}.token_refreshed"), user_actor(&app.slug, Uuid::nil()))
                .subject(kind, Uuid::nil()),
        ));
        // The common case is one statement: the token is current and its session live.
        if let Some(sid) = self.store.rotate_refresh_token(app.id, &key, &rotation, &event).await? {
            self.audit.wake();
            crate::telemetry::event_committed(&event);
            // Taken before `live` reads the session: a revocation meanwhile keeps the touched
            // entry out of the cache.
            let generation = self.caches.generation();
            let live = self.cached_session(app, sid).await?;
            self.record_use(app, sid, &live, generation, at).await?;
            return Ok((sid, live, successor));
        }
        // Unknown, already rotated, or its session is over: find out which.
        let token = self.store.refresh_token(app.id, &key).await?.ok_or_else(invalid_refresh)?;
        let sid = token.session_id;
        let live = self.cached_session(app, sid).await?;
        let grace = app.config.refresh_reuse_grace_seconds;
        match (token.rotated_at, token.successor_digest) {
            // Within the tolerance, and this token's successor is the one derived again (a
            // token rotated before successors were derived has another, and is reuse).
            (Some(rotated), Some(child))
                if grace > 0 && at - rotated <= TimeDelta::seconds(grace) && child == rotation.digest =>
            {
                Ok((sid, live, successor))
            }
            (Some(_), _) => {
                let mut tx = self.write().await?;
                tx.revoke_session(app.id, sid, at).await?;
                tx.changed(Change::Session(sid));
                tx.record(
                    app.id,
                    Event::new(format!("{kind}.refresh_reuse_detected"), user_actor(&app.slug, live.user_id))
                        .failed()
                        .subject(kind, live.user_id)
                        .session(sid)
                        .details(serde_json::json!({"session_revoked": true})),
                );
                tx.commit().await?;
                tracing::warn!(session = %sid, "refresh token reused after rotation; session revoked");
                Err(Error::RefreshTokenReused)
            }
            // Live session, token not rotated, yet the rotation did not happen: the session
            // ended between the two reads.
            (None, _) => Err(Error::SessionRevoked),
        }
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are refused; app
    /// credentials are checked as `refresh` checks them.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn logout(&self, slug: &str, refresh_token: &str, credentials: Option<&AppCredentials>) -> Result<()> {
        let app = self.app(slug).await?;
        self.require_app_credentials(&app, credentials).await?;
        if refresh_token.starts_with(super::issuer::OIDC_REFRESH_PREFIX) {
            return Err(invalid_refresh());
        }
        let token = self.find_refresh_token(app.id, refresh_token).await?.ok_or_else(invalid_refresh)?;
        let sid = token.session_id;
        let session = self.store.session(app.id, sid).await?.ok_or_else(invalid_refresh)?;
        let mut tx = self.write().await?;
        let ended = tx.revoke_session(app.id, sid, now()).await?;
        tx.changed(Change::Session(sid));
        if ended {
            self.record_signed_out(&mut tx, &app, session.user_id, sid);
        }
        tx.commit().await
    }

    /// A session ended by its own user.
    pub(super) fn record_signed_out(&self, tx: &mut super::write::Write<'_>, app: &App, user_id: Uuid, sid: Uuid) {
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.signed_out"), user_actor(&app.slug, user_id))
                .subject(kind, user_id)
                .session(sid),
        );
    }

    pub(super) async fn role_name(&self, app: &App, role_id: Uuid) -> Result<String> {
        let role = self.store.role_by_id(app.id, role_id).await?;
        role.map(|r| r.name).ok_or_else(|| Error::internal(anyhow::anyhow!("user's role is missing")))
    }
}
