//! The console's view of an app's audit log: a page of events through the filters, and the
//! chain recomputed.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shared::audit::{AuditPageView, Verification};

use super::ConsoleError;

/// What the activity page asks for, named as in its URL and the REST API's query (`type`,
/// `outcome`, …), so a filtered view is a link. Blank is unset; the engine checks the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityQuery {
    /// An event type (`end_user.signed_in`) or a prefix (`end_user.*`).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub ip: String,
    /// RFC 3339, or a `datetime-local` input's value read as UTC.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub cursor: String,
    #[serde(default)]
    pub limit: String,
}

impl ActivityQuery {
    /// The URL parameters, in the order the page's links carry them.
    pub fn params(&self) -> [(&'static str, &str); 9] {
        [
            ("type", &self.kind),
            ("outcome", &self.outcome),
            ("actor", &self.actor),
            ("subject", &self.subject),
            ("ip", &self.ip),
            ("from", &self.from),
            ("to", &self.to),
            ("limit", &self.limit),
            ("cursor", &self.cursor),
        ]
    }

    /// Reads the page's URL parameters; absent ones are blank.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> ActivityQuery {
        let value = |name: &str| get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        ActivityQuery {
            kind: value("type"),
            outcome: value("outcome"),
            actor: value("actor"),
            subject: value("subject"),
            ip: value("ip"),
            from: value("from"),
            to: value("to"),
            cursor: value("cursor"),
            limit: value("limit"),
        }
    }

    /// The same filters from the newest event on: what the first page and a refresh show.
    pub fn newest(&self) -> ActivityQuery {
        ActivityQuery { cursor: String::new(), ..self.clone() }
    }

    /// Whether any filter narrows the log (paging does not).
    pub fn filtered(&self) -> bool {
        self.params().iter().any(|(name, value)| !matches!(*name, "cursor" | "limit") && !value.is_empty())
    }

    /// The query string of the page's address, `?` included; empty without parameters.
    pub fn to_query_string(&self) -> String {
        let mut query = leptos_router::params::ParamsMap::new();
        for (name, value) in self.params() {
            if !value.is_empty() {
                query.insert(name, value.to_owned());
            }
        }
        query.to_query_string()
    }
}

/// A `datetime-local` value (`2026-01-31T12:00`, no zone) read as UTC, in RFC 3339; anything
/// else is left for the engine to accept or refuse by name.
#[cfg(feature = "ssr")]
fn as_rfc3339(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(raw, format).ok());
    Some(match local {
        Some(t) => t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => raw.to_owned(),
    })
}

#[cfg(feature = "ssr")]
fn audit_query(query: ActivityQuery) -> Result<domain::engine::AuditQuery, ConsoleError> {
    let set = |v: String| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let limit = match set(query.limit) {
        Some(l) => Some(l.parse::<u32>().map_err(|_| {
            domain::Error::invalid(format!("limit must be between 1 and {}", domain::engine::AUDIT_PAGE_MAX))
        })?),
        None => None,
    };
    Ok(domain::engine::AuditQuery {
        from: as_rfc3339(&query.from),
        to: as_rfc3339(&query.to),
        kind: set(query.kind),
        actor: set(query.actor),
        subject: set(query.subject),
        outcome: set(query.outcome),
        ip: set(query.ip),
        cursor: set(query.cursor),
        limit,
    })
}

/// A page of the app's log, newest first (permission `audit.read`).
#[server(prefix = "/console/_fn", endpoint = "audit_events")]
pub async fn audit_events(slug: String, query: ActivityQuery) -> Result<AuditPageView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let query = audit_query(query)?;
    Ok(guard::state()?.engine.audit_page(&caller, &slug, &query).await?)
}

/// The app's chain recomputed, after linking the events still pending (permission
/// `audit.read`).
#[server(prefix = "/console/_fn", endpoint = "verify_audit")]
pub async fn verify_audit(slug: String) -> Result<Verification, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.verify_audit(&caller, &slug).await?)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn datetime_local_values_are_read_as_utc() {
        assert_eq!(as_rfc3339("2026-01-31T12:00").as_deref(), Some("2026-01-31T12:00:00Z"));
        assert_eq!(as_rfc3339(" 2026-01-31T12:00:05 ").as_deref(), Some("2026-01-31T12:00:05Z"));
        assert_eq!(as_rfc3339("2026-01-31T12:00:00+02:00").as_deref(), Some("2026-01-31T12:00:00+02:00"));
        assert_eq!(as_rfc3339("yesterday").as_deref(), Some("yesterday"));
        assert_eq!(as_rfc3339("  "), None);
    }

    #[test]
    fn the_url_round_trips_and_paging_is_not_a_filter() {
        let query = ActivityQuery {
            kind: "end_user.*".into(),
            subject: "0199a1c2-0000-7000-8000-000000000001".into(),
            cursor: "e2a".into(),
            ..Default::default()
        };
        let href = query.to_query_string();
        let names: Vec<&str> =
            href.trim_start_matches('?').split('&').filter_map(|p| p.split_once('=')).map(|(k, _)| k).collect();
        assert_eq!(names, ["type", "subject", "cursor"], "{href}");
        let map = leptos_router::params::ParamsMap::from_iter(
            href.trim_start_matches('?').split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), v)),
        );
        assert_eq!(ActivityQuery::from_params(|n| map.get(n)), query);
        assert!(query.filtered());
        assert!(!ActivityQuery { cursor: "e2a".into(), limit: "5".into(), ..Default::default() }.filtered());
        assert_eq!(query.newest().cursor, "");
    }

    /// The call as the browser sends it, read the way server functions read it: filters
    /// left out are blank.
    #[test]
    fn the_call_reads_the_filters_by_their_url_names() {
        let body = "slug=gate&query%5Btype%5D=end_user.%2A&query%5Boutcome%5D=failure";
        let call: AuditEvents = serde_qs::Config::new(5, false).deserialize_str(body).unwrap();
        assert_eq!(call.slug, "gate");
        assert_eq!(
            call.query,
            ActivityQuery { kind: "end_user.*".into(), outcome: "failure".into(), ..Default::default() }
        );
    }

    #[test]
    fn a_bad_limit_is_refused_by_name() {
        let err = audit_query(ActivityQuery { limit: "lots".into(), ..Default::default() }).unwrap_err();
        assert!(err.to_string().starts_with("limit"), "{err}");
        let ok = audit_query(ActivityQuery { from: "2026-01-31T12:00".into(), ip: " ".into(), ..Default::default() });
        let ok = ok.unwrap();
        assert_eq!(ok.from.as_deref(), Some("2026-01-31T12:00:00Z"));
        assert_eq!(ok.ip, None);
    }
}
