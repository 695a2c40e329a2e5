//! Seed 002's backend-only OTP sign-in (`send-otp` and `verify-otp`, authenticated by the
//! app's credentials in the body), and codes that prove a signed-in user's contact.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::engine::{AppCredentials, ContactView, Destination, OtpSent};
use domain::tokens::TokenPair;
use domain::Error;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, Meta};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SendOtpBody {
    #[serde(alias = "appId")]
    app_id: String,
    #[serde(alias = "appSecret")]
    #[schema(value_type = String, format = Password)]
    app_secret: SecretString,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyOtpBody {
    #[serde(alias = "appId")]
    app_id: String,
    #[serde(alias = "appSecret")]
    #[schema(value_type = String, format = Password)]
    app_secret: SecretString,
    #[serde(alias = "otpRequestId")]
    otp_request_id: String,
    #[serde(alias = "code")]
    otp: String,
}

/// `POST /{slug}/v1/auth/send-otp` `{app_id, app_secret, phone | email}` →
/// `{otp_request_id, expires_in}`.
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/send-otp",
    operation_id = "otp_send_otp",
    tag = "consumer auth",
    request_body(content = SendOtpBody, example = json!({"app_id": "app_…", "app_secret": "…", "phone": "+14155550123"})),
    responses((status = 200, description = "OK", body = OtpSent))
)]
pub async fn send_otp(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<SendOtpBody>,
) -> ApiResult<Json<OtpSent>> {
    let to = match (b.email.as_deref(), b.phone.as_deref()) {
        (Some(email), None) => Destination::Email(email),
        (None, Some(phone)) => Destination::Phone(phone),
        _ => return Err(Error::invalid("Give either email or phone").into()),
    };
    let credentials = AppCredentials { app_id: b.app_id, app_secret: b.app_secret };
    Ok(Json(s.engine.send_otp(&slug, &credentials, to, &meta.0).await?))
}

/// `POST /{slug}/v1/auth/verify-otp` `{app_id, app_secret, otp_request_id, otp}` → a token
/// pair.
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/verify-otp",
    operation_id = "otp_verify_otp",
    tag = "consumer auth",
    request_body(content = VerifyOtpBody),
    responses((status = 200, description = "OK", body = TokenPair))
)]
pub async fn verify_otp(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<VerifyOtpBody>,
) -> ApiResult<Json<TokenPair>> {
    let credentials = AppCredentials { app_id: b.app_id, app_secret: b.app_secret };
    Ok(Json(s.engine.verify_otp(&slug, &credentials, &b.otp_request_id, &b.otp, &meta.0).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OtpCodeBody)]
pub struct CodeBody {
    #[serde(alias = "otp")]
    code: String,
}

/// `POST /{slug}/v1/me/contacts/{id}/verification`: sends a code to one of the caller's
/// unverified contacts (SMS to a phone, mail to an address).
#[utoipa::path(
    post,
    path = "/{slug}/v1/me/contacts/{id}/verification",
    operation_id = "otp_send_contact_code",
    tag = "consumer me",
    responses((status = 202, description = "A code is on its way to the contact", body = OtpSent)),
    security(("bearer" = []))
)]
pub async fn send_contact_code(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<(StatusCode, Json<OtpSent>)> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok((StatusCode::ACCEPTED, Json(s.engine.send_contact_code(&me, &id).await?)))
}

/// `POST /{slug}/v1/me/contacts/{id}/verify` `{code}`: the code proves the contact.
#[utoipa::path(
    post,
    path = "/{slug}/v1/me/contacts/{id}/verify",
    operation_id = "otp_verify_contact_code",
    tag = "consumer me",
    request_body(content = CodeBody),
    responses((status = 200, description = "OK", body = ContactView)),
    security(("bearer" = []))
)]
pub async fn verify_contact_code(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<CodeBody>,
) -> ApiResult<Json<ContactView>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(s.engine.verify_contact_code(&me, &id, &b.code).await?))
}
