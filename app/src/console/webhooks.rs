//! The Webhooks tab: the app's endpoints (a form for a new one, its secret shown once;
//! enable, disable, rotate the secret, delete) and a page per endpoint with its delivery log
//! and redelivery.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::credentials::CopyButton;
use super::error_text;
use crate::api::{
    self, CreateWebhook, DeleteWebhook, FreshWebhookSecret, RedeliverWebhook, RotateWebhookSecret, SetWebhookEnabled,
    WebhookDetailView, WebhookInfo, WebhooksView,
};

#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
    toggle: ServerAction<SetWebhookEnabled>,
    delete: ServerAction<DeleteWebhook>,
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let slug = slug_param();
    let actions = Actions {
        create: ServerAction::<CreateWebhook>::new(),
        rotate: ServerAction::<RotateWebhookSecret>::new(),
        toggle: ServerAction::<SetWebhookEnabled>::new(),
        delete: ServerAction::<DeleteWebhook>::new(),
    };
    let changes =
        (successes(actions.create), successes(actions.rotate), successes(actions.toggle), successes(actions.delete));
    let webhooks = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get(), changes.3.get()),
        |(slug, ..)| api::list_webhooks(slug),
    );
    let permissions = permissions_resource();
    let create_form = reset_on_success(actions.create);
    let shown = RwSignal::new(None::<FreshWebhookSecret>);
    for value in [actions.create.value(), actions.rotate.value()] {
        Effect::new(move |_| {
            if let Some(Ok(fresh)) = value.get() {
                shown.set(Some(fresh));
            }
        });
    }
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading webhooks…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match webhooks.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Webhooks · {} · Rampart", slug())/>
                        <Board slug=slug() data perms actions create_form shown/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

fn secret_box(fresh: FreshWebhookSecret) -> impl IntoView {
    let FreshWebhookSecret { url, secret, .. } = fresh;
    view! {
        <div class="secret-box" role="status" data-testid="new-webhook-secret">
            <strong>"Signing secret for "{url}</strong>
            <p>"Copy it now: it is shown this once. Your receiver checks each message's "
                <code>"webhook-signature"</code>" with it (Standard Webhooks)."</p>
            <code class="secret" data-testid="webhook-secret">{secret.clone()}</code>
            <CopyButton text=secret label="Copy the signing secret".into()/>
        </div>
    }
}

#[component]
fn Board(
    slug: String,
    data: WebhooksView,
    perms: Perms,
    actions: Actions,
    create_form: NodeRef<leptos::html::Form>,
    shown: RwSignal<Option<FreshWebhookSecret>>,
) -> impl IntoView {
    let WebhooksView { webhooks, fresh } = data;
    let can_change = perms.has("webhook.update");
    let create = actions.create;
    let create_error = error_text(create.value());
    let change_error = {
        let (a, b, c) = (
            error_text(actions.rotate.value()),
            error_text(actions.toggle.value()),
            error_text(actions.delete.value()),
        );
        move || a().or_else(&b).or_else(&c)
    };
    let list = if webhooks.is_empty() {
        Either::Left(view! { <p class="empty">"No webhooks yet."</p> })
    } else {
        Either::Right(view! { <WebhookTable slug=slug.clone() webhooks can_change actions/> })
    };
    view! {
        {fresh.map(secret_box)}
        {move || shown.get().map(secret_box)}
        <h2 class="first">"Webhooks"</h2>
        <p class="muted small">
            "Each endpoint receives the app's audit events of the types it names, as signed JSON POSTs, retried with backoff. An endpoint failing for a day is disabled and the owners are mailed."
        </p>
        <p class="error" role="alert">{change_error}</p>
        {list}
        {can_change.then(|| view! {
            <div class="card create-key" data-testid="create-webhook">
                <h2>"Add an endpoint"</h2>
                <ActionForm action=create node_ref=create_form attr:class="stack">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>
                        "Endpoint URL"
                        <input type="url" name="url" required placeholder="https://example.com/webhooks/rampart" maxlength="2048"/>
                    </label>
                    <label>
                        "Event types"
                        <input type="text" name="event_types" placeholder="*"/>
                        <span class="hint">"Audit event types separated by commas, like end_user.signed_up, end_user.signed_in; * or blank for every one."</span>
                    </label>
                    <label>
                        "Description"
                        <input type="text" name="description" maxlength="200"/>
                    </label>
                    <p class="error" role="alert">{create_error}</p>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Add endpoint"</button>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn WebhookTable(slug: String, webhooks: Vec<WebhookInfo>, can_change: bool, actions: Actions) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let Actions { rotate, toggle, delete, .. } = actions;
    let rows = webhooks
        .into_iter()
        .map(|w| {
            let id = StoredValue::new(w.id.clone());
            let state = if w.enabled { "active" } else { "revoked" };
            let controls = can_change.then(|| {
                let (next, label) = if w.enabled { ("false", "Disable") } else { ("true", "Enable") };
                view! {
                    <ActionForm action=toggle attr:class="inline">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="id" value=id.get_value()/>
                        <input type="hidden" name="enabled" value=next/>
                        <button type="submit" class="small">{label}</button>
                    </ActionForm>
                    <ActionForm action=rotate attr:class="inline">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="id" value=id.get_value()/>
                        <button type="submit" class="small">"Rotate secret"</button>
                    </ActionForm>
                    <details class="disclosure danger">
                        <summary>"Delete"</summary>
                        <ActionForm action=delete attr:class="stack">
                            <input type="hidden" name="slug" value=slug.get_value()/>
                            <input type="hidden" name="id" value=id.get_value()/>
                            <p class="small">"The endpoint and its delivery log are removed; nothing more is sent to it."</p>
                            <button type="submit" class="danger">"Delete endpoint"</button>
                        </ActionForm>
                    </details>
                }
            });
            view! {
                <tr data-testid=format!("webhook-{}", w.id)>
                    <td>
                        <a href=format!("/console/apps/{}/webhooks/{}", slug.get_value(), w.id)><code>{w.url.clone()}</code></a>
                        <div class="muted small">{w.description.clone()}</div>
                    </td>
                    <td class="small">{w.event_types.join(", ")}</td>
                    <td>
                        <span class=format!("badge {state}")>{if w.enabled { "enabled" } else { "disabled" }}</span>
                        {w.disabled_reason.clone().map(|r| view! { <div class="muted small">{r}</div> })}
                        {w.failing_since.clone().map(|t| view! { <div class="muted small">"failing since "{t}</div> })}
                        {w.previous_secret_until.clone().map(|t| view! { <div class="muted small">"previous secret signs until "{t}</div> })}
                    </td>
                    <td class="role-actions">{controls}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="webhooks">
            <thead><tr><th>"Endpoint"</th><th>"Events"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// One endpoint and its delivery log.
#[component]
pub fn WebhookPage() -> impl IntoView {
    let slug = slug_param();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let redelivered = successes(redeliver);
    let detail =
        Resource::new(move || (slug(), id(), redelivered.get()), |(slug, id, _)| api::webhook_detail(slug, id));
    let permissions = permissions_resource();
    let redeliver_error = error_text(redeliver.value());
    view! {
        <p class="error" role="alert">{redeliver_error}</p>
        <Transition fallback=|| view! { <p class="muted">"Loading the endpoint…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match detail.await {
                    Ok(WebhookDetailView { webhook, deliveries }) => {
                        let can_change = perms.has("webhook.update") && webhook.enabled;
                        let rows = deliveries.into_iter().map(|d| {
                            let outcome = match (&d.last_status, &d.last_error) {
                                (Some(s), _) => format!("HTTP {s}"),
                                (None, Some(e)) => e.clone(),
                                (None, None) => "not tried yet".into(),
                            };
                            let delivery_id = d.id.clone();
                            let again = (can_change && d.status != "queued").then(move || view! {
                                <ActionForm action=redeliver attr:class="inline">
                                    <input type="hidden" name="slug" value=slug()/>
                                    <input type="hidden" name="id" value=id()/>
                                    <input type="hidden" name="delivery" value=delivery_id/>
                                    <button type="submit" class="small">"Redeliver"</button>
                                </ActionForm>
                            });
                            view! {
                                <tr data-testid=format!("delivery-{}", d.id)>
                                    <td><code>{d.event_type.clone()}</code></td>
                                    <td class="muted">{d.created_at.clone()}</td>
                                    <td><span class=format!("badge {}", d.status)>{d.status.clone()}</span></td>
                                    <td class="small">{d.attempts}" · "{outcome}</td>
                                    <td class="role-actions">{again}</td>
                                </tr>
                            }
                        }).collect_view();
                        Either::Left(view! {
                            <Title text=format!("Webhook · {} · Rampart", slug())/>
                            <p><a href=format!("/console/apps/{}/webhooks", slug())>"← Webhooks"</a></p>
                            <h2 class="first"><code>{webhook.url.clone()}</code></h2>
                            <p class="muted small" data-testid="webhook-status">
                                {if webhook.enabled { "enabled" } else { "disabled" }}" · "{webhook.event_types.join(", ")}
                            </p>
                            <table class="list" data-testid="deliveries">
                                <thead><tr><th>"Event"</th><th>"Queued"</th><th>"Status"</th><th>"Attempts · last answer"</th><th></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        })
                    }
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}
