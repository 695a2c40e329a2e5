//! The API keys tab: the app's keys, a form for a new one (whose secret is shown once), and
//! revoking.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, ApiKeyInfo, ApiKeysView, CreateApiKey, FreshApiKey, RevokeApiKey};

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let slug = slug_param();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let changes = (successes(create), successes(revoke));
    let keys = Resource::new(move || (slug(), changes.0.get(), changes.1.get()), |(slug, ..)| api::list_api_keys(slug));
    let permissions = permissions_resource();
    let create_form = reset_on_success(create);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading API keys…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match keys.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("API keys · {} · Rampart", slug())/>
                        <KeysBoard slug=slug() data perms create create_form revoke/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

/// The secret of a key just created: the one time anyone sees it.
fn secret_box(key: FreshApiKey) -> impl IntoView {
    view! {
        <div class="secret-box" role="status" data-testid="new-api-key">
            <strong>"API key “"{key.name}"” created."</strong>
            <p>"Copy it now: it won't be shown again. Rampart keeps only a digest of it."</p>
            <code class="secret" data-testid="api-key-secret">{key.secret}</code>
        </div>
    }
}

#[component]
fn KeysBoard(
    slug: String,
    data: ApiKeysView,
    perms: Perms,
    create: ServerAction<CreateApiKey>,
    create_form: NodeRef<leptos::html::Form>,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    let ApiKeysView { keys, grantable_scopes, fresh } = data;
    // Created through JavaScript, the key is in the action's answer; created by a plain form,
    // the page the browser went back to brought it.
    let created = move || match create.value().get() {
        Some(Ok(key)) => Some(secret_box(key)),
        _ => None,
    };
    let fresh = fresh.map(secret_box);
    let create_error = error_text(create.value());
    let revoke_error = error_text(revoke.value());
    let can_revoke = perms.has("apikey.revoke");
    let list = if keys.is_empty() {
        Either::Left(view! { <p class="empty">"No API keys yet."</p> })
    } else {
        Either::Right(view! { <KeyTable slug=slug.clone() keys can_revoke revoke/> })
    };
    view! {
        {fresh}
        {created}
        <h2 class="first">"API keys"</h2>
        <p class="muted small">
            "Your app's backend calls the management API with a key instead of an account. "
            "A key holds only the scopes it was given."
        </p>
        <p class="error" role="alert">{revoke_error}</p>
        {list}
        {perms.has("apikey.create").then(|| view! {
            <div class="card create-key" data-testid="create-api-key">
                <h2>"Create an API key"</h2>
                <ActionForm action=create node_ref=create_form attr:class="key-form">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <div class="stack">
                        <label>"Key name"<input type="text" name="name" placeholder="billing backend" required/></label>
                        <label>
                            "Expires after (days)"
                            <input type="number" name="expires_in_days" min="1" max="3650" step="1" placeholder="never"/>
                            <span class="hint">"Leave blank for a key that does not expire."</span>
                        </label>
                        <p class="error" role="alert">{create_error}</p>
                        <button type="submit" class="primary" disabled=move || create.pending().get()>"Create key"</button>
                    </div>
                    <fieldset class="picker">
                        <legend>"Scopes"</legend>
                        <div class="checks">
                            {grantable_scopes.into_iter().map(|s| view! {
                                <label class="check">
                                    <input type="checkbox" name="scopes[]" value=s.clone()/>
                                    <code>{s.clone()}</code>
                                </label>
                            }).collect_view()}
                        </div>
                        <span class="hint">"Only scopes your own role holds. "<code>"rampart.signup.create"</code>
                            " lets the key sign users up when sign-up needs an API key."</span>
                    </fieldset>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn KeyTable(
    slug: String,
    keys: Vec<ApiKeyInfo>,
    can_revoke: bool,
    revoke: ServerAction<RevokeApiKey>,
) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let rows = keys
        .into_iter()
        .map(|k| {
            let action = (can_revoke && k.state == "active").then(|| {
                let (id, label) = (k.id.clone(), format!("Revoke {}", k.name));
                view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="small danger-link" disabled=move || revoke.pending().get()
                            aria-label=label>"Revoke"</button>
                    </ActionForm>
                }
            });
            // When it was revoked, when it expired, or until when it works.
            let status_time = match (k.revoked_at, k.expires_at, k.state.as_str()) {
                (Some(t), _, _) => Some(t),
                (None, Some(t), "active") => Some(format!("until {t}")),
                (None, t, _) => t,
            };
            view! {
                <tr data-testid=format!("api-key-{}", k.prefix)>
                    <td><strong>{k.name.clone()}</strong></td>
                    <td><code>{k.prefix.clone()}"…"</code></td>
                    <td class="perms">{k.scopes.into_iter().map(|s| view! { <code class="perm">{s}</code>" " }).collect_view()}</td>
                    <td class="muted">{k.created_at}</td>
                    <td class="muted">{k.last_used_at.unwrap_or_else(|| "never".into())}</td>
                    <td>
                        <span class=format!("badge {}", k.state)>{k.state.clone()}</span>
                        {status_time.map(|t| view! { <div class="muted small nowrap">{t}</div> })}
                    </td>
                    <td>{action}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="api-keys">
            <thead><tr><th>"Name"</th><th>"Prefix"</th><th>"Scopes"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
