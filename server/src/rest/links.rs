//! Invites, emailed links and what a sign-in page asks first: the JSON side. The pages that
//! emailed links land on are `pages.rs`.

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::engine::{InviteInput, InviteView, MailPage};
use domain::tokens::TokenPair;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy, Meta};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    #[serde(default, alias = "displayName", alias = "display_name")]
    name: Option<String>,
    #[serde(default, rename = "roleName", alias = "role_name", alias = "role")]
    role_name: Option<String>,
    #[serde(default, rename = "expiresInHours", alias = "expires_in_hours")]
    expires_in_hours: Option<i64>,
}

pub async fn create_invite(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<InviteView>)> {
    let input =
        InviteInput { email: b.email, name: b.name, role_name: b.role_name, expires_in_hours: b.expires_in_hours };
    Ok((StatusCode::CREATED, Json(s.engine.create_invite(&c, &slug, input).await?)))
}

pub async fn list_invites(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "invites": s.engine.list_invites(&c, &slug).await? })))
}

pub async fn revoke_invite(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_invite(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct CursorQuery {
    cursor: Option<String>,
}

/// The app's mail (the dev outbox, and what was sent), newest first.
pub async fn mail(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<MailPage>> {
    Ok(Json(s.engine.mail_page(&c, &slug, q.cursor.as_deref()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    kind: String,
    #[serde(default)]
    template: Option<shared::config::MailTemplate>,
}

/// A message as the app would send it (or in the wording given), with example values.
pub async fn preview_mail(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<PreviewBody>,
) -> ApiResult<Json<domain::mail::render::Rendered>> {
    Ok(Json(s.engine.preview_mail(&c, &slug, &b.kind, b.template).await?))
}

#[derive(Deserialize)]
pub struct AcceptInviteBody {
    code: String,
    password: SecretString,
}

pub async fn accept_invite(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<AcceptInviteBody>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(s.engine.accept_invite(&slug, &b.code, b.password, &meta.0).await?))
}

pub async fn send_verification_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.send_verification_email(&me).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"message": "A verification link is on its way"}))))
}

#[derive(Deserialize)]
pub struct TokenBody {
    token: String,
}

#[derive(Serialize)]
struct Done {
    message: &'static str,
    #[serde(rename = "redirectTo", skip_serializing_if = "Option::is_none")]
    redirect_to: Option<String>,
}

pub async fn verify_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<TokenBody>,
) -> ApiResult<Json<Value>> {
    let answer = s.engine.verify_email(&slug, &b.token, &meta.0).await?;
    Ok(Json(json!(Done { message: "Email verified", redirect_to: answer.redirect_to })))
}

#[derive(Deserialize)]
pub struct EmailBody {
    email: String,
    #[serde(default, rename = "redirectTo", alias = "redirect_to")]
    redirect_to: Option<String>,
}

/// The same answer whether or not the address has a user.
const SENT_IF_KNOWN: &str = "If this address belongs to an account, a link is on its way";

pub async fn forgot_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<EmailBody>,
) -> ApiResult<Json<Value>> {
    s.engine.forgot_password(&slug, &b.email, b.redirect_to.as_deref(), &meta.0).await?;
    Ok(Json(json!({ "message": SENT_IF_KNOWN })))
}

#[derive(Deserialize)]
pub struct ResetBody {
    token: String,
    password: SecretString,
}

pub async fn reset_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<ResetBody>,
) -> ApiResult<Json<Value>> {
    let answer = s.engine.reset_password(&slug, &b.token, b.password, &meta.0).await?;
    Ok(Json(json!(Done { message: "Password changed; every session was signed out", redirect_to: answer.redirect_to })))
}

pub async fn magic_link(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<EmailBody>,
) -> ApiResult<Json<Value>> {
    s.engine.magic_link(&slug, &b.email, b.redirect_to.as_deref(), &meta.0).await?;
    Ok(Json(json!({ "message": SENT_IF_KNOWN })))
}

/// The token pair, and where the link said to go next.
pub async fn sign_in_with_token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<TokenBody>,
) -> ApiResult<Json<Value>> {
    let (pair, answer) = s.engine.sign_in_with_token(&slug, &b.token, &meta.0).await?;
    let mut body = serde_json::to_value(pair).map_err(domain::Error::internal)?;
    if let (Some(to), Some(map)) = (answer.redirect_to, body.as_object_mut()) {
        map.insert("redirectTo".into(), Value::String(to));
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
pub struct CheckEmailBody {
    email: String,
}

pub async fn check_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<CheckEmailBody>,
) -> ApiResult<Json<Value>> {
    let (exists, methods) = s.engine.check_email(&slug, &b.email, &meta.0).await?;
    Ok(Json(json!({ "exists": exists, "methods": methods })))
}

/// What the app offers, with where each form submits.
pub async fn methods(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    let m = s.engine.methods(&slug).await?;
    let base = format!("{}/{slug}/v1/auth", s.engine.public_url());
    let providers = if m.password { s.engine.enabled_providers(&slug).await? } else { Vec::new() };
    let oauth: Vec<Value> = providers
        .into_iter()
        .map(|p| {
            json!({
                "provider": p.name,
                "name": p.display_name,
                "kind": p.kind,
                "authorize": p.authorize_url,
                "callback": p.callback_url,
            })
        })
        .collect();
    Ok(Json(json!({
        "password": { "enabled": m.password, "submit": format!("{base}/signin") },
        "magic_link": { "enabled": m.magic_link, "submit": format!("{base}/magic-link") },
        "signup": { "enabled": m.signup, "submit": format!("{base}/signup") },
        "check_email": { "enabled": m.check_email, "submit": format!("{base}/check-email") },
        "forgot_password": { "enabled": m.password, "submit": format!("{base}/forgot-password") },
        "oauth": oauth,
    })))
}

#[derive(Deserialize)]
pub struct NewContactBody {
    kind: String,
    value: String,
    #[serde(default, alias = "currentPassword", alias = "current_password")]
    password: Option<SecretString>,
}

#[derive(Deserialize, Default)]
pub struct PasswordBody {
    #[serde(default, alias = "currentPassword", alias = "current_password")]
    password: Option<SecretString>,
}

/// A JSON body that may be absent (a `DELETE` without one).
fn optional_password(body: &axum::body::Bytes) -> ApiResult<Option<SecretString>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let parsed: PasswordBody =
        serde_json::from_slice(body).map_err(|e| domain::Error::invalid(format!("Invalid request body: {e}")))?;
    Ok(parsed.password)
}

pub async fn my_contacts(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Value>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(json!({ "contacts": s.engine.my_contacts(&me).await? })))
}

pub async fn add_contact(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<NewContactBody>,
) -> ApiResult<(StatusCode, Json<domain::engine::ContactView>)> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok((StatusCode::CREATED, Json(s.engine.add_contact(&me, &b.kind, &b.value, b.password).await?)))
}

pub async fn remove_contact(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.remove_contact(&me, &id, optional_password(&body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn make_primary(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    body: axum::body::Bytes,
) -> ApiResult<Json<domain::engine::ContactView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.make_primary(&me, &id, optional_password(&body)?).await?))
}
