//! The `rampart` server: builds the axum application (REST API, console, hosted pages) from a
//! `Config`. `main` and the tests both go through [`build`].

pub mod browser;
pub mod config;
mod console;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod rest;
pub mod telemetry;
pub mod transfer_cli;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use domain::config::EngineConfig;
use domain::engine::Engine;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::rest::error::error_response;

pub struct Application {
    listener: TcpListener,
    router: Router,
    engine: Arc<Engine>,
    public_url: String,
}

/// Connects the store (applying migrations), builds the engine and binds the listener.
pub async fn build(config: Config) -> anyhow::Result<Application> {
    let listener = TcpListener::bind(config.bind).await.with_context(|| format!("cannot listen on {}", config.bind))?;
    let local = listener.local_addr()?;
    let public_url = config.public_url_for(local);

    let store = domain::store::connect(config.database_url()).await.map_err(|e| match e {
        domain::Error::Internal(cause) => cause.context("cannot open the store named by DATABASE_URL"),
        other => anyhow::anyhow!("{other}"),
    })?;
    let master_key = config.master_key()?;
    let engine = Arc::new(
        Engine::new(
            store,
            EngineConfig {
                public_url: public_url.clone(),
                master_key,
                mail: config.mail_settings(true)?,
                counters: config.counters().await?,
                outbound_reachable: domain::net::Reachable { opened: config.outbound_allowed_networks.clone() },
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the engine: {e:?}"))?,
    );
    metrics::install();
    // Apps that ask for scheduled key rotation get it within the hour.
    engine.schedule_key_rotation(std::time::Duration::from_secs(3600));
    let leptos_options = leptos::prelude::LeptosOptions::builder()
        .output_name(config.output_name.clone())
        .site_root(config.site_root.clone())
        .site_pkg_dir(config.site_pkg_dir.clone())
        .site_addr(local)
        .build();
    let state = AppState { engine: engine.clone(), leptos_options: Arc::new(leptos_options) };

    let console = console::routes(&state);
    let trusted = Arc::new(config.trusted_proxies.clone());
    let openapi::Documented { rest, cookie_api, oidc, metrics: scrape, document } = openapi::documented();
    let router = Router::new()
        .merge(rest)
        .merge(
            cookie_api
                .layer(axum::middleware::from_fn_with_state(state.clone(), browser::guard_cookie_api))
                .layer(axum::extract::DefaultBodyLimit::max(rest::MAX_BODY_BYTES))
                .layer(axum::middleware::map_response(rest::error::json_errors)),
        )
        .merge(oidc)
        .merge(pages::routes())
        .merge(console)
        .merge(
            scrape.with_state(metrics::Scrape {
                engine: engine.clone(),
                token: config.metrics_token.clone().map(Arc::new),
            }),
        )
        .merge(openapi::routes(document))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(engine.clone(), metrics::track))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(trusted, rest::extract::client_meta))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        // No page of Rampart's may be framed (clickjacking): the CSP directive for today's
        // browsers, X-Frame-Options for older ones.
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            // The path only: query strings may carry tokens.
            // The request id and the app are filled in as they are known, so every log
            // line of the request carries them.
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.uri().path(),
                request_id = tracing::field::Empty,
                app = tracing::field::Empty,
            )
        }))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "Internal server error")
        }))
        .layer(axum::middleware::from_fn(limit_bodies));
    Ok(Application { listener, router, engine, public_url })
}

/// One body limit for every surface (REST, console server functions, pages), applied
/// outside everything else: a body is read into memory only up to `MAX_BODY_BYTES`, whether
/// it declares its length or arrives chunked, and a larger one is a `413` before any
/// handler sees it.
/// An import's body is the exception: streamed to its handler, which has its own limit.
async fn limit_bodies(req: Request, next: axum::middleware::Next) -> Response {
    if rest::transfer::is_import(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let too_large = || error_response(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "Request body is too large");
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > rest::MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, rest::MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return too_large(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Unknown API paths are JSON 404s; everything else is a static file or a page.
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    if rest::is_api_path(req.uri().path()) {
        return rest::not_found().await;
    }
    let handler = leptos_axum::file_and_error_handler::<AppState, _>(app::shell);
    handler(req.uri().clone(), State(state), req).await.into_response()
}

impl Application {
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine.clone()
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service).with_graceful_shutdown(shutdown_signal()).await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
