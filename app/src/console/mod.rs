//! The console: sign-in, the apps list with the create form; an app's pages live in the
//! submodules.

mod activity;
mod api_keys;
mod app;
mod config;
mod credentials;
mod hosted;
mod invites;
mod keys;
mod licenses;
mod mail;
mod members;
mod oidc_clients;
mod orgs;
mod providers;
mod roles;
mod templates;
mod users;
mod waitlists;
mod webhooks;

pub use activity::ActivityPage;
pub use api_keys::ApiKeysPage;
pub use app::{AppShell, Overview};
pub use config::ConfigPage;
pub use credentials::CredentialsPage;
pub use hosted::HostedPage;
pub use invites::InvitesPage;
pub use keys::KeysPage;
pub use licenses::{LicensePage, LicensesPage};
pub use mail::MailPage;
pub use members::{AcceptInvitePage, MembersPage};
pub use oidc_clients::OidcClientsPage;
pub use orgs::{OrgPage, OrgsPage};
pub use providers::ProvidersPage;
pub use roles::RolesPage;
pub use templates::TemplatesPage;
pub use users::{UserPage, UsersPage};
pub use waitlists::WaitlistsPage;
pub use webhooks::{WebhookPage, WebhooksPage};

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, Redirect, A};

use crate::api::{self, AppSummary, ConsoleError, CreateApp, SignIn as SignInFn, SignOut, SignUp as SignUpFn};

/// Shows the message of a failed action, if any.
pub(crate) fn error_text<T, S>(value: S) -> impl Fn() -> Option<String>
where
    S: Get<Value = Option<Result<T, ConsoleError>>>,
{
    move || match value.get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <main class="centered">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <A href="/console">"Back to the console"</A>
            </div>
        </main>
    }
}

/// The page to return to after signing in or up (`?next=`, checked again by the server), as
/// a hidden field, and the query that carries it on to the other form.
fn next_param() -> (Option<String>, String) {
    let next = leptos_router::hooks::use_query_map().read_untracked().get("next").filter(|n| !n.is_empty());
    let query = next.as_ref().map(|n| format!("?next={}", urlencoding(n))).unwrap_or_default();
    (next, query)
}

/// Percent-encodes what a query value must not carry as it is.
fn urlencoding(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn SignIn() -> impl IntoView {
    let action = ServerAction::<SignInFn>::new();
    let error = error_text(action.value());
    let (next, query) = next_param();
    view! {
        <Title text="Sign in · Rampart"/>
        <main class="centered">
            <div class="card narrow">
                <div class="brand">"Rampart"</div>
                <h1>"Sign in to the console"</h1>
                <ActionForm action=action attr:class="stack">
                    <label>
                        "Username or email"
                        <input type="text" name="identifier" autocomplete="username" required/>
                    </label>
                    <label>
                        "Password"
                        <input type="password" name="password" autocomplete="current-password" required/>
                    </label>
                    {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
                    <p class="error" role="alert">{error}</p>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
                <p class="muted small">"No account yet? " <A href=format!("/console/signup{query}")>"Create one"</A></p>
            </div>
        </main>
    }
}

#[component]
pub fn SignUp() -> impl IntoView {
    let action = ServerAction::<SignUpFn>::new();
    let error = error_text(action.value());
    let (next, query) = next_param();
    view! {
        <Title text="Create an account · Rampart"/>
        <main class="centered">
            <div class="card narrow">
                <div class="brand">"Rampart"</div>
                <h1>"Create an account"</h1>
                <p class="muted small">"An account creates and manages apps."</p>
                <ActionForm action=action attr:class="stack">
                    <label>"Email"<input type="email" name="email" autocomplete="email" required/></label>
                    <label>"Username"<input type="text" name="username" autocomplete="username" required/></label>
                    <label>
                        "Password"
                        <input type="password" name="password" autocomplete="new-password" minlength="8" required/>
                    </label>
                    {next.map(|n| view! { <input type="hidden" name="next" value=n/> })}
                    <p class="error" role="alert">{error}</p>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>
                        "Create account"
                    </button>
                </ActionForm>
                <p class="muted small">"Already have one? " <A href=format!("/console/signin{query}")>"Sign in"</A></p>
            </div>
        </main>
    }
}

/// Everything under `/console` except sign-in: redirects to sign-in without an account.
/// The page sits outside the Suspense: the server renders a Suspense's children more than
/// once, and resources created in them would not line up with the browser's when it
/// hydrates. Without an account the page's own calls fail, unseen behind the redirect.
#[component]
pub fn Layout() -> impl IntoView {
    let account = Resource::new_blocking(|| (), |_| api::whoami());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <Suspense fallback=|| view! { <p class="muted pad">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(me)) => Either::Left(view! {
                        <header class="topbar">
                            <A href="/console" attr:class="brand">"Rampart"</A>
                            <div class="who">
                                <span class="account" data-testid="account">{me.display_name.clone()}</span>
                                <ActionForm action=sign_out>
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            </div>
                        </header>
                    }),
                    _ => Either::Right(view! { <Redirect path="/console/signin"/> }),
                }
            })}
        </Suspense>
        <main class="page">
            <Outlet/>
        </main>
    }
}

#[component]
pub fn AppsPage() -> impl IntoView {
    let create = ServerAction::<CreateApp>::new();
    let apps = Resource::new(move || create.version().get(), |_| api::list_apps());
    let error = error_text(create.value());
    view! {
        <Title text="Apps · Rampart"/>
        <section class="split">
            <div>
                <h1>"Your apps"</h1>
                <Transition fallback=|| view! { <p class="muted">"Loading apps…"</p> }>
                    {move || Suspend::new(async move {
                        match apps.await {
                            Ok(list) if list.is_empty() => Either::Left(view! {
                                <p class="empty">"No apps yet. Create your first one."</p>
                            }.into_any()),
                            Ok(list) => Either::Left(view! { <AppTable apps=list/> }.into_any()),
                            Err(e) => Either::Right(view! { <p class="error">{e.to_string()}</p> }),
                        }
                    })}
                </Transition>
            </div>
            <div class="card">
                <h2>"Create an app"</h2>
                <p class="muted small">
                    "The slug is permanent: it appears in every token and URL of the app."
                </p>
                <ActionForm action=create attr:class="stack">
                    <label>
                        "Slug"
                        <input type="text" name="slug" placeholder="acme-corp" required
                            pattern="[a-z0-9][a-z0-9\\-]{1,38}[a-z0-9]"
                            title="3-40 lowercase letters, digits and hyphens"/>
                    </label>
                    <label>
                        "Display name"
                        <input type="text" name="display_name" placeholder="Acme Corporation" required/>
                    </label>
                    <label>
                        "Token signing"
                        <select name="signing_alg">
                            <option value="RS256" selected>"RS256 — RSA 2048, verifiable everywhere"</option>
                            <option value="ES256">"ES256 — ECDSA P-256, short tokens"</option>
                            <option value="EdDSA">"EdDSA — Ed25519, fastest to sign"</option>
                        </select>
                    </label>
                    <p class="error" role="alert">{error}</p>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                        "Create app"
                    </button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn AppTable(apps: Vec<AppSummary>) -> impl IntoView {
    view! {
        <table class="list" data-testid="apps">
            <thead>
                <tr><th>"App"</th><th>"Slug"</th><th>"Status"</th><th>"Your role"</th><th>"Created"</th></tr>
            </thead>
            <tbody>
                {apps.into_iter().map(|app| {
                    let href = format!("/console/apps/{}", app.slug);
                    view! {
                        <tr>
                            <td><A href=href>{app.display_name}</A></td>
                            <td><code>{app.slug}</code></td>
                            <td><span class=format!("badge {}", app.status)>{app.status.clone()}</span></td>
                            <td>{app.role}</td>
                            <td class="muted">{app.created_at}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
