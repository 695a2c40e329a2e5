//! The account page of a signed-in end-user (`/{slug}/account`) and its forms: the display
//! name, the password, the sessions, the contacts. Each form posts to its own path and is
//! answered with a redirect back to the page (`done` says what happened), or with the page
//! again and the error.

use app::hosted::{self, AccountView, ContactRow, FormError, IdentityRow, SessionRow};
use app::state::AppState;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use domain::engine::Principal;
use secrecy::SecretString;
use serde::Deserialize;

use super::signin::{new_password_error, posted, secret};
use super::{status_of, Hosted, SessionRenewal};
use crate::browser;
use crate::rest::extract::Meta;

#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    lang: Option<String>,
    /// What the last form did, shown as a notice.
    done: Option<String>,
    /// The contact a code was just sent to.
    verify: Option<String>,
}

/// The notices a redirect back here may ask for.
const DONE: [&str; 13] = [
    "linked",
    "unlinked",
    "signed-in",
    "profile",
    "password",
    "session",
    "contact-added",
    "contact-removed",
    "primary",
    "code-sent",
    "verified",
    "signed-up",
    "welcome",
];

/// What a failed form leaves on the page besides the stored account.
#[derive(Default)]
struct Typed {
    error: Option<FormError>,
    name: Option<String>,
    contact: (String, String),
    verifying: Option<String>,
    notice: Option<String>,
}

async fn render(s: &AppState, h: &Hosted, me: &Principal, status: StatusCode, typed: Typed) -> Response {
    let loaded = async {
        let profile = s.engine.profile(me).await?;
        let sessions = s.engine.my_sessions(me).await?;
        let contacts = s.engine.my_contacts(me).await?;
        let identities = s.engine.my_identities(me).await?;
        Ok::<_, domain::Error>((profile, sessions, contacts, identities))
    };
    let (profile, sessions, contacts, identities) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => {
            let error = h.error(&e, None);
            return h.respond(status_of(&e), hosted::message_page(&h.page, "error-title", error.message, None));
        }
    };
    let sessions = sessions
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            device: s.user_agent.unwrap_or_default().chars().take(120).collect(),
            ip: s.ip.unwrap_or_default(),
            last_used: s.last_used_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            current: s.current,
        })
        .collect();
    let contacts = contacts
        .into_iter()
        .map(|c| ContactRow {
            id: c.id.to_string(),
            kind: c.kind,
            value: c.value,
            primary: c.primary,
            verified: c.verified,
        })
        .collect();
    let view = AccountView {
        display_name: profile.display_name.clone(),
        username: profile.username.clone(),
        sessions,
        contacts,
        notice: typed.notice,
        error: typed.error,
        verifying: typed.verifying,
        typed_name: typed.name,
        typed_contact: typed.contact,
        linkable: h
            .page
            .providers
            .iter()
            .filter(|p| !identities.iter().any(|i| i.provider == p.name))
            .cloned()
            .collect(),
        identities: identities
            .into_iter()
            .map(|i| IdentityRow { id: i.id, provider: i.provider_name, email: i.email.unwrap_or_default() })
            .collect(),
    };
    h.respond(status, hosted::account_page(&h.page, view))
}

/// Not signed in: to the sign-in page, which comes back here.
fn to_signin(h: &Hosted) -> Response {
    let back = format!("/{}/account", h.app.slug);
    h.redirect(&h.url("signin", &[("redirect_to", &back)]))
}

/// `GET /{slug}/account`.
pub async fn account_page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
) -> Response {
    let h = match Hosted::load(&s, &slug, &headers, q.lang.as_deref(), "account").await {
        Ok(h) => h,
        Err(page) => return page,
    };
    let Some((me, renewal)) = h.signed_in(&s, &headers).await else { return to_signin(&h) };
    let done = q.done.as_deref().filter(|d| DONE.contains(d));
    let notice = done.map(|d| h.page.t(&format!("done-{d}")));
    let verifying = q.verify.filter(|_| done == Some("code-sent"));
    let mut response = render(&s, &h, &me, StatusCode::OK, Typed { notice, verifying, ..Typed::default() }).await;
    if let Some(renewal) = renewal {
        renewal.apply(&s, &slug, &mut response);
    }
    response
}

/// A form of the account page, posted: its app, its CSRF check and the signed-in user. The
/// `Err` is the answer already (the page with the error, or the sign-in page).
async fn posted_by(
    s: &AppState,
    slug: &str,
    q: &AccountQuery,
    headers: &HeaderMap,
    csrf_token: Option<&str>,
) -> Result<(Hosted, Principal, Option<SessionRenewal>), Response> {
    let h = Hosted::load(s, slug, headers, q.lang.as_deref(), "account").await?;
    let Some((me, renewal)) = h.signed_in(s, headers).await else { return Err(to_signin(&h)) };
    if let Err(error) = h.check_form(s, headers, csrf_token) {
        return Err(render(s, &h, &me, StatusCode::FORBIDDEN, Typed { error: Some(error), ..Typed::default() }).await);
    }
    Ok((h, me, renewal))
}

/// Back to the account page, saying what was done.
fn done(s: &AppState, h: &Hosted, renewal: Option<SessionRenewal>, what: &str, extra: &[(&str, &str)]) -> Response {
    let mut params = vec![("done", what)];
    params.extend_from_slice(extra);
    let mut response = h.redirect(&h.url("account", &params));
    if let Some(renewal) = renewal {
        renewal.apply(s, &h.app.slug, &mut response);
    }
    response
}

#[derive(Default, Deserialize)]
pub struct ProfileForm {
    csrf_token: Option<String>,
    #[serde(default)]
    display_name: String,
}

pub async fn profile_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    form: Result<Form<ProfileForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    match s.engine.update_my_display_name(&me, &f.display_name).await {
        Ok(()) => done(&s, &h, renewal, "profile", &[]),
        Err(e) => {
            let error = match &e {
                domain::Error::InvalidRequest(_) => {
                    FormError { message: h.page.t("error-display-name"), field: Some("display_name") }
                }
                _ => h.error(&e, Some("display_name")),
            };
            let typed = Typed { error: Some(error), name: Some(f.display_name), ..Typed::default() };
            render(&s, &h, &me, status_of(&e), typed).await
        }
    }
}

#[derive(Default, Deserialize)]
pub struct PasswordForm {
    csrf_token: Option<String>,
    current_password: Option<SecretString>,
    password: Option<SecretString>,
    password_confirm: Option<SecretString>,
}

pub async fn password_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    meta: Meta,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    let password = secret(f.password);
    if let Some(error) = new_password_error(&h, &password, f.password_confirm.as_ref()) {
        return render(&s, &h, &me, StatusCode::BAD_REQUEST, Typed { error: Some(error), ..Typed::default() }).await;
    }
    match s.engine.change_my_password(&me, secret(f.current_password), password, &meta.0).await {
        Ok(_) => done(&s, &h, renewal, "password", &[]),
        Err(e) => {
            let error = match &e {
                domain::Error::InvalidCredentials => {
                    FormError { message: h.page.t("error-current-password"), field: Some("current_password") }
                }
                domain::Error::WeakPassword(_) => h.error(&e, Some("password")),
                _ => h.error(&e, None),
            };
            render(&s, &h, &me, status_of(&e), Typed { error: Some(error), ..Typed::default() }).await
        }
    }
}

#[derive(Default, Deserialize)]
pub struct SessionForm {
    csrf_token: Option<String>,
    #[serde(default)]
    session_id: String,
}

/// Signs one of the user's sessions out; this browser's own leads to the signed-out page.
pub async fn revoke_session_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    form: Result<Form<SessionForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    match s.engine.revoke_my_session(&me, &f.session_id).await {
        Ok(()) if f.session_id == me.session_id.to_string() => {
            let mut response = h.redirect(&h.url("signed-out", &[]));
            browser::clear_session_cookie(response.headers_mut(), &s.engine, &slug);
            response
        }
        Ok(()) => done(&s, &h, renewal, "session", &[]),
        Err(e) => {
            render(&s, &h, &me, status_of(&e), Typed { error: Some(h.error(&e, None)), ..Typed::default() }).await
        }
    }
}

#[derive(Default, Deserialize)]
pub struct AddContactForm {
    csrf_token: Option<String>,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    password: Option<SecretString>,
}

pub async fn add_contact_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    form: Result<Form<AddContactForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    let password = f.password.filter(|p| !secrecy::ExposeSecret::expose_secret(p).is_empty());
    match s.engine.add_contact(&me, &f.kind, &f.value, password).await {
        Ok(_) => done(&s, &h, renewal, "contact-added", &[]),
        Err(e) => {
            let error = contact_error(&h, &e, "contact_value");
            let typed = Typed { error: Some(error), contact: (f.kind, f.value), ..Typed::default() };
            render(&s, &h, &me, status_of(&e), typed).await
        }
    }
}

/// A contact change's error in the page's words; `value_field` is the input of the value.
fn contact_error(h: &Hosted, e: &domain::Error, value_field: &'static str) -> FormError {
    use domain::Error as E;
    let t = |key: &str, field| FormError { message: h.page.t(key), field };
    match e {
        E::InvalidCredentials => t("error-current-password", Some("contact_password")),
        E::InvalidRequest(m) if m.starts_with("password") => t("error-current-password", Some("contact_password")),
        E::Conflict(m) if m.starts_with("Choose another primary") => t("error-primary-contact", None),
        E::Conflict(m) if m.starts_with("Your last verified") => t("error-last-email", None),
        E::InvalidEmail(_) | E::InvalidPhone(_) => h.error(e, Some(value_field)),
        _ => h.error(e, None),
    }
}

#[derive(Default, Deserialize)]
pub struct ChangeContactForm {
    csrf_token: Option<String>,
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    action: String,
    password: Option<SecretString>,
}

/// Makes a verified email the primary one, or removes a contact.
pub async fn change_contact_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    form: Result<Form<ChangeContactForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    let password = f.password.filter(|p| !secrecy::ExposeSecret::expose_secret(p).is_empty());
    let outcome = match f.action.as_str() {
        "primary" => s.engine.make_primary(&me, &f.contact_id, password).await.map(|_| "primary"),
        "remove" => s.engine.remove_contact(&me, &f.contact_id, password).await.map(|()| "contact-removed"),
        _ => Err(domain::Error::invalid("action must be primary or remove")),
    };
    match outcome {
        Ok(what) => done(&s, &h, renewal, what, &[]),
        Err(e) => {
            let error = contact_error(&h, &e, "contact_value");
            render(&s, &h, &me, status_of(&e), Typed { error: Some(error), ..Typed::default() }).await
        }
    }
}

#[derive(Default, Deserialize)]
pub struct ContactCodeForm {
    csrf_token: Option<String>,
    #[serde(default)]
    contact_id: String,
    #[serde(default)]
    code: String,
}

/// Sends a code to one of the user's unverified contacts.
pub async fn send_code_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    form: Result<Form<ContactCodeForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    match s.engine.send_contact_code(&me, &f.contact_id).await {
        Ok(_) => done(&s, &h, renewal, "code-sent", &[("verify", &f.contact_id)]),
        Err(e) => {
            render(&s, &h, &me, status_of(&e), Typed { error: Some(h.error(&e, None)), ..Typed::default() }).await
        }
    }
}

/// The code sent to a contact verifies it.
pub async fn verify_contact_submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<AccountQuery>,
    headers: HeaderMap,
    form: Result<Form<ContactCodeForm>, FormRejection>,
) -> Response {
    let f = posted(form);
    let (h, me, renewal) = match posted_by(&s, &slug, &q, &headers, f.csrf_token.as_deref()).await {
        Ok(signed_in) => signed_in,
        Err(answer) => return answer,
    };
    match s.engine.verify_contact_code(&me, &f.contact_id, &f.code).await {
        Ok(_) => done(&s, &h, renewal, "verified", &[]),
        Err(e) => {
            let typed = Typed { error: Some(h.error(&e, None)), verifying: Some(f.contact_id), ..Typed::default() };
            render(&s, &h, &me, status_of(&e), typed).await
        }
    }
}
