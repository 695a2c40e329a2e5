//! Console sign-in and sign-out: a cookie that names the account's Rampart session.

use leptos::prelude::*;

use super::{AccountInfo, ConsoleError};

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use domain::engine::Principal;
    use domain::types::PLATFORM_SLUG;
    use leptos::prelude::*;

    use crate::api::ConsoleError;
    use crate::state::AppState;

    /// A console cookie unused this long is over (the Rampart session it names may live on,
    /// and its own end always holds).
    const IDLE_HOURS: i64 = 8;

    /// The shared state. Missing only when the page that started this call was dropped
    /// mid-render (Suspense renders its children more than once on the server), so nobody
    /// reads the answer.
    pub fn state() -> Result<AppState, ConsoleError> {
        use_context::<AppState>().ok_or_else(|| {
            tracing::debug!("server function outlived the render that called it");
            ConsoleError::Refused { code: "INTERNAL".into(), message: "The request was cancelled".into() }
        })
    }

    /// Whether the console is reached over https (cookies then get `Secure`).
    pub fn secure() -> Result<bool, ConsoleError> {
        Ok(state()?.engine.public_url().starts_with("https://"))
    }

    /// The console cookie's name and path. Over https it takes the `__Host-` prefix, which
    /// browsers honour only for a `Secure` cookie of path `/` without a domain: no subdomain
    /// and no plain-http page can then set or shadow it. Over plain http (a developer's
    /// machine) the prefix cannot be had, and the cookie stays within `/console`.
    pub fn cookie_name_and_path(secure: bool) -> (&'static str, &'static str) {
        if secure {
            ("__Host-rampart_console", "/")
        } else {
            ("rampart_console", "/console")
        }
    }

    /// The value of the request's cookie `name`, if it sent one.
    pub fn request_cookie(name: &str) -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        parts.headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|header| {
            header.split(';').find_map(|pair| {
                let (n, value) = pair.trim().split_once('=')?;
                (n == name && !value.is_empty()).then(|| value.to_owned())
            })
        })
    }

    /// Adds a `Set-Cookie` to the response: `value` for the browser to keep (`HttpOnly`,
    /// `Secure` over https), or, with `None`, an order to forget the cookie.
    pub fn set_cookie(name: &str, path: &str, value: Option<&str>, same_site: &str, max_age: Option<i64>) {
        let secure = secure().unwrap_or(true);
        let max_age = match (value, max_age) {
            (None, _) => "; Max-Age=0".to_owned(),
            (Some(_), Some(seconds)) => format!("; Max-Age={seconds}"),
            (Some(_), None) => String::new(),
        };
        let cookie = format!(
            "{name}={}; Path={path}; HttpOnly; SameSite={same_site}{max_age}{}",
            value.unwrap_or_default(),
            if secure { "; Secure" } else { "" },
        );
        if let (Some(options), Ok(value)) =
            (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&cookie))
        {
            options.append_header(http::header::SET_COOKIE, value);
        }
    }

    /// The signed-in account, if the Rampart session its cookie names is still live.
    pub async fn current() -> Result<Option<Principal>, ConsoleError> {
        let (name, path) = cookie_name_and_path(secure()?);
        let Some(cookie) = request_cookie(name) else {
            return Ok(None);
        };
        let idle = chrono::TimeDelta::hours(IDLE_HOURS);
        match state()?.engine.cookie_session(PLATFORM_SLUG, &cookie, idle).await {
            Ok(p) => Ok(Some(p)),
            Err(domain::Error::SessionRevoked | domain::Error::Unauthenticated(_)) => {
                set_cookie(name, path, None, "Lax", None);
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

    pub(crate) async fn request_meta() -> domain::engine::RequestMeta {
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

    /// Gives the browser a cookie naming the fresh Rampart session: a new one at every
    /// sign-in, so a planted cookie cannot ride the new session.
    async fn remember(principal: Principal) -> Result<(), ConsoleError> {
        let cookie = state()?.engine.issue_cookie(&principal).await?;
        let (name, path) = cookie_name_and_path(secure()?);
        set_cookie(name, path, Some(&cookie), "Lax", None);
        Ok(())
    }

    pub async fn sign_out() -> Result<(), ConsoleError> {
        if let Some(principal) = current().await? {
            state()?.engine.end_session(&principal).await?;
        }
        let (name, path) = cookie_name_and_path(secure()?);
        set_cookie(name, path, None, "Lax", None);
        Ok(())
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

/// Where to go after signing in or up: `next` when it is a console page of this server (the
/// accept-invite page sends its visitors through sign-up and back), else the apps.
pub fn console_next(next: &str) -> &str {
    let next = next.trim();
    let safe = next.starts_with("/console/")
        && !next.contains("//")
        && !next.contains('\\')
        && !next.contains("/_fn/")
        && next.len() <= 1024
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if safe {
        next
    } else {
        "/console"
    }
}

#[server(prefix = "/console/_fn", endpoint = "sign_in")]
pub async fn sign_in(
    identifier: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), ConsoleError> {
    guard::sign_in(identifier, password).await?;
    leptos_axum::redirect(console_next(&next));
    Ok(())
}

/// Creates an account (seed 000, step 1) and signs it in.
#[server(prefix = "/console/_fn", endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    username: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), ConsoleError> {
    guard::sign_up(email, username, password).await?;
    leptos_axum::redirect(console_next(&next));
    Ok(())
}

#[cfg(test)]
mod next_tests {
    #[test]
    fn only_console_pages_of_this_server() {
        use super::console_next;
        assert_eq!(console_next("/console/accept-invite?code=minv_x"), "/console/accept-invite?code=minv_x");
        for bad in [
            "",
            "https://evil.test/console/",
            "//evil.test",
            "/console//evil",
            "/consoleevil",
            "/console/\\evil",
            "/console/_fn/sign_out",
            "/console/a b",
        ] {
            assert_eq!(console_next(bad), "/console", "{bad}");
        }
    }
}

#[server(prefix = "/console/_fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ConsoleError> {
    guard::sign_out().await?;
    leptos_axum::redirect("/console/signin");
    Ok(())
}
