//! `GET /metrics` in Prometheus's text format, and what the HTTP layer counts: requests by
//! method, route template, status class and app, and their latency. The engine counts the
//! rest (sign-ins, refreshes, reuse detections, rate limits, argon2, mail, caches; see
//! `domain::telemetry`); the gauges that are cheaper to read than to keep up (pools, queue
//! depths) are read when scraped.
//!
//! Labels are bounded: a route is its template (`/{slug}/v1/me`), never the raw path; an app
//! is named only when it exists (else `-`), so requests naming made-up apps cannot grow the
//! label set; methods outside the usual ones are `other`.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::engine::Engine;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::{ExposeSecret, SecretString};

use crate::rest::error::error_response;

/// Seconds: from a cached read to a slow argon2 sign-in.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's one Prometheus recorder, installed on first use (every server built in
/// one process, as the tests do, shares it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = match builder.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "latency buckets refused; histograms render as summaries");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed: /metrics shows only what reaches this one");
        }
        handle
    })
}

/// Installs the recorder, so that what the engine counts from the start is kept.
pub fn install() {
    handle();
}

/// What `/metrics` needs: the engine (for the gauges read at scrape) and the optional token.
#[derive(Clone)]
pub struct Scrape {
    pub engine: Arc<Engine>,
    pub token: Option<Arc<SecretString>>,
}

/// `GET /metrics`. With `RAMPART_METRICS_TOKEN` set, only `Authorization: Bearer <token>`.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "ops_metrics",
    tag = "operations",
    responses(
        (status = 200, description = "The metrics in Prometheus' text format", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "`RAMPART_METRICS_TOKEN` is set and the bearer is missing or wrong", body = crate::rest::error::ErrorBody),
    ),
    security(("metrics_token" = []), ())
)]
pub async fn scrape(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &scrape.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let expected = token.expose_secret().as_bytes();
        let equal =
            given.len() == expected.len() && bool::from(subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected));
        if !equal {
            let mut response =
                error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "The metrics token is missing or wrong");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    let store = scrape.engine.store();
    for pool in store.pool_usage() {
        gauge!("rampart_db_pool_connections", "pool" => pool.pool, "state" => "open").set(f64::from(pool.open));
        gauge!("rampart_db_pool_connections", "pool" => pool.pool, "state" => "idle").set(f64::from(pool.idle));
        gauge!("rampart_db_pool_connections", "pool" => pool.pool, "state" => "max").set(f64::from(pool.max));
    }
    gauge!("rampart_argon2_queue_depth").set(domain::password::queue_depth() as f64);
    match store.queued_mail().await {
        Ok(n) => gauge!("rampart_mail_queue_depth").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "reading the mail queue's depth failed"),
    }
    let body = handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The value of the `{slug}` segment of `path` under route template `route`, if it has one.
fn slug_in<'a>(route: &str, path: &'a str) -> Option<&'a str> {
    let position = route.split('/').position(|segment| segment == "{slug}")?;
    path.split('/').nth(position)
}

/// Counts and times every request, labelled by its route template, status and app; and puts
/// the app on the request's log span.
pub async fn track(State(engine): State<Arc<Engine>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let slug = route.as_deref().and_then(|r| slug_in(r, req.uri().path())).map(str::to_owned);
    let response = next.run(req).await;
    // Named only if it is an app: a made-up slug never becomes a label. Answers that say
    // nothing of the app (404, 401, 5xx) do not look it up, so they cost no read.
    let status_code = response.status();
    let worth_asking = !(status_code == StatusCode::NOT_FOUND
        || status_code == StatusCode::UNAUTHORIZED
        || status_code.is_server_error());
    let app = match slug {
        Some(slug) if worth_asking && engine.is_known_app(&slug).await => Some(slug),
        _ => None,
    };
    if let Some(app) = &app {
        tracing::Span::current().record("app", app.as_str());
    }
    let app = app.unwrap_or_else(|| "-".into());
    let route = route.unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    counter!("rampart_http_requests_total", "method" => method, "route" => route.clone(), "status" => status, "app" => app.clone())
        .increment(1);
    histogram!("rampart_http_request_duration_seconds", "method" => method, "route" => route, "app" => app)
        .record(elapsed);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_the_template_position() {
        assert_eq!(slug_in("/{slug}/v1/me", "/acme/v1/me"), Some("acme"));
        assert_eq!(slug_in("/api/v1/apps/{slug}/keys", "/api/v1/apps/acme/keys"), Some("acme"));
        assert_eq!(slug_in("/api/v1/apps", "/api/v1/apps"), None);
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
