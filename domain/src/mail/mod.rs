//! Mail: the one place messages are rendered (`render`), and how they leave (`transport`).
//! Queueing and the worker that sends are the engine's (`engine/mail.rs`).

pub mod render;
pub mod sms;
pub mod transport;

use std::sync::Arc;

/// Where mail goes and whom it comes from, by default.
#[derive(Clone)]
pub struct MailSettings {
    /// SMTP (`RAMPART_SMTP_URL`); `None` keeps every message in the dev outbox.
    pub transport: Option<Arc<dyn transport::Transport>>,
    /// `RAMPART_MAIL_FROM`: the sender of apps that name none.
    pub from_name: String,
    pub from_address: String,
    /// The SMS provider (`RAMPART_SMS_URL`); `None` keeps text messages in the dev outbox.
    pub sms: Option<sms::SmsTransport>,
    /// The sender of text messages (`RAMPART_SMS_FROM`).
    pub sms_from: String,
    /// Whether this process sends the queue (a server does; a one-off command does not).
    pub worker: bool,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: None,
            from_name: "Rampart".into(),
            from_address: "no-reply@localhost".into(),
            sms: None,
            sms_from: "Rampart".into(),
            worker: true,
        }
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport.as_ref().map(|t| t.describe()))
            .field("from_address", &self.from_address)
            .field("sms", &self.sms.as_ref().map(sms::SmsTransport::describe))
            .finish()
    }
}

/// Parses `RAMPART_MAIL_FROM` (`Name <address>` or a bare address).
pub fn parse_from(raw: &str) -> Option<(String, String)> {
    let raw = raw.trim();
    let (name, address) = match (raw.find('<'), raw.strip_suffix('>')) {
        (Some(open), Some(rest)) => {
            (raw[..open].trim().trim_matches('"').to_owned(), rest[open + 1..].trim().to_owned())
        }
        _ => (String::new(), raw.to_owned()),
    };
    let valid = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !address.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
    });
    valid.then_some((name, address))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sender_forms() {
        assert_eq!(
            super::parse_from("Rampart <no-reply@localhost>"),
            Some(("Rampart".into(), "no-reply@localhost".into()))
        );
        assert_eq!(super::parse_from("\"Acme Auth\" <a@b.c>"), Some(("Acme Auth".into(), "a@b.c".into())));
        assert_eq!(super::parse_from("a@b.c"), Some((String::new(), "a@b.c".into())));
        for bad in ["", "nobody", "<a@b.c", "x <@b>", "a b@c.d"] {
            assert_eq!(super::parse_from(bad), None, "{bad}");
        }
    }
}
