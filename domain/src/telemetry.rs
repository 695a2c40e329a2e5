//! What the engine counts for `/metrics`, through the `metrics` facade: the server installs
//! the Prometheus recorder that renders it (without one, as in the store tests, every count
//! is a no-op). Every label takes values from a set fixed in code — event types, cache and
//! limit names, outcomes — never an id, an address or a path.

use std::time::Duration;

use metrics::{counter, histogram};

use crate::audit::{AuditEvent, Outcome};

/// One committed audit event, and the auth counters it stands for: sign-ins and their
/// failures, refreshes, refresh-token reuse detections. Counted after the commit, so a
/// rolled-back change counts nothing.
pub(crate) fn event_committed(event: &AuditEvent) {
    let outcome = match event.outcome {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
    };
    counter!("rampart_audit_events_total", "type" => event.kind.clone(), "outcome" => outcome).increment(1);
    let Some((_, what)) = event.kind.split_once('.') else { return };
    match what {
        "signed_in" => counter!("rampart_signins_total", "outcome" => "success").increment(1),
        "signin_failed" => counter!("rampart_signins_total", "outcome" => "failure").increment(1),
        "token_refreshed" => counter!("rampart_refreshes_total").increment(1),
        "refresh_reuse_detected" => counter!("rampart_refresh_reuse_detected_total").increment(1),
        _ => {}
    }
}

/// A cache lookup of `cache` (`app`, `session`, `profile`, `verified`, `permissions`,
/// `credential`) that found its answer or not.
pub(crate) fn cache_lookup<T>(cache: &'static str, found: Option<T>) -> Option<T> {
    let result = if found.is_some() { "hit" } else { "miss" };
    counter!("rampart_cache_lookups_total", "cache" => cache, "result" => result).increment(1);
    found
}

/// A request refused by rate limit `limit` (its fixed name: `signin_ip`, `otp_destination`, …).
pub(crate) fn rate_limited(limit: &'static str) {
    counter!("rampart_rate_limited_total", "limit" => limit).increment(1);
}

/// How long a place in the argon2 admission waited for its turn.
pub(crate) fn argon2_waited(waited: Duration) {
    histogram!("rampart_argon2_wait_seconds").record(waited.as_secs_f64());
}

/// Password work refused at once because the argon2 queue was full.
pub(crate) fn argon2_refused() {
    counter!("rampart_argon2_refused_total").increment(1);
}

/// A message of the queue (mail or text) `sent`, `retried` later, or `failed` for good.
pub(crate) fn message_delivery(outcome: &'static str) {
    counter!("rampart_messages_total", "outcome" => outcome).increment(1);
}

/// One attempt at a webhook delivery: `delivered`, `queued` again (it failed and is retried)
/// or `failed` for good.
pub(crate) fn webhook_delivery(outcome: &'static str) {
    counter!("rampart_webhook_deliveries_total", "outcome" => outcome).increment(1);
}
