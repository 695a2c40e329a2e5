//! The state every handler and server function shares: cheap to clone.

use std::sync::Arc;

use axum::extract::FromRef;
use domain::engine::Engine;
use leptos::prelude::LeptosOptions;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
