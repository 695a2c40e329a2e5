//! The Leptos side of the server: console pages and their server functions, with the
//! console's cookie sessions kept in the same database as everything else.

use app::state::AppState;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use domain::store::DbPool;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::rest::error::error_response;

/// The console cookie's name and path. Over https it takes the `__Host-` prefix, which
/// browsers honour only for a `Secure` cookie of path `/` without a domain: no subdomain and
/// no plain-http page can then set or shadow it. Over plain http (a developer's machine) the
/// prefix cannot be had, and the cookie stays within `/console`.
pub fn cookie_name_and_path(secure: bool) -> (&'static str, &'static str) {
    if secure {
        ("__Host-rampart_console", "/")
    } else {
        ("rampart_console", "/console")
    }
}

pub async fn routes(state: &AppState, pool: DbPool, secure: bool) -> anyhow::Result<Router<AppState>> {
    let routes = generate_route_list(app::App);
    let router = Router::new().leptos_routes(state, routes, {
        let options = leptos::prelude::LeptosOptions::clone(&state.leptos_options);
        move || app::shell(options.clone())
    });
    let router = match pool {
        DbPool::Sqlite(pool) => {
            let store = SqliteStore::new(pool).with_table_name("console_sessions").map_err(anyhow::Error::msg)?;
            store.migrate().await?;
            with_sessions(router, store, secure)
        }
        DbPool::Postgres(pool) => {
            // The sessions table lives beside Rampart's own, in the connection's schema.
            let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(&pool).await?;
            let store = PostgresStore::new(pool)
                .with_schema_name(schema)
                .and_then(|s| s.with_table_name("console_sessions"))
                .map_err(anyhow::Error::msg)?;
            store.migrate().await?;
            with_sessions(router, store, secure)
        }
    };
    Ok(router.layer(axum::middleware::from_fn(same_origin_writes)))
}

fn with_sessions<S>(router: Router<AppState>, store: S, secure: bool) -> Router<AppState>
where
    S: SessionStore + ExpiredDeletion + Clone,
{
    tokio::spawn(store.clone().continuously_delete_expired(tokio::time::Duration::from_secs(300)));
    let (name, path) = cookie_name_and_path(secure);
    let layer = SessionManagerLayer::new(store)
        .with_name(name)
        .with_path(path)
        .with_http_only(true)
        .with_secure(secure)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::hours(8)));
    router.layer(layer)
}

/// CSRF defence for the cookie-authenticated console: a state-changing request must come
/// from the console's own origin (on top of the SameSite=Lax cookie).
async fn same_origin_writes(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD && !same_origin(&req) {
        return error_response(StatusCode::FORBIDDEN, "FORBIDDEN", "Cross-site request refused");
    }
    next.run(req).await
}

fn same_origin(req: &Request) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) == Some(host),
        (Some(_), None) => false,
        // Browsers send Origin on cross-site POSTs; a request without one is not a browser's.
        (None, _) => true,
    }
}
