//! The mail tab: the messages the app queued, newest first and paged through the URL (so the
//! page works without JavaScript), each opening to its envelope and, while the body is kept,
//! its text and its HTML. Without SMTP this is the dev outbox, where a developer reads the
//! links Rampart would have mailed and follows them.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use shared::time_format::format;
use shared::{MailPage as Messages, MailView};

use super::app::{slug_param, unavailable};
use crate::api;

fn mail_href(slug: &str, cursor: Option<&str>) -> String {
    let mut query = ParamsMap::new();
    if let Some(cursor) = cursor {
        query.insert("cursor", cursor.to_owned());
    }
    format!("/console/apps/{slug}/mail{}", query.to_query_string())
}

/// The message's HTML for a sandboxed frame: every link opens in a new tab (a page framed
/// here could not show: Rampart's own pages refuse to be framed).
pub(super) fn framed(html: &str) -> String {
    const BASE: &str = "<base target=\"_blank\">";
    match html.to_ascii_lowercase().find("<head>") {
        Some(at) => format!("{}{BASE}{}", &html[..at + "<head>".len()], &html[at + "<head>".len()..]),
        None => format!("{BASE}{html}"),
    }
}

#[component]
pub fn MailPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let refreshes = RwSignal::new(0usize);
    let mail =
        Resource::new(move || (slug(), cursor(), refreshes.get()), |(slug, cursor, _)| api::app_mail(slug, cursor));
    view! {
        <Title text=format!("Mail · {} · Rampart", untrack(slug))/>
        <div class="toolbar">
            <h2 class="first">"Mail"</h2>
            <A href=move || format!("/console/apps/{}/mail/templates", slug())>"Message templates"</A>
            <Refresh slug paged=Signal::derive(move || cursor().is_some()) refreshes/>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading mail…"</p> }>
            {move || Suspend::new(async move {
                match mail.await {
                    Ok(page) => Either::Left(view! { <MailList slug=slug() first_page=cursor().is_none() page/> }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

/// Loads the newest messages. Without JavaScript it is a GET form to the page's address;
/// with it, the page fetches again in place.
#[component]
fn Refresh(
    slug: impl Fn() -> String + Copy + Send + Sync + 'static,
    paged: Signal<bool>,
    refreshes: RwSignal<usize>,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if paged.get_untracked() {
            navigate(&mail_href(&slug(), None), Default::default());
        }
        refreshes.update(|n| *n += 1);
    };
    view! {
        <form method="get" action=move || mail_href(&slug(), None) class="refresh" on:submit=on_submit>
            <button type="submit" title="Load the newest messages">"Refresh"</button>
        </form>
    }
}

/// Why the bodies are here, or why they are not.
fn mode_notice(dev_outbox: bool, kept_as_outbox: bool) -> impl IntoView {
    if dev_outbox {
        Either::Left(view! {
            <div class="outbox-notice" role="note" data-testid="dev-outbox">
                <strong>"Development mode: no SMTP server is configured, so Rampart sends no mail."</strong>
                <p>
                    "Every message stays here, in the dev outbox (status "<code>"outbox"</code>"), with its body and "
                    "its one-time links: open one to read it and follow its link. Set "<code>"RAMPART_SMTP_URL"</code>
                    " to send mail; then the body of each message is erased as soon as the SMTP server has taken it."
                </p>
            </div>
        })
    } else {
        Either::Right(view! {
            <p class="muted small" data-testid="smtp-mode">
                "Mail goes out through SMTP. A message's body is erased as soon as the SMTP server has taken it (it "
                "carries one-time links): sent messages show only their envelope."
                {kept_as_outbox.then_some(
                    " Messages marked outbox were kept while no SMTP server was configured, and were never sent.",
                )}
            </p>
        })
    }
}

/// What makes a row look different: its message, and where its delivery stands.
fn row_key(m: &MailView) -> String {
    format!("{} {} {}", m.id, m.status, m.attempts)
}

#[component]
fn MailList(slug: String, first_page: bool, page: Messages) -> impl IntoView {
    let Messages { messages, next_cursor, dev_outbox } = page;
    let kept_as_outbox = messages.iter().any(|m| m.status == "outbox");
    let pager = view! {
        <nav class="pager" aria-label="Pages">
            {(!first_page).then(|| view! { <A href=mail_href(&slug, None)>"Newest"</A> })}
            {next_cursor.map(|c| view! { <A href=mail_href(&slug, Some(&c))>"Older"</A> })}
        </nav>
    };
    let list = if messages.is_empty() {
        let text = if first_page {
            "No mail yet. Invites, email confirmations, password resets and magic links show up here as the app sends them."
        } else {
            "No older messages."
        };
        Either::Left(view! { <p class="empty" data-testid="no-mail">{text}</p> })
    } else {
        Either::Right(view! {
            <div class="events" data-testid="mails">
                <div class="mail-row event-head" aria-hidden="true">
                    <span>"Time (UTC)"</span><span>"Status"</span><span>"To"</span><span>"Subject"</span>
                    <span>"Kind"</span><span>"Tries"</span><span>"Last error"</span>
                </div>
                // Keyed, so a refresh leaves the rows that did not change alone: a row rendered
                // again sets its frame's srcdoc again, which can leave Chromium's frame blank.
                <For each=move || messages.clone() key=row_key let(message)>
                    <MailRow message/>
                </For>
            </div>
        })
    };
    view! {
        {mode_notice(dev_outbox, kept_as_outbox)}
        {list}
        {pager}
    }
}

#[component]
fn MailRow(message: MailView) -> impl IntoView {
    let MailView {
        id,
        kind,
        channel,
        from,
        to,
        subject,
        status,
        attempts,
        last_error,
        created_at,
        sent_at,
        text,
        html,
    } = message;
    // A text message has no subject: say what it is instead.
    let subject = if channel == "sms" { "Text message (SMS)".to_owned() } else { subject };
    let time = created_at.format("%Y-%m-%d %H:%M:%S").to_string();
    let badge = format!("badge {status}");
    let (row_kind, row_status) = (kind.clone(), status.clone());
    // The worker finishes an outbox message as it would a sent one: say what happened.
    let sent_label = if status == "outbox" { "Kept in the outbox" } else { "Sent" };
    let error = last_error.clone().unwrap_or_default();
    let optional = |v: Option<String>| match v {
        Some(v) => Either::Left(view! { <code>{v}</code> }),
        None => Either::Right(view! { <span class="muted">"none"</span> }),
    };
    let body = if text.is_none() && html.is_none() {
        let why = if status == "sent" {
            "The body was erased once it was handed on: it carried one-time links or codes."
        } else {
            "The body of this message is not kept."
        };
        Either::Left(view! { <p class="muted small" data-testid="mail-no-body">{why}</p> })
    } else {
        let title = format!("The HTML part of “{subject}”");
        Either::Right(view! {
            <div class="mail-parts">
                {text.map(|text| view! {
                    <div class="mail-part">
                        <span class="picker-title">"Text part"</span>
                        <pre data-testid="mail-text">{text}</pre>
                    </div>
                })}
                {html.map(|html| view! {
                    <div class="mail-part">
                        <span class="picker-title">"HTML part"<span class="hint">" (sandboxed: no scripts; links open in a new tab)"</span></span>
                        // No allow-scripts, no allow-same-origin: the message can run nothing and
                        // reach nothing of the console. Popups only, so its links can be followed.
                        <iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc=framed(&html)
                            title=title data-testid="mail-html" referrerpolicy="no-referrer"></iframe>
                    </div>
                })}
            </div>
        })
    };
    view! {
        <details class="event mail" data-testid="mail" data-kind=row_kind data-status=row_status>
            <summary class="mail-row">
                <time datetime=format(&created_at)>{time}</time>
                <span><span class=badge>{status.clone()}</span></span>
                <span title=to.clone()>{to.clone()}</span>
                <span class="mail-subject" title=subject.clone()>{subject.clone()}</span>
                <code title=kind.clone()>{kind.clone()}</code>
                <span class="attempts">{attempts}</span>
                <span class="mail-error" title=error.clone()>{error.clone()}</span>
            </summary>
            <div class="mail-detail">
                <dl class="facts">
                    <dt>"From"</dt><dd>{from}</dd>
                    <dt>"To"</dt><dd>{to}</dd>
                    <dt>"Subject"</dt><dd>{subject.clone()}</dd>
                    <dt>"Kind"</dt><dd><code>{kind}</code></dd>
                    <dt>"Status"</dt><dd>{status}</dd>
                    <dt>"Queued"</dt><dd><code>{format(&created_at)}</code></dd>
                    <dt>{sent_label}</dt><dd>{optional(sent_at.as_ref().map(format))}</dd>
                    <dt>"Attempts"</dt><dd>{attempts}</dd>
                    <dt>"Last error"</dt><dd>{optional(last_error)}</dd>
                    <dt>"Message ID"</dt><dd><code>{id.to_string()}</code></dd>
                </dl>
                {body}
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_links_open_in_a_new_tab() {
        assert_eq!(
            framed("<!doctype html><html><head><title>x</title></head><body></body></html>"),
            "<!doctype html><html><head><base target=\"_blank\"><title>x</title></head><body></body></html>"
        );
        assert_eq!(framed("<p>hi</p>"), "<base target=\"_blank\"><p>hi</p>");
    }

    #[test]
    fn older_pages_carry_their_cursor() {
        assert_eq!(mail_href("gate", None), "/console/apps/gate/mail");
        let href = mail_href("gate", Some("1700000000123.0199a1c2-0000-7000-8000-000000000001"));
        let (path, query) = href.split_once('?').unwrap();
        assert_eq!(path, "/console/apps/gate/mail");
        let map =
            ParamsMap::from_iter(query.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v)));
        assert_eq!(map.get("cursor").as_deref(), Some("1700000000123.0199a1c2-0000-7000-8000-000000000001"), "{href}");
    }
}
