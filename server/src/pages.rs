//! The pages emailed links land on: confirm an email, sign in with a link, choose a new
//! password, accept an invite. Server-rendered with Leptos, plain forms, no JavaScript.
//!
//! A GET of any of them only shows a page: mail scanners and link previews (which follow
//! links, and answer HEAD and prefetches too) spend nothing. Only the page's POST, which
//! carries the token back, consumes it. The hosted pages issue brands and translates them.

use app::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use domain::model::TokenPurpose;
use leptos::prelude::*;
use secrecy::SecretString;
use serde::Deserialize;

use crate::rest::extract::Meta;

const STYLE: &str = "
:root { color-scheme: light dark; font-family: system-ui, -apple-system, Segoe UI, sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f5f9; color: #1f2330; }
main { background: #fff; max-width: 26rem; width: calc(100% - 2rem); padding: 2rem; border-radius: 12px;
       box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 8px 24px rgba(0,0,0,.06); }
.app { margin: 0 0 .25rem; color: #5b6073; font-size: .9rem; }
h1 { margin: 0 0 1rem; font-size: 1.4rem; }
label { display: block; margin: 1rem 0 .35rem; font-weight: 600; font-size: .95rem; }
input { width: 100%; box-sizing: border-box; padding: .6rem .7rem; font-size: 1rem; border: 1px solid #c8cbd6;
        border-radius: 8px; background: inherit; color: inherit; }
button { margin-top: 1.25rem; width: 100%; padding: .7rem; font-size: 1rem; font-weight: 600; color: #fff;
         background: #3451d1; border: 0; border-radius: 8px; cursor: pointer; }
.error { color: #b42318; }
.muted { color: #5b6073; font-size: .9rem; }
@media (prefers-color-scheme: dark) {
  body { background: #14161c; color: #e6e8ef; }
  main { background: #1d2029; }
  input { border-color: #3a3f4e; }
}
";

/// A page, never cached (it may carry a token in its form).
fn page(status: StatusCode, app: &str, title: &str, body: impl IntoView + 'static) -> Response {
    let (app, title) = (app.to_owned(), title.to_owned());
    let html = view! {
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="robots" content="noindex"/>
                <title>{title.clone()}</title>
                <style inner_html=STYLE></style>
            </head>
            <body>
                <main>
                    <p class="app">{app}</p>
                    <h1>{title}</h1>
                    {body}
                </main>
            </body>
        </html>
    }
    .to_html();
    let mut response = (status, Html(format!("<!doctype html>{html}"))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn message(status: StatusCode, app: &str, title: &str, text: String) -> Response {
    page(status, app, title, view! { <p>{text}</p> })
}

fn failure(app: &str, error: domain::Error) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let text = error.to_string();
    page(status, app, "Something is not right", view! { <p class="error">{text}</p> })
}

fn bad_form(app: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        app,
        "Something is not right",
        "The form was incomplete; open the link from your email again.".into(),
    )
}

/// The app's display name, for the page's header; `None` for an unknown app.
async fn app_name(s: &AppState, slug: &str) -> Option<String> {
    s.engine.app(slug).await.ok().map(|a| a.display_name)
}

fn unknown_app() -> Response {
    message(StatusCode::NOT_FOUND, "Rampart", "Page not found", "There is no such app.".into())
}

fn expired(app: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        app,
        "This link no longer works",
        "It was used already, has expired, or a newer one replaced it. Ask for a new one.".into(),
    )
}

/// A form that posts `fields` (hidden) and the visible `inputs` to `action`.
fn form(
    action: String,
    hidden: Vec<(&'static str, String)>,
    inputs: Vec<(&'static str, &'static str, &'static str)>,
    submit: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action=action>
            {hidden.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
            {inputs
                .into_iter()
                .map(|(name, label, kind)| {
                    let autocomplete = if kind == "password" { "new-password" } else { "email" };
                    view! {
                        <label for=name>{label}</label>
                        <input id=name name=name type=kind required=true autocomplete=autocomplete/>
                    }
                })
                .collect_view()}
            <button type="submit">{submit}</button>
        </form>
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
}

/// A page that asks to confirm before a link of `purpose` is spent: a form posting the token
/// to `/{slug}/{action}`. A dead link says so instead.
async fn confirm_page(
    s: &AppState,
    slug: &str,
    token: String,
    purpose: TokenPurpose,
    (title, intro, action, button): (&'static str, &'static str, &'static str, &'static str),
) -> Response {
    let Some(app) = app_name(s, slug).await else { return unknown_app() };
    match s.engine.peek_link(slug, purpose, &token).await {
        Ok(Some(_)) => page(
            StatusCode::OK,
            &app,
            title,
            view! {
                <p>{intro} " " {app.clone()} "."</p>
                {form(format!("/{slug}/{action}"), vec![("token", token)], vec![], button)}
            },
        ),
        Ok(None) => expired(&app),
        Err(e) => failure(&app, e),
    }
}

/// `GET /{slug}/v1/auth/verify-email?token=` (and `/{slug}/verify-email`): asks to confirm.
pub async fn verify_email_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let words =
        ("Confirm your email", "Confirm that this address is yours to use it with", "verify-email", "Confirm my email");
    confirm_page(&s, &slug, q.token.unwrap_or_default(), TokenPurpose::VerifyEmail, words).await
}

pub async fn verify_email_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    submitted: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let Ok(Form(f)) = submitted else { return bad_form(&app) };
    match s.engine.verify_email(&slug, &f.token, &meta.0).await {
        Ok(answer) => match answer.redirect_to {
            Some(to) => Redirect::to(&to).into_response(),
            None => message(StatusCode::OK, &app, "Email confirmed", "You can sign in with this address now.".into()),
        },
        Err(domain::Error::InvalidToken(_)) => expired(&app),
        Err(e) => failure(&app, e),
    }
}

/// `GET /{slug}/v1/auth/sign-in/token?token=`: asks to sign in.
pub async fn sign_in_token_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let words = ("Sign in", "Continue to sign in to", "sign-in/token", "Sign in");
    confirm_page(&s, &slug, q.token.unwrap_or_default(), TokenPurpose::MagicLink, words).await
}

/// Spends the magic link. With a `redirectTo`, the tokens travel in the URL's fragment
/// (never sent to a server, and not in `Referer`); without one, the page says it worked.
pub async fn sign_in_token_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    submitted: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let Ok(Form(f)) = submitted else { return bad_form(&app) };
    match s.engine.sign_in_with_token(&slug, &f.token, &meta.0).await {
        Ok((pair, answer)) => match answer.redirect_to {
            Some(to) => Redirect::to(&format!(
                "{to}#access_token={}&refresh_token={}&token_type={}&expires_in={}",
                pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in
            ))
            .into_response(),
            None => message(StatusCode::OK, &app, "You are signed in", "Go back to the app to continue.".into()),
        },
        Err(domain::Error::InvalidToken(_)) => expired(&app),
        Err(e) => failure(&app, e),
    }
}

/// `GET /{slug}/reset-password?token=`: the form for a new password.
pub async fn reset_password_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let token = q.token.unwrap_or_default();
    match s.engine.peek_link(&slug, TokenPurpose::ResetPassword, &token).await {
        Ok(Some(_)) => page(
            StatusCode::OK,
            &app,
            "Choose a new password",
            form(
                format!("/{slug}/reset-password"),
                vec![("token", token)],
                vec![("password", "New password", "password")],
                "Change my password",
            ),
        ),
        Ok(None) => expired(&app),
        Err(e) => failure(&app, e),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    password: SecretString,
}

pub async fn reset_password_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    submitted: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let Ok(Form(f)) = submitted else { return bad_form(&app) };
    let token = f.token.clone();
    match s.engine.reset_password(&slug, &f.token, f.password, &meta.0).await {
        Ok(answer) => match answer.redirect_to {
            Some(to) => Redirect::to(&to).into_response(),
            None => message(
                StatusCode::OK,
                &app,
                "Password changed",
                "Sign in with your new password. Every device that was signed in has been signed out.".into(),
            ),
        },
        Err(domain::Error::InvalidToken(_)) => expired(&app),
        // A password the policy refuses: the same form again, with why (the link is unspent).
        Err(e @ domain::Error::WeakPassword(_)) => {
            let why = e.to_string();
            page(
                StatusCode::BAD_REQUEST,
                &app,
                "Choose a new password",
                view! {
                    <p class="error">{why}</p>
                    {form(
                        format!("/{slug}/reset-password"),
                        vec![("token", token)],
                        vec![("password", "New password", "password")],
                        "Change my password",
                    )}
                },
            )
        }
        Err(e) => failure(&app, e),
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
}

/// `GET /{slug}/accept-invite?code=`: choose a password to accept.
pub async fn accept_invite_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<CodeQuery>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let code = q.code.unwrap_or_default();
    match s.engine.peek_invite(&slug, &code).await {
        Ok(Some(email)) => page(
            StatusCode::OK,
            &app,
            "Accept your invite",
            view! {
                <p>"You are invited to " {app.clone()} " as " <strong>{email}</strong> ". Choose a password to finish."</p>
                {form(
                    format!("/{slug}/accept-invite"),
                    vec![("code", code)],
                    vec![("password", "Password", "password")],
                    "Accept the invite",
                )}
            },
        ),
        Ok(None) => message(
            StatusCode::BAD_REQUEST,
            &app,
            "This invite no longer works",
            "It was accepted already, has expired or was revoked. Ask for a new one.".into(),
        ),
        Err(e) => failure(&app, e),
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    code: String,
    password: SecretString,
}

pub async fn accept_invite_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    submitted: Result<Form<AcceptForm>, FormRejection>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let Ok(Form(f)) = submitted else { return bad_form(&app) };
    let code = f.code.clone();
    match s.engine.accept_invite(&slug, &f.code, f.password, &meta.0).await {
        Ok(_) => message(
            StatusCode::OK,
            &app,
            "Welcome",
            format!("Your {app} account is ready: sign in with your email and the password you chose."),
        ),
        Err(e @ domain::Error::WeakPassword(_)) => {
            let why = e.to_string();
            page(
                StatusCode::BAD_REQUEST,
                &app,
                "Accept your invite",
                view! {
                    <p class="error">{why}</p>
                    {form(
                        format!("/{slug}/accept-invite"),
                        vec![("code", code)],
                        vec![("password", "Password", "password")],
                        "Accept the invite",
                    )}
                },
            )
        }
        Err(e) => failure(&app, e),
    }
}

/// `GET /{slug}/forgot-password`: asks for the address to send a reset link to.
pub async fn forgot_password_page(State(s): State<AppState>, Path(slug): Path<String>) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    page(
        StatusCode::OK,
        &app,
        "Forgot your password?",
        view! {
            <p class="muted">"We will email you a link to choose a new one."</p>
            {form(format!("/{slug}/forgot-password"), vec![], vec![("email", "Email", "email")], "Send me a link")}
        },
    )
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

pub async fn forgot_password_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    submitted: Result<Form<EmailForm>, FormRejection>,
) -> Response {
    let Some(app) = app_name(&s, &slug).await else { return unknown_app() };
    let Ok(Form(f)) = submitted else { return bad_form(&app) };
    match s.engine.forgot_password(&slug, &f.email, None, &meta.0).await {
        Ok(()) => message(
            StatusCode::OK,
            &app,
            "Check your email",
            "If this address belongs to an account, a link to choose a new password is on its way.".into(),
        ),
        Err(e) => failure(&app, e),
    }
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/{slug}/verify-email", get(verify_email_page).post(verify_email_submit))
        .route("/{slug}/sign-in/token", get(sign_in_token_page).post(sign_in_token_submit))
        .route("/{slug}/reset-password", get(reset_password_page).post(reset_password_submit))
        .route("/{slug}/accept-invite", get(accept_invite_page).post(accept_invite_submit))
        .route("/{slug}/forgot-password", get(forgot_password_page).post(forgot_password_submit))
}
