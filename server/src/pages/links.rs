//! The pages emailed links land on: confirm an email, sign in with a link, choose a new
//! password, accept an invite.
//!
//! A GET of any of them only shows a page: mail scanners and link previews (which follow
//! links, and answer HEAD and prefetches too) spend nothing. Only the page's POST, which
//! carries the token back, consumes it. Their URLs carry the token, so they send no
//! `Referer` anywhere.

use app::hosted::{self, FormError};
use app::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use domain::model::TokenPurpose;
use domain::tokens::TokenPair;
use secrecy::SecretString;
use serde::Deserialize;

use super::signin::{new_password_error, posted, secret};
use super::{status_of, Hosted};
use crate::browser;
use crate::rest::extract::Meta;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    lang: Option<String>,
    token: Option<String>,
    code: Option<String>,
    /// Set by the redirect after a link was spent: the page then says it worked.
    done: Option<String>,
}

async fn load(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    q: &LinkQuery,
    here: &'static str,
) -> Result<Hosted, Response> {
    let h = Hosted::load(s, slug, headers, q.lang.as_deref(), here).await?.with_token_in_url();
    Ok(h.keep("token", q.token.as_deref().unwrap_or_default()).keep("code", q.code.as_deref().unwrap_or_default()))
}

/// The page of a dead link: used, expired, superseded, or never issued.
fn dead(h: &Hosted, invite: bool) -> Response {
    let (title, text) = if invite { ("invite-dead-title", "invite-dead") } else { ("link-dead-title", "link-dead") };
    h.respond(StatusCode::BAD_REQUEST, hosted::message_page(&h.page, title, h.page.t(text), None))
}

fn done(h: &Hosted, title: &str, text: &str) -> Response {
    let back = Some((h.page.link("signin"), h.page.t("back-to-signin")));
    h.respond(StatusCode::OK, hosted::message_page(&h.page, title, h.page.t(text), back))
}

/// A failure that is not about the form: shown on its own page.
fn failure(h: &Hosted, e: &domain::Error) -> Response {
    let error = h.error(e, None);
    h.respond(status_of(e), hosted::message_page(&h.page, "error-title", error.message, None))
}

/// The confirm pages' words: title, intro, where the form posts, its button.
fn confirm_words(h: &Hosted, purpose: TokenPurpose) -> ((&'static str, String, &'static str), &'static str) {
    let app = h.page.app_name.clone();
    match purpose {
        TokenPurpose::MagicLink => {
            (("token-title", h.page.t_with("token-intro", &[("app", app.into())]), "token-submit"), "sign-in/token")
        }
        _ => (("verify-title", h.page.t_with("verify-intro", &[("app", app.into())]), "verify-submit"), "verify-email"),
    }
}

/// A page that asks to confirm before a link of `purpose` is spent.
async fn confirm_page(
    s: &AppState,
    h: Hosted,
    token: String,
    purpose: TokenPurpose,
    error: Option<FormError>,
) -> Response {
    match s.engine.peek_link(&h.app.slug, purpose, &token).await {
        Ok(Some(_)) => {
            let (words, action) = confirm_words(&h, purpose);
            let status = if error.is_some() { StatusCode::FORBIDDEN } else { StatusCode::OK };
            h.respond(status, hosted::confirm_page(&h.page, words, action, token, error))
        }
        Ok(None) => dead(&h, false),
        Err(e) => failure(&h, &e),
    }
}

/// `GET /{slug}/verify-email?token=` (and `/{slug}/v1/auth/verify-email?token=`, where the
/// mail points): asks to confirm.
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/verify-email",
    operation_id = "pages_links_verify_email_page",
    tag = "consumer auth",
    params(LinkQuery),
    responses((status = 200, description = "The hosted page that asks to confirm verifying the address (the token is spent only by its button): where the emailed link points", content_type = "text/html"))
)]
pub async fn verify_email_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "verify-email").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    if q.done.is_some() {
        return done(&h, "verify-done-title", "verify-done");
    }
    confirm_page(&s, h, q.token.unwrap_or_default(), TokenPurpose::VerifyEmail, None).await
}

#[derive(Default, Deserialize)]
pub struct TokenForm {
    csrf_token: Option<String>,
    #[serde(default)]
    token: String,
}

pub async fn verify_email_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "verify-email").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return confirm_page(&s, h, f.token, TokenPurpose::VerifyEmail, Some(e)).await;
    }
    match s.engine.verify_email(&slug, &f.token, &meta.0).await {
        Ok(answer) => match answer.redirect_to {
            Some(to) => h.redirect(&to),
            None => h.redirect(&h.url("verify-email", &[("done", "1")])),
        },
        Err(domain::Error::InvalidToken(_)) => dead(&h, false),
        Err(e) => failure(&h, &e),
    }
}

/// `GET /{slug}/sign-in/token?token=` (and `/{slug}/v1/auth/sign-in/token?token=`, where the
/// mail points): asks to sign in.
#[utoipa::path(
    get,
    path = "/{slug}/v1/auth/sign-in/token",
    operation_id = "pages_links_sign_in_token_page",
    tag = "consumer auth",
    params(LinkQuery),
    responses((status = 200, description = "The hosted page that asks to confirm signing in (the token is spent only by its button): where the emailed link points", content_type = "text/html"))
)]
pub async fn sign_in_token_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "sign-in/token").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    confirm_page(&s, h, q.token.unwrap_or_default(), TokenPurpose::MagicLink, None).await
}

/// A session opened by a link (or an invite, or a code) becomes the browser's: its cookie
/// is set on `response`.
pub async fn bind_cookie(
    s: &AppState,
    h: &Hosted,
    pair: &TokenPair,
    response: &mut Response,
) -> Result<(), domain::Error> {
    let signed_in = s.engine.browser_cookie_from_tokens(&h.app.slug, pair).await?;
    browser::set_session_cookie(response.headers_mut(), &s.engine, &h.app.slug, &signed_in);
    Ok(())
}

/// Spends the magic link: the browser is signed in (its session cookie set) and sent to the
/// link's `redirectTo` with the tokens in the URL's fragment (never sent to a server, nor
/// in `Referer`), for apps that take them there; without one, to the account page.
pub async fn sign_in_token_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "sign-in/token").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return confirm_page(&s, h, f.token, TokenPurpose::MagicLink, Some(e)).await;
    }
    match s.engine.sign_in_with_token(&slug, &f.token, &meta.0).await {
        Ok((pair, answer)) => {
            let to = match answer.redirect_to {
                Some(to) => format!(
                    "{to}#access_token={}&refresh_token={}&token_type={}&expires_in={}",
                    pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in
                ),
                None => h.url("account", &[("done", "signed-in")]),
            };
            let mut response = h.redirect(&to);
            match bind_cookie(&s, &h, &pair, &mut response).await {
                Ok(()) => response,
                Err(e) => failure(&h, &e),
            }
        }
        Err(domain::Error::InvalidToken(_)) => dead(&h, false),
        Err(e) => failure(&h, &e),
    }
}

/// `GET /{slug}/reset-password?token=`: the form for a new password.
pub async fn reset_password_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "reset-password").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    if q.done.is_some() {
        return done(&h, "reset-done-title", "reset-done");
    }
    let token = q.token.unwrap_or_default();
    match s.engine.peek_link(&slug, TokenPurpose::ResetPassword, &token).await {
        Ok(Some(_)) => h.respond(StatusCode::OK, hosted::reset_password_page(&h.page, token, None)),
        Ok(None) => dead(&h, false),
        Err(e) => failure(&h, &e),
    }
}

#[derive(Default, Deserialize)]
pub struct NewPasswordForm {
    csrf_token: Option<String>,
    #[serde(default)]
    token: String,
    #[serde(default)]
    code: String,
    password: Option<SecretString>,
    password_confirm: Option<SecretString>,
}

pub async fn reset_password_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<NewPasswordForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "reset-password").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    let again = |h: &Hosted, status: StatusCode, error: FormError| {
        h.respond(status, hosted::reset_password_page(&h.page, f.token.clone(), Some(error)))
    };
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return again(&h, StatusCode::FORBIDDEN, e);
    }
    let password = secret(f.password);
    if let Some(error) = new_password_error(&h, &password, f.password_confirm.as_ref()) {
        return again(&h, StatusCode::BAD_REQUEST, error);
    }
    match s.engine.reset_password(&slug, &f.token, password, &meta.0).await {
        Ok(answer) => match answer.redirect_to {
            Some(to) => h.redirect(&to),
            None => h.redirect(&h.url("reset-password", &[("done", "1")])),
        },
        Err(domain::Error::InvalidToken(_)) => dead(&h, false),
        Err(e @ domain::Error::WeakPassword(_)) => again(&h, StatusCode::BAD_REQUEST, h.error(&e, Some("password"))),
        Err(e) => failure(&h, &e),
    }
}

/// `GET /{slug}/accept-invite?code=`: choose a password to accept.
pub async fn accept_invite_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "accept-invite").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    invite_form(&s, &h, q.code.unwrap_or_default(), None).await
}

async fn invite_form(s: &AppState, h: &Hosted, code: String, error: Option<FormError>) -> Response {
    match s.engine.peek_invite(&h.app.slug, &code).await {
        Ok(Some(email)) => {
            let status = match &error {
                Some(e) if e.field.is_none() => StatusCode::FORBIDDEN,
                Some(_) => StatusCode::BAD_REQUEST,
                None => StatusCode::OK,
            };
            h.respond(status, hosted::accept_invite_page(&h.page, code, email, error))
        }
        Ok(None) => dead(h, true),
        Err(e) => failure(h, &e),
    }
}

/// Accepts the invite: the new user is signed in on this browser and lands on the account
/// page.
pub async fn accept_invite_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<NewPasswordForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "accept-invite").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return invite_form(&s, &h, f.code, Some(e)).await;
    }
    let password = secret(f.password);
    if let Some(error) = new_password_error(&h, &password, f.password_confirm.as_ref()) {
        return invite_form(&s, &h, f.code, Some(error)).await;
    }
    match s.engine.accept_invite(&slug, &f.code, password, &meta.0).await {
        Ok(pair) => {
            let mut response = h.redirect(&h.url("account", &[("done", "welcome")]));
            match bind_cookie(&s, &h, &pair, &mut response).await {
                Ok(()) => response,
                Err(e) => failure(&h, &e),
            }
        }
        Err(domain::Error::InvalidToken(_)) => dead(&h, true),
        Err(e @ domain::Error::WeakPassword(_)) => {
            let error = h.error(&e, Some("password"));
            invite_form(&s, &h, f.code, Some(error)).await
        }
        Err(e) => failure(&h, &e),
    }
}

/// `GET /{slug}/accept-org-invite?code=` (where an organization invite's mail points): signed
/// in, asks to join; else says to sign in as the invited address first. Nothing is spent
/// until the form is posted.
pub async fn accept_org_invite_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "accept-org-invite").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    if q.done.is_some() {
        return done(&h, "org-invite-done-title", "org-invite-done");
    }
    org_invite_form(&s, &h, &headers, q.code.unwrap_or_default(), None).await
}

async fn org_invite_form(
    s: &AppState,
    h: &Hosted,
    headers: &HeaderMap,
    code: String,
    error: Option<FormError>,
) -> Response {
    let (org, email) = match s.engine.peek_org_invite(&h.app.slug, &code).await {
        Ok(Some(found)) => found,
        Ok(None) => return dead(h, true),
        Err(e) => return failure(h, &e),
    };
    let args = [("org", org.into()), ("email", email.into())];
    if h.signed_in(s, headers).await.is_none() {
        let back = Some((h.page.link("signin"), h.page.t("back-to-signin")));
        let text = h.page.t_with("org-invite-signin", &args);
        return h.respond(StatusCode::OK, hosted::message_page(&h.page, "org-invite-title", text, back));
    }
    let status = if error.is_some() { StatusCode::FORBIDDEN } else { StatusCode::OK };
    let words = ("org-invite-title", h.page.t_with("org-invite-intro", &args), "org-invite-submit");
    h.respond(status, hosted::confirm_page(&h.page, words, "accept-org-invite", code, error))
}

/// Joins the organization as the browser's signed-in user (who must hold the invited
/// address, verified).
pub async fn accept_org_invite_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LinkQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let h = match load(&s, &slug, &headers, &q, "accept-org-invite").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return org_invite_form(&s, &h, &headers, f.token, Some(e)).await;
    }
    let Some((principal, _)) = h.signed_in(&s, &headers).await else {
        return org_invite_form(&s, &h, &headers, f.token, None).await;
    };
    match s.engine.accept_org_invite(&principal, &f.token, &meta.0).await {
        Ok(_) => h.redirect(&h.url("accept-org-invite", &[("done", "1")])),
        Err(domain::Error::InvalidToken(_)) => dead(&h, true),
        Err(e @ (domain::Error::Forbidden(_) | domain::Error::Conflict(_))) => {
            let error = h.error(&e, None);
            org_invite_form(&s, &h, &headers, f.token, Some(error)).await
        }
        Err(e) => failure(&h, &e),
    }
}
