//! Apps: creation with their system roles, owner and signing key; listing, updates,
//! deletion and introspection, each authorised through `Engine::authorize`.

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::actor_of;
use super::write::Write;
use super::{now, Access, Caller, Change, Engine, Principal};
use crate::audit::{Actor, Event};
use crate::keys;
use crate::model::{App, AuthConfig, Membership, Role, SigningKey, Status};
use crate::permissions::{self, OWNER};
use crate::store::{StoreError, Tx};
use crate::types::{DisplayName, Slug, PLATFORM_SLUG};
use crate::{Error, Result};

/// `POST /api/v1/apps` (seed 000, step 2).
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub slug: String,
    pub display_name: String,
    pub metadata: Option<serde_json::Value>,
    /// The tokens' signing algorithm: `RS256` (the default), `ES256` or `EdDSA`.
    pub signing_alg: Option<String>,
}

/// `PATCH /api/v1/apps/{slug}`: every field optional; the slug is not among them.
#[derive(Debug, Clone, Default)]
pub struct AppPatch {
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

/// `GET /api/v1/introspect/apps/{slug}` (seed 000, step 4).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Introspection {
    pub is_member: bool,
    pub role: Option<RoleRef>,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RoleRef {
    pub id: Uuid,
    pub name: String,
}

fn metadata_object(value: Option<serde_json::Value>) -> Result<serde_json::Value> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(serde_json::json!({})),
        Some(v @ serde_json::Value::Object(_)) => {
            if serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(usize::MAX) > 16 * 1024 {
                return Err(Error::invalid("metadata must be at most 16 KiB"));
            }
            Ok(v)
        }
        Some(_) => Err(Error::invalid("metadata must be a JSON object")),
    }
}

/// The events of a new app: itself, with its roles, and its first signing key.
fn record_app_created(tx: &mut Write<'_>, app: &App, actor: Actor, kid: &str, alg: keys::SigningAlg) {
    tx.record(
        app.id,
        Event::new("app.created", actor.clone()).subject("app", app.id).details(json!({
            "slug": app.slug,
            "display_name": app.display_name,
            "roles": permissions::system_roles().iter().map(|(name, ..)| *name).collect::<Vec<_>>(),
        })),
    );
    tx.record(app.id, Event::new("signing_key.created", actor).details(json!({"kid": kid, "alg": alg.as_str()})));
}

impl Engine {
    pub(super) async fn ensure_platform_app(&self) -> Result<()> {
        if self.store.app_by_slug(PLATFORM_SLUG).await?.is_some() {
            return Ok(());
        }
        let app = self.new_app_record(PLATFORM_SLUG.into(), "Rampart".into(), serde_json::json!({}));
        let mut tx = self.write().await?;
        // EdDSA: an Ed25519 key is made in microseconds, an RSA key in tens to hundreds of
        // milliseconds, which the first start would wait for. Apps default to RS256.
        match self.insert_app_with_roles_and_key(&mut *tx, &app, keys::SigningAlg::EdDsa).await {
            // Another node created it first.
            Err(Error::SlugTaken) => Ok(()),
            Err(e) => Err(e),
            Ok((_, kid)) => {
                record_app_created(&mut tx, &app, Actor::system(), &kid, keys::SigningAlg::EdDsa);
                tx.commit().await
            }
        }
    }

    fn new_app_record(&self, slug: String, display_name: String, metadata: serde_json::Value) -> App {
        let at = now();
        App {
            id: Uuid::new_v4(),
            slug,
            display_name,
            status: Status::Active,
            metadata,
            config: AuthConfig::default(),
            created_at: at,
            updated_at: at,
        }
    }

    /// Inserts the app, its three system roles and its first signing key; returns the roles
    /// and the key's id. `SlugTaken` when the slug is, by a live app or a deleted one.
    async fn insert_app_with_roles_and_key(
        &self,
        tx: &mut dyn Tx,
        app: &App,
        alg: keys::SigningAlg,
    ) -> Result<(Vec<Role>, String)> {
        tx.insert_app(app).await.map_err(|e| match e {
            StoreError::Unique { .. } => Error::SlugTaken,
            e => e.into(),
        })?;
        let mut roles = Vec::new();
        for (name, description, perms) in permissions::system_roles() {
            let role = Role {
                id: Uuid::new_v4(),
                app_id: app.id,
                name: name.into(),
                description: description.into(),
                is_system: true,
                permissions: perms,
                created_at: app.created_at,
            };
            tx.insert_role(&role).await?;
            roles.push(role);
        }
        let key = tokio::task::spawn_blocking({
            let master = self.config.master_key.clone();
            move || keys::generate(alg, &master)
        })
        .await
        .map_err(Error::internal)??;
        let kid = key.kid.clone();
        tx.insert_signing_key(&SigningKey {
            kid: key.kid,
            app_id: app.id,
            alg: key.alg.into(),
            private_sealed: key.private_sealed,
            public_jwk: serde_json::to_value(&key.public_jwk).map_err(Error::internal)?,
            active: true,
            created_at: app.created_at,
            retired_at: None,
            revoked_at: None,
        })
        .await?;
        Ok((roles, kid))
    }

    /// Creates an app owned by the calling account.
    #[tracing::instrument(skip_all, fields(slug = %input.slug))]
    pub async fn create_app(&self, account: &Principal, input: NewApp) -> Result<App> {
        self.require_platform(account)?;
        let slug = Slug::parse(input.slug.trim())?;
        let display_name = DisplayName::parse(&input.display_name, "displayName")?;
        let alg = match input.signing_alg.as_deref() {
            Some(raw) => keys::SigningAlg::parse_field(raw, "signing_alg")?,
            None => keys::SigningAlg::default(),
        };
        let app =
            self.new_app_record(slug.as_str().into(), display_name.as_str().into(), metadata_object(input.metadata)?);
        if self.store.app_by_slug(&app.slug).await?.is_some() {
            return Err(Error::SlugTaken);
        }
        let mut tx = self.write().await?;
        let (roles, kid) = self.insert_app_with_roles_and_key(&mut *tx, &app, alg).await?;
        let owner =
            roles.iter().find(|r| r.name == OWNER).ok_or_else(|| Error::internal(anyhow::anyhow!("owner role")))?;
        tx.insert_membership(app.id, account.user_id, owner.id, app.created_at).await?;
        let actor = Actor::account(account.user_id);
        record_app_created(&mut tx, &app, actor.clone(), &kid, alg);
        tx.record(
            app.id,
            Event::new("member.added", actor).subject("account", account.user_id).details(json!({"role": OWNER})),
        );
        tx.commit().await?;
        tracing::info!(app = %app.slug, "app created");
        Ok(app)
    }

    /// The apps the account is a member of, with its role on each.
    pub async fn list_apps(&self, account: &Principal) -> Result<Vec<Membership>> {
        self.require_platform(account)?;
        Ok(self.store.memberships_of(account.user_id).await?)
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn update_app(&self, caller: &Caller, slug: &str, patch: AppPatch) -> Result<App> {
        let Access { mut app, .. } = self.authorize(caller, slug, "app.update").await?;
        let before = app.clone();
        if let Some(name) = patch.display_name {
            app.display_name = DisplayName::parse(&name, "displayName")?.as_str().to_owned();
        }
        if let Some(status) = patch.status {
            app.status =
                Status::parse(&status).ok_or_else(|| Error::invalid("status must be 'active' or 'suspended'"))?;
        }
        if patch.metadata.is_some() {
            app.metadata = metadata_object(patch.metadata)?;
        }
        app.updated_at = now();
        let mut tx = self.write().await?;
        tx.update_app(&app).await?;
        tx.changed(Change::App(app.id));
        let actor = actor_of(caller);
        let mut changes = serde_json::Map::new();
        if before.display_name != app.display_name {
            changes.insert("display_name".into(), json!({"old": before.display_name, "new": app.display_name}));
        }
        if before.metadata != app.metadata {
            changes.insert("metadata".into(), json!({"old": before.metadata, "new": app.metadata}));
        }
        if !changes.is_empty() {
            tx.record(
                app.id,
                Event::new("app.updated", actor.clone()).subject("app", app.id).details(json!({"changes": changes})),
            );
        }
        if before.status != app.status {
            let kind = if app.status == Status::Suspended { "app.suspended" } else { "app.reactivated" };
            tx.record(app.id, Event::new(kind, actor).subject("app", app.id));
        }
        tx.commit().await?;
        Ok(app)
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn delete_app(&self, caller: &Caller, slug: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "app.delete").await?;
        let mut tx = self.write().await?;
        tx.delete_app(app.id, now()).await?;
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("app.deleted", actor_of(caller)).subject("app", app.id).details(json!({"slug": app.slug})),
        );
        tx.commit().await?;
        self.keys.forget(app.id);
        tracing::info!(app = %app.slug, "app deleted");
        Ok(())
    }

    /// What the calling account may do on the app; `404` when the app does not exist.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn introspect(&self, account: &Principal, slug: &str) -> Result<Introspection> {
        self.require_platform(account)?;
        let app = self.app(slug).await?;
        Ok(match self.store.member_role(app.id, account.user_id).await? {
            Some(role) => Introspection {
                is_member: true,
                role: Some(RoleRef { id: role.id, name: role.name }),
                permissions: role.permissions,
            },
            None => Introspection { is_member: false, role: None, permissions: vec![] },
        })
    }

    /// The app with its roles, for an account allowed to read it.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn app_detail(&self, caller: &Caller, slug: &str) -> Result<(App, Option<Role>, Vec<Role>)> {
        let Access { app, role } = self.authorize(caller, slug, "app.read").await?;
        let roles = self.store.roles(app.id).await?;
        Ok((app, role, roles))
    }
}
