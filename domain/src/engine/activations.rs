//! Devices and license keys (seed 002 "04 — License Keys"): an app's backend, holding the
//! app's credentials, activates a key on a device, verifies it, deactivates it. A live
//! activation comes with a license token, the app's JWT a device checks offline. Also a
//! user's entitlements: the licenses active for it, which seed 003's `subscription` shows.
//!
//! A key is a credential: a wrong one counts against the caller's IP like a wrong app
//! secret, so guessing keys meets `429` after `rate_limit_credential_failures_per_ip`.
//! Activations are counted under the license's lock (`Tx::locked_license`), so parallel
//! activations never exceed `max_activations`.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::credentials::AppCredentials;
use super::{now, Engine, Principal, RequestMeta};
use crate::audit::{Actor, Event};
use crate::licenses::{bounded_text, Activation, License, LicenseKey, LicenseStatus, MAX_DEVICE_NAME, MAX_FINGERPRINT};
use crate::model::App;
use crate::{Error, Result};

/// A verification records its time on the activation when the last record is this old.
const RECORD_VERIFY_EVERY_SECONDS: i64 = 60;

/// `licenses/activate`'s answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActivatedLicense {
    pub activation_id: Uuid,
    pub license_id: Uuid,
    pub product_id: String,
    pub device_fingerprint: String,
    pub device_name: Option<String>,
    #[serde(with = "crate::time_format")]
    pub activated_at: DateTime<Utc>,
    /// The license's expiry; null when it never expires.
    #[serde(with = "crate::time_format::option")]
    pub expires_at: Option<DateTime<Utc>>,
    pub max_activations: i32,
    pub activation_count: i64,
    pub license_token: String,
    #[serde(with = "crate::time_format")]
    pub license_token_expires_at: DateTime<Utc>,
}

/// `licenses/verify`'s answer: `valid`, and when not, why (`status`: `revoked`, `expired`
/// or `not_activated` on this device).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LicenseVerification {
    pub valid: bool,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub license_id: Uuid,
    pub product_id: String,
    #[serde(with = "crate::time_format::option")]
    pub expires_at: Option<DateTime<Utc>>,
    pub activation_id: Option<Uuid>,
    /// A fresh license token for the device, when valid.
    pub license_token: Option<String>,
    #[serde(with = "crate::time_format::option")]
    pub license_token_expires_at: Option<DateTime<Utc>>,
}

/// `licenses/deactivate`'s answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deactivated {
    pub deactivated: bool,
    pub activation_id: Uuid,
    pub license_id: Uuid,
}

/// One license a user may use, and whether it is the user's own or its organization's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entitlement {
    pub license_id: Uuid,
    pub product_id: String,
    #[serde(with = "crate::time_format::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// `user` or `organization`.
    pub source: &'static str,
}

const NOT_ACTIVATED: &str = "This license is not activated on this device";

fn refused_by(status: LicenseStatus) -> Error {
    match status {
        LicenseStatus::Revoked => Error::LicenseRevoked,
        _ => Error::LicenseExpired,
    }
}

fn device(fingerprint: &str, name: Option<&str>) -> Result<(String, Option<String>)> {
    let fingerprint = bounded_text(fingerprint, "device_fingerprint", MAX_FINGERPRINT)?;
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(bounded_text(n, "device_name", MAX_DEVICE_NAME)?),
        None => None,
    };
    Ok((fingerprint, name))
}

impl Engine {
    /// The app whose credentials the backend presents.
    async fn license_backend(&self, slug: &str, credentials: &AppCredentials) -> Result<App> {
        let app = self.active_app(slug).await.map_err(|e| match e {
            Error::NotFound(_) => Error::InvalidAppCredentials,
            e => e,
        })?;
        self.check_app_credentials(&app, &credentials.app_id, credentials.app_secret.expose_secret()).await?;
        Ok(app)
    }

    /// The app's license with this key. A key that is not one, or that no license of the app
    /// has, is a failed credential check from the caller's IP (recorded as `failed_kind`).
    async fn license_of_key(&self, app: &App, raw: &str, failed_kind: &str, meta: &RequestMeta) -> Result<License> {
        let found = match LicenseKey::parse(raw) {
            Ok(key) => self
                .store
                .license_by_digest(app.id, &key.digest())
                .await?
                .ok_or(Error::LicenseInvalid("No license of this app has this key")),
            Err(e) => Err(e),
        };
        let Err(refused) = found else { return found };
        let mut tx = self.write().await?;
        tx.record(app.id, Event::new(failed_kind, Actor::system()).failed().details(json!({"reason": "unknown_key"})));
        tx.commit().await?;
        self.credential_failed(app, meta).await?;
        Err(refused)
    }

    /// `POST licenses/activate`: the device takes one of the license's activations, or gets
    /// the one it holds (activating again is harmless), with a license token.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn activate_license(
        &self,
        slug: &str,
        credentials: &AppCredentials,
        license_key: &str,
        fingerprint: &str,
        device_name: Option<&str>,
        meta: &RequestMeta,
    ) -> Result<ActivatedLicense> {
        let app = self.license_backend(slug, credentials).await?;
        let (fingerprint, device_name) = device(fingerprint, device_name)?;
        let found = self.license_of_key(&app, license_key, "license.activation_refused", meta).await?;
        let at = now();
        let mut tx = self.write().await?;
        // Everything below is decided on the license as this transaction holds it.
        let license = tx.locked_license(app.id, found.id).await?.ok_or(Error::NotFound("License"))?;
        let refused = |reason: &str| {
            Event::new("license.activation_refused", Actor::system())
                .failed()
                .subject("license", license.id)
                .details(json!({"reason": reason, "product_id": license.product_id}))
        };
        let status = license.status(at);
        if status != LicenseStatus::Active {
            tx.record(app.id, refused(status.as_str()));
            tx.commit().await?;
            return Err(refused_by(status));
        }
        let (activation, count) = match tx.live_activation(license.id, &fingerprint).await? {
            Some(held) => (held, license.activations),
            None if license.activations >= i64::from(license.max_activations) => {
                tx.record(app.id, refused("activation_limit_reached"));
                tx.commit().await?;
                return Err(Error::ActivationLimitReached);
            }
            None => {
                let activation = Activation {
                    id: Uuid::now_v7(),
                    license_id: license.id,
                    app_id: app.id,
                    fingerprint,
                    device_name,
                    created_at: at,
                    last_verified_at: None,
                    deactivated_at: None,
                };
                tx.insert_activation(&activation).await?;
                tx.record(
                    app.id,
                    Event::new("license.activated", Actor::system()).subject("license", license.id).details(json!({
                        "activation_id": activation.id,
                        "product_id": license.product_id,
                        "device_name": activation.device_name,
                        "activations": license.activations + 1,
                        "max_activations": license.max_activations,
                    })),
                );
                (activation, license.activations + 1)
            }
        };
        tx.commit().await?;
        let (license_token, license_token_expires_at) = self.license_token(&app, &license, &activation).await?;
        Ok(ActivatedLicense {
            activation_id: activation.id,
            license_id: license.id,
            product_id: license.product_id,
            device_fingerprint: activation.fingerprint,
            device_name: activation.device_name,
            activated_at: activation.created_at,
            expires_at: license.expires_at,
            max_activations: license.max_activations,
            activation_count: count,
            license_token,
            license_token_expires_at,
        })
    }

    /// `POST licenses/verify`: whether the license is active and activated on this device;
    /// a known key that is not is answered (`valid: false` and why), and recorded as a
    /// failure.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn verify_license(
        &self,
        slug: &str,
        credentials: &AppCredentials,
        license_key: &str,
        fingerprint: &str,
        meta: &RequestMeta,
    ) -> Result<LicenseVerification> {
        let app = self.license_backend(slug, credentials).await?;
        let (fingerprint, _) = device(fingerprint, None)?;
        let license = self.license_of_key(&app, license_key, "license.verify_failed", meta).await?;
        let at = now();
        let mut tx = self.write().await?;
        let status = license.status(at);
        let activation = match status {
            LicenseStatus::Active => tx.live_activation(license.id, &fingerprint).await?,
            _ => None,
        };
        let mut answer = LicenseVerification {
            valid: false,
            status: status.as_str(),
            reason: None,
            license_id: license.id,
            product_id: license.product_id.clone(),
            expires_at: license.expires_at,
            activation_id: activation.as_ref().map(|a| a.id),
            license_token: None,
            license_token_expires_at: None,
        };
        let Some(activation) = activation else {
            let (status, reason) = match status {
                LicenseStatus::Active => ("not_activated", NOT_ACTIVATED),
                LicenseStatus::Revoked => ("revoked", "This license has been revoked"),
                LicenseStatus::Expired => ("expired", "This license has expired"),
            };
            tx.record(
                app.id,
                Event::new("license.verify_failed", Actor::system())
                    .failed()
                    .subject("license", license.id)
                    .details(json!({"reason": status, "product_id": license.product_id})),
            );
            tx.commit().await?;
            answer.status = status;
            answer.reason = Some(reason);
            return Ok(answer);
        };
        if activation.last_verified_at.is_none_or(|t| at - t >= TimeDelta::seconds(RECORD_VERIFY_EVERY_SECONDS)) {
            tx.touch_activation(app.id, activation.id, at).await?;
            tx.commit().await?;
        }
        let (token, token_expires_at) = self.license_token(&app, &license, &activation).await?;
        answer.valid = true;
        answer.license_token = Some(token);
        answer.license_token_expires_at = Some(token_expires_at);
        Ok(answer)
    }

    /// `POST licenses/deactivate`: the device gives its activation back (revoked and expired
    /// licenses too, so their devices can be cleaned up). `404` when it holds none.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn deactivate_license(
        &self,
        slug: &str,
        credentials: &AppCredentials,
        license_key: &str,
        fingerprint: &str,
        meta: &RequestMeta,
    ) -> Result<Deactivated> {
        let app = self.license_backend(slug, credentials).await?;
        let (fingerprint, _) = device(fingerprint, None)?;
        let license = self.license_of_key(&app, license_key, "license.deactivation_refused", meta).await?;
        let mut tx = self.write().await?;
        let Some(activation) = tx.deactivate(license.id, &fingerprint, now()).await? else {
            return Err(Error::NotFound("Activation"));
        };
        tx.record(
            app.id,
            Event::new("license.deactivated", Actor::system())
                .subject("license", license.id)
                .details(json!({"activation_id": activation.id, "product_id": license.product_id})),
        );
        tx.commit().await?;
        Ok(Deactivated { deactivated: true, activation_id: activation.id, license_id: license.id })
    }

    /// The licenses active now for the user: its own, and those of `org_id` (its active
    /// organization, when it has one), newest first.
    pub async fn entitlements(&self, app: &App, user_id: Uuid, org_id: Option<Uuid>) -> Result<Vec<Entitlement>> {
        let licenses = self.store.entitlements(app.id, user_id, org_id, now()).await?;
        Ok(licenses
            .into_iter()
            .map(|l| Entitlement {
                license_id: l.id,
                source: if l.user_id == Some(user_id) { "user" } else { "organization" },
                product_id: l.product_id,
                expires_at: l.expires_at,
            })
            .collect())
    }

    /// Seed 003's `subscription`: the product of the newest license active for the user or
    /// for `org_id`.
    pub(super) async fn subscription(
        &self,
        app: &App,
        user_id: Uuid,
        org_id: Option<Uuid>,
    ) -> Result<super::Subscription> {
        let newest = self.entitlements(app, user_id, org_id).await?.into_iter().next();
        Ok(super::Subscription { is_subscribed: newest.is_some(), product_id: newest.map(|e| e.product_id) })
    }

    /// `GET me/entitlements`.
    pub async fn my_entitlements(&self, me: &Principal) -> Result<Vec<Entitlement>> {
        self.entitlements(&me.app, me.user_id, me.active_org_id()).await
    }
}
