//! The SQL shared by both stores. Both speak `$n` placeholders, `RETURNING` and partial
//! indexes, so one text serves both; `impl_sql_store!` instantiates it per database, and the
//! column types that differ live in the two migration folders.

use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

use super::Ts;
use crate::model::{
    ApiKey, App, AuthConfig, Contact, ContactKind, Membership, Permission, RefreshToken, Role, Session, SigningKey,
    Status, User, UserProfile,
};
use crate::{Error, Result};

fn corrupt(what: &str) -> Error {
    Error::internal(anyhow::anyhow!("stored {what} is unreadable"))
}

fn status(raw: &str) -> Result<Status> {
    Status::parse(raw).ok_or_else(|| corrupt("status"))
}

pub(super) const APP_COLUMNS: &str =
    "a.id, a.slug, a.display_name, a.status, a.metadata, a.config, a.created_at, a.updated_at";
pub(super) const ROLE_COLUMNS: &str = "r.id, r.app_id, r.name, r.description, r.is_system, r.permissions, r.created_at";
pub(super) const USER_COLUMNS: &str =
    "u.id, u.app_id, u.username, u.display_name, u.password_hash, u.role_id, u.status, u.created_at, u.updated_at";

#[derive(FromRow)]
pub(super) struct AppRow {
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
    pub(super) fn into_model(self) -> Result<App> {
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
pub(super) struct RoleRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    description: String,
    is_system: bool,
    permissions: Json<Vec<String>>,
    created_at: Ts,
}

impl RoleRow {
    pub(super) fn into_model(self) -> Result<Role> {
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
pub(super) struct MembershipRow {
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
    pub(super) fn into_model(self) -> Result<Membership> {
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
pub(super) struct UserRow {
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
    pub(super) fn into_model(self) -> Result<User> {
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
pub(super) struct ProfileRow {
    #[sqlx(flatten)]
    user: UserRow,
    role_name: String,
    email: Option<String>,
    email_verified_at: Option<Ts>,
}

impl ProfileRow {
    pub(super) fn into_model(self) -> Result<UserProfile> {
        Ok(UserProfile {
            user: self.user.into_model()?,
            role_name: self.role_name,
            email: self.email,
            email_verified_at: self.email_verified_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(super) struct ContactRow {
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
    pub(super) fn into_model(self) -> Result<Contact> {
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
pub(super) struct SessionRow {
    id: Uuid,
    app_id: Uuid,
    user_id: Uuid,
    created_at: Ts,
    last_used_at: Ts,
    expires_at: Ts,
    revoked_at: Option<Ts>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl SessionRow {
    pub(super) fn into_model(self) -> Result<Session> {
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
        })
    }
}

#[derive(FromRow)]
pub(super) struct RefreshTokenRow {
    app_id: Uuid,
    session_id: Uuid,
    digest: String,
    created_at: Ts,
    rotated_at: Option<Ts>,
    successor_digest: Option<String>,
}

impl RefreshTokenRow {
    pub(super) fn into_model(self) -> Result<RefreshToken> {
        Ok(RefreshToken {
            app_id: self.app_id,
            session_id: self.session_id,
            digest: self.digest,
            created_at: self.created_at.0,
            rotated_at: self.rotated_at.map(|t| t.0),
            successor_digest: self.successor_digest,
        })
    }
}

#[derive(FromRow)]
pub(super) struct SigningKeyRow {
    kid: String,
    app_id: Uuid,
    alg: String,
    private_sealed: Vec<u8>,
    public_jwk: Json<serde_json::Value>,
    active: bool,
    created_at: Ts,
    retired_at: Option<Ts>,
}

impl SigningKeyRow {
    pub(super) fn into_model(self) -> Result<SigningKey> {
        Ok(SigningKey {
            kid: self.kid,
            app_id: self.app_id,
            alg: self.alg,
            private_sealed: self.private_sealed,
            public_jwk: self.public_jwk.0,
            active: self.active,
            created_at: self.created_at.0,
            retired_at: self.retired_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(super) struct PermissionRow {
    app_id: Uuid,
    name: String,
    description: String,
    created_at: Ts,
}

impl PermissionRow {
    pub(super) fn into_model(self) -> Result<Permission> {
        Ok(Permission {
            app_id: self.app_id,
            name: self.name,
            description: self.description,
            created_at: self.created_at.0,
        })
    }
}

pub(super) const API_KEY_COLUMNS: &str =
    "id, app_id, name, prefix, digest, scopes, created_by, created_at, expires_at, last_used_at, revoked_at";

#[derive(FromRow)]
pub(super) struct ApiKeyRow {
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
    pub(super) fn into_model(self) -> Result<ApiKey> {
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

/// A LIKE pattern that finds `needle` anywhere, with `%`, `_` and `\` taken literally.
pub(super) fn contains_pattern(needle: &str) -> String {
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub(super) fn many<R, M>(rows: Vec<R>, f: impl Fn(R) -> Result<M>) -> Result<Vec<M>> {
    rows.into_iter().map(f).collect()
}

/// Rotates a refresh token (see `Store::rotate_refresh_token`): binds the app, the parent's
/// digest, the successor's digest and the time; returns the session.
pub(super) const ROTATE_REFRESH_TOKEN: &str =
    "INSERT INTO refresh_tokens (digest, app_id, session_id, created_at, parent) \
     SELECT $3, p.app_id, p.session_id, $4, p.digest \
     FROM refresh_tokens p JOIN sessions s ON s.id = p.session_id \
     WHERE p.app_id = $1 AND p.digest = $2 AND s.revoked_at IS NULL AND s.expires_at > $4 \
       AND NOT EXISTS (SELECT 1 FROM refresh_tokens c WHERE c.parent = p.digest) \
     RETURNING session_id";

/// `ROTATE_REFRESH_TOKEN` with its arguments bound, for either store.
macro_rules! rotate_refresh_token_query {
    ($app_id:expr, $digest:expr, $successor:expr) => {
        sqlx::query_scalar::<_, uuid::Uuid>($crate::store::sql::ROTATE_REFRESH_TOKEN)
            .bind($app_id)
            .bind($digest)
            .bind(&$successor.digest)
            .bind($crate::store::Ts($successor.created_at))
    };
}

pub(super) use rotate_refresh_token_query;

/// Implements `Store` for `$store` (fields `reader` and `writer`, both `Pool<$db>`) and
/// `Tx` for `$tx` (a `sqlx::Transaction<'static, $db>`).
macro_rules! impl_sql_store {
    ($store:ident, $tx:ident, $db:ty, $backend:literal) => {
        pub struct $tx(sqlx::Transaction<'static, $db>);

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.reader).await?;
                Ok(())
            }

            async fn begin(&self) -> $crate::Result<Box<dyn $crate::store::Tx>> {
                Ok(Box::new($tx(self.writer.begin().await?)))
            }

            async fn app_by_slug(&self, slug: &str) -> $crate::Result<Option<$crate::model::App>> {
                let sql = format!("SELECT {} FROM apps a WHERE a.slug = $1", sql::APP_COLUMNS);
                sqlx::query_as::<_, sql::AppRow>(&sql).bind(slug).fetch_optional(&self.reader).await?.map(sql::AppRow::into_model).transpose()
            }

            async fn app_by_id(&self, id: uuid::Uuid) -> $crate::Result<Option<$crate::model::App>> {
                let sql = format!("SELECT {} FROM apps a WHERE a.id = $1", sql::APP_COLUMNS);
                sqlx::query_as::<_, sql::AppRow>(&sql).bind(id).fetch_optional(&self.reader).await?.map(sql::AppRow::into_model).transpose()
            }

            async fn memberships_of(&self, account_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::Membership>> {
                let sql = format!(
                    "SELECT {}, r.id AS role_id, r.app_id AS role_app_id, r.name AS role_name, \
                     r.description AS role_description, r.is_system AS role_is_system, \
                     r.permissions AS role_permissions, r.created_at AS role_created_at, \
                     m.created_at AS member_since \
                     FROM memberships m JOIN apps a ON a.id = m.app_id JOIN roles r ON r.id = m.role_id \
                     WHERE m.account_id = $1 ORDER BY m.created_at, a.slug",
                    sql::APP_COLUMNS
                );
                let rows = sqlx::query_as::<_, sql::MembershipRow>(&sql).bind(account_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::MembershipRow::into_model)
            }

            async fn member_role(&self, app_id: uuid::Uuid, account_id: uuid::Uuid) -> $crate::Result<Option<$crate::model::Role>> {
                let sql = format!(
                    "SELECT {} FROM memberships m JOIN roles r ON r.id = m.role_id WHERE m.app_id = $1 AND m.account_id = $2",
                    sql::ROLE_COLUMNS
                );
                sqlx::query_as::<_, sql::RoleRow>(&sql).bind(app_id).bind(account_id).fetch_optional(&self.reader).await?.map(sql::RoleRow::into_model).transpose()
            }

            async fn roles(&self, app_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::Role>> {
                let sql = format!("SELECT {} FROM roles r WHERE r.app_id = $1 ORDER BY r.is_system DESC, r.created_at, r.name", sql::ROLE_COLUMNS);
                let rows = sqlx::query_as::<_, sql::RoleRow>(&sql).bind(app_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::RoleRow::into_model)
            }

            async fn role_by_id(&self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::Result<Option<$crate::model::Role>> {
                let sql = format!("SELECT {} FROM roles r WHERE r.app_id = $1 AND r.id = $2", sql::ROLE_COLUMNS);
                sqlx::query_as::<_, sql::RoleRow>(&sql).bind(app_id).bind(id).fetch_optional(&self.reader).await?.map(sql::RoleRow::into_model).transpose()
            }

            async fn role_by_name(&self, app_id: uuid::Uuid, name: &str) -> $crate::Result<Option<$crate::model::Role>> {
                let sql = format!("SELECT {} FROM roles r WHERE r.app_id = $1 AND r.name = $2", sql::ROLE_COLUMNS);
                sqlx::query_as::<_, sql::RoleRow>(&sql).bind(app_id).bind(name).fetch_optional(&self.reader).await?.map(sql::RoleRow::into_model).transpose()
            }

            async fn user_by_id(&self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::Result<Option<$crate::model::User>> {
                let sql = format!("SELECT {} FROM users u WHERE u.app_id = $1 AND u.id = $2", sql::USER_COLUMNS);
                sqlx::query_as::<_, sql::UserRow>(&sql).bind(app_id).bind(id).fetch_optional(&self.reader).await?.map(sql::UserRow::into_model).transpose()
            }

            async fn user_by_username(&self, app_id: uuid::Uuid, username: &str) -> $crate::Result<Option<$crate::model::User>> {
                let sql = format!("SELECT {} FROM users u WHERE u.app_id = $1 AND u.username_normalized = $2", sql::USER_COLUMNS);
                sqlx::query_as::<_, sql::UserRow>(&sql).bind(app_id).bind(username.to_lowercase()).fetch_optional(&self.reader).await?.map(sql::UserRow::into_model).transpose()
            }

            async fn user_by_verified_contact(&self, app_id: uuid::Uuid, kind: $crate::model::ContactKind, value: &str) -> $crate::Result<Option<$crate::model::User>> {
                let sql = format!(
                    "SELECT {} FROM contacts c JOIN users u ON u.id = c.user_id \
                     WHERE c.app_id = $1 AND c.kind = $2 AND c.value_normalized = $3 AND c.verified_at IS NOT NULL",
                    sql::USER_COLUMNS
                );
                sqlx::query_as::<_, sql::UserRow>(&sql).bind(app_id).bind(kind.as_str()).bind(value.to_lowercase()).fetch_optional(&self.reader).await?.map(sql::UserRow::into_model).transpose()
            }

            async fn contacts_of(&self, app_id: uuid::Uuid, user_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::Contact>> {
                let rows = sqlx::query_as::<_, sql::ContactRow>(
                    "SELECT id, app_id, user_id, kind, value, is_primary, verified_at, created_at FROM contacts \
                     WHERE app_id = $1 AND user_id = $2 ORDER BY is_primary DESC, created_at",
                ).bind(app_id).bind(user_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::ContactRow::into_model)
            }

            async fn user_profile(&self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::Result<Option<$crate::model::UserProfile>> {
                let sql = format!(
                    "SELECT {}, r.name AS role_name, c.value AS email, c.verified_at AS email_verified_at \
                     FROM users u JOIN roles r ON r.id = u.role_id \
                     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary = TRUE \
                     WHERE u.app_id = $1 AND u.id = $2",
                    sql::USER_COLUMNS
                );
                sqlx::query_as::<_, sql::ProfileRow>(&sql).bind(app_id).bind(id).fetch_optional(&self.reader).await?.map(sql::ProfileRow::into_model).transpose()
            }

            async fn session(&self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::Result<Option<$crate::model::Session>> {
                sqlx::query_as::<_, sql::SessionRow>(
                    "SELECT id, app_id, user_id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent \
                     FROM sessions WHERE app_id = $1 AND id = $2",
                ).bind(app_id).bind(id).fetch_optional(&self.reader).await?.map(sql::SessionRow::into_model).transpose()
            }

            async fn session_by_cookie(&self, app_id: uuid::Uuid, digest: &str) -> $crate::Result<Option<uuid::Uuid>> {
                let id = sqlx::query_scalar("SELECT id FROM sessions WHERE app_id = $1 AND cookie_digest = $2")
                    .bind(app_id).bind(digest).fetch_optional(&self.reader).await?;
                Ok(id)
            }

            async fn refresh_token(&self, app_id: uuid::Uuid, digest: &str) -> $crate::Result<Option<$crate::model::RefreshToken>> {
                sqlx::query_as::<_, sql::RefreshTokenRow>(
                    "SELECT p.app_id, p.session_id, p.digest, p.created_at, \
                            c.created_at AS rotated_at, c.digest AS successor_digest \
                     FROM refresh_tokens p LEFT JOIN refresh_tokens c ON c.parent = p.digest \
                     WHERE p.app_id = $1 AND p.digest = $2",
                ).bind(app_id).bind(digest).fetch_optional(&self.reader).await?.map(sql::RefreshTokenRow::into_model).transpose()
            }

            async fn rotate_refresh_token(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
                successor: &$crate::model::RefreshSuccessor,
            ) -> $crate::Result<Option<uuid::Uuid>> {
                self.rotate(app_id, digest, successor).await
            }

            async fn permissions(&self, app_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::Permission>> {
                let rows = sqlx::query_as::<_, sql::PermissionRow>(
                    "SELECT app_id, name, description, created_at FROM permissions WHERE app_id = $1 ORDER BY name",
                ).bind(app_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::PermissionRow::into_model)
            }

            async fn users_page(
                &self,
                app_id: uuid::Uuid,
                search: Option<&str>,
                search_contacts: bool,
                after: Option<$crate::model::UserCursor>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::model::UserProfile>> {
                // Each user with its role's name and primary email: one query for the page.
                let mut sql = format!(
                    "SELECT {}, r.name AS role_name, c.value AS email, c.verified_at AS email_verified_at \
                     FROM users u JOIN roles r ON r.id = u.role_id \
                     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary = TRUE \
                     WHERE u.app_id = $1",
                    sql::USER_COLUMNS
                );
                if search.is_some() {
                    sql.push_str(" AND (u.username_normalized LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\'");
                    if search_contacts {
                        sql.push_str(
                            " OR EXISTS (SELECT 1 FROM contacts s WHERE s.user_id = u.id AND s.value_normalized LIKE $2 ESCAPE '\\')",
                        );
                    }
                    sql.push(')');
                }
                if after.is_some() {
                    sql.push_str(" AND (u.created_at > $3 OR (u.created_at = $3 AND u.id > $4))");
                }
                sql.push_str(" ORDER BY u.created_at, u.id LIMIT $5");
                // Unused parameters are bound anyway so the numbering stays fixed.
                let mut query = sqlx::query_as::<_, sql::ProfileRow>(&sql)
                    .bind(app_id)
                    .bind(search.map(sql::contains_pattern).unwrap_or_default());
                let (at, id) = after.map(|c| (Ts(c.created_at), c.id)).unwrap_or((Ts(chrono::DateTime::UNIX_EPOCH), uuid::Uuid::nil()));
                query = query.bind(at).bind(id).bind(i64::from(limit));
                sql::many(query.fetch_all(&self.reader).await?, sql::ProfileRow::into_model)
            }

            async fn role_holders(&self, app_id: uuid::Uuid, role_id: uuid::Uuid) -> $crate::Result<i64> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM users WHERE app_id = $1 AND role_id = $2)                      + (SELECT COUNT(*) FROM memberships WHERE app_id = $1 AND role_id = $2)",
                ).bind(app_id).bind(role_id).fetch_one(&self.reader).await?;
                Ok(count)
            }

            async fn sessions_of(&self, app_id: uuid::Uuid, user_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::Session>> {
                let rows = sqlx::query_as::<_, sql::SessionRow>(
                    "SELECT id, app_id, user_id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent                      FROM sessions WHERE app_id = $1 AND user_id = $2 ORDER BY created_at DESC, id",
                ).bind(app_id).bind(user_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::SessionRow::into_model)
            }

            async fn api_keys(&self, app_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::ApiKey>> {
                let sql = format!("SELECT {} FROM api_keys WHERE app_id = $1 ORDER BY created_at DESC, id", sql::API_KEY_COLUMNS);
                let rows = sqlx::query_as::<_, sql::ApiKeyRow>(&sql).bind(app_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::ApiKeyRow::into_model)
            }

            async fn api_key_by_digest(&self, digest: &str) -> $crate::Result<Option<$crate::model::ApiKey>> {
                let sql = format!("SELECT {} FROM api_keys WHERE digest = $1", sql::API_KEY_COLUMNS);
                sqlx::query_as::<_, sql::ApiKeyRow>(&sql).bind(digest).fetch_optional(&self.reader).await?.map(sql::ApiKeyRow::into_model).transpose()
            }

            async fn subscribe(&self) -> $crate::Result<Option<futures_core::stream::BoxStream<'static, $crate::store::Notice>>> {
                self.listen().await
            }

            async fn signing_keys(&self, app_id: uuid::Uuid) -> $crate::Result<Vec<$crate::model::SigningKey>> {
                let rows = sqlx::query_as::<_, sql::SigningKeyRow>(
                    "SELECT kid, app_id, alg, private_sealed, public_jwk, active, created_at, retired_at \
                     FROM signing_keys WHERE app_id = $1 ORDER BY active DESC, created_at DESC",
                ).bind(app_id).fetch_all(&self.reader).await?;
                sql::many(rows, sql::SigningKeyRow::into_model)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Tx for $tx {
            async fn commit(self: Box<Self>) -> $crate::Result<()> {
                self.0.commit().await?;
                Ok(())
            }

            async fn insert_app(&mut self, app: &$crate::model::App) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO apps (id, slug, display_name, status, metadata, config, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(app.id).bind(&app.slug).bind(&app.display_name).bind(app.status.as_str())
                .bind(sqlx::types::Json(&app.metadata)).bind(sqlx::types::Json(&app.config))
                .bind(Ts(app.created_at)).bind(Ts(app.updated_at))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                // Slugs are permanent: the registry keeps every one ever used.
                sqlx::query("INSERT INTO app_slugs (slug, app_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&app.slug).bind(app.id).bind(Ts(app.created_at))
                    .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn update_app(&mut self, app: &$crate::model::App) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE apps SET display_name = $2, status = $3, metadata = $4, config = $5, updated_at = $6 WHERE id = $1",
                )
                .bind(app.id).bind(&app.display_name).bind(app.status.as_str())
                .bind(sqlx::types::Json(&app.metadata)).bind(sqlx::types::Json(&app.config)).bind(Ts(app.updated_at))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn delete_app(&mut self, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<bool> {
                // The slug stays taken, as a tombstone.
                sqlx::query("UPDATE app_slugs SET deleted_at = $2 WHERE app_id = $1").bind(id).bind(Ts(at)).execute(&mut *self.0).await?;
                // Memberships point at roles of this app; remove them before the cascade.
                sqlx::query("DELETE FROM memberships WHERE app_id = $1").bind(id).execute(&mut *self.0).await?;
                let done = sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(&mut *self.0).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_role(&mut self, role: &$crate::model::Role) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO roles (id, app_id, name, description, is_system, permissions, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(role.id).bind(role.app_id).bind(&role.name).bind(&role.description).bind(role.is_system)
                .bind(sqlx::types::Json(&role.permissions)).bind(Ts(role.created_at))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn insert_membership(&mut self, app_id: uuid::Uuid, account_id: uuid::Uuid, role_id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<()> {
                sqlx::query("INSERT INTO memberships (app_id, account_id, role_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(app_id).bind(account_id).bind(role_id).bind(Ts(at))
                    .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn insert_signing_key(&mut self, key: &$crate::model::SigningKey) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO signing_keys (kid, app_id, alg, private_sealed, public_jwk, active, created_at, retired_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&key.kid).bind(key.app_id).bind(&key.alg).bind(&key.private_sealed)
                .bind(sqlx::types::Json(&key.public_jwk)).bind(key.active).bind(Ts(key.created_at)).bind(key.retired_at.map(Ts))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn insert_user(&mut self, user: &$crate::model::User) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO users (id, app_id, username, username_normalized, display_name, password_hash, role_id, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(user.id).bind(user.app_id).bind(&user.username).bind(user.username.to_lowercase())
                .bind(&user.display_name).bind(&user.password_hash).bind(user.role_id).bind(user.status.as_str())
                .bind(Ts(user.created_at)).bind(Ts(user.updated_at))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn insert_contact(&mut self, contact: &$crate::model::Contact) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO contacts (id, app_id, user_id, kind, value, value_normalized, is_primary, verified_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(contact.id).bind(contact.app_id).bind(contact.user_id).bind(contact.kind.as_str())
                .bind(&contact.value).bind(contact.value.to_lowercase()).bind(contact.is_primary)
                .bind(contact.verified_at.map(Ts)).bind(Ts(contact.created_at))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn insert_permission(&mut self, p: &$crate::model::Permission) -> $crate::Result<()> {
                sqlx::query("INSERT INTO permissions (app_id, name, description, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(p.app_id).bind(&p.name).bind(&p.description).bind(Ts(p.created_at))
                    .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn update_role(&mut self, role: &$crate::model::Role) -> $crate::Result<()> {
                sqlx::query("UPDATE roles SET description = $3, permissions = $4 WHERE app_id = $1 AND id = $2")
                    .bind(role.app_id).bind(role.id).bind(&role.description).bind(sqlx::types::Json(&role.permissions))
                    .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn reassign_role(&mut self, app_id: uuid::Uuid, from: uuid::Uuid, to: uuid::Uuid) -> $crate::Result<()> {
                sqlx::query("UPDATE users SET role_id = $3 WHERE app_id = $1 AND role_id = $2")
                    .bind(app_id).bind(from).bind(to).execute(&mut *self.0).await?;
                sqlx::query("UPDATE memberships SET role_id = $3 WHERE app_id = $1 AND role_id = $2")
                    .bind(app_id).bind(from).bind(to).execute(&mut *self.0).await?;
                Ok(())
            }

            async fn delete_role(&mut self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::Result<bool> {
                let done = sqlx::query("DELETE FROM roles WHERE app_id = $1 AND id = $2 AND NOT is_system")
                    .bind(app_id).bind(id).execute(&mut *self.0).await.map_err($crate::store::map_delete_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn update_user(&mut self, user: &$crate::model::User) -> $crate::Result<()> {
                sqlx::query("UPDATE users SET display_name = $3, role_id = $4, status = $5, updated_at = $6 WHERE app_id = $1 AND id = $2")
                    .bind(user.app_id).bind(user.id).bind(&user.display_name).bind(user.role_id)
                    .bind(user.status.as_str()).bind(Ts(user.updated_at))
                    .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn delete_user(&mut self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::Result<bool> {
                let done = sqlx::query("DELETE FROM users WHERE app_id = $1 AND id = $2").bind(app_id).bind(id).execute(&mut *self.0).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_user_sessions(&mut self, app_id: uuid::Uuid, user_id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<u64> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE app_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3")
                    .bind(app_id).bind(user_id).bind(Ts(at)).execute(&mut *self.0).await?;
                Ok(done.rows_affected())
            }

            async fn insert_api_key(&mut self, k: &$crate::model::ApiKey) -> $crate::Result<()> {
                let sql = format!("INSERT INTO api_keys ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", sql::API_KEY_COLUMNS);
                sqlx::query(&sql)
                    .bind(k.id).bind(k.app_id).bind(&k.name).bind(&k.prefix).bind(&k.digest).bind(sqlx::types::Json(&k.scopes))
                    .bind(k.created_by).bind(Ts(k.created_at)).bind(k.expires_at.map(Ts)).bind(k.last_used_at.map(Ts)).bind(k.revoked_at.map(Ts))
                    .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn revoke_api_key(&mut self, app_id: uuid::Uuid, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<bool> {
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $3 WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut *self.0).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn touch_api_key(&mut self, app_id: uuid::Uuid, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<()> {
                sqlx::query("UPDATE api_keys SET last_used_at = $3 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut *self.0).await?;
                Ok(())
            }

            async fn publish(&mut self, message: &str) -> $crate::Result<()> {
                notify(&mut self.0, message).await
            }

            async fn insert_session(&mut self, s: &$crate::model::Session) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, app_id, user_id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(s.id).bind(s.app_id).bind(s.user_id).bind(Ts(s.created_at)).bind(Ts(s.last_used_at))
                .bind(Ts(s.expires_at)).bind(s.revoked_at.map(Ts)).bind(&s.ip).bind(&s.user_agent)
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn touch_session(&mut self, app_id: uuid::Uuid, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<()> {
                sqlx::query("UPDATE sessions SET last_used_at = $3 WHERE app_id = $1 AND id = $2").bind(app_id).bind(id).bind(Ts(at)).execute(&mut *self.0).await?;
                Ok(())
            }

            async fn set_session_cookie(&mut self, app_id: uuid::Uuid, id: uuid::Uuid, digest: &str) -> $crate::Result<()> {
                sqlx::query("UPDATE sessions SET cookie_digest = $3 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(digest).execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }

            async fn revoke_session(&mut self, app_id: uuid::Uuid, id: uuid::Uuid, at: chrono::DateTime<chrono::Utc>) -> $crate::Result<bool> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $3 WHERE app_id = $1 AND id = $2 AND revoked_at IS NULL")
                    .bind(app_id).bind(id).bind(Ts(at)).execute(&mut *self.0).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_refresh_token(&mut self, t: &$crate::model::NewRefreshToken) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (digest, app_id, session_id, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&t.digest).bind(t.app_id).bind(t.session_id).bind(Ts(t.created_at))
                .execute(&mut *self.0).await.map_err(map_write_error)?;
                Ok(())
            }
        }
    };
}

pub(super) use impl_sql_store;
