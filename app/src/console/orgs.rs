//! The organizations tab: the app's organizations, searchable and paged through the URL (so
//! it works without JavaScript), and one organization's page with its members, removing a
//! member and deleting the organization.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::app::{drop_nameless, list_href, permissions_resource, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, DeleteOrg, OrgDetail, OrgList, RemoveOrgMember};

#[component]
pub fn OrgsPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let search = move || query.read().get("search").unwrap_or_default();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let orgs = Resource::new(
        move || (slug(), search(), cursor()),
        |(slug, search, cursor)| api::list_orgs(slug, Some(search), cursor),
    );
    view! {
        <div class="toolbar">
            <h2 class="first">"Organizations"</h2>
            <Form method="GET" action=move || format!("/console/apps/{}/orgs", slug()) attr:class="search"
                on_form_data=drop_nameless()>
                <input type="search" name="search" value=search aria-label="Search organizations"
                    placeholder="Name or slug"/>
                <button type="submit">"Search"</button>
            </Form>
        </div>
        <p class="muted small">
            "End-users create organizations through /"{slug}"/v1/orgs when the auth config turns them on; "
            "each member holds one of the app's roles in it."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading organizations…"</p> }>
            {move || Suspend::new(async move {
                match orgs.await {
                    Ok(list) => Either::Left(view! {
                        <Title text=format!("Organizations · {} · Rampart", slug())/>
                        <OrgTable slug=slug() search=search() first_page=cursor().is_none() list/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrgTable(slug: String, search: String, first_page: bool, list: OrgList) -> impl IntoView {
    let OrgList { organizations, next_cursor } = list;
    let pager = view! {
        <nav class="pager" aria-label="Pages">
            {(!first_page).then(|| view! { <A href=list_href(&slug, "orgs", &search, None)>"First page"</A> })}
            {next_cursor.map(|c| view! { <A href=list_href(&slug, "orgs", &search, Some(&c))>"Next page"</A> })}
        </nav>
    };
    if organizations.is_empty() {
        let text = if !search.is_empty() {
            format!("No organization matches “{search}”.")
        } else if first_page {
            "No organizations yet.".to_owned()
        } else {
            "No more organizations.".to_owned()
        };
        return Either::Left(view! { <p class="empty" data-testid="no-orgs">{text}</p>{pager} });
    }
    let rows = organizations
        .into_iter()
        .map(|o| {
            let href = format!("/console/apps/{slug}/orgs/{}", o.id);
            let org_slug = o.slug.clone();
            view! {
                <tr data-testid="org" data-slug=org_slug>
                    <td><A href=href>{o.name}</A></td>
                    <td><code>{o.slug}</code></td>
                    <td>{o.member_count}</td>
                    <td class="muted">{o.created_at}</td>
                </tr>
            }
        })
        .collect_view();
    Either::Right(view! {
        <table class="list" data-testid="orgs">
            <thead><tr><th>"Organization"</th><th>"Slug"</th><th>"Members"</th><th>"Created"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {pager}
    })
}

#[component]
pub fn OrgPage() -> impl IntoView {
    let slug = slug_param();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let remove = ServerAction::<RemoveOrgMember>::new();
    let delete = ServerAction::<DeleteOrg>::new();
    let removed = successes(remove);
    let detail = Resource::new(move || (slug(), id(), removed.get()), |(slug, id, _)| api::get_org(slug, id));
    let permissions = permissions_resource();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the organization…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match detail.await {
                    Ok(detail) => Either::Left(view! {
                        <Title text=format!("{} · Organizations · {} · Rampart", detail.org.name, slug())/>
                        <OrgBoard slug=slug() detail perms remove delete/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrgBoard(
    slug: String,
    detail: OrgDetail,
    perms: Perms,
    remove: ServerAction<RemoveOrgMember>,
    delete: ServerAction<DeleteOrg>,
) -> impl IntoView {
    let OrgDetail { org, metadata, members } = detail;
    let can_update = perms.has("org.update");
    let (slug, org_id) = (StoredValue::new(slug), StoredValue::new(org.id.clone()));
    let error = move || error_text(remove.value())().or_else(error_text(delete.value()));
    let rows = members
        .into_iter()
        .map(|m| {
            let label = format!("Remove {} from the organization", m.username);
            let (user_id, username) = (m.user_id.clone(), m.username.clone());
            let href = format!("/console/apps/{}/users/{}", slug.get_value(), m.user_id);
            let button = can_update.then(|| {
                view! {
                    <ActionForm action=remove>
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="id" value=org_id.get_value()/>
                        <input type="hidden" name="user_id" value=user_id/>
                        <button type="submit" class="small danger-link" disabled=move || remove.pending().get()
                            aria-label=label>"Remove"</button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-testid="org-member" data-username=username>
                    <td><A href=href>{m.display_name}</A><div class="muted small">{m.username}</div></td>
                    <td>{m.email.unwrap_or_default()}</td>
                    <td>{m.role}</td>
                    <td class="muted">{m.joined_at}</td>
                    <td>{button}</td>
                </tr>
            }
        })
        .collect_view();
    let delete_form = can_update.then(|| {
        view! {
            <details class="disclosure danger">
                <summary>"Delete organization"</summary>
                <ActionForm action=delete attr:class="stack tight">
                    <input type="hidden" name="slug" value=slug.get_value()/>
                    <input type="hidden" name="id" value=org_id.get_value()/>
                    <p class="small">"This removes the organization and its memberships for good; sessions acting in it act in none."</p>
                    <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete permanently"</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <nav class="crumbs"><A href=format!("/console/apps/{}/orgs", slug.get_value())>"Organizations"</A></nav>
        <div class="toolbar"><h2 class="first">{org.name.clone()}</h2></div>
        <dl class="facts">
            <dt>"Slug"</dt><dd><code>{org.slug}</code></dd>
            <dt>"Id"</dt><dd><code>{org.id}</code></dd>
            <dt>"Created"</dt><dd>{org.created_at}</dd>
            <dt>"Metadata"</dt><dd><pre class="small">{metadata}</pre></dd>
        </dl>
        <h2>"Members"</h2>
        <p class="error" role="alert">{error}</p>
        <table class="list" data-testid="org-members">
            <thead><tr><th>"Member"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {delete_form}
    }
}
