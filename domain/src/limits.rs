//! Rate limits and lockouts: counters every node shares, in the store or in Redis.
//!
//! A rate limit counts hits in a bucket (an app, a rule, and what it counts: an IP, an
//! account, a destination) over a sliding window, estimated from two fixed windows the way
//! Cloudflare's limiter does: `previous × (share of the window still ahead) + current`.
//! Every hit is one atomic statement (an upsert on the store, a script on Redis), so
//! concurrent hits on several nodes are all counted and a limit cannot be overrun by racing
//! it. A lockout counts consecutive failures, starting again after a cooling period without
//! one; a success clears it.
//!
//! A counter that cannot be reached fails the request (`503`), never opens the limit.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::store::Store;
use crate::{Error, Result};

/// A limit: at most `limit` hits per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: i64,
    pub window_seconds: i64,
}

/// Where the counters live.
#[derive(Clone)]
enum Counters {
    Store(Arc<dyn Store>),
    Redis(redis::aio::ConnectionManager),
}

#[derive(Clone)]
pub struct Limiter {
    counters: Counters,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Limiter({})", self.backend())
    }
}

/// Hits in this window and the previous one → whether one more is over `limit` and, if so,
/// in how many seconds it would not be.
fn over(limit: i64, window_ms: i64, elapsed_ms: i64, current: i64, previous: i64) -> Option<u64> {
    let ahead = (window_ms - elapsed_ms).clamp(0, window_ms);
    // The estimate, in thousandths of a hit to stay in integers.
    let estimate = previous * 1000 * ahead / window_ms.max(1) + current * 1000;
    if estimate <= limit * 1000 {
        return None;
    }
    let wait_ms = if current > limit || previous == 0 {
        // This window alone is over: wait for it to end.
        window_ms - elapsed_ms
    } else {
        // Wait until the previous window's share has decayed enough:
        // previous × (window − t) / window + current ≤ limit.
        let t = window_ms - (limit - current) * window_ms / previous;
        t - elapsed_ms
    };
    Some(u64::try_from((wait_ms.max(1000) + 999) / 1000).unwrap_or(1))
}

fn unreachable(e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "rate-limit counters unreachable");
    Error::Unavailable { message: "Rate limits cannot be checked right now, please try again", retry_after_seconds: 1 }
}

const HIT_SCRIPT: &str = r"
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
return {current, previous}
";

const FAIL_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
";

impl Limiter {
    pub fn on_store(store: Arc<dyn Store>) -> Limiter {
        Limiter { counters: Counters::Store(store) }
    }

    /// Counters in the Redis at `url` (`redis://…`); connects now, so a wrong URL stops the
    /// start.
    pub async fn on_redis(url: &str) -> Result<Limiter> {
        let client = redis::Client::open(url).map_err(|e| Error::invalid(format!("RAMPART_REDIS_URL: {e}")))?;
        let manager = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|e| Error::invalid(format!("RAMPART_REDIS_URL: cannot connect: {e}")))?;
        Ok(Limiter { counters: Counters::Redis(manager) })
    }

    pub fn backend(&self) -> &'static str {
        match self.counters {
            Counters::Store(_) => "store",
            Counters::Redis(_) => "redis",
        }
    }

    /// Counts one hit in `bucket`; `RateLimited` (with when to retry) when it is over
    /// `window`'s limit. Hits over the limit count too: hammering keeps the limit shut.
    pub async fn hit(&self, bucket: &str, window: Window, now: DateTime<Utc>) -> Result<()> {
        let window_ms = window.window_seconds.max(1) * 1000;
        let now_ms = now.timestamp_millis();
        let start = now_ms - now_ms.rem_euclid(window_ms);
        let (current, previous) = match &self.counters {
            Counters::Store(store) => store.hit_counter(bucket, start, window_ms).await.map_err(unreachable)?,
            Counters::Redis(redis) => {
                let mut redis = redis.clone();
                let (current, previous): (i64, i64) = redis::Script::new(HIT_SCRIPT)
                    .key(format!("rampart:rl:{bucket}:{start}"))
                    .key(format!("rampart:rl:{bucket}:{}", start - window_ms))
                    .arg(2 * window_ms)
                    .invoke_async(&mut redis)
                    .await
                    .map_err(unreachable)?;
                (current, previous)
            }
        };
        match over(window.limit, window_ms, now_ms - start, current, previous) {
            Some(retry_after_seconds) => Err(Error::RateLimited { retry_after_seconds }),
            None => Ok(()),
        }
    }

    /// `RateLimited` when one more hit in `bucket` would be over `window`'s limit, without
    /// counting one.
    pub async fn check(&self, bucket: &str, window: Window, now: DateTime<Utc>) -> Result<()> {
        let window_ms = window.window_seconds.max(1) * 1000;
        let now_ms = now.timestamp_millis();
        let start = now_ms - now_ms.rem_euclid(window_ms);
        let (current, previous) = match &self.counters {
            Counters::Store(store) => match store.peek_counter(bucket).await.map_err(unreachable)? {
                Some((at, hits, previous)) if at == start => (hits, previous),
                Some((at, hits, _)) if at == start - window_ms => (0, hits),
                _ => (0, 0),
            },
            Counters::Redis(redis) => {
                let mut redis = redis.clone();
                let (current, previous): (Option<i64>, Option<i64>) = redis::pipe()
                    .get(format!("rampart:rl:{bucket}:{start}"))
                    .get(format!("rampart:rl:{bucket}:{}", start - window_ms))
                    .query_async(&mut redis)
                    .await
                    .map_err(unreachable)?;
                (current.unwrap_or(0), previous.unwrap_or(0))
            }
        };
        match over(window.limit, window_ms, now_ms - start, current + 1, previous) {
            Some(retry_after_seconds) => Err(Error::RateLimited { retry_after_seconds }),
            None => Ok(()),
        }
    }

    /// One more consecutive failure in `bucket`; answers how many there are now.
    pub async fn fail(&self, bucket: &str, cooling_seconds: i64, now: DateTime<Utc>) -> Result<i64> {
        let cooling = cooling_seconds.max(1) * 1000;
        match &self.counters {
            Counters::Store(store) => {
                store.fail_counter(bucket, now.timestamp_millis(), cooling).await.map_err(unreachable)
            }
            Counters::Redis(redis) => {
                let mut redis = redis.clone();
                redis::Script::new(FAIL_SCRIPT)
                    .key(format!("rampart:lock:{bucket}"))
                    .arg(cooling)
                    .invoke_async(&mut redis)
                    .await
                    .map_err(unreachable)
            }
        }
    }

    /// The consecutive failures in `bucket` still cooling, and the seconds until they stop.
    pub async fn failures(&self, bucket: &str, now: DateTime<Utc>) -> Result<(i64, u64)> {
        let now_ms = now.timestamp_millis();
        let (count, ends_ms) = match &self.counters {
            Counters::Store(store) => {
                store.failure_count(bucket, now_ms).await.map_err(unreachable)?.unwrap_or((0, now_ms))
            }
            Counters::Redis(redis) => {
                let mut redis = redis.clone();
                let key = format!("rampart:lock:{bucket}");
                let (count, ttl): (Option<i64>, i64) =
                    redis::pipe().get(&key).pttl(&key).query_async(&mut redis).await.map_err(unreachable)?;
                (count.unwrap_or(0), now_ms + ttl.max(0))
            }
        };
        Ok((count, u64::try_from((ends_ms - now_ms).max(0) / 1000).unwrap_or(0)))
    }

    /// Forgets `bucket`'s failures.
    pub async fn clear(&self, bucket: &str) -> Result<()> {
        match &self.counters {
            Counters::Store(store) => store.clear_counter(bucket).await.map_err(unreachable),
            Counters::Redis(redis) => {
                let mut redis = redis.clone();
                redis::cmd("DEL")
                    .arg(format!("rampart:lock:{bucket}"))
                    .query_async::<()>(&mut redis)
                    .await
                    .map_err(unreachable)
            }
        }
    }
}

/// What a bucket counts, as it goes into its name: IPs as themselves (IPv6 by its /64, which
/// one subscriber usually holds whole), anything a client typed as a digest (counters never
/// keep an email or a phone number).
pub fn ip_key(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Some(ip) => format!("ip:{ip}"),
        // Without a peer address (not through the HTTP server): one shared bucket.
        None => "ip:unknown".to_owned(),
    }
}

/// A typed value's bucket name: the digest of its canonical spelling.
pub fn value_key(kind: &str, canonical: &str) -> String {
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{kind}:{hex}")
}

/// An identifier as a person may type it: trimmed, NFKC, lower case.
pub fn canonical_identifier(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    raw.trim().nfkc().collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sliding_estimate_weighs_the_previous_window() {
        // 10 per minute; at the start of a window the previous one counts whole.
        assert_eq!(over(10, 60_000, 0, 1, 9), None);
        assert!(over(10, 60_000, 0, 2, 9).is_some());
        // Half-way through, half of it.
        assert_eq!(over(10, 60_000, 30_000, 5, 10), None);
        assert!(over(10, 60_000, 30_000, 6, 10).is_some());
        // The window alone over the limit: wait for its end.
        assert_eq!(over(10, 60_000, 15_000, 11, 0), Some(45));
        // Over because of the previous window: wait until its share has decayed.
        // 9 now, 10 before, at 6 s: (60 − t)/60 × 10 + 9 ≤ 10 once t ≥ 54 s, 48 s from now.
        assert_eq!(over(10, 60_000, 6_000, 9, 10), Some(48));
    }

    #[test]
    fn identifiers_are_counted_as_typed_by_anyone() {
        let a = canonical_identifier("  Ada@Example.COM ");
        assert_eq!(a, "ada@example.com");
        // Fullwidth letters fold to ASCII under NFKC.
        assert_eq!(canonical_identifier("ａｄａ"), "ada");
        assert_eq!(value_key("id", &a), value_key("id", &canonical_identifier("ADA@example.com")));
        assert!(!value_key("id", &a).contains("ada"));
    }

    #[test]
    fn ips_name_their_buckets() {
        assert_eq!(ip_key(Some("203.0.113.9")), "ip:203.0.113.9");
        assert_eq!(ip_key(Some("2001:db8:1:2:3:4:5:6")), ip_key(Some("2001:db8:1:2:ffff::1")));
        assert_eq!(ip_key(Some("::ffff:203.0.113.9")), "ip:203.0.113.9");
        assert_eq!(ip_key(Some("garbage")), "ip:unknown");
        assert_eq!(ip_key(None), "ip:unknown");
    }
}
