//! Handing one message to a mail server: the [`Transport`] seam, and [`Smtp`], lettre behind
//! `RAMPART_SMTP_URL`.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use url::{Host, Url};

use crate::{Error, Result};

/// How long one step of a conversation with the server (connecting, a command, the upload)
/// may take before the send counts as failed (and transient).
const TIMEOUT: Duration = Duration::from_secs(15);

/// One message to one recipient.
#[derive(Clone)]
pub struct Outgoing {
    pub from_name: Option<String>,
    pub from_address: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// When present the message is multipart/alternative: `text`, then this.
    pub html: Option<String>,
    /// The local part of the Message-ID, chosen by the caller (a UUID) so that a retried send
    /// carries the same id; rendered as `<{message_id}@{domain of from_address}>`.
    pub message_id: String,
}

/// Bodies carry one-time links and codes: they are never printed.
impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("from_address", &self.from_address)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

/// Why a message was not handed over. The text names the server's answer or the network
/// failure, never a message body.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: the server was unreachable, slow, answered 4xx, the TLS
    /// handshake failed, or it refused our credentials (the operator's to fix, not the
    /// message's fault).
    #[error("transient: {0}")]
    Transient(String),
    /// Trying again cannot help: the server refused this message or recipient with a 5xx, or
    /// the message cannot be built (a malformed address).
    #[error("permanent: {0}")]
    Permanent(String),
}

#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, mail: &Outgoing) -> Result<(), SendError>;

    /// Where mail goes, for logs: never with credentials.
    fn describe(&self) -> String;
}

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: no TLS at all (a relay on localhost, a test sink).
    Plain,
    /// `smtp+starttls://` or `smtp://…?tls=required`: STARTTLS, and no sending without it.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
}

/// SMTP delivery through lettre, with pooled connections.
pub struct Smtp {
    server: Server,
    builder: AsyncSmtpTransportBuilder,
    /// Built on first use: lettre's pool spawns its reaper on the current Tokio runtime, and
    /// a configuration may be checked where there is none.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
}

impl Smtp {
    /// `smtp://host[:port]` (plain, port 25), `smtp+starttls://` or `smtp://…?tls=required`
    /// (STARTTLS, 587), `smtps://` (implicit TLS, 465), each with optional percent-encoded
    /// `user:password@`.
    ///
    /// lettre's own `from_url` knows no `smtp+starttls`, drops a user given without a
    /// password and ignores parameters it does not know (a mistyped `?tsl=required` would
    /// send in the clear), so the URL is read here and the builder set up from it.
    pub fn from_url(url: &str) -> Result<Smtp> {
        let server = Server::parse(url)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.as_str())
            .port(server.port)
            .timeout(Some(TIMEOUT))
            .pool_config(PoolConfig::new().max_size(8).idle_timeout(Duration::from_secs(60)));
        let tls = || {
            TlsParameters::new(server.host.clone())
                .map_err(|e| Error::invalid(format!("RAMPART_SMTP_URL: TLS cannot be set up: {e}")))
        };
        builder = match server.security {
            Security::Plain => builder,
            Security::StartTls => builder.tls(Tls::Required(tls()?)),
            Security::ImplicitTls => builder.tls(Tls::Wrapper(tls()?)),
        };
        if let Some((user, password)) = &server.credentials {
            if server.security == Security::Plain && !server.is_loopback() {
                tracing::warn!(server = %server.describe(), "RAMPART_SMTP_URL sends its credentials without TLS");
            }
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        Ok(Smtp { server, builder, transport: OnceLock::new() })
    }

    pub fn security(&self) -> Security {
        self.server.security
    }
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtp").field("server", &self.server.describe()).finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Transport for Smtp {
    async fn send(&self, mail: &Outgoing) -> Result<(), SendError> {
        let message = build_message(mail)?;
        let transport = self.transport.get_or_init(|| self.builder.clone().build());
        transport.send(message).await.map(drop).map_err(classify)
    }

    fn describe(&self) -> String {
        self.server.describe()
    }
}

fn build_message(mail: &Outgoing) -> Result<Message, SendError> {
    let invalid = |what: &str, e: &dyn fmt::Display| SendError::Permanent(format!("{what}: {e}"));
    let from: Address = mail.from_address.parse().map_err(|e| invalid("sender address", &e))?;
    let to: Address = mail.to.parse().map_err(|e| invalid("recipient address", &e))?;
    if !is_message_id_left(&mail.message_id) {
        return Err(SendError::Permanent("message id: not a dot-atom (a UUID is)".to_owned()));
    }
    let message_id = format!("<{}@{}>", mail.message_id, from.domain());
    let builder = Message::builder()
        .from(Mailbox::new(mail.from_name.clone(), from))
        .to(Mailbox::new(None, to))
        .subject(mail.subject.as_str())
        .message_id(Some(message_id));
    let built = match &mail.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text.clone(), html.clone())),
        None => builder.singlepart(SinglePart::plain(mail.text.clone())),
    };
    built.map_err(|e| invalid("message", &e))
}

/// RFC 5322's `id-left` as a dot-atom: lettre writes the Message-ID header as given, so
/// anything else (a space, a line break) would corrupt the header block.
fn is_message_id_left(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !s.contains("..")
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
}

/// A 5xx is permanent when it is about this message; a refused login or a demand for
/// encryption would fail every message alike until the operator fixes the configuration,
/// so those are kept for a retry instead of being dropped.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let text = e.to_string();
    match e.status().map(u16::from) {
        Some(530 | 534 | 535 | 538) => SendError::Transient(text),
        Some(_) if e.is_permanent() => SendError::Permanent(text),
        _ => SendError::Transient(text),
    }
}

/// `RAMPART_SMTP_URL`, read.
#[derive(Clone)]
struct Server {
    /// A name or an IP address, without the brackets of an IPv6 literal.
    host: String,
    port: u16,
    security: Security,
    credentials: Option<(String, SecretString)>,
}

impl Server {
    fn parse(url: &str) -> Result<Server> {
        let bad = |why: &str| Error::invalid(format!("RAMPART_SMTP_URL: {why}"));
        // `url`'s messages name the problem ("invalid port number"), never the input.
        let parsed = Url::parse(url).map_err(|e| bad(&format!("not a URL ({e})")))?;
        let mut security = match parsed.scheme() {
            "smtp" => Security::Plain,
            "smtp+starttls" => Security::StartTls,
            "smtps" => Security::ImplicitTls,
            other => return Err(bad(&format!("the scheme must be smtp, smtp+starttls or smtps, not {other}"))),
        };
        for (key, value) in parsed.query_pairs() {
            match (key.as_ref(), value.as_ref(), security) {
                ("tls", "required", Security::Plain | Security::StartTls) => security = Security::StartTls,
                ("tls", _, Security::Plain | Security::StartTls) => {
                    return Err(bad("the only tls= value is required (STARTTLS, or no sending)"))
                }
                ("tls", _, Security::ImplicitTls) => return Err(bad("tls= does not go with smtps://")),
                _ => return Err(bad("the only query parameter is tls=required")),
            }
        }
        let host = match parsed.host() {
            Some(Host::Domain(name)) if !name.is_empty() => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("no host")),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.fragment().is_some() {
            return Err(bad("nothing may follow host[:port] but ?tls=required"));
        }
        let port = parsed.port().unwrap_or(match security {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::ImplicitTls => 465,
        });
        let decode = |s: &str, what: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad(&format!("the {what} is not UTF-8 once percent-decoded")))
        };
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            ("", Some(_)) => return Err(bad("a password needs a user name")),
            (_, None) => return Err(bad("a user name needs a password (user:password@host)")),
            (user, Some(password)) => {
                Some((decode(user, "user name")?, SecretString::from(decode(password, "password")?)))
            }
        };
        Ok(Server { host, port, security, credentials })
    }

    fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    fn describe(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let (scheme, mode) = match self.security {
            Security::Plain => ("smtp", "plain"),
            Security::StartTls => ("smtp", "starttls"),
            Security::ImplicitTls => ("smtps", "tls"),
        };
        let auth = if self.credentials.is_some() { ", authenticated" } else { "" };
        format!("{scheme}://{host}:{} ({mode}{auth})", self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Server {
        match Server::parse(url) {
            Ok(server) => server,
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn refused(url: &str) -> String {
        match Server::parse(url) {
            Ok(server) => panic!("{url} was accepted as {}", server.describe()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn scheme_and_tls_parameter_choose_the_security_and_its_default_port() {
        for (url, security, port) in [
            ("smtp://mail.example.com", Security::Plain, 25),
            ("smtp://mail.example.com:2525", Security::Plain, 2525),
            ("smtp://mail.example.com/", Security::Plain, 25),
            ("smtp://mail.example.com?tls=required", Security::StartTls, 587),
            ("smtp://mail.example.com:25?tls=required", Security::StartTls, 25),
            ("smtp+starttls://mail.example.com", Security::StartTls, 587),
            ("smtp+starttls://mail.example.com:2587", Security::StartTls, 2587),
            ("smtps://mail.example.com", Security::ImplicitTls, 465),
            ("smtps://mail.example.com:4650", Security::ImplicitTls, 4650),
        ] {
            let server = parse(url);
            assert_eq!(
                (server.security, server.port, server.host.as_str()),
                (security, port, "mail.example.com"),
                "{url}"
            );
        }
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let server = parse("smtps://no-reply%40example.com:p%40ss%3Aw%2Frd@mail.example.com");
        let (user, password) = server.credentials.clone().unwrap();
        assert_eq!((user.as_str(), password.expose_secret()), ("no-reply@example.com", "p@ss:w/rd"));
        assert!(parse("smtp://mail.example.com").credentials.is_none());
    }

    #[test]
    fn ip_literals_lose_their_brackets_for_connecting_but_not_for_logs() {
        let server = parse("smtp://[::1]:2525");
        assert_eq!(server.host, "::1");
        assert!(server.is_loopback());
        assert_eq!(server.describe(), "smtp://[::1]:2525 (plain)");
        assert_eq!(parse("smtp://127.0.0.1").host, "127.0.0.1");
    }

    #[test]
    fn describe_names_the_mode_but_never_the_credentials() {
        assert_eq!(parse("smtp://relay:2525").describe(), "smtp://relay:2525 (plain)");
        assert_eq!(parse("smtp://relay?tls=required").describe(), "smtp://relay:587 (starttls)");
        let described = parse("smtps://alice:hunter2@relay").describe();
        assert_eq!(described, "smtps://relay:465 (tls, authenticated)");
        assert!(!described.contains("alice") && !described.contains("hunter2"));
    }

    #[test]
    fn what_is_not_an_smtp_server_is_refused_with_the_variable_named_and_the_password_not() {
        for url in [
            "http://x",
            "not a url",
            "smtp://",
            "smtp:relay",
            "smtp://relay:99999",
            "smtp://relay?tls=opportunistic",
            "smtp://relay?tsl=required",
            "smtps://relay?tls=required",
            "smtp://relay/helo.example.com",
            "smtp://alice@relay",
            "smtp://:hunter2@relay",
            "smtp://alice:hunter2@",
            "smtp://alice:hunter2@relay:port",
            "ftp://alice:hunter2@relay",
            "smtp://alice:%FF%FEhunter2@relay",
        ] {
            let message = refused(url);
            assert!(message.starts_with("RAMPART_SMTP_URL: "), "{url}: {message}");
            assert!(!message.contains("hunter2"), "{url}: {message}");
        }
    }

    #[test]
    fn message_ids_are_dot_atoms() {
        assert!(is_message_id_left("0190c3c2-8f5e-7cc1-a0a4-5b0e1f1f6a11"));
        assert!(is_message_id_left("invite.42"));
        for bad in ["", ".a", "a.", "a..b", "a b", "a\r\nBcc: x@y", "<a>", "a@b"] {
            assert!(!is_message_id_left(bad), "{bad:?}");
        }
    }

    fn outgoing() -> Outgoing {
        Outgoing {
            from_name: Some("Acme".to_owned()),
            from_address: "no-reply@acme.example".to_owned(),
            to: "alice@example.com".to_owned(),
            subject: "Hello".to_owned(),
            text: "secret-link".to_owned(),
            html: None,
            message_id: "m1".to_owned(),
        }
    }

    #[test]
    fn a_message_that_cannot_be_built_is_permanent_and_its_debug_has_no_body() {
        let mut mail = outgoing();
        assert!(build_message(&mail).is_ok());
        assert!(!format!("{mail:?}").contains("secret-link"));
        mail.to = "not an address".to_owned();
        assert!(matches!(build_message(&mail), Err(SendError::Permanent(_))));
        let mut mail = outgoing();
        mail.message_id = "a b".to_owned();
        assert!(matches!(build_message(&mail), Err(SendError::Permanent(_))));
    }

    #[test]
    fn the_message_id_takes_the_senders_domain() {
        let message = build_message(&outgoing()).unwrap();
        let head = String::from_utf8_lossy(&message.formatted()).into_owned();
        assert!(head.contains("Message-ID: <m1@acme.example>"), "{head}");
    }
}
