//! License keys as the management API and the console show them, in seed 002's snake_case.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A license as listed: never its key, only the key's first group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenseView {
    pub id: Uuid,
    /// The key's first group, to recognise it by (`7KQ2M`).
    pub key_prefix: String,
    pub product_id: String,
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    pub max_activations: i32,
    /// Devices holding the license now.
    pub activation_count: i64,
    pub metadata: serde_json::Value,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub updated_at: DateTime<Utc>,
    /// Null: it does not expire.
    #[serde(with = "crate::time_format::option")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A device's activation of a license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivationView {
    pub id: Uuid,
    pub device_fingerprint: String,
    pub device_name: Option<String>,
    #[serde(with = "crate::time_format")]
    pub activated_at: DateTime<Utc>,
    /// Kept to the minute.
    #[serde(with = "crate::time_format::option")]
    pub last_verified_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// One license with its activations, live ones first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicenseDetail {
    #[serde(flatten)]
    pub license: LicenseView,
    pub activations: Vec<ActivationView>,
}

/// A license just issued. Its key is here and nowhere else, ever again.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedLicense {
    #[serde(flatten)]
    pub license: LicenseView,
    /// `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`, Crockford base32, the last symbol a check symbol.
    pub license_key: String,
}

impl std::fmt::Debug for IssuedLicense {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedLicense").field("license", &self.license).finish_non_exhaustive()
    }
}

/// A page of an app's licenses, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LicensePage {
    pub licenses: Vec<LicenseView>,
    /// Pass as `cursor` for older licenses; absent on the last page.
    pub next_cursor: Option<String>,
}
