//! What browsers carry: the app's `session` cookie, the refresh-token cookie, the CSRF cookie
//! and its token, and the checks a cookie-authenticated write must pass (seed 004's CSRF):
//! its `Origin` (or, without one, its `Referer`) must be one the app trusts, it must not be
//! `Sec-Fetch-Site: cross-site`, and when the app asks for it (or on a hosted form, always)
//! it must carry the token bound to its CSRF cookie. Every cookie of an app has
//! `Path=/{slug}`, so two apps on one host never see each other's.

use app::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::engine::{BrowserSignIn, Engine};
use domain::model::App;
use domain::Error;

use crate::rest::error::ApiError;

/// Seed 003's cookie name.
pub const SESSION_COOKIE: &str = "session";
/// Seed 004's refresh-token cookie.
pub const REFRESH_COOKIE: &str = "refresh_token";
/// The access token set beside a refreshed refresh-token cookie.
pub const ACCESS_COOKIE: &str = "access_token";
/// The cookie a CSRF token is bound to.
pub const CSRF_COOKIE: &str = "csrf";
/// The header that carries the CSRF token on API calls (hosted forms post it as a field).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the request's cookie `name`, if it sent a non-empty one.
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').find_map(|pair| {
            let (n, value) = pair.trim().split_once('=')?;
            (n == name && !value.is_empty()).then(|| value.trim_matches('"').to_owned())
        })
    })
}

/// Whether the request carries any cookie at all (then it may be authenticated by one).
fn has_cookies(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().any(|v| !v.as_bytes().is_empty())
}

/// A `Set-Cookie` value: `HttpOnly`, `Secure` when Rampart is reached over https; with
/// `None`, an order to forget the cookie.
fn cookie(engine: &Engine, name: &str, path: &str, value: Option<&str>, same_site: &str, max_age: i64) -> HeaderValue {
    let secure = if engine.public_url().starts_with("https://") { "; Secure" } else { "" };
    let (value, max_age) = match value {
        Some(value) => (value, max_age.max(0)),
        None => ("", 0),
    };
    let line = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}");
    // Every part is ours: names and paths are constants and slugs, values url-safe tokens.
    HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

fn app_path(slug: &str) -> String {
    format!("/{slug}")
}

/// Gives the browser the cookie of a fresh sign-in, for as long as its session lasts.
pub fn set_session_cookie(headers: &mut HeaderMap, engine: &Engine, slug: &str, signed_in: &BrowserSignIn) {
    let max_age = (signed_in.expires_at - chrono::Utc::now()).num_seconds();
    headers.append(
        header::SET_COOKIE,
        cookie(engine, SESSION_COOKIE, &app_path(slug), Some(&signed_in.cookie), "Lax", max_age),
    );
}

/// The session cookie again with a later end (a renewed session).
pub fn renew_session_cookie(
    headers: &mut HeaderMap,
    engine: &Engine,
    slug: &str,
    value: &str,
    expires_at: chrono::DateTime<chrono::Utc>,
) {
    let max_age = (expires_at - chrono::Utc::now()).num_seconds();
    headers.append(header::SET_COOKIE, cookie(engine, SESSION_COOKIE, &app_path(slug), Some(value), "Lax", max_age));
}

/// The cookie that carries a provider sign-in's sealed secrets to its callback, and only
/// there. `SameSite=Lax` lets the provider's redirect back bring it; a provider that posts its
/// answer from its own site (`form_post`) needs `SameSite=None`, which browsers take only
/// with `Secure`.
pub fn set_flow_cookie(headers: &mut HeaderMap, engine: &Engine, start: &domain::engine::OAuthStart) {
    let same_site = if start.cross_site_post && engine.public_url().starts_with("https://") { "None" } else { "Lax" };
    let flow = domain::engine::FLOW_COOKIE;
    headers.append(
        header::SET_COOKIE,
        cookie(engine, flow, &start.cookie_path, Some(&start.cookie), same_site, start.max_age),
    );
}

pub fn clear_flow_cookie(headers: &mut HeaderMap, engine: &Engine, path: &str) {
    headers.append(header::SET_COOKIE, cookie(engine, domain::engine::FLOW_COOKIE, path, None, "Lax", 0));
}

pub fn clear_session_cookie(headers: &mut HeaderMap, engine: &Engine, slug: &str) {
    headers.append(header::SET_COOKIE, cookie(engine, SESSION_COOKIE, &app_path(slug), None, "Lax", 0));
}

/// The cookies of a refresh made with the refresh-token cookie (seed 004): the rotated
/// refresh token, only ever sent back to the app's auth endpoints, and the access token.
pub fn set_token_cookies(
    headers: &mut HeaderMap,
    engine: &Engine,
    slug: &str,
    pair: &domain::tokens::TokenPair,
    refresh_max_age: i64,
) {
    let auth_path = format!("/{slug}/v1/auth");
    headers.append(
        header::SET_COOKIE,
        cookie(engine, REFRESH_COOKIE, &auth_path, Some(&pair.refresh_token), "Strict", refresh_max_age),
    );
    headers.append(
        header::SET_COOKIE,
        cookie(engine, ACCESS_COOKIE, &app_path(slug), Some(&pair.access_token), "Lax", pair.expires_in),
    );
}

pub fn clear_token_cookies(headers: &mut HeaderMap, engine: &Engine, slug: &str) {
    headers.append(header::SET_COOKIE, cookie(engine, REFRESH_COOKIE, &format!("/{slug}/v1/auth"), None, "Strict", 0));
    headers.append(header::SET_COOKIE, cookie(engine, ACCESS_COOKIE, &app_path(slug), None, "Lax", 0));
}

/// A CSRF token for a page or script, bound to the browser's CSRF cookie; `cookie` is set
/// when the browser had none (or a malformed one).
pub struct FormCsrf {
    pub token: String,
    cookie: Option<HeaderValue>,
}

impl FormCsrf {
    /// Adds the CSRF cookie to a response when the browser needs one.
    pub fn apply(&self, headers: &mut HeaderMap) {
        if let Some(cookie) = &self.cookie {
            headers.append(header::SET_COOKIE, cookie.clone());
        }
    }
}

/// The CSRF token of this browser in this app, making it a CSRF cookie when it has none.
/// The cookie lives as long as the browser session (no `Max-Age`) and is `SameSite=Strict`.
pub fn form_csrf(engine: &Engine, slug: &str, headers: &HeaderMap) -> FormCsrf {
    let existing = request_cookie(headers, CSRF_COOKIE).filter(|c| c.starts_with("csrf_") && c.len() <= 100);
    match existing {
        Some(value) => FormCsrf { token: engine.csrf_token(slug, &value), cookie: None },
        None => {
            let value = engine.new_csrf_cookie();
            let secure = if engine.public_url().starts_with("https://") { "; Secure" } else { "" };
            let line = format!("{CSRF_COOKIE}={value}; Path=/{slug}; HttpOnly; SameSite=Strict{secure}");
            FormCsrf { token: engine.csrf_token(slug, &value), cookie: HeaderValue::from_str(&line).ok() }
        }
    }
}

/// Whether the request comes from a page the app trusts, as far as the browser says:
/// `Sec-Fetch-Site: cross-site` never is; an `Origin` (or, without one, a `Referer`) must be
/// an origin the app allows. A request that names neither (not a browser's) passes.
pub fn check_origin(engine: &Engine, app: &App, headers: &HeaderMap) -> Result<(), Error> {
    let refused = || Error::CsrfFailed("Cross-site request refused");
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if text(header::HeaderName::from_static("sec-fetch-site")).is_some_and(|v| v.eq_ignore_ascii_case("cross-site")) {
        return Err(refused());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| refused())?;
        return if origin != "null" && engine.origin_allowed(app, origin) { Ok(()) } else { Err(refused()) };
    }
    if let Some(referer) = text(header::REFERER) {
        let origin = shared::config::origin_of(referer).ok_or_else(refused)?;
        return if engine.origin_allowed(app, &origin) { Ok(()) } else { Err(refused()) };
    }
    Ok(())
}

/// The token check: `token` must be the one bound to the request's CSRF cookie.
fn check_token(engine: &Engine, app: &App, headers: &HeaderMap, token: Option<&str>) -> Result<(), Error> {
    let cookie = request_cookie(headers, CSRF_COOKIE);
    match (cookie, token) {
        (Some(cookie), Some(token)) if engine.csrf_token_valid(&app.slug, &cookie, token) => Ok(()),
        _ => Err(Error::CsrfFailed("Missing or invalid CSRF token")),
    }
}

/// The checks of a hosted form's post: the origin, and always the token of its hidden field.
pub fn check_form(engine: &Engine, app: &App, headers: &HeaderMap, token: Option<&str>) -> Result<(), Error> {
    check_origin(engine, app, headers)?;
    check_token(engine, app, headers, token)
}

/// The checks of a cookie-authenticated API write: the origin, and the `X-CSRF-Token` header
/// when the app sets `csrf_token_required`.
pub fn check_cookie_write(engine: &Engine, app: &App, headers: &HeaderMap) -> Result<(), Error> {
    check_origin(engine, app, headers)?;
    if app.config.csrf_token_required {
        let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        check_token(engine, app, headers, token)?;
    }
    Ok(())
}

/// The slug of a `/{slug}/...` path.
fn slug_of(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or_default()
}

/// Guards seed 003's cookie API: every write that carries cookies passes
/// [`check_cookie_write`] (requests without cookies, such as the seed's curl examples with
/// none, are not a browser's and pass); pages of the app's allowed origins may call it with
/// credentials (CORS), and their preflights are answered here.
pub async fn guard_cookie_api(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let slug = slug_of(req.uri().path()).to_owned();
    let app = match s.engine.app(&slug).await {
        Ok(app) => app,
        // An unknown app is the handler's 404 (or the store's error) to give.
        Err(_) => return next.run(req).await,
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null" && s.engine.origin_allowed(&app, o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    if req.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some(origin) = origin {
            let h = response.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, x-csrf-token"));
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && has_cookies(req.headers()) {
        if let Err(e) = check_cookie_write(&s.engine, &app, req.headers()) {
            return ApiError(e).into_response();
        }
    }
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "sessionx=a; session=cs_1; csrf=csrf_2".parse().unwrap());
        assert_eq!(request_cookie(&h, "session").as_deref(), Some("cs_1"));
        assert_eq!(request_cookie(&h, "csrf").as_deref(), Some("csrf_2"));
        assert_eq!(request_cookie(&h, "sess"), None);
        h.insert(header::COOKIE, "session=".parse().unwrap());
        assert_eq!(request_cookie(&h, "session"), None);
        assert!(has_cookies(&h));
        assert!(!has_cookies(&HeaderMap::new()));
    }

    #[test]
    fn slugs_come_from_the_path() {
        assert_eq!(slug_of("/acme/api/auth/sign-out"), "acme");
        assert_eq!(slug_of("/"), "");
    }
}
