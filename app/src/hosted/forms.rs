//! The pages that sign an end-user in or up: password sign-in, sign-up, a forgotten
//! password, a sign-in link, a one-time code, and the page after signing out.

use leptos::prelude::*;

use super::{document, error_region, field, form, hidden, notice, rules_list, submit, Field, FormError, Page};

/// What the sign-in form shows again.
#[derive(Debug, Clone, Default)]
pub struct SigninView {
    pub identifier: String,
    pub redirect_to: String,
    pub error: Option<FormError>,
    pub notice: Option<String>,
}

/// The other ways in that the app turns on, and the way to sign up.
fn other_ways(page: &Page) -> impl IntoView {
    let f = page.features;
    let magic =
        f.magic_link.then(|| view! { <p><a href=page.link("magic-link")>{page.t("signin-magic-link")}</a></p> });
    let otp = f.otp.then(|| view! { <p><a href=page.link("otp")>{page.t("signin-otp")}</a></p> });
    let signup = f.signup.then(|| {
        view! {
            <p>
                {page.t("signin-no-account")} " "
                <a href=page.link("signup") id="signup-link">{page.t("signin-signup-link")}</a>
            </p>
        }
    });
    view! { <nav class="links" aria-label=page.t("signin-other-ways")>{magic}{otp}{signup}</nav> }
}

/// "Continue with {provider}" links, one per enabled provider: plain links to the provider
/// flow's start, which comes back to `redirect_to` (or the account page) signed in.
pub fn provider_buttons(page: &Page, redirect_to: &str) -> impl IntoView {
    if page.providers.is_empty() {
        return None;
    }
    let back =
        if redirect_to.is_empty() { page.url("account", &[("done", "signed-in")]) } else { redirect_to.to_owned() };
    let links = page
        .providers
        .iter()
        .map(|p| {
            let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("redirect_to", &back).finish();
            let href = format!("/{}/v1/auth/oauth/{}/authorize?{query}", page.slug, p.name);
            let text = page.t_with("signin-with-provider", &[("provider", p.label.clone().into())]);
            view! { <p><a class="button secondary provider" href=href data-provider=p.name.clone()>{text}</a></p> }
        })
        .collect_view();
    Some(view! { <div class="providers" aria-label=page.t("signin-providers")>{links}</div> })
}

pub fn signin_page(page: &Page, v: SigninView) -> String {
    if !page.features.signin {
        let text = page.t("error-signin-disabled");
        return document(page, page.t("signin-title"), view! { <p>{text}</p> });
    }
    let e = v.error.as_ref();
    let body = view! {
        <p>{page.t_with("signin-intro", &[("app", page.app_name.clone().into())])}</p>
        {notice(v.notice.clone())}
        {error_region(page, e)}
        {form(
            page,
            page.action("signin"),
            "signin-form",
            view! {
                {hidden("redirect_to", v.redirect_to.clone())}
                {field(Field::new("identifier", page.t("field-identifier"), "text", "username").value(&v.identifier), e)}
                {field(Field::new("password", page.t("field-password"), "password", "current-password"), e)}
                {submit(page.t("signin-submit"))}
            },
        )}
        {provider_buttons(page, &v.redirect_to)}
        <div class="links">
            <p><a href=page.link("forgot-password")>{page.t("signin-forgot")}</a></p>
        </div>
        {other_ways(page)}
    };
    document(page, page.t("signin-title"), body)
}

/// What the sign-up form shows again (never the password).
#[derive(Debug, Clone, Default)]
pub struct SignupView {
    pub email: String,
    pub name: String,
    pub username: String,
    pub redirect_to: String,
    pub error: Option<FormError>,
}

pub fn signup_page(page: &Page, v: SignupView) -> String {
    let back = view! {
        <div class="links">
            <p>{page.t("signup-have-account")} " " <a href=page.link("signin")>{page.t("signup-signin-link")}</a></p>
        </div>
    };
    if !page.features.signup {
        let text = page.t("error-signup-disabled");
        return document(page, page.t("signup-title"), view! { <p>{text}</p> {back} });
    }
    let e = v.error.as_ref();
    let body = view! {
        <p>{page.t_with("signup-intro", &[("app", page.app_name.clone().into())])}</p>
        {error_region(page, e)}
        {form(
            page,
            page.action("signup"),
            "signup-form",
            view! {
                {hidden("redirect_to", v.redirect_to.clone())}
                {field(Field::new("email", page.t("field-email"), "email", "email").value(&v.email), e)}
                {field(Field::new("name", page.t("field-name"), "text", "name").value(&v.name).optional(), e)}
                {field(
                    Field::new("username", page.t("field-username"), "text", "username").value(&v.username).optional(),
                    e,
                )}
                {field(
                    Field::new("password", page.t("field-password"), "password", "new-password").checked_against_rules(),
                    e,
                )}
                {rules_list(page)}
                {field(
                    Field::new("password_confirm", page.t("field-confirm-password"), "password", "new-password")
                        .matching("password"),
                    e,
                )}
                {submit(page.t("signup-submit"))}
            },
        )}
        {provider_buttons(page, &v.redirect_to)}
        {back}
    };
    document(page, page.t("signup-title"), body)
}

/// A form that asks for an email address: a forgotten password, or a sign-in link.
#[derive(Debug, Clone, Default)]
pub struct EmailView {
    pub email: String,
    pub redirect_to: String,
    pub error: Option<FormError>,
}

pub fn forgot_password_page(page: &Page, v: EmailView) -> String {
    email_page(page, v, "forgot-password", ("forgot-title", "forgot-intro", "forgot-submit"))
}

pub fn magic_link_page(page: &Page, v: EmailView) -> String {
    email_page(page, v, "magic-link", ("magic-title", "magic-intro", "magic-submit"))
}

fn email_page(page: &Page, v: EmailView, path: &'static str, (title, intro, button): (&str, &str, &str)) -> String {
    let e = v.error.as_ref();
    let redirect = (path == "magic-link").then(|| hidden("redirect_to", v.redirect_to.clone()));
    let body = view! {
        <p class="muted">{page.t(intro)}</p>
        {error_region(page, e)}
        {form(
            page,
            page.action(path),
            "email-form",
            view! {
                {redirect}
                {field(Field::new("email", page.t("field-email"), "email", "email").value(&v.email), e)}
                {submit(page.t(button))}
            },
        )}
        <div class="links"><p><a href=page.link("signin")>{page.t("back-to-signin")}</a></p></div>
    };
    document(page, page.t(title), body)
}

/// The first step of a one-time code: where to send it.
#[derive(Debug, Clone, Default)]
pub struct OtpAskView {
    pub destination: String,
    pub redirect_to: String,
    pub error: Option<FormError>,
}

pub fn otp_ask_page(page: &Page, v: OtpAskView) -> String {
    let e = v.error.as_ref();
    let body = view! {
        <p class="muted">{page.t("otp-intro")}</p>
        {error_region(page, e)}
        {form(
            page,
            page.action("otp"),
            "otp-send-form",
            view! {
                {hidden("redirect_to", v.redirect_to.clone())}
                {field(
                    Field::new("destination", page.t("field-destination"), "text", "email")
                        .value(&v.destination)
                        .hint(page.t("field-destination-hint")),
                    e,
                )}
                {submit(page.t("otp-send"))}
            },
        )}
        <div class="links"><p><a href=page.link("signin")>{page.t("back-to-signin")}</a></p></div>
    };
    document(page, page.t("otp-title"), body)
}

/// The second step: the code that was sent.
#[derive(Debug, Clone, Default)]
pub struct OtpCodeView {
    pub request: String,
    pub redirect_to: String,
    pub error: Option<FormError>,
}

pub fn otp_code_page(page: &Page, v: OtpCodeView) -> String {
    let e = v.error.as_ref();
    let body = view! {
        <p class="muted">{page.t("otp-code-intro")}</p>
        {error_region(page, e)}
        {form(
            page,
            page.action("otp/verify"),
            "otp-verify-form",
            view! {
                {hidden("request", v.request.clone())}
                {hidden("redirect_to", v.redirect_to.clone())}
                <div class="field">
                    <label for="code">{page.t("field-code")}</label>
                    <input
                        id="code"
                        name="code"
                        type="text"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        pattern="[0-9]{6}"
                        maxlength="6"
                        required=true
                        aria-describedby="code-error"
                        aria-invalid=e.map(|_| "true")
                    />
                    <p class="field-error" id="code-error"></p>
                </div>
                {submit(page.t("otp-verify"))}
            },
        )}
        <div class="links"><p><a href=page.link("otp")>{page.t("otp-resend")}</a></p></div>
    };
    document(page, page.t("otp-code-title"), body)
}

pub fn signed_out_page(page: &Page) -> String {
    let body = view! {
        <p>{page.t("signed-out-body")}</p>
        <div class="links"><p><a href=page.link("signin")>{page.t("sign-in-again")}</a></p></div>
    };
    document(page, page.t("signed-out-title"), body)
}
