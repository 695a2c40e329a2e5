//! Rampart's Leptos UI: the console at `/console`, rendered on the server and hydrated in the
//! browser, and the hosted pages of each app (`hosted`), rendered on the server only.

pub mod api;
pub mod console;
#[cfg(feature = "ssr")]
pub mod hosted;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="icon" href="/favicon.ico"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // (The console's `Referrer-Policy: same-origin`, which brings a form posted without
    // JavaScript back to its page, is the console router's: `server/src/console.rs`.)
    // Marks the page once hydrated (effects run only in the browser): before that a click is
    // a plain link or form post, which browser tests must not mistake for the app's.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/rampart.css"/>
        <Title text="Rampart"/>
        <Router>
            <Routes fallback=console::NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/console"/> }/>
                // Whole pages, rendered once their data is in: they work without JavaScript.
                <Route path=path!("/console/signin") view=console::SignIn ssr=SsrMode::Async/>
                <Route path=path!("/console/signup") view=console::SignUp ssr=SsrMode::Async/>
                <Route path=path!("/console/accept-invite") view=console::AcceptInvitePage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/console") view=console::Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=console::AppsPage ssr=SsrMode::Async/>
                    <ParentRoute path=path!("apps/:slug") view=console::AppShell ssr=SsrMode::Async>
                        <Route path=path!("") view=console::Overview ssr=SsrMode::Async/>
                        <Route path=path!("config") view=console::ConfigPage ssr=SsrMode::Async/>
                        <Route path=path!("hosted") view=console::HostedPage ssr=SsrMode::Async/>
                        <Route path=path!("roles") view=console::RolesPage ssr=SsrMode::Async/>
                        <Route path=path!("users") view=console::UsersPage ssr=SsrMode::Async/>
                        <Route path=path!("users/:id") view=console::UserPage ssr=SsrMode::Async/>
                        <Route path=path!("invites") view=console::InvitesPage ssr=SsrMode::Async/>
                        <Route path=path!("members") view=console::MembersPage ssr=SsrMode::Async/>
                        <Route path=path!("orgs") view=console::OrgsPage ssr=SsrMode::Async/>
                        <Route path=path!("orgs/:id") view=console::OrgPage ssr=SsrMode::Async/>
                        <Route path=path!("api-keys") view=console::ApiKeysPage ssr=SsrMode::Async/>
                        <Route path=path!("credentials") view=console::CredentialsPage ssr=SsrMode::Async/>
                        <Route path=path!("keys") view=console::KeysPage ssr=SsrMode::Async/>
                        <Route path=path!("webhooks") view=console::WebhooksPage ssr=SsrMode::Async/>
                        <Route path=path!("webhooks/:id") view=console::WebhookPage ssr=SsrMode::Async/>
                        <Route path=path!("oidc-clients") view=console::OidcClientsPage ssr=SsrMode::Async/>
                        <Route path=path!("providers") view=console::ProvidersPage ssr=SsrMode::Async/>
                        <Route path=path!("licenses") view=console::LicensesPage ssr=SsrMode::Async/>
                        <Route path=path!("licenses/:id") view=console::LicensePage ssr=SsrMode::Async/>
                        <Route path=path!("mail") view=console::MailPage ssr=SsrMode::Async/>
                        <Route path=path!("mail/templates") view=console::TemplatesPage ssr=SsrMode::Async/>
                        <Route path=path!("waitlists") view=console::WaitlistsPage ssr=SsrMode::Async/>
                        <Route path=path!("activity") view=console::ActivityPage ssr=SsrMode::Async/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
