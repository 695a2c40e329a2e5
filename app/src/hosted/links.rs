//! The pages emailed links land on: confirm an email, sign in with a link, choose a new
//! password, accept an invite. Their GET only shows the page (a mail scanner following the
//! link spends nothing); the form posts the token back.

use leptos::prelude::*;

use super::{document, error_region, field, form, hidden, rules_list, submit, Field, FormError, Page};

/// A page that asks to confirm before a link is spent: `intro`, then a form posting `token`
/// to `action` with one button.
pub fn confirm_page(
    page: &Page,
    (title, intro, button): (&str, String, &str),
    action: &'static str,
    token: String,
    error: Option<FormError>,
) -> String {
    let body = view! {
        <p>{intro}</p>
        {error_region(page, error.as_ref())}
        {form(page, page.action(action), "confirm-form", view! {
            {hidden("token", token)}
            {submit(page.t(button))}
        })}
    };
    document(page, page.t(title), body)
}

/// The form for a new password, from a reset link.
pub fn reset_password_page(page: &Page, token: String, error: Option<FormError>) -> String {
    let e = error.as_ref();
    let body = view! {
        {error_region(page, e)}
        {form(page, page.action("reset-password"), "reset-form", view! {
            {hidden("token", token)}
            {new_password_fields(page, e)}
            {submit(page.t("reset-submit"))}
        })}
    };
    document(page, page.t("reset-title"), body)
}

/// A new password, the app's rules, and the password again.
pub fn new_password_fields(page: &Page, e: Option<&FormError>) -> impl IntoView {
    view! {
        {field(
            Field::new("password", page.t("field-new-password"), "password", "new-password").checked_against_rules(),
            e,
        )}
        {rules_list(page)}
        {field(
            Field::new("password_confirm", page.t("field-confirm-password"), "password", "new-password")
                .matching("password"),
            e,
        )}
    }
}

/// Accepting an invite: the invited address, and a password to choose.
pub fn accept_invite_page(page: &Page, code: String, email: String, error: Option<FormError>) -> String {
    let e = error.as_ref();
    let intro = page.t_with("invite-intro", &[("app", page.app_name.clone().into()), ("email", email.into())]);
    let body = view! {
        <p>{intro}</p>
        {error_region(page, e)}
        {form(page, page.action("accept-invite"), "invite-form", view! {
            {hidden("code", code)}
            {new_password_fields(page, e)}
            {submit(page.t("invite-submit"))}
        })}
    };
    document(page, page.t("invite-title"), body)
}
