//! Signing in and up on the hosted pages: password sign-in, sign-up, sign-out, a forgotten
//! password and a sign-in link. A successful sign-in sets the app's `session` cookie and
//! redirects to `redirect_to` (when the app allows it) or to the account page.

use app::hosted::{self, EmailView, FormError, SigninView, SignupView};
use app::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use domain::engine::BrowserSignup;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{after_sign_in, allowed_redirect, status_of, Hosted};
use crate::browser;
use crate::rest::extract::Meta;

/// The query of the sign-in pages: the language, where to go afterwards, and what just
/// happened (`done`).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub lang: Option<String>,
    pub redirect_to: Option<String>,
    pub done: Option<String>,
    /// An OIDC client's `login_hint`, prefilled.
    pub login_hint: Option<String>,
    /// `login`: sign in again even with a session (an OIDC client's `prompt=login`).
    pub prompt: Option<String>,
}

/// A password from a form, never printed.
pub fn secret(password: Option<SecretString>) -> SecretString {
    password.unwrap_or_else(|| SecretString::from(String::new()))
}

/// The form that was posted, or an empty one when it could not be read (which then fails
/// its CSRF check and is shown again).
pub fn posted<T: Default>(form: Result<Form<T>, FormRejection>) -> T {
    form.map(|Form(f)| f).unwrap_or_default()
}

/// `redirect_to` of a page's query, checked: an unusable one is dropped and said.
fn redirect_of(h: &Hosted, raw: Option<&str>) -> (String, Option<FormError>) {
    match allowed_redirect(h, raw) {
        Ok(to) => (to.unwrap_or_default(), None),
        Err(e) => (String::new(), Some(e)),
    }
}

pub async fn signin_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "signin").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    // Already signed in: straight on.
    let again = q.prompt.as_deref() == Some("login");
    if h.page.features.signin && !again && h.signed_in(&s, &headers).await.is_some() {
        if let (Ok(to), None) = (allowed_redirect(&h, q.redirect_to.as_deref()), q.done.as_deref()) {
            return h.redirect(&after_sign_in(&h, to.as_deref()));
        }
    }
    let (redirect_to, error) = redirect_of(&h, q.redirect_to.as_deref());
    let h = h.keep_return(&s, &redirect_to).await;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let identifier = q.login_hint.filter(|hint| hint.len() <= 254).unwrap_or_default();
    let view = SigninView { identifier, redirect_to, error, notice: None };
    h.respond(status, hosted::signin_page(&h.page, view))
}

#[derive(Default, Deserialize)]
pub struct SigninForm {
    csrf_token: Option<String>,
    #[serde(default)]
    identifier: String,
    password: Option<SecretString>,
    redirect_to: Option<String>,
}

pub async fn signin_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<SigninForm>, FormRejection>,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "signin").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    let kept = f.redirect_to.clone().unwrap_or_default();
    let h = h.keep_return(&s, &kept).await;
    let again = |h: &Hosted, status: StatusCode, error: FormError, redirect_to: String| {
        let view = SigninView { identifier: f.identifier.clone(), redirect_to, error: Some(error), notice: None };
        h.respond(status, hosted::signin_page(&h.page, view))
    };
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return again(&h, StatusCode::FORBIDDEN, e, kept);
    }
    let redirect_to = match allowed_redirect(&h, f.redirect_to.as_deref()) {
        Ok(to) => to,
        Err(e) => return again(&h, StatusCode::BAD_REQUEST, e, String::new()),
    };
    match s.engine.browser_sign_in(&slug, &f.identifier, secret(f.password), &meta.0).await {
        Ok(signed_in) => {
            let mut response = h.redirect(&after_sign_in(&h, redirect_to.as_deref()));
            browser::set_session_cookie(response.headers_mut(), &s.engine, &slug, &signed_in);
            response
        }
        Err(e) => again(&h, status_of(&e), h.error(&e, None), kept),
    }
}

pub async fn signup_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "signup").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let (redirect_to, error) = redirect_of(&h, q.redirect_to.as_deref());
    let h = h.keep_return(&s, &redirect_to).await;
    let status = match (&error, h.page.features.signup) {
        (_, false) => StatusCode::FORBIDDEN,
        (Some(_), true) => StatusCode::BAD_REQUEST,
        (None, true) => StatusCode::OK,
    };
    let view = SignupView { redirect_to, error, ..SignupView::default() };
    h.respond(status, hosted::signup_page(&h.page, view))
}

#[derive(Default, Deserialize)]
pub struct SignupForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    username: String,
    password: Option<SecretString>,
    password_confirm: Option<SecretString>,
    redirect_to: Option<String>,
}

pub async fn signup_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<SignupForm>, FormRejection>,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "signup").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    let kept = f.redirect_to.clone().unwrap_or_default();
    let h = h.keep_return(&s, &kept).await;
    let again = |h: &Hosted, status: StatusCode, error: FormError, redirect_to: String| {
        let view = SignupView {
            email: f.email.clone(),
            name: f.name.clone(),
            username: f.username.clone(),
            redirect_to,
            error: Some(error),
        };
        h.respond(status, hosted::signup_page(&h.page, view))
    };
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return again(&h, StatusCode::FORBIDDEN, e, kept);
    }
    let redirect_to = match allowed_redirect(&h, f.redirect_to.as_deref()) {
        Ok(to) => to,
        Err(e) => return again(&h, StatusCode::BAD_REQUEST, e, String::new()),
    };
    let password = secret(f.password);
    if let Some(error) = new_password_error(&h, &password, f.password_confirm.as_ref()) {
        return again(&h, StatusCode::BAD_REQUEST, error, kept);
    }
    let optional = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let input =
        BrowserSignup { email: f.email.clone(), password, name: optional(&f.name), username: optional(&f.username) };
    match s.engine.browser_sign_up(&slug, input, &meta.0).await {
        Ok(signed_in) => {
            // Sign-up always mails a link that verifies the address.
            let to = redirect_to.unwrap_or_else(|| h.url("account", &[("done", "signed-up")]));
            let mut response = h.redirect(&to);
            browser::set_session_cookie(response.headers_mut(), &s.engine, &slug, &signed_in);
            response
        }
        Err(e) => {
            let field = match &e {
                domain::Error::InvalidEmail(_) | domain::Error::UserExists(_) => Some("email"),
                domain::Error::WeakPassword(_) => Some("password"),
                domain::Error::InvalidRequest(m) if m.starts_with("username") => Some("username"),
                domain::Error::InvalidRequest(m) if m.starts_with("display_name") => Some("name"),
                _ => None,
            };
            let error = match field {
                Some("username") => FormError { message: h.page.t("error-username"), field },
                Some("name") => FormError { message: h.page.t("error-display-name"), field },
                _ => h.error(&e, field),
            };
            again(&h, status_of(&e), error, kept)
        }
    }
}

/// Why a new password (and its confirmation) cannot be taken, in the page's words: the two
/// differ, or the app's policy refuses it (the engine checks it again).
pub fn new_password_error(h: &Hosted, password: &SecretString, confirm: Option<&SecretString>) -> Option<FormError> {
    let confirm = confirm.map(|c| c.expose_secret()).unwrap_or_default();
    if app::hosted::broken_rule(&h.page.policy, password.expose_secret()).is_some() {
        return Some(h.weak_password(password.expose_secret(), "password"));
    }
    if password.expose_secret() != confirm {
        return Some(FormError { message: h.page.t("invalid-mismatch"), field: Some("password_confirm") });
    }
    None
}

#[derive(Default, Deserialize)]
pub struct PlainForm {
    csrf_token: Option<String>,
}

/// `POST /{slug}/signout`: ends the browser's session and forgets its cookie.
pub async fn signout_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "signed-out").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let f = posted(form);
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        let back = Some((h.url("account", &[]), h.page.t("account-title")));
        return h.respond(StatusCode::FORBIDDEN, hosted::message_page(&h.page, "error-title", e.message, back));
    }
    if let Some((principal, _)) = h.signed_in(&s, &headers).await {
        if let Err(e) = s.engine.end_session(&principal).await {
            let error = h.error(&e, None);
            return h.respond(status_of(&e), hosted::message_page(&h.page, "error-title", error.message, None));
        }
    }
    let mut response = h.redirect(&h.url("signed-out", &[]));
    browser::clear_session_cookie(response.headers_mut(), &s.engine, &slug);
    response
}

pub async fn signed_out_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "signed-out").await {
        Ok(h) => h.respond(StatusCode::OK, hosted::signed_out_page(&h.page)),
        Err(page) => page,
    }
}

/// The query of the pages that mail a link: `sent` once the form went through.
#[derive(Debug, Default, Deserialize)]
pub struct MailQuery {
    lang: Option<String>,
    redirect_to: Option<String>,
    sent: Option<String>,
}

#[derive(Default, Deserialize)]
pub struct EmailForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
    redirect_to: Option<String>,
}

/// Which of the two link-mailing pages.
#[derive(Clone, Copy, PartialEq)]
enum Mailed {
    Reset,
    SignIn,
}

impl Mailed {
    fn path(self) -> &'static str {
        match self {
            Mailed::Reset => "forgot-password",
            Mailed::SignIn => "magic-link",
        }
    }

    fn render(self, h: &Hosted, view: EmailView) -> String {
        match self {
            Mailed::Reset => hosted::forgot_password_page(&h.page, view),
            Mailed::SignIn => hosted::magic_link_page(&h.page, view),
        }
    }
}

async fn mail_page(s: AppState, slug: String, q: MailQuery, headers: HeaderMap, which: Mailed) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), which.path()).await {
        Ok(h) => h,
        Err(page) => return page,
    };
    if which == Mailed::SignIn && !h.page.features.magic_link {
        let text = h.page.t("error-forbidden");
        return h.respond(StatusCode::NOT_FOUND, hosted::message_page(&h.page, "magic-title", text, None));
    }
    if q.sent.is_some() {
        let (title, text) = match which {
            Mailed::Reset => ("forgot-sent-title", "forgot-sent"),
            Mailed::SignIn => ("magic-sent-title", "magic-sent"),
        };
        let back = Some((h.page.link("signin"), h.page.t("back-to-signin")));
        return h.respond(StatusCode::OK, hosted::message_page(&h.page, title, h.page.t(text), back));
    }
    let (redirect_to, error) = redirect_of(&h, q.redirect_to.as_deref());
    let h = h.keep_return(&s, &redirect_to).await;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    h.respond(status, which.render(&h, EmailView { email: String::new(), redirect_to, error }))
}

async fn mail_submit(
    s: AppState,
    slug: String,
    q: MailQuery,
    meta: Meta,
    headers: HeaderMap,
    f: EmailForm,
    which: Mailed,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), which.path()).await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let kept = f.redirect_to.clone().unwrap_or_default();
    let h = h.keep_return(&s, &kept).await;
    let again = |h: &Hosted, status: StatusCode, error: FormError, redirect_to: String| {
        let view = EmailView { email: f.email.clone(), redirect_to, error: Some(error) };
        h.respond(status, which.render(h, view))
    };
    if let Err(e) = h.check_form(&s, &headers, f.csrf_token.as_deref()) {
        return again(&h, StatusCode::FORBIDDEN, e, kept);
    }
    let redirect_to = match allowed_redirect(&h, f.redirect_to.as_deref()) {
        Ok(to) => to,
        Err(e) => return again(&h, StatusCode::BAD_REQUEST, e, String::new()),
    };
    let sent = match which {
        Mailed::Reset => s.engine.forgot_password(&slug, &f.email, None, &meta.0).await,
        Mailed::SignIn => s.engine.magic_link(&slug, &f.email, redirect_to.as_deref(), &meta.0).await,
    };
    match sent {
        Ok(()) => h.redirect(&h.url(which.path(), &[("sent", "1")])),
        Err(e) => {
            let field = matches!(e, domain::Error::InvalidEmail(_)).then_some("email");
            again(&h, status_of(&e), h.error(&e, field), kept)
        }
    }
}

/// `GET /{slug}/forgot-password`: asks for the address to send a reset link to.
pub async fn forgot_password_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<MailQuery>,
    headers: HeaderMap,
) -> Response {
    mail_page(s, slug, q, headers, Mailed::Reset).await
}

pub async fn forgot_password_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<MailQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<EmailForm>, FormRejection>,
) -> Response {
    mail_submit(s, slug, q, meta, headers, posted(form), Mailed::Reset).await
}

/// `GET /{slug}/magic-link`: asks for the address to send a sign-in link to.
pub async fn magic_link_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<MailQuery>,
    headers: HeaderMap,
) -> Response {
    mail_page(s, slug, q, headers, Mailed::SignIn).await
}

pub async fn magic_link_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<MailQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<EmailForm>, FormRejection>,
) -> Response {
    mail_submit(s, slug, q, meta, headers, posted(form), Mailed::SignIn).await
}
