//! The invites tab: invite an end-user by email (the mail carries the code and a link to the
//! hosted page that accepts it), the app's invites newest first, and revoking pending ones.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::time_format::format;
use shared::InviteView;

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, CreateInvite, InvitesView, RevokeInvite};

/// Hours an invite lasts unless the form says otherwise (the engine's default too).
const DEFAULT_HOURS: &str = "72";

#[component]
pub fn InvitesPage() -> impl IntoView {
    let slug = slug_param();
    let create = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let changes = (successes(create), successes(revoke));
    let invites =
        Resource::new(move || (slug(), changes.0.get(), changes.1.get()), |(slug, ..)| api::list_invites(slug));
    let permissions = permissions_resource();
    let create_form = reset_on_success(create);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading invites…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match invites.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Invites · {} · Rampart", slug())/>
                        <InvitesBoard slug=slug() data perms create create_form revoke/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn InvitesBoard(
    slug: String,
    data: InvitesView,
    perms: Perms,
    create: ServerAction<CreateInvite>,
    create_form: NodeRef<leptos::html::Form>,
    revoke: ServerAction<RevokeInvite>,
) -> impl IntoView {
    let InvitesView { invites, roles, default_role } = data;
    let mail_href = perms.has("config.update").then(|| format!("/console/apps/{slug}/mail"));
    // Where the invite went, and where to read it: without SMTP the Mail tab is its inbox.
    let sent = move || match create.value().get() {
        Some(Ok(invite)) => Some(view! {
            <p class="notice ok" role="status" data-testid="invite-sent">
                "Invite sent to "<strong>{invite.email}</strong>"."
                {mail_href.clone().map(|href| view! { " "<A href=href>"Read it in Mail"</A> })}
            </p>
        }),
        _ => None,
    };
    let create_error = error_text(create.value());
    let revoke_error = error_text(revoke.value());
    let can_revoke = perms.has("invite.revoke");
    let can_open_users = perms.has("user.read");
    let list = if invites.is_empty() {
        Either::Left(view! { <p class="empty" data-testid="no-invites">"No invites yet."</p> })
    } else {
        Either::Right(view! { <InviteTable slug=slug.clone() invites can_revoke can_open_users revoke/> })
    };
    let role_options = roles
        .into_iter()
        .map(|role| {
            let selected = role == default_role;
            view! { <option value=role.clone() selected=selected>{role.clone()}</option> }
        })
        .collect_view();
    view! {
        <h2 class="first">"Invites"</h2>
        <p class="muted small">
            "An invite emails a code and a link to a page where the end-user chooses a password; "
            "accepting makes their account, with the invite's role and the email verified."
        </p>
        {perms.has("invite.create").then(|| view! {
            <div class="card invite-card" data-testid="create-invite">
                <h2>"Invite an end-user"</h2>
                <ActionForm action=create node_ref=create_form attr:class="invite-form">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>"Email"<input type="email" name="email" placeholder="ada@example.com" autocomplete="off" required/></label>
                    <label>"Name"<input type="text" name="name" placeholder="Optional" autocomplete="off"/></label>
                    <label>"Role"<select name="role">{role_options}</select></label>
                    // No bounds on the input: the engine's message says them (1 to 720).
                    <label>
                        "Expires in (hours)"
                        <input type="number" name="expires_in_hours" step="1" value=DEFAULT_HOURS/>
                    </label>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Send invite"</button>
                </ActionForm>
                <p class="error" role="alert">{create_error}</p>
                {sent}
            </div>
        })}
        <p class="error" role="alert">{revoke_error}</p>
        {list}
    }
}

#[component]
fn InviteTable(
    slug: String,
    invites: Vec<InviteView>,
    can_revoke: bool,
    can_open_users: bool,
    revoke: ServerAction<RevokeInvite>,
) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let rows = invites
        .into_iter()
        .map(|invite| {
            let InviteView { id, email, name, role, status, created_at, expires_at, accepted_at, revoked_at, user_id } =
                invite;
            let revoke_button = (can_revoke && status == "pending").then(|| {
                let label = format!("Revoke the invite of {email}");
                view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="small danger-link" disabled=move || revoke.pending().get()
                            aria-label=label>"Revoke"</button>
                    </ActionForm>
                }
            });
            let user_link = user_id.filter(|_| can_open_users).map(|user| {
                let href = format!("/console/apps/{}/users/{user}", slug.get_value());
                view! { <A href=href>"End-user"</A> }
            });
            // What happened to it, and when; or until when it works.
            let when = match (status.as_str(), accepted_at, revoked_at) {
                (_, Some(t), _) => format!("accepted {}", format(&t)),
                (_, _, Some(t)) => format!("revoked {}", format(&t)),
                ("pending", ..) => format!("until {}", format(&expires_at)),
                _ => format!("expired {}", format(&expires_at)),
            };
            view! {
                <tr data-testid="invite" data-email=email.clone() data-status=status.clone()>
                    <td>
                        <strong>{email.clone()}</strong>
                        {name.map(|n| view! { <div class="muted small">{n}</div> })}
                    </td>
                    <td>{role}</td>
                    <td>
                        <span class=format!("badge {status}")>{status.clone()}</span>
                        <div class="muted small nowrap">{when}</div>
                    </td>
                    <td class="muted">{format(&created_at)}</td>
                    <td>{revoke_button}{user_link}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="invites">
            <thead><tr><th>"Invited"</th><th>"Role"</th><th>"Status"</th><th>"Created"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
