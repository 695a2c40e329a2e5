//! The OIDC clients tab: the relying parties of the app as an OpenID Connect provider, a form
//! for a new one (a confidential client's secret shown once), their redirect and post-logout
//! URIs edited, the secret rotated, the client deleted.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::credentials::CopyButton;
use super::error_text;
use crate::api::{
    self, CreateOidcClient, DeleteOidcClient, FreshClientSecret, OidcClientInfo, OidcClientsView,
    RotateOidcClientSecret, UpdateOidcClientUris,
};

/// The page's four actions; `Copy`, so each form can hold them.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateOidcClient>,
    update: ServerAction<UpdateOidcClientUris>,
    rotate: ServerAction<RotateOidcClientSecret>,
    delete: ServerAction<DeleteOidcClient>,
}

#[component]
pub fn OidcClientsPage() -> impl IntoView {
    let slug = slug_param();
    let actions = Actions {
        create: ServerAction::<CreateOidcClient>::new(),
        update: ServerAction::<UpdateOidcClientUris>::new(),
        rotate: ServerAction::<RotateOidcClientSecret>::new(),
        delete: ServerAction::<DeleteOidcClient>::new(),
    };
    let changes =
        (successes(actions.create), successes(actions.update), successes(actions.rotate), successes(actions.delete));
    let clients = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get(), changes.3.get()),
        |(slug, ..)| api::list_oidc_clients(slug),
    );
    let permissions = permissions_resource();
    let create_form = reset_on_success(actions.create);
    let shown = RwSignal::new(None::<FreshClientSecret>);
    for value in [actions.create.value(), actions.rotate.value()] {
        Effect::new(move |_| {
            if let Some(Ok(fresh)) = value.get() {
                shown.set(Some(fresh));
            }
        });
    }
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading OIDC clients…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match clients.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("OIDC clients · {} · Rampart", slug())/>
                        <Board slug=slug() data perms actions create_form shown/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

/// A client just made or given a new secret: its id, and its secret this once.
fn secret_box(fresh: FreshClientSecret) -> impl IntoView {
    let FreshClientSecret { client_id, client_secret, .. } = fresh;
    view! {
        <div class="secret-box" role="status" data-testid="new-oidc-client">
            <strong>"OIDC client ready"</strong>
            {client_secret.is_some().then(|| view! {
                <p>"Copy the secret now: it is shown this once and never again. Rampart keeps only a digest of it."</p>
            })}
            <dl class="credential-pair">
                <dt>"client_id"</dt>
                <dd>
                    <code class="secret" data-testid="oidc-client-id">{client_id.clone()}</code>
                    <CopyButton text=client_id label="Copy the client_id".into()/>
                </dd>
                {client_secret.map(|secret| view! {
                    <dt>"client_secret"</dt>
                    <dd>
                        <code class="secret" data-testid="oidc-client-secret">{secret.clone()}</code>
                        <CopyButton text=secret label="Copy the client_secret".into()/>
                    </dd>
                })}
            </dl>
        </div>
    }
}

#[component]
fn Board(
    slug: String,
    data: OidcClientsView,
    perms: Perms,
    actions: Actions,
    create_form: NodeRef<leptos::html::Form>,
    shown: RwSignal<Option<FreshClientSecret>>,
) -> impl IntoView {
    let OidcClientsView { clients, fresh } = data;
    let fresh = fresh.map(secret_box);
    let create = actions.create;
    let create_error = error_text(create.value());
    let change_error = {
        let (update, rotate, delete) = (
            error_text(actions.update.value()),
            error_text(actions.rotate.value()),
            error_text(actions.delete.value()),
        );
        move || update().or_else(&rotate).or_else(&delete)
    };
    let (can_update, can_delete) = (perms.has("oidc.update"), perms.has("oidc.delete"));
    let list = if clients.is_empty() {
        Either::Left(view! { <p class="empty">"No OIDC clients yet."</p> })
    } else {
        Either::Right(view! { <ClientTable slug=slug.clone() clients can_update can_delete actions/> })
    };
    view! {
        {fresh}
        {move || shown.get().map(secret_box)}
        <h2 class="first">"OIDC clients"</h2>
        <p class="muted small">
            "This app is an OpenID Connect provider: point any OIDC library at the issuer "
            <code>"/"{slug.clone()}</code>" (discovery at "<code>"/"{slug.clone()}"/.well-known/openid-configuration"</code>
            "). Redirect URIs must match exactly."
        </p>
        <p class="error" role="alert">{change_error}</p>
        {list}
        {perms.has("oidc.create").then(|| view! {
            <div class="card create-key" data-testid="create-oidc-client">
                <h2>"Register a client"</h2>
                <ActionForm action=create node_ref=create_form attr:class="stack">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>"Name"<input type="text" name="name" required maxlength="100"/></label>
                    <label>
                        "Type"
                        <select name="client_type">
                            <option value="confidential" selected>"Confidential (a server: has a secret)"</option>
                            <option value="public">"Public (a browser or mobile app: PKCE, no secret)"</option>
                        </select>
                    </label>
                    <label>
                        "Redirect URIs"
                        <textarea name="redirect_uris" rows="2" placeholder="https://app.example.com/callback"></textarea>
                        <span class="hint">"One a line; https, or http to localhost."</span>
                    </label>
                    <label>
                        "Post-logout redirect URIs"
                        <textarea name="post_logout_redirect_uris" rows="1"></textarea>
                    </label>
                    <label>
                        "Grant types"
                        <input type="text" name="grant_types" placeholder="authorization_code refresh_token"/>
                        <span class="hint">"Space-separated: authorization_code, refresh_token, client_credentials."</span>
                    </label>
                    <label>
                        "Scopes"
                        <input type="text" name="scopes" placeholder="openid profile email"/>
                        <span class="hint">"Space-separated: openid, profile, email, phone, offline_access."</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="first_party"/>
                        " First party (your own app: its users are not asked for consent)"
                    </label>
                    <p class="error" role="alert">{create_error}</p>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Register client"</button>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn ClientTable(
    slug: String,
    clients: Vec<OidcClientInfo>,
    can_update: bool,
    can_delete: bool,
    actions: Actions,
) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let Actions { update, rotate, delete, .. } = actions;
    let rows = clients
        .into_iter()
        .map(|c| {
            let id = StoredValue::new(c.client_id.clone());
            let confidential = c.client_type == "confidential";
            let (uris, logout_uris) = (c.redirect_uris.join("\n"), c.post_logout_redirect_uris.join("\n"));
            let edit_form = can_update.then(|| view! {
                <details class="disclosure">
                    <summary>"Edit URIs"</summary>
                    <ActionForm action=update attr:class="stack">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="client_id" value=id.get_value()/>
                        <label>"Redirect URIs"
                            <textarea name="redirect_uris" rows="2">{uris}</textarea>
                        </label>
                        <label>"Post-logout redirect URIs"
                            <textarea name="post_logout_redirect_uris" rows="1">{logout_uris}</textarea>
                        </label>
                        <button type="submit" class="primary" disabled=move || update.pending().get()>"Save URIs"</button>
                    </ActionForm>
                </details>
            });
            let rotate_form = (can_update && confidential).then(|| view! {
                <details class="disclosure">
                    <summary>"Rotate secret"</summary>
                    <ActionForm action=rotate attr:class="stack">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="client_id" value=id.get_value()/>
                        <p class="small">"The current secret stops working at once."</p>
                        <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Rotate secret"</button>
                    </ActionForm>
                </details>
            });
            let delete_form = can_delete.then(|| view! {
                <details class="disclosure danger">
                    <summary>"Delete"</summary>
                    <ActionForm action=delete attr:class="stack">
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="client_id" value=id.get_value()/>
                        <p class="small">"Its sign-ins end at once and its users' consents are forgotten. This cannot be undone."</p>
                        <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete client"</button>
                    </ActionForm>
                </details>
            });
            view! {
                <tr data-testid=format!("oidc-client-{}", c.client_id)>
                    <td>
                        <strong>{c.name.clone()}</strong>
                        {c.first_party.then(|| view! { <div class="muted small">"first party"</div> })}
                    </td>
                    <td><code>{c.client_id.clone()}</code></td>
                    <td><span class="badge">{c.client_type.clone()}</span></td>
                    <td class="small">{c.redirect_uris.iter().map(|u| view! { <div><code>{u.clone()}</code></div> }).collect_view()}</td>
                    <td class="muted small">{c.grant_types.join(", ")}<br/>{c.scopes.join(" ")}</td>
                    <td class="role-actions">{edit_form}{rotate_form}{delete_form}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="oidc-clients">
            <thead><tr><th>"Name"</th><th>"client_id"</th><th>"Type"</th><th>"Redirect URIs"</th><th>"Grants and scopes"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
