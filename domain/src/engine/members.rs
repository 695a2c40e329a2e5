//! App members (seed 000's "workspace teammates managing the App itself"): accounts with a
//! role on an app, listed, invited by email, moved between roles and removed through
//! `Engine::authorize` (`member.read`, `member.invite`, `member.update`, `member.remove`).
//!
//! Rules, each checked here and, where two requests could race, by a conditional statement
//! after the app's member lock (`Tx::lock_members`):
//! - a caller grants (invites with, moves someone to) only roles whose management
//!   permissions it holds itself, and touches only members whose role it could grant: an
//!   admin neither makes nor demotes nor removes an owner;
//! - the last owner (member with the `owner` system role) cannot leave, be demoted or removed;
//! - an invite's code goes only to the invited address, in a mail of the `platform` app (no
//!   app's Mail page shows it), and is accepted only by a signed-in account holding that
//!   address: verified already, or unverified and then verified by the acceptance (the code
//!   reached that mailbox, as a verification link would have). Single use, expiring,
//!   consumed atomically with the membership it makes.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::actor_of;
use super::cache::Change;
use super::caller::Caller;
use super::limits::Rule;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::{Actor, Event};
use crate::crypto::{random_token, token_digest};
use crate::i18n::Arg;
use crate::mail::render::{render, request_language, MailKind, Vars};
use crate::model::{App, ContactKind, Invite, Role};
use crate::permissions::OWNER;
use crate::store::StoreError;
use crate::types::{Email, PLATFORM_SLUG};
use crate::{Error, Result};

pub use shared::mail::InviteView;
pub use shared::members::{MemberInviteInfo, MemberView};

/// What says a secret is a member invite's code.
pub const MEMBER_INVITE_PREFIX: &str = "minv_";
/// Member invites last 7 days unless asked otherwise, 30 days at most.
const DEFAULT_HOURS: i64 = 168;
const MAX_HOURS: i64 = 720;

fn invalid_invite() -> Error {
    Error::InvalidToken("This invite is invalid, used, revoked or expired")
}

fn last_owner() -> Error {
    Error::Conflict(
        "The app's last owner cannot leave, be demoted or be removed: make another member owner first".into(),
    )
}

/// `POST /api/v1/apps/{slug}/members` `{email, roleName | roleId, expiresInHours}`.
#[derive(Debug, Clone, Default)]
pub struct MemberInviteInput {
    pub email: String,
    pub role_name: Option<String>,
    pub role_id: Option<String>,
    pub expires_in_hours: Option<i64>,
}

/// A role named by name or by id (as a string from the request).
#[derive(Debug, Clone)]
pub enum RoleChoice {
    Name(String),
    Id(String),
}

impl RoleChoice {
    /// From a request's `roleName` and `roleId`: exactly one of them.
    pub fn from_fields(name: Option<String>, id: Option<String>) -> Result<RoleChoice> {
        match (name.filter(|n| !n.trim().is_empty()), id.filter(|i| !i.trim().is_empty())) {
            (Some(name), None) => Ok(RoleChoice::Name(name)),
            (None, Some(id)) => Ok(RoleChoice::Id(id)),
            (Some(_), Some(_)) => Err(Error::invalid("Give roleName or roleId, not both")),
            (None, None) => Err(Error::invalid("roleName is required")),
        }
    }
}

impl Engine {
    async fn chosen_role(&self, app: &App, choice: &RoleChoice) -> Result<Role> {
        let role = match choice {
            RoleChoice::Name(name) => self.store.role_by_name(app.id, name.trim()).await?,
            RoleChoice::Id(id) => match Uuid::parse_str(id.trim()) {
                Ok(id) => self.store.role_by_id(app.id, id).await?,
                Err(_) => None,
            },
        };
        role.ok_or_else(|| Error::invalid("roleName: no such role in this app"))
    }

    async fn owner_role(&self, app: &App) -> Result<Role> {
        self.store
            .role_by_name(app.id, OWNER)
            .await?
            .filter(|r| r.is_system)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("app {} has no owner role", app.slug)))
    }

    fn member_invite_view(invite: &Invite, role: &str, at: DateTime<Utc>) -> InviteView {
        InviteView {
            id: invite.id,
            email: invite.email.clone(),
            name: invite.name.clone(),
            role: role.to_owned(),
            status: invite.state(at).to_owned(),
            created_at: invite.created_at,
            expires_at: invite.expires_at,
            accepted_at: invite.accepted_at,
            revoked_at: invite.revoked_at,
            user_id: invite.user_id,
        }
    }

    /// The platform app's account id of a caller, if it is an account.
    fn account_id(caller: &Caller) -> Option<Uuid> {
        match caller {
            Caller::Account(account) => Some(account.user_id),
            Caller::ApiKey { .. } => None,
        }
    }

    /// The app's members.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_members(&self, caller: &Caller, slug: &str) -> Result<Vec<MemberView>> {
        let app = self.authorize(caller, slug, "member.read").await?.app;
        Ok(self.store.members(app.id).await?)
    }

    /// The app's member invites, newest first (never their codes).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_member_invites(&self, caller: &Caller, slug: &str) -> Result<Vec<InviteView>> {
        let app = self.authorize(caller, slug, "member.read").await?.app;
        let roles = self.store.roles(app.id).await?;
        let at = now();
        let invites = self.store.member_invites(app.id, 500).await?;
        Ok(invites
            .iter()
            .map(|i| {
                let role = roles.iter().find(|r| r.id == i.role_id).map_or("", |r| r.name.as_str());
                Self::member_invite_view(i, role, at)
            })
            .collect())
    }

    /// Invites an account (by email) to the app with a role the caller could grant. The mail
    /// goes out in the `platform` app's name; a newer invite of the same email revokes the
    /// pending ones.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn invite_member(&self, caller: &Caller, slug: &str, input: MemberInviteInput) -> Result<InviteView> {
        let access = self.authorize(caller, slug, "member.invite").await?;
        let app = &access.app;
        if app.slug == PLATFORM_SLUG {
            return Err(Error::NotFound("App"));
        }
        let email = Email::parse(&input.email)?;
        let hours = input.expires_in_hours.unwrap_or(DEFAULT_HOURS);
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(Error::invalid(format!("expiresInHours must be between 1 and {MAX_HOURS}")));
        }
        let choice = RoleChoice::from_fields(input.role_name, input.role_id)?;
        let role = self.chosen_role(app, &choice).await?;
        access.may_assign(caller, &role)?;
        let platform = self.app(PLATFORM_SLUG).await?;
        // An account that already holds this address verified and is a member: nothing to invite.
        if let Some(account) =
            self.store.user_by_verified_contact(platform.id, ContactKind::Email, &email.normalized()).await?
        {
            if self.store.member_role(app.id, account.id).await?.is_some() {
                return Err(Error::Conflict("This account is already a member of the app".into()));
            }
        }
        let code = random_token(MEMBER_INVITE_PREFIX);
        let at = now();
        let actor = actor_of(caller);
        let invite = Invite {
            id: Uuid::now_v7(),
            app_id: app.id,
            email: email.as_str().to_owned(),
            name: None,
            role_id: role.id,
            code_digest: token_digest(&code),
            invited_by_kind: actor.kind.as_str().to_owned(),
            invited_by: actor.id,
            created_at: at,
            expires_at: at + TimeDelta::hours(hours),
            accepted_at: None,
            revoked_at: None,
            user_id: None,
        };
        let language = request_language();
        let intro = language.text_with(
            "mail-member-invite-intro",
            &[("app", Arg::from(app.display_name.as_str())), ("role", Arg::from(role.name.as_str()))],
        );
        let rendered = render(
            MailKind::MemberInvite,
            &Vars {
                app: app.display_name.clone(),
                name: None,
                link: Some(format!("{}/console/accept-invite?code={code}", self.config.public_url)),
                code: None,
                lasts: Some(TimeDelta::hours(hours)),
                notice: Some(intro),
                feature: None,
                language: Some(language),
            },
            // Rampart's wording, not the app's: the invitee is an account, not an end-user.
            &crate::model::AuthConfig::default(),
        );
        let mut tx = self.write().await?;
        let superseded = tx.insert_member_invite(&invite, &email.normalized()).await?;
        tx.mail(&platform, email.as_str(), MailKind::MemberInvite, rendered)?;
        tx.record(
            app.id,
            Event::new("member.invited", actor).subject("member_invite", invite.id).details(json!({
                "email": invite.email,
                "role": role.name,
                "expires_at": crate::time_format::format(&invite.expires_at),
                "superseded": superseded,
            })),
        );
        tx.commit().await?;
        Ok(Self::member_invite_view(&invite, &role.name, at))
    }

    /// Revokes a pending member invite; its code stops working at once.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn revoke_member_invite(&self, caller: &Caller, slug: &str, id: &str) -> Result<()> {
        let app = self.authorize(caller, slug, "member.invite").await?.app;
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Invite"))?;
        let invite = self.store.member_invite_by_id(app.id, id).await?.ok_or(Error::NotFound("Invite"))?;
        let mut tx = self.write().await?;
        if !tx.revoke_member_invite(app.id, id, now()).await? {
            return Err(Error::Conflict(format!("The invite is {} and cannot be revoked", invite.state(now()))));
        }
        tx.record(
            app.id,
            Event::new("member_invite.revoked", actor_of(caller))
                .subject("member_invite", id)
                .details(json!({"email": invite.email})),
        );
        tx.commit().await
    }

    /// The member and its role, `404` when the account is not a member (or the id is no id).
    async fn member(&self, app: &App, account_id: &str) -> Result<(Uuid, Role)> {
        let id = Uuid::parse_str(account_id).map_err(|_| Error::NotFound("Member"))?;
        let role = self.store.member_role(app.id, id).await?.ok_or(Error::NotFound("Member"))?;
        Ok((id, role))
    }

    /// Moves a member to another role. The caller must be able to grant both the member's
    /// role and the new one (an admin cannot demote an owner, nobody raises itself above its
    /// own permissions); the last owner keeps its role.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn change_member_role(
        &self,
        caller: &Caller,
        slug: &str,
        account_id: &str,
        choice: RoleChoice,
    ) -> Result<MemberView> {
        let access = self.authorize(caller, slug, "member.update").await?;
        let app = &access.app;
        let (id, current) = self.member(app, account_id).await?;
        let role = self.chosen_role(app, &choice).await?;
        // Stepping down oneself needs no power over one's own role.
        if Self::account_id(caller) != Some(id) {
            access.may_assign(caller, &current)?;
        }
        access.may_assign(caller, &role)?;
        let owner = self.owner_role(app).await?;
        let mut tx = self.write().await?;
        if !tx.lock_members(app.id).await? {
            return Err(Error::NotFound("App"));
        }
        let before = tx.member_role(app.id, id).await?.ok_or(Error::NotFound("Member"))?;
        // Again under the lock: the role read above may have been raised meanwhile (an owner
        // promoting the member), and a caller without power over it must not undo that.
        if Self::account_id(caller) != Some(id) {
            access.may_assign(caller, &before)?;
        }
        if before.id != role.id {
            if !tx.set_member_role(app.id, id, role.id, owner.id).await? {
                return Err(last_owner());
            }
            tx.record(
                app.id,
                Event::new("member.role_changed", actor_of(caller))
                    .subject("account", id)
                    .details(json!({"old": before.name, "new": role.name})),
            );
        }
        tx.commit().await?;
        self.store.members(app.id).await?.into_iter().find(|m| m.account_id == id).ok_or(Error::NotFound("Member"))
    }

    /// Removes a member; an account removing itself leaves (no `member.remove` needed). Others
    /// need `member.remove` and power over the member's role. The last owner stays.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn remove_member(&self, caller: &Caller, slug: &str, account_id: &str) -> Result<()> {
        let leaving = Self::account_id(caller).is_some_and(|me| Uuid::parse_str(account_id) == Ok(me));
        let (app, access) = if leaving {
            // Any member may leave, whatever its role's permissions.
            let Caller::Account(account) = caller else {
                return Err(Error::NotFound("Member"));
            };
            self.require_platform(account)?;
            let app = self.fresh_app(slug).await?;
            self.store.member_role(app.id, account.user_id).await?.ok_or(Error::NotFound("App"))?;
            (app, None)
        } else {
            let access = self.authorize(caller, slug, "member.remove").await?;
            let (_, role) = self.member(&access.app, account_id).await?;
            access.may_assign(caller, &role)?;
            (access.app.clone(), Some(access))
        };
        let id = Uuid::parse_str(account_id).map_err(|_| Error::NotFound("Member"))?;
        let owner = self.owner_role(&app).await?;
        let mut tx = self.write().await?;
        if !tx.lock_members(app.id).await? {
            return Err(Error::NotFound("App"));
        }
        let role = tx.member_role(app.id, id).await?.ok_or(Error::NotFound("Member"))?;
        // Again under the lock, as the role may have been raised meanwhile.
        if let Some(access) = &access {
            access.may_assign(caller, &role)?;
        }
        if !tx.delete_membership(app.id, id, owner.id).await? {
            return Err(last_owner());
        }
        let (kind, actor) =
            if leaving { ("member.left", Actor::account(id)) } else { ("member.removed", actor_of(caller)) };
        tx.record(app.id, Event::new(kind, actor).subject("account", id).details(json!({"role": role.name})));
        tx.commit().await
    }

    /// The live invite behind a code, or `INVALID_TOKEN`.
    async fn member_invite_by_code(&self, code: &str) -> Result<Invite> {
        let code = code.trim();
        if !code.starts_with(MEMBER_INVITE_PREFIX) || code.len() > 100 {
            return Err(invalid_invite());
        }
        self.store.member_invite_by_code(&token_digest(code)).await?.ok_or_else(invalid_invite)
    }

    /// What an invite's code opens, for the accept page (a GET: nothing is consumed).
    pub async fn member_invite_info(&self, code: &str, meta: &RequestMeta) -> Result<MemberInviteInfo> {
        let platform = self.app(PLATFORM_SLUG).await?;
        self.limit_ip(&platform, Rule::RedeemPerIp, meta).await?;
        let invite = self.member_invite_by_code(code).await?;
        let app = self.store.app_by_id(invite.app_id).await?.ok_or_else(invalid_invite)?;
        let role = self.store.role_by_id(app.id, invite.role_id).await?.ok_or_else(invalid_invite)?;
        Ok(MemberInviteInfo {
            app_slug: app.slug,
            app_name: app.display_name,
            role: role.name,
            email: invite.email.clone(),
            status: invite.state(now()).to_owned(),
            expires_at: invite.expires_at,
        })
    }

    /// Accepts a member invite for the signed-in account, which must hold the invited address
    /// (see the module's comment). In one change: the invite consumed, the address verified
    /// if it was not, the membership, the audit event.
    #[tracing::instrument(skip_all)]
    pub async fn accept_member_invite(
        &self,
        account: &Principal,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<MemberInviteInfo> {
        self.require_platform(account)?;
        let platform = &account.app;
        self.limit_ip(platform, Rule::RedeemPerIp, meta).await?;
        let invite = self.member_invite_by_code(code).await?;
        let at = now();
        if invite.state(at) != "pending" {
            return Err(invalid_invite());
        }
        let normalized = invite.email.to_lowercase();
        let contacts = self.store.contacts_of(platform.id, account.user_id).await?;
        let Some(contact) = contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Email && c.value.to_lowercase() == normalized)
            .min_by_key(|c| c.verified_at.is_none())
        else {
            return Err(Error::Forbidden(
                "This invite was sent to another email address: sign in with the account that has it".into(),
            ));
        };
        let app = self.store.app_by_id(invite.app_id).await?.ok_or_else(invalid_invite)?;
        let role = self.store.role_by_id(app.id, invite.role_id).await?.ok_or_else(invalid_invite)?;
        let mut tx = self.write().await?;
        if !tx.lock_members(app.id).await? {
            return Err(invalid_invite());
        }
        if tx.member_role(app.id, account.user_id).await?.is_some() {
            return Err(Error::Conflict("You are already a member of this app".into()));
        }
        if !tx.accept_member_invite(invite.id, account.user_id, at).await? {
            return Err(invalid_invite());
        }
        if contact.verified_at.is_none() {
            tx.verify_contact(platform.id, contact.id, at).await.map_err(|e| match e {
                StoreError::Unique { .. } => {
                    Error::Conflict("This email address is verified by another account".into())
                }
                e => e.into(),
            })?;
            tx.changed(Change::User(account.user_id));
            tx.record(
                platform.id,
                Event::new("account.email_verified", Actor::account(account.user_id))
                    .subject("account", account.user_id)
                    .details(json!({"contact_id": contact.id, "method": "member_invite"})),
            );
        }
        tx.insert_membership(app.id, account.user_id, role.id, at).await?;
        tx.record(
            app.id,
            Event::new("member.joined", Actor::account(account.user_id))
                .subject("account", account.user_id)
                .session(account.session_id)
                .details(json!({"invite_id": invite.id, "role": role.name, "email": invite.email})),
        );
        tx.commit().await?;
        tracing::info!(app = %app.slug, "member joined");
        Ok(MemberInviteInfo {
            app_slug: app.slug,
            app_name: app.display_name,
            role: role.name,
            email: invite.email,
            status: "accepted".into(),
            expires_at: invite.expires_at,
        })
    }
}
