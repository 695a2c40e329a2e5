//! An app's organizations seen from the management API and the console (`org.read`,
//! `org.update`): list and search them, open one and its members, remove a member, delete
//! an organization. The rules of `orgs.rs` hold here too: an organization keeps its last
//! owner (delete the organization instead).

use serde::Serialize;
use uuid::Uuid;

use super::audit::actor_of;
use super::caller::Caller;
use super::orgs::{MemberView, OrgView, ORG_PAGE_MAX};
use super::Engine;
use crate::{Error, Result};

/// A page of an app's organizations, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgPage {
    pub organizations: Vec<OrgView>,
    /// Pass as `cursor` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

fn parse_cursor(raw: &str) -> Option<(chrono::DateTime<chrono::Utc>, Uuid)> {
    let (millis, id) = raw.split_once('.')?;
    let at = chrono::DateTime::from_timestamp_millis(millis.parse().ok()?)?;
    Some((at, Uuid::parse_str(id).ok()?))
}

fn org_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::NotFound("Organization"))
}

impl Engine {
    /// The app's organizations with their member counts, optionally only those whose name or
    /// slug contains `search`.
    pub async fn list_orgs(
        &self,
        caller: &Caller,
        slug: &str,
        search: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<OrgPage> {
        let app = self.authorize(caller, slug, "org.read").await?.app;
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.len() > 100) {
            return Err(Error::invalid("search must be at most 100 characters"));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            Some(raw) => Some(parse_cursor(raw).ok_or_else(|| Error::invalid("cursor is not one this API gave"))?),
            None => None,
        };
        let limit = limit.unwrap_or(50).clamp(1, ORG_PAGE_MAX);
        let mut rows = self.store.organizations_page(app.id, search, after, limit + 1).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor =
            more.then(|| rows.last().map(|(o, _)| format!("{}.{}", o.created_at.timestamp_millis(), o.id))).flatten();
        let organizations = rows.into_iter().map(|(org, count)| OrgView::of(org, None, Some(count))).collect();
        Ok(OrgPage { organizations, next_cursor })
    }

    /// One of the app's organizations, with its member count.
    pub async fn get_org(&self, caller: &Caller, slug: &str, id: &str) -> Result<OrgView> {
        let app = self.authorize(caller, slug, "org.read").await?.app;
        let org = self.store.organization(app.id, org_id(id)?).await?.ok_or(Error::NotFound("Organization"))?;
        let members = self.store.organization_members(app.id, org.id).await?.len();
        Ok(OrgView::of(org, None, Some(i64::try_from(members).unwrap_or(i64::MAX))))
    }

    /// The members of one of the app's organizations.
    pub async fn org_members(&self, caller: &Caller, slug: &str, id: &str) -> Result<Vec<MemberView>> {
        let app = self.authorize(caller, slug, "org.read").await?.app;
        let org = self.store.organization(app.id, org_id(id)?).await?.ok_or(Error::NotFound("Organization"))?;
        Ok(self.store.organization_members(app.id, org.id).await?.into_iter().map(MemberView::from).collect())
    }

    /// Removes a member from one of the app's organizations (never its last owner).
    pub async fn remove_org_member_as_admin(&self, caller: &Caller, slug: &str, id: &str, user_id: &str) -> Result<()> {
        let app = self.authorize(caller, slug, "org.update").await?.app;
        let org = self.store.organization(app.id, org_id(id)?).await?.ok_or(Error::NotFound("Organization"))?;
        let user_id = Uuid::parse_str(user_id.trim()).map_err(|_| Error::NotFound("Member"))?;
        let mut tx = self.write().await?;
        if !tx.lock_organization(app.id, org.id).await? {
            return Err(Error::NotFound("Organization"));
        }
        let (role_id, role) = tx.org_member_role(app.id, org.id, user_id).await?.ok_or(Error::NotFound("Member"))?;
        self.drop_member(&mut tx, &app, &org, (user_id, role_id, &role), actor_of(caller), "org.member_removed")
            .await?;
        tx.commit().await
    }

    /// Deletes one of the app's organizations.
    pub async fn delete_org_as_admin(&self, caller: &Caller, slug: &str, id: &str) -> Result<()> {
        let app = self.authorize(caller, slug, "org.update").await?.app;
        let org = self.store.organization(app.id, org_id(id)?).await?.ok_or(Error::NotFound("Organization"))?;
        self.delete_org_as(&app, &org, actor_of(caller)).await
    }
}
