//! Server functions behind the console, under `/console/_fn` (never `/api/v1`). Each one
//! gets the state, calls the engine and maps its error.

mod api_keys;
mod apps;
mod audit;
mod credentials;
mod end_users;
#[cfg(feature = "ssr")]
mod flash;
mod invites;
mod keys;
mod licenses;
mod mail;
mod manage;
mod members;
mod oidc_clients;
mod orgs;
mod providers;
mod session;
mod waitlists;
mod webhooks;

use serde::{Deserialize, Serialize};

pub use api_keys::*;
pub use apps::*;
pub use audit::*;
pub use credentials::*;
pub use end_users::*;
pub use invites::*;
pub use keys::*;
pub use licenses::*;
pub use mail::*;
pub use manage::*;
pub use members::*;
pub use oidc_clients::*;
pub use orgs::*;
pub use providers::*;
pub use session::*;
pub use waitlists::*;
pub use webhooks::*;

/// Prefix of every server function's URL.
pub const PREFIX: &str = "/console/_fn";

/// What the console shows when a server function fails: the engine's code and safe message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    #[error("Please sign in")]
    Unauthenticated,
    #[error("{message}")]
    Refused { code: String, message: String },
    #[error("{0}")]
    ServerFn(leptos::server_fn::error::ServerFnErrorErr),
}

impl leptos::server_fn::error::FromServerFnError for ConsoleError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(e: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        ConsoleError::ServerFn(e)
    }
}

#[cfg(feature = "ssr")]
impl From<domain::Error> for ConsoleError {
    /// Also sets the response status, so a refused request is a 4xx, not the 500 server
    /// functions answer errors with by default.
    fn from(e: domain::Error) -> Self {
        set_status(e.status());
        match e {
            domain::Error::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error in the console");
                ConsoleError::Refused { code: "INTERNAL".into(), message: "Something went wrong on our side".into() }
            }
            domain::Error::SessionRevoked | domain::Error::Unauthenticated(_) | domain::Error::TokenExpired => {
                ConsoleError::Unauthenticated
            }
            e => ConsoleError::Refused { code: e.code().into(), message: e.to_string() },
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn set_status(status: u16) {
    use leptos::prelude::use_context;
    // A form posted without JavaScript is answered with a redirect back to its page, the
    // error in the URL for the page to show; a 4xx status would replace that redirect. So
    // would a 401 on a page, whose layout redirects to sign-in.
    if plain_form_post() || (status == 401 && !server_fn_call()) {
        return;
    }
    if let (Some(options), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        options.set_status(status);
    }
}

/// Whether this request calls a server function (rather than renders a page).
#[cfg(feature = "ssr")]
fn server_fn_call() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| parts.uri.path().starts_with(PREFIX))
}

/// Whether this request is a server function called by a plain HTML form (no JavaScript):
/// the browser asked for a page, not for the function's encoded answer.
#[cfg(feature = "ssr")]
pub(crate) fn plain_form_post() -> bool {
    server_fn_call()
        && leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
}

/// The account signed in to the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub slug: String,
    pub display_name: String,
    pub status: String,
    pub role: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleInfo {
    pub name: String,
    pub description: String,
    pub is_system: bool,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppInfo {
    pub summary: AppSummary,
    pub issuer: String,
    pub jwks_url: String,
    /// The JWS `alg` of the app's active signing key.
    pub signing_alg: String,
    pub roles: Vec<RoleInfo>,
}
