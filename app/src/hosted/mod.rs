//! The hosted pages an app's end-users see (`/{slug}/signin`, `/{slug}/account`, …): whole
//! documents rendered on the server from these views, in the end-user's language, in the
//! app's branding. Plain forms that work without JavaScript; one small static script
//! (`hosted.js`, loaded with the response's CSP nonce) adds inline checks when it runs. The
//! console's wasm bundle is never sent to end-users.
//!
//! Every value that comes from the app or the user goes through Leptos, which escapes text
//! and attributes; the one unescaped text is the `<style>`, made of this file's CSS and the
//! branding's checked variables (`Branding::css`).

mod account;
mod forms;
mod links;
mod oauth;

pub use account::{account_page, AccountView, ContactRow, IdentityRow, SessionRow};
pub use forms::*;
pub use links::*;
pub use oauth::{consent_page, oauth_error_page, ConsentView};

use std::sync::LazyLock;

use domain::i18n::{Arg, Language};
use domain::types::PasswordPolicy;
use leptos::prelude::*;
use shared::config::Branding;

/// The pages' stylesheet: colours through variables an app's branding may set
/// (`--background`, `--text`, …, see `shared::config::CSS_VARIABLES`), each falling back
/// to the theme's default (`--d-…`).
pub const STYLE: &str = include_str!("hosted.css");

/// The pages' one script: inline validation, nothing the pages need to work.
pub const SCRIPT: &str = include_str!("hosted.js");

/// Where pages load the script from; the query names its version, so it may be cached for
/// ever.
pub static SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("/_hosted/hosted.js?v={}", &domain::crypto::token_digest(SCRIPT)[..12]));

/// What the app turns on, which decides what its pages offer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Features {
    pub signin: bool,
    pub signup: bool,
    pub magic_link: bool,
    pub otp: bool,
}

/// Everything a page needs besides its own content: the app, the language, the response's
/// CSP nonce and the form's CSRF token.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Language,
    pub slug: String,
    /// The branding's display name, else the app's.
    pub app_name: String,
    pub branding: Branding,
    pub features: Features,
    pub policy: PasswordPolicy,
    pub nonce: String,
    pub csrf_token: String,
    /// This page's path below the app (`signin`, `account`), and the query parameters a
    /// link to it in another language keeps.
    pub here: &'static str,
    pub keep: Vec<(&'static str, String)>,
    /// The app's enabled sign-in providers ("Continue with …").
    pub providers: Vec<ProviderButton>,
}

/// One of the app's external sign-in providers, as a page offers it.
#[derive(Debug, Clone, Default)]
pub struct ProviderButton {
    /// Its name in URLs.
    pub name: String,
    pub label: String,
}

/// An error shown at the top of a form (announced), and the id of the field it is about, if
/// one.
#[derive(Debug, Clone, Default)]
pub struct FormError {
    pub message: String,
    pub field: Option<&'static str>,
}

impl Page {
    pub fn t(&self, key: &str) -> String {
        self.lang.text(key)
    }

    pub fn t_with(&self, key: &str, args: &[(&'static str, Arg)]) -> String {
        self.lang.text_with(key, args)
    }

    /// `/{slug}/{path}` with `?lang=` and `params` (empty values left out).
    pub fn url(&self, path: &str, params: &[(&str, &str)]) -> String {
        url_with(&self.slug, path, self.lang, params)
    }

    /// A link to another page that keeps this page's `redirect_to`.
    pub fn link(&self, path: &str) -> String {
        let keep: Vec<(&str, &str)> =
            self.keep.iter().filter(|(k, _)| *k == "redirect_to").map(|(k, v)| (*k, v.as_str())).collect();
        self.url(path, &keep)
    }

    /// Where this page's forms post: the page itself, in the same language.
    pub fn action(&self, path: &str) -> String {
        self.url(path, &[])
    }
}

/// `/{slug}/{path}?lang=…&…`, the values form-encoded.
pub fn url_with(slug: &str, path: &str, lang: Language, params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("lang", lang.code());
    for (name, value) in params {
        if !value.is_empty() {
            query.append_pair(name, value);
        }
    }
    format!("/{slug}/{path}?{}", query.finish())
}

/// A whole page: `<!doctype html>` and the document around `body`, titled `title`.
pub fn document(page: &Page, title: String, body: impl IntoView + 'static) -> String {
    let p = page.clone();
    // Written escaped, not as a text child: Leptos follows a text child with a `<!>`
    // hydration marker, which `<title>` (raw text) would show as such.
    let head_title = domain::mail::render::escape(
        &p.t_with("page-title", &[("page", title.clone().into()), ("app", p.app_name.clone().into())]),
    );
    let style = format!("{STYLE}\n{}", p.branding.css());
    let theme = p.branding.theme.clone();
    let logo = (!p.branding.logo_url.is_empty()).then(|| {
        let (src, alt) = (p.branding.logo_url.clone(), p.app_name.clone());
        view! { <img class="logo" src=src alt=alt/> }
    });
    let support = (!p.branding.support_url.is_empty()).then(|| {
        let href = p.branding.support_url.clone();
        view! { <a href=href rel="noopener noreferrer">{p.t("need-help")}</a> }
    });
    let other = Language::ALL.into_iter().find(|l| *l != p.lang).unwrap_or_default();
    let keep: Vec<(&str, &str)> = p.keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let switch = url_with(&p.slug, p.here, other, &keep);
    // The account page's tables need more room than a form.
    let class = (p.here == "account").then_some("wide");
    let html = view! {
        <html lang=p.lang.code() data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="robots" content="noindex"/>
                <title inner_html=head_title></title>
                <style nonce=p.nonce.clone() inner_html=style></style>
                <script src=SCRIPT_URL.as_str() nonce=p.nonce.clone() defer=true></script>
            </head>
            <body>
                <main class=class>
                    <header>
                        {logo}
                        <p class="app">{p.app_name.clone()}</p>
                        <h1>{title}</h1>
                    </header>
                    {body}
                    <footer>
                        {support}
                        <a href=switch hreflang=other.code() lang=other.code()>{p.t("switch-language")}</a>
                    </footer>
                </main>
            </body>
        </html>
    }
    .to_html();
    format!("<!doctype html>{html}")
}

/// A page that only says something.
pub fn message_page(page: &Page, title_key: &str, text: String, back: Option<(String, String)>) -> String {
    let back = back.map(|(href, label)| view! { <p><a href=href>{label}</a></p> });
    document(page, page.t(title_key), view! { <p>{text}</p> {back} })
}

/// The form's error region: always there, so a screen reader announces what fills it (the
/// server's error, or the script's).
pub fn error_region(page: &Page, error: Option<&FormError>) -> impl IntoView {
    let text = error.map(|e| e.message.clone());
    let heading = text.as_ref().map(|_| page.t("form-errors"));
    view! {
        <div id="form-errors" class="errors" role="alert" aria-live="assertive" tabindex="-1">
            {heading.map(|h| view! { <p class="errors-title">{h}</p> })}
            {text.map(|t| view! { <p>{t}</p> })}
        </div>
    }
}

/// `<form method=post>` with its CSRF token and the inline checks' messages.
pub fn form(page: &Page, action: String, id: &str, children: impl IntoView + 'static) -> impl IntoView {
    let id = id.to_owned();
    view! {
        <form
            method="post"
            action=action
            id=id
            data-validate="true"
            data-msg-required=page.t("invalid-required")
            data-msg-email=page.t("invalid-email")
            data-msg-mismatch=page.t("invalid-mismatch")
            data-msg-rules=page.t("invalid-rules")
        >
            <input type="hidden" name="csrf_token" value=page.csrf_token.clone()/>
            {children}
        </form>
    }
}

/// A hidden field.
pub fn hidden(name: &'static str, value: String) -> impl IntoView {
    view! { <input type="hidden" name=name value=value/> }
}

/// What a visible field is.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    pub required: bool,
    pub hint: Option<String>,
    /// `data-*` for the script: the rules list a new password is checked against, the
    /// field a confirmation must match.
    pub rules: bool,
    pub matches: Option<&'static str>,
    /// The id, when two forms of a page have a field of the same name.
    pub id: Option<String>,
}

impl Field {
    pub fn new(name: &'static str, label: String, kind: &'static str, autocomplete: &'static str) -> Field {
        Field {
            name,
            label,
            kind,
            value: String::new(),
            autocomplete,
            required: true,
            hint: None,
            rules: false,
            matches: None,
            id: None,
        }
    }

    pub fn value(mut self, value: &str) -> Field {
        self.value = value.to_owned();
        self
    }

    pub fn optional(mut self) -> Field {
        self.required = false;
        self
    }

    pub fn hint(mut self, hint: String) -> Field {
        self.hint = Some(hint);
        self
    }

    pub fn checked_against_rules(mut self) -> Field {
        self.rules = true;
        self
    }

    pub fn matching(mut self, other: &'static str) -> Field {
        self.matches = Some(other);
        self
    }

    pub fn id(mut self, id: String) -> Field {
        self.id = Some(id);
        self
    }
}

/// A labelled input, with the place its inline error goes.
pub fn field(f: Field, error: Option<&FormError>) -> impl IntoView {
    let id = f.id.clone().unwrap_or_else(|| f.name.to_owned());
    let error_id = format!("{id}-error");
    let hint_id = f.hint.as_ref().map(|_| format!("{id}-hint"));
    let described = match &hint_id {
        Some(hint) => format!("{hint} {error_id}"),
        None => error_id.clone(),
    };
    // The rules' title and list describe a new password; the list carries no label of its
    // own, which a description would read instead of its rules.
    let described = if f.rules { format!("password-rules-title password-rules {described}") } else { described };
    let invalid = error.is_some_and(|e| e.field.is_some_and(|field| field == id)).then_some("true");
    // Passwords are never sent back.
    let value = (f.kind != "password" && !f.value.is_empty()).then(|| f.value.clone());
    view! {
        <div class="field">
            <label for=id.clone()>{f.label}</label>
            {f.hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id
                name=f.name
                type=f.kind
                value=value
                autocomplete=f.autocomplete
                required=f.required
                aria-describedby=described
                aria-invalid=invalid
                data-rules=f.rules.then_some("password-rules")
                data-match=f.matches
            />
            <p class="field-error" id=error_id></p>
        </div>
    }
}

/// The app's password rules, which the script marks as met while the user types.
pub fn rules_list(page: &Page) -> impl IntoView {
    let policy = &page.policy;
    let mut rules =
        vec![("min-length", page.t_with("rule-min-length", &[("count", i64::from(policy.min_length).into())]))];
    if policy.require_uppercase {
        rules.push(("uppercase", page.t("rule-uppercase")));
    }
    if policy.require_number {
        rules.push(("number", page.t("rule-number")));
    }
    if policy.require_symbol {
        rules.push(("symbol", page.t("rule-symbol")));
    }
    view! {
        <div class="rules">
            <p id="password-rules-title">{page.t("rules-title")}</p>
            <ul
                id="password-rules"
                data-min-length=policy.min_length.to_string()
                data-uppercase=policy.require_uppercase.to_string()
                data-number=policy.require_number.to_string()
                data-symbol=policy.require_symbol.to_string()
            >
                {rules.into_iter().map(|(rule, text)| view! { <li data-rule=rule>{text}</li> }).collect_view()}
            </ul>
        </div>
    }
}

/// The key of the first rule of `policy` that `password` breaks, to say which in the
/// page's language.
pub fn broken_rule(policy: &PasswordPolicy, password: &str) -> Option<&'static str> {
    let length = password.chars().count();
    if length < policy.min_length as usize || length > domain::types::PASSWORD_MAX_LENGTH {
        Some("rule-min-length")
    } else if policy.require_uppercase && !password.chars().any(char::is_uppercase) {
        Some("rule-uppercase")
    } else if policy.require_number && !password.chars().any(|c| c.is_ascii_digit()) {
        Some("rule-number")
    } else if policy.require_symbol && password.chars().all(char::is_alphanumeric) {
        Some("rule-symbol")
    } else {
        None
    }
}

pub fn submit(label: String) -> impl IntoView {
    view! { <button type="submit">{label}</button> }
}

/// A notice after a step went through (the `done` of a redirect), announced politely.
pub fn notice(text: Option<String>) -> impl IntoView {
    text.map(|t| view! { <p class="notice" role="status">{t}</p> })
}
