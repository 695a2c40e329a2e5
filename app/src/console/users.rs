//! The end-users tab: a searchable list paged through the URL (so it works without
//! JavaScript), and one end-user's page with their sessions and what can be done to them.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::app::{drop_nameless, list_href, permissions_resource, slug_param, successes, unavailable, Perms};
use super::error_text;
use shared::time_format::format;
use shared::{SessionView, Status};

use crate::api::{self, DeleteEndUser, EndUserDetail, RevokeEndUserSessions, SetEndUserRole, SetEndUserStatus};

#[component]
pub fn UsersPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let search = move || query.read().get("search").unwrap_or_default();
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let users = Resource::new(
        move || (slug(), search(), cursor()),
        |(slug, search, cursor)| api::list_end_users(slug, Some(search), cursor),
    );
    view! {
        <div class="toolbar">
            <h2 class="first">"End-users"</h2>
            <Form method="GET" action=move || format!("/console/apps/{}/users", slug()) attr:class="search"
                on_form_data=drop_nameless()>
                <input type="search" name="search" value=search aria-label="Search end-users"
                    placeholder="Name, username or email"/>
                <button type="submit">"Search"</button>
            </Form>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading end-users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => Either::Left(view! {
                        <Title text=format!("End-users · {} · Rampart", slug())/>
                        <UserTable slug=slug() search=search() first_page=cursor().is_none() list/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserTable(slug: String, search: String, first_page: bool, list: shared::UserPage) -> impl IntoView {
    let shared::UserPage { users, next_cursor } = list;
    let pager = view! {
        <nav class="pager" aria-label="Pages">
            {(!first_page).then(|| view! { <A href=list_href(&slug, "users", &search, None)>"First page"</A> })}
            {next_cursor.map(|c| view! { <A href=list_href(&slug, "users", &search, Some(&c))>"Next page"</A> })}
        </nav>
    };
    if users.is_empty() {
        let text = if !search.is_empty() {
            format!("No end-user matches “{search}”.")
        } else if first_page {
            format!("No end-users yet. They appear here once they sign up through /{slug}/v1/auth/signup.")
        } else {
            "No more end-users.".to_owned()
        };
        return Either::Left(view! { <p class="empty">{text}</p>{pager} });
    }
    let rows = users
        .into_iter()
        .map(|u: shared::UserView| {
            let href = format!("/console/apps/{slug}/users/{}", u.id);
            let email = u.email().unwrap_or_default().to_owned();
            let status = u.status.as_str();
            view! {
                <tr>
                    <td><A href=href>{u.display_name}</A><div class="muted small">{u.username}</div></td>
                    <td>{email}</td>
                    <td>{u.role}</td>
                    <td><span class=format!("badge {status}")>{status}</span></td>
                    <td class="muted">{format(&u.created_at)}</td>
                </tr>
            }
        })
        .collect_view();
    Either::Right(view! {
        <table class="list" data-testid="end-users">
            <thead><tr><th>"End-user"</th><th>"Email"</th><th>"Role"</th><th>"Status"</th><th>"Created"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {pager}
    })
}

/// The actions of an end-user's page.
#[derive(Clone, Copy)]
struct UserActions {
    status: ServerAction<SetEndUserStatus>,
    role: ServerAction<SetEndUserRole>,
    revoke: ServerAction<RevokeEndUserSessions>,
    delete: ServerAction<DeleteEndUser>,
}

#[component]
pub fn UserPage() -> impl IntoView {
    let slug = slug_param();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = UserActions {
        status: ServerAction::new(),
        role: ServerAction::new(),
        revoke: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let changes = (successes(actions.status), successes(actions.role), successes(actions.revoke));
    let detail = Resource::new(
        move || (slug(), id(), changes.0.get(), changes.1.get(), changes.2.get()),
        |(slug, id, ..)| api::get_end_user(slug, id),
    );
    let permissions = permissions_resource();
    view! {
        <nav class="back"><A href=move || format!("/console/apps/{}/users", slug())>"← All end-users"</A></nav>
        <Transition fallback=|| view! { <p class="muted">"Loading the end-user…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match detail.await {
                    Ok(detail) => Either::Left(view! {
                        <Title text=format!("{} · End-users · Rampart", detail.user.display_name)/>
                        <UserView slug=slug() detail perms actions/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserView(slug: String, detail: EndUserDetail, perms: Perms, actions: UserActions) -> impl IntoView {
    let EndUserDetail { user, sessions, roles } = detail;
    let UserActions { status, role, revoke, delete } = actions;
    let error = move || {
        error_text(status.value())()
            .or_else(error_text(role.value()))
            .or_else(error_text(revoke.value()))
            .or_else(error_text(delete.value()))
    };
    let revoked = move || match revoke.value().get() {
        Some(Ok(1)) => Some("Revoked 1 session.".to_owned()),
        Some(Ok(n)) => Some(format!("Revoked {n} sessions.")),
        _ => None,
    };
    let suspended = user.status == Status::Suspended;
    // Copy handles: each form's children own what they capture.
    let slug = StoredValue::new(slug);
    let id = StoredValue::new(user.id.to_string());
    let username = user.username.clone();
    let manage = perms.has("user.update").then(|| {
        let current = user.role.clone();
        view! {
            <ActionForm action=status attr:class="stack tight">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="id" value=id.get_value()/>
                <input type="hidden" name="status" value=if suspended { "active" } else { "suspended" }/>
                <button type="submit" class=if suspended { "" } else { "warn" } disabled=move || status.pending().get()>
                    {if suspended { "Unsuspend" } else { "Suspend" }}
                </button>
                <span class="hint">
                    {if suspended { "They can sign in again." } else { "Stops their sign-ins and ends every session." }}
                </span>
            </ActionForm>
            <ActionForm action=role attr:class="inline-form">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="id" value=id.get_value()/>
                <label>
                    "Role"
                    <select name="role">
                        {roles.into_iter().map(|r| {
                            let selected = r == current;
                            view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" disabled=move || role.pending().get()>"Change role"</button>
            </ActionForm>
            <ActionForm action=revoke attr:class="stack tight">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="id" value=id.get_value()/>
                <button type="submit" disabled=move || revoke.pending().get()>"Revoke all sessions"</button>
                <span class="hint">"Their tokens stop working; they stay able to sign in."</span>
            </ActionForm>
        }
    });
    let remove = perms.has("user.delete").then(|| {
        view! {
            <details class="disclosure danger">
                <summary>"Delete end-user"</summary>
                <ActionForm action=delete attr:class="stack tight">
                    <input type="hidden" name="slug" value=slug.get_value()/>
                    <input type="hidden" name="id" value=id.get_value()/>
                    <p class="small">"This removes "<strong>{username}</strong>" and their sessions for good."</p>
                    <button type="submit" class="danger" disabled=move || delete.pending().get()>"Delete permanently"</button>
                </ActionForm>
            </details>
        }
    });
    let email = match (user.email().map(str::to_owned), user.email_verified()) {
        (Some(e), true) => EitherOf3::A(view! { {e}" "<span class="badge active">"verified"</span> }),
        (Some(e), false) => EitherOf3::B(view! { {e}" "<span class="badge muted-badge">"unverified"</span> }),
        (None, _) => EitherOf3::C(view! { <span class="muted">"none"</span> }),
    };
    view! {
        <section class="split">
            <div>
                <div class="toolbar">
                    <h2 class="first">{user.display_name.clone()}</h2>
                    {perms.has("audit.read").then(|| {
                        let href = format!("/console/apps/{}/activity?subject={}", slug.get_value(), user.id);
                        view! { <A href=href attr:data-testid="user-activity">"Activity"</A> }
                    })}
                </div>
                <dl class="facts" data-testid="user-facts">
                    <dt>"Username"</dt><dd>{user.username.clone()}</dd>
                    <dt>"Email"</dt><dd>{email}</dd>
                    <dt>"Role"</dt><dd>{user.role.clone()}</dd>
                    <dt>"Status"</dt><dd><span class=format!("badge {}", user.status.as_str()) data-testid="user-status">{user.status.as_str()}</span></dd>
                    <dt>"ID"</dt><dd><code>{user.id.to_string()}</code></dd>
                    <dt>"Created"</dt><dd>{format(&user.created_at)}</dd>
                    <dt>"Updated"</dt><dd>{format(&user.updated_at)}</dd>
                </dl>
            </div>
            {(manage.is_some() || remove.is_some()).then(|| view! {
                <aside class="card stack" data-testid="user-actions">
                    <h2>"Actions"</h2>
                    {manage}
                    {remove}
                    <p class="error" role="alert">{error}</p>
                    <p class="notice" role="status">{revoked}</p>
                </aside>
            })}
        </section>
        <h2>"Live sessions"</h2>
        <SessionTable sessions/>
    }
}

#[component]
fn SessionTable(sessions: Vec<SessionView>) -> impl IntoView {
    if sessions.is_empty() {
        return Either::Left(view! { <p class="empty">"No live sessions."</p> });
    }
    Either::Right(view! {
        <table class="list" data-testid="sessions">
            <thead><tr><th>"Device"</th><th>"IP"</th><th>"Signed in"</th><th>"Last used"</th><th>"Expires"</th></tr></thead>
            <tbody>
                {sessions.into_iter().map(|s| view! {
                    <tr>
                        <td class="agent">{s.user_agent.unwrap_or_else(|| "unknown".into())}</td>
                        <td><code>{s.ip.unwrap_or_else(|| "unknown".into())}</code></td>
                        <td class="muted">{format(&s.created_at)}</td>
                        <td class="muted">{format(&s.last_used_at)}</td>
                        <td class="muted">{format(&s.expires_at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    })
}
