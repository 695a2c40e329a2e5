#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `Smtp` against the local sink over real TCP: what arrives, how failures are classified,
//! and an SMTP server that goes away and comes back.

use std::time::Duration;

use domain::mail::transport::{Outgoing, Security};
use domain::mail::transport::{SendError, Smtp, Transport};
use testkit::smtp::Sink;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(10);

/// Longer than quoted-printable's 76-character lines, so it comes back only if soft line
/// breaks are undone.
const RESET_LINK: &str = "https://rampart.test/acme/reset-password?token=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9mcmVkcGx1Z2g&from=console";

fn mail_to(to: &str) -> Outgoing {
    Outgoing {
        from_name: Some("Acme — Support".to_owned()),
        from_address: "no-reply@acme.test".to_owned(),
        to: to.to_owned(),
        subject: "Grüße — café: reset your password".to_owned(),
        text: format!(
            "Grüße — café!\n\nSomeone asked to reset the password of your Acme account. If it was you, open\n{RESET_LINK}\n\
             within the next hour; otherwise ignore this message and nothing changes. Ünïcödé on a long line too.\n\
             .A line that starts with a dot, which SMTP doubles in transit.\n"
        ),
        html: Some(format!(
            "<p>Grüße — café!</p>\n<p>Someone asked to reset the password of your Acme account: \
             <a href=\"{RESET_LINK}\">reset it</a>. Otherwise ignore this message.</p>\n"
        )),
        message_id: Uuid::new_v4().to_string(),
    }
}

async fn send(smtp: &Smtp, mail: &Outgoing) -> Result<(), SendError> {
    // A hang would be a bug of its own: fail it as one rather than wait for the test runner.
    tokio::time::timeout(Duration::from_secs(40), smtp.send(mail)).await.expect("send hung")
}

#[tokio::test]
async fn a_text_and_html_message_arrives_intact() {
    let sink = Sink::start().await.unwrap();
    let smtp = Smtp::from_url(&sink.url()).unwrap();
    assert_eq!(smtp.security(), Security::Plain);
    assert_eq!(smtp.describe(), format!("smtp://127.0.0.1:{} (plain)", sink.port()));
    let mail = mail_to("alice@example.com");

    send(&smtp, &mail).await.unwrap();

    let received = sink.wait_for("alice@example.com", WAIT).await.expect("no mail for alice");
    assert_eq!(received.from, "no-reply@acme.test");
    assert_eq!(received.to, ["alice@example.com"]);
    assert_eq!(received.auth, None);
    assert_eq!(received.subject().as_deref(), Some(mail.subject.as_str()));
    assert_eq!(received.text_body().as_deref(), Some(mail.text.as_str()));
    assert_eq!(received.html_body().as_deref(), mail.html.as_deref());
    assert_eq!(received.links(), [RESET_LINK]);
    assert_eq!(received.header("Message-ID"), Some(format!("<{}@acme.test>", mail.message_id)));
    assert_eq!(received.header("From").as_deref(), Some("Acme — Support <no-reply@acme.test>"));
    assert!(received.header("Content-Type").unwrap().starts_with("multipart/alternative"));
    // The long link went split or encoded: the decoding above did real work.
    assert!(!received.raw.contains(RESET_LINK));
}

#[tokio::test]
async fn a_text_only_message_has_no_html_part() {
    let sink = Sink::start().await.unwrap();
    let smtp = Smtp::from_url(&sink.url()).unwrap();
    let mail = Outgoing { html: None, ..mail_to("bob@example.com") };

    send(&smtp, &mail).await.unwrap();

    let received = sink.wait_for("bob@example.com", WAIT).await.expect("no mail for bob");
    assert_eq!(received.text_body().as_deref(), Some(mail.text.as_str()));
    assert_eq!(received.html_body(), None);
    assert_eq!(received.links(), [RESET_LINK]);
}

#[tokio::test]
async fn messages_sent_together_and_in_turn_all_arrive_once() {
    let sink = Sink::start().await.unwrap();
    let smtp = Smtp::from_url(&sink.url()).unwrap();
    let recipients: Vec<String> = (0..6).map(|i| format!("user{i}@example.com")).collect();
    let mails: Vec<Outgoing> = recipients.iter().map(|to| mail_to(to)).collect();

    let together = futures_util::future::join_all(mails[..4].iter().map(|mail| send(&smtp, mail))).await;
    assert!(together.iter().all(Result::is_ok), "{together:?}");
    // In turn: the pooled connection carries the next message.
    for mail in &mails[4..] {
        send(&smtp, mail).await.unwrap();
    }

    for (to, mail) in recipients.iter().zip(&mails) {
        let received = sink.wait_for(to, WAIT).await.unwrap_or_else(|| panic!("no mail for {to}"));
        assert_eq!(received.header("Message-ID"), Some(format!("<{}@acme.test>", mail.message_id)));
        assert_eq!(sink.wait_for(to, Duration::from_millis(50)).await, None, "{to} got two");
    }
    assert_eq!(sink.messages().len(), 6);
}

#[tokio::test]
async fn credentials_in_the_url_reach_the_server_percent_decoded() {
    let (user, password) = ("mailer@acme.test", "p@ss w:rd/%");
    let sink = Sink::start_with_auth(user, password).await.unwrap();
    let url = format!("smtp://mailer%40acme.test:p%40ss%20w%3Ard%2F%25@127.0.0.1:{}", sink.port());
    let smtp = Smtp::from_url(&url).unwrap();
    assert!(!smtp.describe().contains("p%40ss") && !format!("{smtp:?}").contains("p%40ss"));

    send(&smtp, &mail_to("carol@example.com")).await.unwrap();

    let received = sink.wait_for("carol@example.com", WAIT).await.expect("no mail for carol");
    assert_eq!(received.auth, Some((user.to_owned(), password.to_owned())));
}

#[tokio::test]
async fn refused_or_missing_credentials_are_transient_and_deliver_nothing() {
    let sink = Sink::start_with_auth("mailer", "right").await.unwrap();
    let wrong = Smtp::from_url(&format!("smtp://mailer:wrong@127.0.0.1:{}", sink.port())).unwrap();
    let none = Smtp::from_url(&sink.url()).unwrap();

    let refused = send(&wrong, &mail_to("dave@example.com")).await;
    assert!(matches!(&refused, Err(SendError::Transient(e)) if e.contains("535")), "{refused:?}");
    assert!(!format!("{refused:?}").contains("wrong"));
    let missing = send(&none, &mail_to("dave@example.com")).await;
    assert!(matches!(&missing, Err(SendError::Transient(e)) if e.contains("530")), "{missing:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_and_a_deferred_one_transient() {
    let sink = Sink::start().await.unwrap();
    let smtp = Smtp::from_url(&sink.url()).unwrap();
    let mail = mail_to("erin@example.com");

    sink.set_reject(Some(550));
    let refused = send(&smtp, &mail).await;
    assert!(matches!(&refused, Err(SendError::Permanent(e)) if e.contains("550")), "{refused:?}");
    // The error names the failure, never the content.
    assert!(!refused.unwrap_err().to_string().contains("reset-password"));

    sink.set_reject(Some(450));
    let deferred = send(&smtp, &mail).await;
    assert!(matches!(&deferred, Err(SendError::Transient(e)) if e.contains("450")), "{deferred:?}");

    sink.set_reject(None);
    send(&smtp, &mail).await.unwrap();
    assert!(sink.wait_for("erin@example.com", WAIT).await.is_some());
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn smtp_down_is_transient_and_smtp_back_on_the_same_port_delivers() {
    let sink = Sink::start().await.unwrap();
    let port = sink.port();
    let smtp = Smtp::from_url(&sink.url()).unwrap();
    // A first message leaves a pooled connection that the stop breaks.
    send(&smtp, &mail_to("frank@example.com")).await.unwrap();
    assert!(sink.wait_for("frank@example.com", WAIT).await.is_some());

    sink.stop().await;
    let down = send(&smtp, &mail_to("frank@example.com")).await;
    assert!(matches!(down, Err(SendError::Transient(_))), "{down:?}");

    let sink = Sink::start_on(port).await.unwrap();
    let mail = mail_to("frank@example.com");
    send(&smtp, &mail).await.unwrap();
    let received = sink.wait_for("frank@example.com", WAIT).await.expect("no mail after the restart");
    assert_eq!(received.header("Message-ID"), Some(format!("<{}@acme.test>", mail.message_id)));
}

#[tokio::test]
async fn required_starttls_never_falls_back_to_plain_text() {
    let sink = Sink::start().await.unwrap();
    for url in
        [format!("smtp+starttls://127.0.0.1:{}", sink.port()), format!("smtp://127.0.0.1:{}?tls=required", sink.port())]
    {
        let smtp = Smtp::from_url(&url).unwrap();
        assert_eq!(smtp.security(), Security::StartTls);
        // The sink offers no STARTTLS.
        let sent = send(&smtp, &mail_to("grace@example.com")).await;
        assert!(matches!(sent, Err(SendError::Transient(_))), "{url}: {sent:?}");
    }
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_failed_tls_handshake_is_transient() {
    let sink = Sink::start().await.unwrap();
    let smtp = Smtp::from_url(&format!("smtps://127.0.0.1:{}", sink.port())).unwrap();
    assert_eq!(smtp.describe(), format!("smtps://127.0.0.1:{} (tls)", sink.port()));
    // The sink answers a ClientHello with a plain-text greeting.
    let sent = send(&smtp, &mail_to("heidi@example.com")).await;
    assert!(matches!(sent, Err(SendError::Transient(_))), "{sent:?}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_malformed_recipient_is_permanent_without_a_connection() {
    // Nothing listens here: only a failure before connecting can be permanent.
    let smtp = Smtp::from_url("smtp://127.0.0.1:9").unwrap();
    let sent = send(&smtp, &mail_to("not an address")).await;
    assert!(matches!(sent, Err(SendError::Permanent(_))), "{sent:?}");
}

#[test]
fn urls_that_are_not_an_smtp_server_are_refused_without_echoing_the_password() {
    for url in [
        "http://x",
        "http://alice:hunter2@x",
        "smtp//alice:hunter2@relay",
        "not a url",
        "smtp://",
        "smtp://alice:hunter2@",
        "smtps://alice:hunter2@:465",
        "smtp://alice:hunter2@relay:465x",
    ] {
        let error = Smtp::from_url(url).expect_err(url);
        let message = error.to_string();
        assert!(message.starts_with("RAMPART_SMTP_URL: "), "{url}: {message}");
        assert!(!message.contains("hunter2") && !format!("{error:?}").contains("hunter2"), "{url}: {message}");
        assert_eq!(error.code(), "INVALID_REQUEST");
    }
}
