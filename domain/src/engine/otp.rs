//! Passwordless sign-in by a one-time code (seed 002, "02 — OTP Authentication"): a backend
//! holding the app's credentials asks for a code to be sent to an email or a phone, then
//! exchanges the code its user typed for a token pair. The app's hosted OTP page does the
//! same without the credentials (`*_from_page`), through the same code path and limits.
//! The first verified sign-in of an unknown contact creates the user when the app allows
//! sign-up; the contact is then verified.
//!
//! A code is 6 digits from the OS's CSPRNG, kept only as an HMAC bound to its request (and
//! so to the app and the destination), works once, for `otp_ttl_seconds`, and allows
//! [`MAX_ATTEMPTS`] guesses per request: each guess is counted by one atomic statement
//! *before* it is compared, so parallel guesses never get past the limit and the right code
//! among them fails once the tries are spent. A resend puts a new code into the live request
//! for the same destination and keeps its count.

use chrono::TimeDelta;
use secrecy::ExposeSecret;
use serde::Serialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::audit::{user_actor, user_kind};
use super::cache::Change;
use super::contacts::parse_phone;
use super::contacts::ContactView;
use super::credentials::AppCredentials;
use super::issuer::{AMR_EMAIL_ONE_TIME, AMR_SMS_ONE_TIME};
use super::limits::Rule;
use super::write::Write;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::{Actor, ActorKind, Event};
use crate::limits::value_key;
use crate::mail::render::{otp_sms, render, MailKind, Vars};
use crate::model::{App, Contact, ContactKind, OtpChannel, OtpPurpose, OtpRequest, Status, User};
use crate::store::StoreError;
use crate::tokens::TokenPair;
use crate::types::{Email, Username};
use crate::{Error, Result};

/// Guesses a request allows, right or wrong.
pub const MAX_ATTEMPTS: i32 = 5;

/// `send-otp`'s answer (seed 002).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OtpSent {
    pub otp_request_id: Uuid,
    pub expires_in: i64,
}

/// Where the code goes.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    Email(&'a str),
    Phone(&'a str),
}

fn expired() -> Error {
    Error::InvalidOtp("This code has expired or was used up; ask for a new one".into())
}

fn wrong_code(left: i32) -> Error {
    Error::InvalidOtp(match left {
        0 => "Wrong code, and no tries are left; ask for a new one".into(),
        1 => "Wrong code; 1 try left".into(),
        n => format!("Wrong code; {n} tries left"),
    })
}

/// Six digits, uniformly from the OS's CSPRNG.
fn new_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

impl Engine {
    /// The app whose credentials the backend presents, if it allows OTP sign-in.
    async fn backend_of(&self, slug: &str, credentials: &AppCredentials) -> Result<App> {
        let app = self.active_app(slug).await.map_err(|e| match e {
            Error::NotFound(_) => Error::InvalidAppCredentials,
            e => e,
        })?;
        self.check_app_credentials(&app, &credentials.app_id, credentials.app_secret.expose_secret()).await?;
        if !app.config.otp_enabled {
            return Err(Error::Forbidden("OTP sign-in is disabled for this app".into()));
        }
        Ok(app)
    }

    /// The code's digest: an HMAC under a key of this server, bound to its request.
    fn otp_digest(&self, request: Uuid, code: &str) -> String {
        let mut message = request.as_bytes().to_vec();
        message.extend_from_slice(code.as_bytes());
        crate::crypto::b64url(aws_lc_rs::hmac::sign(&self.otp_key, &message).as_ref())
    }

    /// `POST auth/send-otp`: sends a code to the email or phone, and answers the request it
    /// belongs to. The answer is the same whether or not anyone holds that contact.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn send_otp(
        &self,
        slug: &str,
        credentials: &AppCredentials,
        to: Destination<'_>,
        meta: &RequestMeta,
    ) -> Result<OtpSent> {
        let app = self.backend_of(slug, credentials).await?;
        self.send_sign_in_code(&app, to, meta).await
    }

    /// The hosted OTP page's `send-otp`: no app credentials (the end-user's browser asks, on
    /// the app's own page), every other check and limit as for a backend.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn send_otp_from_page(&self, slug: &str, to: Destination<'_>, meta: &RequestMeta) -> Result<OtpSent> {
        let app = self.page_app(slug).await?;
        self.send_sign_in_code(&app, to, meta).await
    }

    /// The app, if its hosted pages may offer OTP sign-in.
    async fn page_app(&self, slug: &str) -> Result<App> {
        let app = self.active_app(slug).await?;
        if !app.config.otp_enabled {
            return Err(Error::Forbidden("OTP sign-in is disabled for this app".into()));
        }
        Ok(app)
    }

    async fn send_sign_in_code(&self, app: &App, to: Destination<'_>, meta: &RequestMeta) -> Result<OtpSent> {
        let (channel, destination) = match to {
            Destination::Email(raw) => (OtpChannel::Email, Email::parse(raw)?.normalized()),
            Destination::Phone(raw) => (OtpChannel::Sms, parse_phone(raw)?),
        };
        self.limit_ip(app, Rule::OtpPerIp, meta).await?;
        self.limit(app, Rule::OtpPerDestination, &value_key("to", &destination)).await?;

        let ttl = app.config.otp_ttl_seconds;
        let mut tx = self.write().await?;
        let (id, resent) = self.issue_code(&mut tx, app, OtpPurpose::SignIn, None, channel, &destination).await?;
        tx.record(
            app.id,
            Event::new("otp.sent", Actor { kind: ActorKind::System, id: None })
                .subject("otp_request", id)
                .details(serde_json::json!({"channel": channel.as_str(), "resend": resent})),
        );
        tx.commit().await?;
        Ok(OtpSent { otp_request_id: id, expires_in: ttl })
    }

    /// A new code of `purpose` to `destination`, sent with this change: into the live
    /// request for it (a resend, its tries kept) or a new one. Answers the request and
    /// whether it was a resend.
    async fn issue_code(
        &self,
        tx: &mut Write<'_>,
        app: &App,
        purpose: OtpPurpose,
        contact: Option<Uuid>,
        channel: OtpChannel,
        destination: &str,
    ) -> Result<(Uuid, bool)> {
        let ttl = TimeDelta::seconds(app.config.otp_ttl_seconds);
        let at = now();
        let code = new_code();
        let live = tx.live_otp(app.id, purpose, contact, destination, at, MAX_ATTEMPTS).await?;
        let resent = match live {
            Some(live) if tx.resend_otp(app.id, live.id, &self.otp_digest(live.id, &code), at + ttl, at).await? => {
                Some(live.id)
            }
            _ => None,
        };
        let id = match resent {
            Some(id) => id,
            None => {
                let id = Uuid::now_v7();
                tx.insert_otp(&OtpRequest {
                    id,
                    app_id: app.id,
                    purpose,
                    contact_id: contact,
                    channel,
                    destination: destination.to_owned(),
                    code_digest: self.otp_digest(id, &code),
                    attempts: 0,
                    sends: 1,
                    created_at: at,
                    expires_at: at + ttl,
                    consumed_at: None,
                })
                .await?;
                id
            }
        };
        match channel {
            OtpChannel::Email => {
                let vars =
                    Vars { app: app.display_name.clone(), code: Some(code), lasts: Some(ttl), ..Vars::default() };
                let rendered = render(MailKind::Otp, &vars, &app.config);
                tx.mail(app, destination, MailKind::Otp, rendered)?;
            }
            OtpChannel::Sms => {
                let host = url::Url::parse(&self.config.public_url).ok().and_then(|u| u.host_str().map(str::to_owned));
                let name = crate::mail::render::branded_name(&app.display_name, &app.config.branding);
                let text = otp_sms(name, &code, ttl, host.as_deref());
                tx.sms(app, destination, MailKind::Otp, text)?;
            }
        }
        Ok((id, resent.is_some()))
    }

    /// Whether `code` is the request's, in constant time; malformed codes are wrong.
    fn code_matches(&self, request: &OtpRequest, code: &str) -> bool {
        let code = code.trim();
        code.len() == 6
            && code.bytes().all(|b| b.is_ascii_digit())
            && bool::from(self.otp_digest(request.id, code).as_bytes().ct_eq(request.code_digest.as_bytes()))
    }

    /// `POST me/contacts/{id}/verification`: sends a code to one of the caller's unverified
    /// contacts (a text message to a phone, mail to an address), to prove they hold it.
    pub async fn send_contact_code(&self, me: &Principal, id: &str) -> Result<OtpSent> {
        let app = &me.app;
        let contact = self.my_unverified_contact(me, id).await?;
        let channel = match contact.kind {
            ContactKind::Email => OtpChannel::Email,
            ContactKind::Phone => OtpChannel::Sms,
        };
        let destination = contact.value.to_lowercase();
        let meta = RequestMeta::current();
        self.limit_ip(app, Rule::OtpPerIp, &meta).await?;
        self.limit(app, Rule::OtpPerDestination, &value_key("to", &destination)).await?;
        let mut tx = self.write().await?;
        let (request, resent) =
            self.issue_code(&mut tx, app, OtpPurpose::Contact, Some(contact.id), channel, &destination).await?;
        tx.record(
            app.id,
            Event::new("otp.sent", user_actor(&app.slug, me.user_id))
                .subject("otp_request", request)
                .details(serde_json::json!({"channel": channel.as_str(), "resend": resent, "contact_id": contact.id})),
        );
        tx.commit().await?;
        Ok(OtpSent { otp_request_id: request, expires_in: app.config.otp_ttl_seconds })
    }

    /// `POST me/contacts/{id}/verify` `{code}`: the code sent to the contact verifies it.
    /// Five tries, as for sign-in codes.
    pub async fn verify_contact_code(&self, me: &Principal, id: &str, code: &str) -> Result<ContactView> {
        let app = &me.app;
        let contact = self.my_unverified_contact(me, id).await?;
        let meta = RequestMeta::current();
        self.limit_ip(app, Rule::RedeemPerIp, &meta).await?;
        let at = now();
        let destination = contact.value.to_lowercase();
        let live = {
            let mut tx = self.write().await?;
            tx.live_otp(app.id, OtpPurpose::Contact, Some(contact.id), &destination, at, MAX_ATTEMPTS).await?
        };
        let live = live.ok_or_else(expired)?;
        let request =
            self.store.try_otp(app.id, live.id, OtpPurpose::Contact, at, MAX_ATTEMPTS).await?.ok_or_else(expired)?;
        if !self.code_matches(&request, code) {
            return Err(wrong_code(MAX_ATTEMPTS - request.attempts));
        }
        let mut tx = self.write().await?;
        if !tx.consume_otp(app.id, request.id, at).await? {
            return Err(expired());
        }
        let taken = || Error::Conflict("This contact is already verified by another user".into());
        if self.store.user_by_verified_contact(app.id, contact.kind, &destination).await?.is_some() {
            return Err(taken());
        }
        tx.verify_contact(app.id, contact.id, at).await.map_err(|e| match e {
            StoreError::Unique { .. } => taken(),
            e => e.into(),
        })?;
        tx.changed(Change::User(me.user_id));
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.contact_verified"), user_actor(&app.slug, me.user_id))
                .subject(kind, me.user_id)
                .details(
                    serde_json::json!({"contact_id": contact.id, "kind": contact.kind.as_str(), "method": "code"}),
                ),
        );
        tx.commit().await?;
        let mut view = ContactView::from(&contact);
        view.verified = true;
        view.verified_at = Some(at);
        Ok(view)
    }

    /// One of the caller's contacts, not verified yet.
    async fn my_unverified_contact(&self, me: &Principal, id: &str) -> Result<Contact> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Contact"))?;
        let contact = self
            .store
            .contacts_of(me.app.id, me.user_id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(Error::NotFound("Contact"))?;
        if contact.verified_at.is_some() {
            return Err(Error::Conflict("This contact is already verified".into()));
        }
        Ok(contact)
    }

    /// `POST auth/verify-otp`: the code of a request → a token pair for the contact's user
    /// (created on its first sign-in when the app allows sign-up).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn verify_otp(
        &self,
        slug: &str,
        credentials: &AppCredentials,
        request_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<TokenPair> {
        let app = self.backend_of(slug, credentials).await?;
        self.redeem_sign_in_code(app, request_id, code, meta).await
    }

    /// The hosted OTP page's `verify-otp`: no app credentials, the same tries, limits and
    /// sign-in as for a backend.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn verify_otp_from_page(
        &self,
        slug: &str,
        request_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<TokenPair> {
        let app = self.page_app(slug).await?;
        self.redeem_sign_in_code(app, request_id, code, meta).await
    }

    async fn redeem_sign_in_code(
        &self,
        app: App,
        request_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<TokenPair> {
        self.limit_ip(&app, Rule::RedeemPerIp, meta).await?;
        let id = Uuid::parse_str(request_id.trim()).map_err(|_| expired())?;
        let at = now();
        // The try is spent before the code is looked at.
        let request =
            self.store.try_otp(app.id, id, OtpPurpose::SignIn, at, MAX_ATTEMPTS).await?.ok_or_else(expired)?;
        if !self.code_matches(&request, code) {
            let left = MAX_ATTEMPTS - request.attempts;
            let kind = user_kind(&app.slug);
            let mut tx = self.write().await?;
            tx.record(
                app.id,
                Event::new(
                    format!("{kind}.signin_failed"),
                    Actor { kind: if kind == "account" { ActorKind::Account } else { ActorKind::EndUser }, id: None },
                )
                .failed()
                .subject("otp_request", request.id)
                .details(serde_json::json!({"method": "otp", "reason": "wrong_code", "tries_left": left})),
            );
            tx.commit().await?;
            return Err(wrong_code(left));
        }
        let kind = match request.channel {
            OtpChannel::Email => ContactKind::Email,
            OtpChannel::Sms => ContactKind::Phone,
        };
        let existing = self.store.user_by_verified_contact(app.id, kind, &request.destination).await?;
        if let Some(user) = &existing {
            if user.status != Status::Active {
                return Err(Error::InvalidCredentials);
            }
        } else if !app.config.signup_enabled {
            return Err(Error::SignupDisabled);
        }
        for attempt in 0..5 {
            let mut tx = self.write().await?;
            if !tx.consume_otp(app.id, request.id, at).await? {
                return Err(expired());
            }
            let (user, role, created) = match &existing {
                Some(user) => (user.clone(), self.role_name(&app, user.role_id).await?, false),
                None => {
                    let role =
                        self.store.role_by_name(app.id, &app.config.signup_default_role).await?.ok_or_else(|| {
                            Error::internal(anyhow::anyhow!("signup_default_role is missing in app {}", app.slug))
                        })?;
                    let user = new_user(&app, role.id, &request, attempt)?;
                    let contact = match request.channel {
                        OtpChannel::Email => Contact::primary_email(&user, &request.destination, Some(at)),
                        OtpChannel::Sms => Contact {
                            id: Uuid::new_v4(),
                            app_id: app.id,
                            user_id: user.id,
                            kind: ContactKind::Phone,
                            value: request.destination.clone(),
                            is_primary: false,
                            verified_at: Some(at),
                            created_at: at,
                        },
                    };
                    match tx.insert_user(&user).await {
                        Ok(()) => {}
                        // The username was taken meanwhile: another one.
                        Err(StoreError::Unique { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                    tx.insert_contact(&contact).await.map_err(|e| match e {
                        // Another sign-in verified this contact for a new user first.
                        StoreError::Unique { .. } => {
                            Error::Conflict("This contact was just claimed; sign in again".into())
                        }
                        e => e.into(),
                    })?;
                    (user, role.name, true)
                }
            };
            let new_device = !created && self.is_new_device(app.id, user.id, meta).await?;
            let amr = match request.channel {
                OtpChannel::Email => AMR_EMAIL_ONE_TIME,
                OtpChannel::Sms => AMR_SMS_ONE_TIME,
            };
            let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at, amr).await?;
            let user_kind = user_kind(&app.slug);
            if created {
                tx.record(
                    app.id,
                    Event::new(format!("{user_kind}.signed_up"), user_actor(&app.slug, user.id))
                        .subject(user_kind, user.id)
                        .session(session.id)
                        .details(serde_json::json!({
                            "username": user.username,
                            "role": role,
                            "method": "otp",
                            "channel": request.channel.as_str(),
                        })),
                );
            }
            tx.record(
                app.id,
                Event::new(format!("{user_kind}.signed_in"), user_actor(&app.slug, user.id))
                    .subject(user_kind, user.id)
                    .session(session.id)
                    .details(serde_json::json!({
                        "method": "otp",
                        "channel": request.channel.as_str(),
                        "new_device": new_device,
                    })),
            );
            tx.commit().await?;
            // Proof of the contact: a locked password sign-in starts again.
            self.clear_lockout(&app, user.id).await?;
            return self.token_pair(&app, user.id, &role, None, session.id, refresh).await;
        }
        Err(Error::Conflict("Could not pick a free username; try again".into()))
    }
}

/// A user made by its first code: a username from the email (or `user-…` for a phone), no
/// password.
fn new_user(app: &App, role_id: Uuid, request: &OtpRequest, attempt: u32) -> Result<User> {
    use rand::Rng;
    let at = now();
    let (base, display) = match request.channel {
        OtpChannel::Email => {
            let local = request.destination.split('@').next().unwrap_or_default();
            let base: String =
                local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(30).collect();
            let base = base.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned();
            let base = if base.len() < 3 { format!("user{base}") } else { base };
            (base, local.to_owned())
        }
        OtpChannel::Sms => ("user".to_owned(), request.destination.clone()),
    };
    let username = match (request.channel, attempt) {
        (OtpChannel::Email, 0) => base,
        _ => format!("{base}-{:06}", rand::thread_rng().gen_range(0..1_000_000)),
    };
    let username = Username::parse(&username)?;
    let display_name: String = display.chars().filter(|c| !c.is_control()).take(100).collect();
    Ok(User {
        id: Uuid::new_v4(),
        app_id: app.id,
        username: username.as_str().to_owned(),
        display_name: if display_name.trim().is_empty() { username.as_str().to_owned() } else { display_name },
        password_hash: None,
        role_id,
        status: Status::Active,
        created_at: at,
        updated_at: at,
    })
}
