//! The console's view of an app's end-users: search and page through them, open one with
//! their sessions, suspend, change role, revoke sessions, delete.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndUserInfo {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub role: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndUserList {
    pub users: Vec<EndUserInfo>,
    /// The `cursor` of the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndUserDetail {
    pub user: EndUserInfo,
    pub sessions: Vec<SessionInfo>,
    /// The roles the user can be moved to.
    pub roles: Vec<String>,
}

#[cfg(feature = "ssr")]
fn user_info(u: domain::engine::UserView) -> EndUserInfo {
    use domain::time_format::format;
    EndUserInfo {
        id: u.id.to_string(),
        username: u.username,
        display_name: u.display_name,
        email: u.contact.as_ref().and_then(|c| c.email.clone()),
        email_verified: u.contact.is_some_and(|c| c.email_verified_at.is_some()),
        role: u.role,
        status: u.status.into(),
        created_at: format(&u.created_at),
        updated_at: format(&u.updated_at),
    }
}

#[cfg(feature = "ssr")]
fn session_info(s: domain::engine::SessionView) -> SessionInfo {
    use domain::time_format::format;
    SessionInfo {
        id: s.id.to_string(),
        user_agent: s.user_agent,
        ip: s.ip,
        created_at: format(&s.created_at),
        last_used_at: format(&s.last_used_at),
        expires_at: format(&s.expires_at),
    }
}

/// Rows per page of the end-user list.
pub const PAGE_SIZE: u32 = 20;

#[server(prefix = "/console/_fn", endpoint = "list_end_users")]
pub async fn list_end_users(
    slug: String,
    search: Option<String>,
    cursor: Option<String>,
) -> Result<EndUserList, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let cursor = cursor.filter(|c| !c.is_empty());
    let page = guard::state()?
        .engine
        .list_users(&caller, &slug, search.as_deref(), cursor.as_deref(), Some(PAGE_SIZE))
        .await?;
    Ok(EndUserList { users: page.users.into_iter().map(user_info).collect(), next_cursor: page.next_cursor })
}

#[server(prefix = "/console/_fn", endpoint = "get_end_user")]
pub async fn get_end_user(slug: String, id: String) -> Result<EndUserDetail, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let user = engine.get_user(&caller, &slug, &id).await?;
    let sessions = engine.user_sessions(&caller, &slug, &id).await?;
    let roles = super::manage::role_names(&caller, &slug, &user.role).await?;
    Ok(EndUserDetail { user: user_info(user), sessions: sessions.into_iter().map(session_info).collect(), roles })
}

/// `active` or `suspended`; suspending also ends the user's sessions.
#[server(prefix = "/console/_fn", endpoint = "set_end_user_status")]
pub async fn set_end_user_status(slug: String, id: String, status: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let patch = domain::engine::UserPatch { status: Some(status), ..Default::default() };
    guard::state()?.engine.update_user(&caller, &slug, &id, patch).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "set_end_user_role")]
pub async fn set_end_user_role(slug: String, id: String, role: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let patch = domain::engine::UserPatch { role: Some(role), ..Default::default() };
    guard::state()?.engine.update_user(&caller, &slug, &id, patch).await?;
    Ok(())
}

/// Answers how many sessions were live.
#[server(prefix = "/console/_fn", endpoint = "revoke_end_user_sessions")]
pub async fn revoke_end_user_sessions(slug: String, id: String) -> Result<u64, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.revoke_user_sessions(&caller, &slug, &id).await?)
}

/// Deletes the user and goes back to the list.
#[server(prefix = "/console/_fn", endpoint = "delete_end_user")]
pub async fn delete_end_user(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.delete_user(&caller, &slug, &id).await?;
    leptos_axum::redirect(&format!("/console/apps/{slug}/users"));
    Ok(())
}
