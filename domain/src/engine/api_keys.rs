//! Platform API keys (PAKs, seed 001): scoped secrets an app's backend uses instead of an
//! account. Shown once, stored as a digest, revocable.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use uuid::Uuid;

use serde_json::json;

use super::audit::actor_of;
use super::caller::API_KEY_PREFIX;
use super::{now, Access, Caller, Engine};
use crate::audit::Event;
use crate::crypto::{random_token, token_digest};
use crate::model::ApiKey;
use crate::permissions::MANAGEMENT;
use crate::types::DisplayName;
use crate::{Error, Result};

/// Scopes that let a key sign users up when the app sets `signup_requires_pak`; seed 001
/// spells it `heimdall.signup.create`.
pub const SIGNUP_SCOPES: &[&str] = &["rampart.signup.create", "heimdall.signup.create"];

#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<i64>,
}

/// A key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time_format::option::serialize")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time_format::option::serialize")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time_format::option::serialize")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        ApiKeyView {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

impl Engine {
    /// Creates a key; the secret is in the answer and nowhere else, ever again. An account
    /// can only give a key scopes its own role holds (signing users up needs `user.create`).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn create_api_key(&self, caller: &Caller, slug: &str, input: NewApiKey) -> Result<(ApiKeyView, String)> {
        let access = self.authorize(caller, slug, "apikey.create").await?;
        let app = &access.app;
        let name = DisplayName::parse(&input.name, "name")?;
        if input.scopes.is_empty() {
            return Err(Error::invalid("scopes must name at least one permission"));
        }
        let mut scopes: Vec<String> = Vec::new();
        for scope in &input.scopes {
            let needs = if SIGNUP_SCOPES.contains(&scope.as_str()) {
                "user.create"
            } else if MANAGEMENT.contains(&scope.as_str()) {
                scope.as_str()
            } else {
                return Err(Error::invalid(format!("unknown scope '{scope}'")));
            };
            let held = access.holds(caller, needs);
            if !held {
                return Err(Error::Forbidden(format!("You cannot grant the scope {scope}")));
            }
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        let expires_at = match input.expires_in_days {
            Some(days) if (1..=3650).contains(&days) => Some(now() + TimeDelta::days(days)),
            Some(_) => return Err(Error::invalid("expiresInDays must be between 1 and 3650")),
            None => None,
        };
        let secret = random_token(API_KEY_PREFIX);
        let key = ApiKey {
            id: Uuid::new_v4(),
            app_id: app.id,
            name: name.as_str().to_owned(),
            prefix: secret.chars().take(API_KEY_PREFIX.len() + 8).collect(),
            digest: token_digest(&secret),
            scopes,
            created_by: match caller {
                Caller::Account(a) => Some(a.user_id),
                Caller::ApiKey { .. } => None,
            },
            created_at: now(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.write().await?;
        tx.insert_api_key(&key).await?;
        tx.record(
            app.id,
            Event::new("api_key.created", actor_of(caller)).subject("api_key", key.id).details(json!({
                "name": key.name,
                "prefix": key.prefix,
                "scopes": key.scopes,
                "expires_at": key.expires_at.map(|t| crate::time_format::format(&t)),
            })),
        );
        tx.commit().await?;
        Ok((key.into(), secret))
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_api_keys(&self, caller: &Caller, slug: &str) -> Result<Vec<ApiKeyView>> {
        let Access { app, .. } = self.authorize(caller, slug, "apikey.read").await?;
        Ok(self.store.api_keys(app.id).await?.into_iter().map(Into::into).collect())
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn revoke_api_key(&self, caller: &Caller, slug: &str, id: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "apikey.revoke").await?;
        let id = Uuid::parse_str(id).map_err(|_| Error::NotFound("API key"))?;
        let mut tx = self.write().await?;
        if !tx.revoke_api_key(app.id, id, now()).await? {
            let exists = self.store.api_keys(app.id).await?.iter().any(|k| k.id == id);
            return Err(if exists {
                Error::Conflict("API key is already revoked".into())
            } else {
                Error::NotFound("API key")
            });
        }
        tx.record(app.id, Event::new("api_key.revoked", actor_of(caller)).subject("api_key", id));
        tx.commit().await
    }

    /// For `signup_requires_pak`: the bearer must be a live key of this app with a sign-up
    /// scope.
    pub(super) async fn require_signup_key(&self, app_id: Uuid, bearer: Option<&str>) -> Result<()> {
        let bearer = bearer
            .filter(|b| super::is_api_key(b))
            .ok_or(Error::Unauthenticated("This app signs users up through its backend: an API key is required"))?;
        let (key, app) = self.api_key(bearer).await?;
        if app.id != app_id {
            return Err(Error::Unauthenticated("Invalid API key"));
        }
        if !key.scopes.iter().any(|s| SIGNUP_SCOPES.contains(&s.as_str())) {
            return Err(Error::Forbidden("API key lacks the scope rampart.signup.create".into()));
        }
        Ok(())
    }
}
