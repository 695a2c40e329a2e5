//! End-users seen from the app's side (list, search, suspend, delete, change role, revoke
//! sessions) and from their own (`me/permissions`, `me/sessions`).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use super::audit::{actor_of, user_actor, user_kind};
use super::cache::Change;
use super::{now, Access, Caller, Engine, Principal};
use crate::audit::Event;
use crate::model::{Session, Status, User, UserCursor, UserProfile};
use crate::types::DisplayName;
use crate::{Error, Result};

/// Defined in `shared`, which the console's browser build also uses.
pub use shared::{PrimaryEmail, SessionView, UserPage, UserView};

/// `PATCH /apps/{slug}/end-users/{id}`.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
}

fn encode_cursor(user: &User) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", user.created_at.timestamp_millis(), user.id))
}

fn decode_cursor(raw: &str) -> Result<UserCursor> {
    let bad = || Error::invalid("cursor is not one this API gave out");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?).map_err(|_| bad())?;
    let (millis, id) = text.split_once('.').ok_or_else(bad)?;
    let created_at = Utc.timestamp_millis_opt(millis.parse().map_err(|_| bad())?).single().ok_or_else(bad)?;
    Ok(UserCursor { created_at, id: Uuid::parse_str(id).map_err(|_| bad())? })
}

fn session_view(s: Session, current: Option<Uuid>) -> SessionView {
    SessionView {
        id: s.id,
        user_agent: s.user_agent,
        ip: s.ip,
        created_at: s.created_at,
        last_used_at: s.last_used_at,
        expires_at: s.expires_at,
        current: Some(s.id) == current,
    }
}

/// The view of a user read with its role and primary email; `with_contact` false leaves the
/// email out.
fn user_view(profile: UserProfile, with_contact: bool) -> UserView {
    let UserProfile { user, role_name, email, email_verified_at } = profile;
    UserView {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: role_name,
        status: user.status,
        contact: with_contact.then_some(PrimaryEmail { email, email_verified_at }),
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

impl Engine {
    /// The user as the management API shows it, read afresh.
    async fn user_view_of(&self, app_id: Uuid, user_id: Uuid) -> Result<UserView> {
        let profile = self.store.user_profile(app_id, user_id).await?.ok_or(Error::NotFound("User"))?;
        Ok(user_view(profile, true))
    }

    async fn find_user(&self, app_id: Uuid, id: &str) -> Result<User> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("User"))?;
        self.store.user_by_id(app_id, id).await?.ok_or(Error::NotFound("User"))
    }

    /// A page of the app's users, oldest first, optionally filtered by `search`.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_users(
        &self,
        caller: &Caller,
        slug: &str,
        search: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<UserPage> {
        let Access { app, .. } = self.authorize(caller, slug, "user.list").await?;
        self.users_page(app.id, search, cursor, limit, true).await
    }

    async fn users_page(
        &self,
        app_id: Uuid,
        search: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
        with_contact: bool,
    ) -> Result<UserPage> {
        let limit = limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(Error::invalid("limit must be between 1 and 100"));
        }
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > 100) {
            return Err(Error::invalid("search must be at most 100 characters"));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        // One extra row tells whether there is a next page.
        // Without the right to see contacts, searching them would be an oracle for them.
        let mut rows = self.store.users_page(app_id, search, with_contact, after, limit + 1).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|p| encode_cursor(&p.user)) } else { None };
        let users = rows.into_iter().map(|p| user_view(p, with_contact)).collect();
        Ok(UserPage { users, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn get_user(&self, caller: &Caller, slug: &str, id: &str) -> Result<UserView> {
        let Access { app, .. } = self.authorize(caller, slug, "user.read").await?;
        let user = self.find_user(app.id, id).await?;
        self.user_view_of(app.id, user.id).await
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn user_sessions(&self, caller: &Caller, slug: &str, id: &str) -> Result<Vec<SessionView>> {
        let Access { app, .. } = self.authorize(caller, slug, "user.read").await?;
        let user = self.find_user(app.id, id).await?;
        let at = now();
        let sessions = self.store.sessions_of(app.id, user.id).await?;
        Ok(sessions.into_iter().filter(|s| s.is_live(at)).map(|s| session_view(s, None)).collect())
    }

    /// Display name, status and role; suspending also ends the user's sessions.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn update_user(&self, caller: &Caller, slug: &str, id: &str, patch: UserPatch) -> Result<UserView> {
        let access = self.authorize(caller, slug, "user.update").await?;
        let app = &access.app;
        let mut user = self.find_user(app.id, id).await?;
        let old = user.clone();
        let mut new_role_name = None;
        if let Some(name) = patch.display_name {
            user.display_name = DisplayName::parse(&name, "displayName")?.as_str().to_owned();
        }
        if let Some(status) = patch.status {
            user.status =
                Status::parse(&status).ok_or_else(|| Error::invalid("status must be 'active' or 'suspended'"))?;
        }
        if let Some(role) = patch.role {
            let role = self
                .store
                .role_by_name(app.id, &role)
                .await?
                .ok_or_else(|| Error::invalid(format!("role: no role named '{role}' in this app")))?;
            if role.id != user.role_id {
                access.may_assign(caller, &role)?;
                new_role_name = Some(role.name.clone());
            }
            user.role_id = role.id;
        }
        user.updated_at = now();
        let mut tx = self.write().await?;
        tx.update_user(&user).await?;
        let mut revoked = 0;
        if user.status == Status::Suspended {
            revoked = tx.revoke_user_sessions(app.id, user.id, user.updated_at).await?;
        }
        tx.changed(Change::User(user.id));
        let kind = user_kind(&app.slug);
        let actor = actor_of(caller);
        let event = |name: &str| Event::new(format!("{kind}.{name}"), actor.clone()).subject(kind, user.id);
        if old.display_name != user.display_name {
            tx.record(
                app.id,
                event("updated")
                    .details(json!({"changes": {"display_name": {"old": old.display_name, "new": user.display_name}}})),
            );
        }
        if let Some(to) = new_role_name {
            let from = self.store.role_by_id(app.id, old.role_id).await?.map(|r| r.name);
            tx.record(app.id, event("role_changed").details(json!({"old": from, "new": to})));
        }
        if old.status != user.status {
            let name = if user.status == Status::Suspended { "suspended" } else { "reactivated" };
            tx.record(app.id, event(name).details(json!({"sessions_revoked": revoked})));
        }
        tx.commit().await?;
        self.user_view_of(app.id, user.id).await
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn delete_user(&self, caller: &Caller, slug: &str, id: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "user.delete").await?;
        let user = self.find_user(app.id, id).await?;
        let mut tx = self.write().await?;
        tx.delete_user(app.id, user.id).await?;
        tx.changed(Change::User(user.id));
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.deleted"), actor_of(caller))
                .subject(kind, user.id)
                .details(json!({"username": user.username})),
        );
        tx.commit().await
    }

    /// Ends every session of the user; answers how many were live.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn revoke_user_sessions(&self, caller: &Caller, slug: &str, id: &str) -> Result<u64> {
        let Access { app, .. } = self.authorize(caller, slug, "user.update").await?;
        let user = self.find_user(app.id, id).await?;
        let mut tx = self.write().await?;
        let revoked = tx.revoke_user_sessions(app.id, user.id, now()).await?;
        tx.changed(Change::User(user.id));
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new(format!("{kind}.sessions_revoked"), actor_of(caller))
                .subject(kind, user.id)
                .details(json!({"count": revoked})),
        );
        tx.commit().await?;
        Ok(revoked)
    }

    /// The flat permission set of the user's current role, through the 60-second cache that
    /// role edits clear on every node.
    /// The permissions of the caller's role. The role comes with the authenticated session
    /// (whose cache a role change clears), the permissions from their own cache.
    pub async fn my_permissions(&self, me: &Principal) -> Result<Arc<Vec<String>>> {
        if let Some(cached) = self.caches.permissions(me.role_id) {
            return Ok(cached);
        }
        let generation = self.caches.generation();
        let role = self.store.role_by_id(me.app.id, me.role_id).await?.ok_or(Error::SessionRevoked)?;
        let mut permissions = role.permissions;
        permissions.sort();
        let permissions = Arc::new(permissions);
        self.caches.put_permissions_if(generation, me.role_id, permissions.clone());
        Ok(permissions)
    }

    /// For routes gated by `enforce_app_permissions`: when the app turns it on, the caller's
    /// role must hold `permission`; when off, any valid token passes (seed 001).
    pub async fn require_app_permission(&self, me: &Principal, permission: &str) -> Result<()> {
        if !me.app.config.enforce_app_permissions {
            return Ok(());
        }
        if self.my_permissions(me).await?.iter().any(|p| p == permission) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("Missing permission {permission}")))
        }
    }

    pub async fn my_sessions(&self, me: &Principal) -> Result<Vec<SessionView>> {
        let at = now();
        let sessions = self.store.sessions_of(me.app.id, me.user_id).await?;
        Ok(sessions.into_iter().filter(|s| s.is_live(at)).map(|s| session_view(s, Some(me.session_id))).collect())
    }

    /// Revokes one of the caller's own sessions; its bearer stops working on the next request.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn revoke_my_session(&self, me: &Principal, id: &str) -> Result<()> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Session"))?;
        let session = self.store.session(me.app.id, id).await?.filter(|s| s.user_id == me.user_id);
        let session = session.ok_or(Error::NotFound("Session"))?;
        let mut tx = self.write().await?;
        let ended = tx.revoke_session(me.app.id, session.id, now()).await?;
        tx.changed(Change::Session(session.id));
        if ended {
            let kind = user_kind(&me.app.slug);
            tx.record(
                me.app.id,
                Event::new("session.revoked", user_actor(&me.app.slug, me.user_id))
                    .subject(kind, me.user_id)
                    .session(session.id)
                    .details(json!({"by": "owner", "current": session.id == me.session_id})),
            );
        }
        tx.commit().await
    }

    /// The app's users for the consumer API, gated by `user.list` when the app enforces
    /// permissions. Their emails are shown only to callers whose role holds `user.read`,
    /// whether or not the app enforces permissions: a directory of names is what seed 001's
    /// open default allows, not a list of every user's address.
    pub async fn app_users_for(
        &self,
        me: &Principal,
        search: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<UserPage> {
        self.require_app_permission(me, "user.list").await?;
        let with_contact = self.my_permissions(me).await?.iter().any(|p| p == "user.read");
        self.users_page(me.app.id, search, cursor, limit, with_contact).await
    }

    /// The app's roles for the consumer API, gated by `role.read` when enforced.
    pub async fn app_roles_for(&self, me: &Principal) -> Result<Vec<crate::model::Role>> {
        self.require_app_permission(me, "role.read").await?;
        Ok(self.store.roles(me.app.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let user = User {
            id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            username: "ada".into(),
            display_name: "Ada".into(),
            password_hash: None,
            role_id: Uuid::new_v4(),
            status: Status::Active,
            created_at: now(),
            updated_at: now(),
        };
        let c = decode_cursor(&encode_cursor(&user)).unwrap();
        assert_eq!((c.created_at, c.id), (user.created_at, user.id));
        for bad in ["", "!!!", "bm90LWEtY3Vyc29y", &URL_SAFE_NO_PAD.encode("12.not-a-uuid")] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
