//! The console's view of an app's end-users: search and page through them, open one with
//! their sessions, suspend, change role, revoke sessions, delete.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use shared::{SessionView, UserPage, UserView};

use super::ConsoleError;

/// One end-user's page. The user and the sessions are the management API's own views
/// (`shared`), so a field added there shows up here too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndUserDetail {
    pub user: UserView,
    pub sessions: Vec<SessionView>,
    /// The roles the user can be moved to.
    pub roles: Vec<String>,
}

/// Rows per page of the end-user list.
pub const PAGE_SIZE: u32 = 20;

#[server(prefix = "/console/_fn", endpoint = "list_end_users")]
pub async fn list_end_users(
    slug: String,
    search: Option<String>,
    cursor: Option<String>,
) -> Result<UserPage, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let cursor = cursor.filter(|c| !c.is_empty());
    Ok(guard::state()?.engine.list_users(&caller, &slug, search.as_deref(), cursor.as_deref(), Some(PAGE_SIZE)).await?)
}

#[server(prefix = "/console/_fn", endpoint = "get_end_user")]
pub async fn get_end_user(slug: String, id: String) -> Result<EndUserDetail, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let user = engine.get_user(&caller, &slug, &id).await?;
    let sessions = engine.user_sessions(&caller, &slug, &id).await?;
    let roles = super::manage::role_names(&caller, &slug, &user.role).await?;
    Ok(EndUserDetail { user, sessions, roles })
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
