//! The console's view of an app's webhooks: endpoints (create and rotate, each new secret
//! shown once; enable, disable, delete) and an endpoint's delivery log with redelivery.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<String>,
    pub previous_secret_until: Option<String>,
    pub created_at: String,
}

/// A secret just made (creating or rotating): shown once, then gone.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshWebhookSecret {
    pub id: String,
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for FreshWebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshWebhookSecret").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhooksView {
    pub webhooks: Vec<WebhookInfo>,
    /// The secret made by a form posted without JavaScript, whose page shows it this once.
    pub fresh: Option<FreshWebhookSecret>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryInfo {
    pub id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
    pub created_at: String,
    pub next_attempt_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDetailView {
    pub webhook: WebhookInfo,
    pub deliveries: Vec<DeliveryInfo>,
}

#[cfg(feature = "ssr")]
fn flash(principal: &domain::engine::Principal, app: &str) -> super::flash::Flash {
    super::flash::Flash::new("rampart_flash_webhook", "console webhook secret", principal, app)
}

#[cfg(feature = "ssr")]
fn info(w: domain::engine::WebhookView) -> WebhookInfo {
    use domain::time_format::format;
    WebhookInfo {
        id: w.id.to_string(),
        url: w.url,
        description: w.description,
        event_types: w.event_types,
        enabled: w.enabled,
        disabled_reason: w.disabled_reason,
        failing_since: w.failing_since.as_ref().map(format),
        previous_secret_until: w.previous_secret_until.as_ref().map(format),
        created_at: format(&w.created_at),
    }
}

#[cfg(feature = "ssr")]
fn hand_over(
    waiting: &super::flash::Flash,
    made: domain::engine::WebhookSecret,
) -> Result<FreshWebhookSecret, ConsoleError> {
    let fresh = FreshWebhookSecret { id: made.webhook.id.to_string(), url: made.webhook.url, secret: made.secret };
    let sealed = serde_json::to_string(&fresh).map_err(domain::Error::internal)?;
    waiting.hold(&sealed)?;
    Ok(fresh)
}

#[server(prefix = "/console/_fn", endpoint = "list_webhooks")]
pub async fn list_webhooks(slug: String) -> Result<WebhooksView, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let webhooks = guard::state()?.engine.list_webhooks(&caller, &slug).await?;
    let fresh = waiting.take()?.and_then(|opened| serde_json::from_str(&opened).ok());
    Ok(WebhooksView { webhooks: webhooks.into_iter().map(info).collect(), fresh })
}

/// `event_types`: separated by commas or spaces; `*` (or blank) for every type.
#[server(prefix = "/console/_fn", endpoint = "create_webhook")]
pub async fn create_webhook(
    slug: String,
    url: String,
    #[server(default)] event_types: String,
    #[server(default)] description: String,
) -> Result<FreshWebhookSecret, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let mut types: Vec<String> =
        event_types.split([',', ' ', '\n']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    if types.is_empty() {
        types.push("*".into());
    }
    let input =
        domain::engine::WebhookInput { url, description: Some(description), event_types: types, enabled: Some(true) };
    let made = guard::state()?.engine.create_webhook(&caller, &slug, input).await?;
    hand_over(&waiting, made)
}

#[server(prefix = "/console/_fn", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(slug: String, id: String) -> Result<FreshWebhookSecret, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let made = guard::state()?.engine.rotate_webhook_secret(&caller, &slug, &id, None).await?;
    hand_over(&waiting, made)
}

/// `enabled` is `true` or `false`.
#[server(prefix = "/console/_fn", endpoint = "set_webhook_enabled")]
pub async fn set_webhook_enabled(slug: String, id: String, enabled: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let patch = domain::engine::WebhookPatch { enabled: Some(enabled == "true"), ..Default::default() };
    guard::state()?.engine.update_webhook(&caller, &slug, &id, patch).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "delete_webhook")]
pub async fn delete_webhook(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.delete_webhook(&caller, &slug, &id).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "webhook_detail")]
pub async fn webhook_detail(slug: String, id: String) -> Result<WebhookDetailView, ConsoleError> {
    use super::session::guard;
    use domain::time_format::format;
    let caller = guard::caller().await?;
    let engine = &guard::state()?.engine;
    let webhook = info(engine.get_webhook(&caller, &slug, &id).await?);
    let page = engine.webhook_deliveries(&caller, &slug, &id, None, Some(50)).await?;
    let deliveries = page
        .deliveries
        .into_iter()
        .map(|d| DeliveryInfo {
            id: d.id.to_string(),
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            last_response: d.last_response,
            created_at: format(&d.created_at),
            next_attempt_at: format(&d.next_attempt_at),
        })
        .collect();
    Ok(WebhookDetailView { webhook, deliveries })
}

#[server(prefix = "/console/_fn", endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(slug: String, id: String, delivery: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.redeliver_webhook(&caller, &slug, &id, &delivery).await?;
    Ok(())
}
