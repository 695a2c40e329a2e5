//! CORS of the OIDC endpoints a single-page app calls from its own origin: token,
//! userinfo and revocation. As Keycloak's "web origins": a client's origins are those of
//! its registered redirect URIs, exactly (scheme, host, port; no wildcard). A preflight is
//! answered for an origin some client of the app registered; an answer is readable by a
//! page only when its origin is the calling client's (the `client_id` of the form or the
//! Basic credentials; userinfo's: the token's). Never with credentials: these endpoints
//! take no cookies, so a page cannot spend a browser session here. Discovery and the JWKS
//! are public and readable from anywhere (`*`).

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The request headers a page may send: the form's type and a bearer or Basic credentials.
const ALLOWED_HEADERS: &str = "authorization, content-type";
/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The `Origin` of a request, when a browser sent a real one (not `null`).
fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| !o.is_empty() && *o != "null")
}

/// `OPTIONS /{slug}/oauth2/token` and `…/revoke`.
pub async fn preflight_post(State(s): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Response {
    preflight(&s, &slug, &headers, "POST").await
}

/// `OPTIONS /{slug}/oauth2/userinfo`.
pub async fn preflight_get_post(State(s): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Response {
    preflight(&s, &slug, &headers, "GET, POST").await
}

/// `204`; with the CORS grant when the origin is one of some client of the app (which
/// client is calling is in the request that follows, not in its preflight).
async fn preflight(s: &AppState, slug: &str, headers: &HeaderMap, methods: &'static str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = request_origin(headers) {
        if s.engine.oidc_origin_allowed(slug, None, origin).await.unwrap_or(false) {
            if let Ok(value) = HeaderValue::from_str(origin) {
                let h = response.headers_mut();
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
                h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
                h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
            }
        }
    }
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// Makes `response` readable by the page that asked when its origin is one of
/// `client_id`'s (an unknown client has none).
pub async fn allow_client_origin(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client_id: Option<&str>,
    response: &mut Response,
) {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    let (Some(origin), Some(client_id)) = (request_origin(headers), client_id) else { return };
    if s.engine.oidc_origin_allowed(slug, Some(client_id), origin).await.unwrap_or(false) {
        if let Ok(value) = HeaderValue::from_str(origin) {
            response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
    }
}

/// Public documents (discovery, the JWKS): any page may read them.
pub fn allow_any_origin(response: &mut Response) {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
}
