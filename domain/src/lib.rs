//! Rampart's engine: everything that is not HTTP or UI.
//!
//! The [`engine::Engine`] is the one entry point the REST API and the console share: it
//! authenticates callers, authorises them for an app, issues tokens and talks to the
//! [`store::Store`].

pub mod audit;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod error;
pub mod i18n;
pub mod keys;
pub mod licenses;
pub mod limits;
pub mod mail;
pub mod memory;
pub mod model;
pub mod net;
pub mod password;
pub mod permissions;
pub mod store;
pub(crate) mod telemetry;
pub mod tokens;
pub mod types;
pub mod webhooks;

pub use error::{Error, Result};
/// Defined in `shared`, where the views that use it live.
pub use shared::time_format;
