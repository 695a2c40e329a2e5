//! The SQL of app members (accounts with a role on an app) and of member invites.
//!
//! Changes that could leave an app without an owner run after `lock_members`, which takes the
//! app's row lock (PostgreSQL; SQLite has a single writer anyway), so two transactions that
//! each demote or remove one of two owners run one after the other and the second sees the
//! first's change. The statements are conditional on another owner remaining as well.

use sqlx::FromRow;
use uuid::Uuid;

use shared::members::{MemberRole, MemberView};

use crate::store::{StoreResult, Ts};

#[derive(FromRow)]
pub(crate) struct MemberRow {
    account_id: Uuid,
    username: String,
    display_name: String,
    email: Option<String>,
    email_verified_at: Option<Ts>,
    role_id: Uuid,
    role_name: String,
    joined_at: Ts,
}

impl MemberRow {
    pub(crate) fn into_view(self) -> StoreResult<MemberView> {
        Ok(MemberView {
            account_id: self.account_id,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
            email_verified: self.email_verified_at.is_some(),
            role: MemberRole { id: self.role_id, name: self.role_name },
            joined_at: self.joined_at.0,
        })
    }
}

/// `mod members` of queries for database `$db`.
macro_rules! members {
    ($db:ty) => {
        pub(crate) mod members {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use shared::members::MemberView;

            use $crate::model::{Invite, Role};
            use $crate::store::sql::apps::ROLE_COLUMNS;
            use $crate::store::sql::mail::{InviteRow, INVITE_COLUMNS};
            use $crate::store::sql::members::MemberRow;
            use $crate::store::sql::rows::{many, RoleRow};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn members(db: &Pool, app_id: Uuid) -> StoreResult<Vec<MemberView>> {
                let rows = sqlx::query_as::<_, MemberRow>(
                    "SELECT m.account_id, u.username, u.display_name, c.value AS email, \
                     c.verified_at AS email_verified_at, r.id AS role_id, r.name AS role_name, \
                     m.created_at AS joined_at \
                     FROM memberships m JOIN users u ON u.id = m.account_id JOIN roles r ON r.id = m.role_id \
                     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary \
                     WHERE m.app_id = $1 ORDER BY m.created_at, u.username",
                )
                .bind(app_id)
                .fetch_all(db)
                .await?;
                many(rows, MemberRow::into_view)
            }

            pub(crate) async fn member_invites(db: &Pool, app_id: Uuid, limit: u32) -> StoreResult<Vec<Invite>> {
                let sql = format!(
                    "SELECT {INVITE_COLUMNS} FROM member_invites WHERE app_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                );
                let rows = sqlx::query_as::<_, InviteRow>(&sql).bind(app_id).bind(i64::from(limit)).fetch_all(db).await?;
                many(rows, InviteRow::into_model)
            }

            pub(crate) async fn member_invite_by_id(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<Invite>> {
                let sql = format!("SELECT {INVITE_COLUMNS} FROM member_invites WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, InviteRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(InviteRow::into_model).transpose()
            }

            pub(crate) async fn member_invite_by_code(db: &Pool, digest: &str) -> StoreResult<Option<Invite>> {
                let sql = format!("SELECT {INVITE_COLUMNS} FROM member_invites WHERE code_digest = $1");
                let row = sqlx::query_as::<_, InviteRow>(&sql).bind(digest).fetch_optional(db).await?;
                row.map(InviteRow::into_model).transpose()
            }

            /// Takes the app's row lock until the transaction ends (see the module's comment).
            pub(crate) async fn lock_members(tx: &mut Tx, app_id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE apps SET updated_at = updated_at WHERE id = $1")
                    .bind(app_id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn member_role(tx: &mut Tx, app_id: Uuid, account_id: Uuid) -> StoreResult<Option<Role>> {
                let sql = format!(
                    "SELECT {ROLE_COLUMNS} FROM memberships m JOIN roles r ON r.id = m.role_id \
                     WHERE m.app_id = $1 AND m.account_id = $2"
                );
                let row = sqlx::query_as::<_, RoleRow>(&sql).bind(app_id).bind(account_id).fetch_optional(&mut **tx).await?;
                row.map(RoleRow::into_model).transpose()
            }

            /// Moves the member to `role_id`, unless that would leave the app without a member
            /// holding `owner_id`; false when it is not a member or would be the last owner.
            pub(crate) async fn set_member_role(
                tx: &mut Tx,
                app_id: Uuid,
                account_id: Uuid,
                role_id: Uuid,
                owner_id: Uuid,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE memberships SET role_id = $3 WHERE app_id = $1 AND account_id = $2 \
                     AND (role_id <> $4 OR $3 = $4 OR EXISTS (SELECT 1 FROM memberships o \
                          WHERE o.app_id = $1 AND o.role_id = $4 AND o.account_id <> $2))",
                )
                .bind(app_id).bind(account_id).bind(role_id).bind(owner_id)
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Removes the member, unless it is the last one holding `owner_id`; false when it
            /// is not a member or is the last owner.
            pub(crate) async fn delete_membership(
                tx: &mut Tx,
                app_id: Uuid,
                account_id: Uuid,
                owner_id: Uuid,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "DELETE FROM memberships WHERE app_id = $1 AND account_id = $2 \
                     AND (role_id <> $3 OR EXISTS (SELECT 1 FROM memberships o \
                          WHERE o.app_id = $1 AND o.role_id = $3 AND o.account_id <> $2))",
                )
                .bind(app_id).bind(account_id).bind(owner_id)
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Saves the invite, revoking the app's earlier pending member invites of the same
            /// email; answers how many it revoked.
            pub(crate) async fn insert_member_invite(tx: &mut Tx, i: &Invite, email_normalized: &str) -> StoreResult<u64> {
                let superseded = sqlx::query(
                    "UPDATE member_invites SET revoked_at = $3 \
                     WHERE app_id = $1 AND email_normalized = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(i.app_id).bind(email_normalized).bind(Ts(i.created_at)).execute(&mut **tx).await?;
                sqlx::query(
                    "INSERT INTO member_invites (id, app_id, email, email_normalized, name, role_id, code_digest, \
                     invited_by_kind, invited_by, created_at, expires_at, accepted_at, revoked_at, user_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(i.id).bind(i.app_id).bind(&i.email).bind(email_normalized).bind(&i.name).bind(i.role_id)
                .bind(&i.code_digest).bind(&i.invited_by_kind).bind(i.invited_by).bind(Ts(i.created_at))
                .bind(Ts(i.expires_at)).bind(i.accepted_at.map(Ts)).bind(i.revoked_at.map(Ts)).bind(i.user_id)
                .execute(&mut **tx).await?;
                Ok(superseded.rows_affected())
            }

            pub(crate) async fn revoke_member_invite(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE member_invites SET revoked_at = $3 \
                     WHERE app_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Marks a pending, unexpired member invite accepted by the account; false when it
            /// is not (any more): of two concurrent acceptances, one wins.
            pub(crate) async fn accept_member_invite(
                tx: &mut Tx,
                id: Uuid,
                account_id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE member_invites SET accepted_at = $3, user_id = $2 \
                     WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
                )
                .bind(id).bind(account_id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use members;
