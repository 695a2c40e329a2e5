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
