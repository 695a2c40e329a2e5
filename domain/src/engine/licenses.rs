//! Managing an app's license keys (seed 002 "04 — License Keys"): issue one (the key shown
//! once), list, open one with its activations, revoke, extend. Callers need `license.create`,
//! `license.read` or `license.revoke`, as accounts or API keys (`Engine::authorize`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use shared::{ActivationView, IssuedLicense, LicenseDetail, LicensePage, LicenseView};
use uuid::Uuid;

use super::audit::actor_of;
use super::{now, Access, Caller, Engine};
use crate::audit::Event;
use crate::licenses::{
    bounded_text, Activation, License, LicenseCursor, LicenseFilter, LicenseKey, LicenseStatus, MAX_ACTIVATIONS,
    MAX_METADATA_BYTES, MAX_PRODUCT_ID,
};
use crate::store::StoreError;
use crate::{Error, Result};

/// What `POST /apps/{slug}/licenses` takes.
#[derive(Debug, Clone, Default)]
pub struct NewLicense {
    pub product_id: String,
    pub user_id: Option<String>,
    pub org_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_activations: i64,
    pub metadata: Option<serde_json::Value>,
}

/// Which licenses a list shows, as the query string has it.
#[derive(Debug, Clone, Default)]
pub struct LicenseQuery {
    pub product_id: Option<String>,
    pub user_id: Option<String>,
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

pub(super) fn license_view(l: &License, at: DateTime<Utc>) -> LicenseView {
    LicenseView {
        id: l.id,
        key_prefix: l.key_prefix.clone(),
        product_id: l.product_id.clone(),
        user_id: l.user_id,
        org_id: l.org_id,
        status: l.status(at).as_str().to_owned(),
        max_activations: l.max_activations,
        activation_count: l.activations,
        metadata: l.metadata.clone(),
        created_at: l.created_at,
        updated_at: l.updated_at,
        expires_at: l.expires_at,
        revoked_at: l.revoked_at,
    }
}

fn activation_view(a: Activation) -> ActivationView {
    ActivationView {
        id: a.id,
        device_fingerprint: a.fingerprint,
        device_name: a.device_name,
        activated_at: a.created_at,
        last_verified_at: a.last_verified_at,
        deactivated_at: a.deactivated_at,
    }
}

fn encode_cursor(l: &License) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", l.created_at.timestamp_millis(), l.id))
}

fn decode_cursor(raw: &str) -> Result<LicenseCursor> {
    let bad = || Error::invalid("cursor is not one this API gave out");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?).map_err(|_| bad())?;
    let (millis, id) = text.split_once('.').ok_or_else(bad)?;
    let created_at = Utc.timestamp_millis_opt(millis.parse().map_err(|_| bad())?).single().ok_or_else(bad)?;
    Ok(LicenseCursor { created_at, id: Uuid::parse_str(id).map_err(|_| bad())? })
}

fn parse_uuid(raw: &str, field: &str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::invalid(format!("{field} must be a UUID")))
}

fn parse_max_activations(n: i64) -> Result<i32> {
    i32::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_ACTIVATIONS).contains(n))
        .ok_or_else(|| Error::invalid(format!("max_activations must be between 1 and {MAX_ACTIVATIONS}")))
}

fn parse_metadata(metadata: Option<serde_json::Value>) -> Result<serde_json::Value> {
    match metadata {
        None | Some(serde_json::Value::Null) => Ok(json!({})),
        Some(m @ serde_json::Value::Object(_)) if m.to_string().len() <= MAX_METADATA_BYTES => Ok(m),
        Some(serde_json::Value::Object(_)) => {
            Err(Error::invalid(format!("metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")))
        }
        Some(_) => Err(Error::invalid("metadata must be a JSON object")),
    }
}

fn future(expires_at: DateTime<Utc>, at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if expires_at <= at {
        return Err(Error::invalid("expires_at must be in the future"));
    }
    Ok(expires_at)
}

impl Engine {
    /// Issues a license; its key is in the answer and nowhere else, ever again. The user and
    /// the organization, when given, must be the app's.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn issue_license(&self, caller: &Caller, slug: &str, input: NewLicense) -> Result<IssuedLicense> {
        let Access { app, .. } = self.authorize(caller, slug, "license.create").await?;
        let product_id = bounded_text(&input.product_id, "product_id", MAX_PRODUCT_ID)?;
        let max_activations = parse_max_activations(input.max_activations)?;
        let metadata = parse_metadata(input.metadata)?;
        let at = now();
        let expires_at = input.expires_at.map(|e| future(e, at)).transpose()?;
        let user_id = match input.user_id.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(raw) => {
                let id = parse_uuid(raw, "user_id")?;
                self.store.user_by_id(app.id, id).await?.ok_or(Error::NotFound("User"))?;
                Some(id)
            }
            None => None,
        };
        let org_id = match input.org_id.as_deref().filter(|o| !o.trim().is_empty()) {
            Some(raw) => {
                let id = parse_uuid(raw, "org_id")?;
                if !self.store.organization_in_app(app.id, id).await? {
                    return Err(Error::NotFound("Organization"));
                }
                Some(id)
            }
            None => None,
        };
        let key = LicenseKey::generate();
        let license = License {
            id: Uuid::now_v7(),
            app_id: app.id,
            key_digest: key.digest(),
            key_prefix: key.prefix(),
            product_id,
            user_id,
            org_id,
            max_activations,
            metadata,
            created_at: at,
            updated_at: at,
            expires_at,
            revoked_at: None,
            activations: 0,
        };
        let mut tx = self.write().await?;
        tx.insert_license(&license).await.map_err(|e| match e {
            // 120 random bits do not collide; a user or organization deleted meanwhile does.
            StoreError::ForeignKey => Error::Conflict("The user or organization was just deleted".into()),
            e => e.into(),
        })?;
        tx.record(
            app.id,
            Event::new("license.issued", actor_of(caller)).subject("license", license.id).details(json!({
                "product_id": license.product_id,
                "key_prefix": license.key_prefix,
                "user_id": license.user_id,
                "org_id": license.org_id,
                "max_activations": license.max_activations,
                "expires_at": license.expires_at.map(|t| crate::time_format::format(&t)),
            })),
        );
        tx.commit().await?;
        Ok(IssuedLicense { license: license_view(&license, at), license_key: key.display() })
    }

    /// A page of the app's licenses, newest first, narrowed by product, user and status.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_licenses(&self, caller: &Caller, slug: &str, query: LicenseQuery) -> Result<LicensePage> {
        let Access { app, .. } = self.authorize(caller, slug, "license.read").await?;
        let limit = query.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(Error::invalid("limit must be between 1 and 200"));
        }
        let filter = LicenseFilter {
            product_id: query
                .product_id
                .filter(|p| !p.trim().is_empty())
                .map(|p| bounded_text(&p, "product_id", MAX_PRODUCT_ID))
                .transpose()?,
            user_id: query.user_id.filter(|u| !u.trim().is_empty()).map(|u| parse_uuid(&u, "user_id")).transpose()?,
            status: match query.status.as_deref().filter(|s| !s.is_empty()) {
                Some(raw) => Some(
                    LicenseStatus::parse(raw)
                        .ok_or_else(|| Error::invalid("status must be one of active, revoked, expired"))?,
                ),
                None => None,
            },
        };
        let after = query.cursor.as_deref().filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
        let at = now();
        // One extra row tells whether there is a next page.
        let mut rows = self.store.licenses_page(app.id, &filter, at, after, limit + 1).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(encode_cursor) } else { None };
        Ok(LicensePage { licenses: rows.iter().map(|l| license_view(l, at)).collect(), next_cursor })
    }

    /// One license with its activations.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn get_license(&self, caller: &Caller, slug: &str, id: &str) -> Result<LicenseDetail> {
        let Access { app, .. } = self.authorize(caller, slug, "license.read").await?;
        let license = self.managed_license(app.id, id).await?;
        let activations = self.store.license_activations(app.id, license.id).await?;
        Ok(LicenseDetail {
            license: license_view(&license, now()),
            activations: activations.into_iter().map(activation_view).collect(),
        })
    }

    /// Revokes a license: every device's activation stops verifying at once (online; an
    /// offline license token lasts until its `exp`).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn revoke_license(&self, caller: &Caller, slug: &str, id: &str) -> Result<LicenseView> {
        let Access { app, .. } = self.authorize(caller, slug, "license.revoke").await?;
        let license = self.managed_license(app.id, id).await?;
        let at = now();
        let mut tx = self.write().await?;
        if !tx.revoke_license(app.id, license.id, at).await? {
            return Err(Error::Conflict("License is already revoked".into()));
        }
        tx.record(
            app.id,
            Event::new("license.revoked", actor_of(caller))
                .subject("license", license.id)
                .details(json!({"product_id": license.product_id, "key_prefix": license.key_prefix})),
        );
        tx.commit().await?;
        let revoked = License { revoked_at: Some(at), updated_at: at, ..license };
        Ok(license_view(&revoked, at))
    }

    /// Moves a license's expiry to `expires_at`, which must be in the future (an expired
    /// license becomes active again). A revoked license stays revoked.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn extend_license(
        &self,
        caller: &Caller,
        slug: &str,
        id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<LicenseView> {
        let Access { app, .. } = self.authorize(caller, slug, "license.create").await?;
        let license = self.managed_license(app.id, id).await?;
        let at = now();
        let expires_at = future(expires_at, at)?;
        let mut tx = self.write().await?;
        if !tx.extend_license(app.id, license.id, Some(expires_at), at).await? {
            return Err(Error::Conflict("A revoked license cannot be extended".into()));
        }
        tx.record(
            app.id,
            Event::new("license.extended", actor_of(caller)).subject("license", license.id).details(json!({
                "product_id": license.product_id,
                "from": license.expires_at.map(|t| crate::time_format::format(&t)),
                "to": crate::time_format::format(&expires_at),
            })),
        );
        tx.commit().await?;
        let extended = License { expires_at: Some(expires_at), updated_at: at, ..license };
        Ok(license_view(&extended, at))
    }

    /// The app's license by the id in a URL; anything else is `404`.
    async fn managed_license(&self, app_id: Uuid, id: &str) -> Result<License> {
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("License"))?;
        self.store.license(app_id, id).await?.ok_or(Error::NotFound("License"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = Utc.timestamp_millis_opt(1_700_000_000_123).single().unwrap();
        let license = License {
            id: Uuid::now_v7(),
            app_id: Uuid::nil(),
            key_digest: String::new(),
            key_prefix: String::new(),
            product_id: "pro".into(),
            user_id: None,
            org_id: None,
            max_activations: 1,
            metadata: json!({}),
            created_at: at,
            updated_at: at,
            expires_at: None,
            revoked_at: None,
            activations: 0,
        };
        let c = decode_cursor(&encode_cursor(&license)).unwrap();
        assert_eq!((c.created_at, c.id), (at, license.id));
        for bad in ["", "x", "MTIz", "bm90LmEtdXVpZA"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_of_what_an_issue_takes() {
        assert!(parse_max_activations(0).is_err());
        assert!(parse_max_activations(10_001).is_err());
        assert!(parse_max_activations(i64::MAX).is_err());
        assert_eq!(parse_max_activations(3).unwrap(), 3);
        assert_eq!(parse_metadata(None).unwrap(), json!({}));
        assert!(parse_metadata(Some(json!([1]))).is_err());
        assert!(parse_metadata(Some(json!({"k": "v".repeat(5000)}))).is_err());
    }
}
