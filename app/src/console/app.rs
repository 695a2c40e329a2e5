//! An app's frame (its name and the tabs, around the tab's page) and the overview tab, with
//! what the tabs share: the slug, the account's permissions, refetching after a change.

use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_params_map;

use crate::api::{self, AppInfo, AppSummary, ConsoleError};

/// A searchable list's address (`/console/apps/{slug}/{tab}`) for a search and a page.
pub(crate) fn list_href(slug: &str, tab: &str, search: &str, cursor: Option<&str>) -> String {
    let mut query = leptos_router::params::ParamsMap::new();
    if !search.is_empty() {
        query.insert("search", search.to_owned());
    }
    if let Some(cursor) = cursor {
        query.insert("cursor", cursor.to_owned());
    }
    format!("/console/apps/{slug}/{tab}{}", query.to_query_string())
}

/// The router's `Form` adds its (nameless) submit button to the query as `=`; drop it.
pub(crate) fn drop_nameless() -> std::sync::Arc<dyn Fn(&leptos::web_sys::FormData)> {
    std::sync::Arc::new(|data: &leptos::web_sys::FormData| data.delete(""))
}

/// The account's permissions on the app. Each page asks for them itself: one resource read
/// under two Suspense boundaries can leave a server render hanging.
pub(crate) fn permissions_resource() -> Resource<Result<Vec<String>, ConsoleError>> {
    Resource::new(slug_param(), api::app_permissions)
}

/// What the signed-in account may do on the app: the console shows only the controls it
/// can use, and the server checks every action again.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Perms(Vec<String>);

impl Perms {
    pub fn has(&self, permission: &str) -> bool {
        self.0.iter().any(|p| p == permission)
    }
}

impl From<Result<Vec<String>, ConsoleError>> for Perms {
    fn from(result: Result<Vec<String>, ConsoleError>) -> Self {
        Perms(result.unwrap_or_default())
    }
}

pub(crate) fn slug_param() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get("slug").unwrap_or_default()
}

/// Counts the action's successful completions, so a list refetches after a change but not
/// after a refusal (which would also reset the form being corrected).
pub(crate) fn successes<S>(action: ServerAction<S>) -> ReadSignal<usize>
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let (count, set_count) = signal(0usize);
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            set_count.update(|n| *n += 1);
        }
    });
    count
}

/// A reference for a create form that empties once the action succeeds, ready for the next.
pub(crate) fn reset_on_success<S>(action: ServerAction<S>) -> NodeRef<leptos::html::Form>
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    form
}

/// The page's message when its data could not be loaded; an app that is not there is
/// already said by the frame.
pub(crate) fn unavailable(e: ConsoleError) -> impl IntoView {
    let said_by_frame =
        matches!(&e, ConsoleError::Refused { code, message } if code == "NOT_FOUND" && message == "App not found");
    (!said_by_frame).then(|| view! { <p class="error" role="alert">{e.to_string()}</p> })
}

/// Everything under `/console/apps/:slug`: the app's name, the tabs the account can open,
/// and the tab's page. The page sits outside this Suspense, so its data loads alongside the
/// frame's rather than after it.
#[component]
pub fn AppShell() -> impl IntoView {
    let slug = slug_param();
    let detail = Resource::new(slug, api::app_detail);
    let permissions = permissions_resource();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading app…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match detail.await {
                    Ok(app) => Either::Left(view! { <AppHeader summary=app.summary perms/> }),
                    Err(e) => Either::Right(view! {
                        <div class="card narrow">
                            <h1>"App not available"</h1>
                            <p class="error">{e.to_string()}</p>
                            <A href="/console">"Back to your apps"</A>
                        </div>
                    }),
                }
            })}
        </Suspense>
        <Outlet/>
    }
}

#[component]
fn AppHeader(summary: AppSummary, perms: Perms) -> impl IntoView {
    let base = format!("/console/apps/{}", summary.slug);
    let tab = |permission: &str, path: &str, label: &'static str| {
        perms.has(permission).then(|| view! { <A href=format!("{base}/{path}")>{label}</A> })
    };
    view! {
        <nav class="crumbs"><A href="/console">"Apps"</A>" / "<span>{summary.slug.clone()}</span></nav>
        <h1>{summary.display_name.clone()}</h1>
        <nav class="tabs" aria-label="App sections">
            <A href=base.clone() exact=true>"Overview"</A>
            {tab("config.read", "config", "Auth config")}
            {tab("config.read", "hosted", "Hosted pages")}
            {tab("role.read", "roles", "Roles")}
            {tab("user.list", "users", "End-users")}
            {tab("invite.read", "invites", "Invites")}
            {tab("member.read", "members", "Members")}
            {tab("org.read", "orgs", "Organizations")}
            {tab("apikey.read", "api-keys", "API keys")}
            {tab("apikey.read", "credentials", "Credentials")}
            {tab("key.read", "keys", "Signing keys")}
            {tab("webhook.read", "webhooks", "Webhooks")}
            {tab("config.read", "providers", "Sign-in providers")}
            {tab("oidc.read", "oidc-clients", "OIDC clients")}
            {tab("license.read", "licenses", "Licenses")}
            {tab("config.update", "mail", "Mail")}
            {tab("waitlist.read", "waitlists", "Waitlists")}
            {tab("audit.read", "activity", "Activity")}
        </nav>
    }
}

/// The overview tab: the app's facts and its roles (fetched again: another tab may have
/// changed them).
#[component]
pub fn Overview() -> impl IntoView {
    let detail = Resource::new(slug_param(), api::app_detail);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading app…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(app) => Either::Left(view! { <AppView app/> }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AppView(app: AppInfo) -> impl IntoView {
    let AppInfo { summary, issuer, jwks_url, signing_alg, roles } = app;
    view! {
        <Title text=format!("{} · Rampart", summary.display_name)/>
        <dl class="facts" data-testid="app-facts">
            <dt>"Slug"</dt><dd><code>{summary.slug.clone()}</code></dd>
            <dt>"Status"</dt><dd><span class=format!("badge {}", summary.status)>{summary.status.clone()}</span></dd>
            <dt>"Your role"</dt><dd>{summary.role.clone()}</dd>
            <dt>"Issuer"</dt><dd><code>{issuer}</code></dd>
            <dt>"JWKS URL"</dt><dd><a href=jwks_url.clone() target="_blank" rel="noopener"><code>{jwks_url.clone()}</code></a></dd>
            <dt>"Token signing"</dt><dd><code data-testid="signing-alg">{signing_alg}</code></dd>
            <dt>"Hosted pages"</dt><dd>{super::hosted::view_hosted_link(summary.slug.clone())}</dd>
            <dt>"Created"</dt><dd>{summary.created_at.clone()}</dd>
        </dl>
        <h2>"Roles"</h2>
        <table class="list" data-testid="roles">
            <thead><tr><th>"Role"</th><th>"Kind"</th><th>"Permissions"</th></tr></thead>
            <tbody>
                {roles.into_iter().map(|role| view! {
                    <tr>
                        <td><strong>{role.name}</strong><div class="muted small">{role.description}</div></td>
                        <td>{if role.is_system { "system" } else { "custom" }}</td>
                        <td class="perms">{role.permissions.into_iter().map(|p| view! { <code class="perm">{p}</code>" " }).collect_view()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
