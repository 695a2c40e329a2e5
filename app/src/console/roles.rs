//! The roles tab: the app's roles with their permissions; create, edit and delete them.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, CreateRole, DeleteRole, PermissionInfo, RoleInfo, RolesView, UpdateRole};

/// The three actions of the page, shared by every role's forms.
#[derive(Clone, Copy)]
struct RoleActions {
    update: ServerAction<UpdateRole>,
    delete: ServerAction<DeleteRole>,
    /// The role whose form was sent last, to show a refusal beside it.
    target: RwSignal<Option<String>>,
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let slug = slug_param();
    let create = ServerAction::<CreateRole>::new();
    let actions = RoleActions {
        update: ServerAction::<UpdateRole>::new(),
        delete: ServerAction::<DeleteRole>::new(),
        target: RwSignal::new(None),
    };
    let changes = (successes(create), successes(actions.update), successes(actions.delete));
    let roles = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get()),
        |(slug, ..)| api::list_roles(slug),
    );
    let permissions = permissions_resource();
    let create_form = reset_on_success(create);
    Effect::new(move |_| {
        let sent = actions.update.input().with(|i| i.as_ref().map(|i| i.name.clone()));
        let sent = sent.or_else(|| actions.delete.input().with(|i| i.as_ref().map(|i| i.name.clone())));
        if sent.is_some() {
            actions.target.set(sent);
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading roles…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match roles.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Roles · {} · Rampart", slug())/>
                        <RolesBoard slug=slug() data perms create create_form actions/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn RolesBoard(
    slug: String,
    data: RolesView,
    perms: Perms,
    create: ServerAction<CreateRole>,
    create_form: NodeRef<leptos::html::Form>,
    actions: RoleActions,
) -> impl IntoView {
    let RolesView { roles, catalog } = data;
    let names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
    // A refusal sent back to a page without JavaScript does not say which role it was about.
    let loose_error = move || {
        if actions.target.get().is_some() {
            return None;
        }
        error_text(actions.update.value())().or_else(error_text(actions.delete.value()))
    };
    let create_error = error_text(create.value());
    // Keyed by content: a changed role gets a fresh card (its open forms closed), and a
    // deleted one does not hand its open forms to the next.
    let cards = {
        let (slug, catalog, perms) = (slug.clone(), catalog.clone(), perms.clone());
        view! {
            <For
                each=move || roles.clone()
                key=|role| (role.name.clone(), role.description.clone(), role.permissions.clone())
                children=move |role| view! {
                    <RoleCard slug=slug.clone() role catalog=catalog.clone() names=names.clone() perms=perms.clone() actions/>
                }
            />
        }
    };
    view! {
        <section class="split">
            <div>
                <h2 class="first">"Roles"</h2>
                <p class="muted small">
                    "A role is a set of permission strings. End-users and members each hold one role of the app."
                </p>
                <p class="error" role="alert">{loose_error}</p>
                <div class="roles" data-testid="role-list">{cards}</div>
            </div>
            {perms.has("role.create").then(|| view! {
                <div class="card" data-testid="create-role">
                    <h2>"Create a role"</h2>
                    <ActionForm action=create node_ref=create_form attr:class="stack">
                        <input type="hidden" name="slug" value=slug.clone()/>
                        <label>"Role name"<input type="text" name="name" placeholder="billing-admin" required
                            pattern="[a-z][a-z0-9_\\-]{1,39}" title="2-40 lowercase letters, digits, '-' or '_', starting with a letter"/></label>
                        <label>"Description"<input type="text" name="description" placeholder="Reads invoices"/></label>
                        <PermissionPicker catalog=catalog.clone() checked=vec![]/>
                        <label>
                            "Other permissions"
                            <input type="text" name="extra" placeholder="billing.read, reports.export"/>
                            <span class="hint">"Your app's own permission strings, separated by commas or spaces."</span>
                        </label>
                        <p class="error" role="alert">{create_error}</p>
                        <button type="submit" class="primary" disabled=move || create.pending().get()>"Create role"</button>
                    </ActionForm>
                </div>
            })}
        </section>
    }
}

/// Checkboxes for the catalog's permissions, the app's own first.
#[component]
fn PermissionPicker(catalog: Vec<PermissionInfo>, checked: Vec<String>) -> impl IntoView {
    let (builtin, custom): (Vec<_>, Vec<_>) = catalog.into_iter().partition(|p| p.builtin);
    let group = move |title: &'static str, list: Vec<PermissionInfo>| {
        (!list.is_empty()).then(|| {
            let boxes = list
                .into_iter()
                .map(|p| {
                    let on = checked.contains(&p.name);
                    view! {
                        <label class="check" title=p.description.clone()>
                            <input type="checkbox" name="permissions[]" value=p.name.clone() checked=on/>
                            <code>{p.name.clone()}</code>
                        </label>
                    }
                })
                .collect_view();
            view! { <div class="picker-group"><span class="picker-title">{title}</span><div class="checks">{boxes}</div></div> }
        })
    };
    view! {
        <fieldset class="picker">
            <legend>"Permissions"</legend>
            {group("Your app's permissions", custom)}
            {group("Managing the app in Rampart", builtin)}
        </fieldset>
    }
}

#[component]
fn RoleCard(
    slug: String,
    role: RoleInfo,
    catalog: Vec<PermissionInfo>,
    names: Vec<String>,
    perms: Perms,
    actions: RoleActions,
) -> impl IntoView {
    let RoleActions { update, delete, target } = actions;
    let name = role.name.clone();
    // Copy handles: each form's children own what they capture.
    let (slug, name_value) = (StoredValue::new(slug), StoredValue::new(name.clone()));
    let description = role.description.clone();
    let checked = role.permissions.clone();
    let mine = {
        let name = name.clone();
        move || target.with(|t| t.as_deref() == Some(name.as_str()))
    };
    let error = {
        let mine = mine.clone();
        move || if mine() { error_text(update.value())().or_else(error_text(delete.value())) } else { None }
    };
    // Strings of the role the catalog lacks stay editable as text.
    let unlisted: Vec<String> =
        role.permissions.iter().filter(|p| !catalog.iter().any(|c| &c.name == *p)).cloned().collect();
    let chips = if role.permissions.is_empty() {
        Either::Left(view! { <span class="muted small">"No permissions"</span> })
    } else {
        Either::Right(
            role.permissions.iter().map(|p| view! { <code class="perm">{p.clone()}</code>" " }).collect_view(),
        )
    };
    let edit = perms.has("role.update").then(|| {
        view! {
            <details class="disclosure">
                <summary>"Edit"</summary>
                <ActionForm action=update attr:class="stack">
                    <input type="hidden" name="slug" value=slug.get_value()/>
                    <input type="hidden" name="name" value=name_value.get_value()/>
                    <label>"Description"<input type="text" name="description" value=description/></label>
                    <PermissionPicker catalog=catalog.clone() checked/>
                    <label>
                        "Other permissions"
                        <input type="text" name="extra" value=unlisted.join(", ") placeholder="billing.read, reports.export"/>
                    </label>
                    <button type="submit" class="primary" disabled=move || update.pending().get()>"Save role"</button>
                </ActionForm>
            </details>
        }
    });
    let others: Vec<String> = names.into_iter().filter(|n| *n != name).collect();
    let remove = (perms.has("role.delete") && !role.is_system).then(|| {
        view! {
            <details class="disclosure danger">
                <summary>"Delete"</summary>
                <ActionForm action=delete attr:class="stack">
                    <input type="hidden" name="slug" value=slug.get_value()/>
                    <input type="hidden" name="name" value=name_value.get_value()/>
                    <label>
                        "Move its holders to"
                        <select name="reassign_to">
                            <option value="">"Nobody holds it"</option>
                            {others.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete role"</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <article class="card role" data-testid=format!("role-{}", role.name)>
            <header class="role-head">
                <h3>{role.name.clone()}</h3>
                <span class=if role.is_system { "badge system" } else { "badge custom" }>
                    {if role.is_system { "system" } else { "custom" }}
                </span>
            </header>
            {(!role.description.is_empty()).then(|| view! { <p class="muted small">{role.description.clone()}</p> })}
            <div class="perms">{chips}</div>
            {(edit.is_some() || remove.is_some()).then(|| view! { <div class="role-actions">{edit}{remove}</div> })}
            <p class="error" role="alert">{error}</p>
        </article>
    }
}
