//! App credentials (seed 002's `app_id` + `app_secret`) as the management API and the
//! console show them, in seed 002's snake_case.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A credential as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialView {
    /// The public identifier a backend sends as `app_id`.
    pub app_id: String,
    pub name: String,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time_format::option")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// Kept to the minute: a use is recorded when the last record is older.
    #[serde(with = "crate::time_format::option")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time_format::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Until when the secret the last rotation replaced keeps working (it may have passed);
    /// null when the rotation kept no overlap, or there was none.
    #[serde(with = "crate::time_format::option")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// A credential just created. Its secret is here and nowhere else, ever again.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedCredential {
    pub app_id: String,
    pub app_secret: String,
    pub name: String,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
}

/// A credential just rotated: its new secret (shown this once) and when the secret it
/// replaced stops working (the rotation's time, when it kept no overlap).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedCredential {
    pub app_id: String,
    pub app_secret: String,
    #[serde(with = "crate::time_format")]
    pub previous_secret_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for CreatedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedCredential")
            .field("app_id", &self.app_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RotatedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedCredential")
            .field("app_id", &self.app_id)
            .field("previous_secret_expires_at", &self.previous_secret_expires_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_not_printed() {
        let created = CreatedCredential {
            app_id: "app_1".into(),
            app_secret: "ras_secret".into(),
            name: "backend".into(),
            created_at: Utc::now(),
        };
        let rotated = RotatedCredential {
            app_id: "app_1".into(),
            app_secret: "ras_secret".into(),
            previous_secret_expires_at: Utc::now(),
        };
        for printed in [format!("{created:?}"), format!("{rotated:?}")] {
            assert!(printed.contains("app_1") && !printed.contains("ras_secret"), "{printed}");
        }
    }
}
