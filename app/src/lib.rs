//! Rampart's Leptos UI: the console at `/console` (and, later, the hosted sign-in pages),
//! rendered on the server and hydrated in the browser.

pub mod api;
pub mod console;
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
    view! {
        <Stylesheet id="leptos" href="/pkg/rampart.css"/>
        <Title text="Rampart"/>
        <Router>
            <Routes fallback=console::NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/console"/> }/>
                // Whole pages, rendered once their data is in: they work without JavaScript.
                <Route path=path!("/console/signin") view=console::SignIn ssr=SsrMode::Async/>
                <Route path=path!("/console/signup") view=console::SignUp ssr=SsrMode::Async/>
                <ParentRoute path=path!("/console") view=console::Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=console::AppsPage ssr=SsrMode::Async/>
                    <Route path=path!("apps/:slug") view=console::AppPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
