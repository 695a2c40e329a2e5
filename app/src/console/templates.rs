//! The app's own wording of its messages: one kind at a time (picked in the URL, so the page
//! works without JavaScript), with the placeholders it may use and those it must; saving
//! shows the message as it now renders, with example values. A kind without a template uses
//! Rampart's wording, which "Use Rampart's wording" goes back to.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::config::{MailTemplate, MAIL_KINDS, MAIL_PLACEHOLDERS};

use super::app::{slug_param, unavailable};
use super::error_text;
use crate::api::{self, SaveMailTemplate};

/// Text for a textarea given as markup (a text child would turn an empty one into a space).
pub(super) fn escaped(raw: &str) -> String {
    raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let kind = move || {
        let asked = query.read().get("kind").unwrap_or_default();
        MAIL_KINDS.iter().map(|(k, _)| *k).find(|k| *k == asked).unwrap_or(MAIL_KINDS[0].0)
    };
    let save = ServerAction::<SaveMailTemplate>::new();
    let templates = Resource::new(move || (slug(), save.version().get()), |(slug, _)| api::mail_templates(slug));
    view! {
        <Title text=format!("Message templates · {} · Rampart", untrack(slug))/>
        <div class="toolbar">
            <h2 class="first">"Message templates"</h2>
            <A href=move || format!("/console/apps/{}/mail", slug())>"Back to the mail"</A>
        </div>
        <nav class="tabs kinds" aria-label="Messages" data-testid="template-kinds">
            {MAIL_KINDS.iter().map(|(k, _)| {
                let k = *k;
                view! {
                    <a href=move || format!("/console/apps/{}/mail/templates?kind={k}", slug())
                        aria-current=move || (kind() == k).then_some("page")>{k}</a>
                }
            }).collect_view()}
        </nav>
        <Suspense fallback=|| view! { <p class="muted">"Loading the templates…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(templates) => {
                        let current = templates.get(kind()).cloned();
                        Either::Left(view! { <Editor slug=slug() kind=kind() current save/> })
                    }
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Suspense>
        <Preview save/>
    }
}

#[component]
fn Editor(
    slug: String,
    kind: &'static str,
    current: Option<MailTemplate>,
    save: ServerAction<SaveMailTemplate>,
) -> impl IntoView {
    let required = MAIL_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, r)| r.join(" ")).unwrap_or_default();
    let placeholders = MAIL_PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(" ");
    let custom = current.is_some();
    let template = current.unwrap_or_default();
    let (slug2, error) = (slug.clone(), error_text(save.value()));
    view! {
        <section class="card" data-testid="template-editor" data-kind=kind>
            <p class="muted small">
                {if custom { "This app's own wording. " } else { "Rampart's wording is used: write the app's own here. " }}
                "Placeholders: "<code>{placeholders}</code>
                {(!required.is_empty()).then(|| view! { " · required in the text: "<code>{required.clone()}</code> })}
            </p>
            <ActionForm action=save attr:class="settings">
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="kind" value=kind/>
                <label class="field wide">
                    <span>"Subject"</span>
                    <input type="text" name="subject" value=template.subject.clone() required autocomplete="off"/>
                </label>
                <label class="field block">
                    <span>"Text"</span>
                    <textarea name="text" rows="10" spellcheck="false" required
                        inner_html=escaped(&template.text)></textarea>
                </label>
                <label class="field block">
                    <span>"HTML (optional: blank makes it from the text)"</span>
                    <textarea name="html" rows="6" spellcheck="false" inner_html=escaped(&template.html)></textarea>
                </label>
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save and preview"</button>
                    <p class="error" role="alert">{error}</p>
                </div>
            </ActionForm>
            {custom.then(|| view! {
                <ActionForm action=save>
                    <input type="hidden" name="slug" value=slug2/>
                    <input type="hidden" name="kind" value=kind/>
                    <input type="hidden" name="reset" value="1"/>
                    <button type="submit">"Use Rampart's wording"</button>
                </ActionForm>
            })}
        </section>
    }
}

/// The message as the last save renders it.
#[component]
fn Preview(save: ServerAction<SaveMailTemplate>) -> impl IntoView {
    move || {
        save.value().get().and_then(Result::ok).map(|mail| {
            let title = format!("Preview of “{}”", mail.subject);
            view! {
                <section class="card" data-testid="template-preview">
                    <p role="status">"Saved. The message now reads:"</p>
                    <dl class="facts"><dt>"Subject"</dt><dd data-testid="preview-subject">{mail.subject.clone()}</dd></dl>
                    <pre data-testid="preview-text">{mail.text.clone()}</pre>
                    <iframe sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc=super::mail::framed(&mail.html)
                        title=title referrerpolicy="no-referrer"></iframe>
                </section>
            }
        })
    }
}
