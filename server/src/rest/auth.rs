//! Sign-up, sign-in, refresh, logout and `me`: one set of handlers serving both the
//! accounts (`/api/v1/auth/*`, the `platform` app) and every app's end-users
//! (`/{slug}/v1/auth/*`).

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use domain::engine::{AppCredentials, Profile, SignupInput};
use domain::tokens::TokenPair;
use domain::types::PLATFORM_SLUG;
use domain::Error;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ApiJson, ApiResult};
use super::extract::{bearer_of, Account, Bearer, Meta};
use crate::browser;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignupBody {
    email: String,
    username: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    #[serde(alias = "displayName", alias = "name")]
    display_name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SigninBody {
    #[serde(alias = "username", alias = "email")]
    identifier: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Refresh and logout: the refresh token, and from an app's backend its app credential
/// (seed 002: `{app_id, app_secret, refresh_token}`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshBody {
    /// Missing from an app's refresh or logout: the refresh-token cookie is read instead.
    #[serde(default, alias = "refreshToken")]
    refresh_token: Option<String>,
    #[serde(alias = "appId")]
    app_id: Option<String>,
    #[serde(alias = "appSecret")]
    #[schema(value_type = Option<String>, format = Password)]
    app_secret: Option<SecretString>,
}

impl RefreshBody {
    fn token(&self) -> Result<&str, Error> {
        self.refresh_token
            .as_deref()
            .ok_or_else(|| Error::invalid("Invalid request body: missing field `refresh_token`"))
    }

    /// The app credential, when either half is given: then both are checked, and a missing
    /// half is a wrong one.
    fn credentials(&self) -> Option<AppCredentials> {
        (self.app_id.is_some() || self.app_secret.is_some()).then(|| AppCredentials {
            app_id: self.app_id.clone().unwrap_or_default(),
            app_secret: self.app_secret.clone().unwrap_or_else(|| SecretString::from(String::new())),
        })
    }
}

async fn signup(
    state: &AppState,
    slug: &str,
    meta: Meta,
    api_key: Option<String>,
    body: SignupBody,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    let input = SignupInput {
        email: body.email,
        username: body.username,
        password: body.password,
        display_name: body.display_name,
        email_verified: false,
        api_key,
    };
    Ok((StatusCode::CREATED, Json(state.engine.signup(slug, input, &meta.0).await?)))
}

async fn signin(state: &AppState, slug: &str, meta: Meta, body: SigninBody) -> ApiResult<Json<TokenPair>> {
    Ok(Json(state.engine.signin(slug, &body.identifier, body.password, &meta.0).await?))
}

/// An app's refresh or logout body, or, without a refresh token in it, the refresh-token
/// cookie (seed 004) once the request passes the checks of a cookie-authenticated write.
async fn from_body_or_cookie(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    body: Option<ApiJson<RefreshBody>>,
) -> ApiResult<(RefreshBody, bool)> {
    let body = body.map(|ApiJson(b)| b).unwrap_or(RefreshBody { refresh_token: None, app_id: None, app_secret: None });
    if body.refresh_token.is_some() {
        return Ok((body, false));
    }
    let Some(cookie) = browser::request_cookie(headers, browser::REFRESH_COOKIE) else {
        return Err(Error::invalid("Invalid request body: missing field `refresh_token`").into());
    };
    let app = s.engine.app(slug).await.map_err(|_| Error::Unauthenticated("Invalid refresh token"))?;
    browser::check_cookie_write(&s.engine, &app, headers)?;
    Ok((RefreshBody { refresh_token: Some(cookie), ..body }, true))
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/signup",
    operation_id = "auth_app_signup",
    tag = "consumer auth",
    request_body(content = SignupBody, example = json!({"email": "ada@example.com", "username": "ada", "password": "CorrectHorseBatteryStaple", "display_name": "Ada Lovelace"})),
    responses((status = 201, description = "The end-user is created and signed in", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600}))),
    security((), ("api_key" = []))
)]
pub async fn app_signup(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    signup(&s, &slug, meta, bearer_of(&headers), b).await
}
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/signin",
    operation_id = "auth_app_signin",
    tag = "consumer auth",
    request_body(content = SigninBody, example = json!({"identifier": "ada", "password": "CorrectHorseBatteryStaple"})),
    responses((status = 200, description = "Signed in (`identifier`: the username or a verified email)", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600})))
)]
pub async fn app_signin(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<SigninBody>,
) -> ApiResult<Json<TokenPair>> {
    signin(&s, &slug, meta, b).await
}
/// With the refresh-token cookie, the rotated tokens go back as cookies too.
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/refresh",
    operation_id = "auth_app_refresh",
    tag = "consumer auth",
    request_body(content = Option<RefreshBody>, description = "The refresh token (and, from an app's backend, its `app_id` and `app_secret`); without one, the `refresh_token` cookie", example = json!({"refresh_token": "eyJhbGc... (the previous refresh)"})),
    responses((status = 200, description = "A fresh pair; the refresh token is rotated (reusing the previous one ends the session)", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600}))),
    security((), ("refresh_cookie" = []))
)]
pub async fn app_refresh(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Option<ApiJson<RefreshBody>>,
) -> ApiResult<(HeaderMap, Json<TokenPair>)> {
    let (b, by_cookie) = from_body_or_cookie(&s, &slug, &headers, body).await?;
    let credentials = b.credentials();
    let pair = s.engine.refresh(&slug, b.token()?, credentials.as_ref()).await?;
    let mut out = HeaderMap::new();
    if by_cookie {
        let ttl = s.engine.app(&slug).await?.config.refresh_token_ttl_seconds;
        browser::set_token_cookies(&mut out, &s.engine, &slug, &pair, ttl);
    }
    Ok((out, Json(pair)))
}
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/logout",
    operation_id = "auth_app_logout",
    tag = "consumer auth",
    request_body(content = Option<RefreshBody>, description = "The refresh token; without one, the `refresh_token` cookie", example = json!({"refresh_token": "eyJhbGc..."})),
    responses((status = 204, description = "The session of the refresh token ended")),
    security((), ("refresh_cookie" = []))
)]
pub async fn app_logout(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Option<ApiJson<RefreshBody>>,
) -> ApiResult<(HeaderMap, StatusCode)> {
    let (b, by_cookie) = from_body_or_cookie(&s, &slug, &headers, body).await?;
    let credentials = b.credentials();
    s.engine.logout(&slug, b.token()?, credentials.as_ref()).await?;
    let mut out = HeaderMap::new();
    if by_cookie {
        browser::clear_token_cookies(&mut out, &s.engine, &slug);
    }
    Ok((out, StatusCode::NO_CONTENT))
}
#[utoipa::path(
    get,
    path = "/{slug}/v1/me",
    operation_id = "auth_app_me",
    tag = "consumer me",
    responses((status = 200, description = "The signed-in end-user", body = Profile, example = json!({"id": "648616c8-...", "username": "ada", "displayName": "Ada Lovelace", "role": "member", "joinedAt": "2026-05-11T11:39:37Z", "createdAt": "2026-05-11T11:39:35Z", "email": "ada@example.com", "emailVerifiedAt": null}))),
    security(("bearer" = []))
)]
pub async fn app_me(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<std::sync::Arc<Profile>>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.profile(&me).await?))
}

#[utoipa::path(
    post,
    path = "/auth/signup",
    operation_id = "auth_account_signup",
    tag = "accounts",
    request_body(content = SignupBody, example = json!({"email": "you@example.com", "username": "yourname", "password": "YourSecurePassword123"})),
    responses((status = 201, description = "The account is created and signed in", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600})))
)]
pub async fn account_signup(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    signup(&s, PLATFORM_SLUG, meta, None, b).await
}
#[utoipa::path(
    post,
    path = "/auth/signin",
    operation_id = "auth_account_signin",
    tag = "accounts",
    request_body(content = SigninBody, example = json!({"identifier": "yourname", "password": "YourSecurePassword123"})),
    responses((status = 200, description = "Signed in", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600})))
)]
pub async fn account_signin(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<SigninBody>,
) -> ApiResult<Json<TokenPair>> {
    signin(&s, PLATFORM_SLUG, meta, b).await
}
/// Accounts are nobody's backend: app credentials have no meaning here, and are not read.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    operation_id = "auth_account_refresh",
    tag = "accounts",
    request_body(content = RefreshBody, example = json!({"refresh_token": "eyJhbGc..."})),
    responses((status = 200, description = "A fresh pair; the refresh token is rotated", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600})))
)]
pub async fn account_refresh(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(s.engine.refresh(PLATFORM_SLUG, b.token()?, None).await?))
}
#[utoipa::path(
    post,
    path = "/auth/logout",
    operation_id = "auth_account_logout",
    tag = "accounts",
    request_body(content = RefreshBody, example = json!({"refresh_token": "eyJhbGc..."})),
    responses((status = 204, description = "The session of the refresh token ended"))
)]
pub async fn account_logout(State(s): State<AppState>, ApiJson(b): ApiJson<RefreshBody>) -> ApiResult<StatusCode> {
    s.engine.logout(PLATFORM_SLUG, b.token()?, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
#[utoipa::path(
    get,
    path = "/auth/me",
    operation_id = "auth_account_me",
    tag = "accounts",
    responses((status = 200, description = "The signed-in account", body = Profile)),
    security(("bearer" = []))
)]
pub async fn account_me(
    State(s): State<AppState>,
    Account(account): Account,
) -> ApiResult<Json<std::sync::Arc<Profile>>> {
    Ok(Json(s.engine.profile(&account).await?))
}

/// The end-user's role and the flat set of its permissions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MyPermissions {
    role: String,
    permissions: Vec<String>,
}

/// The end-user's live sessions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MySessions {
    sessions: Vec<domain::engine::SessionView>,
}

/// The end-user behind a bearer of the app in the path.
async fn end_user(s: &AppState, slug: &str, token: &str) -> ApiResult<domain::engine::Principal> {
    Ok(s.engine.authenticate(slug, token).await?)
}

#[utoipa::path(
    get,
    path = "/{slug}/v1/me/permissions",
    operation_id = "auth_my_permissions",
    tag = "consumer me",
    responses((status = 200, description = "The end-user's role and permissions", body = MyPermissions)),
    security(("bearer" = []))
)]
pub async fn my_permissions(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyPermissions>> {
    let me = end_user(&s, &slug, &token).await?;
    let permissions = s.engine.my_permissions(&me).await?;
    Ok(Json(MyPermissions { role: me.role, permissions: Vec::clone(&permissions) }))
}

#[utoipa::path(
    get,
    path = "/{slug}/v1/me/sessions",
    operation_id = "auth_my_sessions",
    tag = "consumer me",
    responses((status = 200, description = "The end-user's live sessions", body = MySessions)),
    security(("bearer" = []))
)]
pub async fn my_sessions(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MySessions>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(MySessions { sessions: s.engine.my_sessions(&me).await? }))
}

#[utoipa::path(
    delete,
    path = "/{slug}/v1/me/sessions/{id}",
    operation_id = "auth_revoke_my_session",
    tag = "consumer me",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []))
)]
pub async fn revoke_my_session(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = end_user(&s, &slug, &token).await?;
    s.engine.revoke_my_session(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    #[serde(alias = "q")]
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// The app's users, for end-users whose role holds `user.list` when the app enforces
/// permissions (any valid token otherwise, as seed 001 describes).
#[utoipa::path(
    get,
    path = "/{slug}/v1/users",
    operation_id = "auth_app_users",
    tag = "consumer me",
    params(UsersQuery),
    responses((status = 200, description = "OK", body = domain::engine::UserPage)),
    security(("bearer" = []))
)]
pub async fn app_users(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    axum::extract::Query(q): axum::extract::Query<UsersQuery>,
) -> ApiResult<Json<domain::engine::UserPage>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.app_users_for(&me, q.search.as_deref(), q.cursor.as_deref(), q.limit).await?))
}

/// The app's roles, gated by `role.read` when the app enforces permissions.
#[utoipa::path(
    get,
    path = "/{slug}/v1/roles",
    operation_id = "auth_app_roles",
    tag = "consumer me",
    responses((status = 200, description = "OK", body = super::manage::RoleList)),
    security(("bearer" = []))
)]
pub async fn app_roles(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<super::manage::RoleList>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(super::manage::role_list(s.engine.app_roles_for(&me).await?)))
}
