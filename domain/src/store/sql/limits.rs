//! The SQL of rate-limit and lockout counters, and of one-time codes.

use sqlx::FromRow;
use uuid::Uuid;

use crate::model::{OtpChannel, OtpPurpose, OtpRequest};
use crate::store::{StoreError, StoreResult, Ts};

pub(crate) const OTP_COLUMNS: &str =
    "id, app_id, purpose, contact_id, channel, destination, code_digest, attempts, sends, created_at, expires_at, \
     consumed_at";

#[derive(FromRow)]
pub(crate) struct OtpRow {
    id: Uuid,
    app_id: Uuid,
    purpose: String,
    contact_id: Option<Uuid>,
    channel: String,
    destination: String,
    code_digest: String,
    attempts: i32,
    sends: i32,
    created_at: Ts,
    expires_at: Ts,
    consumed_at: Option<Ts>,
}

impl OtpRow {
    pub(crate) fn into_model(self) -> StoreResult<OtpRequest> {
        Ok(OtpRequest {
            id: self.id,
            app_id: self.app_id,
            purpose: OtpPurpose::parse(&self.purpose)
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("stored OTP purpose is unreadable")))?,
            contact_id: self.contact_id,
            channel: OtpChannel::parse(&self.channel)
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("stored OTP channel is unreadable")))?,
            destination: self.destination,
            code_digest: self.code_digest,
            attempts: self.attempts,
            sends: self.sends,
            created_at: self.created_at.0,
            expires_at: self.expires_at.0,
            consumed_at: self.consumed_at.map(|t| t.0),
        })
    }
}

/// `mod limits` of queries for database `$db`.
macro_rules! limits {
    ($db:ty) => {
        pub(crate) mod limits {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use $crate::model::{OtpPurpose, OtpRequest};
            use $crate::store::sql::limits::{OtpRow, OTP_COLUMNS};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            /// One more hit in `bucket`'s fixed window starting at `window_start` (unix ms,
            /// windows `window` ms long): answers the hits of this window and of the one
            /// before it. One statement, so concurrent hits on any node are all counted.
            pub(crate) async fn hit(
                db: &Pool,
                bucket: &str,
                window_start: i64,
                window: i64,
            ) -> StoreResult<(i64, i64)> {
                let row: (i64, i64) = sqlx::query_as(
                    "INSERT INTO rate_counters (bucket, window_start, hits, previous_hits, expires_at) \
                     VALUES ($1, $2, 1, 0, $3) \
                     ON CONFLICT (bucket) DO UPDATE SET \
                       previous_hits = CASE \
                         WHEN rate_counters.window_start = excluded.window_start THEN rate_counters.previous_hits \
                         WHEN rate_counters.window_start = excluded.window_start - $4 THEN rate_counters.hits \
                         ELSE 0 END, \
                       hits = CASE WHEN rate_counters.window_start = excluded.window_start \
                         THEN rate_counters.hits + 1 ELSE 1 END, \
                       window_start = excluded.window_start, \
                       expires_at = excluded.expires_at \
                     RETURNING hits, previous_hits",
                )
                .bind(bucket)
                .bind(window_start)
                .bind(window_start + 2 * window)
                .bind(window)
                .fetch_one(db)
                .await?;
                Ok(row)
            }

            pub(crate) async fn peek(db: &Pool, bucket: &str) -> StoreResult<Option<(i64, i64, i64)>> {
                Ok(sqlx::query_as("SELECT window_start, hits, previous_hits FROM rate_counters WHERE bucket = $1")
                    .bind(bucket)
                    .fetch_optional(db)
                    .await?)
            }

            /// One more consecutive failure in `bucket` at `now` (unix ms): the count starts
            /// again when the last failure is older than `cooling` ms. Answers the count.
            pub(crate) async fn fail(db: &Pool, bucket: &str, now: i64, cooling: i64) -> StoreResult<i64> {
                let (hits,): (i64,) = sqlx::query_as(
                    "INSERT INTO rate_counters (bucket, window_start, hits, previous_hits, expires_at) \
                     VALUES ($1, $2, 1, 0, $3) \
                     ON CONFLICT (bucket) DO UPDATE SET \
                       hits = CASE WHEN rate_counters.expires_at > excluded.window_start \
                         THEN rate_counters.hits + 1 ELSE 1 END, \
                       window_start = excluded.window_start, \
                       expires_at = excluded.expires_at \
                     RETURNING hits",
                )
                .bind(bucket)
                .bind(now)
                .bind(now + cooling)
                .fetch_one(db)
                .await?;
                Ok(hits)
            }

            /// The consecutive failures in `bucket` still within their cooling period at
            /// `now`, and when that period ends (unix ms).
            pub(crate) async fn failures(db: &Pool, bucket: &str, now: i64) -> StoreResult<Option<(i64, i64)>> {
                Ok(sqlx::query_as("SELECT hits, expires_at FROM rate_counters WHERE bucket = $1 AND expires_at > $2")
                    .bind(bucket)
                    .bind(now)
                    .fetch_optional(db)
                    .await?)
            }

            pub(crate) async fn clear(db: &Pool, bucket: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM rate_counters WHERE bucket = $1").bind(bucket).execute(db).await?;
                Ok(())
            }

            /// Removes counters and codes that no longer matter; answers how many.
            pub(crate) async fn sweep(db: &Pool, now: DateTime<Utc>) -> StoreResult<u64> {
                let counters = sqlx::query("DELETE FROM rate_counters WHERE expires_at <= $1")
                    .bind(now.timestamp_millis())
                    .execute(db)
                    .await?
                    .rows_affected();
                let codes = sqlx::query("DELETE FROM otp_requests WHERE expires_at <= $1")
                    .bind(Ts(now - chrono::TimeDelta::hours(1)))
                    .execute(db)
                    .await?
                    .rows_affected();
                Ok(counters + codes)
            }

            /// The live request of `purpose` for `destination` (and `contact`) of the app, if
            /// any: not consumed, not expired, not out of tries.
            pub(crate) async fn live_otp(
                tx: &mut Tx,
                app_id: Uuid,
                purpose: OtpPurpose,
                contact: Option<Uuid>,
                destination: &str,
                now: DateTime<Utc>,
                max_attempts: i32,
            ) -> StoreResult<Option<OtpRequest>> {
                let contact_rule = if contact.is_some() { "contact_id = $6" } else { "contact_id IS NULL" };
                let sql = format!(
                    "SELECT {OTP_COLUMNS} FROM otp_requests WHERE app_id = $1 AND destination = $2 \
                     AND consumed_at IS NULL AND expires_at > $3 AND attempts < $4 AND purpose = $5 \
                     AND {contact_rule} ORDER BY created_at DESC LIMIT 1"
                );
                let mut query = sqlx::query_as::<_, OtpRow>(&sql)
                    .bind(app_id)
                    .bind(destination)
                    .bind(Ts(now))
                    .bind(max_attempts)
                    .bind(purpose.as_str());
                if let Some(contact) = contact {
                    query = query.bind(contact);
                }
                let row = query.fetch_optional(&mut **tx).await?;
                row.map(OtpRow::into_model).transpose()
            }

            pub(crate) async fn insert_otp(tx: &mut Tx, r: &OtpRequest) -> StoreResult<()> {
                let sql = format!(
                    "INSERT INTO otp_requests ({OTP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                );
                sqlx::query(&sql)
                    .bind(r.id)
                    .bind(r.app_id)
                    .bind(r.purpose.as_str())
                    .bind(r.contact_id)
                    .bind(r.channel.as_str())
                    .bind(&r.destination)
                    .bind(&r.code_digest)
                    .bind(r.attempts)
                    .bind(r.sends)
                    .bind(Ts(r.created_at))
                    .bind(Ts(r.expires_at))
                    .bind(r.consumed_at.map(Ts))
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// A resend: a new code for a live request, its tries kept. False when the
            /// request is no longer live.
            pub(crate) async fn resend_otp(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                code_digest: &str,
                expires_at: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE otp_requests SET code_digest = $1, expires_at = $2, sends = sends + 1 \
                     WHERE app_id = $3 AND id = $4 AND consumed_at IS NULL AND expires_at > $5",
                )
                .bind(code_digest)
                .bind(Ts(expires_at))
                .bind(app_id)
                .bind(id)
                .bind(Ts(now))
                .execute(&mut **tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            /// Spends one try of a live request of `purpose`, atomically: answers the request
            /// as it is after the try, or `None` when it is unknown, of another purpose, used,
            /// expired or out of tries (then no try is spent).
            pub(crate) async fn try_otp(
                db: &Pool,
                app_id: Uuid,
                id: Uuid,
                purpose: OtpPurpose,
                now: DateTime<Utc>,
                max_attempts: i32,
            ) -> StoreResult<Option<OtpRequest>> {
                let sql = format!(
                    "UPDATE otp_requests SET attempts = attempts + 1 \
                     WHERE app_id = $1 AND id = $2 AND consumed_at IS NULL AND expires_at > $3 AND attempts < $4 \
                     AND purpose = $5 RETURNING {OTP_COLUMNS}"
                );
                let row = sqlx::query_as::<_, OtpRow>(&sql)
                    .bind(app_id)
                    .bind(id)
                    .bind(Ts(now))
                    .bind(max_attempts)
                    .bind(purpose.as_str())
                    .fetch_optional(db)
                    .await?;
                row.map(OtpRow::into_model).transpose()
            }

            /// Marks a request used, if it still is not: of two, one wins.
            pub(crate) async fn consume_otp(
                tx: &mut Tx,
                app_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE otp_requests SET consumed_at = $1 WHERE app_id = $2 AND id = $3 AND consumed_at IS NULL",
                )
                .bind(Ts(at))
                .bind(app_id)
                .bind(id)
                .execute(&mut **tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use limits;
