//! The SQL of the mail queue, of emailed one-time tokens and of invites.

use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{Invite, Mail, MailStatus, OneTimeToken, TokenPurpose};
use crate::store::{StoreError, StoreResult, Ts};

pub(crate) const MAIL_COLUMNS: &str = "id, app_id, kind, sender, to_address, subject, body, channel, status, \
     attempts, next_attempt_at, last_error, created_at, sent_at";

pub(crate) const TOKEN_COLUMNS: &str =
    "digest, app_id, purpose, user_id, contact_id, redirect_to, created_at, expires_at";

pub(crate) const INVITE_COLUMNS: &str = "id, app_id, email, name, role_id, code_digest, invited_by_kind, invited_by, \
     created_at, expires_at, accepted_at, revoked_at, user_id";

fn corrupt(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is unreadable"))
}

#[derive(FromRow)]
pub(crate) struct MailRow {
    id: Uuid,
    app_id: Uuid,
    kind: String,
    sender: String,
    to_address: String,
    subject: String,
    body: Option<Vec<u8>>,
    channel: String,
    status: String,
    attempts: i32,
    next_attempt_at: Ts,
    last_error: Option<String>,
    created_at: Ts,
    sent_at: Option<Ts>,
}

impl MailRow {
    pub(crate) fn into_model(self) -> StoreResult<Mail> {
        Ok(Mail {
            id: self.id,
            app_id: self.app_id,
            kind: self.kind,
            sender: self.sender,
            to: self.to_address,
            subject: self.subject,
            body: self.body,
            channel: crate::model::OtpChannel::parse(&self.channel).ok_or_else(|| corrupt("mail channel"))?,
            status: MailStatus::parse(&self.status).ok_or_else(|| corrupt("mail status"))?,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.0,
            last_error: self.last_error,
            created_at: self.created_at.0,
            sent_at: self.sent_at.map(|t| t.0),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct TokenRow {
    digest: String,
    app_id: Uuid,
    purpose: String,
    user_id: Uuid,
    contact_id: Option<Uuid>,
    redirect_to: Option<String>,
    created_at: Ts,
    expires_at: Ts,
}

impl TokenRow {
    pub(crate) fn into_model(self) -> StoreResult<OneTimeToken> {
        Ok(OneTimeToken {
            digest: self.digest,
            app_id: self.app_id,
            purpose: TokenPurpose::parse(&self.purpose).ok_or_else(|| corrupt("token purpose"))?,
            user_id: self.user_id,
            contact_id: self.contact_id,
            redirect_to: self.redirect_to,
            created_at: self.created_at.0,
            expires_at: self.expires_at.0,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct InviteRow {
    id: Uuid,
    app_id: Uuid,
    email: String,
    name: Option<String>,
    role_id: Uuid,
    code_digest: String,
    invited_by_kind: String,
    invited_by: Option<Uuid>,
    created_at: Ts,
    expires_at: Ts,
    accepted_at: Option<Ts>,
    revoked_at: Option<Ts>,
    user_id: Option<Uuid>,
}

impl InviteRow {
    pub(crate) fn into_model(self) -> StoreResult<Invite> {
        Ok(Invite {
            id: self.id,
            app_id: self.app_id,
            email: self.email,
            name: self.name,
            role_id: self.role_id,
            code_digest: self.code_digest,
            invited_by_kind: self.invited_by_kind,
            invited_by: self.invited_by,
            created_at: self.created_at.0,
            expires_at: self.expires_at.0,
            accepted_at: self.accepted_at.map(|t| t.0),
            revoked_at: self.revoked_at.map(|t| t.0),
            user_id: self.user_id,
        })
    }
}

/// `mod mail` of queries for database `$db`.
macro_rules! mail {
    ($db:ty) => {
        pub(crate) mod mail {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use $crate::model::{Invite, Mail, MailStatus, OneTimeToken, TokenPurpose};
            use $crate::store::sql::mail::{
                InviteRow, MailRow, TokenRow, INVITE_COLUMNS, MAIL_COLUMNS, TOKEN_COLUMNS,
            };
            use $crate::store::sql::rows::many;
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn insert_mail(tx: &mut Tx, m: &Mail) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO mail_outbox (id, app_id, kind, sender, to_address, subject, body, channel, status, \
                     attempts, next_attempt_at, last_error, created_at, sent_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(m.id).bind(m.app_id).bind(&m.kind).bind(&m.sender).bind(&m.to).bind(&m.subject).bind(&m.body)
                .bind(m.channel.as_str()).bind(m.status.as_str()).bind(m.attempts).bind(Ts(m.next_attempt_at)).bind(&m.last_error)
                .bind(Ts(m.created_at)).bind(m.sent_at.map(Ts))
                .execute(&mut **tx).await?;
                Ok(())
            }

            /// Claims up to `limit` queued messages due at `now` until `until`: a message
            /// claimed by one worker is skipped by the others until its claim lapses.
            pub(crate) async fn claim_mail(tx: &mut Tx, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Mail>> {
                let sql = format!(
                    "UPDATE mail_outbox SET locked_until = $2 \
                     WHERE id IN (SELECT id FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= $1 \
                                  AND (locked_until IS NULL OR locked_until <= $1) ORDER BY next_attempt_at LIMIT $3) \
                       AND status = 'queued' AND (locked_until IS NULL OR locked_until <= $1) \
                     RETURNING {MAIL_COLUMNS}"
                );
                let rows = sqlx::query_as::<_, MailRow>(&sql)
                    .bind(Ts(now)).bind(Ts(until)).bind(i64::from(limit)).fetch_all(&mut **tx).await?;
                many(rows, MailRow::into_model)
            }

            /// Done with a message: `Sent` erases its body, `Outbox` keeps it, `Failed` keeps
            /// the reason.
            pub(crate) async fn finish_mail(
                tx: &mut Tx,
                id: Uuid,
                status: MailStatus,
                at: DateTime<Utc>,
                error: Option<&str>,
            ) -> StoreResult<()> {
                let sql = if status == MailStatus::Sent {
                    "UPDATE mail_outbox SET status = $2, sent_at = $3, last_error = $4, body = NULL, \
                     locked_until = NULL, attempts = attempts + 1 WHERE id = $1"
                } else {
                    "UPDATE mail_outbox SET status = $2, sent_at = $3, last_error = $4, \
                     locked_until = NULL, attempts = attempts + 1 WHERE id = $1"
                };
                let sent_at = (status != MailStatus::Failed).then_some(Ts(at));
                sqlx::query(sql).bind(id).bind(status.as_str()).bind(sent_at).bind(error).execute(&mut **tx).await?;
                Ok(())
            }

            /// A failed attempt to try again at `next`.
            pub(crate) async fn retry_mail(tx: &mut Tx, id: Uuid, next: DateTime<Utc>, error: &str) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, \
                     locked_until = NULL WHERE id = $1 AND status = 'queued'",
                )
                .bind(id).bind(Ts(next)).bind(error).execute(&mut **tx).await?;
                Ok(())
            }

            /// When the next queued message falls due (claimed ones included: their claim may lapse).
            pub(crate) async fn next_mail_due(db: &Pool) -> StoreResult<Option<DateTime<Utc>>> {
                let due = sqlx::query_scalar::<_, Option<Ts>>(
                    "SELECT MIN(next_attempt_at) FROM mail_outbox WHERE status = 'queued'",
                )
                .fetch_one(db).await?;
                Ok(due.map(|t| t.0))
            }

            /// How many messages wait to be sent (due or backing off), all apps together.
            pub(crate) async fn queued_mail(db: &Pool) -> StoreResult<i64> {
                Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued'")
                    .fetch_one(db).await?)
            }

            /// The app's messages, newest first, before `before` (created at, id).
            pub(crate) async fn mail_page(
                db: &Pool,
                app_id: Uuid,
                before: Option<(DateTime<Utc>, Uuid)>,
                limit: u32,
            ) -> StoreResult<Vec<Mail>> {
                let rows = match before {
                    Some((at, id)) => {
                        let sql = format!(
                            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE app_id = $1 \
                             AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
                             ORDER BY created_at DESC, id DESC LIMIT $4"
                        );
                        sqlx::query_as::<_, MailRow>(&sql).bind(app_id).bind(Ts(at)).bind(id).bind(i64::from(limit))
                            .fetch_all(db).await?
                    }
                    None => {
                        let sql = format!(
                            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE app_id = $1 \
                             ORDER BY created_at DESC, id DESC LIMIT $2"
                        );
                        sqlx::query_as::<_, MailRow>(&sql).bind(app_id).bind(i64::from(limit)).fetch_all(db).await?
                    }
                };
                many(rows, MailRow::into_model)
            }

            pub(crate) async fn mail_by_id(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<Mail>> {
                let sql = format!("SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, MailRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(MailRow::into_model).transpose()
            }

            /// Saves the token, dropping the user's earlier ones of its purpose (a newer link
            /// supersedes the older).
            pub(crate) async fn insert_token(tx: &mut Tx, t: &OneTimeToken) -> StoreResult<()> {
                sqlx::query("DELETE FROM one_time_tokens WHERE app_id = $1 AND user_id = $2 AND purpose = $3")
                    .bind(t.app_id).bind(t.user_id).bind(t.purpose.as_str()).execute(&mut **tx).await?;
                let sql = format!("INSERT INTO one_time_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
                sqlx::query(&sql)
                    .bind(&t.digest).bind(t.app_id).bind(t.purpose.as_str()).bind(t.user_id).bind(t.contact_id)
                    .bind(&t.redirect_to).bind(Ts(t.created_at)).bind(Ts(t.expires_at))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            /// Consumes the app's live token of this purpose and digest: of two concurrent
            /// redemptions, one gets it.
            pub(crate) async fn consume_token(
                tx: &mut Tx,
                app_id: Uuid,
                purpose: TokenPurpose,
                digest: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<OneTimeToken>> {
                let sql = format!(
                    "DELETE FROM one_time_tokens WHERE digest = $1 AND app_id = $2 AND purpose = $3 AND expires_at > $4 \
                     RETURNING {TOKEN_COLUMNS}"
                );
                let row = sqlx::query_as::<_, TokenRow>(&sql)
                    .bind(digest).bind(app_id).bind(purpose.as_str()).bind(Ts(now))
                    .fetch_optional(&mut **tx).await?;
                row.map(TokenRow::into_model).transpose()
            }

            pub(crate) async fn token(db: &Pool, app_id: Uuid, digest: &str) -> StoreResult<Option<OneTimeToken>> {
                let sql = format!("SELECT {TOKEN_COLUMNS} FROM one_time_tokens WHERE digest = $1 AND app_id = $2");
                let row = sqlx::query_as::<_, TokenRow>(&sql).bind(digest).bind(app_id).fetch_optional(db).await?;
                row.map(TokenRow::into_model).transpose()
            }

            /// Saves the invite, revoking the app's earlier pending invites of the same email.
            pub(crate) async fn insert_invite(tx: &mut Tx, i: &Invite, email_normalized: &str) -> StoreResult<u64> {
                let superseded = sqlx::query(
                    "UPDATE invites SET revoked_at = $3 \
                     WHERE app_id = $1 AND email_normalized = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(i.app_id).bind(email_normalized).bind(Ts(i.created_at)).execute(&mut **tx).await?;
                sqlx::query(
                    "INSERT INTO invites (id, app_id, email, email_normalized, name, role_id, code_digest, invited_by_kind, \
                     invited_by, created_at, expires_at, accepted_at, revoked_at, user_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(i.id).bind(i.app_id).bind(&i.email).bind(email_normalized).bind(&i.name).bind(i.role_id)
                .bind(&i.code_digest).bind(&i.invited_by_kind).bind(i.invited_by).bind(Ts(i.created_at))
                .bind(Ts(i.expires_at)).bind(i.accepted_at.map(Ts)).bind(i.revoked_at.map(Ts)).bind(i.user_id)
                .execute(&mut **tx).await?;
                Ok(superseded.rows_affected())
            }

            pub(crate) async fn invites(db: &Pool, app_id: Uuid, limit: u32) -> StoreResult<Vec<Invite>> {
                let sql = format!(
                    "SELECT {INVITE_COLUMNS} FROM invites WHERE app_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
                );
                let rows = sqlx::query_as::<_, InviteRow>(&sql).bind(app_id).bind(i64::from(limit)).fetch_all(db).await?;
                many(rows, InviteRow::into_model)
            }

            pub(crate) async fn invite_by_id(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<Invite>> {
                let sql = format!("SELECT {INVITE_COLUMNS} FROM invites WHERE app_id = $1 AND id = $2");
                let row = sqlx::query_as::<_, InviteRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(InviteRow::into_model).transpose()
            }

            pub(crate) async fn invite_by_code(db: &Pool, app_id: Uuid, digest: &str) -> StoreResult<Option<Invite>> {
                let sql = format!("SELECT {INVITE_COLUMNS} FROM invites WHERE app_id = $1 AND code_digest = $2");
                let row = sqlx::query_as::<_, InviteRow>(&sql).bind(app_id).bind(digest).fetch_optional(db).await?;
                row.map(InviteRow::into_model).transpose()
            }

            pub(crate) async fn revoke_invite(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE invites SET revoked_at = $3 \
                     WHERE app_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Marks a pending, unexpired invite accepted by `user_id`; false when it is not
            /// (any more): of two concurrent acceptances, one wins.
            pub(crate) async fn accept_invite(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                user_id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE invites SET accepted_at = $4, user_id = $3 \
                     WHERE app_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4",
                )
                .bind(app_id).bind(id).bind(user_id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// The app's email contacts of this (normalized) address, verified ones first.
            pub(crate) async fn email_contacts(db: &Pool, app_id: Uuid, normalized: &str) -> StoreResult<Vec<$crate::model::Contact>> {
                let rows = sqlx::query_as::<_, $crate::store::sql::rows::ContactRow>(
                    "SELECT id, app_id, user_id, kind, value, is_primary, verified_at, created_at FROM contacts \
                     WHERE app_id = $1 AND kind = 'email' AND value_normalized = $2 \
                     ORDER BY verified_at IS NULL, created_at LIMIT 20",
                )
                .bind(app_id).bind(normalized).fetch_all(db).await?;
                many(rows, $crate::store::sql::rows::ContactRow::into_model)
            }

            pub(crate) async fn delete_contact(tx: &mut Tx, app_id: Uuid, user_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM contacts WHERE app_id = $1 AND user_id = $2 AND id = $3")
                    .bind(app_id).bind(user_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Makes the user's email contact `id` the primary one (and no other); false when it
            /// is not one of the user's emails.
            pub(crate) async fn set_primary_email(tx: &mut Tx, app_id: Uuid, user_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE contacts SET is_primary = (id = $3) WHERE app_id = $1 AND user_id = $2 AND kind = 'email'",
                )
                .bind(app_id).bind(user_id).bind(id).execute(&mut **tx).await?;
                let set = sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM contacts WHERE app_id = $1 AND user_id = $2 AND id = $3 AND kind = 'email' AND is_primary = TRUE",
                )
                .bind(app_id).bind(user_id).bind(id).fetch_one(&mut **tx).await?;
                Ok(done.rows_affected() > 0 && set == 1)
            }

            pub(crate) async fn set_password_hash(
                tx: &mut Tx,
                app_id: Uuid,
                user_id: Uuid,
                hash: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE users SET password_hash = $3, updated_at = $4 WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(user_id).bind(hash).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            /// Marks the contact verified; `StoreError::Unique` when another user of the app
            /// verified the same value first.
            pub(crate) async fn verify_contact(tx: &mut Tx, app_id: Uuid, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE contacts SET verified_at = $3 WHERE app_id = $1 AND id = $2 AND verified_at IS NULL",
                )
                .bind(app_id).bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use mail;
