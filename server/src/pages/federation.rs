//! Sign-in through external providers, the browser's side: the start of a sign-in
//! (`/{slug}/v1/auth/oauth/{provider}/authorize`), the provider's way back (`…/callback`, by
//! `GET` or, for providers that post their answer, `POST`), and linking or unlinking a
//! provider from the account page. A browser (one that asks for HTML) that fails gets a page
//! saying why; an API caller gets the documented JSON error.

use app::hosted::{self, FormError};
use app::state::AppState;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use domain::engine::{CallbackParams, OAuthDone, OAuthStart, FLOW_COOKIE};
use serde::Deserialize;

use super::signin::posted;
use super::{error_text, status_of, Hosted};
use crate::browser;
use crate::rest::error::ApiError;
use crate::rest::extract::Meta;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    #[serde(alias = "redirectTo")]
    redirect_to: Option<String>,
}

/// Whether the caller is a browser navigating (it asks for a page).
fn wants_page(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// A `302` to `location` (the provider, or back into the app).
fn found(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn to_provider(s: &AppState, start: &OAuthStart) -> Response {
    let mut response = found(&start.location);
    browser::set_flow_cookie(response.headers_mut(), &s.engine, start);
    response
}

/// The text of a failed provider sign-in, in the page's language.
fn failure_text(h: &Hosted, e: &domain::Error, provider: &str) -> String {
    let label = h.page.providers.iter().find(|p| p.name == provider).map_or(provider.to_owned(), |p| p.label.clone());
    let key = match e {
        domain::Error::OAuthFailed { code, .. } => match *code {
            "OAUTH_STATE_INVALID" => "oauth-error-state",
            "OAUTH_PROVIDER_ERROR" => "oauth-error-provider",
            "OAUTH_VERIFICATION_FAILED" => "oauth-error-verification",
            "OAUTH_PROVIDER_UNAVAILABLE" => "oauth-error-unavailable",
            "ACCOUNT_EXISTS" => "oauth-error-account-exists",
            "IDENTITY_TAKEN" => "oauth-error-identity-taken",
            _ => "oauth-error-provider",
        },
        domain::Error::Conflict(_) => "error-last-method",
        e => return error_text(&h.page, e),
    };
    h.page.t_with(key, &[("provider", label.into())])
}

/// A failed start or callback: a page for browsers, the JSON error for API callers.
async fn failure(s: &AppState, slug: &str, provider: &str, headers: &HeaderMap, e: domain::Error) -> Response {
    if !wants_page(headers) {
        return ApiError(e).into_response();
    }
    let h = match Hosted::load(s, slug, headers, None, "signin").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let text = failure_text(&h, &e, provider);
    let back = Some((h.url("signin", &[]), h.page.t("oauth-back")));
    h.respond(status_of(&e), hosted::message_page(&h.page, "oauth-failed-title", text, back))
}

/// `GET /{slug}/v1/auth/oauth/{provider}/authorize?redirect_to=`: to the provider.
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/oauth/{provider}/authorize",
    operation_id = "pages_federation_oauth_authorize",
    tag = "consumer auth",
    params(AuthorizeQuery),
    responses(
        (status = 302, description = "To the upstream provider's authorization endpoint, with the flow's sealed cookie", headers(("Location" = String, description = "The provider's URL"))),
        (status = 400, description = "Unknown or disabled provider, or a `redirect_to` the app does not allow: an error page for browsers (`Accept: text/html`), else the JSON error", body = crate::rest::error::ErrorBody),
    )
)]
pub async fn oauth_authorize(
    State(s): State<AppState>,
    Path((slug, provider)): Path<(String, String)>,
    query: Result<Query<AuthorizeQuery>, QueryRejection>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    match s.engine.oauth_authorize(&slug, &provider, q.redirect_to.as_deref(), &meta.0).await {
        Ok(start) => to_provider(&s, &start),
        Err(e) => failure(&s, &slug, &provider, &headers, e).await,
    }
}

/// `GET /{slug}/v1/auth/oauth/{provider}/callback`: the provider's redirect back.
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/oauth/{provider}/callback",
    operation_id = "pages_federation_oauth_callback",
    tag = "consumer auth",
    params(CallbackParams),
    responses(
        (status = 302, description = "Signed in: back into the app (the flow's `redirect_to`, or the account page) with the `session` cookie", headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "The provider refused, or the state or cookie of the flow is wrong: an error page for browsers (`Accept: text/html`), else the JSON error", body = crate::rest::error::ErrorBody),
    )
)]
pub async fn oauth_callback(
    State(s): State<AppState>,
    Path((slug, provider)): Path<(String, String)>,
    query: Result<Query<CallbackParams>, QueryRejection>,
    meta: Meta,
    headers: HeaderMap,
) -> Response {
    let params = query.map(|Query(q)| q).unwrap_or_default();
    callback(&s, &slug, &provider, params, &meta, &headers).await
}

/// `POST …/callback`: the answer of a provider that posts it (`response_mode=form_post`).
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/oauth/{provider}/callback",
    operation_id = "pages_federation_oauth_callback_post",
    tag = "consumer auth",
    request_body(content = CallbackParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Signed in: back into the app (the flow's `redirect_to`, or the account page) with the `session` cookie", headers(("Location" = String, description = "Where the browser goes"))),
        (status = 400, description = "The provider refused, or the state or cookie of the flow is wrong: an error page for browsers (`Accept: text/html`), else the JSON error", body = crate::rest::error::ErrorBody),
    )
)]
pub async fn oauth_callback_post(
    State(s): State<AppState>,
    Path((slug, provider)): Path<(String, String)>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<CallbackParams>, FormRejection>,
) -> Response {
    let params = form.map(|Form(f)| f).unwrap_or_default();
    callback(&s, &slug, &provider, params, &meta, &headers).await
}

async fn callback(
    s: &AppState,
    slug: &str,
    provider: &str,
    params: CallbackParams,
    meta: &Meta,
    headers: &HeaderMap,
) -> Response {
    let flow = browser::request_cookie(headers, FLOW_COOKIE);
    let session = browser::request_cookie(headers, browser::SESSION_COOKIE);
    let done = s.engine.oauth_callback(slug, provider, params, flow.as_deref(), session.as_deref(), &meta.0).await;
    let mut response = match done {
        Ok(OAuthDone::Tokens(pair)) => Json(pair).into_response(),
        Ok(OAuthDone::Browser { signed_in, redirect_to }) => {
            let mut response = found(&redirect_to);
            browser::set_session_cookie(response.headers_mut(), &s.engine, slug, &signed_in);
            response
        }
        Ok(OAuthDone::Linked { .. }) => found(&format!("/{slug}/account?done=linked")),
        Err(e) => failure(s, slug, provider, headers, e).await,
    };
    // The flow is over either way; only a well-formed name goes into a cookie's path.
    let well_formed = provider.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && slug.len() <= 100;
    if flow.is_some() && well_formed && !provider.is_empty() {
        let path = format!("/{slug}/v1/auth/oauth/{provider}/callback");
        browser::clear_flow_cookie(response.headers_mut(), &s.engine, &path);
    }
    response
}

#[derive(Default, Deserialize)]
pub struct LinkForm {
    csrf_token: Option<String>,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    identity_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct LangOnly {
    lang: Option<String>,
}

/// A posted form of the account page's providers section, checked: the page, and the
/// signed-in user (the `Err` is the answer already).
async fn account_form(
    s: &AppState,
    slug: &str,
    lang: Option<&str>,
    headers: &HeaderMap,
    csrf_token: Option<&str>,
) -> Result<(Hosted, domain::engine::Principal), Response> {
    let h = Hosted::load(s, slug, headers, lang, "account").await?;
    let Some((me, _)) = h.signed_in(s, headers).await else {
        let back = format!("/{slug}/account");
        return Err(h.redirect(&h.url("signin", &[("redirect_to", &back)])));
    };
    if let Err(FormError { message, .. }) = h.check_form(s, headers, csrf_token) {
        let back = Some((h.url("account", &[]), h.page.t("account-title")));
        return Err(h.respond(StatusCode::FORBIDDEN, hosted::message_page(&h.page, "error-title", message, back)));
    }
    Ok((h, me))
}

fn account_error(h: &Hosted, e: &domain::Error, provider: &str) -> Response {
    let back = Some((h.url("account", &[]), h.page.t("account-title")));
    let text = failure_text(h, e, provider);
    h.respond(status_of(e), hosted::message_page(&h.page, "error-title", text, back))
}

/// `POST /{slug}/account/identities/link` `{provider}`: to the provider, to link.
pub async fn link_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LangOnly>,
    headers: HeaderMap,
    form: Result<Form<LinkForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me) = match account_form(&s, &slug, q.lang.as_deref(), &headers, f.csrf_token.as_deref()).await {
        Ok(checked) => checked,
        Err(answer) => return answer,
    };
    match s.engine.oauth_link_start(&me, &f.provider).await {
        Ok(start) => to_provider(&s, &start),
        Err(e) => account_error(&h, &e, &f.provider),
    }
}

/// `POST /{slug}/account/identities/unlink` `{identity_id}`.
pub async fn unlink_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LangOnly>,
    headers: HeaderMap,
    form: Result<Form<LinkForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me) = match account_form(&s, &slug, q.lang.as_deref(), &headers, f.csrf_token.as_deref()).await {
        Ok(checked) => checked,
        Err(answer) => return answer,
    };
    match s.engine.unlink_my_identity(&me, &f.identity_id).await {
        Ok(()) => h.redirect(&h.url("account", &[("done", "unlinked")])),
        Err(e) => account_error(&h, &e, ""),
    }
}
