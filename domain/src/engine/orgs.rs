//! Organizations inside an app, as their end-users use them (`/{slug}/v1/orgs`): create one,
//! read, rename and delete it, its members and their roles, leave it, and act in it
//! (`switch-organization`, which puts `org` and `org_role` in the session's access tokens).
//! Invitations are `orgs_invites.rs`; the management API's view is `orgs_manage.rs`.
//!
//! An org role is one of the app's roles. What a member may do in an organization follows
//! its org role's name: `owner` everything (deleting the organization, granting `owner`);
//! `admin` renames it, invites, adds and removes members who are not owners and gives them
//! roles other than `owner`; any other role reads the organization and its members, and
//! leaves. An organization always keeps an owner: every change of its members runs with the
//! organization locked (see `Tx::lock_organization`), so two owners demoting each other at
//! once leave one of them owner.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::user_actor;
use super::cache::Change;
use super::write::Write;
use super::{now, ActiveOrg, Engine, Principal};
use crate::audit::{Actor, Event};
use crate::model::{App, OrgMember, OrgMembership, Organization, Role, Status};
use crate::permissions::{ADMIN, OWNER};
use crate::store::StoreError;
use crate::tokens::TokenPair;
use crate::types::{DisplayName, Slug};
use crate::{Error, Result};

/// The most organizations one page of the management API holds.
pub const ORG_PAGE_MAX: u32 = 100;
/// The largest `metadata` an organization keeps, serialized.
const METADATA_MAX_BYTES: usize = 8 * 1024;

/// What creating an organization takes.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: String,
    /// Made from the name when missing.
    pub slug: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

/// What may change of an organization.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub metadata: serde_json::Value,
    pub created_by: Option<Uuid>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
    /// The caller's org role (end-users' answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// How many members it has (the management API's answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<i64>,
}

impl OrgView {
    pub(super) fn of(org: Organization, role: Option<String>, member_count: Option<i64>) -> OrgView {
        OrgView {
            id: org.id,
            slug: org.slug,
            name: org.name,
            metadata: org.metadata,
            created_by: org.created_by,
            created_at: org.created_at,
            updated_at: org.updated_at,
            role,
            member_count,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OrgMemberView)]
pub struct MemberView {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    #[serde(with = "crate::time_format")]
    pub joined_at: DateTime<Utc>,
}

impl From<OrgMember> for MemberView {
    fn from(m: OrgMember) -> MemberView {
        MemberView {
            user_id: m.user_id,
            username: m.username,
            display_name: m.display_name,
            email: m.email,
            role: m.role_name,
            joined_at: m.joined_at,
        }
    }
}

/// What an org role may do in its organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Rank {
    Member,
    Admin,
    Owner,
}

impl Rank {
    pub(super) fn of(role_name: &str) -> Rank {
        match role_name {
            OWNER => Rank::Owner,
            ADMIN => Rank::Admin,
            _ => Rank::Member,
        }
    }
}

fn no_org() -> Error {
    Error::NotFound("Organization")
}

fn disabled() -> Error {
    Error::Forbidden("Organizations are not enabled for this app".into())
}

fn parse_id(raw: &str, what: &'static str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::NotFound(what))
}

/// An organization's name: 1-100 printable characters on one line.
fn org_name(raw: &str) -> Result<String> {
    Ok(DisplayName::parse(raw.trim(), "name")?.as_str().to_owned())
}

/// A slug as apps' are written (3-40 lowercase letters, digits and hyphens).
fn org_slug(raw: &str) -> Result<String> {
    Slug::parse(raw.trim()).map(|s| s.as_str().to_owned())
}

/// A slug made from a name: lowercase letters and digits, other runs become one hyphen.
fn slug_from(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_matches('-').chars().take(32).collect();
    slug = slug.trim_end_matches('-').to_owned();
    if slug.len() < 3 {
        slug = format!("org-{slug}").trim_end_matches('-').to_owned();
    }
    slug
}

/// The slug of an organization given only a name; a made-up slug that is a reserved word
/// gets a prefix.
pub(super) fn slug_for(name: &str) -> Result<String> {
    let made = slug_from(name);
    org_slug(&made).or_else(|_| org_slug(&format!("org-{made}")))
}

/// An object of at most `METADATA_MAX_BYTES`.
pub(super) fn org_metadata(value: serde_json::Value) -> Result<serde_json::Value> {
    if !value.is_object() {
        return Err(Error::invalid("metadata must be a JSON object"));
    }
    if serde_json::to_string(&value).map_or(usize::MAX, |s| s.len()) > METADATA_MAX_BYTES {
        return Err(Error::invalid(format!("metadata must be at most {METADATA_MAX_BYTES} bytes")));
    }
    Ok(value)
}

fn slug_taken(e: StoreError) -> Error {
    match e {
        StoreError::Unique { .. } => Error::Conflict("An organization with this slug already exists in the app".into()),
        e => e.into(),
    }
}

impl Engine {
    /// The app of an end-user's request, with organizations turned on.
    fn orgs_on(&self, me: &Principal) -> Result<()> {
        if !me.app.config.organizations_enabled {
            return Err(disabled());
        }
        Ok(())
    }

    /// The caller's membership of an organization; another app's or one the caller is not a
    /// member of is `404`, the same as one that does not exist.
    async fn my_membership(&self, me: &Principal, org_id: &str) -> Result<(Organization, OrgMember)> {
        self.orgs_on(me)?;
        let org_id = parse_id(org_id, "Organization")?;
        let member = self.store.organization_member(me.app.id, org_id, me.user_id).await?.ok_or_else(no_org)?;
        let org = self.store.organization(me.app.id, org_id).await?.ok_or_else(no_org)?;
        Ok((org, member))
    }

    /// The app's role of this name, for an org role.
    pub(super) async fn org_role(&self, app: &App, name: &str) -> Result<Role> {
        self.store
            .role_by_name(app.id, name.trim())
            .await?
            .ok_or_else(|| Error::invalid(format!("role: no role '{}' in this app", name.trim())))
    }

    /// Creates an organization with the caller as its owner, when the app's
    /// `organization_creation` lets the caller.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn create_org(&self, me: &Principal, input: OrgInput) -> Result<OrgView> {
        self.orgs_on(me)?;
        let app = &me.app;
        match app.config.organization_creation.as_str() {
            "any_user" => {}
            "admins_only" if me.role == OWNER || me.role == ADMIN => {}
            "admins_only" => {
                return Err(Error::Forbidden("Only the app's admins may create organizations".into()));
            }
            _ => {
                let profile = self.store.user_profile(app.id, me.user_id).await?.ok_or(Error::SessionRevoked)?;
                if profile.email_verified_at.is_none() {
                    return Err(Error::Forbidden("Verify your email before creating an organization".into()));
                }
            }
        }
        let name = org_name(&input.name)?;
        let slug = match input.slug.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(slug) => org_slug(slug)?,
            None => slug_for(&name)?,
        };
        let metadata = org_metadata(input.metadata.unwrap_or_else(|| json!({})))?;
        let owner = self.org_role(app, OWNER).await?;
        let at = now();
        let org = Organization {
            id: Uuid::now_v7(),
            app_id: app.id,
            slug,
            name,
            metadata,
            created_by: Some(me.user_id),
            created_at: at,
            updated_at: at,
        };
        let mut tx = self.write().await?;
        tx.insert_organization(&org).await.map_err(slug_taken)?;
        tx.insert_org_member(app.id, org.id, me.user_id, owner.id, at).await?;
        tx.record(
            app.id,
            Event::new("org.created", user_actor(&app.slug, me.user_id))
                .subject("organization", org.id)
                .details(json!({"slug": org.slug, "name": org.name})),
        );
        tx.commit().await?;
        Ok(OrgView::of(org, Some(owner.name), None))
    }

    /// The caller's organizations, with its role in each (`GET orgs`, `GET me/organizations`).
    pub async fn my_orgs(&self, me: &Principal) -> Result<Vec<OrgView>> {
        self.orgs_on(me)?;
        let memberships = self.store.organizations_of(me.app.id, me.user_id).await?;
        Ok(memberships
            .into_iter()
            .map(|OrgMembership { org, role_name, .. }| OrgView::of(org, Some(role_name), None))
            .collect())
    }

    /// One of the caller's organizations.
    pub async fn my_org(&self, me: &Principal, org_id: &str) -> Result<OrgView> {
        let (org, member) = self.my_membership(me, org_id).await?;
        Ok(OrgView::of(org, Some(member.role_name), None))
    }

    /// Renames an organization, changes its slug or metadata: its owners and admins.
    pub async fn update_org(&self, me: &Principal, org_id: &str, patch: OrgPatch) -> Result<OrgView> {
        let (mut org, member) = self.my_membership(me, org_id).await?;
        if Rank::of(&member.role_name) < Rank::Admin {
            return Err(Error::Forbidden("Only the organization's owners and admins may change it".into()));
        }
        let mut changed = Vec::new();
        if let Some(name) = patch.name {
            org.name = org_name(&name)?;
            changed.push("name");
        }
        if let Some(slug) = patch.slug {
            org.slug = org_slug(&slug)?;
            changed.push("slug");
        }
        if let Some(metadata) = patch.metadata {
            org.metadata = org_metadata(metadata)?;
            changed.push("metadata");
        }
        org.updated_at = now();
        let mut tx = self.write().await?;
        if !tx.update_organization(&org).await.map_err(slug_taken)? {
            return Err(no_org());
        }
        tx.record(
            me.app.id,
            Event::new("org.updated", user_actor(&me.app.slug, me.user_id))
                .subject("organization", org.id)
                .details(json!({"changed": changed, "slug": org.slug, "name": org.name})),
        );
        tx.commit().await?;
        Ok(OrgView::of(org, Some(member.role_name), None))
    }

    /// Deletes an organization: its owners only.
    pub async fn delete_org(&self, me: &Principal, org_id: &str) -> Result<()> {
        let (org, member) = self.my_membership(me, org_id).await?;
        if Rank::of(&member.role_name) < Rank::Owner {
            return Err(Error::Forbidden("Only the organization's owners may delete it".into()));
        }
        self.delete_org_as(&me.app, &org, user_actor(&me.app.slug, me.user_id)).await
    }

    /// Deletes the organization; the sessions that acted in it act in none, and every node
    /// drops them from its cache so their bearers minted in it stop at once.
    pub(super) async fn delete_org_as(&self, app: &App, org: &Organization, actor: Actor) -> Result<()> {
        let mut tx = self.write().await?;
        let sessions = tx.clear_active_org(app.id, org.id, None).await?;
        if !tx.delete_organization(app.id, org.id).await? {
            return Err(no_org());
        }
        for sid in sessions {
            tx.changed(Change::Session(sid));
        }
        tx.record(
            app.id,
            Event::new("org.deleted", actor)
                .subject("organization", org.id)
                .details(json!({"slug": org.slug, "name": org.name})),
        );
        tx.commit().await
    }

    /// The members of one of the caller's organizations.
    pub async fn my_org_members(&self, me: &Principal, org_id: &str) -> Result<Vec<MemberView>> {
        let (org, _) = self.my_membership(me, org_id).await?;
        Ok(self.store.organization_members(me.app.id, org.id).await?.into_iter().map(MemberView::from).collect())
    }

    /// Adds an existing, active user of the app to the organization with `role` (the app's
    /// default role when missing): its owners and admins, and only owners grant `owner`.
    pub async fn add_org_member(
        &self,
        me: &Principal,
        org_id: &str,
        user_id: &str,
        role: Option<&str>,
    ) -> Result<MemberView> {
        let (org, _) = self.my_membership(me, org_id).await?;
        let app = &me.app;
        let user_id = Uuid::parse_str(user_id.trim()).map_err(|_| Error::NotFound("User"))?;
        let user = self.store.user_by_id(app.id, user_id).await?.ok_or(Error::NotFound("User"))?;
        if user.status != Status::Active {
            return Err(Error::Conflict("A suspended user cannot join an organization".into()));
        }
        let role = self.org_role(app, role.unwrap_or(&app.config.signup_default_role)).await?;
        let mut tx = self.write().await?;
        let actor_rank = self.locked_rank(&mut tx, app, &org, me.user_id).await?;
        may_grant(actor_rank, &role)?;
        tx.insert_org_member(app.id, org.id, user.id, role.id, now()).await.map_err(|e| match e {
            StoreError::Unique { .. } => Error::Conflict("The user is already a member of the organization".into()),
            e => e.into(),
        })?;
        tx.record(
            app.id,
            Event::new("org.member_added", user_actor(&app.slug, me.user_id))
                .subject("organization", org.id)
                .details(json!({"user_id": user.id, "role": role.name})),
        );
        tx.commit().await?;
        let member = self.store.organization_member(app.id, org.id, user.id).await?.ok_or_else(no_org)?;
        Ok(member.into())
    }

    /// Gives a member another org role (see the module's rules).
    pub async fn set_org_member_role(
        &self,
        me: &Principal,
        org_id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<MemberView> {
        let (org, _) = self.my_membership(me, org_id).await?;
        let app = &me.app;
        let target = parse_id(user_id, "Member")?;
        let role = self.org_role(app, role).await?;
        let mut tx = self.write().await?;
        let actor_rank = self.locked_rank(&mut tx, app, &org, me.user_id).await?;
        let (current_id, current) =
            tx.org_member_role(app.id, org.id, target).await?.ok_or(Error::NotFound("Member"))?;
        if actor_rank < Rank::Admin {
            return Err(Error::Forbidden("Only the organization's owners and admins may change roles".into()));
        }
        if Rank::of(&current) == Rank::Owner && actor_rank < Rank::Owner {
            return Err(Error::Forbidden("Only an owner may change an owner's role".into()));
        }
        may_grant(actor_rank, &role)?;
        if current_id != role.id && Rank::of(&current) == Rank::Owner {
            keep_an_owner(&mut tx, app, org.id, current_id, "demoted").await?;
        }
        tx.set_org_member_role(app.id, org.id, target, role.id).await?;
        // The member's bearers carry the old `org_role`: they stop, and its refreshes carry the new.
        tx.changed(Change::User(target));
        tx.record(
            app.id,
            Event::new("org.member_role_changed", user_actor(&app.slug, me.user_id))
                .subject("organization", org.id)
                .details(json!({"user_id": target, "from": current, "to": role.name})),
        );
        tx.commit().await?;
        let member = self.store.organization_member(app.id, org.id, target).await?.ok_or(Error::NotFound("Member"))?;
        Ok(member.into())
    }

    /// Removes a member, or (the caller itself) leaves the organization.
    pub async fn remove_org_member(&self, me: &Principal, org_id: &str, user_id: &str) -> Result<()> {
        let (org, _) = self.my_membership(me, org_id).await?;
        let app = &me.app;
        let target = parse_id(user_id, "Member")?;
        let mut tx = self.write().await?;
        let actor_rank = self.locked_rank(&mut tx, app, &org, me.user_id).await?;
        let (role_id, role) = tx.org_member_role(app.id, org.id, target).await?.ok_or(Error::NotFound("Member"))?;
        let leaving = target == me.user_id;
        if !leaving {
            if actor_rank < Rank::Admin {
                return Err(Error::Forbidden("Only the organization's owners and admins may remove members".into()));
            }
            if Rank::of(&role) == Rank::Owner && actor_rank < Rank::Owner {
                return Err(Error::Forbidden("Only an owner may remove an owner".into()));
            }
        }
        let kind = if leaving { "org.member_left" } else { "org.member_removed" };
        self.drop_member(&mut tx, app, &org, (target, role_id, &role), user_actor(&app.slug, me.user_id), kind).await?;
        tx.commit().await
    }

    /// Takes a member out of a locked organization (never its last owner): the member's
    /// sessions acting in it act in none, and every node drops them from its cache.
    pub(super) async fn drop_member(
        &self,
        tx: &mut Write<'_>,
        app: &App,
        org: &Organization,
        (user_id, role_id, role): (Uuid, Uuid, &str),
        actor: Actor,
        kind: &str,
    ) -> Result<()> {
        if Rank::of(role) == Rank::Owner {
            keep_an_owner(tx, app, org.id, role_id, if kind == "org.member_left" { "leave" } else { "removed" })
                .await?;
        }
        if !tx.delete_org_member(app.id, org.id, user_id).await? {
            return Err(Error::NotFound("Member"));
        }
        tx.clear_active_org(app.id, org.id, Some(user_id)).await?;
        tx.changed(Change::User(user_id));
        tx.record(
            app.id,
            Event::new(kind, actor).subject("organization", org.id).details(json!({"user_id": user_id, "role": role})),
        );
        Ok(())
    }

    /// Locks the organization for this change and answers the caller's rank in it, as it is
    /// now (one removed meanwhile is `404`).
    async fn locked_rank(&self, tx: &mut Write<'_>, app: &App, org: &Organization, user_id: Uuid) -> Result<Rank> {
        if !tx.lock_organization(app.id, org.id).await? {
            return Err(no_org());
        }
        let (_, role) = tx.org_member_role(app.id, org.id, user_id).await?.ok_or_else(no_org)?;
        Ok(Rank::of(&role))
    }

    /// Makes the session act in one of its user's organizations (`None`: in none) and answers
    /// a new token pair of the same session, whose access token carries `org` and `org_role`.
    /// Its refreshes keep the organization until the next switch, or until the user leaves it.
    ///
    /// The pair is a rotation of the caller's own refresh token of this session (checked as a
    /// refresh checks it, app credentials included): a bearer alone never yields a refresh
    /// token, so a leaked access token cannot be stretched into a session.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn switch_org(
        &self,
        me: &Principal,
        org_id: Option<&str>,
        refresh_token: &str,
        credentials: Option<&super::AppCredentials>,
    ) -> Result<TokenPair> {
        let held = self.find_refresh_token(me.app.id, refresh_token).await?;
        if held.is_none_or(|t| t.session_id != me.session_id || t.rotated_at.is_some()) {
            return Err(Error::Unauthenticated("Invalid refresh token"));
        }
        self.require_app_credentials(&me.app, credentials).await?;
        self.activate(me, org_id).await?;
        self.refresh(&me.app.slug, refresh_token, credentials).await
    }

    /// Seed 003's `organization/set-active` for a browser session: as `switch_org`, without
    /// tokens (the cookie names the session).
    pub async fn set_active_org(&self, me: &Principal, org_id: Option<&str>) -> Result<Option<ActiveOrg>> {
        self.activate(me, org_id).await
    }

    /// The session acts in `org_id` from now; every node drops the session from its cache.
    async fn activate(&self, me: &Principal, org_id: Option<&str>) -> Result<Option<ActiveOrg>> {
        let app = &me.app;
        let org_id = match org_id.map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => {
                self.orgs_on(me)?;
                Some(parse_id(raw, "Organization")?)
            }
            None => None,
        };
        let mut tx = self.write().await?;
        if !tx.set_active_org(app.id, me.session_id, org_id).await? {
            return Err(if org_id.is_some() { no_org() } else { Error::SessionRevoked });
        }
        let org = match org_id {
            Some(org_id) => {
                let (role_id, role) = tx.org_member_role(app.id, org_id, me.user_id).await?.ok_or_else(no_org)?;
                let found = self.store.organization(app.id, org_id).await?.ok_or_else(no_org)?;
                Some(ActiveOrg { id: org_id, slug: found.slug, role, role_id })
            }
            None => None,
        };
        tx.changed(Change::Session(me.session_id));
        let mut event = Event::new("org.switched", user_actor(&app.slug, me.user_id))
            .session(me.session_id)
            .details(json!({"org_id": org.as_ref().map(|o| o.id), "role": org.as_ref().map(|o| o.role.clone())}));
        if let Some(org) = &org {
            event = event.subject("organization", org.id);
        }
        tx.record(app.id, event);
        tx.commit().await?;
        Ok(org)
    }
}

/// Whether a member of `rank` may give `role`: owners any role, admins any but `owner`.
fn may_grant(rank: Rank, role: &Role) -> Result<()> {
    match rank {
        Rank::Owner => Ok(()),
        Rank::Admin if role.name != OWNER => Ok(()),
        Rank::Admin => Err(Error::Forbidden("Only an owner may grant the owner role".into())),
        Rank::Member => Err(Error::Forbidden("Only the organization's owners and admins may grant roles".into())),
    }
}

/// Refuses to take the organization's last owner away (`how`: leave, demoted, removed).
async fn keep_an_owner(tx: &mut Write<'_>, app: &App, org_id: Uuid, owner_role: Uuid, how: &str) -> Result<()> {
    if tx.count_org_role(app.id, org_id, owner_role).await? <= 1 {
        let message = match how {
            "leave" => "The last owner cannot leave the organization; make another member owner first",
            "demoted" => "The last owner cannot be demoted; make another member owner first",
            _ => "The last owner cannot be removed; make another member owner first",
        };
        return Err(Error::Conflict(message.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(slug_from("Acme Corp"), "acme-corp");
        assert_eq!(slug_from("  Ünïcode & Co!! "), "n-code-co");
        assert_eq!(slug_from("A"), "org-a");
        assert_eq!(slug_from("!!!"), "org");
        assert!(Slug::parse(&slug_from("x".repeat(80).as_str())).is_ok());
        for name in ["Acme Corp", "A", "Ünïcode & Co!!", "a-b"] {
            assert!(Slug::parse(&slug_from(name)).is_ok(), "{name}");
        }
    }

    #[test]
    fn ranks_and_grants() {
        let role = |name: &str| Role {
            id: Uuid::nil(),
            app_id: Uuid::nil(),
            name: name.into(),
            description: String::new(),
            is_system: true,
            permissions: vec![],
            created_at: Utc::now(),
        };
        assert!(may_grant(Rank::Owner, &role("owner")).is_ok());
        assert!(may_grant(Rank::Admin, &role("owner")).is_err());
        assert!(may_grant(Rank::Admin, &role("member")).is_ok());
        assert!(may_grant(Rank::Member, &role("member")).is_err());
        assert_eq!(Rank::of("billing"), Rank::Member);
        assert!(org_metadata(json!([1])).is_err());
        assert!(org_metadata(json!({"a": "x".repeat(9000)})).is_err());
    }
}
