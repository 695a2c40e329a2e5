//! The SQL of each app as an OpenID Connect provider: clients, consents, authorization
//! codes, the sessions opened for a client, and `private_key_jwt` assertions seen.

use sqlx::types::Json;
use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{OidcClient, OidcCode, OidcGrant};
use crate::store::{StoreResult, Ts};

pub(crate) const CLIENT_COLUMNS: &str = "id, app_id, client_id, name, confidential, secret_digest, redirect_uris, \
     post_logout_redirect_uris, grant_types, scopes, first_party, jwks, created_at, updated_at, secret_rotated_at";
pub(crate) const CODE_COLUMNS: &str = "digest, app_id, client_id, user_id, redirect_uri, code_challenge, nonce, \
     scopes, auth_time, amr, created_at, expires_at, used_at, session_id";
pub(crate) const GRANT_COLUMNS: &str = "session_id, app_id, client_id, scopes, nonce, auth_time, amr, created_at";

#[derive(FromRow)]
pub(crate) struct ClientRow {
    id: Uuid,
    app_id: Uuid,
    client_id: String,
    name: String,
    confidential: bool,
    secret_digest: Option<String>,
    redirect_uris: Json<Vec<String>>,
    post_logout_redirect_uris: Json<Vec<String>>,
    grant_types: Json<Vec<String>>,
    scopes: Json<Vec<String>>,
    first_party: bool,
    jwks: Option<Json<serde_json::Value>>,
    created_at: Ts,
    updated_at: Ts,
    secret_rotated_at: Option<Ts>,
}

impl ClientRow {
    pub(crate) fn into_model(self) -> StoreResult<OidcClient> {
        Ok(OidcClient {
            id: self.id,
            app_id: self.app_id,
            client_id: self.client_id,
            name: self.name,
            confidential: self.confidential,
            secret_digest: self.secret_digest,
            redirect_uris: self.redirect_uris.0,
            post_logout_redirect_uris: self.post_logout_redirect_uris.0,
            grant_types: self.grant_types.0,
            scopes: self.scopes.0,
            first_party: self.first_party,
            jwks: self.jwks.map(|j| j.0),
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            secret_rotated_at: self.secret_rotated_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct CodeRow {
    digest: String,
    app_id: Uuid,
    client_id: Uuid,
    user_id: Uuid,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    scopes: Json<Vec<String>>,
    auth_time: Ts,
    amr: Json<Vec<String>>,
    created_at: Ts,
    expires_at: Ts,
    used_at: Option<Ts>,
    session_id: Option<Uuid>,
}

impl CodeRow {
    pub(crate) fn into_model(self) -> StoreResult<OidcCode> {
        Ok(OidcCode {
            digest: self.digest,
            app_id: self.app_id,
            client_id: self.client_id,
            user_id: self.user_id,
            redirect_uri: self.redirect_uri,
            code_challenge: self.code_challenge,
            nonce: self.nonce,
            scopes: self.scopes.0,
            auth_time: self.auth_time.0,
            amr: self.amr.0,
            created_at: self.created_at.0,
            expires_at: self.expires_at.0,
            used_at: self.used_at.map(|t| t.0),
            session_id: self.session_id,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct GrantRow {
    session_id: Uuid,
    app_id: Uuid,
    client_id: Uuid,
    scopes: Json<Vec<String>>,
    nonce: Option<String>,
    auth_time: Ts,
    amr: Json<Vec<String>>,
    created_at: Ts,
}

impl GrantRow {
    pub(crate) fn into_model(self) -> StoreResult<OidcGrant> {
        Ok(OidcGrant {
            session_id: self.session_id,
            app_id: self.app_id,
            client_id: self.client_id,
            scopes: self.scopes.0,
            nonce: self.nonce,
            auth_time: self.auth_time.0,
            amr: self.amr.0,
            created_at: self.created_at.0,
        })
    }
}

/// `mod oidc` of queries for database `$db`.
macro_rules! oidc {
    ($db:ty) => {
        pub(crate) mod oidc {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::{OidcClient, OidcCode, OidcGrant};
            use $crate::store::sql::oidc::{ClientRow, CodeRow, GrantRow, CLIENT_COLUMNS, CODE_COLUMNS, GRANT_COLUMNS};
            use $crate::store::sql::rows::many;
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn clients(db: &Pool, app_id: Uuid) -> StoreResult<Vec<OidcClient>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE app_id = $1 ORDER BY created_at DESC, id");
                many(sqlx::query_as::<_, ClientRow>(&sql).bind(app_id).fetch_all(db).await?, ClientRow::into_model)
            }

            pub(crate) async fn client(db: &Pool, app_id: Uuid, client_id: &str) -> StoreResult<Option<OidcClient>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE app_id = $1 AND client_id = $2");
                let row = sqlx::query_as::<_, ClientRow>(&sql).bind(app_id).bind(client_id).fetch_optional(db).await?;
                row.map(ClientRow::into_model).transpose()
            }

            pub(crate) async fn client_by_id(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<OidcClient>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, ClientRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(ClientRow::into_model).transpose()
            }

            pub(crate) async fn consent(db: &Pool, client: Uuid, user_id: Uuid) -> StoreResult<Option<Vec<String>>> {
                let row: Option<(Json<Vec<String>>,)> =
                    sqlx::query_as("SELECT scopes FROM oidc_consents WHERE client_id = $1 AND user_id = $2")
                        .bind(client).bind(user_id).fetch_optional(db).await?;
                Ok(row.map(|(s,)| s.0))
            }

            pub(crate) async fn code(db: &Pool, app_id: Uuid, digest: &str) -> StoreResult<Option<OidcCode>> {
                let sql = format!("SELECT {CODE_COLUMNS} FROM oidc_codes WHERE app_id = $1 AND digest = $2");
                let row = sqlx::query_as::<_, CodeRow>(&sql).bind(app_id).bind(digest).fetch_optional(db).await?;
                row.map(CodeRow::into_model).transpose()
            }

            pub(crate) async fn grant(db: &Pool, app_id: Uuid, session_id: Uuid) -> StoreResult<Option<OidcGrant>> {
                let sql = format!("SELECT {GRANT_COLUMNS} FROM oidc_grants WHERE app_id = $1 AND session_id = $2");
                let row = sqlx::query_as::<_, GrantRow>(&sql).bind(app_id).bind(session_id).fetch_optional(db).await?;
                row.map(GrantRow::into_model).transpose()
            }

            pub(crate) async fn insert_client(tx: &mut Tx, c: &OidcClient) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO oidc_clients ({CLIENT_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                );
                sqlx::query(&sql)
                    .bind(c.id).bind(c.app_id).bind(&c.client_id).bind(&c.name).bind(c.confidential)
                    .bind(&c.secret_digest).bind(Json(&c.redirect_uris)).bind(Json(&c.post_logout_redirect_uris))
                    .bind(Json(&c.grant_types)).bind(Json(&c.scopes)).bind(c.first_party).bind(c.jwks.as_ref().map(Json))
                    .bind(Ts(c.created_at)).bind(Ts(c.updated_at)).bind(c.secret_rotated_at.map(Ts))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            /// Writes every field a client may change (not its identity, kind or creation).
            pub(crate) async fn update_client(tx: &mut Tx, c: &OidcClient) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE oidc_clients SET name = $3, secret_digest = $4, redirect_uris = $5, \
                       post_logout_redirect_uris = $6, grant_types = $7, scopes = $8, first_party = $9, jwks = $10, \
                       updated_at = $11, secret_rotated_at = $12 \
                     WHERE app_id = $1 AND id = $2",
                )
                .bind(c.app_id).bind(c.id).bind(&c.name).bind(&c.secret_digest).bind(Json(&c.redirect_uris))
                .bind(Json(&c.post_logout_redirect_uris)).bind(Json(&c.grant_types)).bind(Json(&c.scopes))
                .bind(c.first_party).bind(c.jwks.as_ref().map(Json)).bind(Ts(c.updated_at))
                .bind(c.secret_rotated_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn delete_client(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM oidc_clients WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Revokes the live sessions opened for the client; answers their ids.
            pub(crate) async fn revoke_client_sessions(
                tx: &mut Tx,
                app_id: Uuid,
                client: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<Vec<Uuid>> {
                let rows: Vec<(Uuid,)> = sqlx::query_as(
                    "UPDATE sessions SET revoked_at = $3 WHERE app_id = $1 AND revoked_at IS NULL \
                       AND id IN (SELECT session_id FROM oidc_grants WHERE app_id = $1 AND client_id = $2) \
                     RETURNING id",
                )
                .bind(app_id).bind(client).bind(Ts(at)).fetch_all(&mut **tx).await?;
                Ok(rows.into_iter().map(|(id,)| id).collect())
            }

            pub(crate) async fn grant_consent(
                tx: &mut Tx,
                app_id: Uuid,
                client: Uuid,
                user_id: Uuid,
                scopes: &[String],
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO oidc_consents (client_id, user_id, app_id, scopes, granted_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (client_id, user_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
                )
                .bind(client).bind(user_id).bind(app_id).bind(Json(scopes)).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn insert_code(tx: &mut Tx, c: &OidcCode) -> StoreResult<()> {
                // Codes long expired go with each new one: the table holds only the last minutes'.
                sqlx::query("DELETE FROM oidc_codes WHERE expires_at < $1")
                    .bind(Ts(c.created_at - chrono::TimeDelta::hours(1))).execute(&mut **tx).await?;
                let sql = format!(
                    "INSERT INTO oidc_codes ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                );
                sqlx::query(&sql)
                    .bind(&c.digest).bind(c.app_id).bind(c.client_id).bind(c.user_id).bind(&c.redirect_uri)
                    .bind(&c.code_challenge).bind(&c.nonce).bind(Json(&c.scopes)).bind(Ts(c.auth_time))
                    .bind(Json(&c.amr)).bind(Ts(c.created_at)).bind(Ts(c.expires_at)).bind(c.used_at.map(Ts))
                    .bind(c.session_id)
                    .execute(&mut **tx).await?;
                Ok(())
            }

            /// Marks an unused code used, in one statement: of two racing exchanges one wins.
            pub(crate) async fn consume_code(
                tx: &mut Tx,
                app_id: Uuid,
                digest: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<Option<OidcCode>> {
                let sql = format!(
                    "UPDATE oidc_codes SET used_at = $3 WHERE app_id = $1 AND digest = $2 AND used_at IS NULL \
                     RETURNING {CODE_COLUMNS}"
                );
                let row =
                    sqlx::query_as::<_, CodeRow>(&sql).bind(app_id).bind(digest).bind(Ts(at)).fetch_optional(&mut **tx).await?;
                row.map(CodeRow::into_model).transpose()
            }

            pub(crate) async fn set_code_session(tx: &mut Tx, app_id: Uuid, digest: &str, session_id: Uuid) -> StoreResult<()> {
                sqlx::query("UPDATE oidc_codes SET session_id = $3 WHERE app_id = $1 AND digest = $2")
                    .bind(app_id).bind(digest).bind(session_id).execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn insert_grant(tx: &mut Tx, g: &OidcGrant) -> StoreResult<()> {
                let sql = format!("INSERT INTO oidc_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
                sqlx::query(&sql)
                    .bind(g.session_id).bind(g.app_id).bind(g.client_id).bind(Json(&g.scopes)).bind(&g.nonce)
                    .bind(Ts(g.auth_time)).bind(Json(&g.amr)).bind(Ts(g.created_at))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            /// Records a client assertion's `jti`; false when it was seen before (and has not
            /// expired since).
            pub(crate) async fn use_assertion(
                tx: &mut Tx,
                client: Uuid,
                jti: &str,
                expires_at: DateTime<Utc>,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                sqlx::query("DELETE FROM oidc_assertions WHERE client_id = $1 AND expires_at < $2")
                    .bind(client).bind(Ts(at)).execute(&mut **tx).await?;
                let done = sqlx::query(
                    "INSERT INTO oidc_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (client_id, jti) DO NOTHING",
                )
                .bind(client).bind(jti).bind(Ts(expires_at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use oidc;
