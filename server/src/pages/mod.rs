//! The hosted pages of each app (`/{slug}/signin`, `/{slug}/account`, …): the axum side.
//! The views are `app::hosted`; here each request gets its app, its language, a fresh CSP
//! nonce, its form's CSRF token and its security headers, and each form post is checked
//! (CSRF, origin) and answered with a redirect, or with its form again and the error.

mod account;
pub(crate) mod federation;
pub(crate) mod links;
pub(crate) mod oauth;
pub mod oauth_cors;
mod otp;
mod signin;

use app::hosted::{self, FormError, Page};
use app::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::engine::Principal;
use domain::i18n::Language;
use domain::model::App;
use domain::types::PasswordPolicy;
use serde::Deserialize;

use crate::browser::{self, FormCsrf};

pub use links::{sign_in_token_page, verify_email_page};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/_hosted/hosted.js", get(script))
        .route("/{slug}/signin", get(signin::signin_page).post(signin::signin_submit))
        .route("/{slug}/signup", get(signin::signup_page).post(signin::signup_submit))
        .route("/{slug}/signout", post(signin::signout_submit))
        .route("/{slug}/signed-out", get(signin::signed_out_page))
        .route("/{slug}/forgot-password", get(signin::forgot_password_page).post(signin::forgot_password_submit))
        .route("/{slug}/magic-link", get(signin::magic_link_page).post(signin::magic_link_submit))
        .route("/{slug}/otp", get(otp::ask_page).post(otp::send_submit))
        .route("/{slug}/otp/verify", get(otp::code_page).post(otp::verify_submit))
        .route("/{slug}/verify-email", get(links::verify_email_page).post(links::verify_email_submit))
        .route("/{slug}/sign-in/token", get(links::sign_in_token_page).post(links::sign_in_token_submit))
        .route("/{slug}/reset-password", get(links::reset_password_page).post(links::reset_password_submit))
        .route("/{slug}/accept-invite", get(links::accept_invite_page).post(links::accept_invite_submit))
        .route("/{slug}/accept-org-invite", get(links::accept_org_invite_page).post(links::accept_org_invite_submit))
        .route("/{slug}/account", get(account::account_page))
        .route("/{slug}/account/profile", post(account::profile_submit))
        .route("/{slug}/account/password", post(account::password_submit))
        .route("/{slug}/account/sessions/revoke", post(account::revoke_session_submit))
        .route("/{slug}/account/contacts/add", post(account::add_contact_submit))
        .route("/{slug}/account/contacts/change", post(account::change_contact_submit))
        .route("/{slug}/account/contacts/send-code", post(account::send_code_submit))
        .route("/{slug}/account/contacts/verify", post(account::verify_contact_submit))
        .route("/{slug}/account/identities/link", post(federation::link_submit))
        .route("/{slug}/account/identities/unlink", post(federation::unlink_submit))
}

/// Each app's OpenID Connect provider: protocol endpoints, documented (the sign-in and
/// consent they lead to are hosted pages).
pub fn oidc_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(oauth::discovery))
        .routes(routes!(oauth::authorize, oauth::consent_submit))
        .routes(routes!(oauth::token, oauth::token_preflight))
        .routes(routes!(oauth::userinfo, oauth::userinfo_preflight))
        .routes(routes!(oauth::revoke, oauth::revoke_preflight))
        .routes(routes!(oauth::introspect))
        .routes(routes!(oauth::logout, oauth::logout_post))
}

/// `GET /_hosted/hosted.js`: the pages' one script, from the binary. Its URL carries its
/// version, so browsers keep it for a year.
async fn script() -> Response {
    let mut response = hosted::SCRIPT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    response
}

/// `?lang=`, which every page and form action carries.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// One hosted page's request: its app, and the page context its view renders with.
pub struct Hosted {
    pub app: App,
    pub page: Page,
    csrf: Option<FormCsrf>,
    /// The URL carries a secret (a link's token): no `Referer` may leave the page at all.
    token_in_url: bool,
    /// Origins the page's forms may end at besides this server and the app's redirect URLs:
    /// a registered OIDC redirect URI, reached by the redirects that follow a sign-in or a
    /// consent (`form-action` governs the whole redirect chain of a form's post).
    form_targets: Vec<String>,
}

/// The language of a request: `?lang=`, else `Accept-Language`, else English.
fn language(headers: &HeaderMap, lang: Option<&str>) -> Language {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Language::pick(lang, accept)
}

impl Hosted {
    /// The app of `slug` with its page context for the page at `here`; an unknown app (or
    /// the platform's, whose accounts use the console) is a 404 page.
    pub async fn load(
        s: &AppState,
        slug: &str,
        headers: &HeaderMap,
        lang: Option<&str>,
        here: &'static str,
    ) -> Result<Hosted, Response> {
        let lang = language(headers, lang);
        let app = match s.engine.app(slug).await {
            Ok(app) if app.slug != domain::types::PLATFORM_SLUG => app,
            Ok(_) | Err(domain::Error::NotFound(_)) => return Err(not_found(lang)),
            Err(e) => return Err(internal(lang, e)),
        };
        let c = &app.config;
        let branding = c.branding.clone();
        let app_name = if branding.display_name.trim().is_empty() {
            app.display_name.clone()
        } else {
            branding.display_name.clone()
        };
        let csrf = browser::form_csrf(&s.engine, slug, headers);
        let providers = match c.signin_enabled {
            true => s.engine.enabled_providers(slug).await.map_err(|e| internal(lang, e))?,
            false => Vec::new(),
        };
        let page = Page {
            lang,
            slug: app.slug.clone(),
            app_name,
            branding,
            features: hosted::Features {
                signin: c.signin_enabled,
                signup: c.signup_enabled && !c.signup_requires_pak,
                magic_link: c.signin_enabled && c.magic_link_enabled,
                otp: c.otp_enabled,
            },
            policy: PasswordPolicy::from(c),
            nonce: domain::crypto::random_id(""),
            csrf_token: csrf.token.clone(),
            here,
            keep: Vec::new(),
            providers: providers
                .into_iter()
                .map(|p| hosted::ProviderButton { name: p.name, label: p.display_name })
                .collect(),
        };
        Ok(Hosted { app, page, csrf: Some(csrf), token_in_url: false, form_targets: Vec::new() })
    }

    /// Keeps `name` (with its value) in the links to this page in the other language.
    pub fn keep(mut self, name: &'static str, value: &str) -> Hosted {
        if !value.is_empty() {
            self.page.keep.push((name, value.to_owned()));
        }
        self
    }

    /// Keeps `redirect_to` like [`Hosted::keep`]; when it resumes an authorization request of
    /// this app (`/{slug}/oauth2/authorize?client_id=…&redirect_uri=…`) whose client has that
    /// redirect URI registered, the page's forms may also end at its origin.
    pub async fn keep_return(self, s: &AppState, redirect_to: &str) -> Hosted {
        let mut h = self.keep("redirect_to", redirect_to);
        let authorize = format!("/{}/oauth2/authorize?", h.app.slug);
        let Some(query) = redirect_to.strip_prefix(&authorize) else { return h };
        let mut client_id = None;
        let mut redirect_uri = None;
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "client_id" => client_id = Some(v.into_owned()),
                "redirect_uri" => redirect_uri = Some(v.into_owned()),
                _ => {}
            }
        }
        if let (Some(client_id), Some(redirect_uri)) = (client_id, redirect_uri) {
            if let Ok(Some(origin)) = s.engine.oidc_return_origin(&h.app.slug, &client_id, &redirect_uri).await {
                h.allow_form_target(origin);
            }
        }
        h
    }

    /// Lets the page's forms end at `origin` (see `form_targets`).
    pub fn allow_form_target(&mut self, origin: String) {
        if !self.form_targets.contains(&origin) {
            self.form_targets.push(origin);
        }
    }

    /// Marks the page's URL as carrying a secret.
    pub fn with_token_in_url(mut self) -> Hosted {
        self.token_in_url = true;
        self
    }

    /// The page's HTML with its headers: the CSP that lets only this response's nonce run
    /// scripts and styles, no caching, no framing.
    pub fn respond(&self, status: StatusCode, html: String) -> Response {
        let mut response = (status, Html(html)).into_response();
        self.secure(response.headers_mut());
        response
    }

    fn secure(&self, headers: &mut HeaderMap) {
        let urls = &self.app.config.allowed_redirect_urls;
        let targets = FormTargets { redirect_urls: urls, origins: &self.form_targets };
        security_headers(headers, &self.page.nonce, targets, self.token_in_url, self.csrf.as_ref());
    }

    /// Post/redirect/get: a `303` to `to`, with the same headers as a page.
    pub fn redirect(&self, to: &str) -> Response {
        let mut response = Redirect::to(to).into_response();
        self.secure(response.headers_mut());
        response
    }

    /// A page of this app at `path`, in this language, with `params`.
    pub fn url(&self, path: &str, params: &[(&str, &str)]) -> String {
        self.page.url(path, params)
    }

    /// Checks a form post: its origin and its CSRF token. Refused, the error to show is
    /// "the form expired".
    pub fn check_form(&self, s: &AppState, headers: &HeaderMap, token: Option<&str>) -> Result<(), FormError> {
        let headers = same_origin_behind_no_referrer(headers);
        browser::check_form(&s.engine, &self.app, &headers, token)
            .map_err(|_| FormError { message: self.page.t("error-csrf"), field: None })
    }

    /// The signed-in end-user of this app, if the browser's session cookie names a live
    /// session; a renewed session's cookie is sent again with `response`.
    pub async fn signed_in(&self, s: &AppState, headers: &HeaderMap) -> Option<(Principal, Option<SessionRenewal>)> {
        let cookie = browser::request_cookie(headers, browser::SESSION_COOKIE)?;
        let session = s.engine.browser_session(&self.app.slug, &cookie).await.ok()?;
        let renewal = session.renewed.then_some(SessionRenewal { cookie, expires_at: session.expires_at });
        Some((session.principal, renewal))
    }

    /// The error of a failed engine call, in the page's language.
    pub fn error(&self, e: &domain::Error, field: Option<&'static str>) -> FormError {
        FormError { message: error_text(&self.page, e), field }
    }

    /// The error of a password the app's policy refuses: which rule it breaks.
    pub fn weak_password(&self, password: &str, field: &'static str) -> FormError {
        let p = &self.page;
        let message = match hosted::broken_rule(&p.policy, password) {
            Some(key) => {
                let rule = p.t_with(key, &[("count", i64::from(p.policy.min_length).into())]);
                p.t_with("error-weak-password-rule", &[("rule", rule.into())])
            }
            None => p.t("error-weak-password"),
        };
        FormError { message, field: Some(field) }
    }
}

/// Where a page's forms may end besides this server: the origins of the app's redirect URLs
/// and of the page's own `form_targets`.
#[derive(Clone, Copy, Default)]
struct FormTargets<'a> {
    redirect_urls: &'a [String],
    origins: &'a [String],
}

/// The headers of every hosted page: the CSP that lets only this response's `nonce` run
/// scripts and styles, no caching, no framing, and how much `Referer` leaves.
fn security_headers(
    headers: &mut HeaderMap,
    nonce: &str,
    targets: FormTargets<'_>,
    token_in_url: bool,
    csrf: Option<&FormCsrf>,
) {
    // A form's redirect after its post must be allowed by `form-action` too.
    let mut form_action = vec!["'self'".to_owned()];
    let redirect_origins = targets.redirect_urls.iter().filter_map(|url| shared::config::origin_of(url));
    for origin in redirect_origins.chain(targets.origins.iter().cloned()) {
        if !form_action.contains(&origin) {
            form_action.push(origin);
        }
    }
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src https: data:; \
         form-action {}; frame-ancestors 'none'; base-uri 'none'",
        form_action.join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Pages whose URL holds a token send no Referer anywhere. The others send one to this
    // server only, so their form posts carry an `Origin` the CSRF check can read (under
    // `no-referrer` a browser sends `Origin: null`).
    let referrer = if token_in_url { "no-referrer" } else { "same-origin" };
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    if let Some(csrf) = csrf {
        csrf.apply(headers);
    }
}

/// A session whose cookie must be sent again (its end moved).
pub struct SessionRenewal {
    cookie: String,
    expires_at: chrono::DateTime<chrono::Utc>,
}

impl SessionRenewal {
    pub fn apply(&self, s: &AppState, slug: &str, response: &mut Response) {
        browser::renew_session_cookie(response.headers_mut(), &s.engine, slug, &self.cookie, self.expires_at);
    }
}

/// A page that was served under `Referrer-Policy: no-referrer` (a link's token in its URL)
/// posts its form with `Origin: null`; the browser still says the post came from this
/// site in `Sec-Fetch-Site`, which no page can forge. Such a post is read as having no
/// `Origin` at all: the CSRF token and `Sec-Fetch-Site` decide.
fn same_origin_behind_no_referrer(headers: &HeaderMap) -> std::borrow::Cow<'_, HeaderMap> {
    let null_origin = headers.get(header::ORIGIN).is_some_and(|o| o.as_bytes() == b"null");
    let same_site = headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"same-origin");
    if null_origin && same_site {
        let mut headers = headers.clone();
        headers.remove(header::ORIGIN);
        std::borrow::Cow::Owned(headers)
    } else {
        std::borrow::Cow::Borrowed(headers)
    }
}

/// What an engine error says on a page, in its language. The engine's own messages are
/// English: each code has its line in the catalogue instead.
pub fn error_text(page: &Page, e: &domain::Error) -> String {
    use domain::Error as E;
    let key = match e {
        E::InvalidCredentials => "error-invalid-credentials",
        E::InvalidEmail(_) => "error-invalid-email",
        E::InvalidPhone(_) => "error-invalid-phone",
        E::WeakPassword(_) => "error-weak-password",
        E::UserExists(_) => "error-user-exists",
        E::SignupDisabled => "error-signup-disabled",
        E::RateLimited { .. } => "error-rate-limited",
        E::InvalidOtp(_) => "error-invalid-otp",
        E::InvalidToken(_) => "link-dead",
        E::Forbidden(_) => "error-forbidden",
        E::Unavailable { .. } => "error-unavailable",
        E::Conflict(_) => "error-conflict",
        E::InvalidRequest(_) => "error-invalid-request",
        E::Internal(cause) => {
            tracing::error!(error = format!("{cause:#}"), "internal error on a hosted page");
            "error-internal"
        }
        _ => "error-invalid-request",
    };
    page.t(key)
}

/// The HTTP status of a page that shows `e`.
pub fn status_of(e: &domain::Error) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// A page for a request the app cannot be found for: no branding, no forms.
fn bare_page(lang: Language, status: StatusCode, title: &str, text: &str) -> Response {
    let page = Page {
        lang,
        slug: String::new(),
        app_name: "Rampart".into(),
        branding: shared::config::Branding::default(),
        features: hosted::Features::default(),
        policy: PasswordPolicy {
            min_length: 0,
            require_uppercase: false,
            require_number: false,
            require_symbol: false,
        },
        nonce: domain::crypto::random_id(""),
        csrf_token: String::new(),
        here: "",
        keep: Vec::new(),
        providers: Vec::new(),
    };
    let html = hosted::message_page(&page, title, lang.text(text), None);
    let mut response = (status, Html(html)).into_response();
    security_headers(response.headers_mut(), &page.nonce, FormTargets::default(), true, None);
    response
}

fn not_found(lang: Language) -> Response {
    bare_page(lang, StatusCode::NOT_FOUND, "not-found-title", "not-found-body")
}

fn internal(lang: Language, e: domain::Error) -> Response {
    let status = status_of(&e);
    if let domain::Error::Internal(cause) = &e {
        tracing::error!(error = format!("{cause:#}"), "internal error on a hosted page");
    }
    let text = if status.is_server_error() { "error-unavailable" } else { "error-invalid-request" };
    bare_page(lang, status, "not-found-title", text)
}

/// `redirect_to` as the app allows it (an exact allowed URL or a relative path); `Err` with
/// the page's error when it is not.
pub fn allowed_redirect(h: &Hosted, raw: Option<&str>) -> Result<Option<String>, FormError> {
    domain::engine::allowed_redirect(&h.app, raw)
        .map_err(|_| FormError { message: h.page.t("error-redirect"), field: None })
}

/// Where a signed-in user goes: `redirect_to`, else the account page.
pub fn after_sign_in(h: &Hosted, redirect_to: Option<&str>) -> String {
    match redirect_to {
        Some(to) => to.to_owned(),
        None => h.url("account", &[("done", "signed-in")]),
    }
}
