//! The state every handler and server function shares: cheap to clone.

use std::sync::Arc;

use axum::extract::FromRef;
use domain::engine::Engine;
use leptos::prelude::LeptosOptions;

/// axum clones the state for every request: two pointer copies here. (Holding
/// `LeptosOptions` by value cost ten string clones and drops per request, 6% of a
/// `/health` answer in `bench/`.)
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub leptos_options: Arc<LeptosOptions>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos_options)
    }
}
