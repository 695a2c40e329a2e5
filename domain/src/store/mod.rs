//! The store: one trait for reads and one for a write transaction, implemented on SQLite
//! and PostgreSQL by the same SQL (see `sql.rs`), picked from `DATABASE_URL` at start.

mod error;
pub mod postgres;
mod sql;
pub mod sqlite;
mod timestamp;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{AuditEvent, AuditFilter, Checkpoint, Head, Link};
use crate::licenses::{Activation, License, LicenseCursor, LicenseFilter};
use crate::model::{ActiveOrgRecord, OrgInvite, OrgMember, OrgMembership, Organization};
use crate::model::{
    ApiKey, App, AppCredential, Contact, ContactKind, Invite, Mail, MailStatus, Membership, NewRefreshToken,
    OneTimeToken, OtpPurpose, OtpRequest, Permission, RefreshKey, RefreshSuccessor, RefreshToken, Role, Session,
    SigningKey, TokenPurpose, User, UserCursor, UserProfile, WaitlistCount, WaitlistEntry, WaitlistListing,
};
use crate::model::{DeliveryAttempt, WebhookDelivery, WebhookEndpoint};
use crate::model::{OidcClient, OidcCode, OidcGrant};
use crate::{Error, Result};

pub use error::{StoreError, StoreResult};
pub use timestamp::Ts;

/// Reads, and the start of a write transaction.
/// One connection pool's connections: open ones, idle ones among them, and the most it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsage {
    /// `reader` or `writer`.
    pub pool: &'static str,
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// The connection pools' sizes now, for `/metrics`.
    fn pool_usage(&self) -> Vec<PoolUsage>;
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the store's connections (a test's store, before its database is removed).
    async fn close(&self);
    /// Starts a write transaction; nothing it does is visible until `commit`.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;

    async fn app_by_slug(&self, slug: &str) -> StoreResult<Option<App>>;
    async fn app_by_id(&self, id: Uuid) -> StoreResult<Option<App>>;
    /// The apps an account is a member of, with its role on each, oldest first.
    async fn memberships_of(&self, account_id: Uuid) -> StoreResult<Vec<Membership>>;
    /// The account's role on the app, if it is a member.
    async fn member_role(&self, app_id: Uuid, account_id: Uuid) -> StoreResult<Option<Role>>;

    async fn roles(&self, app_id: Uuid) -> StoreResult<Vec<Role>>;
    async fn role_by_id(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<Role>>;
    async fn role_by_name(&self, app_id: Uuid, name: &str) -> StoreResult<Option<Role>>;

    async fn user_by_id(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<User>>;
    /// By username, compared case-insensitively.
    async fn user_by_username(&self, app_id: Uuid, username: &str) -> StoreResult<Option<User>>;
    /// By a *verified* contact, compared case-insensitively.
    async fn user_by_verified_contact(&self, app_id: Uuid, kind: ContactKind, value: &str)
        -> StoreResult<Option<User>>;
    async fn contacts_of(&self, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<Contact>>;
    /// The user with its role's name and primary email, in one round trip.
    async fn user_profile(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<UserProfile>>;

    /// The user's entry on the feature's waitlist in the context `org_id` (none: its own).
    async fn waitlist_entry(
        &self,
        app_id: Uuid,
        feature: &str,
        user_id: Uuid,
        org_id: Option<Uuid>,
    ) -> StoreResult<Option<WaitlistEntry>>;
    /// The user's entries in the context `org_id`, by feature.
    async fn waitlist_entries_of(
        &self,
        app_id: Uuid,
        user_id: Uuid,
        org_id: Option<Uuid>,
    ) -> StoreResult<Vec<WaitlistEntry>>;
    /// Each feature with entries, with how many wait and how many were let in.
    async fn waitlist_counts(&self, app_id: Uuid) -> StoreResult<Vec<WaitlistCount>>;
    /// The feature's entries (only waiting ones, only admitted ones, or all) after the cursor
    /// `(created_at, id)`, oldest first, with their users' names and primary emails.
    async fn waitlist_page(
        &self,
        app_id: Uuid,
        feature: &str,
        admitted: Option<bool>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<WaitlistListing>>;

    async fn session(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<Session>>;
    /// The id of the app's session a browser cookie names, by the cookie's digest.
    async fn session_by_cookie(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<Uuid>>;
    /// The app's refresh token kept at `key`, if its digest is the one kept there.
    async fn refresh_token(&self, app_id: Uuid, key: &RefreshKey) -> StoreResult<Option<RefreshToken>>;
    /// The app's refresh token issued before tokens carried their key (migration 0020), by
    /// its digest. Tokens issued since are never found here.
    async fn legacy_refresh_token(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<RefreshToken>>;
    /// Rotates the app's refresh token kept at `key`, if its digest is the one kept there,
    /// its session is live at `successor.created_at` and it has no successor yet: one atomic
    /// statement that inserts the successor at the session's next generation. Returns that
    /// session; `None` when the token is unknown, already rotated (of two concurrent rotations
    /// exactly one wins), or its session is revoked or expired.
    ///
    /// `event` is recorded in the same transaction when the rotation happens, with the
    /// session's user as actor and subject (its actor, subject and session are filled in).
    async fn rotate_refresh_token(
        &self,
        app_id: Uuid,
        key: &RefreshKey,
        successor: &RefreshSuccessor,
        event: &AuditEvent,
    ) -> StoreResult<Option<Uuid>>;
    /// The app's custom permission strings, by name.
    async fn permissions(&self, app_id: Uuid) -> StoreResult<Vec<Permission>>;
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
    ) -> StoreResult<Vec<UserProfile>>;
    /// How many users, members and organization members hold the role.
    async fn role_holders(&self, app_id: Uuid, role_id: Uuid) -> StoreResult<i64>;
    /// The user's sessions, newest first.
    async fn sessions_of(&self, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<Session>>;
    async fn api_keys(&self, app_id: Uuid) -> StoreResult<Vec<ApiKey>>;
    async fn api_key_by_digest(&self, digest: &str) -> StoreResult<Option<ApiKey>>;
    /// The app's credentials (seed 002's `app_id` + `app_secret`), revoked ones too, newest first.
    async fn app_credentials(&self, app_id: Uuid) -> StoreResult<Vec<AppCredential>>;
    /// The app's credential with this public identifier (`app_…`); another app's is `None`.
    async fn app_credential(&self, app_id: Uuid, client_id: &str) -> StoreResult<Option<AppCredential>>;
    /// The app's OIDC clients, newest first.
    async fn oidc_clients(&self, app_id: Uuid) -> StoreResult<Vec<OidcClient>>;
    /// The app's OIDC client with this public identifier; another app's is `None`.
    async fn oidc_client(&self, app_id: Uuid, client_id: &str) -> StoreResult<Option<OidcClient>>;
    /// The app's OIDC client by its row id.
    async fn oidc_client_by_id(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<OidcClient>>;
    /// The scopes the user allowed the client (by row id), if it ever consented.
    async fn oidc_consent(&self, client: Uuid, user_id: Uuid) -> StoreResult<Option<Vec<String>>>;
    /// The app's authorization code with this digest, used or not.
    async fn oidc_code(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<OidcCode>>;
    /// The client a session was opened for, if a code exchange opened it.
    async fn oidc_grant(&self, app_id: Uuid, session_id: Uuid) -> StoreResult<Option<OidcGrant>>;
    /// Messages other nodes published (PostgreSQL `LISTEN`), listening from before this
    /// returns; `None` where there are no other nodes (SQLite). The stream says when messages
    /// may have been missed (`Lost`) and when they arrive again (`Listening`); it does not end.
    async fn subscribe(&self) -> StoreResult<Option<futures_core::stream::BoxStream<'static, Notice>>>;

    /// Every key of the app still published in its JWKS, newest first.
    async fn signing_keys(&self, app_id: Uuid) -> StoreResult<Vec<SigningKey>>;

    /// A page of the app's audit events that pass `filter`, linked or not yet.
    async fn audit_events(
        &self,
        app_id: Uuid,
        filter: &AuditFilter,
        page: AuditPage,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// The app's linked events after chain position `after`, in chain order.
    async fn audit_chain(&self, app_id: Uuid, after: i64, limit: u32) -> StoreResult<Vec<AuditEvent>>;
    /// The last link of the app's chain.
    async fn audit_head(&self, app_id: Uuid) -> StoreResult<Option<Head>>;
    /// Where the last retention cut of the app's log stopped.
    async fn audit_checkpoint(&self, app_id: Uuid) -> StoreResult<Option<Checkpoint>>;
    /// After a bulk write (an import): brings the query planner's statistics on the user
    /// tables up to date. A table grown by a million rows in minutes has none yet
    /// (PostgreSQL's autovacuum analyzes on its own schedule), and without them PostgreSQL
    /// read every contact of the app to find one user's (measured: 19 lines a second instead
    /// of 800 in a rerun over a million users).
    async fn refresh_statistics(&self) -> StoreResult<()>;
    /// Apps with events not linked yet.
    async fn apps_with_pending_audit(&self, limit: u32) -> StoreResult<Vec<Uuid>>;
    /// How many of the app's events are not linked yet.
    async fn pending_audit(&self, app_id: Uuid) -> StoreResult<i64>;
    /// Every app's id, and every deleted app's that left an audit log.
    async fn app_ids(&self) -> StoreResult<Vec<Uuid>>;

    /// When the next queued message falls due.
    async fn next_mail_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// How many messages of every app wait to be sent (`/metrics`).
    async fn queued_mail(&self) -> StoreResult<i64>;
    /// The app's webhook endpoints, oldest first.
    async fn webhook_endpoints(&self, app_id: Uuid) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn webhook_endpoint(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookEndpoint>>;
    /// An endpoint's deliveries, newest first, before `before` (created at, id).
    async fn webhook_deliveries(
        &self,
        app_id: Uuid,
        endpoint_id: Uuid,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>>;
    async fn webhook_delivery(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<WebhookDelivery>>;
    /// When the next queued delivery is due, if any is queued.
    async fn next_webhook_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// The app's messages, newest first, before `before` (created at, id).
    async fn mail_page(
        &self,
        app_id: Uuid,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Mail>>;
    async fn mail_by_id(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<Mail>>;
    /// The app's one-time token with this digest, whatever its purpose, expired or not.
    async fn one_time_token(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<OneTimeToken>>;
    /// The app's invites, newest first.
    async fn invites(&self, app_id: Uuid, limit: u32) -> StoreResult<Vec<Invite>>;
    async fn invite_by_id(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<Invite>>;
    async fn invite_by_code(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<Invite>>;
    /// The app's email contacts of this normalized address, verified ones first.
    async fn email_contacts(&self, app_id: Uuid, normalized: &str) -> StoreResult<Vec<Contact>>;

    // Counters (see `limits.rs`): single statements on the writer, outside any transaction,
    // so every node sees every hit at once.
    /// One more hit in `bucket`'s fixed window starting at `window_start` (unix ms, windows
    /// `window` ms long); answers this window's hits and the previous window's.
    async fn hit_counter(&self, bucket: &str, window_start: i64, window: i64) -> StoreResult<(i64, i64)>;
    /// `bucket`'s window start, hits and previous window's hits, as they are.
    async fn peek_counter(&self, bucket: &str) -> StoreResult<Option<(i64, i64, i64)>>;
    /// One more consecutive failure in `bucket` at `now` (unix ms); the count starts again
    /// after `cooling` ms without one. Answers the count.
    async fn fail_counter(&self, bucket: &str, now: i64, cooling: i64) -> StoreResult<i64>;
    /// The consecutive failures in `bucket` still cooling at `now`, and when they stop.
    async fn failure_count(&self, bucket: &str, now: i64) -> StoreResult<Option<(i64, i64)>>;
    async fn clear_counter(&self, bucket: &str) -> StoreResult<()>;
    /// Removes counters and one-time codes that no longer matter.
    async fn sweep_counters(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Removes the refresh tokens of up to `sessions` sessions that ended (revoked or
    /// expired) before `ended_before`, sessions whose tokens no refresh can use again; the
    /// sessions themselves stay. Answers how many sessions had tokens removed: fewer than
    /// `sessions` when none is left.
    async fn prune_refresh_tokens(&self, ended_before: DateTime<Utc>, sessions: u32) -> StoreResult<u64>;
    /// Spends one try of a live OTP request atomically (concurrent tries are each counted,
    /// never past `max_attempts`); `None`, and no try spent, when it is unknown, used,
    /// expired, out of tries or of another purpose.
    async fn try_otp(
        &self,
        app_id: Uuid,
        id: Uuid,
        purpose: OtpPurpose,
        now: DateTime<Utc>,
        max_attempts: i32,
    ) -> StoreResult<Option<OtpRequest>>;

    // App members (accounts managing an app) and their invites.
    /// The app's members with their accounts' names, primary email and role, oldest first.
    async fn members(&self, app_id: Uuid) -> StoreResult<Vec<shared::members::MemberView>>;
    /// The app's member invites, newest first.
    async fn member_invites(&self, app_id: Uuid, limit: u32) -> StoreResult<Vec<Invite>>;
    async fn member_invite_by_id(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<Invite>>;
    /// The member invite with this code digest, whatever its app (the code names it).
    async fn member_invite_by_code(&self, digest: &str) -> StoreResult<Option<Invite>>;
    // License keys (see `sql/licenses.rs`).
    async fn license(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<License>>;
    /// The app's license whose key has this digest; another app's is `None`.
    async fn license_by_digest(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<License>>;
    /// A page of the app's licenses that pass `filter` (its status as of `now`), newest
    /// first, after `after`.
    async fn licenses_page(
        &self,
        app_id: Uuid,
        filter: &LicenseFilter,
        now: DateTime<Utc>,
        after: Option<LicenseCursor>,
        limit: u32,
    ) -> StoreResult<Vec<License>>;
    /// The license's activations, live ones first, then newest first.
    async fn license_activations(&self, app_id: Uuid, license_id: Uuid) -> StoreResult<Vec<Activation>>;
    /// The licenses active at `now` issued to the user, or to `org_id`; newest first.
    async fn entitlements(
        &self,
        app_id: Uuid,
        user_id: Uuid,
        org_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<License>>;
    /// Whether the app has this organization.
    async fn organization_in_app(&self, app_id: Uuid, org_id: Uuid) -> StoreResult<bool>;
    // Organizations inside an app (see `sql/organizations.rs`).
    async fn organization(&self, app_id: Uuid, id: Uuid) -> StoreResult<Option<Organization>>;
    async fn organization_by_slug(&self, app_id: Uuid, slug: &str) -> StoreResult<Option<Organization>>;
    /// Whether any app has an organization with this id (ids are unique across apps).
    async fn organization_id_taken(&self, id: Uuid) -> StoreResult<bool>;
    /// Whether any app has a user with this id (ids are unique across apps).
    async fn user_id_taken(&self, id: Uuid) -> StoreResult<bool>;
    /// A page of the app's organizations, each with its member count, in creation order after
    /// `after`, optionally only those whose name or slug contains `search` (case-insensitively).
    async fn organizations_page(
        &self,
        app_id: Uuid,
        search: Option<&str>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<(Organization, i64)>>;
    /// The user's organizations with its role in each, oldest membership first.
    async fn organizations_of(&self, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<OrgMembership>>;
    async fn organization_members(&self, app_id: Uuid, org_id: Uuid) -> StoreResult<Vec<OrgMember>>;
    async fn organization_member(&self, app_id: Uuid, org_id: Uuid, user_id: Uuid) -> StoreResult<Option<OrgMember>>;
    /// The organization the session acts in, while its user is still a member of it.
    async fn session_org(&self, app_id: Uuid, session_id: Uuid) -> StoreResult<Option<ActiveOrgRecord>>;
    async fn org_invite_by_code(&self, app_id: Uuid, digest: &str) -> StoreResult<Option<OrgInvite>>;
    // External sign-in providers and their users' identities (see `sql/federation.rs`).
    /// The app's providers, oldest first.
    async fn oauth_providers(&self, app_id: Uuid) -> StoreResult<Vec<crate::model::OAuthProvider>>;
    async fn oauth_provider(&self, app_id: Uuid, name: &str) -> StoreResult<Option<crate::model::OAuthProvider>>;
    async fn identity_by_subject(
        &self,
        app_id: Uuid,
        provider_id: Uuid,
        subject: &str,
    ) -> StoreResult<Option<crate::model::Identity>>;
    /// The user's identities, oldest first.
    async fn identities_of(&self, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<crate::model::Identity>>;
}

/// Which page of a log: newest first before a `seq` (from the newest when `None`), or the
/// linked events after a chain position, in chain order (the order events were linked in,
/// which is not their `seq` order when transactions commit out of turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPage {
    Before(Option<i64>),
    ChainAfter(i64),
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
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    /// `StoreError::Unique` when the slug is taken, by a live app or a deleted one.
    async fn insert_app(&mut self, app: &App) -> StoreResult<()>;
    async fn update_app(&mut self, app: &App) -> StoreResult<()>;
    /// Deletes the app and everything in it; its slug stays taken (a tombstone).
    async fn delete_app(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn insert_role(&mut self, role: &Role) -> StoreResult<()>;
    async fn insert_membership(
        &mut self,
        app_id: Uuid,
        account_id: Uuid,
        role_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn insert_signing_key(&mut self, key: &SigningKey) -> StoreResult<()>;

    async fn insert_webhook_endpoint(&mut self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    /// Writes every field of the endpoint back; false when it is gone.
    async fn update_webhook_endpoint(&mut self, endpoint: &WebhookEndpoint) -> StoreResult<bool>;
    /// Deletes the endpoint and its deliveries; false when it was not the app's.
    async fn delete_webhook_endpoint(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    async fn insert_webhook_delivery(&mut self, delivery: &WebhookDelivery) -> StoreResult<()>;
    /// Takes up to `limit` due deliveries until `until`, so no other worker sends them meanwhile.
    async fn claim_webhook_deliveries(
        &mut self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>>;
    /// Records one attempt at a queued delivery; false when it was not queued any more.
    async fn record_webhook_attempt(&mut self, id: Uuid, attempt: &DeliveryAttempt) -> StoreResult<bool>;
    /// Queues a delivery again to be sent at `at`; false when it is queued already or not the app's.
    async fn requeue_webhook_delivery(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// An attempt failed at `at`: the endpoint is failing since then unless it already was;
    /// since when, or `None` when the endpoint is gone.
    async fn webhook_endpoint_failed(&mut self, id: Uuid, at: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>>;
    async fn webhook_endpoint_succeeded(&mut self, id: Uuid) -> StoreResult<()>;
    /// Disables an enabled endpoint and fails its queued deliveries; false when it was not enabled.
    async fn disable_webhook_endpoint(&mut self, id: Uuid, reason: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Ends the app's active key `kid`'s turn: it stays published and verifying until
    /// `retired_at`. False (nothing written) when `kid` is not the app's active key.
    async fn retire_signing_key(&mut self, app_id: Uuid, kid: &str, retired_at: DateTime<Utc>) -> StoreResult<bool>;
    /// Revokes a key that no longer signs, retiring it at `at`. False (nothing written) when
    /// `kid` is the app's active key, already revoked, or not the app's.
    async fn revoke_signing_key(&mut self, app_id: Uuid, kid: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Puts the user on the waitlist; false (and nothing written) when it is on it already in
    /// the same context.
    async fn join_waitlist(&mut self, entry: &WaitlistEntry) -> StoreResult<bool>;
    /// Takes the user off the waitlist in the context; the removed entry's id, if there was one.
    async fn leave_waitlist(
        &mut self,
        app_id: Uuid,
        feature: &str,
        user_id: Uuid,
        org_id: Option<Uuid>,
    ) -> StoreResult<Option<Uuid>>;
    /// Lets a waiting entry of the feature in; `None` when it is not waiting any more.
    async fn admit_waitlist_entry(
        &mut self,
        app_id: Uuid,
        feature: &str,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WaitlistEntry>>;

    /// `StoreError::Unique` when the username is taken in the app.
    async fn insert_user(&mut self, user: &User) -> StoreResult<()>;
    /// `StoreError::Unique` when a verified contact of the same value exists in the app.
    async fn insert_contact(&mut self, contact: &Contact) -> StoreResult<()>;

    /// `StoreError::Unique` when the name exists in the app.
    async fn insert_permission(&mut self, permission: &Permission) -> StoreResult<()>;
    /// Saves description and permissions of the role.
    async fn update_role(&mut self, role: &Role) -> StoreResult<()>;
    /// Moves every user, member and organization member holding `from` to `to`.
    async fn reassign_role(&mut self, app_id: Uuid, from: Uuid, to: Uuid) -> StoreResult<()>;
    /// `StoreError::ForeignKey` while a user or member holds it; false for a system role.
    async fn delete_role(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Saves display name, role and status of the user.
    async fn update_user(&mut self, user: &User) -> StoreResult<()>;
    async fn delete_user(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Revokes every live session of the user; answers how many.
    async fn revoke_user_sessions(&mut self, app_id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> StoreResult<u64>;
    async fn insert_api_key(&mut self, key: &ApiKey) -> StoreResult<()>;
    async fn revoke_api_key(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn touch_api_key(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// `StoreError::Unique` when the public identifier is taken.
    async fn insert_app_credential(&mut self, credential: &AppCredential) -> StoreResult<()>;
    /// Gives a live credential the secret with this digest. With `previous_until`, the secret
    /// it had keeps working until then (replacing any earlier previous one); without, it stops
    /// at once. `None` when the credential is revoked or not the app's.
    async fn rotate_app_credential(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        digest: &str,
        previous_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<AppCredential>>;
    /// Revokes a live credential (its previous secret too); false when it was not live.
    async fn revoke_app_credential(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn touch_app_credential(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// `StoreError::Unique` when the public identifier is taken.
    async fn insert_oidc_client(&mut self, client: &OidcClient) -> StoreResult<()>;
    /// Writes what a client may change (name, secret, URIs, grant types, scopes, first party,
    /// JWKS, `updated_at`, `secret_rotated_at`); false when it is not the app's.
    async fn update_oidc_client(&mut self, client: &OidcClient) -> StoreResult<bool>;
    /// Deletes the client with its consents, codes and grants; false when it was not there.
    async fn delete_oidc_client(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Revokes every live session opened for the client; answers their ids.
    async fn revoke_oidc_client_sessions(
        &mut self,
        app_id: Uuid,
        client: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Uuid>>;
    /// Remembers (or replaces) the scopes the user allowed the client.
    async fn grant_oidc_consent(
        &mut self,
        app_id: Uuid,
        client: Uuid,
        user_id: Uuid,
        scopes: &[String],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn insert_oidc_code(&mut self, code: &OidcCode) -> StoreResult<()>;
    /// Marks the code used if it was not: the code, now used, else `None` (unknown or used).
    async fn consume_oidc_code(
        &mut self,
        app_id: Uuid,
        digest: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<OidcCode>>;
    /// Records the session the code's exchange opened.
    async fn set_oidc_code_session(&mut self, app_id: Uuid, digest: &str, session_id: Uuid) -> StoreResult<()>;
    async fn insert_oidc_grant(&mut self, grant: &OidcGrant) -> StoreResult<()>;
    /// Records a `private_key_jwt` assertion's `jti` until `expires_at`; false when the
    /// client presented it before.
    async fn use_oidc_assertion(
        &mut self,
        client: Uuid,
        jti: &str,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Tells the other nodes, once the transaction commits (PostgreSQL `NOTIFY`; nothing on
    /// SQLite, which has no other nodes).
    async fn publish(&mut self, message: &str) -> StoreResult<()>;

    async fn insert_session(&mut self, session: &Session) -> StoreResult<()>;
    async fn touch_session(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// Binds a browser cookie (by its digest) to the session, and sets its end when given.
    async fn set_session_cookie(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        digest: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// Moves a live session's end later to `expires_at` and records its use at `at`; false
    /// when the session is revoked, already over at `at`, or already ends at or after then.
    async fn extend_session(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Revokes a live session; false when it was already revoked or does not exist.
    async fn revoke_session(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn insert_refresh_token(&mut self, token: &NewRefreshToken) -> StoreResult<()>;

    /// Records an audit event (its `seq` and link are the store's and the sequencer's).
    async fn insert_audit_event(&mut self, event: &AuditEvent) -> StoreResult<()>;
    /// The app's events not linked yet, in insertion order.
    async fn pending_audit_events(&mut self, app_id: Uuid, limit: u32) -> StoreResult<Vec<AuditEvent>>;
    /// The app's head, as this transaction sees it.
    async fn audit_head(&mut self, app_id: Uuid) -> StoreResult<Option<Head>>;
    /// Links pending events (by `seq`), all or none: false when one of them is no longer
    /// pending (another sequencer's), and the transaction must then be dropped.
    async fn link_audit_events(&mut self, links: &[(i64, Link)]) -> StoreResult<bool>;
    /// Moves the app's head from position `expected` (`None`: no head yet) to `head`; false
    /// when another sequencer moved it first.
    async fn advance_audit_head(&mut self, app_id: Uuid, expected: Option<i64>, head: &Head) -> StoreResult<bool>;
    /// Records the checkpoint and removes the linked events up to it; false when it exists.
    async fn cut_audit(&mut self, checkpoint: &Checkpoint) -> StoreResult<bool>;

    /// Queues a message (sent by the mail worker once this transaction commits).
    async fn insert_mail(&mut self, mail: &Mail) -> StoreResult<()>;
    /// Claims up to `limit` queued messages due at `now` until `until`; a claimed message is
    /// skipped by other workers until its claim lapses.
    async fn claim_mail(&mut self, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Mail>>;
    /// Done with a message (`Sent` erases its body).
    async fn finish_mail(
        &mut self,
        id: Uuid,
        status: MailStatus,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// A failed attempt, to try again at `next`.
    async fn retry_mail(&mut self, id: Uuid, next: DateTime<Utc>, error: &str) -> StoreResult<()>;
    /// Saves a one-time token, dropping the user's earlier ones of the same purpose.
    async fn insert_one_time_token(&mut self, token: &OneTimeToken) -> StoreResult<()>;
    /// Consumes the app's unexpired token of this purpose and digest (of two concurrent
    /// redemptions, one gets it).
    async fn consume_one_time_token(
        &mut self,
        app_id: Uuid,
        purpose: TokenPurpose,
        digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<OneTimeToken>>;
    /// Saves an invite, revoking the app's pending invites of the same email; answers how
    /// many it revoked.
    async fn insert_invite(&mut self, invite: &Invite, email_normalized: &str) -> StoreResult<u64>;
    /// Revokes a pending invite; false when it is not pending.
    async fn revoke_invite(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Marks a pending, unexpired invite accepted by the user; false when it is not.
    async fn accept_invite(&mut self, app_id: Uuid, id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn set_password_hash(
        &mut self,
        app_id: Uuid,
        user_id: Uuid,
        hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Replaces the user's password hash only while it is still `expected` (a rehash at
    /// sign-in); false when it changed meanwhile.
    async fn replace_password_hash(
        &mut self,
        app_id: Uuid,
        user_id: Uuid,
        expected: &str,
        hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn delete_contact(&mut self, app_id: Uuid, user_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Makes the user's email `id` the primary one; false when it is not one of the user's emails.
    async fn set_primary_email(&mut self, app_id: Uuid, user_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Marks the contact verified (false when it already was); `StoreError::Unique` when
    /// another user of the app verified the same value.
    async fn verify_contact(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;

    /// The live OTP request of `purpose` for the destination (and contact): not used, not
    /// expired, tries left.
    #[allow(clippy::too_many_arguments)]
    async fn live_otp(
        &mut self,
        app_id: Uuid,
        purpose: OtpPurpose,
        contact: Option<Uuid>,
        destination: &str,
        now: DateTime<Utc>,
        max_attempts: i32,
    ) -> StoreResult<Option<OtpRequest>>;
    async fn insert_otp(&mut self, request: &OtpRequest) -> StoreResult<()>;
    /// A new code for a live request, its tries kept; false when it is no longer live.
    async fn resend_otp(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        code_digest: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Marks the request used; false when it already was (of two, one wins).
    async fn consume_otp(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;

    // App members. Changes that could leave an app without an owner first `lock_members`.
    /// Serialises the app's member changes until this transaction ends (the app's row lock);
    /// false when the app does not exist.
    async fn lock_members(&mut self, app_id: Uuid) -> StoreResult<bool>;
    /// The account's role on the app, as this transaction sees it.
    async fn member_role(&mut self, app_id: Uuid, account_id: Uuid) -> StoreResult<Option<Role>>;
    /// Moves a member to `role_id`; false when it is not a member, or holds `owner_id` and no
    /// other member does (the last owner is never demoted).
    async fn set_member_role(
        &mut self,
        app_id: Uuid,
        account_id: Uuid,
        role_id: Uuid,
        owner_id: Uuid,
    ) -> StoreResult<bool>;
    /// Removes a member; false when it is not one, or is the last member holding `owner_id`.
    async fn delete_membership(&mut self, app_id: Uuid, account_id: Uuid, owner_id: Uuid) -> StoreResult<bool>;
    /// Saves a member invite, revoking the app's pending ones of the same email; answers how
    /// many it revoked.
    async fn insert_member_invite(&mut self, invite: &Invite, email_normalized: &str) -> StoreResult<u64>;
    /// Revokes a pending member invite; false when it is not pending.
    async fn revoke_member_invite(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Marks a pending, unexpired member invite accepted by the account; false when it is not.
    async fn accept_member_invite(&mut self, id: Uuid, account_id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// `StoreError::Unique` when a license has the same key digest.
    async fn insert_license(&mut self, license: &License) -> StoreResult<()>;
    /// The license with its live activations, read once this transaction holds the license
    /// exclusively: until it ends, no other transaction activates or deactivates it, so a
    /// count read here stays true.
    async fn locked_license(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<Option<License>>;
    /// Revokes a license that is not revoked; false when it is, or is not the app's.
    async fn revoke_license(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Sets the expiry of a license that is not revoked (`None`: never); false otherwise.
    async fn extend_license(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        expires_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// The live activation of the license on the device with this fingerprint.
    async fn live_activation(&mut self, license_id: Uuid, fingerprint: &str) -> StoreResult<Option<Activation>>;
    /// `StoreError::Unique` when the device holds a live activation of the license already.
    async fn insert_activation(&mut self, activation: &Activation) -> StoreResult<()>;
    async fn touch_activation(&mut self, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;
    /// Ends the device's live activation of the license; `None` when it has none.
    async fn deactivate(
        &mut self,
        license_id: Uuid,
        fingerprint: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Activation>>;
    // Organizations inside an app (see `sql/organizations.rs`).
    /// `StoreError::Unique` when the slug is taken in the app.
    async fn insert_organization(&mut self, org: &Organization) -> StoreResult<()>;
    /// Saves slug, name, metadata and `updated_at`; `StoreError::Unique` when the slug is taken.
    async fn update_organization(&mut self, org: &Organization) -> StoreResult<bool>;
    /// Deletes the organization, its members and invites; sessions acting in it act in none.
    async fn delete_organization(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Locks the organization for the rest of the transaction, so its members change one
    /// transaction after the other (the last owner's rule holds under races); false when it
    /// does not exist.
    async fn lock_organization(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// The member's role (id, name), as this transaction sees it.
    async fn org_member_role(
        &mut self,
        app_id: Uuid,
        org_id: Uuid,
        user_id: Uuid,
    ) -> StoreResult<Option<(Uuid, String)>>;
    /// How many members of the organization hold the role, as this transaction sees it.
    async fn count_org_role(&mut self, app_id: Uuid, org_id: Uuid, role_id: Uuid) -> StoreResult<i64>;
    /// `StoreError::Unique` when the user is already a member.
    async fn insert_org_member(
        &mut self,
        app_id: Uuid,
        org_id: Uuid,
        user_id: Uuid,
        role_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn set_org_member_role(
        &mut self,
        app_id: Uuid,
        org_id: Uuid,
        user_id: Uuid,
        role_id: Uuid,
    ) -> StoreResult<bool>;
    async fn delete_org_member(&mut self, app_id: Uuid, org_id: Uuid, user_id: Uuid) -> StoreResult<bool>;
    /// Sessions acting in the organization (only the user's, when given) act in none from
    /// now; answers their ids.
    async fn clear_active_org(&mut self, app_id: Uuid, org_id: Uuid, user_id: Option<Uuid>) -> StoreResult<Vec<Uuid>>;
    /// The live session acts in `org_id` from now (in none with `None`); false when the
    /// session is not live or its user is not a member of the organization.
    async fn set_active_org(&mut self, app_id: Uuid, session_id: Uuid, org_id: Option<Uuid>) -> StoreResult<bool>;
    /// Saves an invite, revoking the pending ones of the same email into the same
    /// organization; answers how many it revoked.
    async fn insert_org_invite(&mut self, invite: &OrgInvite, email_normalized: &str) -> StoreResult<u64>;
    /// Marks a pending, unexpired invite accepted by the user; false when it is not (of two
    /// concurrent acceptances, one wins).
    async fn accept_org_invite(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    // External sign-in providers and their users' identities (see `sql/federation.rs`).
    /// `StoreError::Unique` when the app has a provider of that name.
    async fn insert_oauth_provider(&mut self, provider: &crate::model::OAuthProvider) -> StoreResult<()>;
    /// Saves what management may change (not the name, kind or issuer); false when gone.
    async fn update_oauth_provider(&mut self, provider: &crate::model::OAuthProvider) -> StoreResult<bool>;
    /// Removes the provider and its identities; false when it was not there.
    async fn delete_oauth_provider(&mut self, app_id: Uuid, id: Uuid) -> StoreResult<bool>;
    /// Keeps the digest of a sign-in's `state` until `expires_at`.
    async fn insert_oauth_state(&mut self, app_id: Uuid, digest: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Spends a live state; false when it is unknown, spent, expired or another app's.
    async fn consume_oauth_state(&mut self, app_id: Uuid, digest: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// `StoreError::Unique` when the subject (or the user) already has an identity there.
    async fn insert_identity(&mut self, identity: &crate::model::Identity) -> StoreResult<()>;
    /// Records a sign-in through the identity, with the email the provider gave this time.
    async fn touch_identity(
        &mut self,
        app_id: Uuid,
        id: Uuid,
        email: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Removes the user's identity unless it is the user's last way to sign in.
    async fn unlink_identity(&mut self, app_id: Uuid, user_id: Uuid, id: Uuid) -> StoreResult<crate::model::Unlinked>;
}

/// Connects to the store named by `url` (`sqlite://…` or `postgres://…`) and applies its
/// migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else {
        Err(Error::invalid("DATABASE_URL must start with sqlite:// or postgres://"))
    }
}
