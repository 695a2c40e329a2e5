//! The console's view of an app's organizations: search and page through them, open one
//! with its members, remove a member, delete an organization.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

/// Rows per page of the organization list.
pub const ORG_PAGE_SIZE: u32 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub member_count: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgList {
    pub organizations: Vec<OrgRow>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgMemberRow {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub joined_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgDetail {
    pub org: OrgRow,
    /// The organization's metadata, as JSON.
    pub metadata: String,
    pub members: Vec<OrgMemberRow>,
}

#[cfg(feature = "ssr")]
fn row(org: domain::engine::OrgView) -> OrgRow {
    OrgRow {
        id: org.id.to_string(),
        slug: org.slug,
        name: org.name,
        member_count: org.member_count.unwrap_or_default(),
        created_at: domain::time_format::format(&org.created_at),
    }
}

#[server(prefix = "/console/_fn", endpoint = "list_orgs")]
pub async fn list_orgs(slug: String, search: Option<String>, cursor: Option<String>) -> Result<OrgList, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let cursor = cursor.filter(|c| !c.is_empty());
    let engine = guard::state()?.engine;
    let page = engine.list_orgs(&caller, &slug, search.as_deref(), cursor.as_deref(), Some(ORG_PAGE_SIZE)).await?;
    Ok(OrgList { organizations: page.organizations.into_iter().map(row).collect(), next_cursor: page.next_cursor })
}

#[server(prefix = "/console/_fn", endpoint = "get_org")]
pub async fn get_org(slug: String, id: String) -> Result<OrgDetail, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let org = engine.get_org(&caller, &slug, &id).await?;
    let metadata = serde_json::to_string_pretty(&org.metadata).unwrap_or_default();
    let members = engine
        .org_members(&caller, &slug, &id)
        .await?
        .into_iter()
        .map(|m| OrgMemberRow {
            user_id: m.user_id.to_string(),
            username: m.username,
            display_name: m.display_name,
            email: m.email,
            role: m.role,
            joined_at: domain::time_format::format(&m.joined_at),
        })
        .collect();
    Ok(OrgDetail { org: row(org), metadata, members })
}

#[server(prefix = "/console/_fn", endpoint = "remove_org_member")]
pub async fn remove_org_member(slug: String, id: String, user_id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.remove_org_member_as_admin(&caller, &slug, &id, &user_id).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "delete_org")]
pub async fn delete_org(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.delete_org_as_admin(&caller, &slug, &id).await?;
    leptos_axum::redirect(&format!("/console/apps/{slug}/orgs"));
    Ok(())
}
