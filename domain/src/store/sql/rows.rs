//! The rows both stores read, and how each becomes a model; runtime `query_as` decodes them
//! through `FromRow`, which fits either database.

use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{
    ApiKey, App, AppCredential, AuthConfig, Contact, ContactKind, Membership, Permission, RefreshToken, Role, Session,
    SigningKey, Status, User, UserProfile,
};
use crate::store::{StoreError, StoreResult, Ts};

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is unreadable"))
}

fn status(raw: &str) -> StoreResult<Status> {
    Status::parse(raw).ok_or_else(|| corrupt("status"))
}

#[derive(FromRow)]
pub(crate) struct AppRow {
    id: Uuid,
    slug: String,
    display_name: String,
    status: String,
    metadata: Json<serde_json::Value>,
    config: Json<serde_json::Value>,
    created_at: Ts,
    updated_at: Ts,
}

impl AppRow {
    pub(crate) fn into_model(self) -> StoreResult<App> {
        let config: AuthConfig = serde_json::from_value(self.config.0).map_err(|_| corrupt("app config"))?;
        Ok(App {
            id: self.id,
            slug: self.slug,
            display_name: self.display_name,
            status: status(&self.status)?,
            metadata: self.metadata.0,
            config,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct RoleRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    description: String,
    is_system: bool,
    permissions: Json<Vec<String>>,
    created_at: Ts,
}

impl RoleRow {
    pub(crate) fn into_model(self) -> StoreResult<Role> {
        Ok(Role {
            id: self.id,
            app_id: self.app_id,
            name: self.name,
            description: self.description,
            is_system: self.is_system,
            permissions: self.permissions.0,
            created_at: self.created_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct MembershipRow {
    #[sqlx(flatten)]
    app: AppRow,
    role_id: Uuid,
    role_app_id: Uuid,
    role_name: String,
    role_description: String,
    role_is_system: bool,
    role_permissions: Json<Vec<String>>,
    role_created_at: Ts,
    member_since: Ts,
}

impl MembershipRow {
    pub(crate) fn into_model(self) -> StoreResult<Membership> {
        Ok(Membership {
            app: self.app.into_model()?,
            role: RoleRow {
                id: self.role_id,
                app_id: self.role_app_id,
                name: self.role_name,
                description: self.role_description,
                is_system: self.role_is_system,
                permissions: self.role_permissions,
                created_at: self.role_created_at,
            }
            .into_model()?,
            created_at: self.member_since.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    app_id: Uuid,
    username: String,
    display_name: String,
    password_hash: Option<String>,
    role_id: Uuid,
    status: String,
    created_at: Ts,
    updated_at: Ts,
}

impl UserRow {
    pub(crate) fn into_model(self) -> StoreResult<User> {
        Ok(User {
            id: self.id,
            app_id: self.app_id,
            username: self.username,
            display_name: self.display_name,
            password_hash: self.password_hash,
            role_id: self.role_id,
            status: status(&self.status)?,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ProfileRow {
    #[sqlx(flatten)]
    user: UserRow,
    role_name: String,
    email: Option<String>,
    email_verified_at: Option<Ts>,
}

impl ProfileRow {
    pub(crate) fn into_model(self) -> StoreResult<UserProfile> {
        Ok(UserProfile {
            user: self.user.into_model()?,
            role_name: self.role_name,
            email: self.email,
            email_verified_at: self.email_verified_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ContactRow {
    id: Uuid,
    app_id: Uuid,
    user_id: Uuid,
    kind: String,
    value: String,
    is_primary: bool,
    verified_at: Option<Ts>,
    created_at: Ts,
}

impl ContactRow {
    pub(crate) fn into_model(self) -> StoreResult<Contact> {
        Ok(Contact {
            id: self.id,
            app_id: self.app_id,
            user_id: self.user_id,
            kind: ContactKind::parse(&self.kind).ok_or_else(|| corrupt("contact kind"))?,
            value: self.value,
            is_primary: self.is_primary,
            verified_at: self.verified_at.map(|t| t.0),
            created_at: self.created_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    app_id: Uuid,
    user_id: Uuid,
    created_at: Ts,
    last_used_at: Ts,
    expires_at: Ts,
    revoked_at: Option<Ts>,
    ip: Option<String>,
    user_agent: Option<String>,
    amr: Json<Vec<String>>,
}

impl SessionRow {
    pub(crate) fn into_model(self) -> StoreResult<Session> {
        Ok(Session {
            id: self.id,
            app_id: self.app_id,
            user_id: self.user_id,
            created_at: self.created_at.0,
            last_used_at: self.last_used_at.0,
            expires_at: self.expires_at.0,
            revoked_at: self.revoked_at.map(|t| t.0),
            ip: self.ip,
            user_agent: self.user_agent,
            amr: self.amr.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct RefreshTokenRow {
    app_id: Uuid,
    session_id: Uuid,
    generation: i64,
    digest: String,
    created_at: Ts,
    rotated_at: Option<Ts>,
    successor_digest: Option<String>,
}

impl RefreshTokenRow {
    pub(crate) fn into_model(self) -> StoreResult<RefreshToken> {
        Ok(RefreshToken {
            app_id: self.app_id,
            session_id: self.session_id,
            generation: self.generation,
            digest: self.digest,
            created_at: self.created_at.0,
            rotated_at: self.rotated_at.map(|t| t.0),
            successor_digest: self.successor_digest,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    app_id: Uuid,
    alg: String,
    private_sealed: Vec<u8>,
    public_jwk: Json<serde_json::Value>,
    active: bool,
    created_at: Ts,
    retired_at: Option<Ts>,
    revoked_at: Option<Ts>,
}

impl SigningKeyRow {
    pub(crate) fn into_model(self) -> StoreResult<SigningKey> {
        Ok(SigningKey {
            kid: self.kid,
            app_id: self.app_id,
            alg: self.alg,
            private_sealed: self.private_sealed,
            public_jwk: self.public_jwk.0,
            active: self.active,
            created_at: self.created_at.0,
            retired_at: self.retired_at.map(|t| t.0),
            revoked_at: self.revoked_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct PermissionRow {
    app_id: Uuid,
    name: String,
    description: String,
    created_at: Ts,
}

impl PermissionRow {
    pub(crate) fn into_model(self) -> StoreResult<Permission> {
        Ok(Permission {
            app_id: self.app_id,
            name: self.name,
            description: self.description,
            created_at: self.created_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct ApiKeyRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    prefix: String,
    digest: String,
    scopes: Json<Vec<String>>,
    created_by: Option<Uuid>,
    created_at: Ts,
    expires_at: Option<Ts>,
    last_used_at: Option<Ts>,
    revoked_at: Option<Ts>,
}

impl ApiKeyRow {
    pub(crate) fn into_model(self) -> StoreResult<ApiKey> {
        Ok(ApiKey {
            id: self.id,
            app_id: self.app_id,
            name: self.name,
            prefix: self.prefix,
            digest: self.digest,
            scopes: self.scopes.0,
            created_by: self.created_by,
            created_at: self.created_at.0,
            expires_at: self.expires_at.map(|t| t.0),
            last_used_at: self.last_used_at.map(|t| t.0),
            revoked_at: self.revoked_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct AppCredentialRow {
    id: Uuid,
    app_id: Uuid,
    client_id: String,
    name: String,
    secret_digest: String,
    previous_digest: Option<String>,
    previous_expires_at: Option<Ts>,
    created_at: Ts,
    rotated_at: Option<Ts>,
    last_used_at: Option<Ts>,
    revoked_at: Option<Ts>,
}

impl AppCredentialRow {
    pub(crate) fn into_model(self) -> StoreResult<AppCredential> {
        Ok(AppCredential {
            id: self.id,
            app_id: self.app_id,
            client_id: self.client_id,
            name: self.name,
            secret_digest: self.secret_digest,
            previous_digest: self.previous_digest,
            previous_expires_at: self.previous_expires_at.map(|t| t.0),
            created_at: self.created_at.0,
            rotated_at: self.rotated_at.map(|t| t.0),
            last_used_at: self.last_used_at.map(|t| t.0),
            revoked_at: self.revoked_at.map(|t| t.0),
        })
    }
}

/// Each row as its model; the first unreadable one fails the lot.
pub(crate) fn many<R, M>(rows: Vec<R>, f: impl Fn(R) -> StoreResult<M>) -> StoreResult<Vec<M>> {
    rows.into_iter().map(f).collect()
}
