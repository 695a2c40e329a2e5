//! Server functions behind the console, under `/console/_fn` (never `/api/v1`). Each one
//! gets the state, calls the engine and maps its error.

mod apps;
mod session;

use serde::{Deserialize, Serialize};

pub use apps::*;
pub use session::*;

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
    if let (Some(options), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        options.set_status(status);
    }
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
    pub roles: Vec<RoleInfo>,
}
