//! Sign-up, sign-in, refresh, logout and `me`: one set of handlers serving both the
//! accounts (`/api/v1/auth/*`, the `platform` app) and every app's end-users
//! (`/{slug}/v1/auth/*`).

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::engine::{Profile, SignupInput};
use domain::tokens::TokenPair;
use domain::types::PLATFORM_SLUG;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ApiJson, ApiResult};
use super::extract::{Account, Bearer, Meta};

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

#[derive(Deserialize)]
pub struct RefreshBody {
    #[serde(alias = "refreshToken")]
    refresh_token: String,
}

async fn signup(
    state: &AppState,
    slug: &str,
    meta: Meta,
    body: SignupBody,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    let input = SignupInput {
        email: body.email,
        username: body.username,
        password: body.password,
        display_name: body.display_name,
        email_verified: false,
    };
    Ok((StatusCode::CREATED, Json(state.engine.signup(slug, input, &meta.0).await?)))
}

async fn signin(state: &AppState, slug: &str, meta: Meta, body: SigninBody) -> ApiResult<Json<TokenPair>> {
    Ok(Json(state.engine.signin(slug, &body.identifier, body.password, &meta.0).await?))
}

async fn refresh(state: &AppState, slug: &str, body: RefreshBody) -> ApiResult<Json<TokenPair>> {
    Ok(Json(state.engine.refresh(slug, &body.refresh_token).await?))
}

async fn logout(state: &AppState, slug: &str, body: RefreshBody) -> ApiResult<StatusCode> {
    state.engine.logout(slug, &body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn app_signup(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    signup(&s, &slug, meta, b).await
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
    refresh(&s, &slug, b).await
}
pub async fn app_logout(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<StatusCode> {
    logout(&s, &slug, b).await
}
pub async fn app_me(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Profile>> {
    let principal = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.profile(&principal).await?))
}

pub async fn account_signup(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<SignupBody>,
) -> ApiResult<(StatusCode, Json<TokenPair>)> {
    signup(&s, PLATFORM_SLUG, meta, b).await
}
pub async fn account_signin(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<SigninBody>,
) -> ApiResult<Json<TokenPair>> {
    signin(&s, PLATFORM_SLUG, meta, b).await
}
pub async fn account_refresh(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<Json<TokenPair>> {
    refresh(&s, PLATFORM_SLUG, b).await
}
pub async fn account_logout(State(s): State<AppState>, ApiJson(b): ApiJson<RefreshBody>) -> ApiResult<StatusCode> {
    logout(&s, PLATFORM_SLUG, b).await
}
pub async fn account_me(State(s): State<AppState>, Account(account): Account) -> ApiResult<Json<Profile>> {
    Ok(Json(s.engine.profile(&account).await?))
}
