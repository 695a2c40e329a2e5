//! The mail queue. A flow queues its message in the transaction of its change
//! (`Write::mail`), so a message goes out if and only if the change happened; the worker
//! sends it after the commit, retrying with backoff while the SMTP server is away, so no
//! request waits for SMTP or fails because of it. Bodies are sealed with the master key (they
//! carry one-time links) and erased once SMTP has taken them; without SMTP a message stays
//! in the dev outbox, which the console shows and the log prints.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

use super::caller::Caller;
use super::write::Write;
use super::{now, Engine};
use crate::crypto::MasterKey;
use crate::mail::render::{MailKind, Rendered};
use crate::mail::transport::{Outgoing, SendError};
use crate::mail::MailSettings;
use crate::model::{App, Mail, MailStatus, OtpChannel};
use crate::store::Store;
use crate::{Error, Result};

/// Messages a worker claims at once, and for how long.
const CLAIM: u32 = 20;
const CLAIM_FOR: TimeDelta = TimeDelta::seconds(60);
/// The worker looks for due messages at least this often (other nodes queue them too).
const POLL: Duration = Duration::from_secs(5);
/// Backoff after failed attempts: 5 s, 10 s, 20 s, … at most an hour; then failed for good.
const FIRST_RETRY_SECONDS: i64 = 5;
const LONGEST_RETRY_SECONDS: i64 = 3600;
const MAX_ATTEMPTS: i32 = 12;

/// What a sealed body holds.
#[derive(Serialize, Deserialize)]
struct Body {
    text: String,
    html: String,
}

fn context(id: Uuid) -> Vec<u8> {
    let mut context = b"mail body ".to_vec();
    context.extend_from_slice(id.as_bytes());
    context
}

/// The delay before attempt `attempts + 1`.
fn backoff(attempts: i32) -> TimeDelta {
    let exponent = attempts.clamp(0, 20) as u32;
    TimeDelta::seconds((FIRST_RETRY_SECONDS << exponent).min(LONGEST_RETRY_SECONDS))
}

/// `Name <address>`, the name stripped of what would break the header.
fn sender(name: &str, address: &str) -> String {
    let name: String = name.chars().filter(|c| !matches!(c, '<' | '>' | '"') && !c.is_control()).collect();
    match name.trim() {
        "" => address.to_owned(),
        name => format!("{name} <{address}>"),
    }
}

/// Sends the queue: one per node.
pub(crate) struct Mailer {
    store: Arc<dyn Store>,
    settings: MailSettings,
    key: MasterKey,
    wake: Notify,
}

impl Mailer {
    pub(crate) fn new(store: Arc<dyn Store>, settings: MailSettings, key: MasterKey) -> Mailer {
        Mailer { store, settings, key, wake: Notify::new() }
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends due messages until stopped; a failure of the store is logged and retried.
    pub(crate) async fn run(self: Arc<Self>) {
        loop {
            let sent = match self.pass().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "mail queue pass failed");
                    0
                }
            };
            if sent == CLAIM as usize {
                continue;
            }
            let wait = match self.store.next_mail_due().await {
                Ok(Some(due)) => (due - now()).to_std().unwrap_or(Duration::ZERO).min(POLL),
                _ => POLL,
            };
            if wait > Duration::ZERO {
                let _ = tokio::time::timeout(wait, self.wake.notified()).await;
            }
        }
    }

    /// Claims the due messages and delivers each; answers how many it claimed.
    pub(crate) async fn pass(&self) -> Result<usize> {
        let at = now();
        let mut tx = self.store.begin().await?;
        let claimed = tx.claim_mail(at, at + CLAIM_FOR, CLAIM).await?;
        tx.commit().await?;
        let n = claimed.len();
        for mail in claimed {
            let id = mail.id;
            if let Err(e) = self.deliver(mail).await {
                tracing::warn!(mail = %id, error = %e, "mail delivery not recorded; retried when its claim lapses");
            }
        }
        Ok(n)
    }

    async fn deliver(&self, mail: Mail) -> Result<()> {
        let body = match mail.body.as_deref().map(|sealed| self.key.open(sealed, &context(mail.id))) {
            Some(Ok(plain)) => serde_json::from_slice::<Body>(&plain).map_err(Error::internal)?,
            Some(Err(_)) | None => {
                return self.finish(mail.id, MailStatus::Failed, Some("the body cannot be read")).await;
            }
        };
        let result = match mail.channel {
            OtpChannel::Sms => {
                let Some(sms) = &self.settings.sms else {
                    tracing::info!(
                        app = %mail.app_id,
                        to = %mail.to,
                        "dev outbox (RAMPART_SMS_URL is not set): the text message is kept for the console\n{}",
                        body.text
                    );
                    return self.finish(mail.id, MailStatus::Outbox, None).await;
                };
                sms.send(&mail.sender, &mail.to, &body.text).await
            }
            OtpChannel::Email => {
                let Some(transport) = &self.settings.transport else {
                    tracing::info!(
                        app = %mail.app_id,
                        to = %mail.to,
                        subject = %mail.subject,
                        "dev outbox (RAMPART_SMTP_URL is not set): the message is kept for the console\n{}",
                        body.text
                    );
                    return self.finish(mail.id, MailStatus::Outbox, None).await;
                };
                let (from_name, from_address) = crate::mail::parse_from(&mail.sender)
                    .unwrap_or_else(|| (self.settings.from_name.clone(), self.settings.from_address.clone()));
                let outgoing = Outgoing {
                    from_name: Some(from_name).filter(|n| !n.is_empty()),
                    from_address,
                    to: mail.to.clone(),
                    subject: mail.subject.clone(),
                    text: body.text,
                    html: Some(body.html),
                    message_id: mail.id.to_string(),
                };
                transport.send(&outgoing).await
            }
        };
        match result {
            Ok(()) => {
                tracing::info!(mail = %mail.id, kind = %mail.kind, "mail sent");
                crate::telemetry::message_delivery("sent");
                self.finish(mail.id, MailStatus::Sent, None).await
            }
            Err(SendError::Permanent(why)) => {
                tracing::warn!(mail = %mail.id, kind = %mail.kind, error = %why, "mail refused for good");
                crate::telemetry::message_delivery("failed");
                self.finish(mail.id, MailStatus::Failed, Some(&why)).await
            }
            Err(SendError::Transient(why)) if mail.attempts + 1 >= MAX_ATTEMPTS => {
                tracing::warn!(mail = %mail.id, kind = %mail.kind, error = %why, "mail given up after its last attempt");
                crate::telemetry::message_delivery("failed");
                self.finish(mail.id, MailStatus::Failed, Some(&format!("gave up after {MAX_ATTEMPTS} attempts: {why}")))
                    .await
            }
            Err(SendError::Transient(why)) => {
                let next = now() + backoff(mail.attempts);
                tracing::info!(mail = %mail.id, kind = %mail.kind, error = %why, retry_at = %next, "mail not sent yet");
                crate::telemetry::message_delivery("retried");
                let mut tx = self.store.begin().await?;
                tx.retry_mail(mail.id, next, &why).await?;
                Ok(tx.commit().await?)
            }
        }
    }

    async fn finish(&self, id: Uuid, status: MailStatus, error: Option<&str>) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.finish_mail(id, status, now(), error).await?;
        Ok(tx.commit().await?)
    }
}

impl Write<'_> {
    /// Queues `rendered` to `to` from `app`'s sender, sent once this change commits.
    pub fn mail(&mut self, app: &App, to: &str, kind: MailKind, rendered: Rendered) -> Result<()> {
        let engine = self.engine();
        let settings = &engine.config.mail;
        let name = match app.config.mail_from_name.as_str() {
            "" => crate::mail::render::branded_name(&app.display_name, &app.config.branding),
            name => name,
        };
        let address = match app.config.mail_from_address.as_str() {
            "" => settings.from_address.as_str(),
            address => address,
        };
        let body = Body { text: rendered.text, html: rendered.html };
        self.queue_message(app, OtpChannel::Email, kind, sender(name, address), to, rendered.subject, body)
    }
}

impl Write<'_> {
    /// Queues a text message to `to` (E.164), sent once this change commits.
    pub fn sms(&mut self, app: &App, to: &str, kind: MailKind, text: String) -> Result<()> {
        let sender = self.engine().config.mail.sms_from.clone();
        self.queue_message(app, OtpChannel::Sms, kind, sender, to, String::new(), Body { text, html: String::new() })
    }

    /// Queues one message, its body sealed, sent once this change commits.
    #[allow(clippy::too_many_arguments)]
    fn queue_message(
        &mut self,
        app: &App,
        channel: OtpChannel,
        kind: MailKind,
        sender: String,
        to: &str,
        subject: String,
        body: Body,
    ) -> Result<()> {
        let mail = message(&self.engine().config.master_key, app, channel, kind, sender, to, subject, body)?;
        self.queue_mail(mail);
        Ok(())
    }
}

/// One queued message of `app`, its body sealed.
#[allow(clippy::too_many_arguments)]
fn message(
    key: &MasterKey,
    app: &App,
    channel: OtpChannel,
    kind: MailKind,
    sender: String,
    to: &str,
    subject: String,
    body: Body,
) -> Result<Mail> {
    let id = Uuid::now_v7();
    let body = serde_json::to_vec(&body).map_err(Error::internal)?;
    let sealed = key.seal(&body, &context(id))?;
    let at = now();
    Ok(Mail {
        id,
        app_id: app.id,
        kind: kind.as_str().to_owned(),
        sender,
        to: to.to_owned(),
        subject,
        body: Some(sealed),
        channel,
        status: MailStatus::Queued,
        attempts: 0,
        next_attempt_at: at,
        last_error: None,
        created_at: at,
        sent_at: None,
    })
}

impl Mailer {
    /// Queues Rampart's own message (the `platform` app's, in its wording) to an account, in
    /// `tx`: for work that runs outside a request's `Write` (the webhook dispatcher).
    pub(crate) async fn queue_platform(
        &self,
        tx: &mut dyn crate::store::Tx,
        to: &str,
        rendered: Rendered,
    ) -> Result<()> {
        let Some(platform) = self.store.app_by_slug(crate::types::PLATFORM_SLUG).await? else {
            return Ok(());
        };
        let sender = sender(&self.settings.from_name, &self.settings.from_address);
        let body = Body { text: rendered.text, html: rendered.html };
        let mail = message(
            &self.key,
            &platform,
            OtpChannel::Email,
            MailKind::WebhookDisabled,
            sender,
            to,
            rendered.subject,
            body,
        )?;
        tx.insert_mail(&mail).await?;
        Ok(())
    }
}

/// The mail telling an app's owners that its webhook endpoint `url` was disabled.
pub(crate) fn webhook_disabled_message(app: &App, url: &str, link: &str) -> Rendered {
    let language = crate::i18n::Language::default();
    let notice = language.text_with(
        "mail-webhook-disabled-intro",
        &[("app", crate::i18n::Arg::from(app.display_name.as_str())), ("url", crate::i18n::Arg::from(url))],
    );
    crate::mail::render::render(
        MailKind::WebhookDisabled,
        &crate::mail::render::Vars {
            app: app.display_name.clone(),
            name: None,
            link: Some(link.to_owned()),
            code: None,
            lasts: None,
            notice: Some(notice),
            feature: None,
            language: Some(language),
        },
        &crate::model::AuthConfig::default(),
    )
}

pub use shared::mail::{MailPage, MailView};

const MAIL_PAGE: u32 = 50;

impl Engine {
    /// Wakes this node's mail worker (after a commit that queued mail).
    pub(crate) fn mail_queued(&self) {
        self.mailer.wake();
    }

    /// The app's mail, newest first, bodies included while kept: only for who may change the
    /// app's config (the dev outbox holds sign-in links).
    pub async fn mail_page(&self, caller: &Caller, slug: &str, cursor: Option<&str>) -> Result<MailPage> {
        let app = self.authorize(caller, slug, "config.update").await?.app;
        let before = match cursor {
            None | Some("") => None,
            Some(raw) => Some(parse_cursor(raw).ok_or_else(|| Error::invalid("cursor is not one this API gave"))?),
        };
        let mails = self.store.mail_page(app.id, before, MAIL_PAGE + 1).await?;
        let more = mails.len() > MAIL_PAGE as usize;
        let messages: Vec<MailView> = mails.into_iter().take(MAIL_PAGE as usize).map(|m| self.mail_view(m)).collect();
        let next_cursor =
            more.then(|| messages.last().map(|m| format!("{}.{}", m.created_at.timestamp_millis(), m.id))).flatten();
        Ok(MailPage { messages, next_cursor, dev_outbox: self.config.mail.transport.is_none() })
    }

    fn mail_view(&self, mail: Mail) -> MailView {
        let body = mail
            .body
            .as_deref()
            .and_then(|sealed| self.config.master_key.open(sealed, &context(mail.id)).ok())
            .and_then(|plain| serde_json::from_slice::<Body>(&plain).ok());
        let (text, html) = match body {
            Some(b) => (Some(b.text), Some(b.html).filter(|h| !h.is_empty())),
            None => (None, None),
        };
        MailView {
            id: mail.id,
            kind: mail.kind,
            channel: mail.channel.as_str().to_owned(),
            from: mail.sender,
            to: mail.to,
            subject: mail.subject,
            status: mail.status.as_str().to_owned(),
            attempts: mail.attempts,
            last_error: mail.last_error,
            created_at: mail.created_at,
            sent_at: mail.sent_at,
            text,
            html,
        }
    }
}

impl Engine {
    /// A message of `kind` as the app would send it now (or in `template`'s wording), with
    /// example values: the console's preview.
    pub async fn preview_mail(
        &self,
        caller: &Caller,
        slug: &str,
        kind: &str,
        template: Option<shared::config::MailTemplate>,
    ) -> Result<Rendered> {
        let app = self.authorize(caller, slug, "config.read").await?.app;
        let kind = MailKind::parse(kind).ok_or_else(|| Error::invalid(format!("kind: no message '{kind}'")))?;
        let link = |path: &str| format!("{}/{}/{path}", self.config.public_url, app.slug);
        let (link, code, lasts) = match kind {
            MailKind::Invite => (
                Some(link("accept-invite?code=inv_EXAMPLE")),
                Some("inv_EXAMPLE".to_owned()),
                Some(TimeDelta::hours(72)),
            ),
            MailKind::VerifyEmail => (
                Some(link("v1/auth/verify-email?token=EXAMPLE")),
                None,
                Some(TimeDelta::seconds(app.config.verify_email_link_ttl_seconds)),
            ),
            MailKind::ResetPassword => (
                Some(link("reset-password?token=EXAMPLE")),
                None,
                Some(TimeDelta::seconds(app.config.reset_password_link_ttl_seconds)),
            ),
            MailKind::MagicLink => (
                Some(link("v1/auth/sign-in/token?token=EXAMPLE")),
                None,
                Some(TimeDelta::seconds(app.config.magic_link_ttl_seconds)),
            ),
            MailKind::Otp => (None, Some("493027".to_owned()), Some(TimeDelta::seconds(app.config.otp_ttl_seconds))),
            MailKind::PasswordChanged | MailKind::ContactChanged | MailKind::WaitlistAdmitted => (None, None, None),
            // Not an app's message (`MailKind::parse` never gives it).
            MailKind::MemberInvite | MailKind::WebhookDisabled => {
                return Err(Error::invalid(format!("kind: no message '{}'", kind.as_str())))
            }
            MailKind::OrgInvite => (
                Some(link("accept-org-invite?code=oinv_EXAMPLE")),
                Some("oinv_EXAMPLE".to_owned()),
                Some(TimeDelta::seconds(app.config.organization_invite_ttl_seconds)),
            ),
        };
        let vars = crate::mail::render::Vars {
            app: app.display_name.clone(),
            name: Some("Ada Lovelace".into()),
            link,
            code,
            lasts,
            feature: (kind == MailKind::WaitlistAdmitted)
                .then(|| app.config.waitlists.first().cloned().unwrap_or_else(|| "beta".into())),
            notice: match kind {
                MailKind::ContactChanged => Some("ada@example.com was added to your account.".into()),
                MailKind::OrgInvite => Some("Analytical Engines".into()),
                _ => None,
            },
            language: None,
        };
        Ok(match template {
            Some(template) => {
                template.check(kind.as_str()).map_err(|e| Error::invalid(e.to_string()))?;
                crate::mail::render::render_template(&template, &vars, &app.config.branding)
            }
            None => crate::mail::render::render(kind, &vars, &app.config),
        })
    }
}

fn parse_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (millis, id) = raw.split_once('.')?;
    Some((DateTime::from_timestamp_millis(millis.parse().ok()?)?, Uuid::parse_str(id).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), TimeDelta::seconds(5));
        assert_eq!(backoff(1), TimeDelta::seconds(10));
        assert_eq!(backoff(5), TimeDelta::seconds(160));
        assert_eq!(backoff(10), TimeDelta::seconds(3600));
        assert_eq!(backoff(400), TimeDelta::seconds(3600));
    }

    #[test]
    fn sender_header_is_safe() {
        assert_eq!(sender("Acme", "a@b.c"), "Acme <a@b.c>");
        assert_eq!(sender("", "a@b.c"), "a@b.c");
        assert_eq!(sender("Evil <x@y.z>\r\nBcc: v@w", "a@b.c"), "Evil x@y.zBcc: v@w <a@b.c>");
        assert_eq!(
            crate::mail::parse_from(&sender("Acme \"Auth\"", "a@b.c")),
            Some(("Acme Auth".into(), "a@b.c".into()))
        );
    }

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(parse_cursor(&format!("{}.{id}", at.timestamp_millis())), Some((at, id)));
        assert_eq!(parse_cursor("nope"), None);
    }
}
