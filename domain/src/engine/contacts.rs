//! An end-user's own contacts (seed 001's "contact management"): more emails and phones,
//! each verified before it counts, one primary email. Every change asks for the current
//! password (or, for users without one, a sign-in of the last ten minutes) and tells the
//! addresses it concerns, so a stolen bearer alone cannot move an account to another inbox.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::{user_actor, user_kind};
use super::cache::Change;
use super::write::Write;
use super::{now, Engine, Principal};
use crate::audit::Event;
use crate::mail::render::{render, MailKind, Vars};
use crate::model::{Contact, ContactKind, User};
use crate::types::Email;
use crate::{password, Error, Result};

/// A user keeps at most this many contacts.
const MAX_CONTACTS: usize = 10;
/// Without a password, a change needs a sign-in this recent.
const FRESH_SIGN_IN: TimeDelta = TimeDelta::minutes(10);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    pub id: Uuid,
    pub kind: &'static str,
    pub value: String,
    pub primary: bool,
    pub verified: bool,
    #[serde(with = "crate::time_format::option")]
    pub verified_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        ContactView {
            id: c.id,
            kind: c.kind.as_str(),
            value: c.value.clone(),
            primary: c.is_primary,
            verified: c.verified_at.is_some(),
            verified_at: c.verified_at,
            created_at: c.created_at,
        }
    }
}

/// A phone number in international form (`+` and the country code; spaces, dashes, dots
/// and brackets allowed), checked against libphonenumber's metadata and answered in E.164;
/// anything else is `400 INVALID_PHONE`.
pub fn parse_phone(raw: &str) -> Result<String> {
    let refused =
        || Error::InvalidPhone("Phone number must be valid and in international form, like +14155550123".into());
    let raw = raw.trim();
    // Digits and separators only: libphonenumber would read letters as keypad digits.
    let typed = raw.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
    if !raw.starts_with('+') || raw.len() > 32 || !typed {
        return Err(refused());
    }
    let number = phonenumber::parse(None, raw).map_err(|_| refused())?;
    if !phonenumber::is_valid(&number) {
        return Err(refused());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The user's contacts changed: their cached profile goes, and the log records `what`.
fn changed(tx: &mut Write<'_>, me: &Principal, what: &str, details: serde_json::Value) {
    tx.changed(Change::User(me.user_id));
    let kind = user_kind(&me.app.slug);
    tx.record(
        me.app.id,
        Event::new(format!("{kind}.{what}"), user_actor(&me.app.slug, me.user_id))
            .subject(kind, me.user_id)
            .session(me.session_id)
            .details(details),
    );
}

impl Engine {
    /// `GET me/contacts`.
    pub async fn my_contacts(&self, me: &Principal) -> Result<Vec<ContactView>> {
        Ok(self.store.contacts_of(me.app.id, me.user_id).await?.iter().map(ContactView::from).collect())
    }

    /// The current password again, or for a user without one a recent sign-in.
    async fn reauthenticate(&self, me: &Principal, password: Option<SecretString>) -> Result<User> {
        let user = self.store.user_by_id(me.app.id, me.user_id).await?.ok_or(Error::Unauthenticated("Unknown user"))?;
        match (&user.password_hash, password) {
            (Some(hash), Some(password)) => {
                if !password::verify_for(me.app.id, password, Some(hash.clone())).await? {
                    return Err(Error::InvalidCredentials);
                }
            }
            (Some(_), None) => return Err(Error::invalid("password: your current password is required")),
            (None, _) => {
                let session = self.store.session(me.app.id, me.session_id).await?;
                if session.is_none_or(|s| now() - s.created_at > FRESH_SIGN_IN) {
                    return Err(Error::Unauthenticated("Sign in again to change your contacts"));
                }
            }
        }
        Ok(user)
    }

    /// Tells `to` what changed on the account (`notice`, in the request's language).
    fn notify(&self, tx: &mut Write<'_>, me: &Principal, user: &User, to: &str, notice: String) -> Result<()> {
        let rendered = render(
            MailKind::ContactChanged,
            &Vars {
                app: me.app.display_name.clone(),
                name: Some(user.display_name.clone()),
                notice: Some(notice),
                ..Vars::default()
            },
            &me.app.config,
        );
        tx.mail(&me.app, to, MailKind::ContactChanged, rendered)
    }

    /// `POST me/contacts`: adds an email (a verification link goes to it, and the primary
    /// address is told) or a phone number, unverified until proven.
    pub async fn add_contact(
        &self,
        me: &Principal,
        kind: &str,
        value: &str,
        password: Option<SecretString>,
    ) -> Result<ContactView> {
        let kind = ContactKind::parse(kind).ok_or_else(|| Error::invalid("kind must be email or phone"))?;
        let value = match kind {
            ContactKind::Email => Email::parse(value)?.as_str().to_owned(),
            ContactKind::Phone => parse_phone(value)?,
        };
        let user = self.reauthenticate(me, password).await?;
        let contacts = self.store.contacts_of(me.app.id, me.user_id).await?;
        if contacts.iter().any(|c| c.kind == kind && c.value.eq_ignore_ascii_case(&value)) {
            return Err(Error::Conflict("You already have this contact".into()));
        }
        if contacts.len() >= MAX_CONTACTS {
            return Err(Error::invalid(format!("A user keeps at most {MAX_CONTACTS} contacts")));
        }
        let at = now();
        let has_email = contacts.iter().any(|c| c.kind == ContactKind::Email);
        let contact = Contact {
            id: Uuid::new_v4(),
            app_id: me.app.id,
            user_id: me.user_id,
            kind,
            value: value.clone(),
            is_primary: kind == ContactKind::Email && !has_email,
            verified_at: None,
            created_at: at,
        };
        let mut tx = self.write().await?;
        tx.insert_contact(&contact).await?;
        if kind == ContactKind::Email {
            self.queue_verification(&mut tx, &me.app, &user, &contact).await?;
        }
        if let Some(primary) = contacts.iter().find(|c| c.kind == ContactKind::Email && c.is_primary) {
            self.notify(
                &mut tx,
                me,
                &user,
                &primary.value,
                notice("notice-contact-added", &[("contact", value.as_str())]),
            )?;
        }
        changed(&mut tx, me, "contact_added", json!({"contact_id": contact.id, "kind": kind.as_str()}));
        tx.commit().await?;
        Ok(ContactView::from(&contact))
    }

    /// `DELETE me/contacts/{id}`: never the primary email (choose another first), nor the
    /// last verified email.
    pub async fn remove_contact(&self, me: &Principal, id: &str, password: Option<SecretString>) -> Result<()> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Contact"))?;
        let contacts = self.store.contacts_of(me.app.id, me.user_id).await?;
        let contact = contacts.iter().find(|c| c.id == id).ok_or(Error::NotFound("Contact"))?;
        if contact.is_primary {
            return Err(Error::Conflict("Choose another primary email before removing this one".into()));
        }
        let verified_emails =
            contacts.iter().filter(|c| c.kind == ContactKind::Email && c.verified_at.is_some()).count();
        if contact.kind == ContactKind::Email && contact.verified_at.is_some() && verified_emails == 1 {
            return Err(Error::Conflict("Your last verified email cannot be removed".into()));
        }
        let user = self.reauthenticate(me, password).await?;
        let mut tx = self.write().await?;
        if !tx.delete_contact(me.app.id, me.user_id, id).await? {
            return Err(Error::NotFound("Contact"));
        }
        let notice = notice("notice-contact-removed", &[("contact", contact.value.as_str())]);
        if contact.kind == ContactKind::Email {
            self.notify(&mut tx, me, &user, &contact.value, notice.clone())?;
        }
        if let Some(primary) = contacts.iter().find(|c| c.kind == ContactKind::Email && c.is_primary) {
            self.notify(&mut tx, me, &user, &primary.value, notice)?;
        }
        changed(&mut tx, me, "contact_removed", json!({"contact_id": id, "kind": contact.kind.as_str()}));
        tx.commit().await
    }

    /// `POST me/contacts/{id}/primary`: a verified email becomes the primary one; the old
    /// primary address is told.
    pub async fn make_primary(&self, me: &Principal, id: &str, password: Option<SecretString>) -> Result<ContactView> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Contact"))?;
        let contacts = self.store.contacts_of(me.app.id, me.user_id).await?;
        let contact = contacts.iter().find(|c| c.id == id).ok_or(Error::NotFound("Contact"))?;
        if contact.kind != ContactKind::Email || contact.verified_at.is_none() {
            return Err(Error::invalid("Only a verified email can be the primary one"));
        }
        let user = self.reauthenticate(me, password).await?;
        let old = contacts.iter().find(|c| c.kind == ContactKind::Email && c.is_primary && c.id != id);
        let mut tx = self.write().await?;
        if !tx.set_primary_email(me.app.id, me.user_id, id).await? {
            return Err(Error::NotFound("Contact"));
        }
        if let Some(old) = old {
            let notice =
                notice("notice-primary-changed", &[("old", old.value.as_str()), ("new", contact.value.as_str())]);
            self.notify(&mut tx, me, &user, &old.value, notice)?;
        }
        changed(&mut tx, me, "primary_email_changed", json!({"contact_id": id, "previous": old.map(|c| c.id)}));
        tx.commit().await?;
        let mut view = ContactView::from(contact);
        view.primary = true;
        Ok(view)
    }
}

/// What changed, in the language of the request that changed it.
fn notice(key: &str, values: &[(&'static str, &str)]) -> String {
    let args: Vec<(&'static str, crate::i18n::Arg)> = values.iter().map(|(n, v)| (*n, (*v).into())).collect();
    crate::mail::render::request_language().text_with(key, &args)
}

#[cfg(test)]
mod tests {
    #[test]
    fn phones_in_international_form() {
        assert_eq!(super::parse_phone("+1 (415) 555-0123").unwrap(), "+14155550123");
        assert_eq!(super::parse_phone("+33.6.12.34.56.78").unwrap(), "+33612345678");
        assert_eq!(super::parse_phone(" +44 20 7946 0958 ").unwrap(), "+442079460958");
        for bad in
            ["4155550123", "+0123456789", "+1234567", "+1234567890123456", "+1415555012a", "", "+", "+1 555 0000"]
        {
            assert!(super::parse_phone(bad).is_err(), "{bad}");
        }
    }
}
