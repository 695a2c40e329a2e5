//! A Rampart server in this process, listening on a port of its own (port 0), configured from
//! a map of variables rather than the process environment.

use std::collections::HashMap;
use std::sync::Arc;

use domain::engine::Engine;
use server::config::{Config, Source};
use tokio::task::AbortHandle;

/// The variables a test server starts with, instead of the process environment.
struct Vars(HashMap<&'static str, String>);

impl Source for Vars {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A running server; `server.abort()` stops it.
pub struct Spawned {
    pub port: u16,
    /// The base of every issuer, as the server computed it.
    pub public_url: String,
    pub engine: Arc<Engine>,
    pub server: AbortHandle,
}

/// Loads the configuration from `vars` (with `RAMPART_BIND` on port 0 unless given), builds
/// the server and runs it on a task.
pub async fn spawn(mut vars: HashMap<&'static str, String>) -> anyhow::Result<(Config, Spawned)> {
    vars.entry("RAMPART_BIND").or_insert_with(|| "127.0.0.1:0".to_owned());
    let config = Config::load(&Vars(vars))?;
    let application = server::build(config.clone()).await?;
    let port = application.port();
    let public_url = application.public_url().to_owned();
    let engine = application.engine();
    let server = tokio::spawn(application.run_until_stopped()).abort_handle();
    Ok((config, Spawned { port, public_url, engine, server }))
}
