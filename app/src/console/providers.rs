//! The Sign-in providers tab: the app's external providers ("Continue with GitHub"), added
//! from a preset or as any OpenID provider, with the callback URL to register there; the
//! client secret is write-only. Enable or disable, auto-linking by verified email, delete.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, AddProvider, DeleteProvider, ProviderView, SetProviderFlag, PROVIDER_KINDS};

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddProvider>,
    flag: ServerAction<SetProviderFlag>,
    delete: ServerAction<DeleteProvider>,
}

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let slug = slug_param();
    let actions = Actions {
        add: ServerAction::<AddProvider>::new(),
        flag: ServerAction::<SetProviderFlag>::new(),
        delete: ServerAction::<DeleteProvider>::new(),
    };
    let changes = (successes(actions.add), successes(actions.flag), successes(actions.delete));
    let providers = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get()),
        |(slug, ..)| api::list_providers(slug),
    );
    let permissions = permissions_resource();
    let add_form = reset_on_success(actions.add);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading sign-in providers…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match providers.await {
                    Ok(list) => Either::Left(view! {
                        <Title text=format!("Sign-in providers · {} · Rampart", slug())/>
                        <Board slug=slug() list perms actions add_form/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn Board(
    slug: String,
    list: Vec<ProviderView>,
    perms: Perms,
    actions: Actions,
    add_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let can_change = perms.has("config.update");
    let add = actions.add;
    let add_error = error_text(add.value());
    let change_error = {
        let (a, b) = (error_text(actions.flag.value()), error_text(actions.delete.value()));
        move || a().or_else(&b)
    };
    let table = if list.is_empty() {
        Either::Left(view! { <p class="empty">"No sign-in providers yet."</p> })
    } else {
        Either::Right(view! { <ProviderTable slug=slug.clone() list can_change actions/> })
    };
    let kinds = PROVIDER_KINDS.iter().map(|k| view! { <option value=*k>{*k}</option> }).collect_view();
    view! {
        <h2 class="first">"Sign-in providers"</h2>
        <p class="muted small">
            "End-users can sign in with these providers on the hosted pages (\"Continue with …\") and through "
            <code>"GET /"{slug.clone()}"/v1/auth/oauth/{provider}/authorize"</code>
            ". Register the callback URL shown for each at the provider."
        </p>
        <p class="error" role="alert">{change_error}</p>
        {table}
        {can_change.then(|| view! {
            <div class="card create-key" data-testid="add-provider">
                <h2>"Add a provider"</h2>
                <ActionForm action=add node_ref=add_form attr:class="stack">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>
                        "Kind"
                        <select name="kind">{kinds}</select>
                        <span class="hint">"A preset (endpoints and claims built in), or oidc for any OpenID provider found through its issuer."</span>
                    </label>
                    <label>
                        "Name"
                        <input type="text" name="name" placeholder="the kind" maxlength="40"/>
                        <span class="hint">"Used in the URLs; lowercase letters, digits and dashes."</span>
                    </label>
                    <label>"Button label"<input type="text" name="display_name" maxlength="60"/></label>
                    <label>
                        "Issuer"
                        <input type="url" name="issuer" placeholder="https://accounts.example.com"/>
                        <span class="hint">"Needed for oidc (its discovery document is read from there); optional for the presets."</span>
                    </label>
                    <label>"Client id"<input type="text" name="client_id" required maxlength="500"/></label>
                    <label>
                        "Client secret"
                        <input type="password" name="client_secret" autocomplete="off" maxlength="2000"/>
                        <span class="hint">"Sealed with the master key and never shown again."</span>
                    </label>
                    <label>
                        "Scopes"
                        <input type="text" name="scopes" placeholder="the preset's"/>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="auto_link"/>
                        "Link to an existing user with the same email, when the provider says the email is verified"
                    </label>
                    <p class="error" role="alert">{add_error}</p>
                    <button type="submit" class="primary" disabled=move || add.pending().get()>"Add provider"</button>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn ProviderTable(slug: String, list: Vec<ProviderView>, can_change: bool, actions: Actions) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let Actions { flag, delete, .. } = actions;
    let rows = list
        .into_iter()
        .map(|p| {
            let name = StoredValue::new(p.name.clone());
            let toggle = move |field: &'static str, on: bool, label: &'static str| {
                view! {
                    <ActionForm action=flag attr:class="inline">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="name" value=name.get_value()/>
                        <input type="hidden" name="field" value=field/>
                        <input type="hidden" name="value" value=if on { "false" } else { "true" }/>
                        <button type="submit" class="small">{label}</button>
                    </ActionForm>
                }
            };
            let controls = can_change.then(|| {
                view! {
                    {toggle("enabled", p.enabled, if p.enabled { "Disable" } else { "Enable" })}
                    {toggle("auto_link", p.auto_link, if p.auto_link { "Stop auto-linking" } else { "Auto-link" })}
                    <details class="disclosure danger">
                        <summary>"Delete"</summary>
                        <ActionForm action=delete attr:class="stack">
                            <input type="hidden" name="slug" value=slug.get_value()/>
                            <input type="hidden" name="name" value=name.get_value()/>
                            <p class="small">"Users who signed in only through it can no longer sign in that way; their links to it are removed."</p>
                            <button type="submit" class="danger">"Delete provider"</button>
                        </ActionForm>
                    </details>
                }
            });
            let state = if p.enabled { "active" } else { "revoked" };
            view! {
                <tr data-testid=format!("provider-{}", p.name)>
                    <td>
                        <strong>{p.display_name.clone()}</strong>
                        <div class="muted small"><code>{p.name.clone()}</code>" · "{p.kind.clone()}</div>
                    </td>
                    <td class="small">
                        <div>"Callback: "<code data-testid="callback-url">{p.callback_url.clone()}</code></div>
                        <div class="muted">"Client id "<code>{p.client_id.clone()}</code>
                            {if p.has_client_secret { ", secret set" } else { ", no secret" }}</div>
                    </td>
                    <td>
                        <span class=format!("badge {state}")>{if p.enabled { "enabled" } else { "disabled" }}</span>
                        {p.auto_link.then(|| view! { <div class="muted small">"auto-links verified emails"</div> })}
                    </td>
                    <td class="role-actions">{controls}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="providers">
            <thead><tr><th>"Provider"</th><th>"Registration"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
