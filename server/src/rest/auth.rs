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
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ApiJson, ApiResult};
use super::extract::{bearer_of, Account, Bearer, Meta};

#[derive(Deserialize)]
pub struct SignupBody {
    email: String,
    username: String,
    password: SecretString,
    #[serde(alias = "displayName", alias = "name")]
    display_name: Option<String>,
}

#[derive(Deserialize)]
pub struct SigninBody {
    #[serde(alias = "username", alias = "email")]
    identifier: String,
    password: SecretString,
}

/// Refresh and logout: the refresh token, and from an app's backend its app credential
/// (seed 002: `{app_id, app_secret, refresh_token}`).
#[derive(Deserialize)]
pub struct RefreshBody {
    #[serde(alias = "refreshToken")]
    refresh_token: String,
    #[serde(alias = "appId")]
    app_id: Option<String>,
    #[serde(alias = "appSecret")]
    app_secret: Option<SecretString>,
}

impl RefreshBody {
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

async fn refresh(
    state: &AppState,
    slug: &str,
    body: RefreshBody,
    credentials: Option<AppCredentials>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(state.engine.refresh(slug, &body.refresh_token, credentials.as_ref()).await?))
}

async fn logout(
    state: &AppState,
    slug: &str,
    body: RefreshBody,
    credentials: Option<AppCredentials>,
) -> ApiResult<StatusCode> {
    state.engine.logout(slug, &body.refresh_token, credentials.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn app_signup(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    signup(&s, &slug, meta, bearer_of(&headers), b).await
}
pub async fn app_signin(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<SigninBody>,
) -> ApiResult<Json<TokenPair>> {
    signin(&s, &slug, meta, b).await
}
pub async fn app_refresh(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<Json<TokenPair>> {
    let credentials = b.credentials();
    refresh(&s, &slug, b, credentials).await
}
pub async fn app_logout(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<StatusCode> {
    let credentials = b.credentials();
    logout(&s, &slug, b, credentials).await
}
pub async fn app_me(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<std::sync::Arc<Profile>>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.profile(&me).await?))
}

pub async fn account_signup(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    signup(&s, PLATFORM_SLUG, meta, None, b).await
}
pub async fn account_signin(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<SigninBody>,
) -> ApiResult<Json<TokenPair>> {
    signin(&s, PLATFORM_SLUG, meta, b).await
}
/// Accounts are nobody's backend: app credentials have no meaning here, and are not read.
pub async fn account_refresh(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<Json<TokenPair>> {
    refresh(&s, PLATFORM_SLUG, b, None).await
}
pub async fn account_logout(State(s): State<AppState>, ApiJson(b): ApiJson<RefreshBody>) -> ApiResult<StatusCode> {
    logout(&s, PLATFORM_SLUG, b, None).await
}
pub async fn account_me(
    State(s): State<AppState>,
    Account(account): Account,
) -> ApiResult<Json<std::sync::Arc<Profile>>> {
    Ok(Json(s.engine.profile(&account).await?))
}

/// The end-user behind a bearer of the app in the path.
async fn end_user(s: &AppState, slug: &str, token: &str) -> ApiResult<domain::engine::Principal> {
    Ok(s.engine.authenticate(slug, token).await?)
}

pub async fn my_permissions(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<serde_json::Value>> {
    let me = end_user(&s, &slug, &token).await?;
    let permissions = s.engine.my_permissions(&me).await?;
    Ok(Json(serde_json::json!({ "role": me.role, "permissions": *permissions })))
}

pub async fn my_sessions(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<serde_json::Value>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(serde_json::json!({ "sessions": s.engine.my_sessions(&me).await? })))
}

pub async fn revoke_my_session(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = end_user(&s, &slug, &token).await?;
    s.engine.revoke_my_session(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(alias = "q")]
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// The app's users, for end-users whose role holds `user.list` when the app enforces
/// permissions (any valid token otherwise, as seed 001 describes).
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
pub async fn app_roles(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<super::manage::RoleList>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(super::manage::role_list(s.engine.app_roles_for(&me).await?)))
}
