//! Signing in with a one-time code on the hosted pages (apps that turn OTP on): where to
//! send the code, then the code. The engine's page entry points keep every limit of the
//! backend API's, without the app's credentials.

use app::hosted::{self, FormError, OtpAskView, OtpCodeView};
use app::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use domain::engine::Destination;
use serde::Deserialize;

use super::links::bind_cookie;
use super::signin::posted;
use super::{after_sign_in, allowed_redirect, status_of, Hosted};
use crate::rest::extract::Meta;

#[derive(Debug, Default, Deserialize)]
pub struct OtpQuery {
    lang: Option<String>,
    redirect_to: Option<String>,
    request: Option<String>,
}

/// The app's page context, or the page saying OTP is not offered.
async fn load(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    q: &OtpQuery,
    here: &'static str,
) -> Result<Hosted, Response> {
    let h = Hosted::load(s, slug, headers, q.lang.as_deref(), here).await?;
    if !h.page.features.otp {
        let text = h.page.t("error-forbidden");
        return Err(h.respond(StatusCode::NOT_FOUND, hosted::message_page(&h.page, "otp-title", text, None)));
    }
    Ok(h)
}

/// `GET /{slug}/otp`: where to send a code.
pub async fn ask_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<OtpQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "otp").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let (redirect_to, error) = match allowed_redirect(&h, q.redirect_to.as_deref()) {
        Ok(to) => (to.unwrap_or_default(), None),
        Err(e) => (String::new(), Some(e)),
    };
    let h = h.keep_return(&s, &redirect_to).await;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    h.respond(status, hosted::otp_ask_page(&h.page, OtpAskView { destination: String::new(), redirect_to, error }))
}

#[derive(Default, Deserialize)]
pub struct SendForm {
    csrf_token: Option<String>,
    #[serde(default)]
    destination: String,
    redirect_to: Option<String>,
}

pub async fn send_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<OtpQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<SendForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "otp").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    let kept = f.redirect_to.clone().unwrap_or_default();
    let h = h.keep_return(&s, &kept).await;
    let again = |h: &Hosted, status: StatusCode, error: FormError, redirect_to: String| {
        let view = OtpAskView { destination: f.destination.clone(), redirect_to, error: Some(error) };
        h.respond(status, hosted::otp_ask_page(&h.page, view))
    };
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return again(&h, StatusCode::FORBIDDEN, e, kept);
    }
    let redirect_to = match allowed_redirect(&h, f.redirect_to.as_deref()) {
        Ok(to) => to.unwrap_or_default(),
        Err(e) => return again(&h, StatusCode::BAD_REQUEST, e, String::new()),
    };
    let raw = f.destination.trim();
    let to = if raw.contains('@') { Destination::Email(raw) } else { Destination::Phone(raw) };
    match s.engine.send_otp_from_page(&slug, to, &meta.0).await {
        Ok(sent) => {
            let request = sent.otp_request_id.to_string();
            h.redirect(&h.url("otp/verify", &[("request", &request), ("redirect_to", &redirect_to)]))
        }
        Err(e) => again(&h, status_of(&e), h.error(&e, Some("destination")), kept),
    }
}

/// `GET /{slug}/otp/verify?request=`: the code that was sent.
pub async fn code_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<OtpQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "otp/verify").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let redirect_to = allowed_redirect(&h, q.redirect_to.as_deref()).ok().flatten().unwrap_or_default();
    let request = q.request.clone().unwrap_or_default();
    let h = h.keep("request", &request).keep_return(&s, &redirect_to).await;
    h.respond(StatusCode::OK, hosted::otp_code_page(&h.page, OtpCodeView { request, redirect_to, error: None }))
}

#[derive(Default, Deserialize)]
pub struct CodeForm {
    csrf_token: Option<String>,
    #[serde(default)]
    request: String,
    #[serde(default)]
    code: String,
    redirect_to: Option<String>,
}

pub async fn verify_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<OtpQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "otp/verify").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    let kept = f.redirect_to.clone().unwrap_or_default();
    let h = h.keep("request", &f.request).keep_return(&s, &kept).await;
    let again = |h: &Hosted, status: StatusCode, error: FormError, redirect_to: String| {
        let view = OtpCodeView { request: f.request.clone(), redirect_to, error: Some(error) };
        h.respond(status, hosted::otp_code_page(&h.page, view))
    };
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return again(&h, StatusCode::FORBIDDEN, e, kept);
    }
    let redirect_to = match allowed_redirect(&h, f.redirect_to.as_deref()) {
        Ok(to) => to,
        Err(e) => return again(&h, StatusCode::BAD_REQUEST, e, String::new()),
    };
    match s.engine.verify_otp_from_page(&slug, &f.request, &f.code, &meta.0).await {
        Ok(pair) => {
            let mut response = h.redirect(&after_sign_in(&h, redirect_to.as_deref()));
            match bind_cookie(&s, &h, &pair, &mut response).await {
                Ok(()) => response,
                Err(e) => again(&h, status_of(&e), h.error(&e, None), kept),
            }
        }
        Err(e) => again(&h, status_of(&e), h.error(&e, Some("code")), kept),
    }
}
