//! The console's view of an app's members: list them, invite an account by email, change a
//! member's role, remove one (or leave), revoke a pending invite; and the accept-invite page's
//! two calls (what a code opens, and accepting it as the signed-in account).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shared::{InviteView, MemberInviteInfo, MemberView};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembersView {
    /// Oldest first.
    pub members: Vec<MemberView>,
    /// Newest first.
    pub invites: Vec<InviteView>,
    /// The app's role names (the members' roles when the account may not read roles).
    pub roles: Vec<String>,
    /// The signed-in account, whose row says "Leave" rather than "Remove".
    pub me: String,
}

#[server(prefix = "/console/_fn", endpoint = "list_members")]
pub async fn list_members(slug: String) -> Result<MembersView, ConsoleError> {
    use super::session::guard;
    let account = guard::require().await?;
    let me = account.user_id.to_string();
    let caller = domain::engine::Caller::Account(account);
    let engine = guard::state()?.engine;
    let members = engine.list_members(&caller, &slug).await?;
    let invites = engine.list_member_invites(&caller, &slug).await?;
    let mut roles = super::manage::role_names(&caller, &slug, domain::permissions::MEMBER).await?;
    for member in &members {
        if !roles.contains(&member.role.name) {
            roles.push(member.role.name.clone());
        }
    }
    Ok(MembersView { members, invites, roles, me })
}

#[server(prefix = "/console/_fn", endpoint = "invite_member")]
pub async fn invite_member(slug: String, email: String, role: String) -> Result<InviteView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let input = domain::engine::MemberInviteInput { email, role_name: Some(role), ..Default::default() };
    Ok(guard::state()?.engine.invite_member(&caller, &slug, input).await?)
}

#[server(prefix = "/console/_fn", endpoint = "change_member_role")]
pub async fn change_member_role(slug: String, account_id: String, role: String) -> Result<MemberView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let choice = domain::engine::RoleChoice::Name(role);
    Ok(guard::state()?.engine.change_member_role(&caller, &slug, &account_id, choice).await?)
}

/// Removes a member; the signed-in account's own id leaves the app (and goes back to the list
/// of apps, where this one is no more).
#[server(prefix = "/console/_fn", endpoint = "remove_member")]
pub async fn remove_member(slug: String, account_id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let account = guard::require().await?;
    let leaving = account.user_id.to_string() == account_id;
    let caller = domain::engine::Caller::Account(account);
    guard::state()?.engine.remove_member(&caller, &slug, &account_id).await?;
    if leaving {
        leptos_axum::redirect("/console");
    }
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "revoke_member_invite")]
pub async fn revoke_member_invite(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_member_invite(&caller, &slug, &id).await?;
    Ok(())
}

/// What the code opens; consumes nothing (the page a mailed link lands on).
#[server(prefix = "/console/_fn", endpoint = "lookup_member_invite")]
pub async fn lookup_member_invite(code: String) -> Result<MemberInviteInfo, ConsoleError> {
    use super::session::guard;
    let meta = guard::request_meta().await;
    Ok(guard::state()?.engine.member_invite_info(&code, &meta).await?)
}

/// Accepts the invite as the signed-in account, then opens the app.
#[server(prefix = "/console/_fn", endpoint = "accept_member_invite")]
pub async fn accept_member_invite(code: String) -> Result<MemberInviteInfo, ConsoleError> {
    use super::session::guard;
    let account = guard::require().await?;
    let meta = guard::request_meta().await;
    let joined = guard::state()?.engine.accept_member_invite(&account, &code, &meta).await?;
    leptos_axum::redirect(&format!("/console/apps/{}", joined.app_slug));
    Ok(joined)
}
