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

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy, Meta};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = LinksInviteBody)]
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

#[utoipa::path(
    post,
    path = "/apps/{slug}/end-users/invites",
    operation_id = "links_create_invite",
    tag = "end-users",
    request_body(content = InviteBody, example = json!({"email": "newuser@example.com", "name": "New User", "roleName": "member", "expiresInHours": 72})),
    responses((status = 201, description = "The invite; its code is mailed to the address", body = InviteView)),
    security(("bearer" = []), ("api_key" = []))
)]
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

#[utoipa::path(
    get,
    path = "/apps/{slug}/end-users/invites",
    operation_id = "links_list_invites",
    tag = "end-users",
    responses((status = 200, description = "The app's pending invites", body = InviteList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_invites(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<InviteList>> {
    Ok(Json(InviteList { invites: s.engine.list_invites(&c, &slug).await? }))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/end-users/invites/{id}",
    operation_id = "links_revoke_invite",
    tag = "end-users",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke_invite(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_invite(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    cursor: Option<String>,
}

/// The app's mail (the dev outbox, and what was sent), newest first.
#[utoipa::path(
    get,
    path = "/apps/{slug}/mail",
    operation_id = "links_mail",
    tag = "audit",
    params(CursorQuery),
    responses((status = 200, description = "OK", body = MailPage)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn mail(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(q): Query<CursorQuery>,
) -> ApiResult<Json<MailPage>> {
    Ok(Json(s.engine.mail_page(&c, &slug, q.cursor.as_deref()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    kind: String,
    #[serde(default)]
    template: Option<shared::config::MailTemplate>,
}

/// A message as the app would send it (or in the wording given), with example values.
#[utoipa::path(
    post,
    path = "/apps/{slug}/mail/preview",
    operation_id = "links_preview_mail",
    tag = "audit",
    request_body(content = PreviewBody),
    responses((status = 200, description = "OK", body = domain::mail::render::Rendered)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn preview_mail(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<PreviewBody>,
) -> ApiResult<Json<domain::mail::render::Rendered>> {
    Ok(Json(s.engine.preview_mail(&c, &slug, &b.kind, b.template).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AcceptInviteBody {
    code: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/accept-invite",
    operation_id = "links_accept_invite",
    tag = "consumer auth",
    request_body(content = AcceptInviteBody, example = json!({"code": "inv_…", "password": "CorrectHorseBatteryStaple"})),
    responses((status = 200, description = "The invited end-user is signed in", body = TokenPair, example = json!({"access_token": "eyJhbGciOiJSUzI1NiIs...", "refresh_token": "eyJhbGciOiJSUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600})))
)]
pub async fn accept_invite(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<AcceptInviteBody>,
) -> ApiResult<Json<TokenPair>> {
    Ok(Json(s.engine.accept_invite(&slug, &b.code, b.password, &meta.0).await?))
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/send-verification-email",
    operation_id = "links_send_verification_email",
    tag = "consumer auth",
    responses((status = 202, description = "The link is on its way", body = Message)),
    security(("bearer" = []))
)]
pub async fn send_verification_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let me = s.engine.authenticate(&slug, &token).await?;
    s.engine.send_verification_email(&me).await?;
    Ok((StatusCode::ACCEPTED, Json(Message { message: "A verification link is on its way" })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    token: String,
}

/// A link's spend: what happened, and where the app asked the user to be sent next.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LinkDone)]
pub struct Done {
    message: &'static str,
    #[serde(rename = "redirectTo", skip_serializing_if = "Option::is_none")]
    redirect_to: Option<String>,
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/verify-email",
    operation_id = "links_verify_email",
    tag = "consumer auth",
    request_body(content = TokenBody),
    responses((status = 200, description = "The address is verified", body = Done))
)]
pub async fn verify_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<TokenBody>,
) -> ApiResult<Json<Done>> {
    let answer = s.engine.verify_email(&slug, &b.token, &meta.0).await?;
    Ok(Json(Done { message: "Email verified", redirect_to: answer.redirect_to }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EmailBody {
    email: String,
    #[serde(default, rename = "redirectTo", alias = "redirect_to")]
    redirect_to: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteList {
    invites: Vec<InviteView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactList {
    contacts: Vec<domain::engine::ContactView>,
}

/// An answer that only says what happened.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Message {
    message: &'static str,
}

/// The same answer whether or not the address has a user.
const SENT_IF_KNOWN: &str = "If this address belongs to an account, a link is on its way";

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/forgot-password",
    operation_id = "links_forgot_password",
    tag = "consumer auth",
    request_body(content = EmailBody),
    responses((status = 200, description = "The same answer whether or not the address has a user", body = Message))
)]
pub async fn forgot_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<EmailBody>,
) -> ApiResult<Json<Message>> {
    s.engine.forgot_password(&slug, &b.email, b.redirect_to.as_deref(), &meta.0).await?;
    Ok(Json(Message { message: SENT_IF_KNOWN }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = LinksResetBody)]
pub struct ResetBody {
    token: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/reset-password",
    operation_id = "links_reset_password",
    tag = "consumer auth",
    request_body(content = ResetBody),
    responses((status = 200, description = "The password is changed and every session of the user ended", body = Done))
)]
pub async fn reset_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<ResetBody>,
) -> ApiResult<Json<Done>> {
    let answer = s.engine.reset_password(&slug, &b.token, b.password, &meta.0).await?;
    Ok(Json(Done { message: "Password changed; every session was signed out", redirect_to: answer.redirect_to }))
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/magic-link",
    operation_id = "links_magic_link",
    tag = "consumer auth",
    request_body(content = EmailBody),
    responses((status = 200, description = "The same answer whether or not the address has a user", body = Message))
)]
pub async fn magic_link(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<EmailBody>,
) -> ApiResult<Json<Message>> {
    s.engine.magic_link(&slug, &b.email, b.redirect_to.as_deref(), &meta.0).await?;
    Ok(Json(Message { message: SENT_IF_KNOWN }))
}

/// The token pair, and where the link said to go next.
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/sign-in/token",
    operation_id = "links_sign_in_with_token",
    tag = "consumer auth",
    request_body(content = TokenBody),
    responses((status = 200, description = "Signed in: a token pair, with `redirectTo` when the link carried one", body = SignedInByLink))
)]
pub async fn sign_in_with_token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<TokenBody>,
) -> ApiResult<Json<SignedInByLink>> {
    let (pair, answer) = s.engine.sign_in_with_token(&slug, &b.token, &meta.0).await?;
    Ok(Json(SignedInByLink { pair, redirect_to: answer.redirect_to }))
}

/// A token pair, and where the app asked the user to be sent next.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedInByLink {
    #[serde(flatten)]
    pair: TokenPair,
    #[serde(rename = "redirectTo", skip_serializing_if = "Option::is_none")]
    redirect_to: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CheckEmailBody {
    email: String,
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/check-email",
    operation_id = "links_check_email",
    tag = "consumer auth",
    request_body(content = CheckEmailBody),
    responses((status = 200, description = "Whether the address has a user, and its methods", body = EmailCheck))
)]
pub async fn check_email(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<CheckEmailBody>,
) -> ApiResult<Json<EmailCheck>> {
    let (exists, methods) = s.engine.check_email(&slug, &b.email, &meta.0).await?;
    Ok(Json(EmailCheck { exists, methods }))
}

/// Whether an address has a user, and how it can sign in.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EmailCheck {
    exists: bool,
    /// `password`, `magic_link`, `otp`, …
    methods: Vec<&'static str>,
}

/// One way to sign in, and where its form submits.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Method {
    enabled: bool,
    submit: String,
}

/// An upstream provider the app offers, with its flow's URLs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProviderMethod {
    provider: String,
    name: String,
    kind: String,
    authorize: String,
    callback: String,
}

/// The sign-in methods of an app.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Methods {
    password: Method,
    magic_link: Method,
    signup: Method,
    check_email: Method,
    forgot_password: Method,
    oauth: Vec<ProviderMethod>,
}

/// What the app offers, with where each form submits.
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/methods",
    operation_id = "links_methods",
    tag = "consumer auth",
    responses((status = 200, description = "The app's sign-in methods", body = Methods))
)]
pub async fn methods(State(s): State<AppState>, Path(slug): Path<String>) -> ApiResult<Json<Methods>> {
    let m = s.engine.methods(&slug).await?;
    let base = format!("{}/{slug}/v1/auth", s.engine.public_url());
    let providers = if m.password { s.engine.enabled_providers(&slug).await? } else { Vec::new() };
    let oauth = providers
        .into_iter()
        .map(|p| ProviderMethod {
            provider: p.name,
            name: p.display_name,
            kind: p.kind,
            authorize: p.authorize_url,
            callback: p.callback_url,
        })
        .collect();
    let method = |enabled: bool, path: &str| Method { enabled, submit: format!("{base}/{path}") };
    Ok(Json(Methods {
        password: method(m.password, "signin"),
        magic_link: method(m.magic_link, "magic-link"),
        signup: method(m.signup, "signup"),
        check_email: method(m.check_email, "check-email"),
        forgot_password: method(m.password, "forgot-password"),
        oauth,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewContactBody {
    kind: String,
    value: String,
    #[serde(default, alias = "currentPassword", alias = "current_password")]
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct PasswordBody {
    #[serde(default, alias = "currentPassword", alias = "current_password")]
    #[schema(value_type = Option<String>, format = Password)]
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

#[utoipa::path(
    get,
    path = "/{slug}/v1/me/contacts",
    operation_id = "links_my_contacts",
    tag = "consumer me",
    responses((status = 200, description = "The end-user's emails and phone numbers", body = ContactList)),
    security(("bearer" = []))
)]
pub async fn my_contacts(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<ContactList>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(ContactList { contacts: s.engine.my_contacts(&me).await? }))
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/me/contacts",
    operation_id = "links_add_contact",
    tag = "consumer me",
    request_body(content = NewContactBody),
    responses((status = 201, description = "Created", body = domain::engine::ContactView)),
    security(("bearer" = []))
)]
pub async fn add_contact(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<NewContactBody>,
) -> ApiResult<(StatusCode, Json<domain::engine::ContactView>)> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok((StatusCode::CREATED, Json(s.engine.add_contact(&me, &b.kind, &b.value, b.password).await?)))
}

#[utoipa::path(
    delete,
    path = "/{slug}/v1/me/contacts/{id}",
    operation_id = "links_remove_contact",
    tag = "consumer me",
    request_body(content = Option<PasswordBody>, description = "The current password, when the app asks for it to change contacts"),
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    post,
    path = "/{slug}/v1/me/contacts/{id}/primary",
    operation_id = "links_make_primary",
    tag = "consumer me",
    request_body(content = Option<PasswordBody>, description = "The current password, when the app asks for it to change contacts"),
    responses((status = 200, description = "OK", body = domain::engine::ContactView)),
    security(("bearer" = []))
)]
pub async fn make_primary(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    body: axum::body::Bytes,
) -> ApiResult<Json<domain::engine::ContactView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.make_primary(&me, &id, optional_password(&body)?).await?))
}
