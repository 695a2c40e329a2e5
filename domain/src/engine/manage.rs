//! Managing an app's auth config, roles and permission strings. Every change is validated
//! whole before anything is written, and authorised through `Engine::authorize`.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::json;
use uuid::Uuid;

use super::audit::actor_of;
use super::cache::Change;
use super::write::Write;
use super::{now, Access, Caller, Engine};
use crate::audit::{Actor, Event};
use crate::model::{AuthConfig, Permission, Role};
use crate::permissions::{MANAGEMENT, OWNER};
use crate::store::StoreError;
use crate::types::DisplayName;
use crate::{Error, Result};

#[allow(clippy::expect_used)] // literal patterns, exercised by the tests below
static PERMISSION_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$").expect("permission pattern"));
#[allow(clippy::expect_used)]
static ROLE_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_-]{1,39}$").expect("role pattern"));

/// `POST /apps/{slug}/roles`.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

/// `PATCH /apps/{slug}/roles/{name}`.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
}

pub fn check_permission_name(name: &str) -> Result<()> {
    if name.len() > 100 || !PERMISSION_RE.is_match(name) {
        return Err(Error::invalid(format!(
            "permission '{name}' must look like 'billing.read': lowercase words joined by dots"
        )));
    }
    Ok(())
}

/// Lays a JSON patch of config fields over `config` and checks the result whole (see
/// [`AuthConfig::patched`]); the error names the first wrong field, and nothing changes then.
pub fn apply_config_patch(config: &mut AuthConfig, patch: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    let patched = config.patched(patch).map_err(|e| Error::invalid(e.0))?;
    if patched.signup_default_role == OWNER {
        return Err(Error::invalid("signup_default_role cannot be owner"));
    }
    *config = patched;
    Ok(())
}

/// The settings a config change changed, each `{old, new}`, by name.
fn config_changes(old: &AuthConfig, new: &AuthConfig) -> Result<serde_json::Map<String, serde_json::Value>> {
    let (serde_json::Value::Object(old), serde_json::Value::Object(new)) =
        (serde_json::to_value(old).map_err(Error::internal)?, serde_json::to_value(new).map_err(Error::internal)?)
    else {
        return Err(Error::internal(anyhow::anyhow!("the auth config is not an object")));
    };
    Ok(new
        .into_iter()
        .filter_map(|(name, value)| {
            let was = old.get(&name).cloned().unwrap_or(serde_json::Value::Null);
            (was != value).then(|| (name, json!({"old": was, "new": value})))
        })
        .collect())
}

impl Engine {
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn config(&self, caller: &Caller, slug: &str) -> Result<AuthConfig> {
        Ok(self.authorize(caller, slug, "config.read").await?.app.config)
    }

    /// Applies the patch whole or not at all.
    pub async fn update_config(
        &self,
        caller: &Caller,
        slug: &str,
        patch: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AuthConfig> {
        let access = self.authorize(caller, slug, "config.update").await?;
        self.apply_config(access.app.clone(), patch, Some((caller, &access))).await
    }

    /// The operator's way to configure any app, the `platform` app (which has no members)
    /// included: the same validation, no caller to authorise.
    pub async fn operator_update_config(
        &self,
        slug: &str,
        patch: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AuthConfig> {
        let app = self.fresh_app(slug).await?;
        self.apply_config(app, patch, None).await
    }

    /// `by` is the caller and its access, absent for the operator.
    async fn apply_config(
        &self,
        mut app: crate::model::App,
        patch: &serde_json::Map<String, serde_json::Value>,
        by: Option<(&Caller, &Access)>,
    ) -> Result<AuthConfig> {
        let old = app.config.clone();
        let before = app.config.signup_default_role.clone();
        apply_config_patch(&mut app.config, patch)?;
        let Some(default_role) = self.store.role_by_name(app.id, &app.config.signup_default_role).await? else {
            return Err(Error::invalid(format!(
                "signup_default_role: no role named '{}' in this app",
                app.config.signup_default_role
            )));
        };
        // Choosing the role every sign-up gets is assigning it.
        if let Some((caller, access)) = by.filter(|_| default_role.name != before) {
            access.may_assign(caller, &default_role)?;
        }
        app.updated_at = now();
        let mut tx = self.write().await?;
        tx.update_app(&app).await?;
        tx.changed(Change::App(app.id));
        let changes = config_changes(&old, &app.config)?;
        if !changes.is_empty() {
            let actor = by.map_or_else(Actor::system, |(caller, _)| actor_of(caller));
            tx.record(
                app.id,
                Event::new("app.config_changed", actor).subject("app", app.id).details(json!({"changes": changes})),
            );
        }
        tx.commit().await?;
        Ok(app.config)
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn roles(&self, caller: &Caller, slug: &str) -> Result<Vec<Role>> {
        let Access { app, .. } = self.authorize(caller, slug, "role.read").await?;
        Ok(self.store.roles(app.id).await?)
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn role(&self, caller: &Caller, slug: &str, name: &str) -> Result<Role> {
        let Access { app, .. } = self.authorize(caller, slug, "role.read").await?;
        self.store.role_by_name(app.id, name).await?.ok_or(Error::NotFound("Role"))
    }

    /// The management permissions and the app's custom ones.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn permission_catalog(&self, caller: &Caller, slug: &str) -> Result<Vec<(String, String, bool)>> {
        let Access { app, .. } = self.authorize(caller, slug, "role.read").await?;
        let mut all: Vec<(String, String, bool)> =
            MANAGEMENT.iter().map(|p| (p.to_string(), "Manage the app through Rampart".to_string(), true)).collect();
        all.extend(self.store.permissions(app.id).await?.into_iter().map(|p| (p.name, p.description, false)));
        Ok(all)
    }

    pub async fn create_permission(
        &self,
        caller: &Caller,
        slug: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Permission> {
        let Access { app, .. } = self.authorize(caller, slug, "role.create").await?;
        check_permission_name(name)?;
        if MANAGEMENT.contains(&name) {
            return Err(Error::Conflict(format!("'{name}' is a built-in permission")));
        }
        let permission = Permission {
            app_id: app.id,
            name: name.to_owned(),
            description: description
                .map(|d| DisplayName::parse(d, "description"))
                .transpose()?
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            created_at: now(),
        };
        let mut tx = self.write().await?;
        tx.insert_permission(&permission).await.map_err(|e| match e {
            StoreError::Unique { .. } => Error::Conflict(format!("Permission '{name}' already exists")),
            e => e.into(),
        })?;
        tx.record(
            app.id,
            Event::new("permission.created", actor_of(caller))
                .details(json!({"name": permission.name, "description": permission.description})),
        );
        tx.commit().await?;
        Ok(permission)
    }

    /// Checks a permission set for a role; registers custom strings the app has not seen.
    /// A caller can only grant management permissions it holds itself.
    async fn prepare_permissions(
        &self,
        tx: &mut Write<'_>,
        caller: &Caller,
        access: &Access,
        requested: &[String],
    ) -> Result<Vec<String>> {
        let mut set: Vec<String> = Vec::new();
        let known = self.store.permissions(access.app.id).await?;
        for name in requested {
            let name = name.trim();
            check_permission_name(name)?;
            if set.iter().any(|p| p == name) {
                continue;
            }
            if MANAGEMENT.contains(&name) {
                if !access.holds(caller, name) {
                    return Err(Error::Forbidden(format!("You cannot grant {name}: you do not hold it")));
                }
            } else if !known.iter().any(|p| p.name == name) {
                tx.insert_permission(&Permission {
                    app_id: access.app.id,
                    name: name.to_owned(),
                    description: String::new(),
                    created_at: now(),
                })
                .await?;
                tx.record(
                    access.app.id,
                    Event::new("permission.created", actor_of(caller))
                        .details(json!({"name": name, "description": ""})),
                );
            }
            set.push(name.to_owned());
        }
        if set.len() > 200 {
            return Err(Error::invalid("a role holds at most 200 permissions"));
        }
        Ok(set)
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn create_role(&self, caller: &Caller, slug: &str, input: NewRole) -> Result<Role> {
        let access = self.authorize(caller, slug, "role.create").await?;
        let name = input.name.trim();
        if !ROLE_RE.is_match(name) {
            return Err(Error::invalid(
                "role name must be 2-40 lowercase letters, digits, '-' or '_', starting with a letter",
            ));
        }
        let description = match input.description.as_deref() {
            Some(d) if !d.trim().is_empty() => DisplayName::parse(d, "description")?.as_str().to_owned(),
            _ => String::new(),
        };
        let mut tx = self.write().await?;
        let permissions = self.prepare_permissions(&mut tx, caller, &access, &input.permissions).await?;
        let role = Role {
            id: Uuid::new_v4(),
            app_id: access.app.id,
            name: name.to_owned(),
            description,
            is_system: false,
            permissions,
            created_at: now(),
        };
        tx.insert_role(&role).await.map_err(|e| match e {
            StoreError::Unique { .. } => Error::Conflict(format!("A role named '{name}' already exists")),
            e => e.into(),
        })?;
        tx.record(
            role.app_id,
            Event::new("role.created", actor_of(caller)).subject("role", role.id).details(json!({
                "name": role.name,
                "description": role.description,
                "permissions": role.permissions,
            })),
        );
        tx.commit().await?;
        Ok(role)
    }

    /// Edits description and permissions of any role, system roles included. The owner role
    /// keeps every management permission, so an app cannot lock out its owners.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn update_role(&self, caller: &Caller, slug: &str, name: &str, patch: RolePatch) -> Result<Role> {
        let access = self.authorize(caller, slug, "role.update").await?;
        let mut role = self.store.role_by_name(access.app.id, name).await?.ok_or(Error::NotFound("Role"))?;
        let old = role.clone();
        if let Some(d) = patch.description {
            role.description = if d.trim().is_empty() {
                String::new()
            } else {
                DisplayName::parse(&d, "description")?.as_str().to_owned()
            };
        }
        let mut tx = self.write().await?;
        if let Some(requested) = patch.permissions {
            let set = self.prepare_permissions(&mut tx, caller, &access, &requested).await?;
            if role.name == OWNER && MANAGEMENT.iter().any(|m| !set.iter().any(|p| p == m)) {
                return Err(Error::invalid("the owner role keeps every management permission"));
            }
            role.permissions = set;
        }
        tx.update_role(&role).await?;
        tx.changed(Change::Role(role.id));
        let mut changes = serde_json::Map::new();
        if old.description != role.description {
            changes.insert("description".into(), json!({"old": old.description, "new": role.description}));
        }
        if old.permissions != role.permissions {
            let added: Vec<_> = role.permissions.iter().filter(|p| !old.permissions.contains(p)).collect();
            let removed: Vec<_> = old.permissions.iter().filter(|p| !role.permissions.contains(p)).collect();
            changes.insert(
                "permissions".into(),
                json!({"old": old.permissions, "new": role.permissions, "added": added, "removed": removed}),
            );
        }
        if !changes.is_empty() {
            tx.record(
                role.app_id,
                Event::new("role.updated", actor_of(caller))
                    .subject("role", role.id)
                    .details(json!({"name": role.name, "changes": changes})),
            );
        }
        tx.commit().await?;
        Ok(role)
    }

    /// Deletes a custom role. While users or members hold it, `reassign_to` names the role
    /// they move to; without it the delete is refused.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn delete_role(&self, caller: &Caller, slug: &str, name: &str, reassign_to: Option<&str>) -> Result<()> {
        let access = self.authorize(caller, slug, "role.delete").await?;
        let app = &access.app;
        let role = self.store.role_by_name(app.id, name).await?.ok_or(Error::NotFound("Role"))?;
        if role.is_system {
            return Err(Error::invalid("system roles cannot be deleted"));
        }
        if app.config.signup_default_role == role.name {
            return Err(Error::Conflict("This role is the app's signup_default_role; change that first".into()));
        }
        let target = match reassign_to {
            Some(to) if to == name => return Err(Error::invalid("reassign_to must name another role")),
            Some(to) => {
                let target = self
                    .store
                    .role_by_name(app.id, to)
                    .await?
                    .ok_or_else(|| Error::invalid(format!("reassign_to: no role named '{to}' in this app")))?;
                access.may_assign(caller, &target)?;
                Some(target)
            }
            None => None,
        };
        let mut tx = self.write().await?;
        let reassigned = target.is_some();
        match target {
            Some(target) => tx.reassign_role(app.id, role.id, target.id).await?,
            None => {
                let holders = self.store.role_holders(app.id, role.id).await?;
                if holders > 0 {
                    return Err(Error::Conflict(format!(
                        "{holders} users, members or organization members hold this role; pass reassign_to to move them"
                    )));
                }
            }
        }
        // A holder added since the count makes the foreign key refuse the delete.
        if !tx.delete_role(app.id, role.id).await.map_err(|e| match e {
            StoreError::ForeignKey => Error::Conflict("The role is still held; retry with reassign_to".into()),
            e => e.into(),
        })? {
            return Err(Error::NotFound("Role"));
        }
        // Moved holders' live sessions carry the old role's name in every node's cache; which
        // sessions those are is not known here, so every node drops its caches (a rare edit).
        let change = if reassigned { Change::Everything } else { Change::Role(role.id) };
        tx.changed(change);
        tx.record(
            app.id,
            Event::new("role.deleted", actor_of(caller))
                .subject("role", role.id)
                .details(json!({"name": role.name, "reassigned_to": reassign_to})),
        );
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names() {
        for ok in ["billing.read", "app.update", "a.b.c", "reports_v2.export-csv"] {
            assert!(check_permission_name(ok).is_ok(), "{ok}");
        }
        for bad in ["billing", "Billing.read", ".read", "billing.", "billing..read", "1x.read", "a b.c", ""] {
            assert!(check_permission_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_patch_names_the_field_and_is_all_or_nothing() {
        let mut config = AuthConfig::default();
        let patch = |json: serde_json::Value| json.as_object().cloned().unwrap_or_default();
        let err = |json| {
            let mut c = AuthConfig::default();
            apply_config_patch(&mut c, &patch(json)).unwrap_err().to_string()
        };
        assert!(err(serde_json::json!({"access_token_ttl_seconds": -5})).contains("access_token_ttl_seconds"));
        assert!(err(serde_json::json!({"password_min_length": 7})).contains("password_min_length"));
        assert!(err(serde_json::json!({"password_min_length": 129})).contains("password_min_length"));
        assert!(err(serde_json::json!({"password_min_length": -1})).contains("password_min_length"));
        assert!(err(serde_json::json!({"signup_enabled": "yes"})).contains("signup_enabled"));
        assert!(err(serde_json::json!({"nope": 1})).contains("nope"));
        assert!(err(serde_json::json!({"signup_default_role": "owner"})).contains("signup_default_role"));
        assert!(err(serde_json::json!({"refresh_token_ttl_seconds": 600, "access_token_ttl_seconds": 3600}))
            .contains("refresh_token_ttl_seconds"));
        apply_config_patch(
            &mut config,
            &patch(serde_json::json!({"signup_enabled": false, "password_min_length": 12})),
        )
        .unwrap();
        assert!(!config.signup_enabled);
        assert_eq!(config.password_min_length, 12);
    }
}
