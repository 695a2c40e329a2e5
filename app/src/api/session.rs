//! Console sign-in and sign-out over a cookie session.

use leptos::prelude::*;

use super::{AccountInfo, ConsoleError};

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use domain::engine::Principal;
    use domain::types::PLATFORM_SLUG;
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};
    use tower_sessions::Session;
    use uuid::Uuid;

    use crate::api::ConsoleError;
    use crate::state::AppState;

    pub const KEY: &str = "account";

    /// What the cookie session remembers: which Rampart session of which account.
    #[derive(Serialize, Deserialize)]
    pub struct ConsoleSession {
        pub session_id: Uuid,
        pub user_id: Uuid,
    }

    /// The shared state. Missing only when the page that started this call was dropped
    /// mid-render (Suspense renders its children more than once on the server), so nobody
    /// reads the answer.
    pub fn state() -> Result<AppState, ConsoleError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::debug!("server function outlived the render that called it");
            ConsoleError::Refused { code: "INTERNAL".into(), message: "The request was cancelled".into() }
        })
    }

    pub async fn cookie_session() -> Result<Session, ConsoleError> {
        leptos_axum::extract::<Session>().await.map_err(ConsoleError::ServerFn)
    }

    fn internal(e: impl std::fmt::Display) -> ConsoleError {
        tracing::error!(error = %e, "console session store");
        ConsoleError::Refused { code: "INTERNAL".into(), message: "Something went wrong on our side".into() }
    }

    /// The signed-in account, if its Rampart session is still live.
    pub async fn current() -> Result<Option<Principal>, ConsoleError> {
        let session = cookie_session().await?;
        let Some(saved) = session.get::<ConsoleSession>(KEY).await.map_err(internal)? else {
            return Ok(None);
        };
        match state()?.engine.resume_session(PLATFORM_SLUG, saved.session_id).await {
            Ok(p) if p.user_id == saved.user_id => Ok(Some(p)),
            Ok(_) | Err(domain::Error::SessionRevoked | domain::Error::Unauthenticated(_)) => {
                session.flush().await.map_err(internal)?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn require() -> Result<Principal, ConsoleError> {
        current().await?.ok_or_else(|| {
            crate::api::set_status(401);
            ConsoleError::Unauthenticated
        })
    }

    async fn request_meta() -> domain::engine::RequestMeta {
        leptos_axum::extract::<axum::Extension<domain::engine::RequestMeta>>().await.map(|m| m.0).unwrap_or_default()
    }

    /// The signed-in account as a management caller.
    pub async fn caller() -> Result<domain::engine::Caller, ConsoleError> {
        Ok(domain::engine::Caller::Account(require().await?))
    }

    pub async fn sign_in(identifier: String, password: String) -> Result<(), ConsoleError> {
        let meta = request_meta().await;
        let (_, principal) = state()?
            .engine
            .signin_session(PLATFORM_SLUG, &identifier, secrecy::SecretString::from(password), &meta)
            .await?;
        remember(principal).await
    }

    pub async fn sign_up(email: String, username: String, password: String) -> Result<(), ConsoleError> {
        let meta = request_meta().await;
        let input = domain::engine::SignupInput {
            email,
            username,
            password: secrecy::SecretString::from(password),
            display_name: None,
            email_verified: false,
            api_key: None,
        };
        let (_, principal) = state()?.engine.signup_session(PLATFORM_SLUG, input, &meta).await?;
        remember(principal).await
    }

    /// Binds the cookie session to a fresh Rampart session.
    async fn remember(principal: Principal) -> Result<(), ConsoleError> {
        let session = cookie_session().await?;
        // A new id at sign-in, so a planted cookie cannot ride the new session.
        session.cycle_id().await.map_err(internal)?;
        session
            .insert(KEY, ConsoleSession { session_id: principal.session_id, user_id: principal.user_id })
            .await
            .map_err(internal)?;
        Ok(())
    }

    pub async fn sign_out() -> Result<(), ConsoleError> {
        if let Some(principal) = current().await? {
            state()?.engine.end_session(&principal).await?;
        }
        cookie_session().await?.flush().await.map_err(internal)
    }
}

#[server(prefix = "/console/_fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<AccountInfo>, ConsoleError> {
    let Some(account) = guard::current().await? else {
        return Ok(None);
    };
    let profile = guard::state()?.engine.profile(&account).await?;
    Ok(Some(AccountInfo {
        username: profile.username.clone(),
        display_name: profile.display_name.clone(),
        email: profile.email.clone(),
    }))
}

#[server(prefix = "/console/_fn", endpoint = "sign_in")]
pub async fn sign_in(identifier: String, password: String) -> Result<(), ConsoleError> {
    guard::sign_in(identifier, password).await?;
    leptos_axum::redirect("/console");
    Ok(())
}

/// Creates an account (seed 000, step 1) and signs it in.
#[server(prefix = "/console/_fn", endpoint = "sign_up")]
pub async fn sign_up(email: String, username: String, password: String) -> Result<(), ConsoleError> {
    guard::sign_up(email, username, password).await?;
    leptos_axum::redirect("/console");
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ConsoleError> {
    guard::sign_out().await?;
    leptos_axum::redirect("/console/signin");
    Ok(())
}
