//! The console's waitlists: each feature's counts, adding and dropping features, a feature's
//! entries, letting people in, and the CSV export.

use leptos::prelude::*;
use shared::waitlists::{WaitlistPage, WaitlistSummary};

use super::ConsoleError;

#[server(prefix = "/console/_fn", endpoint = "list_waitlists")]
pub async fn list_waitlists(slug: String) -> Result<Vec<WaitlistSummary>, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.waitlists(&caller, &slug).await?)
}

/// Adds a feature to the app's list (`add`), or drops one from it.
#[server(prefix = "/console/_fn", endpoint = "set_waitlist_feature")]
pub async fn set_waitlist_feature(slug: String, feature: String, add: bool) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let feature = feature.trim().to_owned();
    let mut features = engine.config(&caller, &slug).await?.waitlists;
    if add {
        if features.contains(&feature) {
            return Ok(());
        }
        features.push(feature);
    } else {
        features.retain(|f| f != &feature);
    }
    let mut patch = serde_json::Map::new();
    patch.insert("waitlists".into(), serde_json::json!(features));
    engine.update_config(&caller, &slug, &patch).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "waitlist_entries")]
pub async fn waitlist_entries(
    slug: String,
    feature: String,
    status: Option<String>,
    cursor: Option<String>,
) -> Result<WaitlistPage, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    Ok(engine.waitlist_page(&caller, &slug, &feature, status.as_deref(), cursor.as_deref(), None).await?)
}

/// Lets in one entry (`id`), or the `count` who have waited longest; answers how many.
#[server(prefix = "/console/_fn", endpoint = "admit_waitlist")]
pub async fn admit_waitlist(
    slug: String,
    feature: String,
    #[server(default)] id: String,
    #[server(default)] count: String,
) -> Result<usize, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let admission = match (id.trim(), count.trim()) {
        (id, "") if !id.is_empty() => domain::engine::Admission { ids: Some(vec![id.to_owned()]), count: None },
        ("", count) => {
            let count = count.parse::<u32>().map_err(|_| {
                super::set_status(400);
                ConsoleError::Refused { code: "INVALID_REQUEST".into(), message: "count must be a whole number".into() }
            })?;
            domain::engine::Admission { ids: None, count: Some(count) }
        }
        _ => domain::engine::Admission::default(),
    };
    Ok(guard::state()?.engine.admit_waitlist(&caller, &slug, &feature, admission).await?.len())
}

#[server(prefix = "/console/_fn", endpoint = "export_waitlist")]
pub async fn export_waitlist(slug: String, feature: String) -> Result<String, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.export_waitlist(&caller, &slug, &feature).await?)
}
