//! The pages of the app as an OpenID Connect provider: consent for a third-party client,
//! and the page that refuses a request it cannot send back to its client.

use leptos::prelude::*;

use super::{document, form, hidden, message_page, Page};

/// What the consent page asks about.
#[derive(Debug, Clone, Default)]
pub struct ConsentView {
    pub client_name: String,
    pub scopes: Vec<String>,
    /// The authorization request's query, posted back with the decision.
    pub request: String,
}

pub fn consent_page(page: &Page, v: ConsentView) -> String {
    let intro = page
        .t_with("consent-intro", &[("client", v.client_name.clone().into()), ("app", page.app_name.clone().into())]);
    let scopes: Vec<_> = v.scopes.iter().map(|s| view! { <li>{page.t(&format!("consent-scope-{s}"))}</li> }).collect();
    let body = view! {
        <p>{intro}</p>
        <p>{page.t("consent-scopes")}</p>
        <ul class="scopes">{scopes}</ul>
        {form(
            page,
            page.action("oauth2/authorize"),
            "consent-form",
            view! {
                {hidden("request", v.request.clone())}
                <div class="actions">
                    <button type="submit" name="decision" value="allow" id="consent-allow">{page.t("consent-allow")}</button>
                    " "
                    <button type="submit" name="decision" value="deny" id="consent-deny" class="secondary">{page.t("consent-deny")}</button>
                </div>
            },
        )}
    };
    document(page, page.t("consent-title"), body)
}

/// A request that cannot go back to its client: said on a page.
pub fn oauth_error_page(page: &Page, message_key: &str) -> String {
    message_page(page, "oauth-error-title", page.t(message_key), None)
}
