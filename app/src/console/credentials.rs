//! The Credentials tab: the `app_id` + `app_secret` pairs the app's backends present (seed
//! 002), a form for a new one, rotating (the new secret shown once, with when the old one
//! stops working) and revoking.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{
    self, CreateCredential, CredentialInfo, CredentialsView, FreshCredential, RevokeCredential, RotateCredential,
};

/// The page's three actions; `Copy`, so each form can hold them.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateCredential>,
    rotate: ServerAction<RotateCredential>,
    revoke: ServerAction<RevokeCredential>,
}

#[component]
pub fn CredentialsPage() -> impl IntoView {
    let slug = slug_param();
    let actions = Actions {
        create: ServerAction::<CreateCredential>::new(),
        rotate: ServerAction::<RotateCredential>::new(),
        revoke: ServerAction::<RevokeCredential>::new(),
    };
    let changes = (successes(actions.create), successes(actions.rotate), successes(actions.revoke));
    let credentials = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get()),
        |(slug, ..)| api::list_credentials(slug),
    );
    let permissions = permissions_resource();
    let create_form = reset_on_success(actions.create);
    // The secret made last, by creating or by rotating: the one time anyone sees it.
    let shown = RwSignal::new(None::<FreshCredential>);
    for value in [actions.create.value(), actions.rotate.value()] {
        Effect::new(move |_| {
            if let Some(Ok(fresh)) = value.get() {
                shown.set(Some(fresh));
            }
        });
    }
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading credentials…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match credentials.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Credentials · {} · Rampart", slug())/>
                        <Board slug=slug() data perms actions create_form shown/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

/// Puts `text` on the clipboard through the browser's asynchronous clipboard API, where there
/// is one (a secure context); elsewhere the secret stays selectable by hand.
fn copy_to_clipboard(text: &str) {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use leptos::web_sys::js_sys::{Function, Reflect};
    let clipboard = Reflect::get(&window(), &JsValue::from_str("navigator"))
        .and_then(|navigator| Reflect::get(&navigator, &JsValue::from_str("clipboard")));
    let Ok(clipboard) = clipboard else { return };
    if let Ok(write) = Reflect::get(&clipboard, &JsValue::from_str("writeText")) {
        if let Some(write) = write.dyn_ref::<Function>() {
            // A promise; a refusal leaves the text on the page to copy by hand.
            let _ = write.call1(&clipboard, &JsValue::from_str(text));
        }
    }
}

#[component]
pub(super) fn CopyButton(text: String, label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button type="button" class="small copy" aria-label=label
            on:click=move |_| {
                copy_to_clipboard(&text);
                copied.set(true);
            }>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// A secret just made, with its `app_id`: shown this once.
fn secret_box(fresh: FreshCredential) -> impl IntoView {
    let FreshCredential { app_id, app_secret, previous_secret_expires_at, .. } = fresh;
    let heading = match previous_secret_expires_at {
        Some(_) => "New secret for this credential",
        None => "Credential created",
    };
    view! {
        <div class="secret-box" role="status" data-testid="new-credential">
            <strong>{heading}</strong>
            <p>"Copy the secret now: it is shown this once and never again. Rampart keeps only a digest of it."</p>
            <dl class="credential-pair">
                <dt>"app_id"</dt>
                <dd>
                    <code class="secret" data-testid="credential-app-id">{app_id.clone()}</code>
                    <CopyButton text=app_id label="Copy the app_id".into()/>
                </dd>
                <dt>"app_secret"</dt>
                <dd>
                    <code class="secret" data-testid="credential-secret">{app_secret.clone()}</code>
                    <CopyButton text=app_secret label="Copy the app_secret".into()/>
                </dd>
            </dl>
            {previous_secret_expires_at.map(|until| view! {
                <p data-testid="previous-secret-until">"The previous secret keeps working until "<strong>{until}</strong>
                    "; after that only this one does."</p>
            })}
        </div>
    }
}

#[component]
fn Board(
    slug: String,
    data: CredentialsView,
    perms: Perms,
    actions: Actions,
    create_form: NodeRef<leptos::html::Form>,
    shown: RwSignal<Option<FreshCredential>>,
) -> impl IntoView {
    let CredentialsView { credentials, fresh } = data;
    // Made by a plain form, the secret came with the page the browser went back to.
    let fresh = fresh.map(secret_box);
    let create = actions.create;
    let create_error = error_text(create.value());
    let change_error = {
        let (rotate, revoke) = (error_text(actions.rotate.value()), error_text(actions.revoke.value()));
        move || rotate().or_else(&revoke)
    };
    let can_rotate = perms.has("apikey.create") && perms.has("apikey.revoke");
    let can_revoke = perms.has("apikey.revoke");
    let list = if credentials.is_empty() {
        Either::Left(view! { <p class="empty">"No credentials yet."</p> })
    } else {
        Either::Right(view! { <CredentialTable slug=slug.clone() credentials can_rotate can_revoke actions/> })
    };
    view! {
        {fresh}
        {move || shown.get().map(secret_box)}
        <h2 class="first">"Credentials"</h2>
        <p class="muted small">
            "Your backend sends an "<code>"app_id"</code>" and "<code>"app_secret"</code>
            " in the body of backend-only calls, such as "<code>"POST /"{slug.clone()}"/v1/auth/refresh"</code>
            ". Keep the secret on your servers, never in a browser or an app."
        </p>
        <p class="error" role="alert">{change_error}</p>
        {list}
        {perms.has("apikey.create").then(|| view! {
            <div class="card create-key" data-testid="create-credential">
                <h2>"Create a credential"</h2>
                <ActionForm action=create node_ref=create_form attr:class="stack">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>
                        "Name"
                        <input type="text" name="name" placeholder="default" maxlength="100"/>
                        <span class="hint">"Which backend holds it, so you can tell credentials apart."</span>
                    </label>
                    <p class="error" role="alert">{create_error}</p>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create credential"</button>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn CredentialTable(
    slug: String,
    credentials: Vec<CredentialInfo>,
    can_rotate: bool,
    can_revoke: bool,
    actions: Actions,
) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let Actions { rotate, revoke, .. } = actions;
    let rows = credentials
        .into_iter()
        .map(|c| {
            let live = c.state == "active";
            let id = StoredValue::new(c.app_id.clone());
            let rotate_form = (can_rotate && live).then(|| view! {
                <details class="disclosure">
                    <summary>"Rotate"</summary>
                    <ActionForm action=rotate attr:class="stack">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="app_id" value=id.get_value()/>
                        <label>
                            "Old secret works for (seconds)"
                            <input type="number" name="overlap_seconds" min="0" max="604800" step="1" placeholder="86400"/>
                            <span class="hint">"0 to 604800; blank: a day. Time for your backends to switch to the new secret."</span>
                        </label>
                        <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Rotate secret"</button>
                    </ActionForm>
                </details>
            });
            let revoke_form = (can_revoke && live).then(|| view! {
                <details class="disclosure danger">
                    <summary>"Revoke"</summary>
                    <ActionForm action=revoke attr:class="stack">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="app_id" value=id.get_value()/>
                        <p class="small">"Every backend using it is refused at once, its previous secret too. This cannot be undone."</p>
                        <button type="submit" class="danger" disabled=move || revoke.pending().get()>"Revoke credential"</button>
                    </ActionForm>
                </details>
            });
            let status_time = match (&c.revoked_at, &c.rotated_at) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(t)) => Some(format!("rotated {t}")),
                (None, None) => None,
            };
            view! {
                <tr data-testid=format!("credential-{}", c.app_id)>
                    <td><strong>{c.name.clone()}</strong></td>
                    <td><code>{c.app_id.clone()}</code></td>
                    <td class="muted">{c.created_at.clone()}</td>
                    <td class="muted">{c.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                    <td>
                        <span class=format!("badge {}", c.state)>{c.state.clone()}</span>
                        {status_time.map(|t| view! { <div class="muted small nowrap">{t}</div> })}
                        {c.previous_works_until.clone().map(|t| view! {
                            <div class="muted small">"previous secret works until "{t}</div>
                        })}
                    </td>
                    <td class="role-actions">{rotate_form}{revoke_form}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="credentials">
            <thead><tr><th>"Name"</th><th>"app_id"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
