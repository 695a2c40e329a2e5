//! The console's view of an app's credentials (seed 002's `app_id` + `app_secret`): list,
//! create and rotate (each new secret shown once), revoke.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialInfo {
    pub app_id: String,
    pub name: String,
    pub created_at: String,
    pub rotated_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Until when the secret replaced by the last rotation still works, while it does.
    pub previous_works_until: Option<String>,
    /// `active` or `revoked`.
    pub state: String,
}

/// A secret just made (by creating or rotating a credential): shown once, then gone.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshCredential {
    pub app: String,
    pub app_id: String,
    pub app_secret: String,
    /// After a rotation: when the secret it replaced stops working.
    pub previous_secret_expires_at: Option<String>,
}

impl std::fmt::Debug for FreshCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshCredential").field("app", &self.app).field("app_id", &self.app_id).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialsView {
    pub credentials: Vec<CredentialInfo>,
    /// The secret made by a form posted without JavaScript, whose page shows it this once.
    pub fresh: Option<FreshCredential>,
}

/// A secret made without JavaScript waits for its page in this cookie (see `flash.rs`).
#[cfg(feature = "ssr")]
fn flash(principal: &domain::engine::Principal, app: &str) -> super::flash::Flash {
    super::flash::Flash::new("rampart_flash_credential", "console app credential", principal, app)
}

#[cfg(feature = "ssr")]
fn credential_info(c: shared::CredentialView) -> CredentialInfo {
    use domain::time_format::format;
    let previous_works_until = c.previous_secret_expires_at.filter(|t| *t > chrono::Utc::now());
    CredentialInfo {
        app_id: c.app_id,
        name: c.name,
        created_at: format(&c.created_at),
        rotated_at: c.rotated_at.as_ref().map(format),
        last_used_at: c.last_used_at.as_ref().map(format),
        state: if c.revoked_at.is_some() { "revoked" } else { "active" }.into(),
        revoked_at: c.revoked_at.as_ref().map(format),
        previous_works_until: previous_works_until.as_ref().map(format),
    }
}

#[server(prefix = "/console/_fn", endpoint = "list_credentials")]
pub async fn list_credentials(slug: String) -> Result<CredentialsView, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let credentials = guard::state()?.engine.list_app_credentials(&caller, &slug).await?;
    let fresh = waiting.take()?.and_then(|opened| serde_json::from_str(&opened).ok());
    Ok(CredentialsView { credentials: credentials.into_iter().map(credential_info).collect(), fresh })
}

/// Keeps a fresh secret for the page a form without JavaScript goes back to.
#[cfg(feature = "ssr")]
fn hand_over(waiting: &super::flash::Flash, fresh: FreshCredential) -> Result<FreshCredential, ConsoleError> {
    let sealed = serde_json::to_string(&fresh).map_err(domain::Error::internal)?;
    waiting.hold(&sealed)?;
    Ok(fresh)
}

#[server(prefix = "/console/_fn", endpoint = "create_credential")]
pub async fn create_credential(slug: String, #[server(default)] name: String) -> Result<FreshCredential, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let name = Some(name.trim()).filter(|n| !n.is_empty());
    let created = guard::state()?.engine.create_app_credential(&caller, &slug, name).await?;
    let fresh = FreshCredential {
        app: slug,
        app_id: created.app_id,
        app_secret: created.app_secret,
        previous_secret_expires_at: None,
    };
    hand_over(&waiting, fresh)
}

/// `overlap_seconds` is blank for the default (a day).
#[server(prefix = "/console/_fn", endpoint = "rotate_credential")]
pub async fn rotate_credential(
    slug: String,
    app_id: String,
    #[server(default)] overlap_seconds: String,
) -> Result<FreshCredential, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let overlap = match overlap_seconds.trim() {
        "" => None,
        seconds => Some(seconds.parse::<i64>().map_err(|_| {
            super::set_status(400);
            ConsoleError::Refused {
                code: "INVALID_REQUEST".into(),
                message: "overlap_seconds must be a whole number of seconds".into(),
            }
        })?),
    };
    let rotated = guard::state()?.engine.rotate_app_credential(&caller, &slug, &app_id, overlap).await?;
    let fresh = FreshCredential {
        app: slug,
        app_id: rotated.app_id,
        app_secret: rotated.app_secret,
        previous_secret_expires_at: Some(domain::time_format::format(&rotated.previous_secret_expires_at)),
    };
    hand_over(&waiting, fresh)
}

#[server(prefix = "/console/_fn", endpoint = "revoke_credential")]
pub async fn revoke_credential(slug: String, app_id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_app_credential(&caller, &slug, &app_id).await?;
    Ok(())
}
