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
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Seed 003's answer to a sign-up: the user and its new session.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SignedUp {
    user: domain::engine::SessionUser,
    session: NewSession,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct NewSession {
    id: String,
    user_id: String,
    #[serde(with = "domain::time_format")]
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `{success: true}`, with what happened when there is something to say.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Success {
    success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
}

impl Success {
    fn saying(message: &'static str) -> Json<Success> {
        Json(Success { success: true, message: Some(message) })
    }
}

/// An hour's JWT of the app for the cookie's session.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionToken {
    token: String,
}

/// The CSRF token bound to the browser's CSRF cookie.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CsrfToken {
    csrf_token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignUpBody {
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    name: Option<String>,
}

/// `POST sign-up/email` → `{user, session}` and the `session` cookie.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/sign-up/email",
    operation_id = "cookie_api_sign_up",
    tag = "cookie api",
    request_body(content = SignUpBody, example = json!({"email": "john@example.com", "password": "securePassword123", "name": "John Doe"})),
    responses(
        (status = 200, description = "Signed up and in: the user and its session, with the `session` cookie", body = SignedUp, headers(("Set-Cookie" = String, description = "`session=…; Path=/{slug}; HttpOnly; SameSite=Lax`"))),
        (status = 409, description = "`USER_EXISTS`", body = crate::rest::error::ErrorBody),
    )
)]
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
    let session =
        NewSession { id: answer.session.id, user_id: answer.session.user_id, expires_at: answer.session.expires_at };
    (headers, Json(SignedUp { user: answer.user, session })).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignInBody {
    #[serde(alias = "identifier", alias = "username")]
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// `POST sign-in/email` → `{user, session, subscription}` and a new `session` cookie.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/sign-in/email",
    operation_id = "cookie_api_sign_in",
    tag = "cookie api",
    request_body(content = SignInBody, example = json!({"email": "john@example.com", "password": "securePassword123"})),
    responses(
        (status = 200, description = "Signed in, with a new `session` cookie", body = SessionAnswer, headers(("Set-Cookie" = String, description = "`session=…; Path=/{slug}; HttpOnly; SameSite=Lax`"))),
        (status = 401, description = "`INVALID_CREDENTIALS`: \"Email or password is incorrect\"", body = crate::rest::error::ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/{slug}/api/auth/get-session",
    operation_id = "cookie_api_get_session",
    tag = "cookie api",
    responses((status = 200, description = "The session the cookie names, or `null` without a live one", body = Option<SessionAnswer>)),
    security(("session_cookie" = []), ())
)]
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
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/sign-out",
    operation_id = "cookie_api_sign_out",
    tag = "cookie api",
    responses((status = 200, description = "The session (if any) ended and the cookie forgotten", body = Success)),
    security(("session_cookie" = []), ())
)]
pub async fn sign_out(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<Success>)> {
    let (session, mut headers) = current(&s, &slug, &request).await?;
    if let Some(session) = session {
        s.engine.end_session(&session.principal).await?;
    }
    clear_session_cookie(&mut headers, &s.engine, &slug);
    Ok((headers, Json(Success { success: true, message: None })))
}

/// `POST token` → `{token}`: an hour's JWT of the app for the cookie's session.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/token",
    operation_id = "cookie_api_token",
    tag = "cookie api",
    responses((status = 200, description = "An hour's JWT of the app for the session", body = SessionToken)),
    security(("session_cookie" = []))
)]
pub async fn token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<SessionToken>)> {
    let (session, headers) = current(&s, &slug, &request).await?;
    let session = session.ok_or(Error::Unauthenticated("No session: sign in first"))?;
    let token = s.engine.browser_token(&session.principal).await?;
    Ok((headers, Json(SessionToken { token })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetActiveBody {
    #[serde(default, rename = "organizationId", alias = "organization_id", alias = "org_id")]
    organization_id: Option<String>,
}

/// `POST organization/set-active {organizationId}` (`null` leaves every organization): the
/// cookie's session acts in the organization from now, so its `get-session` and `token`
/// answer with it → `{user, session, subscription}`.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/organization/set-active",
    operation_id = "cookie_api_set_active_organization",
    tag = "cookie api",
    request_body(content = SetActiveBody),
    responses((status = 200, description = "The session now acts in the organization (`null`: in none)", body = SessionAnswer)),
    security(("session_cookie" = []))
)]
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

#[derive(Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET verify-email?token=` (and a `POST {token}`) → `{success, message}`. The app calls
/// this with the token its own page received; the emailed link itself opens Rampart's hosted
/// page, which spends the token only on a click.
#[utoipa::path(
    method(get, post),
    path = "/{slug}/api/auth/verify-email",
    operation_id = "cookie_api_verify_email",
    tag = "cookie api",
    params(TokenQuery),
    request_body(content = Option<TokenQuery>, description = "Or `?token=` in the query"),
    responses((status = 200, description = "The address is verified", body = Success))
)]
pub async fn verify_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    Query(q): Query<TokenQuery>,
    body: Option<ApiJson<TokenQuery>>,
) -> ApiResult<Json<Success>> {
    let token = q.token.or_else(|| body.and_then(|b| b.0.token)).unwrap_or_default();
    if token.is_empty() {
        return Err(Error::invalid("token is required").into());
    }
    s.engine.verify_email(&slug, &token, &meta.0).await?;
    Ok(Success::saying("Email verified successfully"))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ForgotBody {
    email: String,
    #[serde(default, rename = "redirectTo", alias = "redirect_to")]
    redirect_to: Option<String>,
}

/// `POST forget-password` (and `forgot-password`): the same answer whether or not the
/// address has a user.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/forgot-password",
    operation_id = "cookie_api_forgot_password",
    tag = "cookie api",
    request_body(content = ForgotBody),
    responses((status = 200, description = "The same answer whether or not the address has a user", body = Success))
)]
pub async fn forgot_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<ForgotBody>,
) -> ApiResult<Json<Success>> {
    s.engine.forgot_password(&slug, &b.email, b.redirect_to.as_deref(), &meta.0).await?;
    Ok(Success::saying("Password reset email sent"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CookieApiResetBody)]
pub struct ResetBody {
    token: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// `POST forget-password`: the seed's spelling of `forgot-password`, the same endpoint.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/forget-password",
    operation_id = "cookie_api_forget_password",
    tag = "cookie api",
    request_body(content = ForgotBody),
    responses((status = 200, description = "The same answer whether or not the address has a user", body = Success))
)]
pub async fn forget_password(
    state: State<AppState>,
    slug: Path<String>,
    meta: Meta,
    body: ApiJson<ForgotBody>,
) -> ApiResult<Json<Success>> {
    forgot_password(state, slug, meta, body).await
}

/// `POST reset-password` `{token, password}`: every session of the user ends.
#[utoipa::path(
    post,
    path = "/{slug}/api/auth/reset-password",
    operation_id = "cookie_api_reset_password",
    tag = "cookie api",
    request_body(content = ResetBody),
    responses((status = 200, description = "The password is changed and every session of the user ended", body = Success))
)]
pub async fn reset_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<ResetBody>,
) -> ApiResult<Json<Success>> {
    s.engine.reset_password(&slug, &b.token, b.password, &meta.0).await?;
    Ok(Success::saying("Password reset successfully"))
}

/// `GET /{slug}/v1/auth/csrf`: gives the browser its CSRF cookie (`HttpOnly`,
/// `SameSite=Strict`) and answers a script that fetches the token bound to it, kept in
/// `window.rampartCsrfToken` (and the promise `window.rampartCsrf`) for `X-CSRF-Token`.
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/csrf",
    operation_id = "cookie_api_csrf_script",
    tag = "cookie api",
    responses((status = 200, description = "A script that fetches the browser's CSRF token into `window.rampartCsrfToken` (and sets the CSRF cookie when the browser has none)", content_type = "application/javascript", body = String))
)]
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
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/csrf/token",
    operation_id = "cookie_api_csrf_token",
    tag = "cookie api",
    responses((status = 200, description = "The CSRF token bound to the browser's CSRF cookie (set here when it has none)", body = CsrfToken))
)]
pub async fn csrf_token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    request: HeaderMap,
) -> ApiResult<(HeaderMap, Json<CsrfToken>)> {
    s.engine.app(&slug).await?;
    let csrf = form_csrf(&s.engine, &slug, &request);
    let mut headers = HeaderMap::new();
    csrf.apply(&mut headers);
    Ok((headers, Json(CsrfToken { csrf_token: csrf.token })))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(sign_in))
        .routes(routes!(get_session))
        .routes(routes!(sign_out))
        .routes(routes!(token))
        .routes(routes!(set_active_organization))
        .routes(routes!(verify_email))
        .routes(routes!(forget_password))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(csrf_script))
        .routes(routes!(csrf_token))
}
