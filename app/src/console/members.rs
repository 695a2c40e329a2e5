//! The members tab (the accounts that manage the app: their roles, removing them, inviting
//! more, pending invites) and the page a member invite's mailed link opens.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::time_format::format;
use shared::{InviteView, MemberView};

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{
    self, AcceptMemberInvite, ChangeMemberRole, InviteMember, MembersView, RemoveMember, RevokeMemberInvite,
};

#[component]
pub fn MembersPage() -> impl IntoView {
    let slug = slug_param();
    let invite = ServerAction::<InviteMember>::new();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let revoke = ServerAction::<RevokeMemberInvite>::new();
    let changes = (successes(invite), successes(change), successes(remove), successes(revoke));
    let members = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get(), changes.3.get()),
        |(slug, ..)| api::list_members(slug),
    );
    let permissions = permissions_resource();
    let invite_form = reset_on_success(invite);
    let actions = MemberActions { invite, change, remove, revoke };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading members…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match members.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Members · {} · Rampart", slug())/>
                        <MembersBoard slug=slug() data perms actions invite_form/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct MemberActions {
    invite: ServerAction<InviteMember>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    revoke: ServerAction<RevokeMemberInvite>,
}

#[component]
fn MembersBoard(
    slug: String,
    data: MembersView,
    perms: Perms,
    actions: MemberActions,
    invite_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let MembersView { members, invites, roles, me } = data;
    let MemberActions { invite, change, remove, revoke } = actions;
    let sent = move || match invite.value().get() {
        Some(Ok(sent)) => Some(view! {
            <p class="notice ok" role="status" data-testid="member-invite-sent">
                "Invite sent to "<strong>{sent.email}</strong>" as "{sent.role}"."
            </p>
        }),
        _ => None,
    };
    let errors = move || {
        [error_text(change.value())(), error_text(remove.value())(), error_text(revoke.value())()]
            .into_iter()
            .flatten()
            .next()
    };
    let invite_error = error_text(invite.value());
    let role_options = |selected: &str| {
        roles
            .iter()
            .map(|role| {
                let is = role == selected;
                view! { <option value=role.clone() selected=is>{role.clone()}</option> }
            })
            .collect_view()
    };
    let invite_roles = role_options("member");
    let rows = members
        .into_iter()
        .map(|member| {
            let options = role_options(&member.role.name);
            member_row(&slug, member, &me, &perms, options, change, remove)
        })
        .collect_view();
    let pending: Vec<InviteView> = invites.into_iter().filter(|i| i.status == "pending").collect();
    let can_revoke = perms.has("member.invite");
    let pending_list = if pending.is_empty() {
        Either::Left(view! { <p class="empty" data-testid="no-member-invites">"No pending invites."</p> })
    } else {
        Either::Right(view! { <PendingInvites slug=slug.clone() invites=pending can_revoke revoke/> })
    };
    view! {
        <h2 class="first">"Members"</h2>
        <p class="muted small">
            "Accounts that manage this app, each with one of its roles. You can give only roles whose "
            "permissions you hold yourself, and the last owner always stays."
        </p>
        <p class="error" role="alert">{errors}</p>
        <table class="list" data-testid="members">
            <thead><tr><th>"Account"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {perms.has("member.invite").then(|| view! {
            <div class="card invite-card" data-testid="invite-member">
                <h2>"Invite a member"</h2>
                <p class="muted small">
                    "The invite is mailed with a link; it is accepted by a Rampart account with that "
                    "email address (the mail says to create one first)."
                </p>
                <ActionForm action=invite node_ref=invite_form attr:class="invite-form">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>"Email"<input type="email" name="email" placeholder="teammate@example.com" autocomplete="off" required/></label>
                    <label>"Role"<select name="role">{invite_roles}</select></label>
                    <button type="submit" class="primary" disabled=move || invite.pending().get()>"Send invite"</button>
                </ActionForm>
                <p class="error" role="alert">{invite_error}</p>
                {sent}
            </div>
        })}
        <h2>"Pending invites"</h2>
        {pending_list}
    }
}

fn member_row(
    slug: &str,
    member: MemberView,
    me: &str,
    perms: &Perms,
    options: impl IntoView + 'static,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let MemberView { account_id, username, display_name, email, email_verified, role, joined_at } = member;
    let id = account_id.to_string();
    let slug = slug.to_owned();
    let mine = id == me;
    let role_cell = if perms.has("member.update") {
        let label = format!("Role of {username}");
        let (slug, id) = (slug.clone(), id.clone());
        Either::Left(view! {
            <ActionForm action=change attr:class="inline">
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="account_id" value=id/>
                <select name="role" aria-label=label>{options}</select>
                <button type="submit" class="small" disabled=move || change.pending().get()>"Change"</button>
            </ActionForm>
        })
    } else {
        Either::Right(view! { <span>{role.name.clone()}</span> })
    };
    let remove_button = (mine || perms.has("member.remove")).then(|| {
        let (text, label) =
            if mine { ("Leave", "Leave the app".to_owned()) } else { ("Remove", format!("Remove {username}")) };
        view! {
            <ActionForm action=remove>
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="account_id" value=id/>
                <button type="submit" class="small danger-link" disabled=move || remove.pending().get()
                    aria-label=label>{text}</button>
            </ActionForm>
        }
    });
    view! {
        <tr data-testid="member" data-username=username.clone() data-role=role.name.clone()>
            <td>
                <strong>{display_name}</strong>
                <div class="muted small">{username.clone()}{mine.then_some(" (you)")}</div>
            </td>
            <td>
                {email.unwrap_or_default()}
                {(!email_verified).then(|| view! { <div class="muted small">"not verified"</div> })}
            </td>
            <td>{role_cell}</td>
            <td class="muted">{format(&joined_at)}</td>
            <td>{remove_button}</td>
        </tr>
    }
}

#[component]
fn PendingInvites(
    slug: String,
    invites: Vec<InviteView>,
    can_revoke: bool,
    revoke: ServerAction<RevokeMemberInvite>,
) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let rows = invites
        .into_iter()
        .map(|invite| {
            let revoke_button = can_revoke.then(|| {
                let label = format!("Revoke the invite of {}", invite.email);
                view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="id" value=invite.id.to_string()/>
                        <button type="submit" class="small danger-link" disabled=move || revoke.pending().get()
                            aria-label=label>"Revoke"</button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-testid="member-invite" data-email=invite.email.clone()>
                    <td><strong>{invite.email.clone()}</strong></td>
                    <td>{invite.role}</td>
                    <td class="muted nowrap">{format!("until {}", format(&invite.expires_at))}</td>
                    <td class="muted">{format(&invite.created_at)}</td>
                    <td>{revoke_button}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="member-invites">
            <thead><tr><th>"Invited"</th><th>"Role"</th><th>"Expires"</th><th>"Created"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// `/console/accept-invite?code=…`, where a member invite's mail leads. Opening it consumes
/// nothing (mail scanners open links); the button posts the code as the signed-in account.
/// Without an account, it offers sign-in and sign-up, both coming back here.
#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    let code = use_query_map().read_untracked().get("code").unwrap_or_default();
    let info = Resource::new_blocking(
        {
            let code = code.clone();
            move || code.clone()
        },
        api::lookup_member_invite,
    );
    let account = Resource::new_blocking(|| (), |_| api::whoami());
    let accept = ServerAction::<AcceptMemberInvite>::new();
    let error = Signal::derive(error_text(accept.value()));
    let here = format!("/console/accept-invite?code={code}");
    view! {
        <Title text="Accept an invite · Rampart"/>
        <main class="centered">
            <div class="card narrow" data-testid="accept-invite">
                <div class="brand">"Rampart"</div>
                <Suspense fallback=|| view! { <p class="muted">"Loading the invite…"</p> }>
                    {
                        let code = code.clone();
                        let here = here.clone();
                        move || {
                            let code = code.clone();
                            let here = here.clone();
                            Suspend::new(async move {
                                let me = account.await.ok().flatten();
                                match info.await {
                                    Ok(invite) if invite.status == "pending" => EitherOf3::A(view! {
                                        <h1>"Help manage "{invite.app_name.clone()}</h1>
                                        <p data-testid="invite-summary">
                                            "You are invited to manage "<strong>{invite.app_name.clone()}</strong>
                                            " with the role "<strong>{invite.role.clone()}</strong>"."
                                        </p>
                                        <p class="muted small">
                                            "The invite was sent to "<strong>{invite.email.clone()}</strong>
                                            "; the account that accepts it must have this address."
                                        </p>
                                        {match me {
                                            Some(me) => Either::Left(view! {
                                                <p class="muted small">"Signed in as "<strong>{me.username}</strong>"."</p>
                                                <ActionForm action=accept attr:class="stack">
                                                    <input type="hidden" name="code" value=code.clone()/>
                                                    <p class="error" role="alert">{error}</p>
                                                    <button type="submit" class="primary" disabled=move || accept.pending().get()>
                                                        "Accept the invite"
                                                    </button>
                                                </ActionForm>
                                            }),
                                            None => Either::Right(view! {
                                                <p>"Sign in to accept it, or create an account with this address first."</p>
                                                <p>
                                                    <A href=format!("/console/signin?next={}", super::urlencoding(&here))>"Sign in"</A>
                                                    " · "
                                                    <A href=format!("/console/signup?next={}", super::urlencoding(&here))>"Create an account"</A>
                                                </p>
                                            }),
                                        }}
                                    }),
                                    Ok(invite) => EitherOf3::B(view! {
                                        <h1>"This invite cannot be used"</h1>
                                        <p class="error" data-testid="invite-status">{format!("It is {}.", invite.status)}</p>
                                        <A href="/console">"Go to the console"</A>
                                    }),
                                    Err(e) => EitherOf3::C(view! {
                                        <h1>"This invite cannot be used"</h1>
                                        <p class="error">{e.to_string()}</p>
                                        <A href="/console">"Go to the console"</A>
                                    }),
                                }
                            })
                        }
                    }
                </Suspense>
            </div>
        </main>
    }
}
