//! The SQL shared by both stores. Both speak `$n` placeholders, `RETURNING` and partial
//! indexes, so one text serves both; the column types that differ live in the two migration
//! folders. Each aggregate's file holds its SQL as a macro that writes a module of query
//! functions for one database; `impl_sql_store!` instantiates them all for a [`Backend`] and
//! implements `Store` and `Tx` on top, leaving to the backend only what differs.

pub(crate) mod api_keys;
pub(crate) mod apps;
pub(crate) mod audit;
pub(crate) mod credentials;
pub(crate) mod federation;
pub(crate) mod licenses;
pub(crate) mod limits;
pub(crate) mod mail;
pub(crate) mod members;
pub(crate) mod oidc;
pub(crate) mod organizations;
pub(crate) mod rows;
pub(crate) mod sessions;
pub(crate) mod signing_keys;
pub(crate) mod users;
pub(crate) mod waitlists;
pub(crate) mod webhooks;

use async_trait::async_trait;
use futures_core::stream::BoxStream;
use uuid::Uuid;

use super::Notice;
use crate::audit::{AuditEvent, Link};
use crate::model::{RefreshKey, RefreshSuccessor};
use crate::store::StoreResult;

/// What one database does its own way; everything else is the shared SQL.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    type Db: sqlx::Database;
    /// `Store::backend`'s answer.
    const NAME: &'static str;
    /// `Store::refresh_statistics`: the statement that brings the planner's view of the user
    /// tables up to date.
    const REFRESH_STATISTICS: &'static str;

    /// The pool reads go to.
    fn reader(&self) -> &sqlx::Pool<Self::Db>;
    /// The pool write transactions come from.
    fn writer(&self) -> &sqlx::Pool<Self::Db>;
    /// `Store::rotate_refresh_token`, with its guarantees.
    async fn rotate(
        &self,
        app_id: Uuid,
        key: &RefreshKey,
        successor: &RefreshSuccessor,
        event: &AuditEvent,
    ) -> StoreResult<Option<Uuid>>;
    /// `Store::subscribe`: other nodes' messages, or `None` where there are no other nodes.
    async fn listen(&self) -> StoreResult<Option<BoxStream<'static, Notice>>>;
    /// `Tx::publish`, inside the transaction: delivered once, and only if, it commits.
    async fn notify(tx: &mut sqlx::Transaction<'static, Self::Db>, message: &str) -> StoreResult<()>;
    /// `Tx::link_audit_events`: links those events still pending; answers how many.
    async fn link_audit(tx: &mut sqlx::Transaction<'static, Self::Db>, links: &[(i64, Link)]) -> StoreResult<u64>;
}

/// Implements `Store` for `$store` (a [`Backend`] on database `$db`) and `Tx` for `$tx` (a
/// `sqlx::Transaction<'static, $db>`, defined here) over the shared SQL, instantiated in a
/// module `queries` for that database.
macro_rules! impl_sql_store {
    ($store:ident, $tx:ident, $db:ty) => {
        /// The shared SQL, for this database.
        mod queries {
            $crate::store::sql::apps::apps!($db);
            $crate::store::sql::users::users!($db);
            $crate::store::sql::sessions::sessions!($db);
            $crate::store::sql::api_keys::api_keys!($db);
            $crate::store::sql::credentials::credentials!($db);
            $crate::store::sql::signing_keys::signing_keys!($db);
            $crate::store::sql::audit::audit!($db);
            $crate::store::sql::mail::mail!($db);
            $crate::store::sql::limits::limits!($db);
            $crate::store::sql::waitlists::waitlists!($db);
            $crate::store::sql::members::members!($db);
            $crate::store::sql::licenses::licenses!($db);
            $crate::store::sql::organizations::organizations!($db);
            $crate::store::sql::webhooks::webhooks!($db);
            $crate::store::sql::oidc::oidc!($db);
            $crate::store::sql::federation::federation!($db);
        }

        pub struct $tx(sqlx::Transaction<'static, $db>);

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                <$store as $crate::store::sql::Backend>::NAME
            }

            fn pool_usage(&self) -> Vec<$crate::store::PoolUsage> {
                let usage = |pool: &'static str, p: &sqlx::Pool<<$store as $crate::store::sql::Backend>::Db>| {
                    $crate::store::PoolUsage {
                        pool,
                        open: p.size(),
                        idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                        max: p.options().get_max_connections(),
                    }
                };
                vec![
                    usage("reader", $crate::store::sql::Backend::reader(self)),
                    usage("writer", $crate::store::sql::Backend::writer(self)),
                ]
            }

            async fn refresh_statistics(&self) -> $crate::store::StoreResult<()> {
                let sql = <$store as $crate::store::sql::Backend>::REFRESH_STATISTICS;
                sqlx::query(sql).execute($crate::store::sql::Backend::writer(self)).await?;
                Ok(())
            }

            async fn ping(&self) -> $crate::store::StoreResult<()> {
                sqlx::query("SELECT 1").execute($crate::store::sql::Backend::reader(self)).await?;
                Ok(())
            }

            async fn close(&self) {
                $crate::store::sql::Backend::reader(self).close().await;
                $crate::store::sql::Backend::writer(self).close().await;
            }

            async fn begin(&self) -> $crate::store::StoreResult<Box<dyn $crate::store::Tx>> {
                Ok(Box::new($tx($crate::store::sql::Backend::writer(self).begin().await?)))
            }

            async fn app_by_slug(&self, slug: &str) -> $crate::store::StoreResult<Option<$crate::model::App>> {
                queries::apps::app_by_slug($crate::store::sql::Backend::reader(self), slug).await
            }

            async fn app_by_id(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::model::App>> {
                queries::apps::app_by_id($crate::store::sql::Backend::reader(self), id).await
            }

            async fn memberships_of(
                &self,
                account_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Membership>> {
                queries::apps::memberships_of($crate::store::sql::Backend::reader(self), account_id).await
            }

            async fn member_role(
                &self,
                app_id: uuid::Uuid,
                account_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Role>> {
                queries::apps::member_role($crate::store::sql::Backend::reader(self), app_id, account_id).await
            }

            async fn roles(&self, app_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::model::Role>> {
                queries::apps::roles($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn role_by_id(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Role>> {
                queries::apps::role_by_id($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn role_by_name(
                &self,
                app_id: uuid::Uuid,
                name: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::Role>> {
                queries::apps::role_by_name($crate::store::sql::Backend::reader(self), app_id, name).await
            }

            async fn user_by_id(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::User>> {
                queries::users::user_by_id($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn user_by_username(
                &self,
                app_id: uuid::Uuid,
                username: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::User>> {
                queries::users::user_by_username($crate::store::sql::Backend::reader(self), app_id, username).await
            }

            async fn user_by_verified_contact(
                &self,
                app_id: uuid::Uuid,
                kind: $crate::model::ContactKind,
                value: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::User>> {
                queries::users::user_by_verified_contact($crate::store::sql::Backend::reader(self), app_id, kind, value)
                    .await
            }

            async fn contacts_of(
                &self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Contact>> {
                queries::users::contacts_of($crate::store::sql::Backend::reader(self), app_id, user_id).await
            }

            async fn user_profile(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::UserProfile>> {
                queries::users::user_profile($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn waitlist_entry(
                &self,
                app_id: uuid::Uuid,
                feature: &str,
                user_id: uuid::Uuid,
                org_id: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Option<$crate::model::WaitlistEntry>> {
                let db = $crate::store::sql::Backend::reader(self);
                queries::waitlists::waitlist_entry(db, app_id, feature, user_id, org_id).await
            }

            async fn waitlist_entries_of(
                &self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                org_id: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<$crate::model::WaitlistEntry>> {
                let db = $crate::store::sql::Backend::reader(self);
                queries::waitlists::waitlist_entries_of(db, app_id, user_id, org_id).await
            }

            async fn waitlist_counts(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::WaitlistCount>> {
                queries::waitlists::waitlist_counts($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn waitlist_page(
                &self,
                app_id: uuid::Uuid,
                feature: &str,
                admitted: Option<bool>,
                after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::WaitlistListing>> {
                let db = $crate::store::sql::Backend::reader(self);
                queries::waitlists::waitlist_page(db, app_id, feature, admitted, after, limit).await
            }

            async fn session(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Session>> {
                queries::sessions::session($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn session_by_cookie(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                queries::sessions::session_by_cookie($crate::store::sql::Backend::reader(self), app_id, digest).await
            }

            async fn refresh_token(
                &self,
                app_id: uuid::Uuid,
                key: &$crate::model::RefreshKey,
            ) -> $crate::store::StoreResult<Option<$crate::model::RefreshToken>> {
                queries::sessions::refresh_token($crate::store::sql::Backend::reader(self), app_id, key).await
            }

            async fn legacy_refresh_token(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::RefreshToken>> {
                queries::sessions::legacy_refresh_token($crate::store::sql::Backend::reader(self), app_id, digest).await
            }

            async fn rotate_refresh_token(
                &self,
                app_id: uuid::Uuid,
                key: &$crate::model::RefreshKey,
                successor: &$crate::model::RefreshSuccessor,
                event: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                $crate::store::sql::Backend::rotate(self, app_id, key, successor, event).await
            }

            async fn permissions(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Permission>> {
                queries::apps::permissions($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn users_page(
                &self,
                app_id: uuid::Uuid,
                search: Option<&str>,
                search_contacts: bool,
                after: Option<$crate::model::UserCursor>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::UserProfile>> {
                queries::users::users_page(
                    $crate::store::sql::Backend::reader(self),
                    app_id,
                    search,
                    search_contacts,
                    after,
                    limit,
                )
                .await
            }

            async fn role_holders(&self, app_id: uuid::Uuid, role_id: uuid::Uuid) -> $crate::store::StoreResult<i64> {
                queries::apps::role_holders($crate::store::sql::Backend::reader(self), app_id, role_id).await
            }

            async fn sessions_of(
                &self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Session>> {
                queries::sessions::sessions_of($crate::store::sql::Backend::reader(self), app_id, user_id).await
            }

            async fn api_keys(&self, app_id: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::model::ApiKey>> {
                queries::api_keys::api_keys($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn api_key_by_digest(
                &self,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::ApiKey>> {
                queries::api_keys::api_key_by_digest($crate::store::sql::Backend::reader(self), digest).await
            }

            async fn hit_counter(
                &self,
                bucket: &str,
                window_start: i64,
                window: i64,
            ) -> $crate::store::StoreResult<(i64, i64)> {
                queries::limits::hit($crate::store::sql::Backend::writer(self), bucket, window_start, window).await
            }

            async fn peek_counter(&self, bucket: &str) -> $crate::store::StoreResult<Option<(i64, i64, i64)>> {
                queries::limits::peek($crate::store::sql::Backend::reader(self), bucket).await
            }

            async fn fail_counter(&self, bucket: &str, now: i64, cooling: i64) -> $crate::store::StoreResult<i64> {
                queries::limits::fail($crate::store::sql::Backend::writer(self), bucket, now, cooling).await
            }

            async fn failure_count(&self, bucket: &str, now: i64) -> $crate::store::StoreResult<Option<(i64, i64)>> {
                queries::limits::failures($crate::store::sql::Backend::reader(self), bucket, now).await
            }

            async fn clear_counter(&self, bucket: &str) -> $crate::store::StoreResult<()> {
                queries::limits::clear($crate::store::sql::Backend::writer(self), bucket).await
            }

            async fn prune_refresh_tokens(
                &self,
                ended_before: chrono::DateTime<chrono::Utc>,
                sessions: u32,
            ) -> $crate::store::StoreResult<u64> {
                let (reader, writer) =
                    ($crate::store::sql::Backend::reader(self), $crate::store::sql::Backend::writer(self));
                queries::sessions::prune_refresh_tokens(reader, writer, ended_before, sessions).await
            }

            async fn sweep_counters(&self, now: chrono::DateTime<chrono::Utc>) -> $crate::store::StoreResult<u64> {
                let writer = $crate::store::sql::Backend::writer(self);
                let swept = queries::limits::sweep(writer, now).await?;
                Ok(swept + queries::federation::sweep_oauth_states(writer, now).await?)
            }

            async fn try_otp(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                purpose: $crate::model::OtpPurpose,
                now: chrono::DateTime<chrono::Utc>,
                max_attempts: i32,
            ) -> $crate::store::StoreResult<Option<$crate::model::OtpRequest>> {
                let writer = $crate::store::sql::Backend::writer(self);
                queries::limits::try_otp(writer, app_id, id, purpose, now, max_attempts).await
            }

            async fn members(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<shared::members::MemberView>> {
                queries::members::members($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn member_invites(
                &self,
                app_id: uuid::Uuid,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Invite>> {
                queries::members::member_invites($crate::store::sql::Backend::reader(self), app_id, limit).await
            }

            async fn member_invite_by_id(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Invite>> {
                queries::members::member_invite_by_id($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn member_invite_by_code(
                &self,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::Invite>> {
                queries::members::member_invite_by_code($crate::store::sql::Backend::reader(self), digest).await
            }

            async fn app_credentials(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::AppCredential>> {
                queries::credentials::app_credentials($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn app_credential(
                &self,
                app_id: uuid::Uuid,
                client_id: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::AppCredential>> {
                queries::credentials::app_credential($crate::store::sql::Backend::reader(self), app_id, client_id).await
            }

            async fn oidc_clients(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::OidcClient>> {
                queries::oidc::clients($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn oidc_client(
                &self,
                app_id: uuid::Uuid,
                client_id: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::OidcClient>> {
                queries::oidc::client($crate::store::sql::Backend::reader(self), app_id, client_id).await
            }

            async fn oidc_client_by_id(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::OidcClient>> {
                queries::oidc::client_by_id($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn oidc_consent(
                &self,
                client: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<Vec<String>>> {
                queries::oidc::consent($crate::store::sql::Backend::reader(self), client, user_id).await
            }

            async fn oidc_code(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::OidcCode>> {
                queries::oidc::code($crate::store::sql::Backend::reader(self), app_id, digest).await
            }

            async fn oidc_grant(
                &self,
                app_id: uuid::Uuid,
                session_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::OidcGrant>> {
                queries::oidc::grant($crate::store::sql::Backend::reader(self), app_id, session_id).await
            }

            async fn subscribe(
                &self,
            ) -> $crate::store::StoreResult<Option<futures_core::stream::BoxStream<'static, $crate::store::Notice>>>
            {
                $crate::store::sql::Backend::listen(self).await
            }

            async fn signing_keys(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::SigningKey>> {
                queries::signing_keys::signing_keys($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn audit_events(
                &self,
                app_id: uuid::Uuid,
                filter: &$crate::audit::AuditFilter,
                page: $crate::store::AuditPage,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::audit::AuditEvent>> {
                queries::audit::events($crate::store::sql::Backend::reader(self), app_id, filter, page, limit).await
            }

            async fn audit_chain(
                &self,
                app_id: uuid::Uuid,
                after: i64,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::audit::AuditEvent>> {
                queries::audit::chain($crate::store::sql::Backend::reader(self), app_id, after, limit).await
            }

            async fn audit_head(&self, app_id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::audit::Head>> {
                queries::audit::head($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn audit_checkpoint(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::audit::Checkpoint>> {
                queries::audit::checkpoint($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn apps_with_pending_audit(&self, limit: u32) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                queries::audit::apps_with_pending($crate::store::sql::Backend::reader(self), limit).await
            }

            async fn pending_audit(&self, app_id: uuid::Uuid) -> $crate::store::StoreResult<i64> {
                queries::audit::pending_count($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn app_ids(&self) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                queries::audit::app_ids($crate::store::sql::Backend::reader(self)).await
            }

            async fn next_mail_due(&self) -> $crate::store::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                queries::mail::next_mail_due($crate::store::sql::Backend::reader(self)).await
            }

            async fn queued_mail(&self) -> $crate::store::StoreResult<i64> {
                queries::mail::queued_mail($crate::store::sql::Backend::reader(self)).await
            }

            async fn webhook_endpoints(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::WebhookEndpoint>> {
                queries::webhooks::webhook_endpoints($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn webhook_endpoint(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::WebhookEndpoint>> {
                queries::webhooks::webhook_endpoint($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn webhook_deliveries(
                &self,
                app_id: uuid::Uuid,
                endpoint_id: uuid::Uuid,
                before: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::WebhookDelivery>> {
                let db = $crate::store::sql::Backend::reader(self);
                queries::webhooks::webhook_deliveries(db, app_id, endpoint_id, before, limit).await
            }

            async fn webhook_delivery(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::WebhookDelivery>> {
                queries::webhooks::webhook_delivery($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn next_webhook_due(&self) -> $crate::store::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                queries::webhooks::next_webhook_due($crate::store::sql::Backend::reader(self)).await
            }

            async fn mail_page(
                &self,
                app_id: uuid::Uuid,
                before: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Mail>> {
                queries::mail::mail_page($crate::store::sql::Backend::reader(self), app_id, before, limit).await
            }

            async fn mail_by_id(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Mail>> {
                queries::mail::mail_by_id($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn one_time_token(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::OneTimeToken>> {
                queries::mail::token($crate::store::sql::Backend::reader(self), app_id, digest).await
            }

            async fn invites(
                &self,
                app_id: uuid::Uuid,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Invite>> {
                queries::mail::invites($crate::store::sql::Backend::reader(self), app_id, limit).await
            }

            async fn invite_by_id(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Invite>> {
                queries::mail::invite_by_id($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn invite_by_code(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::Invite>> {
                queries::mail::invite_by_code($crate::store::sql::Backend::reader(self), app_id, digest).await
            }

            async fn email_contacts(
                &self,
                app_id: uuid::Uuid,
                normalized: &str,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Contact>> {
                queries::mail::email_contacts($crate::store::sql::Backend::reader(self), app_id, normalized).await
            }

            async fn license(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::licenses::License>> {
                queries::licenses::license($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn license_by_digest(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::licenses::License>> {
                queries::licenses::license_by_digest($crate::store::sql::Backend::reader(self), app_id, digest).await
            }

            async fn licenses_page(
                &self,
                app_id: uuid::Uuid,
                filter: &$crate::licenses::LicenseFilter,
                now: chrono::DateTime<chrono::Utc>,
                after: Option<$crate::licenses::LicenseCursor>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::licenses::License>> {
                let reader = $crate::store::sql::Backend::reader(self);
                queries::licenses::licenses_page(reader, app_id, filter, now, after, limit).await
            }

            async fn license_activations(
                &self,
                app_id: uuid::Uuid,
                license_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::licenses::Activation>> {
                queries::licenses::activations($crate::store::sql::Backend::reader(self), app_id, license_id).await
            }

            async fn entitlements(
                &self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                org_id: Option<uuid::Uuid>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Vec<$crate::licenses::License>> {
                let reader = $crate::store::sql::Backend::reader(self);
                queries::licenses::entitlements(reader, app_id, user_id, org_id, now).await
            }

            async fn organization_in_app(
                &self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::licenses::organization_in_app($crate::store::sql::Backend::reader(self), app_id, org_id).await
            }

            async fn organization(
                &self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Organization>> {
                queries::organizations::organization($crate::store::sql::Backend::reader(self), app_id, id).await
            }

            async fn organization_by_slug(
                &self,
                app_id: uuid::Uuid,
                slug: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::Organization>> {
                queries::organizations::organization_by_slug($crate::store::sql::Backend::reader(self), app_id, slug)
                    .await
            }

            async fn organization_id_taken(&self, id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                queries::organizations::organization_id_taken($crate::store::sql::Backend::reader(self), id).await
            }

            async fn user_id_taken(&self, id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                queries::users::user_id_taken($crate::store::sql::Backend::reader(self), id).await
            }

            async fn organizations_page(
                &self,
                app_id: uuid::Uuid,
                search: Option<&str>,
                after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<($crate::model::Organization, i64)>> {
                let reader = $crate::store::sql::Backend::reader(self);
                queries::organizations::organizations_page(reader, app_id, search, after, limit).await
            }

            async fn organizations_of(
                &self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::OrgMembership>> {
                queries::organizations::organizations_of($crate::store::sql::Backend::reader(self), app_id, user_id)
                    .await
            }

            async fn organization_members(
                &self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::OrgMember>> {
                queries::organizations::organization_members($crate::store::sql::Backend::reader(self), app_id, org_id)
                    .await
            }

            async fn organization_member(
                &self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::OrgMember>> {
                let reader = $crate::store::sql::Backend::reader(self);
                queries::organizations::organization_member(reader, app_id, org_id, user_id).await
            }

            async fn session_org(
                &self,
                app_id: uuid::Uuid,
                session_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::ActiveOrgRecord>> {
                queries::organizations::session_org($crate::store::sql::Backend::reader(self), app_id, session_id).await
            }

            async fn org_invite_by_code(
                &self,
                app_id: uuid::Uuid,
                digest: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::OrgInvite>> {
                queries::organizations::org_invite_by_code($crate::store::sql::Backend::reader(self), app_id, digest)
                    .await
            }

            async fn oauth_providers(
                &self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::OAuthProvider>> {
                queries::federation::oauth_providers($crate::store::sql::Backend::reader(self), app_id).await
            }

            async fn oauth_provider(
                &self,
                app_id: uuid::Uuid,
                name: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::OAuthProvider>> {
                queries::federation::oauth_provider($crate::store::sql::Backend::reader(self), app_id, name).await
            }

            async fn identity_by_subject(
                &self,
                app_id: uuid::Uuid,
                provider_id: uuid::Uuid,
                subject: &str,
            ) -> $crate::store::StoreResult<Option<$crate::model::Identity>> {
                let reader = $crate::store::sql::Backend::reader(self);
                queries::federation::identity_by_subject(reader, app_id, provider_id, subject).await
            }

            async fn identities_of(
                &self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Identity>> {
                queries::federation::identities_of($crate::store::sql::Backend::reader(self), app_id, user_id).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Tx for $tx {
            async fn commit(self: Box<Self>) -> $crate::store::StoreResult<()> {
                self.0.commit().await?;
                Ok(())
            }

            async fn insert_app(&mut self, app: &$crate::model::App) -> $crate::store::StoreResult<()> {
                queries::apps::insert_app(&mut self.0, app).await
            }

            async fn update_app(&mut self, app: &$crate::model::App) -> $crate::store::StoreResult<()> {
                queries::apps::update_app(&mut self.0, app).await
            }

            async fn delete_app(
                &mut self,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::apps::delete_app(&mut self.0, id, at).await
            }

            async fn insert_role(&mut self, role: &$crate::model::Role) -> $crate::store::StoreResult<()> {
                queries::apps::insert_role(&mut self.0, role).await
            }

            async fn insert_membership(
                &mut self,
                app_id: uuid::Uuid,
                account_id: uuid::Uuid,
                role_id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::apps::insert_membership(&mut self.0, app_id, account_id, role_id, at).await
            }

            async fn insert_signing_key(&mut self, key: &$crate::model::SigningKey) -> $crate::store::StoreResult<()> {
                queries::signing_keys::insert_signing_key(&mut self.0, key).await
            }

            async fn insert_webhook_endpoint(
                &mut self,
                endpoint: &$crate::model::WebhookEndpoint,
            ) -> $crate::store::StoreResult<()> {
                queries::webhooks::insert_webhook_endpoint(&mut self.0, endpoint).await
            }

            async fn update_webhook_endpoint(
                &mut self,
                endpoint: &$crate::model::WebhookEndpoint,
            ) -> $crate::store::StoreResult<bool> {
                queries::webhooks::update_webhook_endpoint(&mut self.0, endpoint).await
            }

            async fn delete_webhook_endpoint(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::webhooks::delete_webhook_endpoint(&mut self.0, app_id, id).await
            }

            async fn insert_webhook_delivery(
                &mut self,
                delivery: &$crate::model::WebhookDelivery,
            ) -> $crate::store::StoreResult<()> {
                queries::webhooks::insert_webhook_delivery(&mut self.0, delivery).await
            }

            async fn claim_webhook_deliveries(
                &mut self,
                now: chrono::DateTime<chrono::Utc>,
                until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::WebhookDelivery>> {
                queries::webhooks::claim_webhook_deliveries(&mut self.0, now, until, limit).await
            }

            async fn record_webhook_attempt(
                &mut self,
                id: uuid::Uuid,
                attempt: &$crate::model::DeliveryAttempt,
            ) -> $crate::store::StoreResult<bool> {
                queries::webhooks::record_webhook_attempt(&mut self.0, id, attempt).await
            }

            async fn requeue_webhook_delivery(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::webhooks::requeue_webhook_delivery(&mut self.0, app_id, id, at).await
            }

            async fn webhook_endpoint_failed(
                &mut self,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                queries::webhooks::webhook_endpoint_failed(&mut self.0, id, at).await
            }

            async fn webhook_endpoint_succeeded(&mut self, id: uuid::Uuid) -> $crate::store::StoreResult<()> {
                queries::webhooks::webhook_endpoint_succeeded(&mut self.0, id).await
            }

            async fn disable_webhook_endpoint(
                &mut self,
                id: uuid::Uuid,
                reason: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::webhooks::disable_webhook_endpoint(&mut self.0, id, reason, at).await
            }

            async fn retire_signing_key(
                &mut self,
                app_id: uuid::Uuid,
                kid: &str,
                retired_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::signing_keys::retire_signing_key(&mut self.0, app_id, kid, retired_at).await
            }

            async fn revoke_signing_key(
                &mut self,
                app_id: uuid::Uuid,
                kid: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::signing_keys::revoke_signing_key(&mut self.0, app_id, kid, at).await
            }

            async fn join_waitlist(
                &mut self,
                entry: &$crate::model::WaitlistEntry,
            ) -> $crate::store::StoreResult<bool> {
                queries::waitlists::join_waitlist(&mut self.0, entry).await
            }

            async fn leave_waitlist(
                &mut self,
                app_id: uuid::Uuid,
                feature: &str,
                user_id: uuid::Uuid,
                org_id: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Option<uuid::Uuid>> {
                queries::waitlists::leave_waitlist(&mut self.0, app_id, feature, user_id, org_id).await
            }

            async fn admit_waitlist_entry(
                &mut self,
                app_id: uuid::Uuid,
                feature: &str,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Option<$crate::model::WaitlistEntry>> {
                queries::waitlists::admit_waitlist_entry(&mut self.0, app_id, feature, id, at).await
            }

            async fn insert_user(&mut self, user: &$crate::model::User) -> $crate::store::StoreResult<()> {
                queries::users::insert_user(&mut self.0, user).await
            }

            async fn insert_contact(&mut self, contact: &$crate::model::Contact) -> $crate::store::StoreResult<()> {
                queries::users::insert_contact(&mut self.0, contact).await
            }

            async fn insert_permission(&mut self, p: &$crate::model::Permission) -> $crate::store::StoreResult<()> {
                queries::apps::insert_permission(&mut self.0, p).await
            }

            async fn update_role(&mut self, role: &$crate::model::Role) -> $crate::store::StoreResult<()> {
                queries::apps::update_role(&mut self.0, role).await
            }

            async fn reassign_role(
                &mut self,
                app_id: uuid::Uuid,
                from: uuid::Uuid,
                to: uuid::Uuid,
            ) -> $crate::store::StoreResult<()> {
                queries::apps::reassign_role(&mut self.0, app_id, from, to).await
            }

            async fn delete_role(&mut self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                queries::apps::delete_role(&mut self.0, app_id, id).await
            }

            async fn update_user(&mut self, user: &$crate::model::User) -> $crate::store::StoreResult<()> {
                queries::users::update_user(&mut self.0, user).await
            }

            async fn delete_user(&mut self, app_id: uuid::Uuid, id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                queries::users::delete_user(&mut self.0, app_id, id).await
            }

            async fn revoke_user_sessions(
                &mut self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<u64> {
                queries::sessions::revoke_user_sessions(&mut self.0, app_id, user_id, at).await
            }

            async fn insert_api_key(&mut self, key: &$crate::model::ApiKey) -> $crate::store::StoreResult<()> {
                queries::api_keys::insert_api_key(&mut self.0, key).await
            }

            async fn revoke_api_key(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::api_keys::revoke_api_key(&mut self.0, app_id, id, at).await
            }

            async fn touch_api_key(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::api_keys::touch_api_key(&mut self.0, app_id, id, at).await
            }

            async fn insert_app_credential(
                &mut self,
                credential: &$crate::model::AppCredential,
            ) -> $crate::store::StoreResult<()> {
                queries::credentials::insert_app_credential(&mut self.0, credential).await
            }

            async fn rotate_app_credential(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                digest: &str,
                previous_until: Option<chrono::DateTime<chrono::Utc>>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Option<$crate::model::AppCredential>> {
                queries::credentials::rotate_app_credential(&mut self.0, app_id, id, digest, previous_until, at).await
            }

            async fn revoke_app_credential(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::credentials::revoke_app_credential(&mut self.0, app_id, id, at).await
            }

            async fn touch_app_credential(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::credentials::touch_app_credential(&mut self.0, app_id, id, at).await
            }

            async fn insert_oidc_client(
                &mut self,
                client: &$crate::model::OidcClient,
            ) -> $crate::store::StoreResult<()> {
                queries::oidc::insert_client(&mut self.0, client).await
            }

            async fn update_oidc_client(
                &mut self,
                client: &$crate::model::OidcClient,
            ) -> $crate::store::StoreResult<bool> {
                queries::oidc::update_client(&mut self.0, client).await
            }

            async fn delete_oidc_client(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::oidc::delete_client(&mut self.0, app_id, id).await
            }

            async fn revoke_oidc_client_sessions(
                &mut self,
                app_id: uuid::Uuid,
                client: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                queries::oidc::revoke_client_sessions(&mut self.0, app_id, client, at).await
            }

            async fn grant_oidc_consent(
                &mut self,
                app_id: uuid::Uuid,
                client: uuid::Uuid,
                user_id: uuid::Uuid,
                scopes: &[String],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::oidc::grant_consent(&mut self.0, app_id, client, user_id, scopes, at).await
            }

            async fn insert_oidc_code(&mut self, code: &$crate::model::OidcCode) -> $crate::store::StoreResult<()> {
                queries::oidc::insert_code(&mut self.0, code).await
            }

            async fn consume_oidc_code(
                &mut self,
                app_id: uuid::Uuid,
                digest: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Option<$crate::model::OidcCode>> {
                queries::oidc::consume_code(&mut self.0, app_id, digest, at).await
            }

            async fn set_oidc_code_session(
                &mut self,
                app_id: uuid::Uuid,
                digest: &str,
                session_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<()> {
                queries::oidc::set_code_session(&mut self.0, app_id, digest, session_id).await
            }

            async fn insert_oidc_grant(&mut self, grant: &$crate::model::OidcGrant) -> $crate::store::StoreResult<()> {
                queries::oidc::insert_grant(&mut self.0, grant).await
            }

            async fn use_oidc_assertion(
                &mut self,
                client: uuid::Uuid,
                jti: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::oidc::use_assertion(&mut self.0, client, jti, expires_at, at).await
            }

            async fn publish(&mut self, message: &str) -> $crate::store::StoreResult<()> {
                <$store as $crate::store::sql::Backend>::notify(&mut self.0, message).await
            }

            async fn insert_session(&mut self, session: &$crate::model::Session) -> $crate::store::StoreResult<()> {
                queries::sessions::insert_session(&mut self.0, session).await
            }

            async fn touch_session(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::sessions::touch_session(&mut self.0, app_id, id, at).await
            }

            async fn set_session_cookie(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                digest: &str,
                expires_at: Option<chrono::DateTime<chrono::Utc>>,
            ) -> $crate::store::StoreResult<()> {
                queries::sessions::set_session_cookie(&mut self.0, app_id, id, digest, expires_at).await
            }

            async fn extend_session(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::sessions::extend_session(&mut self.0, app_id, id, at, expires_at).await
            }

            async fn revoke_session(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::sessions::revoke_session(&mut self.0, app_id, id, at).await
            }

            async fn insert_refresh_token(
                &mut self,
                token: &$crate::model::NewRefreshToken,
            ) -> $crate::store::StoreResult<()> {
                queries::sessions::insert_refresh_token(&mut self.0, token).await
            }

            async fn insert_audit_event(
                &mut self,
                event: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                queries::audit::insert_event(&mut self.0, event).await
            }

            async fn pending_audit_events(
                &mut self,
                app_id: uuid::Uuid,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::audit::AuditEvent>> {
                queries::audit::pending(&mut self.0, app_id, limit).await
            }

            async fn audit_head(
                &mut self,
                app_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::audit::Head>> {
                queries::audit::head(&mut *self.0, app_id).await
            }

            async fn link_audit_events(
                &mut self,
                links: &[(i64, $crate::audit::Link)],
            ) -> $crate::store::StoreResult<bool> {
                let linked = <$store as $crate::store::sql::Backend>::link_audit(&mut self.0, links).await?;
                Ok(linked == links.len() as u64)
            }

            async fn advance_audit_head(
                &mut self,
                app_id: uuid::Uuid,
                expected: Option<i64>,
                head: &$crate::audit::Head,
            ) -> $crate::store::StoreResult<bool> {
                queries::audit::advance_head(&mut self.0, app_id, expected, head).await
            }

            async fn cut_audit(&mut self, checkpoint: &$crate::audit::Checkpoint) -> $crate::store::StoreResult<bool> {
                queries::audit::cut(&mut self.0, checkpoint).await
            }

            async fn insert_mail(&mut self, mail: &$crate::model::Mail) -> $crate::store::StoreResult<()> {
                queries::mail::insert_mail(&mut self.0, mail).await
            }

            async fn claim_mail(
                &mut self,
                now: chrono::DateTime<chrono::Utc>,
                until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> $crate::store::StoreResult<Vec<$crate::model::Mail>> {
                queries::mail::claim_mail(&mut self.0, now, until, limit).await
            }

            async fn finish_mail(
                &mut self,
                id: uuid::Uuid,
                status: $crate::model::MailStatus,
                at: chrono::DateTime<chrono::Utc>,
                error: Option<&str>,
            ) -> $crate::store::StoreResult<()> {
                queries::mail::finish_mail(&mut self.0, id, status, at, error).await
            }

            async fn retry_mail(
                &mut self,
                id: uuid::Uuid,
                next: chrono::DateTime<chrono::Utc>,
                error: &str,
            ) -> $crate::store::StoreResult<()> {
                queries::mail::retry_mail(&mut self.0, id, next, error).await
            }

            async fn insert_one_time_token(
                &mut self,
                token: &$crate::model::OneTimeToken,
            ) -> $crate::store::StoreResult<()> {
                queries::mail::insert_token(&mut self.0, token).await
            }

            async fn live_otp(
                &mut self,
                app_id: uuid::Uuid,
                purpose: $crate::model::OtpPurpose,
                contact: Option<uuid::Uuid>,
                destination: &str,
                now: chrono::DateTime<chrono::Utc>,
                max_attempts: i32,
            ) -> $crate::store::StoreResult<Option<$crate::model::OtpRequest>> {
                queries::limits::live_otp(&mut self.0, app_id, purpose, contact, destination, now, max_attempts).await
            }

            async fn insert_otp(&mut self, request: &$crate::model::OtpRequest) -> $crate::store::StoreResult<()> {
                queries::limits::insert_otp(&mut self.0, request).await
            }

            async fn resend_otp(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                code_digest: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::limits::resend_otp(&mut self.0, app_id, id, code_digest, expires_at, now).await
            }

            async fn consume_otp(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::limits::consume_otp(&mut self.0, app_id, id, at).await
            }

            async fn lock_members(&mut self, app_id: uuid::Uuid) -> $crate::store::StoreResult<bool> {
                queries::members::lock_members(&mut self.0, app_id).await
            }

            async fn member_role(
                &mut self,
                app_id: uuid::Uuid,
                account_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::model::Role>> {
                queries::members::member_role(&mut self.0, app_id, account_id).await
            }

            async fn set_member_role(
                &mut self,
                app_id: uuid::Uuid,
                account_id: uuid::Uuid,
                role_id: uuid::Uuid,
                owner_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::members::set_member_role(&mut self.0, app_id, account_id, role_id, owner_id).await
            }

            async fn delete_membership(
                &mut self,
                app_id: uuid::Uuid,
                account_id: uuid::Uuid,
                owner_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::members::delete_membership(&mut self.0, app_id, account_id, owner_id).await
            }

            async fn insert_member_invite(
                &mut self,
                invite: &$crate::model::Invite,
                email_normalized: &str,
            ) -> $crate::store::StoreResult<u64> {
                queries::members::insert_member_invite(&mut self.0, invite, email_normalized).await
            }

            async fn revoke_member_invite(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::members::revoke_member_invite(&mut self.0, app_id, id, at).await
            }

            async fn accept_member_invite(
                &mut self,
                id: uuid::Uuid,
                account_id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::members::accept_member_invite(&mut self.0, id, account_id, at).await
            }

            async fn consume_one_time_token(
                &mut self,
                app_id: uuid::Uuid,
                purpose: $crate::model::TokenPurpose,
                digest: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Option<$crate::model::OneTimeToken>> {
                queries::mail::consume_token(&mut self.0, app_id, purpose, digest, now).await
            }

            async fn insert_invite(
                &mut self,
                invite: &$crate::model::Invite,
                email_normalized: &str,
            ) -> $crate::store::StoreResult<u64> {
                queries::mail::insert_invite(&mut self.0, invite, email_normalized).await
            }

            async fn revoke_invite(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::mail::revoke_invite(&mut self.0, app_id, id, at).await
            }

            async fn accept_invite(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                user_id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::mail::accept_invite(&mut self.0, app_id, id, user_id, at).await
            }

            async fn set_password_hash(
                &mut self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::mail::set_password_hash(&mut self.0, app_id, user_id, hash, at).await
            }

            async fn replace_password_hash(
                &mut self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                expected: &str,
                hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::users::replace_password_hash(&mut self.0, app_id, user_id, expected, hash, at).await
            }

            async fn delete_contact(
                &mut self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::mail::delete_contact(&mut self.0, app_id, user_id, id).await
            }

            async fn set_primary_email(
                &mut self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::mail::set_primary_email(&mut self.0, app_id, user_id, id).await
            }

            async fn verify_contact(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::mail::verify_contact(&mut self.0, app_id, id, at).await
            }

            async fn insert_license(&mut self, license: &$crate::licenses::License) -> $crate::store::StoreResult<()> {
                queries::licenses::insert_license(&mut self.0, license).await
            }

            async fn locked_license(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<$crate::licenses::License>> {
                queries::licenses::locked_license(&mut self.0, app_id, id).await
            }

            async fn revoke_license(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::licenses::revoke_license(&mut self.0, app_id, id, at).await
            }

            async fn extend_license(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                expires_at: Option<chrono::DateTime<chrono::Utc>>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::licenses::extend_license(&mut self.0, app_id, id, expires_at, at).await
            }

            async fn live_activation(
                &mut self,
                license_id: uuid::Uuid,
                fingerprint: &str,
            ) -> $crate::store::StoreResult<Option<$crate::licenses::Activation>> {
                queries::licenses::live_activation(&mut self.0, license_id, fingerprint).await
            }

            async fn insert_activation(
                &mut self,
                activation: &$crate::licenses::Activation,
            ) -> $crate::store::StoreResult<()> {
                queries::licenses::insert_activation(&mut self.0, activation).await
            }

            async fn touch_activation(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::licenses::touch_activation(&mut self.0, app_id, id, at).await
            }

            async fn deactivate(
                &mut self,
                license_id: uuid::Uuid,
                fingerprint: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<Option<$crate::licenses::Activation>> {
                queries::licenses::deactivate(&mut self.0, license_id, fingerprint, at).await
            }

            async fn insert_organization(
                &mut self,
                org: &$crate::model::Organization,
            ) -> $crate::store::StoreResult<()> {
                queries::organizations::insert_organization(&mut self.0, org).await
            }

            async fn update_organization(
                &mut self,
                org: &$crate::model::Organization,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::update_organization(&mut self.0, org).await
            }

            async fn delete_organization(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::delete_organization(&mut self.0, app_id, id).await
            }

            async fn lock_organization(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::lock_organization(&mut self.0, app_id, id).await
            }

            async fn org_member_role(
                &mut self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<Option<(uuid::Uuid, String)>> {
                queries::organizations::member_role_in(&mut self.0, app_id, org_id, user_id).await
            }

            async fn count_org_role(
                &mut self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                role_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<i64> {
                queries::organizations::count_org_role(&mut self.0, app_id, org_id, role_id).await
            }

            async fn insert_org_member(
                &mut self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                user_id: uuid::Uuid,
                role_id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::organizations::insert_org_member(&mut self.0, app_id, org_id, user_id, role_id, at).await
            }

            async fn set_org_member_role(
                &mut self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                user_id: uuid::Uuid,
                role_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::set_org_member_role(&mut self.0, app_id, org_id, user_id, role_id).await
            }

            async fn delete_org_member(
                &mut self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                user_id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::delete_org_member(&mut self.0, app_id, org_id, user_id).await
            }

            async fn clear_active_org(
                &mut self,
                app_id: uuid::Uuid,
                org_id: uuid::Uuid,
                user_id: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<uuid::Uuid>> {
                queries::organizations::clear_active_org(&mut self.0, app_id, org_id, user_id).await
            }

            async fn set_active_org(
                &mut self,
                app_id: uuid::Uuid,
                session_id: uuid::Uuid,
                org_id: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::set_active_org(&mut self.0, app_id, session_id, org_id).await
            }

            async fn insert_org_invite(
                &mut self,
                invite: &$crate::model::OrgInvite,
                email_normalized: &str,
            ) -> $crate::store::StoreResult<u64> {
                queries::organizations::insert_org_invite(&mut self.0, invite, email_normalized).await
            }

            async fn accept_org_invite(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                user_id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::organizations::accept_org_invite(&mut self.0, app_id, id, user_id, at).await
            }

            async fn insert_oauth_provider(
                &mut self,
                provider: &$crate::model::OAuthProvider,
            ) -> $crate::store::StoreResult<()> {
                queries::federation::insert_oauth_provider(&mut self.0, provider).await
            }

            async fn update_oauth_provider(
                &mut self,
                provider: &$crate::model::OAuthProvider,
            ) -> $crate::store::StoreResult<bool> {
                queries::federation::update_oauth_provider(&mut self.0, provider).await
            }

            async fn delete_oauth_provider(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<bool> {
                queries::federation::delete_oauth_provider(&mut self.0, app_id, id).await
            }

            async fn insert_oauth_state(
                &mut self,
                app_id: uuid::Uuid,
                digest: &str,
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::federation::insert_oauth_state(&mut self.0, app_id, digest, expires_at).await
            }

            async fn consume_oauth_state(
                &mut self,
                app_id: uuid::Uuid,
                digest: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<bool> {
                queries::federation::consume_oauth_state(&mut self.0, app_id, digest, now).await
            }

            async fn insert_identity(&mut self, identity: &$crate::model::Identity) -> $crate::store::StoreResult<()> {
                queries::federation::insert_identity(&mut self.0, identity).await
            }

            async fn touch_identity(
                &mut self,
                app_id: uuid::Uuid,
                id: uuid::Uuid,
                email: Option<&str>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::StoreResult<()> {
                queries::federation::touch_identity(&mut self.0, app_id, id, email, at).await
            }

            async fn unlink_identity(
                &mut self,
                app_id: uuid::Uuid,
                user_id: uuid::Uuid,
                id: uuid::Uuid,
            ) -> $crate::store::StoreResult<$crate::model::Unlinked> {
                queries::federation::unlink_identity(&mut self.0, app_id, user_id, id).await
            }
        }
    };
}

pub(crate) use impl_sql_store;
