//! Webhooks: per-app endpoints subscribed to audit event types. A committed change's events
//! are queued for every endpoint that wants them in the change's own transaction
//! (`Write::commit`), so an event goes out if and only if its change happened; the worker
//! (one per node, any node) signs each message per Standard Webhooks and posts it, retrying
//! with backoff. An endpoint failing for a day is disabled and the app's owners are mailed.
//! Management (`webhook.read`, `webhook.update`): create (the secret shown once), list, get,
//! update, rotate the secret with an overlap, delete, read the delivery log, redeliver.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

use super::audit::{actor_of, event_view};
use super::cache::Caches;
use super::{now, Access, Caller, Change, Engine};
use crate::audit::{Actor, AuditEvent, Event};
use crate::crypto::MasterKey;
use crate::model::{DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint};
use crate::store::Store;
use crate::webhooks::{check_url, new_secret, sign, Sender};
use crate::{Error, Result};

/// Endpoints an app may have.
const MAX_ENDPOINTS: usize = 20;
/// Event types an endpoint may name.
const MAX_TYPES: usize = 100;
/// Deliveries a worker claims at once, and for how long.
const CLAIM: u32 = 20;
const CLAIM_FOR: TimeDelta = TimeDelta::seconds(60);
const POLL: Duration = Duration::from_secs(5);
/// Backoff: 5 s, 10 s, 20 s, … at most an hour, for at most 40 attempts (more than a day).
const FIRST_RETRY_SECONDS: i64 = 5;
const LONGEST_RETRY_SECONDS: i64 = 3600;
const MAX_ATTEMPTS: i32 = 40;
/// An endpoint whose every delivery has failed for this long is disabled.
const DISABLE_AFTER: TimeDelta = TimeDelta::hours(24);
/// A rotated-out secret keeps signing beside the new one this long by default, at most a week.
const DEFAULT_OVERLAP_SECONDS: i64 = 86_400;
const MAX_OVERLAP_SECONDS: i64 = 604_800;
pub const DELIVERY_PAGE_MAX: u32 = 100;

fn backoff(attempts: i32) -> TimeDelta {
    let exponent = attempts.clamp(0, 20) as u32;
    TimeDelta::seconds((FIRST_RETRY_SECONDS << exponent).min(LONGEST_RETRY_SECONDS))
}

fn secret_context(id: Uuid) -> Vec<u8> {
    let mut context = b"webhook secret ".to_vec();
    context.extend_from_slice(id.as_bytes());
    context
}

/// What creating an endpoint takes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Audit event types (`end_user.signed_in`), or `["*"]` for every one.
    pub event_types: Vec<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// What updating one changes; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// `true` enables a disabled endpoint again (and forgets its failures).
    pub enabled: Option<bool>,
}

/// An endpoint as the API shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(with = "crate::time_format::option")]
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret replaced by the last rotation still signs, while it does.
    #[serde(with = "crate::time_format::option")]
    pub previous_secret_until: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
}

/// A new endpoint, or a rotation: the secret, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// `queued`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    #[serde(with = "crate::time_format")]
    pub next_attempt_at: DateTime<Utc>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i32>,
    /// The start of its last answer (1 KiB at most).
    pub last_response: Option<String>,
    pub last_error: Option<String>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

fn view(e: &WebhookEndpoint) -> WebhookView {
    WebhookView {
        id: e.id,
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: e.event_types.clone(),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason.clone(),
        failing_since: e.failing_since,
        previous_secret_until: e.previous_until.filter(|t| *t > now() && e.previous_secret_sealed.is_some()),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

fn delivery_view(d: WebhookDelivery) -> DeliveryView {
    DeliveryView {
        id: d.id,
        event_id: d.event_id,
        event_type: d.event_type,
        status: d.status.as_str().into(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at,
        last_status: d.last_status,
        last_response: d.last_response,
        last_error: d.last_error,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
    }
}

/// `*`, or dotted lowercase names like the audit log's (`end_user.signed_in`).
fn check_types(types: &[String]) -> Result<Vec<String>> {
    if types.is_empty() || types.len() > MAX_TYPES {
        return Err(Error::invalid(format!("event_types must name 1 to {MAX_TYPES} event types, or \"*\"")));
    }
    let mut out: Vec<String> = Vec::with_capacity(types.len());
    for t in types {
        let t = t.trim();
        let well_formed = t == "*"
            || (t.len() <= 100
                && t.contains('.')
                && t.split('.')
                    .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        if !well_formed {
            return Err(Error::invalid(format!("event_types: '{t}' is not an event type like 'end_user.signed_in'")));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

fn check_description(raw: Option<&str>) -> Result<String> {
    let d = raw.unwrap_or_default().trim();
    if d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(Error::invalid("description must be at most 200 characters, on one line"));
    }
    Ok(d.to_owned())
}

/// The message an event makes: `{type, timestamp, data}` as Standard Webhooks suggests,
/// `data` being the event as the audit API shows it.
pub(crate) fn payload(event: &AuditEvent) -> serde_json::Value {
    json!({
        "type": event.kind,
        "timestamp": crate::time_format::format(&event.at),
        "data": event_view(event.clone()),
    })
}

/// The deliveries `events` make for `endpoints`, due now.
pub(crate) fn deliveries_for(
    endpoints: &[WebhookEndpoint],
    events: &[AuditEvent],
    at: DateTime<Utc>,
) -> Vec<WebhookDelivery> {
    let mut out = Vec::new();
    for event in events {
        for endpoint in endpoints.iter().filter(|e| e.app_id == event.app_id && e.wants(&event.kind)) {
            out.push(WebhookDelivery {
                id: Uuid::now_v7(),
                app_id: event.app_id,
                endpoint_id: endpoint.id,
                event_id: event.id,
                event_type: event.kind.clone(),
                payload: payload(event),
                status: DeliveryStatus::Queued,
                attempts: 0,
                next_attempt_at: at,
                last_status: None,
                last_response: None,
                last_error: None,
                created_at: at,
                delivered_at: None,
            });
        }
    }
    out
}

impl Engine {
    /// The app's enabled endpoints, from a short cache that every change to them clears on
    /// every node (they are changed under `Change::App`).
    pub(crate) async fn webhook_targets(&self, app_id: Uuid) -> Result<Arc<Vec<WebhookEndpoint>>> {
        if let Some(found) = self.caches.webhooks(app_id) {
            return Ok(found);
        }
        let generation = self.caches.generation();
        let endpoints: Vec<WebhookEndpoint> =
            self.store.webhook_endpoints(app_id).await?.into_iter().filter(|e| e.enabled).collect();
        let endpoints = Arc::new(endpoints);
        self.caches.put_webhooks_if(generation, app_id, endpoints.clone());
        Ok(endpoints)
    }

    pub(crate) fn wake_webhooks(&self) {
        if let Some(worker) = &self.webhooks {
            worker.wake.notify_one();
        }
    }

    fn seal_webhook_secret(&self, id: Uuid, secret: &str) -> Result<Vec<u8>> {
        self.config.master_key.seal(secret.as_bytes(), &secret_context(id))
    }

    async fn managed_webhook(&self, app_id: Uuid, id: &str) -> Result<WebhookEndpoint> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("Webhook"))?;
        self.store.webhook_endpoint(app_id, id).await?.ok_or(Error::NotFound("Webhook"))
    }

    /// `POST /apps/{slug}/webhooks` (`webhook.update`): the endpoint, and its secret once.
    pub async fn create_webhook(&self, caller: &Caller, slug: &str, input: WebhookInput) -> Result<WebhookSecret> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.update").await?;
        let url = check_url(&input.url, &self.config.outbound_reachable)?;
        let event_types = check_types(&input.event_types)?;
        let description = check_description(input.description.as_deref())?;
        if self.store.webhook_endpoints(app.id).await?.len() >= MAX_ENDPOINTS {
            return Err(Error::Conflict(format!("An app has at most {MAX_ENDPOINTS} webhook endpoints")));
        }
        let at = now();
        let id = Uuid::now_v7();
        let secret = new_secret();
        let endpoint = WebhookEndpoint {
            id,
            app_id: app.id,
            url: url.to_string(),
            description,
            event_types,
            secret_sealed: self.seal_webhook_secret(id, &secret)?,
            previous_secret_sealed: None,
            previous_until: None,
            enabled: input.enabled.unwrap_or(true),
            disabled_reason: None,
            failing_since: None,
            created_at: at,
            updated_at: at,
        };
        let mut tx = self.write().await?;
        tx.insert_webhook_endpoint(&endpoint).await?;
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("webhook.created", actor_of(caller))
                .subject("webhook", id)
                .details(json!({"url": endpoint.url, "event_types": endpoint.event_types})),
        );
        tx.commit().await?;
        Ok(WebhookSecret { webhook: view(&endpoint), secret })
    }

    pub async fn list_webhooks(&self, caller: &Caller, slug: &str) -> Result<Vec<WebhookView>> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.read").await?;
        Ok(self.store.webhook_endpoints(app.id).await?.iter().map(view).collect())
    }

    pub async fn get_webhook(&self, caller: &Caller, slug: &str, id: &str) -> Result<WebhookView> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.read").await?;
        Ok(view(&self.managed_webhook(app.id, id).await?))
    }

    /// `PATCH /apps/{slug}/webhooks/{id}` (`webhook.update`).
    pub async fn update_webhook(
        &self,
        caller: &Caller,
        slug: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> Result<WebhookView> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.update").await?;
        let mut endpoint = self.managed_webhook(app.id, id).await?;
        let mut changed = Vec::new();
        if let Some(url) = &patch.url {
            endpoint.url = check_url(url, &self.config.outbound_reachable)?.to_string();
            changed.push("url");
        }
        if let Some(types) = &patch.event_types {
            endpoint.event_types = check_types(types)?;
            changed.push("event_types");
        }
        if let Some(description) = &patch.description {
            endpoint.description = check_description(Some(description))?;
            changed.push("description");
        }
        if let Some(enabled) = patch.enabled {
            if enabled && !endpoint.enabled {
                endpoint.disabled_reason = None;
                endpoint.failing_since = None;
            }
            if !enabled && endpoint.enabled {
                endpoint.disabled_reason = Some("disabled by a member".into());
            }
            endpoint.enabled = enabled;
            changed.push("enabled");
        }
        endpoint.updated_at = now();
        let mut tx = self.write().await?;
        if !tx.update_webhook_endpoint(&endpoint).await? {
            return Err(Error::NotFound("Webhook"));
        }
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("webhook.updated", actor_of(caller))
                .subject("webhook", endpoint.id)
                .details(json!({"changed": changed, "url": endpoint.url, "enabled": endpoint.enabled})),
        );
        tx.commit().await?;
        Ok(view(&endpoint))
    }

    /// `POST /apps/{slug}/webhooks/{id}/rotate-secret` (`webhook.update`): a new secret,
    /// shown once; the previous one signs beside it for `overlap_seconds` (default a day).
    pub async fn rotate_webhook_secret(
        &self,
        caller: &Caller,
        slug: &str,
        id: &str,
        overlap_seconds: Option<i64>,
    ) -> Result<WebhookSecret> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.update").await?;
        let overlap = overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
        if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
            return Err(Error::invalid(format!("overlap_seconds must be between 0 and {MAX_OVERLAP_SECONDS}")));
        }
        let mut endpoint = self.managed_webhook(app.id, id).await?;
        let at = now();
        let secret = new_secret();
        let previous = std::mem::replace(&mut endpoint.secret_sealed, self.seal_webhook_secret(endpoint.id, &secret)?);
        (endpoint.previous_secret_sealed, endpoint.previous_until) =
            if overlap > 0 { (Some(previous), Some(at + TimeDelta::seconds(overlap))) } else { (None, None) };
        endpoint.updated_at = at;
        let mut tx = self.write().await?;
        if !tx.update_webhook_endpoint(&endpoint).await? {
            return Err(Error::NotFound("Webhook"));
        }
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("webhook.secret_rotated", actor_of(caller))
                .subject("webhook", endpoint.id)
                .details(json!({"overlap_seconds": overlap})),
        );
        tx.commit().await?;
        Ok(WebhookSecret { webhook: view(&endpoint), secret })
    }

    pub async fn delete_webhook(&self, caller: &Caller, slug: &str, id: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.update").await?;
        let endpoint = self.managed_webhook(app.id, id).await?;
        let mut tx = self.write().await?;
        if !tx.delete_webhook_endpoint(app.id, endpoint.id).await? {
            return Err(Error::NotFound("Webhook"));
        }
        tx.changed(Change::App(app.id));
        tx.record(
            app.id,
            Event::new("webhook.deleted", actor_of(caller))
                .subject("webhook", endpoint.id)
                .details(json!({"url": endpoint.url})),
        );
        tx.commit().await
    }

    /// `GET /apps/{slug}/webhooks/{id}/deliveries?cursor=&limit=` (`webhook.read`), newest first.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        slug: &str,
        id: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<DeliveryPage> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.read").await?;
        let endpoint = self.managed_webhook(app.id, id).await?;
        let limit = limit.unwrap_or(50).clamp(1, DELIVERY_PAGE_MAX);
        let before = match cursor {
            None => None,
            Some(raw) => {
                let id = Uuid::parse_str(raw).map_err(|_| Error::invalid("cursor is not one this API gave out"))?;
                let d = self.store.webhook_delivery(app.id, id).await?;
                let d = d.ok_or_else(|| Error::invalid("cursor is not one this API gave out"))?;
                Some((d.created_at, d.id))
            }
        };
        let page = self.store.webhook_deliveries(app.id, endpoint.id, before, limit).await?;
        let next_cursor = (page.len() == limit as usize).then(|| page.last().map(|d| d.id.to_string())).flatten();
        Ok(DeliveryPage { deliveries: page.into_iter().map(delivery_view).collect(), next_cursor })
    }

    /// `POST /apps/{slug}/webhooks/{id}/deliveries/{delivery}/redeliver` (`webhook.update`):
    /// sent again now, whatever became of it.
    pub async fn redeliver_webhook(&self, caller: &Caller, slug: &str, id: &str, delivery: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "webhook.update").await?;
        let endpoint = self.managed_webhook(app.id, id).await?;
        if !endpoint.enabled {
            return Err(Error::Conflict("The webhook is disabled: enable it first".into()));
        }
        let delivery = Uuid::parse_str(delivery).map_err(|_| Error::NotFound("Delivery"))?;
        let found = self.store.webhook_delivery(app.id, delivery).await?;
        let found = found.filter(|d| d.endpoint_id == endpoint.id).ok_or(Error::NotFound("Delivery"))?;
        let mut tx = self.write().await?;
        if !tx.requeue_webhook_delivery(app.id, found.id, now()).await? {
            return Err(Error::Conflict("The delivery is queued already".into()));
        }
        tx.record(
            app.id,
            Event::new("webhook.redelivered", actor_of(caller))
                .subject("webhook", endpoint.id)
                .details(json!({"delivery_id": found.id, "event_type": found.event_type})),
        );
        tx.commit().await?;
        self.wake_webhooks();
        Ok(())
    }
}

/// Sends the deliveries: one per node.
pub(crate) struct Dispatcher {
    store: Arc<dyn Store>,
    key: MasterKey,
    sender: Sender,
    audit: Arc<super::audit::Sequencer>,
    caches: Arc<Caches>,
    mailer: Arc<super::mail::Mailer>,
    public_url: String,
    pub(crate) wake: Notify,
}

impl Dispatcher {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        key: MasterKey,
        sender: Sender,
        audit: Arc<super::audit::Sequencer>,
        caches: Arc<Caches>,
        mailer: Arc<super::mail::Mailer>,
        public_url: String,
    ) -> Dispatcher {
        Dispatcher { store, key, sender, audit, caches, mailer, public_url, wake: Notify::new() }
    }

    pub(crate) async fn run(self: Arc<Self>) {
        loop {
            let claimed = match self.pass().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook queue pass failed");
                    0
                }
            };
            if claimed == CLAIM as usize {
                continue;
            }
            let wait = match self.store.next_webhook_due().await {
                Ok(Some(due)) => (due - now()).to_std().unwrap_or(Duration::ZERO).min(POLL),
                _ => POLL,
            };
            if wait > Duration::ZERO {
                let _ = tokio::time::timeout(wait, self.wake.notified()).await;
            }
        }
    }

    async fn pass(&self) -> Result<usize> {
        let at = now();
        let mut tx = self.store.begin().await?;
        let claimed = tx.claim_webhook_deliveries(at, at + CLAIM_FOR, CLAIM).await?;
        tx.commit().await?;
        let n = claimed.len();
        for delivery in claimed {
            let id = delivery.id;
            if let Err(e) = self.deliver(delivery).await {
                tracing::warn!(delivery = %id, error = %e, "webhook delivery not recorded; retried when its claim lapses");
            }
        }
        Ok(n)
    }

    /// The signatures of a message: the current secret's, and the previous one's during a
    /// rotation's overlap.
    fn signatures(&self, endpoint: &WebhookEndpoint, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
        let open = |sealed: &[u8]| -> Result<String> {
            let plain = self.key.open(sealed, &secret_context(endpoint.id))?;
            String::from_utf8(plain).map_err(Error::internal)
        };
        let mut out = vec![sign(&open(&endpoint.secret_sealed)?, id, timestamp, body)?];
        if let (Some(previous), Some(until)) = (&endpoint.previous_secret_sealed, endpoint.previous_until) {
            if until > now() {
                out.push(sign(&open(previous)?, id, timestamp, body)?);
            }
        }
        Ok(out.join(" "))
    }

    async fn deliver(&self, delivery: WebhookDelivery) -> Result<()> {
        let endpoint = self.store.webhook_endpoint(delivery.app_id, delivery.endpoint_id).await?;
        let Some(endpoint) = endpoint.filter(|e| e.enabled) else {
            let attempt = DeliveryAttempt {
                status: DeliveryStatus::Failed,
                next_attempt_at: now(),
                last_status: None,
                last_response: None,
                last_error: Some("the endpoint is disabled or removed".into()),
                at: now(),
            };
            let mut tx = self.store.begin().await?;
            tx.record_webhook_attempt(delivery.id, &attempt).await?;
            return Ok(tx.commit().await?);
        };
        let body = Bytes::from(serde_json::to_vec(&delivery.payload).map_err(Error::internal)?);
        let message_id = format!("msg_{}", delivery.id.simple());
        let timestamp = now().timestamp();
        let signatures = self.signatures(&endpoint, &message_id, timestamp, &body)?;
        let outcome = self.sender.post(&endpoint.url, &message_id, timestamp, &signatures, body).await;
        let at = now();
        let (succeeded, last_status, last_response, last_error) = match outcome {
            Ok(answer) => {
                let ok = (200..300).contains(&answer.status);
                let error = (!ok).then(|| format!("the endpoint answered {}", answer.status));
                (ok, Some(i32::from(answer.status)), Some(answer.body), error)
            }
            Err(why) => (false, None, None, Some(why)),
        };
        let status = match (succeeded, delivery.attempts + 1 >= MAX_ATTEMPTS) {
            (true, _) => DeliveryStatus::Delivered,
            (false, true) => DeliveryStatus::Failed,
            (false, false) => DeliveryStatus::Queued,
        };
        let attempt = DeliveryAttempt {
            status,
            next_attempt_at: if status == DeliveryStatus::Queued { at + backoff(delivery.attempts) } else { at },
            last_status,
            last_response,
            last_error,
            at,
        };
        crate::telemetry::webhook_delivery(status.as_str());
        let mut tx = self.store.begin().await?;
        tx.record_webhook_attempt(delivery.id, &attempt).await?;
        if succeeded {
            tx.webhook_endpoint_succeeded(endpoint.id).await?;
            return Ok(tx.commit().await?);
        }
        let since = tx.webhook_endpoint_failed(endpoint.id, at).await?;
        if since.is_none_or(|since| at - since < DISABLE_AFTER) {
            return Ok(tx.commit().await?);
        }
        let reason = "every delivery failed for a day";
        if !tx.disable_webhook_endpoint(endpoint.id, reason, at).await? {
            return Ok(tx.commit().await?);
        }
        let event = AuditEvent::record(
            endpoint.app_id,
            at,
            Event::new("webhook.disabled", Actor::system())
                .failed()
                .subject("webhook", endpoint.id)
                .details(json!({"url": endpoint.url, "reason": reason})),
        );
        tx.insert_audit_event(&self.audit.seal(event)).await?;
        let change = Change::App(endpoint.app_id);
        tx.publish(&change.encode()).await?;
        let mailed = self.mail_owners(&mut *tx, &endpoint).await?;
        tx.commit().await?;
        self.caches.apply(change);
        self.audit.wake();
        if mailed {
            self.mailer.wake();
        }
        tracing::warn!(app = %endpoint.app_id, webhook = %endpoint.id, "webhook endpoint disabled after a day of failures");
        Ok(())
    }

    /// Tells the app's owners that the endpoint was disabled, in the transaction that
    /// disables it; false when there was nobody to tell.
    async fn mail_owners(&self, tx: &mut dyn crate::store::Tx, endpoint: &WebhookEndpoint) -> Result<bool> {
        let Some(app) = self.store.app_by_id(endpoint.app_id).await? else { return Ok(false) };
        let owners: Vec<String> = self
            .store
            .members(app.id)
            .await?
            .into_iter()
            .filter(|m| m.role.name == crate::permissions::OWNER)
            .filter_map(|m| m.email)
            .collect();
        if owners.is_empty() {
            return Ok(false);
        }
        let link = format!("{}/console/apps/{}/webhooks", self.public_url, app.slug);
        for email in owners {
            let rendered = super::mail::webhook_disabled_message(&app, &endpoint.url, &link);
            self.mailer.queue_platform(tx, &email, rendered).await?;
        }
        Ok(true)
    }
}
