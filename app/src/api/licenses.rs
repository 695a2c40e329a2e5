//! The console's view of an app's license keys: list, issue (the key shown once), open one
//! with its activations, revoke, extend.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shared::{LicenseDetail, LicenseView};

use super::ConsoleError;

/// A license just issued, with its key: shown once, then gone.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshLicense {
    pub app: String,
    pub id: String,
    pub product_id: String,
    pub license_key: String,
}

impl std::fmt::Debug for FreshLicense {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshLicense").field("app", &self.app).field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicensesView {
    pub licenses: Vec<LicenseView>,
    pub next_cursor: Option<String>,
    /// The license issued by a form posted without JavaScript, whose page shows it this once.
    pub fresh: Option<FreshLicense>,
}

/// A key issued without JavaScript waits for its page in this cookie (see `flash.rs`).
#[cfg(feature = "ssr")]
fn flash(principal: &domain::engine::Principal, app: &str) -> super::flash::Flash {
    super::flash::Flash::new("rampart_flash_license", "console license key", principal, app)
}

#[cfg(feature = "ssr")]
fn refused(message: &str) -> ConsoleError {
    super::set_status(400);
    ConsoleError::Refused { code: "INVALID_REQUEST".into(), message: message.into() }
}

/// A date from the form's date input (`YYYY-MM-DD`): the end of that day, UTC.
#[cfg(feature = "ssr")]
fn end_of_day(raw: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, ConsoleError> {
    match raw.trim() {
        "" => Ok(None),
        day => {
            let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map_err(|_| refused("The expiry must be a date (YYYY-MM-DD)"))?;
            let end = date.and_hms_opt(23, 59, 59).ok_or_else(|| refused("The expiry must be a date"))?;
            Ok(Some(end.and_utc()))
        }
    }
}

#[server(prefix = "/console/_fn", endpoint = "list_licenses")]
pub async fn list_licenses(
    slug: String,
    #[server(default)] status: String,
    #[server(default)] cursor: String,
) -> Result<LicensesView, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let query = domain::engine::LicenseQuery {
        status: Some(status).filter(|s| !s.is_empty()),
        cursor: Some(cursor).filter(|c| !c.is_empty()),
        limit: Some(50),
        ..Default::default()
    };
    let page = guard::state()?.engine.list_licenses(&caller, &slug, query).await?;
    let fresh = waiting.take()?.and_then(|opened| serde_json::from_str(&opened).ok());
    Ok(LicensesView { licenses: page.licenses, next_cursor: page.next_cursor, fresh })
}

/// `user_id` and `expires_on` are blank for a license of nobody in particular that never
/// expires.
#[server(prefix = "/console/_fn", endpoint = "issue_license")]
pub async fn issue_license(
    slug: String,
    product_id: String,
    #[server(default)] user_id: String,
    #[server(default)] expires_on: String,
    max_activations: String,
) -> Result<FreshLicense, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let max_activations =
        max_activations.trim().parse::<i64>().map_err(|_| refused("Max activations must be a whole number"))?;
    let input = domain::engine::NewLicense {
        product_id,
        user_id: Some(user_id).filter(|u| !u.trim().is_empty()),
        org_id: None,
        expires_at: end_of_day(&expires_on)?,
        max_activations,
        metadata: None,
    };
    let issued = guard::state()?.engine.issue_license(&caller, &slug, input).await?;
    let fresh = FreshLicense {
        app: slug,
        id: issued.license.id.to_string(),
        product_id: issued.license.product_id,
        license_key: issued.license_key,
    };
    waiting.hold(&serde_json::to_string(&fresh).map_err(domain::Error::internal)?)?;
    Ok(fresh)
}

#[server(prefix = "/console/_fn", endpoint = "get_license")]
pub async fn get_license(slug: String, id: String) -> Result<LicenseDetail, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.get_license(&caller, &slug, &id).await?)
}

#[server(prefix = "/console/_fn", endpoint = "revoke_license")]
pub async fn revoke_license(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_license(&caller, &slug, &id).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "extend_license")]
pub async fn extend_license(slug: String, id: String, expires_on: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let expires_at = end_of_day(&expires_on)?.ok_or_else(|| refused("Pick the new expiry date"))?;
    guard::state()?.engine.extend_license(&caller, &slug, &id, expires_at).await?;
    Ok(())
}
