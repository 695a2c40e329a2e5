//! App credentials (seed 002): the `app_id` + `app_secret` an app's backend presents in the
//! body of its backend-only calls (refresh and logout; OTP next). Created with the secret
//! shown once, listed without it, rotated with an overlap, revoked; and checked on the
//! refresh path through a short cache that rotating or revoking clears on every node.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use shared::{CreatedCredential, CredentialView, RotatedCredential};
use uuid::Uuid;

use super::audit::actor_of;
use super::cache::{Change, Generation};
use super::{now, Access, Caller, Engine};
use crate::audit::Event;
use crate::crypto::{constant_time_eq, random_id, random_token, token_digest};
use crate::model::{App, AppCredential};
use crate::types::{DisplayName, PLATFORM_SLUG};
use crate::{Error, Result};

/// Every public identifier (`app_id`) starts with this.
pub const CREDENTIAL_ID_PREFIX: &str = "app_";
/// Every secret (`app_secret`) starts with this, so a leaked one is recognisable.
pub const CREDENTIAL_SECRET_PREFIX: &str = "ras_";
/// How long a rotated-out secret keeps working unless the rotation says otherwise: a day for
/// every backend to pick up the new one.
pub const DEFAULT_OVERLAP_SECONDS: i64 = 86_400;
/// The longest overlap a rotation may keep: a week.
pub const MAX_OVERLAP_SECONDS: i64 = 7 * 86_400;
/// The name of a credential created without one.
const DEFAULT_NAME: &str = "default";
/// A credential's use is recorded when the last record is at least this old.
const RECORD_USE_EVERY_SECONDS: i64 = 60;

/// What a backend presents beside a refresh token (seed 002): an app credential.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub app_id: String,
    pub app_secret: SecretString,
}

/// Anything else is not looked up.
fn could_be_credential_id(raw: &str) -> bool {
    raw.starts_with(CREDENTIAL_ID_PREFIX) && raw.len() <= 64
}

fn view(c: &AppCredential) -> CredentialView {
    CredentialView {
        app_id: c.client_id.clone(),
        name: c.name.clone(),
        created_at: c.created_at,
        rotated_at: c.rotated_at,
        last_used_at: c.last_used_at,
        revoked_at: c.revoked_at,
        previous_secret_expires_at: c.previous_expires_at,
    }
}

/// Whether the credential takes a secret of this digest at `at`: its current secret, or the
/// previous one until its overlap ends. Both digests are compared, in constant time, whatever
/// the first comparison gives.
fn accepts(c: &AppCredential, presented: &str, at: DateTime<Utc>) -> bool {
    let current = constant_time_eq(presented.as_bytes(), c.secret_digest.as_bytes());
    let previous = match (&c.previous_digest, c.previous_expires_at) {
        (Some(digest), Some(until)) => constant_time_eq(presented.as_bytes(), digest.as_bytes()) & (until > at),
        _ => false,
    };
    c.revoked_at.is_none() && (current | previous)
}

impl Engine {
    /// Creates a credential; its secret is in the answer and nowhere else, ever again.
    /// Managing credentials takes the API-key permissions (`apikey.*`): both are secrets an
    /// app's backend holds.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn create_app_credential(
        &self,
        caller: &Caller,
        slug: &str,
        name: Option<&str>,
    ) -> Result<CreatedCredential> {
        let Access { app, .. } = self.authorize(caller, slug, "apikey.create").await?;
        let name = DisplayName::parse(name.unwrap_or(DEFAULT_NAME), "name")?;
        let secret = random_token(CREDENTIAL_SECRET_PREFIX);
        let credential = AppCredential {
            id: Uuid::new_v4(),
            app_id: app.id,
            client_id: random_id(CREDENTIAL_ID_PREFIX),
            name: name.as_str().to_owned(),
            secret_digest: token_digest(&secret),
            previous_digest: None,
            previous_expires_at: None,
            created_at: now(),
            rotated_at: None,
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.write().await?;
        tx.insert_app_credential(&credential).await?;
        tx.record(
            app.id,
            Event::new("app_credential.created", actor_of(caller))
                .subject("app_credential", credential.id)
                .details(json!({"app_id": credential.client_id, "name": credential.name})),
        );
        tx.commit().await?;
        Ok(CreatedCredential {
            app_id: credential.client_id,
            app_secret: secret,
            name: credential.name,
            created_at: credential.created_at,
        })
    }

    /// The app's credentials, revoked ones too, newest first; never a secret.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_app_credentials(&self, caller: &Caller, slug: &str) -> Result<Vec<CredentialView>> {
        let Access { app, .. } = self.authorize(caller, slug, "apikey.read").await?;
        Ok(self.store.app_credentials(app.id).await?.iter().map(view).collect())
    }

    /// Gives the credential a new secret (shown once). The secret it had keeps working for
    /// `overlap_seconds` (default a day, at most a week; 0 ends it at once), so backends can
    /// switch without downtime; a second rotation ends the first one's overlap. A rotation
    /// mints a secret and ends one, so it takes both `apikey.create` and `apikey.revoke`.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn rotate_app_credential(
        &self,
        caller: &Caller,
        slug: &str,
        app_id: &str,
        overlap_seconds: Option<i64>,
    ) -> Result<RotatedCredential> {
        let access = self.authorize(caller, slug, "apikey.create").await?;
        if !access.holds(caller, "apikey.revoke") {
            return Err(Error::Forbidden("Missing permission apikey.revoke".into()));
        }
        let overlap = overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
        if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
            return Err(Error::invalid(format!("overlap_seconds must be between 0 and {MAX_OVERLAP_SECONDS}")));
        }
        let app = access.app;
        let found = self.managed_credential(&app, app_id).await?;
        let at = now();
        let until = (overlap > 0).then(|| at + TimeDelta::seconds(overlap));
        let secret = random_token(CREDENTIAL_SECRET_PREFIX);
        let mut tx = self.write().await?;
        let Some(rotated) = tx.rotate_app_credential(app.id, found.id, &token_digest(&secret), until, at).await? else {
            return Err(Error::Conflict("App credential is revoked".into()));
        };
        tx.changed(Change::Credential(found.id));
        let previous_secret_expires_at = until.unwrap_or(at);
        tx.record(
            app.id,
            Event::new("app_credential.rotated", actor_of(caller)).subject("app_credential", found.id).details(json!({
                "app_id": rotated.client_id,
                "overlap_seconds": overlap,
                "previous_secret_expires_at": crate::time_format::format(&previous_secret_expires_at),
            })),
        );
        tx.commit().await?;
        Ok(RotatedCredential { app_id: rotated.client_id, app_secret: secret, previous_secret_expires_at })
    }

    /// Revokes the credential: its secrets, the previous one included, stop working on every
    /// node at once.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn revoke_app_credential(&self, caller: &Caller, slug: &str, app_id: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "apikey.revoke").await?;
        let found = self.managed_credential(&app, app_id).await?;
        let mut tx = self.write().await?;
        if !tx.revoke_app_credential(app.id, found.id, now()).await? {
            return Err(Error::Conflict("App credential is already revoked".into()));
        }
        tx.changed(Change::Credential(found.id));
        tx.record(
            app.id,
            Event::new("app_credential.revoked", actor_of(caller))
                .subject("app_credential", found.id)
                .details(json!({"app_id": found.client_id})),
        );
        tx.commit().await
    }

    /// The app's credential named in a management URL, as stored now.
    async fn managed_credential(&self, app: &App, app_id: &str) -> Result<AppCredential> {
        let found =
            if could_be_credential_id(app_id) { self.store.app_credential(app.id, app_id).await? } else { None };
        found.ok_or(Error::NotFound("App credential"))
    }

    /// Checks seed 002's `app_id` + `app_secret` for `app`: a live credential of this very
    /// app, with its secret (or, during a rotation's overlap, the previous one). Every
    /// failure (unknown, wrong, revoked, another app's) is the same `INVALID_APP_CREDENTIALS`
    /// after the same comparison. Served from a short cache that rotating or revoking clears
    /// on every node; a use is recorded at most once a minute.
    ///
    /// Failures count against the caller's IP (`rate_limit_credential_failures_per_ip`); an IP
    /// past the limit is refused with `429` before anything is compared.
    pub async fn check_app_credentials(&self, app: &App, app_id: &str, app_secret: &str) -> Result<()> {
        let meta = super::RequestMeta::current();
        self.credentials_blocked(app, &meta).await?;
        let checked = self.compare_app_credentials(app, app_id, app_secret).await;
        if let Err(Error::InvalidAppCredentials) = &checked {
            self.credential_failed(app, &meta).await?;
        }
        checked
    }

    async fn compare_app_credentials(&self, app: &App, app_id: &str, app_secret: &str) -> Result<()> {
        let presented = token_digest(app_secret);
        // Taken before the credential is read: a revocation meanwhile keeps the touched
        // entry out of the cache.
        let generation = self.caches.generation();
        let found = if could_be_credential_id(app_id) { self.cached_credential(app, app_id).await? } else { None };
        let at = now();
        let Some(credential) = found else {
            // The comparison a known credential costs, so unknown and wrong look alike.
            std::hint::black_box(constant_time_eq(presented.as_bytes(), token_digest(app_id).as_bytes()));
            return Err(Error::InvalidAppCredentials);
        };
        if !accepts(&credential, &presented, at) {
            return Err(Error::InvalidAppCredentials);
        }
        self.record_credential_use(app, &credential, generation, at).await
    }

    /// For refresh and logout: credentials, when given, must be valid for the app; an app
    /// that sets `refresh_requires_app_credentials` refuses calls without them (not the
    /// `platform` app, whose refresh and logout are the console's and the accounts' own).
    pub(super) async fn require_app_credentials(&self, app: &App, given: Option<&AppCredentials>) -> Result<()> {
        match given {
            Some(c) => self.check_app_credentials(app, &c.app_id, c.app_secret.expose_secret()).await,
            None if app.config.refresh_requires_app_credentials && app.slug != PLATFORM_SLUG => {
                Err(Error::InvalidAppCredentials)
            }
            None => Ok(()),
        }
    }

    /// The app's credential, from this node's cache when it was read lately (rotating or
    /// revoking it clears the cache on every node), else from the store.
    async fn cached_credential(&self, app: &App, client_id: &str) -> Result<Option<Arc<AppCredential>>> {
        if let Some(cached) = self.caches.credential(app.id, client_id) {
            return Ok(Some(cached));
        }
        let generation = self.caches.generation();
        let Some(stored) = self.store.app_credential(app.id, client_id).await? else {
            return Ok(None);
        };
        let stored = Arc::new(stored);
        self.caches.put_credential_if(generation, stored.clone());
        Ok(Some(stored))
    }

    /// Records that the credential was used at `at`, at most once a minute (a write saved on
    /// most uses), and keeps the cache in step, as sessions do.
    async fn record_credential_use(
        &self,
        app: &App,
        credential: &AppCredential,
        generation: Generation,
        at: DateTime<Utc>,
    ) -> Result<()> {
        if credential.last_used_at.is_some_and(|t| at - t < TimeDelta::seconds(RECORD_USE_EVERY_SECONDS)) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        tx.touch_app_credential(app.id, credential.id, at).await?;
        tx.commit().await?;
        let touched = AppCredential { last_used_at: Some(at), ..credential.clone() };
        self.caches.put_credential_if(generation, Arc::new(touched));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(at: DateTime<Utc>) -> AppCredential {
        AppCredential {
            id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            client_id: random_id(CREDENTIAL_ID_PREFIX),
            name: "backend".into(),
            secret_digest: token_digest("ras_current"),
            previous_digest: Some(token_digest("ras_previous")),
            previous_expires_at: Some(at + TimeDelta::seconds(10)),
            created_at: at,
            rotated_at: Some(at),
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn the_current_secret_and_the_previous_one_during_its_overlap() {
        let at = now();
        let c = credential(at);
        assert!(accepts(&c, &token_digest("ras_current"), at));
        assert!(accepts(&c, &token_digest("ras_previous"), at));
        assert!(!accepts(&c, &token_digest("ras_previous"), at + TimeDelta::seconds(10)), "the overlap is over");
        assert!(
            accepts(&c, &token_digest("ras_current"), at + TimeDelta::days(365)),
            "the current one does not expire"
        );
        assert!(!accepts(&c, &token_digest("ras_other"), at));
        assert!(!accepts(&c, "", at));
        let revoked = AppCredential { revoked_at: Some(at), ..c };
        assert!(!accepts(&revoked, &token_digest("ras_current"), at));
        assert!(!accepts(&revoked, &token_digest("ras_previous"), at));
    }
}
