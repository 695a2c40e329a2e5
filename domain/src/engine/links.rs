//! Everything an emailed link or code does: invites (seed 000, step 3), email verification,
//! forgotten passwords, magic links, and what a sign-in page may ask first (`check-email`,
//! `methods`).
//!
//! Every token here is 256 random bits, kept as its SHA-256, bound to its app and purpose,
//! superseded by the next one of its user and purpose, and consumed atomically (a `DELETE …
//! RETURNING` or a conditional `UPDATE`: of parallel redemptions one wins). Links are built
//! from the public URL only, never from request headers.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::{actor_of, user_actor, user_kind};
use super::cache::Change;
use super::caller::Caller;
use super::issuer::AMR_EMAIL_ONE_TIME;
use super::limits::Rule;
use super::write::Write;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::{Actor, Event};
use crate::crypto::{random_token, token_digest};
use crate::limits::value_key;
use crate::mail::render::{render, MailKind, Vars};
use crate::model::{App, Contact, ContactKind, Invite, OneTimeToken, Status, TokenPurpose, User};
use crate::store::StoreError;
use crate::tokens::TokenPair;
use crate::types::{normalized_password, DisplayName, Email, PasswordPolicy, Username, PASSWORD_MAX_LENGTH};
use crate::{password, Error, Result};

/// Prefixes that say what a secret is when it turns up somewhere.
pub const INVITE_PREFIX: &str = "inv_";
const LINK_PREFIX: &str = "rlt_";

/// Invites last 72 hours unless asked otherwise, 30 days at most.
const INVITE_DEFAULT_HOURS: i64 = 72;
const INVITE_MAX_HOURS: i64 = 720;

fn invalid_link() -> Error {
    Error::InvalidToken("This link is invalid or has expired")
}

fn invalid_invite() -> Error {
    Error::InvalidToken("This invite is invalid, used, revoked or expired")
}

pub use shared::mail::InviteView;

/// What an invite asks for (seed 000, step 3).
#[derive(Debug, Clone)]
pub struct InviteInput {
    pub email: String,
    pub name: Option<String>,
    pub role_name: Option<String>,
    pub expires_in_hours: Option<i64>,
}

/// Where a consumed link sends its user next, if it said.
#[derive(Debug, Clone, Serialize)]
pub struct LinkAnswer {
    pub redirect_to: Option<String>,
}

/// What a sign-in page may offer (`GET auth/methods`).
#[derive(Debug, Clone, Serialize)]
pub struct Methods {
    pub password: bool,
    pub magic_link: bool,
    pub signup: bool,
    pub check_email: bool,
}

/// `redirectTo` as the app allows it: one of its allowed URLs exactly, or a path on this
/// server. `//host`, `/\host`, schemes and anything with a backslash or a control character
/// are refused.
pub fn allowed_redirect(app: &App, raw: Option<&str>) -> Result<Option<String>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let refused = || Error::invalid("redirectTo must be one of the app's allowed redirect URLs or a relative path");
    if raw.len() > 2048 || raw.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\' || c == '#') {
        return Err(refused());
    }
    if app.config.allowed_redirect_urls.iter().any(|allowed| allowed == raw) {
        return Ok(Some(raw.to_owned()));
    }
    let relative = raw.starts_with('/') && !raw.starts_with("//") && !raw.contains("://");
    if relative {
        Ok(Some(raw.to_owned()))
    } else {
        Err(refused())
    }
}

/// How long the app's links of `purpose` last.
fn link_lifetime(app: &App, purpose: TokenPurpose) -> TimeDelta {
    TimeDelta::seconds(match purpose {
        TokenPurpose::VerifyEmail => app.config.verify_email_link_ttl_seconds,
        TokenPurpose::ResetPassword => app.config.reset_password_link_ttl_seconds,
        TokenPurpose::MagicLink => app.config.magic_link_ttl_seconds,
    })
}

/// A username made from an email's local part, for users who never chose one (invites).
fn username_from(email: &str, attempt: u32) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut name: String =
        local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
    name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric()).chars().take(30).collect();
    name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned();
    if name.len() < 3 {
        name = format!("user{name}");
    }
    if attempt > 0 {
        use rand::Rng;
        name = format!("{name}-{:05}", rand::thread_rng().gen_range(0..100_000));
    }
    name
}

impl Engine {
    fn link(&self, slug: &str, path: &str, param: &str, secret: &str) -> String {
        format!("{}/{slug}/{path}?{param}={secret}", self.config.public_url)
    }

    fn invite_view(invite: &Invite, role: &str, at: DateTime<Utc>) -> InviteView {
        InviteView {
            id: invite.id,
            email: invite.email.clone(),
            name: invite.name.clone(),
            role: role.to_owned(),
            status: invite.state(at).to_owned(),
            created_at: invite.created_at,
            expires_at: invite.expires_at,
            accepted_at: invite.accepted_at,
            revoked_at: invite.revoked_at,
            user_id: invite.user_id,
        }
    }

    /// Invites an end-user: the mail carries a code (`inv_…`) and a link to the hosted page
    /// that accepts it. A newer invite of the same email revokes the pending ones.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn create_invite(&self, caller: &Caller, slug: &str, input: InviteInput) -> Result<InviteView> {
        let access = self.authorize(caller, slug, "invite.create").await?;
        let app = &access.app;
        if app.slug == crate::types::PLATFORM_SLUG {
            return Err(Error::NotFound("App"));
        }
        let email = Email::parse(&input.email)?;
        let name = match input.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => Some(DisplayName::parse(name, "name")?.as_str().to_owned()),
            None => None,
        };
        let hours = input.expires_in_hours.unwrap_or(INVITE_DEFAULT_HOURS);
        if !(1..=INVITE_MAX_HOURS).contains(&hours) {
            return Err(Error::invalid(format!("expiresInHours must be between 1 and {INVITE_MAX_HOURS}")));
        }
        let role_name = input.role_name.as_deref().unwrap_or(&app.config.signup_default_role);
        let role = self
            .store
            .role_by_name(app.id, role_name)
            .await?
            .ok_or_else(|| Error::invalid(format!("roleName: no role '{role_name}' in this app")))?;
        if role.name == "owner" {
            return Err(Error::invalid("roleName: end-users cannot be invited as owner"));
        }
        access.may_assign(caller, &role)?;
        if self.store.user_by_verified_contact(app.id, ContactKind::Email, &email.normalized()).await?.is_some() {
            return Err(Error::UserExists("A user with this email already exists".into()));
        }
        let code = random_token(INVITE_PREFIX);
        let at = now();
        let invite = Invite {
            id: Uuid::now_v7(),
            app_id: app.id,
            email: email.as_str().to_owned(),
            name: name.clone(),
            role_id: role.id,
            code_digest: token_digest(&code),
            invited_by_kind: actor_of(caller).kind.as_str().to_owned(),
            invited_by: actor_of(caller).id,
            created_at: at,
            expires_at: at + TimeDelta::hours(hours),
            accepted_at: None,
            revoked_at: None,
            user_id: None,
        };
        let lasts = TimeDelta::hours(hours);
        let rendered = render(
            MailKind::Invite,
            &Vars {
                app: app.display_name.clone(),
                name,
                link: Some(self.link(&app.slug, "accept-invite", "code", &code)),
                code: Some(code),
                lasts: Some(lasts),
                notice: None,
                feature: None,
                language: None,
            },
            &app.config,
        );
        let mut tx = self.write().await?;
        let superseded = tx.insert_invite(&invite, &email.normalized()).await?;
        tx.mail(app, email.as_str(), MailKind::Invite, rendered)?;
        tx.record(
            app.id,
            Event::new("invite.created", actor_of(caller)).subject("invite", invite.id).details(json!({
                "email": invite.email,
                "role": role.name,
                "expires_at": crate::time_format::format(&invite.expires_at),
                "superseded": superseded,
            })),
        );
        tx.commit().await?;
        Ok(Self::invite_view(&invite, &role.name, at))
    }

    /// The app's invites, newest first.
    pub async fn list_invites(&self, caller: &Caller, slug: &str) -> Result<Vec<InviteView>> {
        let app = self.authorize(caller, slug, "invite.read").await?.app;
        let roles = self.store.roles(app.id).await?;
        let at = now();
        let invites = self.store.invites(app.id, 500).await?;
        Ok(invites
            .iter()
            .map(|i| {
                let role = roles.iter().find(|r| r.id == i.role_id).map_or("", |r| r.name.as_str());
                Self::invite_view(i, role, at)
            })
            .collect())
    }

    /// Revokes a pending invite; its code stops working at once.
    pub async fn revoke_invite(&self, caller: &Caller, slug: &str, id: &str) -> Result<()> {
        let app = self.authorize(caller, slug, "invite.revoke").await?.app;
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Invite"))?;
        let invite = self.store.invite_by_id(app.id, id).await?.ok_or(Error::NotFound("Invite"))?;
        let mut tx = self.write().await?;
        if !tx.revoke_invite(app.id, id, now()).await? {
            return Err(Error::Conflict(format!("The invite is {} and cannot be revoked", invite.state(now()))));
        }
        tx.record(
            app.id,
            Event::new("invite.revoked", actor_of(caller))
                .subject("invite", id)
                .details(json!({"email": invite.email})),
        );
        tx.commit().await
    }

    /// Accepts an invite with a new password: the user is created with the invite's role and
    /// email (verified: the code came by mail) and signed in.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn accept_invite(
        &self,
        slug: &str,
        code: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<TokenPair> {
        let app = self.active_app(slug).await.map_err(|e| match e {
            Error::NotFound(_) => invalid_invite(),
            e => e,
        })?;
        self.limit_ip(&app, Rule::RedeemPerIp, meta).await?;
        let code = code.trim();
        if !code.starts_with(INVITE_PREFIX) || code.len() > 100 {
            return Err(invalid_invite());
        }
        let invite = self.store.invite_by_code(app.id, &token_digest(code)).await?.ok_or_else(invalid_invite)?;
        if invite.state(now()) != "pending" {
            return Err(invalid_invite());
        }
        let password = self.acceptable_password(&app, &password)?;
        let role = self.store.role_by_id(app.id, invite.role_id).await?.ok_or_else(invalid_invite)?;
        let email = Email::parse(&invite.email)?;
        if self.store.user_by_verified_contact(app.id, ContactKind::Email, &email.normalized()).await?.is_some() {
            return Err(Error::UserExists("A user with this email already exists".into()));
        }
        let hash = password::hash_for(app.id, password).await?;
        let display_name = invite.name.clone().unwrap_or_else(|| username_from(email.as_str(), 0));
        for attempt in 0..5 {
            let username = Username::parse(&username_from(email.as_str(), attempt))?;
            if self.store.user_by_username(app.id, username.as_str()).await?.is_some() {
                continue;
            }
            let at = now();
            let user = User {
                id: Uuid::new_v4(),
                app_id: app.id,
                username: username.as_str().to_owned(),
                display_name: display_name.clone(),
                password_hash: Some(hash.clone()),
                role_id: role.id,
                status: Status::Active,
                created_at: at,
                updated_at: at,
            };
            // Verified: the code came to this address.
            let contact = Contact::primary_email(&user, email.as_str(), Some(at));
            let mut tx = self.write().await?;
            match tx.insert_user(&user).await {
                Ok(()) => {}
                // Taken between the check and the insert: another name.
                Err(StoreError::Unique { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
            tx.insert_contact(&contact).await.map_err(|e| match e {
                StoreError::Unique { .. } => Error::UserExists("A user with this email already exists".into()),
                e => e.into(),
            })?;
            if !tx.accept_invite(app.id, invite.id, user.id, at).await? {
                return Err(invalid_invite());
            }
            let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at, AMR_EMAIL_ONE_TIME).await?;
            let actor = user_actor(&app.slug, user.id);
            tx.record(
                app.id,
                Event::new("invite.accepted", actor.clone())
                    .subject("invite", invite.id)
                    .details(json!({"user_id": user.id})),
            );
            tx.record(
                app.id,
                Event::new("end_user.signed_up", actor).subject("end_user", user.id).session(session.id).details(
                    json!({
                        "username": user.username,
                        "role": role.name,
                        "email_verified": true,
                        "method": "invite",
                    }),
                ),
            );
            tx.commit().await?;
            return self.token_pair(&app, user.id, &role.name, None, session.id, refresh).await;
        }
        Err(Error::Conflict("Could not pick a free username; try again".into()))
    }

    /// The password as the app's policy takes it.
    fn acceptable_password(&self, app: &App, password: &SecretString) -> Result<SecretString> {
        let password = normalized_password(password)
            .ok_or_else(|| Error::WeakPassword(format!("Password must be at most {PASSWORD_MAX_LENGTH} characters")))?;
        PasswordPolicy::from(&app.config).check(password.expose_secret())?;
        Ok(password)
    }

    /// Issues a one-time token of `purpose` (lasting as the app says) for the user in this
    /// change, superseding the
    /// user's earlier ones; answers the token.
    async fn issue_link(
        tx: &mut Write<'_>,
        app: &App,
        purpose: TokenPurpose,
        user_id: Uuid,
        contact_id: Option<Uuid>,
        redirect_to: Option<String>,
    ) -> Result<String> {
        let lasts = link_lifetime(app, purpose);
        let token = random_token(LINK_PREFIX);
        let at = now();
        tx.insert_one_time_token(&OneTimeToken {
            digest: token_digest(&token),
            app_id: app.id,
            purpose,
            user_id,
            contact_id,
            redirect_to,
            created_at: at,
            expires_at: at + lasts,
        })
        .await?;
        Ok(token)
    }

    /// Queues the mail that verifies `contact` (in `tx`, so sign-up can send it with the user).
    pub(crate) async fn queue_verification(
        &self,
        tx: &mut Write<'_>,
        app: &App,
        user: &User,
        contact: &Contact,
    ) -> Result<()> {
        let lasts = TimeDelta::seconds(app.config.verify_email_link_ttl_seconds);
        let token = Self::issue_link(tx, app, TokenPurpose::VerifyEmail, user.id, Some(contact.id), None).await?;
        let rendered = render(
            MailKind::VerifyEmail,
            &Vars {
                app: app.display_name.clone(),
                name: Some(user.display_name.clone()),
                link: Some(self.link(&app.slug, "v1/auth/verify-email", "token", &token)),
                code: None,
                lasts: Some(lasts),
                notice: None,
                feature: None,
                language: None,
            },
            &app.config,
        );
        tx.mail(app, &contact.value, MailKind::VerifyEmail, rendered)?;
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.email_verification_sent"), user_actor(&app.slug, user.id))
                .subject(kind, user.id)
                .details(json!({"contact_id": contact.id})),
        );
        Ok(())
    }

    /// `POST auth/send-verification-email`: a new link for the caller's primary email.
    pub async fn send_verification_email(&self, me: &Principal) -> Result<()> {
        let app = &me.app;
        let user = self.store.user_by_id(app.id, me.user_id).await?.ok_or(Error::Unauthenticated("Unknown user"))?;
        let contacts = self.store.contacts_of(app.id, user.id).await?;
        let contact = contacts
            .iter()
            .find(|c| c.kind == ContactKind::Email && c.is_primary)
            .ok_or_else(|| Error::invalid("You have no email address to verify"))?;
        if contact.verified_at.is_some() {
            return Err(Error::Conflict("Your email address is already verified".into()));
        }
        self.limit(app, Rule::LinksPerDestination, &value_key("to", &contact.value.to_lowercase())).await?;
        let mut tx = self.write().await?;
        self.queue_verification(&mut tx, app, &user, contact).await?;
        tx.commit().await
    }

    /// Verifies the email an emailed link was sent to; from then on it signs in.
    pub async fn verify_email(&self, slug: &str, token: &str, meta: &RequestMeta) -> Result<LinkAnswer> {
        let app = self.app(slug).await.map_err(|_| invalid_link())?;
        self.limit_ip(&app, Rule::RedeemPerIp, meta).await?;
        let mut tx = self.write().await?;
        let link = tx
            .consume_one_time_token(app.id, TokenPurpose::VerifyEmail, &token_digest(token.trim()), now())
            .await?
            .ok_or_else(invalid_link)?;
        let contact_id = link.contact_id.ok_or_else(invalid_link)?;
        let contact = self
            .store
            .contacts_of(app.id, link.user_id)
            .await?
            .into_iter()
            .find(|c| c.id == contact_id)
            .ok_or_else(invalid_link)?;
        if contact.verified_at.is_none()
            && self.store.user_by_verified_contact(app.id, contact.kind, &contact.value.to_lowercase()).await?.is_some()
        {
            return Err(Error::Conflict("This email address is already verified by another user".into()));
        }
        let at = now();
        tx.verify_contact(app.id, contact.id, at).await.map_err(|e| match e {
            StoreError::Unique { .. } => {
                Error::Conflict("This email address is already verified by another user".into())
            }
            e => e.into(),
        })?;
        tx.changed(Change::User(link.user_id));
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.email_verified"), user_actor(&app.slug, link.user_id))
                .subject(kind, link.user_id)
                .details(json!({"contact_id": contact.id})),
        );
        tx.commit().await?;
        Ok(LinkAnswer { redirect_to: link.redirect_to })
    }

    /// The user an email names for reset and magic links: by a verified address, else by an
    /// unverified primary one that only one user has.
    async fn user_by_email(&self, app: &App, email: &Email, verified_only: bool) -> Result<Option<(User, Contact)>> {
        let contacts = self.store.email_contacts(app.id, &email.normalized()).await?;
        let contact = match contacts.iter().find(|c| c.verified_at.is_some()) {
            Some(c) => Some(c.clone()),
            None if verified_only => None,
            None => {
                let primaries: Vec<&Contact> = contacts.iter().filter(|c| c.is_primary).collect();
                (primaries.len() == 1).then(|| primaries[0].clone())
            }
        };
        let Some(contact) = contact else { return Ok(None) };
        let user = self.store.user_by_id(app.id, contact.user_id).await?;
        Ok(user.filter(|u| u.status == Status::Active).map(|u| (u, contact)))
    }

    /// `POST auth/forgot-password`: answers at once, the same for every address; the mail
    /// (if the address has a user) is prepared after the answer, so the time says nothing.
    pub async fn forgot_password(
        self: &Arc<Self>,
        slug: &str,
        email: &str,
        redirect_to: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<()> {
        let app = self.active_app(slug).await?;
        self.limit_ip(&app, Rule::LinksPerIp("forgot-ip"), meta).await?;
        self.send_link_after_answer(app, email, redirect_to, TokenPurpose::ResetPassword).await
    }

    /// `POST auth/magic-link`: answers at once, the same for every address; a user with this
    /// verified email gets a link that signs in once.
    pub async fn magic_link(
        self: &Arc<Self>,
        slug: &str,
        email: &str,
        redirect_to: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<()> {
        let app = self.active_app(slug).await?;
        if !app.config.magic_link_enabled || !app.config.signin_enabled {
            return Err(Error::Forbidden("Magic links are not enabled for this app".into()));
        }
        self.limit_ip(&app, Rule::LinksPerIp("magic-ip"), meta).await?;
        self.send_link_after_answer(app, email, redirect_to, TokenPurpose::MagicLink).await
    }

    /// Checks what the request says, then looks the address up and mails its link on a task
    /// of its own: whether the address has a user changes neither the answer nor its time.
    /// The address's count of mailed links is kept whether or not it has a user.
    async fn send_link_after_answer(
        self: &Arc<Self>,
        app: App,
        email: &str,
        redirect_to: Option<&str>,
        purpose: TokenPurpose,
    ) -> Result<()> {
        let redirect_to = allowed_redirect(&app, redirect_to)?;
        let Ok(email) = Email::parse(email) else {
            return Err(Error::InvalidEmail("email must be an email address".into()));
        };
        self.limit(&app, Rule::LinksPerDestination, &value_key("to", &email.normalized())).await?;
        let engine = self.clone();
        let context = crate::audit::current_request();
        tokio::spawn(crate::audit::in_request(context, async move {
            if let Err(e) = engine.send_link(&app, &email, redirect_to, purpose).await {
                tracing::warn!(app = %app.slug, purpose = purpose.as_str(), error = %e, "link mail not queued");
            }
        }));
        Ok(())
    }

    /// Mails a reset link (to a verified address, or an unverified primary one only one user
    /// has) or a magic link (verified addresses only), if the address has an active user.
    async fn send_link(
        &self,
        app: &App,
        email: &Email,
        redirect_to: Option<String>,
        purpose: TokenPurpose,
    ) -> Result<()> {
        let (verified_only, kind, path, event) = match purpose {
            TokenPurpose::ResetPassword => {
                (false, MailKind::ResetPassword, "reset-password", "password_reset_requested")
            }
            TokenPurpose::MagicLink => (true, MailKind::MagicLink, "v1/auth/sign-in/token", "magic_link_sent"),
            TokenPurpose::VerifyEmail => {
                return Err(Error::internal(anyhow::anyhow!("verification links go to a contact")))
            }
        };
        let Some((user, contact)) = self.user_by_email(app, email, verified_only).await? else {
            return Ok(());
        };
        let mut tx = self.write().await?;
        let token = Self::issue_link(&mut tx, app, purpose, user.id, Some(contact.id), redirect_to).await?;
        let rendered = render(
            kind,
            &Vars {
                app: app.display_name.clone(),
                name: Some(user.display_name.clone()),
                link: Some(self.link(&app.slug, path, "token", &token)),
                code: None,
                lasts: Some(link_lifetime(app, purpose)),
                notice: None,
                feature: None,
                language: None,
            },
            &app.config,
        );
        tx.mail(app, &contact.value, kind, rendered)?;
        let user_type = user_kind(&app.slug);
        // Whoever asked is not known to be the user: the actor has no id.
        let actor = Actor { kind: user_actor(&app.slug, user.id).kind, id: None };
        tx.record(app.id, Event::new(format!("{user_type}.{event}"), actor).subject(user_type, user.id));
        tx.commit().await
    }

    /// `POST auth/reset-password`: a new password from a reset link. Every session and
    /// refresh token of the user is revoked, and the user is told by mail.
    pub async fn reset_password(
        &self,
        slug: &str,
        token: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<LinkAnswer> {
        let app = self.active_app(slug).await.map_err(|_| invalid_link())?;
        self.limit_ip(&app, Rule::RedeemPerIp, meta).await?;
        let digest = token_digest(token.trim());
        // The password is checked before the link is spent: a refused one can be retried.
        let password = self.acceptable_password(&app, &password)?;
        if self.store.one_time_token(app.id, &digest).await?.is_none_or(|t| t.purpose != TokenPurpose::ResetPassword) {
            return Err(invalid_link());
        }
        let hash = password::hash_for(app.id, password).await?;
        let at = now();
        let mut tx = self.write().await?;
        let link = tx
            .consume_one_time_token(app.id, TokenPurpose::ResetPassword, &digest, at)
            .await?
            .ok_or_else(invalid_link)?;
        let user = self.store.user_by_id(app.id, link.user_id).await?.ok_or_else(invalid_link)?;
        tx.set_password_hash(app.id, user.id, &hash, at).await?;
        let revoked = tx.revoke_user_sessions(app.id, user.id, at).await?;
        tx.changed(Change::User(user.id));
        let to = match link.contact_id {
            Some(id) => self.store.contacts_of(app.id, user.id).await?.into_iter().find(|c| c.id == id),
            None => None,
        };
        if let Some(contact) = to {
            let rendered = render(
                MailKind::PasswordChanged,
                &Vars { app: app.display_name.clone(), name: Some(user.display_name.clone()), ..Vars::default() },
                &app.config,
            );
            tx.mail(&app, &contact.value, MailKind::PasswordChanged, rendered)?;
        }
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.password_reset_completed"), user_actor(&app.slug, user.id))
                .subject(kind, user.id)
                .details(json!({"sessions_revoked": revoked})),
        );
        tx.commit().await?;
        // The owner proved the address: a lockout of password sign-in ends.
        self.clear_lockout(&app, user.id).await?;
        Ok(LinkAnswer { redirect_to: link.redirect_to })
    }

    /// Signs in with a one-time token from a magic link: once.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn sign_in_with_token(
        &self,
        slug: &str,
        token: &str,
        meta: &RequestMeta,
    ) -> Result<(TokenPair, LinkAnswer)> {
        let app = self.active_app(slug).await.map_err(|_| invalid_link())?;
        if !app.config.signin_enabled {
            return Err(invalid_link());
        }
        self.limit_ip(&app, Rule::RedeemPerIp, meta).await?;
        let at = now();
        let mut tx = self.write().await?;
        let link = tx
            .consume_one_time_token(app.id, TokenPurpose::MagicLink, &token_digest(token.trim()), at)
            .await?
            .ok_or_else(invalid_link)?;
        let user = self
            .store
            .user_by_id(app.id, link.user_id)
            .await?
            .filter(|u| u.status == Status::Active)
            .ok_or_else(invalid_link)?;
        let role = self.role_name(&app, user.role_id).await?;
        let new_device = self.is_new_device(app.id, user.id, meta).await?;
        let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at, AMR_EMAIL_ONE_TIME).await?;
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.signed_in"), user_actor(&app.slug, user.id))
                .subject(kind, user.id)
                .session(session.id)
                .details(json!({"method": "magic_link", "new_device": new_device})),
        );
        tx.commit().await?;
        self.clear_lockout(&app, user.id).await?;
        let pair = self.token_pair(&app, user.id, &role, None, session.id, refresh).await?;
        Ok((pair, LinkAnswer { redirect_to: link.redirect_to }))
    }

    /// Whether a link's token is live, for the page a GET of the link shows (which spends
    /// nothing): `None` when it is unknown, used, expired or of another purpose.
    pub async fn peek_link(&self, slug: &str, purpose: TokenPurpose, token: &str) -> Result<Option<DateTime<Utc>>> {
        let Ok(app) = self.app(slug).await else { return Ok(None) };
        let link = self.store.one_time_token(app.id, &token_digest(token.trim())).await?;
        Ok(link.filter(|l| l.purpose == purpose && l.expires_at > now()).map(|l| l.expires_at))
    }

    /// Whether an invite code is pending, and for which email, for the accept page.
    pub async fn peek_invite(&self, slug: &str, code: &str) -> Result<Option<String>> {
        let Ok(app) = self.app(slug).await else { return Ok(None) };
        let invite = self.store.invite_by_code(app.id, &token_digest(code.trim())).await?;
        Ok(invite.filter(|i| i.state(now()) == "pending").map(|i| i.email))
    }

    /// `GET auth/methods`: how the app's users may sign in.
    pub async fn methods(&self, slug: &str) -> Result<Methods> {
        let app = self.active_app(slug).await?;
        let c = &app.config;
        Ok(Methods {
            password: c.signin_enabled,
            magic_link: c.signin_enabled && c.magic_link_enabled,
            signup: c.signup_enabled,
            check_email: c.check_email_enabled,
        })
    }

    /// `POST auth/check-email` (apps that turn it on): whether a verified email has a user,
    /// and how that user may sign in.
    pub async fn check_email(&self, slug: &str, email: &str, meta: &RequestMeta) -> Result<(bool, Vec<&'static str>)> {
        let app = self.active_app(slug).await?;
        if !app.config.check_email_enabled {
            return Err(Error::Forbidden("check-email is not enabled for this app".into()));
        }
        self.limit_ip(&app, Rule::LinksPerIp("check-email-ip"), meta).await?;
        let email = Email::parse(email)?;
        let user = self.store.user_by_verified_contact(app.id, ContactKind::Email, &email.normalized()).await?;
        let Some(user) = user.filter(|u| u.status == Status::Active) else {
            return Ok((false, Vec::new()));
        };
        let mut methods = Vec::new();
        if app.config.signin_enabled && user.password_hash.is_some() {
            methods.push("password");
        }
        if app.config.signin_enabled && app.config.magic_link_enabled {
            methods.push("magic_link");
        }
        Ok((true, methods))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(allowed: &[&str]) -> App {
        let config = crate::model::AuthConfig {
            allowed_redirect_urls: allowed.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        App {
            id: Uuid::new_v4(),
            slug: "acme".into(),
            display_name: "Acme".into(),
            status: Status::Active,
            metadata: serde_json::Value::Null,
            config,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn redirects_are_exact_or_relative() {
        let a = app(&["https://app.example.com/welcome"]);
        assert_eq!(allowed_redirect(&a, None).unwrap(), None);
        assert_eq!(allowed_redirect(&a, Some("")).unwrap(), None);
        assert_eq!(
            allowed_redirect(&a, Some("https://app.example.com/welcome")).unwrap().as_deref(),
            Some("https://app.example.com/welcome")
        );
        assert_eq!(allowed_redirect(&a, Some("/dashboard?x=1")).unwrap().as_deref(), Some("/dashboard?x=1"));
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "https://evil.example",
            "https://app.example.com/welcome/../x",
            "https://app.example.com/welcome?next=1",
            "https://app.example.com.evil.example/welcome",
            "data:text/html,hi",
            "/ok\r\nSet-Cookie: x",
            "evil.example/path",
            "/x?u=https://evil.example",
            "/x#frag",
        ] {
            let answer = allowed_redirect(&a, Some(evil));
            if evil == "/x?u=https://evil.example" {
                // A path whose query names another site is still a path here.
                assert!(answer.is_err(), "{evil}: a :// anywhere is refused");
            } else {
                assert!(answer.is_err(), "{evil} was allowed");
            }
        }
    }

    #[test]
    fn usernames_from_emails() {
        assert_eq!(username_from("new.user@example.com", 0), "new.user");
        assert_eq!(username_from("a@example.com", 0), "usera");
        assert_eq!(username_from("_x_@example.com", 0), "userx");
        assert_eq!(username_from("éé@example.com", 0), "user");
        assert!(Username::parse(&username_from("..-..@example.com", 0)).is_ok());
        let taken = username_from("bob@example.com", 1);
        assert!(taken.starts_with("bob-") && Username::parse(&taken).is_ok(), "{taken}");
        assert!(Username::parse(&username_from(&format!("{}@x.io", "a".repeat(64)), 3)).is_ok());
    }
}
