//! The store: one trait for reads and one for a write transaction, implemented on SQLite
//! and PostgreSQL by the same SQL (see `sql.rs`), picked from `DATABASE_URL` at start.

pub mod postgres;
mod sql;
pub mod sqlite;
mod timestamp;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::{
    ApiKey, App, Contact, ContactKind, Membership, NewRefreshToken, Permission, RefreshSuccessor, RefreshToken, Role,
    Session, SigningKey, User, UserCursor, UserProfile,
};
use crate::{Error, Result};

pub use timestamp::Ts;

/// Reads, and the start of a write transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Answers when the database does.
    async fn ping(&self) -> Result<()>;
    /// Starts a write transaction; nothing it does is visible until `commit`.
    async fn begin(&self) -> Result<Box<dyn Tx>>;

    async fn app_by_slug(&self, slug: &str) -> Result<Option<App>>;
    async fn app_by_id(&self, id: Uuid) -> Result<Option<App>>;
    /// The apps an account is a member of, with its role on each, oldest first.
    async fn memberships_of(&self, account_id: Uuid) -> Result<Vec<Membership>>;
    /// The account's role on the app, if it is a member.
    async fn member_role(&self, app_id: Uuid, account_id: Uuid) -> Result<Option<Role>>;

    async fn roles(&self, app_id: Uuid) -> Result<Vec<Role>>;
    async fn role_by_id(&self, app_id: Uuid, id: Uuid) -> Result<Option<Role>>;
    async fn role_by_name(&self, app_id: Uuid, name: &str) -> Result<Option<Role>>;

    async fn user_by_id(&self, app_id: Uuid, id: Uuid) -> Result<Option<User>>;
    /// By username, compared case-insensitively.
    async fn user_by_username(&self, app_id: Uuid, username: &str) -> Result<Option<User>>;
    /// By a *verified* contact, compared case-insensitively.
    async fn user_by_verified_contact(&self, app_id: Uuid, kind: ContactKind, value: &str) -> Result<Option<User>>;
    async fn contacts_of(&self, app_id: Uuid, user_id: Uuid) -> Result<Vec<Contact>>;
    /// The user with its role's name and primary email, in one round trip.
    async fn user_profile(&self, app_id: Uuid, id: Uuid) -> Result<Option<UserProfile>>;

    async fn session(&self, app_id: Uuid, id: Uuid) -> Result<Option<Session>>;
    /// The id of the app's session a browser cookie names, by the cookie's digest.
    async fn session_by_cookie(&self, app_id: Uuid, digest: &str) -> Result<Option<Uuid>>;
    async fn refresh_token(&self, app_id: Uuid, digest: &str) -> Result<Option<RefreshToken>>;
    /// Rotates the app's refresh token with this digest, if its session is live at
    /// `successor.created_at` and it has no successor yet: one atomic statement that inserts
    /// the successor into the same session. Returns that session; `None` when the token is
    /// unknown, already rotated (of two concurrent rotations exactly one wins), or its session
    /// is revoked or expired.
    async fn rotate_refresh_token(
        &self,
        app_id: Uuid,
        digest: &str,
        successor: &RefreshSuccessor,
    ) -> Result<Option<Uuid>>;
    /// The app's custom permission strings, by name.
    async fn permissions(&self, app_id: Uuid) -> Result<Vec<Permission>>;
    /// A page of the app's users (each with its role's name and primary email) in creation
    /// order, after `after`, optionally only those whose username, display name or (with
    /// `search_contacts`) a contact contains `search` (case-insensitively).
    async fn users_page(
        &self,
        app_id: Uuid,
        search: Option<&str>,
        search_contacts: bool,
        after: Option<UserCursor>,
        limit: u32,
    ) -> Result<Vec<UserProfile>>;
    /// How many users and members hold the role.
    async fn role_holders(&self, app_id: Uuid, role_id: Uuid) -> Result<i64>;
    /// The user's sessions, newest first.
    async fn sessions_of(&self, app_id: Uuid, user_id: Uuid) -> Result<Vec<Session>>;
    async fn api_keys(&self, app_id: Uuid) -> Result<Vec<ApiKey>>;
    async fn api_key_by_digest(&self, digest: &str) -> Result<Option<ApiKey>>;
    /// Messages other nodes published (PostgreSQL `LISTEN`), listening from before this
    /// returns; `None` where there are no other nodes (SQLite). The stream says when messages
    /// may have been missed (`Lost`) and when they arrive again (`Listening`); it does not end.
    async fn subscribe(&self) -> Result<Option<futures_core::stream::BoxStream<'static, Notice>>>;

    /// Every key of the app still published in its JWKS, newest first.
    async fn signing_keys(&self, app_id: Uuid) -> Result<Vec<SigningKey>>;
}

/// What a subscription to other nodes' messages yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A message, as published.
    Message(String),
    /// The connection is lost: messages published from now until `Listening` are missed.
    Lost,
    /// Listening again, on a new connection.
    Listening,
}

/// A write transaction. Dropped without `commit`, it rolls back. After a method fails, drop
/// it: PostgreSQL refuses every further statement of a failed transaction.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> Result<()>;

    /// `Error::Conflict` when the slug is taken, by a live app or a deleted one.
    async fn insert_app(&mut self, app: &App) -> Result<()>;
    async fn update_app(&mut self, app: &App) -> Result<()>;
    /// Deletes the app and everything in it; its slug stays taken (a tombstone).
    async fn delete_app(&mut self, id: Uuid, at: DateTime<Utc>) -> Result<bool>;
    async fn insert_role(&mut self, role: &Role) -> Result<()>;
    async fn insert_membership(
        &mut self,
        app_id: Uuid,
        account_id: Uuid,
        role_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<()>;
    async fn insert_signing_key(&mut self, key: &SigningKey) -> Result<()>;

    /// `Error::Conflict` when the username is taken in the app.
    async fn insert_user(&mut self, user: &User) -> Result<()>;
    /// `Error::Conflict` when a verified contact of the same value exists in the app.
    async fn insert_contact(&mut self, contact: &Contact) -> Result<()>;

    /// `Error::Conflict` when the name exists in the app.
    async fn insert_permission(&mut self, permission: &Permission) -> Result<()>;
    /// Saves description and permissions of the role.
    async fn update_role(&mut self, role: &Role) -> Result<()>;
    /// Moves every user and member holding `from` to `to`.
    async fn reassign_role(&mut self, app_id: Uuid, from: Uuid, to: Uuid) -> Result<()>;
    async fn delete_role(&mut self, app_id: Uuid, id: Uuid) -> Result<bool>;
    /// Saves display name, role and status of the user.
    async fn update_user(&mut self, user: &User) -> Result<()>;
    async fn delete_user(&mut self, app_id: Uuid, id: Uuid) -> Result<bool>;
    /// Revokes every live session of the user; answers how many.
    async fn revoke_user_sessions(&mut self, app_id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> Result<u64>;
    async fn insert_api_key(&mut self, key: &ApiKey) -> Result<()>;
    async fn revoke_api_key(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> Result<bool>;
    async fn touch_api_key(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> Result<()>;
    /// Tells the other nodes, once the transaction commits (PostgreSQL `NOTIFY`; nothing on
    /// SQLite, which has no other nodes).
    async fn publish(&mut self, message: &str) -> Result<()>;

    async fn insert_session(&mut self, session: &Session) -> Result<()>;
    async fn touch_session(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> Result<()>;
    /// Binds a browser cookie (by its digest) to the session.
    async fn set_session_cookie(&mut self, app_id: Uuid, id: Uuid, digest: &str) -> Result<()>;
    /// Revokes a live session; false when it was already revoked or does not exist.
    async fn revoke_session(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> Result<bool>;
    async fn insert_refresh_token(&mut self, token: &NewRefreshToken) -> Result<()>;
}

/// The pool under a store, for the few neighbours that need the same database (the
/// console's cookie sessions).
#[derive(Clone)]
pub enum DbPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Connects to the store named by `url` (`sqlite://…` or `postgres://…`) and applies its
/// migrations.
pub async fn connect(url: &str) -> Result<(Arc<dyn Store>, DbPool)> {
    if url.starts_with("sqlite:") {
        let store = sqlite::SqliteStore::connect(url).await?;
        let pool = DbPool::Sqlite(store.writer_pool());
        Ok((Arc::new(store), pool))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = postgres::PostgresStore::connect(url).await?;
        let pool = DbPool::Postgres(store.pool());
        Ok((Arc::new(store), pool))
    } else {
        Err(Error::invalid("DATABASE_URL must start with sqlite:// or postgres://"))
    }
}

/// Unique violations become `Conflict`, with a message fit for a client (the constraint's
/// name goes to the log, not into the answer); everything else as `From<sqlx::Error>` says.
pub(crate) fn map_write_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            tracing::debug!(constraint = db.constraint().unwrap_or("unique"), "write refused by a unique constraint");
            Error::Conflict("This conflicts with something that already exists".into())
        }
        _ => e.into(),
    }
}

/// For deletes: a row still referenced is a `Conflict`, not a failure of the store.
pub(crate) fn map_delete_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::Conflict("still referenced".into()),
        _ => map_write_error(e),
    }
}
