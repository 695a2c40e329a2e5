//! Invitations into an organization: its owners and admins invite an email address with an
//! org role; the mail carries a code (`oinv_…`) and a link to the hosted page that accepts
//! it. The code is kept as its SHA-256, works once, expires
//! (`organization_invite_ttl_seconds`), and a newer invite of the same address into the same
//! organization revokes the pending ones.
//!
//! Accepting takes the invitee's bearer (or browser session) and the code, and holds only
//! for a user who holds the invited address as a *verified* email: a code forwarded to, or
//! intercepted by, someone else does not make them a member.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::user_actor;
use super::cache::Change;
use super::limits::Rule;
use super::orgs::{OrgView, Rank};
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::Event;
use crate::crypto::{random_token, token_digest};
use crate::mail::render::{render, MailKind, Vars};
use crate::model::{ContactKind, OrgInvite};
use crate::permissions::OWNER;
use crate::store::StoreError;
use crate::types::Email;
use crate::{Error, Result};

/// Every organization invite code starts with this.
pub const ORG_INVITE_PREFIX: &str = "oinv_";

fn invalid_invite() -> Error {
    Error::InvalidToken("This invite is invalid, used, revoked or expired")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgInviteView {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role: String,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub expires_at: DateTime<Utc>,
}

impl Engine {
    /// Invites an email address into one of the caller's organizations with `role` (the
    /// app's default role when missing): owners and admins, and only owners invite owners.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn invite_to_org(
        &self,
        me: &Principal,
        org_id: &str,
        email: &str,
        role: Option<&str>,
    ) -> Result<OrgInviteView> {
        let view = self.my_org(me, org_id).await?;
        let app = &me.app;
        let rank = Rank::of(view.role.as_deref().unwrap_or_default());
        if rank < Rank::Admin {
            return Err(Error::Forbidden("Only the organization's owners and admins may invite".into()));
        }
        let email = Email::parse(email)?;
        let role = self.org_role(app, role.unwrap_or(&app.config.signup_default_role)).await?;
        if role.name == OWNER && rank < Rank::Owner {
            return Err(Error::Forbidden("Only an owner may grant the owner role".into()));
        }
        let code = random_token(ORG_INVITE_PREFIX);
        let at = now();
        let lasts = TimeDelta::seconds(app.config.organization_invite_ttl_seconds);
        let invite = OrgInvite {
            id: Uuid::now_v7(),
            app_id: app.id,
            org_id: view.id,
            email: email.as_str().to_owned(),
            role_id: role.id,
            code_digest: token_digest(&code),
            invited_by: Some(me.user_id),
            created_at: at,
            expires_at: at + lasts,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        let rendered = render(
            MailKind::OrgInvite,
            &Vars {
                app: app.display_name.clone(),
                name: None,
                link: Some(format!("{}/{}/accept-org-invite?code={code}", self.public_url(), app.slug)),
                code: Some(code),
                lasts: Some(lasts),
                notice: Some(view.name.clone()),
                feature: None,
                language: None,
            },
            &app.config,
        );
        let mut tx = self.write().await?;
        let superseded = tx.insert_org_invite(&invite, &email.normalized()).await?;
        tx.mail(app, email.as_str(), MailKind::OrgInvite, rendered)?;
        tx.record(
            app.id,
            Event::new("org.invited", user_actor(&app.slug, me.user_id)).subject("organization", view.id).details(
                json!({
                    "invite_id": invite.id,
                    "email": invite.email,
                    "role": role.name,
                    "expires_at": crate::time_format::format(&invite.expires_at),
                    "superseded": superseded,
                }),
            ),
        );
        tx.commit().await?;
        Ok(OrgInviteView {
            id: invite.id,
            org_id: view.id,
            email: invite.email,
            role: role.name,
            created_at: invite.created_at,
            expires_at: invite.expires_at,
        })
    }

    /// Accepts an organization invite as the signed-in user, who must hold the invited
    /// address as a verified email; answers the organization joined.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn accept_org_invite(&self, me: &Principal, code: &str, meta: &RequestMeta) -> Result<OrgView> {
        let app = &me.app;
        if !app.config.organizations_enabled {
            return Err(Error::Forbidden("Organizations are not enabled for this app".into()));
        }
        self.limit_ip(app, Rule::RedeemPerIp, meta).await?;
        let code = code.trim();
        if !code.starts_with(ORG_INVITE_PREFIX) || code.len() > 100 {
            return Err(invalid_invite());
        }
        let invite = self.store.org_invite_by_code(app.id, &token_digest(code)).await?.ok_or_else(invalid_invite)?;
        if invite.state(now()) != "pending" {
            return Err(invalid_invite());
        }
        let wanted = Email::parse(&invite.email)?.normalized();
        let holds = self.store.contacts_of(app.id, me.user_id).await?.into_iter().any(|c| {
            c.kind == ContactKind::Email
                && c.verified_at.is_some()
                && Email::parse(&c.value).is_ok_and(|e| e.normalized() == wanted)
        });
        if !holds {
            return Err(Error::Forbidden(
                "This invite is for another email address: sign in as its user, with that address verified".into(),
            ));
        }
        let role = self.store.role_by_id(app.id, invite.role_id).await?.ok_or_else(invalid_invite)?;
        let org = self.store.organization(app.id, invite.org_id).await?.ok_or_else(invalid_invite)?;
        let at = now();
        let mut tx = self.write().await?;
        if !tx.lock_organization(app.id, org.id).await? {
            return Err(invalid_invite());
        }
        if tx.org_member_role(app.id, org.id, me.user_id).await?.is_some() {
            return Err(Error::Conflict("You are already a member of this organization".into()));
        }
        if !tx.accept_org_invite(app.id, invite.id, me.user_id, at).await? {
            return Err(invalid_invite());
        }
        tx.insert_org_member(app.id, org.id, me.user_id, role.id, at).await.map_err(|e| match e {
            StoreError::Unique { .. } => Error::Conflict("You are already a member of this organization".into()),
            e => e.into(),
        })?;
        tx.changed(Change::User(me.user_id));
        tx.record(
            app.id,
            Event::new("org.invite_accepted", user_actor(&app.slug, me.user_id))
                .subject("organization", org.id)
                .details(json!({"invite_id": invite.id, "user_id": me.user_id, "role": role.name})),
        );
        tx.commit().await?;
        Ok(OrgView::of(org, Some(role.name), None))
    }

    /// The organization's name and the invite's address, while the code is pending (the
    /// hosted page shows them before the invitee accepts).
    pub async fn peek_org_invite(&self, slug: &str, code: &str) -> Result<Option<(String, String)>> {
        let app = self.app(slug).await?;
        let code = code.trim();
        if !code.starts_with(ORG_INVITE_PREFIX) || code.len() > 100 {
            return Ok(None);
        }
        let Some(invite) = self.store.org_invite_by_code(app.id, &token_digest(code)).await? else {
            return Ok(None);
        };
        if invite.state(now()) != "pending" {
            return Ok(None);
        }
        let org = self.store.organization(app.id, invite.org_id).await?;
        Ok(org.map(|o| (o.name, invite.email)))
    }
}
