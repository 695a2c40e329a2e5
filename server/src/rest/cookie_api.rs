//! Seed 003's cookie-session API for browsers, under `/{slug}/api/auth`: sign up and sign in
//! by email (answering with the `session` cookie), read and end the session, mint an hour's
//! JWT from it, verify an email, and reset a password. Shapes and codes as the seed shows
//! them; `browser::guard_cookie_api` checks every cookie-carrying write first.

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::engine::{BrowserSignup, SessionAnswer};
use domain::Error;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{error_response, ApiError, ApiJson, ApiResult};
use super::extract::Meta;
use crate::browser::{
    clear_session_cookie, form_csrf, renew_session_cookie, request_cookie, set_session_cookie, SESSION_COOKIE,
};

/// Seed 003 words a refused sign-in this way.
fn cookie_api_error(e: Error) -> Response {
    match e {
        Error::InvalidCredentials => {
            error_response(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS", "Email or password is incorrect")
        }
        e => ApiError(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignUpBody {
    email: String,
    password: SecretString,
    name: Option<String>,
}

/// `POST sign-up/email` → `{user, session}` and the `session` cookie.
pub async fn sign_up(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<SignUpBody>,
) -> Response {
    let input = BrowserSignup { email: b.email, password: b.password, name: b.name, username: None };
    let signed_in = match s.engine.browser_sign_up(&slug, input, &meta.0).await {
        Ok(signed_in) => signed_in,
        Err(e) => return cookie_api_error(e),
    };
    let answer = match s.engine.session_answer(&signed_in.principal).await {
        Ok(answer) => answer,
        Err(e) => return cookie_api_error(e),
    };
    let mut headers = HeaderMap::new();
    set_session_cookie(&mut headers, &s.engine, &slug, &signed_in);
    let body = json!({
        "user": answer.user,
        "session": {
            "id": answer.session.id,
            "user_id": answer.session.user_id,
            "expires_at": domain::time_format::format(&answer.session.expires_at),
        },
    });
    (headers, Json(body)).into_response()
}

#[derive(Deserialize)]
pub struct SignInBody {
    #[serde(alias = "identifier", alias = "username")]
    email: String,
    password: SecretString,
}

/// `POST sign-in/email` → `{user, session, subscription}` and a new `session` cookie.
pub async fn sign_in(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<SignInBody>,
) -> Response {
    let signed_in = match s.engine.browser_sign_in(&slug, &b.email, b.password, &meta.0).await {
        Ok(signed_in) => signed_in,
        Err(e) => return cookie_api_error(e),
    };
    let answer = match s.engine.session_answer(&signed_in.principal).await {
        Ok(answer) => answer,
        Err(e) => return cookie_api_error(e),
    };
    let mut headers = HeaderMap::new();
    set_session_cookie(&mut headers, &s.engine, &slug, &signed_in);
    (headers, Json(answer)).into_response()
}

/// The session the request's cookie names, with the headers that keep the browser's cookie
/// in step (renewed, or forgotten when the session is over); `None` without a live one.
async fn current(
    s: &AppState,
    slug: &str,
    request: &HeaderMap,
) -> Result<(Option<domain::engine::BrowserSession>, HeaderMap), ApiError> {
    let mut headers = HeaderMap::new();
    let Some(cookie) = request_cookie(request, SESSION_COOKIE) else {
        return Ok((None, headers));
    };
    match s.engine.browser_session(slug, &cookie).await {
        Ok(session) => {
            if session.renewed {
                renew_session_cookie(&mut headers, &s.engine, slug, &cookie, session.expires_at);
            }
            Ok((Some(session), headers))
        }
        Err(Error::SessionRevoked | Error::Unauthenticated(_)) => {
            clear_session_cookie(&mut headers, &s.engine, slug);
            Ok((None, headers))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET get-session` → `{user, session, subscription}`, or `null` (200) without a live session.
pub async fn get_session(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<Option<SessionAnswer>>)> {
    let (session, headers) = current(&s, &slug, &request).await?;
    let answer = match session {
        Some(session) => Some(s.engine.session_answer(&session.principal).await?),
        None => None,
    };
    Ok((headers, Json(answer)))
}

/// `POST sign-out`: ends the session the cookie names (if any) and forgets the cookie.
pub async fn sign_out(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let (session, mut headers) = current(&s, &slug, &request).await?;
    if let Some(session) = session {
        s.engine.end_session(&session.principal).await?;
    }
    clear_session_cookie(&mut headers, &s.engine, &slug);
    Ok((headers, Json(json!({ "success": true }))))
}

/// `POST token` → `{token}`: an hour's JWT of the app for the cookie's session.
pub async fn token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let (session, headers) = current(&s, &slug, &request).await?;
    let session = session.ok_or(Error::Unauthenticated("No session: sign in first"))?;
    let token = s.engine.browser_token(&session.principal).await?;
    Ok((headers, Json(json!({ "token": token }))))
}

#[derive(Deserialize)]
pub struct SetActiveBody {
    #[serde(default, rename = "organizationId", alias = "organization_id", alias = "org_id")]
    organization_id: Option<String>,
}

/// `POST organization/set-active {organizationId}` (`null` leaves every organization): the
/// cookie's session acts in the organization from now, so its `get-session` and `token`
/// answer with it → `{user, session, subscription}`.
pub async fn set_active_organization(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
    ApiJson(b): ApiJson<SetActiveBody>,
) -> ApiResult<(HeaderMap, Json<SessionAnswer>)> {
    let (session, headers) = current(&s, &slug, &request).await?;
    let session = session.ok_or(Error::Unauthenticated("No session: sign in first"))?;
    let mut principal = session.principal;
    principal.org = s.engine.set_active_org(&principal, b.organization_id.as_deref()).await?;
    Ok((headers, Json(s.engine.session_answer(&principal).await?)))
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET verify-email?token=` (and a `POST {token}`) → `{success, message}`. The app calls
/// this with the token its own page received; the emailed link itself opens Rampart's hosted
/// page, which spends the token only on a click.
pub async fn verify_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    Query(q): Query<TokenQuery>,
    body: Option<ApiJson<TokenQuery>>,
) -> ApiResult<Json<Value>> {
    let token = q.token.or_else(|| body.and_then(|b| b.0.token)).unwrap_or_default();
    if token.is_empty() {
        return Err(Error::invalid("token is required").into());
    }
    s.engine.verify_email(&slug, &token, &meta.0).await?;
    Ok(Json(json!({ "success": true, "message": "Email verified successfully" })))
}

#[derive(Deserialize)]
pub struct ForgotBody {
    email: String,
    #[serde(default, rename = "redirectTo", alias = "redirect_to")]
    redirect_to: Option<String>,
}

/// `POST forget-password` (and `forgot-password`): the same answer whether or not the
/// address has a user.
pub async fn forgot_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<ForgotBody>,
) -> ApiResult<Json<Value>> {
    s.engine.forgot_password(&slug, &b.email, b.redirect_to.as_deref(), &meta.0).await?;
    Ok(Json(json!({ "success": true, "message": "Password reset email sent" })))
}

#[derive(Deserialize)]
pub struct ResetBody {
    token: String,
    password: SecretString,
}

/// `POST reset-password` `{token, password}`: every session of the user ends.
pub async fn reset_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<ResetBody>,
) -> ApiResult<Json<Value>> {
    s.engine.reset_password(&slug, &b.token, b.password, &meta.0).await?;
    Ok(Json(json!({ "success": true, "message": "Password reset successfully" })))
}

/// `GET /{slug}/v1/auth/csrf`: gives the browser its CSRF cookie (`HttpOnly`,
/// `SameSite=Strict`) and answers a script that fetches the token bound to it, kept in
/// `window.rampartCsrfToken` (and the promise `window.rampartCsrf`) for `X-CSRF-Token`.
pub async fn csrf_script(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<Response> {
    s.engine.app(&slug).await?;
    let csrf = form_csrf(&s.engine, &slug, &request);
    let url = serde_json::to_string(&format!("{}/{slug}/v1/auth/csrf/token", s.engine.public_url()))
        .map_err(Error::internal)?;
    let script = format!(
        "// Rampart: this browser's CSRF token for the app, for the X-CSRF-Token header.\n\
         window.rampartCsrf = fetch({url}, {{ credentials: \"include\" }})\n\
         \x20 .then(function (r) {{ return r.json(); }})\n\
         \x20 .then(function (d) {{ window.rampartCsrfToken = d.csrf_token; return d.csrf_token; }});\n"
    );
    let mut headers = HeaderMap::new();
    csrf.apply(&mut headers);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/javascript; charset=utf-8"));
    Ok((headers, script).into_response())
}

/// `GET /{slug}/v1/auth/csrf/token` → `{csrf_token}`, bound to the browser's CSRF cookie (set
/// here when it has none). Nothing is stored: the token is an HMAC of the cookie.
pub async fn csrf_token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    s.engine.app(&slug).await?;
    let csrf = form_csrf(&s.engine, &slug, &request);
    let mut headers = HeaderMap::new();
    csrf.apply(&mut headers);
    Ok((headers, Json(json!({ "csrf_token": csrf.token }))))
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/{slug}/api/auth/sign-up/email", post(sign_up))
        .route("/{slug}/api/auth/sign-in/email", post(sign_in))
        .route("/{slug}/api/auth/get-session", get(get_session))
        .route("/{slug}/api/auth/sign-out", post(sign_out))
        .route("/{slug}/api/auth/token", post(token))
        .route("/{slug}/api/auth/organization/set-active", post(set_active_organization))
        .route("/{slug}/api/auth/verify-email", get(verify_email).post(verify_email))
        .route("/{slug}/api/auth/forget-password", post(forgot_password))
        .route("/{slug}/api/auth/forgot-password", post(forgot_password))
        .route("/{slug}/api/auth/reset-password", post(reset_password))
        .route("/{slug}/v1/auth/csrf", get(csrf_script))
        .route("/{slug}/v1/auth/csrf/token", get(csrf_token))
}
