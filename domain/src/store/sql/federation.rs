//! The SQL of external sign-in providers, their users' identities and the states of sign-ins
//! under way.

use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{Identity, OAuthProvider};
use crate::store::{StoreResult, Ts};

pub(crate) const PROVIDER_COLUMNS: &str = "id, app_id, name, kind, display_name, client_id, client_secret_sealed, \
     issuer, authorization_url, token_url, userinfo_url, scopes, enabled, auto_link, created_at, updated_at";
pub(crate) const IDENTITY_COLUMNS: &str = "id, app_id, provider_id, user_id, subject, email, created_at, last_used_at";

#[derive(FromRow)]
pub(crate) struct ProviderRow {
    id: Uuid,
    app_id: Uuid,
    name: String,
    kind: String,
    display_name: String,
    client_id: String,
    client_secret_sealed: Option<Vec<u8>>,
    issuer: Option<String>,
    authorization_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    scopes: String,
    enabled: bool,
    auto_link: bool,
    created_at: Ts,
    updated_at: Ts,
}

impl ProviderRow {
    pub(crate) fn into_model(self) -> StoreResult<OAuthProvider> {
        Ok(OAuthProvider {
            id: self.id,
            app_id: self.app_id,
            name: self.name,
            kind: self.kind,
            display_name: self.display_name,
            client_id: self.client_id,
            client_secret_sealed: self.client_secret_sealed,
            issuer: self.issuer,
            authorization_url: self.authorization_url,
            token_url: self.token_url,
            userinfo_url: self.userinfo_url,
            scopes: self.scopes,
            enabled: self.enabled,
            auto_link: self.auto_link,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct IdentityRow {
    id: Uuid,
    app_id: Uuid,
    provider_id: Uuid,
    user_id: Uuid,
    subject: String,
    email: Option<String>,
    created_at: Ts,
    last_used_at: Option<Ts>,
}

impl IdentityRow {
    pub(crate) fn into_model(self) -> StoreResult<Identity> {
        Ok(Identity {
            id: self.id,
            app_id: self.app_id,
            provider_id: self.provider_id,
            user_id: self.user_id,
            subject: self.subject,
            email: self.email,
            created_at: self.created_at.0,
            last_used_at: self.last_used_at.map(|t| t.0),
        })
    }
}

/// `mod federation` of queries for database `$db`.
macro_rules! federation {
    ($db:ty) => {
        pub(crate) mod federation {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use $crate::model::{Identity, OAuthProvider, Unlinked};
            use $crate::store::sql::federation::{IdentityRow, ProviderRow, IDENTITY_COLUMNS, PROVIDER_COLUMNS};
            use $crate::store::sql::rows::many;
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn oauth_providers(db: &Pool, app_id: Uuid) -> StoreResult<Vec<OAuthProvider>> {
                let sql = format!("SELECT {PROVIDER_COLUMNS} FROM oauth_providers WHERE app_id = $1 ORDER BY created_at, id");
                let rows = sqlx::query_as::<_, ProviderRow>(&sql).bind(app_id).fetch_all(db).await?;
                many(rows, ProviderRow::into_model)
            }

            pub(crate) async fn oauth_provider(db: &Pool, app_id: Uuid, name: &str) -> StoreResult<Option<OAuthProvider>> {
                let sql = format!("SELECT {PROVIDER_COLUMNS} FROM oauth_providers WHERE app_id = $1 AND name = $2");
                let row = sqlx::query_as::<_, ProviderRow>(&sql).bind(app_id).bind(name).fetch_optional(db).await?;
                row.map(ProviderRow::into_model).transpose()
            }

            pub(crate) async fn identity_by_subject(
                db: &Pool,
                app_id: Uuid,
                provider_id: Uuid,
                subject: &str,
            ) -> StoreResult<Option<Identity>> {
                let sql = format!(
                    "SELECT {IDENTITY_COLUMNS} FROM user_identities WHERE app_id = $1 AND provider_id = $2 AND subject = $3"
                );
                let row = sqlx::query_as::<_, IdentityRow>(&sql)
                    .bind(app_id).bind(provider_id).bind(subject).fetch_optional(db).await?;
                row.map(IdentityRow::into_model).transpose()
            }

            pub(crate) async fn identities_of(db: &Pool, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<Identity>> {
                let sql = format!(
                    "SELECT {IDENTITY_COLUMNS} FROM user_identities WHERE app_id = $1 AND user_id = $2 ORDER BY created_at, id"
                );
                let rows = sqlx::query_as::<_, IdentityRow>(&sql).bind(app_id).bind(user_id).fetch_all(db).await?;
                many(rows, IdentityRow::into_model)
            }

            pub(crate) async fn insert_oauth_provider(tx: &mut Tx, p: &OAuthProvider) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO oauth_providers ({PROVIDER_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                );
                sqlx::query(&sql)
                    .bind(p.id).bind(p.app_id).bind(&p.name).bind(&p.kind).bind(&p.display_name).bind(&p.client_id)
                    .bind(&p.client_secret_sealed).bind(&p.issuer).bind(&p.authorization_url).bind(&p.token_url)
                    .bind(&p.userinfo_url).bind(&p.scopes).bind(p.enabled).bind(p.auto_link)
                    .bind(Ts(p.created_at)).bind(Ts(p.updated_at))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            /// Everything a provider's management may change; its name, kind and issuer stay.
            pub(crate) async fn update_oauth_provider(tx: &mut Tx, p: &OAuthProvider) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE oauth_providers SET display_name = $3, client_id = $4, client_secret_sealed = $5, \
                       authorization_url = $6, token_url = $7, userinfo_url = $8, scopes = $9, enabled = $10, \
                       auto_link = $11, updated_at = $12 \
                     WHERE app_id = $1 AND id = $2",
                )
                .bind(p.app_id).bind(p.id).bind(&p.display_name).bind(&p.client_id).bind(&p.client_secret_sealed)
                .bind(&p.authorization_url).bind(&p.token_url).bind(&p.userinfo_url).bind(&p.scopes)
                .bind(p.enabled).bind(p.auto_link).bind(Ts(p.updated_at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn delete_oauth_provider(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM oauth_providers WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn insert_oauth_state(
                tx: &mut Tx,
                app_id: Uuid,
                digest: &str,
                expires_at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query("INSERT INTO oauth_states (digest, app_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(digest).bind(app_id).bind(Ts(expires_at)).execute(&mut **tx).await?;
                Ok(())
            }

            /// One statement: of two callbacks with the same state, one spends it.
            pub(crate) async fn consume_oauth_state(
                tx: &mut Tx,
                app_id: Uuid,
                digest: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM oauth_states WHERE digest = $1 AND app_id = $2 AND expires_at > $3")
                    .bind(digest).bind(app_id).bind(Ts(now)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn sweep_oauth_states(db: &Pool, now: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1").bind(Ts(now)).execute(db).await?;
                Ok(done.rows_affected())
            }

            pub(crate) async fn insert_identity(tx: &mut Tx, i: &Identity) -> StoreResult<()> {
                let sql = format!("INSERT INTO user_identities ({IDENTITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
                sqlx::query(&sql)
                    .bind(i.id).bind(i.app_id).bind(i.provider_id).bind(i.user_id).bind(&i.subject).bind(&i.email)
                    .bind(Ts(i.created_at)).bind(i.last_used_at.map(Ts))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn touch_identity(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                email: Option<&str>,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE user_identities SET email = $3, last_used_at = $4 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).bind(email).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(())
            }

            /// Removes the user's identity unless it is the user's last way to sign in (no
            /// password, no other identity). The user's row is locked first (a no-op
            /// `UPDATE`), so two unlinks of one user's last two identities run one after the
            /// other and the second sees the first's deletion.
            pub(crate) async fn unlink_identity(
                tx: &mut Tx,
                app_id: Uuid,
                user_id: Uuid,
                id: Uuid,
            ) -> StoreResult<Unlinked> {
                let locked = sqlx::query("UPDATE users SET updated_at = updated_at WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(user_id).execute(&mut **tx).await?;
                if locked.rows_affected() != 1 {
                    return Ok(Unlinked::NotFound);
                }
                let (mine, others, password): (i64, i64, i64) = sqlx::query_as(
                    "SELECT \
                       (SELECT COUNT(*) FROM user_identities WHERE app_id = $1 AND user_id = $2 AND id = $3), \
                       (SELECT COUNT(*) FROM user_identities WHERE app_id = $1 AND user_id = $2 AND id <> $3), \
                       (SELECT COUNT(*) FROM users WHERE app_id = $1 AND id = $2 AND password_hash IS NOT NULL)",
                )
                .bind(app_id).bind(user_id).bind(id).fetch_one(&mut **tx).await?;
                if mine == 0 {
                    return Ok(Unlinked::NotFound);
                }
                if others == 0 && password == 0 {
                    return Ok(Unlinked::LastMethod);
                }
                sqlx::query("DELETE FROM user_identities WHERE app_id = $1 AND user_id = $2 AND id = $3")
                    .bind(app_id).bind(user_id).bind(id).execute(&mut **tx).await?;
                Ok(Unlinked::Removed)
            }
        }
    };
}

pub(crate) use federation;
