//! The console's surface: its pages and server functions, behind their own CSRF layer. The
//! console's cookie names the account's Rampart session (`app::api::session::guard`), so
//! there is no session store of its own.

use app::state::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::rest::error::error_response;

pub fn routes(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(app::App);
    let router = Router::new().leptos_routes(state, routes, {
        let options = leptos::prelude::LeptosOptions::clone(&state.leptos_options);
        move || app::shell(options.clone())
    });
    router
        .layer(axum::middleware::from_fn(same_origin_writes))
        // A form posted without JavaScript comes back to the page it was sent from, which the
        // server function learns from the Referer: the console keeps it within the site (the
        // server's default, outside, is no-referrer). Set here, on every answer of the
        // console's; set by the page as it rendered, it was now and then missing from a page
        // (seen in a browser test under load), whose next form post then came back to `/`.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
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
