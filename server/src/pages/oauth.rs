//! Each app as an OpenID Connect provider, the HTTP side: discovery, the authorization
//! endpoint (a browser's: sign-in and consent are hosted pages), the token, userinfo,
//! revocation and introspection endpoints (a client's: OAuth's error shape, not Rampart's),
//! and RP-initiated logout. The decisions are the engine's (`engine/oidc/`); CORS is `oauth_cors`.

use std::future::Future;

use app::hosted::{self, ConsentView};
use app::state::AppState;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine as _;
use domain::engine::{AuthorizeParams, AuthorizeStep, BasicCredentials, Decision, OAuthError, TokenParams};
use serde::Deserialize;

use super::signin::posted;
use super::{oauth_cors, Hosted};
use crate::browser;
use crate::rest::extract::Meta;

/// `GET /{slug}/.well-known/openid-configuration` (and `/{slug}/v1/.well-known/…`).
#[utoipa::path(
    get,
    path = "/{slug}/.well-known/openid-configuration",
    operation_id = "oidc_discovery",
    tag = "openid connect",
    responses(
        (status = 200, description = "The app's OpenID Provider Metadata (cacheable for the JWKS max-age)", body = crate::openapi::schemas::OidcDiscovery),
        (status = 404, description = "No such app", body = crate::rest::error::ErrorBody),
    )
)]
pub async fn discovery(State(s): State<AppState>, Path(slug): Path<String>) -> Response {
    match s.engine.oidc_discovery(&slug).await {
        Ok(doc) => {
            let cache = format!("public, max-age={}", crate::rest::wellknown::JWKS_MAX_AGE_SECONDS);
            let mut response = ([(header::CACHE_CONTROL, cache)], Json(doc)).into_response();
            oauth_cors::allow_any_origin(&mut response);
            response
        }
        Err(e) => crate::rest::error::ApiError(e).into_response(),
    }
}

/// `GET /{slug}/v1/.well-known/openid-configuration`: the discovery document beside the
/// app's JWKS, for verifiers that derive both from the consumer API's base.
#[utoipa::path(
    get,
    path = "/{slug}/v1/.well-known/openid-configuration",
    operation_id = "oidc_discovery_v1",
    tag = "openid connect",
    responses(
        (status = 200, description = "The app's OpenID Provider Metadata (cacheable for the JWKS max-age)", body = crate::openapi::schemas::OidcDiscovery),
        (status = 404, description = "No such app", body = crate::rest::error::ErrorBody),
    )
)]
pub async fn discovery_v1(state: State<AppState>, slug: Path<String>) -> Response {
    discovery(state, slug).await
}

/// The first language of `ui_locales`, the page's language when no `?lang=` says otherwise.
fn ui_locale(p: &AuthorizeParams) -> Option<String> {
    p.ui_locales.as_deref().and_then(|l| l.split_ascii_whitespace().next()).map(|l| l.chars().take(2).collect())
}

/// `GET /{slug}/oauth2/authorize`.
#[utoipa::path(
    get,
    path = "/{slug}/oauth2/authorize",
    operation_id = "oidc_authorize",
    tag = "openid connect",
    params(AuthorizeParams),
    responses(
        (status = 302, description = "To the client's `redirect_uri` with `code` and `state` (or `error`), or to the hosted sign-in page, which comes back here", headers(("Location" = String, description = "Where the browser goes"))),
        (status = 200, description = "The hosted consent page", content_type = "text/html"),
        (status = 400, description = "A request that cannot be redirected back (unknown client, unregistered redirect URI): an error page", content_type = "text/html"),
        (status = 404, description = "No such app: an error page", content_type = "text/html"),
    )
)]
pub async fn authorize(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    query: Result<Query<AuthorizeParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let params = query.map(|Query(q)| q).ok();
    let lang = params.as_ref().and_then(ui_locale);
    let h = match Hosted::load(&s, &slug, &headers, lang.as_deref(), "oauth2/authorize").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    // A repeated or unreadable parameter: nothing can be trusted, not even where to go back.
    let Some(params) = params else {
        return h.respond(StatusCode::BAD_REQUEST, hosted::oauth_error_page(&h.page, "error-invalid-request"));
    };
    step(&s, h, &slug, &params, raw.unwrap_or_default(), &headers, Decision::Ask).await
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct ConsentForm {
    csrf_token: Option<String>,
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

/// `POST /{slug}/oauth2/authorize`: the consent page's answer, with the request it was for.
#[utoipa::path(
    post,
    path = "/{slug}/oauth2/authorize",
    operation_id = "oidc_consent",
    tag = "openid connect",
    params(super::LangQuery),
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded", description = "The hosted consent page's form (with its CSRF token and the authorization request it was shown for)"),
    responses(
        (status = 302, description = "To the client's `redirect_uri` with `code` (allowed) or `error=access_denied` (denied)", headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "An unreadable request: an error page", content_type = "text/html"),
        (status = 403, description = "The form's CSRF token or origin was refused: an error page", content_type = "text/html"),
    ),
    security(("session_cookie" = []))
)]
pub async fn consent_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<super::LangQuery>,
    headers: HeaderMap,
    form: Result<Form<ConsentForm>, FormRejection>,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "oauth2/authorize").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return h.respond(StatusCode::FORBIDDEN, hosted::message_page(&h.page, "oauth-error-title", e.message, None));
    }
    let params = format!("/?{}", f.request)
        .parse::<Uri>()
        .ok()
        .and_then(|uri| Query::<AuthorizeParams>::try_from_uri(&uri).ok())
        .map(|Query(p)| p);
    let Some(params) = params else {
        return h.respond(StatusCode::BAD_REQUEST, hosted::oauth_error_page(&h.page, "error-invalid-request"));
    };
    let decision = match f.decision.as_str() {
        "allow" => Decision::Allow,
        "deny" => Decision::Deny,
        _ => Decision::Ask,
    };
    step(&s, h, &slug, &params, f.request, &headers, decision).await
}

/// Asks the engine where the request goes, and goes there.
async fn step(
    s: &AppState,
    mut h: Hosted,
    slug: &str,
    params: &AuthorizeParams,
    raw: String,
    headers: &HeaderMap,
    decision: Decision,
) -> Response {
    let signed_in = h.signed_in(s, headers).await;
    let principal = signed_in.as_ref().map(|(p, _)| p);
    let step = match s.engine.oidc_authorize(slug, params, principal, decision).await {
        Ok(step) => step,
        Err(e) => {
            let page = hosted::message_page(&h.page, "oauth-error-title", super::error_text(&h.page, &e), None);
            return h.respond(super::status_of(&e), page);
        }
    };
    let mut response = match step {
        AuthorizeStep::Refused(key) => h.respond(StatusCode::BAD_REQUEST, hosted::oauth_error_page(&h.page, key)),
        AuthorizeStep::Redirect(to) => {
            // Leaving for the client: its own page decides its headers; only no caching here.
            let mut r = (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        AuthorizeStep::SignIn { login_hint, again } => {
            // Back to this very request afterwards; a forced sign-in notes when it was asked
            // for, so the sign-in that follows satisfies `prompt=login` and `max_age`.
            let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
                .filter(|(k, _)| k != "auth_after")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if again {
                let asked = chrono::Utc::now().timestamp().to_string();
                match s.engine.seal_for_browser(asked.as_bytes(), domain::engine::AUTH_AFTER_CONTEXT) {
                    Ok(sealed) => pairs.push(("auth_after".into(), sealed)),
                    Err(e) => {
                        let page =
                            hosted::message_page(&h.page, "oauth-error-title", super::error_text(&h.page, &e), None);
                        return h.respond(super::status_of(&e), page);
                    }
                }
            }
            let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            let back = format!("/{slug}/oauth2/authorize?{query}");
            let hint = login_hint.unwrap_or_default();
            let prompt = if again { "login" } else { "" };
            h.redirect(&h.url("signin", &[("redirect_to", &back), ("login_hint", &hint), ("prompt", prompt)]))
        }
        AuthorizeStep::Consent(c) => {
            // Allowing redirects to the client (whose redirect URI the engine checked): the
            // consent form's post ends there.
            if let Some(origin) = params.redirect_uri.as_deref().and_then(domain::engine::web_origin) {
                h.allow_form_target(origin);
            }
            let view = ConsentView { client_name: c.client_name, scopes: c.scopes, request: raw };
            h.respond(StatusCode::OK, hosted::consent_page(&h.page, view))
        }
    };
    if let Some((_, Some(renewal))) = &signed_in {
        renewal.apply(s, slug, &mut response);
    }
    response
}

/// OAuth's error shape (RFC 6749 5.2), at the token, revocation, introspection and userinfo
/// endpoints.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = OAuthError)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_token`, `insufficient_scope`, …
    pub error: String,
    pub error_description: String,
}

fn oauth_error_body(error: &str, description: &str) -> Json<OAuthErrorBody> {
    Json(OAuthErrorBody { error: error.to_owned(), error_description: description.to_owned() })
}

/// An OAuth error (RFC 6749 5.2) as a response.
fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, oauth_error_body(e.error, &e.description)).into_response();
    let h = response.headers_mut();
    no_store(h);
    if e.basic_challenge {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth2\""));
    }
    if let Some(seconds) = e.retry_after_seconds {
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    response
}

fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `client_secret_basic` (RFC 6749 2.3.1: each part form-encoded, then Basic). `Err` for a
/// Basic header that cannot be read.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().unwrap_or_default();
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
        return Ok(None);
    };
    let unreadable = || OAuthError {
        status: 401,
        error: "invalid_client",
        description: "The Basic credentials cannot be read".into(),
        basic_challenge: true,
        retry_after_seconds: None,
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| unreadable())?;
    let decoded = String::from_utf8(decoded).map_err(|_| unreadable())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(unreadable)?;
    let unescape =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().map(|c| c.into_owned());
    let (id, secret) = match (unescape(id), unescape(secret)) {
        (Ok(id), Ok(secret)) => (id, secret),
        _ => return Err(unreadable()),
    };
    Ok(Some(BasicCredentials { client_id: id, client_secret: secret.into() }))
}

/// The form of a client's request, and its Basic credentials.
fn client_request(
    headers: &HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Result<(TokenParams, Option<BasicCredentials>), OAuthError> {
    let params = form.map(|Form(p)| p).map_err(|_| OAuthError {
        status: 400,
        error: "invalid_request",
        description: "The body must be application/x-www-form-urlencoded, each parameter once".into(),
        basic_challenge: false,
        retry_after_seconds: None,
    })?;
    Ok((params, basic_credentials(headers)?))
}

/// A client's call to the token, revocation or introspection endpoint: its form and Basic
/// credentials read, `call` made, its answer or OAuth error never cached; with `cors`,
/// readable by a page of one of the calling client's origins.
async fn client_call<T, F>(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
    cors: bool,
    call: impl FnOnce(TokenParams, Option<BasicCredentials>) -> F,
) -> Response
where
    F: Future<Output = Result<T, OAuthError>>,
    T: IntoResponse,
{
    let (mut response, client_id) = match client_request(headers, form) {
        Ok((params, basic)) => {
            let client_id = basic.as_ref().map(|b| b.client_id.clone()).or_else(|| params.client_id.clone());
            let response = match call(params, basic).await {
                Ok(answer) => {
                    let mut response = answer.into_response();
                    no_store(response.headers_mut());
                    response
                }
                Err(e) => oauth_error(e),
            };
            (response, client_id)
        }
        Err(e) => (oauth_error(e), None),
    };
    if cors {
        oauth_cors::allow_client_origin(s, slug, headers, client_id.as_deref(), &mut response).await;
    }
    response
}

/// `POST /{slug}/oauth2/token`.
#[utoipa::path(
    post,
    path = "/{slug}/oauth2/token",
    operation_id = "oidc_token",
    tag = "openid connect",
    request_body(content = TokenParams, content_type = "application/x-www-form-urlencoded", description = "`grant_type=authorization_code` (with `code`, `redirect_uri`, `code_verifier`) or `grant_type=refresh_token` (with `refresh_token`); client authentication by `client_secret_basic`, `client_secret_post`, `private_key_jwt`, or none for public clients"),
    responses(
        (status = 200, description = "The tokens (`Cache-Control: no-store`)", body = domain::engine::OAuthTokens),
        (status = 400, description = "OAuth error (`invalid_request`, `invalid_grant`, `unsupported_grant_type`, …)", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`: the client's authentication failed", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts (`Retry-After`)", body = OAuthErrorBody),
    ),
    security(("oidc_client" = []), ())
)]
pub async fn token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Response {
    let (engine, slug, meta) = (&s.engine, slug.as_str(), &meta.0);
    client_call(&s, slug, &headers, form, true, |p, basic| async move {
        engine.oidc_token(slug, &p, basic.as_ref(), meta).await.map(Json)
    })
    .await
}

/// `POST /{slug}/oauth2/revoke` (RFC 7009): `200` whether or not there was such a token.
#[utoipa::path(
    post,
    path = "/{slug}/oauth2/revoke",
    operation_id = "oidc_revoke",
    tag = "openid connect",
    request_body(content = TokenParams, content_type = "application/x-www-form-urlencoded", description = "`token` (an access or refresh token the client holds), optional `token_type_hint`, and the client's authentication"),
    responses(
        (status = 200, description = "Revoked, or there was no such token of this client (RFC 7009): no body"),
        (status = 400, description = "OAuth error (`invalid_request`, `invalid_grant`, `unsupported_grant_type`, …)", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`: the client's authentication failed", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts (`Retry-After`)", body = OAuthErrorBody),
    ),
    security(("oidc_client" = []), ())
)]
pub async fn revoke(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Response {
    let (engine, slug, meta) = (&s.engine, slug.as_str(), &meta.0);
    client_call(&s, slug, &headers, form, true, |p, basic| async move {
        engine.oidc_revoke(slug, &p, basic.as_ref(), meta).await.map(|()| StatusCode::OK)
    })
    .await
}

/// The CORS preflight of a page of a registered client's origin (`Access-Control-Allow-*`
/// for that origin; none for others).
#[utoipa::path(
    options,
    path = "/{slug}/oauth2/token",
    operation_id = "oidc_token_preflight",
    tag = "openid connect",
    responses((status = 204, description = "The preflight's answer: CORS headers for a registered client's origin"))
)]
pub async fn token_preflight(state: State<AppState>, slug: Path<String>, headers: HeaderMap) -> Response {
    super::oauth_cors::preflight_post(state, slug, headers).await
}

/// The CORS preflight of `revoke`, as `token`'s.
#[utoipa::path(
    options,
    path = "/{slug}/oauth2/revoke",
    operation_id = "oidc_revoke_preflight",
    tag = "openid connect",
    responses((status = 204, description = "The preflight's answer: CORS headers for a registered client's origin"))
)]
pub async fn revoke_preflight(state: State<AppState>, slug: Path<String>, headers: HeaderMap) -> Response {
    super::oauth_cors::preflight_post(state, slug, headers).await
}

/// The CORS preflight of `userinfo` (`GET` and `POST`).
#[utoipa::path(
    options,
    path = "/{slug}/oauth2/userinfo",
    operation_id = "oidc_userinfo_preflight",
    tag = "openid connect",
    responses((status = 204, description = "The preflight's answer: CORS headers for a registered client's origin"))
)]
pub async fn userinfo_preflight(state: State<AppState>, slug: Path<String>, headers: HeaderMap) -> Response {
    super::oauth_cors::preflight_get_post(state, slug, headers).await
}

/// `POST /{slug}/oauth2/introspect` (RFC 7662): a backend's (confidential clients only), so
/// no CORS.
#[utoipa::path(
    post,
    path = "/{slug}/oauth2/introspect",
    operation_id = "oidc_introspect",
    tag = "openid connect",
    request_body(content = TokenParams, content_type = "application/x-www-form-urlencoded", description = "`token` and the client's authentication"),
    responses(
        (status = 200, description = "RFC 7662's answer: `{active: false}` for a token that is not live", body = crate::openapi::schemas::TokenIntrospection),
        (status = 400, description = "OAuth error (`invalid_request`, `invalid_grant`, `unsupported_grant_type`, …)", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`: the client's authentication failed", body = OAuthErrorBody),
        (status = 429, description = "Too many attempts (`Retry-After`)", body = OAuthErrorBody),
    ),
    security(("oidc_client" = []), ())
)]
pub async fn introspect(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Response {
    let (engine, slug, meta) = (&s.engine, slug.as_str(), &meta.0);
    client_call(&s, slug, &headers, form, false, |p, basic| async move {
        engine.oidc_introspect(slug, &p, basic.as_ref(), meta).await.map(Json)
    })
    .await
}

/// `GET` or `POST /{slug}/oauth2/userinfo` with the access token as bearer (RFC 6750).
#[utoipa::path(
    method(get, post),
    path = "/{slug}/oauth2/userinfo",
    operation_id = "oidc_userinfo",
    tag = "openid connect",
    responses(
        (status = 200, description = "The claims the token's scopes allow", body = crate::openapi::schemas::UserInfo),
        (status = 401, description = "No token, or not a live one (`WWW-Authenticate: Bearer error=\"invalid_token\"`)", body = OAuthErrorBody),
        (status = 403, description = "`insufficient_scope`: the token was not issued with `openid`", body = OAuthErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn userinfo(State(s): State<AppState>, Path(slug): Path<String>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let refuse = |status: StatusCode, challenge: &'static str, error: &str, description: &str| {
        let mut response = (status, oauth_error_body(error, description)).into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        no_store(response.headers_mut());
        response
    };
    let Some(bearer) = bearer else {
        return refuse(StatusCode::UNAUTHORIZED, "Bearer", "invalid_request", "An access token is required");
    };
    match s.engine.oidc_userinfo(&slug, bearer).await {
        Ok(info) => {
            let mut response = Json(info.claims).into_response();
            no_store(response.headers_mut());
            oauth_cors::allow_client_origin(&s, &slug, &headers, Some(&info.client_id), &mut response).await;
            response
        }
        Err(domain::Error::Forbidden(_)) => refuse(
            StatusCode::FORBIDDEN,
            "Bearer error=\"insufficient_scope\", scope=\"openid\"",
            "insufficient_scope",
            "The token was not issued to a client with the openid scope",
        ),
        Err(e @ (domain::Error::Internal(_) | domain::Error::Unavailable { .. })) => {
            crate::rest::error::ApiError(e).into_response()
        }
        Err(_) => refuse(
            StatusCode::UNAUTHORIZED,
            "Bearer error=\"invalid_token\"",
            "invalid_token",
            "The access token is invalid, expired or revoked",
        ),
    }
}

/// RP-initiated logout's parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
    ui_locales: Option<String>,
}

/// `GET /{slug}/oauth2/logout`.
#[utoipa::path(
    get,
    path = "/{slug}/oauth2/logout",
    operation_id = "oidc_end_session",
    tag = "openid connect",
    params(LogoutParams),
    responses(
        (status = 302, description = "To `post_logout_redirect_uri` (with `state`) when it is registered for the client, else to the hosted signed-out page; the browser session ends", headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "An `id_token_hint` or redirect that cannot be trusted: an error page", content_type = "text/html"),
    ),
    security(("session_cookie" = []), ())
)]
pub async fn logout(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    query: Result<Query<LogoutParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    end_session(&s, &slug, query.map(|Query(q)| q).ok(), &headers).await
}

/// `POST /{slug}/oauth2/logout` (the same, from a form).
#[utoipa::path(
    post,
    path = "/{slug}/oauth2/logout",
    operation_id = "oidc_end_session_post",
    tag = "openid connect",
    request_body(content = LogoutParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "To `post_logout_redirect_uri` (with `state`) when it is registered for the client, else to the hosted signed-out page; the browser session ends", headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "An `id_token_hint` or redirect that cannot be trusted: an error page", content_type = "text/html"),
    ),
    security(("session_cookie" = []), ())
)]
pub async fn logout_post(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<LogoutParams>, FormRejection>,
) -> Response {
    end_session(&s, &slug, form.map(|Form(f)| f).ok(), &headers).await
}

async fn end_session(s: &AppState, slug: &str, params: Option<LogoutParams>, headers: &HeaderMap) -> Response {
    let lang = params.as_ref().and_then(|p| p.ui_locales.as_deref()).map(|l| l.chars().take(2).collect::<String>());
    let h = match Hosted::load(s, slug, headers, lang.as_deref(), "oauth2/logout").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let Some(p) = params else {
        return h.respond(StatusCode::BAD_REQUEST, hosted::oauth_error_page(&h.page, "error-invalid-request"));
    };
    let signed_in = h.signed_in(s, headers).await;
    let browser = signed_in.as_ref().map(|(p, _)| p);
    let ended = s
        .engine
        .oidc_logout(
            slug,
            p.id_token_hint.as_deref(),
            p.post_logout_redirect_uri.as_deref(),
            p.state.as_deref(),
            p.client_id.as_deref(),
            browser,
        )
        .await;
    let (redirect, browser_ended) = match ended {
        Ok(Ok(l)) => (l.redirect, l.browser_ended),
        Ok(Err(key)) => return h.respond(StatusCode::BAD_REQUEST, hosted::oauth_error_page(&h.page, key)),
        Err(e) => {
            let page = hosted::message_page(&h.page, "oauth-error-title", super::error_text(&h.page, &e), None);
            return h.respond(super::status_of(&e), page);
        }
    };
    let mut response = match redirect {
        Some(to) => {
            let mut r = (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        None => h.redirect(&h.url("signed-out", &[])),
    };
    if browser_ended {
        browser::clear_session_cookie(response.headers_mut(), &s.engine, slug);
    }
    response
}
