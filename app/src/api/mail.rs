//! The console's view of an app's mail: the messages it queued, newest first, with their
//! bodies while they are kept (the dev outbox, or not sent yet).

use leptos::prelude::*;
use shared::MailPage;

use super::ConsoleError;

/// A page of the app's mail (permission `config.update`: the dev outbox holds sign-in links).
/// Named for the app: a function `mail_page` would make a struct that hides `MailPage`.
#[server(prefix = "/console/_fn", endpoint = "app_mail")]
pub async fn app_mail(slug: String, cursor: Option<String>) -> Result<MailPage, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let cursor = cursor.filter(|c| !c.is_empty());
    Ok(guard::state()?.engine.mail_page(&caller, &slug, cursor.as_deref()).await?)
}

/// A message as an app's template renders it, with example values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The app's own wording of each kind of message it has one for (the others use Rampart's).
#[server(prefix = "/console/_fn", endpoint = "mail_templates")]
pub async fn mail_templates(
    slug: String,
) -> Result<std::collections::BTreeMap<String, shared::config::MailTemplate>, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.config(&caller, &slug).await?.mail_templates)
}

/// Saves the app's wording of one kind of message (`config.update`), or with `reset` drops
/// it so Rampart's is used again; answers the message as it now renders, with example
/// values. A template the config refuses (an unknown placeholder, a required one missing)
/// saves nothing and says why.
#[server(prefix = "/console/_fn", endpoint = "save_mail_template")]
pub async fn save_mail_template(
    slug: String,
    kind: String,
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
    reset: Option<String>,
) -> Result<RenderedMail, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let template = match reset.filter(|r| !r.is_empty()) {
        Some(_) => serde_json::Value::Null,
        None => serde_json::json!({
            "subject": subject.unwrap_or_default().trim(),
            // Browsers post textareas with CRLF line ends.
            "text": text.unwrap_or_default().replace("\r\n", "\n"),
            "html": html.unwrap_or_default().replace("\r\n", "\n"),
        }),
    };
    let mut patch = serde_json::Map::new();
    patch.insert("mail_templates".into(), serde_json::json!({ kind.clone(): template }));
    engine.update_config(&caller, &slug, &patch).await?;
    let rendered = engine.preview_mail(&caller, &slug, &kind, None).await?;
    Ok(RenderedMail { subject: rendered.subject, text: rendered.text, html: rendered.html })
}
