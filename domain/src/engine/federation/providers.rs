//! An app's external providers: the presets' built-in endpoints, and managing providers
//! (`/api/v1/apps/{slug}/oauth-providers`, `config.read` / `config.update`). A client secret
//! is sealed with the master key, bound to its provider's id, and never shown again.

use serde_json::json;
use shared::{ProviderInput, ProviderPatch, ProviderView};
use uuid::Uuid;

use super::super::audit::actor_of;
use super::super::{now, Access, Caller, Engine};
use super::http::usable_url;
use crate::audit::Event;
use crate::model::{App, OAuthProvider};
use crate::store::StoreError;
use crate::{Error, Result};

/// What a kind of provider brings with it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Preset {
    pub kind: &'static str,
    pub display_name: &'static str,
    /// OpenID Connect through the issuer's discovery document; else plain OAuth 2.0 and a
    /// user-info call.
    pub oidc: bool,
    /// The issuer, when the kind has one (`None`: it must be given).
    pub issuer: Option<&'static str>,
    /// Whether another issuer than the preset's may be given (self-hosted GitLab).
    pub issuer_may_differ: bool,
    pub authorization_url: Option<&'static str>,
    pub token_url: Option<&'static str>,
    pub userinfo_url: Option<&'static str>,
    pub scopes: &'static [&'static str],
    /// The provider posts its answer to the callback (`response_mode=form_post`).
    pub form_post: bool,
}

const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];

pub(crate) fn preset(kind: &str) -> Option<Preset> {
    let oidc = |kind, display_name, issuer, issuer_may_differ| Preset {
        kind,
        display_name,
        oidc: true,
        issuer,
        issuer_may_differ,
        authorization_url: None,
        token_url: None,
        userinfo_url: None,
        scopes: OIDC_SCOPES,
        form_post: false,
    };
    Some(match kind {
        "oidc" => oidc("oidc", "OpenID Connect", None, true),
        "google" => oidc("google", "Google", Some("https://accounts.google.com"), false),
        // Microsoft's issuer names the tenant (`https://login.microsoftonline.com/{tenant}/v2.0`):
        // the multi-tenant `common` endpoint's tokens carry each user's own tenant as issuer.
        "microsoft" => oidc("microsoft", "Microsoft", None, true),
        "gitlab" => oidc("gitlab", "GitLab", Some("https://gitlab.com"), true),
        "apple" => Preset {
            scopes: &["openid", "email", "name"],
            form_post: true,
            ..oidc("apple", "Apple", Some("https://appleid.apple.com"), false)
        },
        "github" => Preset {
            kind: "github",
            display_name: "GitHub",
            oidc: false,
            issuer: None,
            issuer_may_differ: false,
            authorization_url: Some("https://github.com/login/oauth/authorize"),
            token_url: Some("https://github.com/login/oauth/access_token"),
            userinfo_url: Some("https://api.github.com/user"),
            scopes: &["read:user", "user:email"],
            form_post: false,
        },
        "discord" => Preset {
            kind: "discord",
            display_name: "Discord",
            oidc: false,
            issuer: None,
            issuer_may_differ: false,
            authorization_url: Some("https://discord.com/oauth2/authorize"),
            token_url: Some("https://discord.com/api/oauth2/token"),
            userinfo_url: Some("https://discord.com/api/users/@me"),
            scopes: &["identify", "email"],
            form_post: false,
        },
        _ => return None,
    })
}

/// A provider's name in URLs: 1 to 40 of `a-z 0-9 -`, starting with a letter or digit.
fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim().to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(name)
    } else {
        Err(Error::invalid("name must be 1 to 40 lowercase letters, digits or '-'"))
    }
}

/// An absolute URL Rampart may call, without a fragment or credentials.
fn parse_url(raw: &str, field: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim()).map_err(|_| Error::invalid(format!("{field} must be an absolute URL")))?;
    usable_url(&url).map_err(|why| Error::invalid(format!("{field} {why}")))?;
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(format!("{field} must have no fragment and no credentials")));
    }
    // Kept as given: an issuer is compared character for character with the provider's.
    Ok(raw.trim().to_owned())
}

fn optional_url(raw: Option<&str>, field: &str) -> Result<Option<String>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        Some(raw) => parse_url(raw, field).map(Some),
        None => Ok(None),
    }
}

fn parse_scopes(scopes: &[String]) -> Result<String> {
    if scopes.len() > 20 {
        return Err(Error::invalid("at most 20 scopes"));
    }
    for scope in scopes {
        if scope.is_empty()
            || scope.len() > 100
            || !scope.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(Error::invalid("scopes must be printable ASCII words without spaces"));
        }
    }
    Ok(scopes.join(" "))
}

fn parse_text(raw: &str, field: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{field} must be 1 to {max} characters")));
    }
    Ok(text.to_owned())
}

fn seal_context(id: Uuid) -> Vec<u8> {
    format!("oauth provider client secret {id}").into_bytes()
}

impl Engine {
    /// The redirect URI of the app's provider `name`: what is registered at the provider.
    pub fn oauth_callback_url(&self, slug: &str, name: &str) -> String {
        format!("{}/{slug}/v1/auth/oauth/{name}/callback", self.public_url())
    }

    /// Where a sign-in through the app's provider `name` starts.
    pub fn oauth_authorize_url(&self, slug: &str, name: &str) -> String {
        format!("{}/{slug}/v1/auth/oauth/{name}/authorize", self.public_url())
    }

    pub(crate) fn provider_view(&self, app: &App, p: &OAuthProvider) -> ProviderView {
        ProviderView {
            id: p.id.to_string(),
            name: p.name.clone(),
            kind: p.kind.clone(),
            display_name: p.display_name.clone(),
            client_id: p.client_id.clone(),
            has_client_secret: p.client_secret_sealed.is_some(),
            issuer: p.issuer.clone(),
            authorization_url: p.authorization_url.clone(),
            token_url: p.token_url.clone(),
            userinfo_url: p.userinfo_url.clone(),
            scopes: p.scopes.split_whitespace().map(str::to_owned).collect(),
            enabled: p.enabled,
            auto_link: p.auto_link,
            callback_url: self.oauth_callback_url(&app.slug, &p.name),
            authorize_url: self.oauth_authorize_url(&app.slug, &p.name),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }

    /// The provider's client secret, opened.
    pub(crate) fn provider_secret(&self, p: &OAuthProvider) -> Result<Option<String>> {
        let Some(sealed) = &p.client_secret_sealed else { return Ok(None) };
        let opened = self.config.master_key.open(sealed, &seal_context(p.id))?;
        String::from_utf8(opened).map(Some).map_err(|_| Error::internal(anyhow::anyhow!("client secret is not UTF-8")))
    }

    fn seal_secret(&self, id: Uuid, secret: Option<&str>) -> Result<Option<Vec<u8>>> {
        match secret.map(str::trim).filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() > 4096 => Err(Error::invalid("client_secret is too long")),
            Some(secret) => Ok(Some(self.config.master_key.seal(secret.as_bytes(), &seal_context(id))?)),
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_oauth_providers(&self, caller: &Caller, slug: &str) -> Result<Vec<ProviderView>> {
        let Access { app, .. } = self.authorize(caller, slug, "config.read").await?;
        Ok(self.store.oauth_providers(app.id).await?.iter().map(|p| self.provider_view(&app, p)).collect())
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn get_oauth_provider(&self, caller: &Caller, slug: &str, name: &str) -> Result<ProviderView> {
        let Access { app, .. } = self.authorize(caller, slug, "config.read").await?;
        let p = self.managed_provider(&app, name).await?;
        Ok(self.provider_view(&app, &p))
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn create_oauth_provider(
        &self,
        caller: &Caller,
        slug: &str,
        input: ProviderInput,
    ) -> Result<ProviderView> {
        let Access { app, .. } = self.authorize(caller, slug, "config.update").await?;
        let kind = input.kind.trim().to_ascii_lowercase();
        let preset = preset(&kind).ok_or_else(|| {
            Error::invalid(format!("kind must be one of {}", shared::federation::PROVIDER_KINDS.join(", ")))
        })?;
        let name = parse_name(input.name.as_deref().unwrap_or(preset.kind))?;
        let issuer = match (optional_url(input.issuer.as_deref(), "issuer")?, preset.issuer) {
            (Some(given), Some(fixed)) if !preset.issuer_may_differ && given != fixed => {
                return Err(Error::invalid(format!("the issuer of {} is {fixed}", preset.display_name)));
            }
            (Some(given), _) if preset.oidc => Some(given),
            (Some(_), _) => return Err(Error::invalid(format!("{} takes no issuer", preset.display_name))),
            (None, Some(fixed)) => Some(fixed.to_owned()),
            (None, None) if preset.oidc => {
                return Err(Error::invalid(
                    "issuer is required (the provider's issuer URL, as its discovery document says it)",
                ));
            }
            (None, None) => None,
        };
        let endpoints = (
            optional_url(input.authorization_url.as_deref(), "authorization_url")?,
            optional_url(input.token_url.as_deref(), "token_url")?,
            optional_url(input.userinfo_url.as_deref(), "userinfo_url")?,
        );
        if preset.oidc && (endpoints.0.is_some() || endpoints.1.is_some() || endpoints.2.is_some()) {
            return Err(Error::invalid("OpenID providers take their endpoints from their discovery document"));
        }
        let scopes = match &input.scopes {
            Some(scopes) => parse_scopes(scopes)?,
            None => preset.scopes.join(" "),
        };
        let display_name =
            parse_text(input.display_name.as_deref().unwrap_or(preset.display_name), "display_name", 60)?;
        let client_id = parse_text(&input.client_id, "client_id", 512)?;
        let id = Uuid::new_v4();
        let at = now();
        let provider = OAuthProvider {
            id,
            app_id: app.id,
            name,
            kind: preset.kind.to_owned(),
            display_name,
            client_id,
            client_secret_sealed: self.seal_secret(id, input.client_secret.as_deref())?,
            issuer,
            authorization_url: endpoints.0,
            token_url: endpoints.1,
            userinfo_url: endpoints.2,
            scopes,
            enabled: input.enabled.unwrap_or(true),
            auto_link: input.auto_link.unwrap_or(false),
            created_at: at,
            updated_at: at,
        };
        let mut tx = self.write().await?;
        tx.insert_oauth_provider(&provider).await.map_err(|e| match e {
            StoreError::Unique { .. } => {
                Error::Conflict(format!("The app already has a provider named {}", provider.name))
            }
            e => e.into(),
        })?;
        tx.record(
            app.id,
            Event::new("oauth_provider.created", actor_of(caller)).subject("oauth_provider", provider.id).details(
                json!({
                    "name": provider.name,
                    "kind": provider.kind,
                    "issuer": provider.issuer,
                    "client_id": provider.client_id,
                    "has_client_secret": provider.client_secret_sealed.is_some(),
                    "enabled": provider.enabled,
                    "auto_link": provider.auto_link,
                }),
            ),
        );
        tx.commit().await?;
        Ok(self.provider_view(&app, &provider))
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn update_oauth_provider(
        &self,
        caller: &Caller,
        slug: &str,
        name: &str,
        patch: ProviderPatch,
    ) -> Result<ProviderView> {
        let Access { app, .. } = self.authorize(caller, slug, "config.update").await?;
        let before = self.managed_provider(&app, name).await?;
        let preset = preset(&before.kind).ok_or_else(|| Error::internal(anyhow::anyhow!("unknown provider kind")))?;
        let mut p = before.clone();
        let mut changed = Vec::new();
        if let Some(display_name) = &patch.display_name {
            p.display_name = parse_text(display_name, "display_name", 60)?;
        }
        if let Some(client_id) = &patch.client_id {
            p.client_id = parse_text(client_id, "client_id", 512)?;
        }
        if let Some(secret) = &patch.client_secret {
            p.client_secret_sealed = self.seal_secret(p.id, Some(secret))?;
            changed.push("client_secret");
        }
        let endpoint_given =
            patch.authorization_url.is_some() || patch.token_url.is_some() || patch.userinfo_url.is_some();
        if endpoint_given && preset.oidc {
            return Err(Error::invalid("OpenID providers take their endpoints from their discovery document"));
        }
        if let Some(url) = &patch.authorization_url {
            p.authorization_url = optional_url(Some(url), "authorization_url")?;
        }
        if let Some(url) = &patch.token_url {
            p.token_url = optional_url(Some(url), "token_url")?;
        }
        if let Some(url) = &patch.userinfo_url {
            p.userinfo_url = optional_url(Some(url), "userinfo_url")?;
        }
        if let Some(scopes) = &patch.scopes {
            p.scopes = parse_scopes(scopes)?;
        }
        p.enabled = patch.enabled.unwrap_or(p.enabled);
        p.auto_link = patch.auto_link.unwrap_or(p.auto_link);
        for (field, differs) in [
            ("display_name", p.display_name != before.display_name),
            ("client_id", p.client_id != before.client_id),
            ("authorization_url", p.authorization_url != before.authorization_url),
            ("token_url", p.token_url != before.token_url),
            ("userinfo_url", p.userinfo_url != before.userinfo_url),
            ("scopes", p.scopes != before.scopes),
            ("enabled", p.enabled != before.enabled),
            ("auto_link", p.auto_link != before.auto_link),
        ] {
            if differs {
                changed.push(field);
            }
        }
        p.updated_at = now();
        let mut tx = self.write().await?;
        if !tx.update_oauth_provider(&p).await? {
            return Err(Error::NotFound("Provider"));
        }
        tx.record(
            app.id,
            Event::new("oauth_provider.updated", actor_of(caller)).subject("oauth_provider", p.id).details(json!({
                "name": p.name,
                "changed": changed,
                "enabled": p.enabled,
                "auto_link": p.auto_link,
            })),
        );
        tx.commit().await?;
        Ok(self.provider_view(&app, &p))
    }

    /// Removes the provider and every identity linked through it: from now on nobody signs
    /// in through it, on any node.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn delete_oauth_provider(&self, caller: &Caller, slug: &str, name: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "config.update").await?;
        let p = self.managed_provider(&app, name).await?;
        let mut tx = self.write().await?;
        if !tx.delete_oauth_provider(app.id, p.id).await? {
            return Err(Error::NotFound("Provider"));
        }
        tx.record(
            app.id,
            Event::new("oauth_provider.deleted", actor_of(caller))
                .subject("oauth_provider", p.id)
                .details(json!({"name": p.name, "kind": p.kind})),
        );
        tx.commit().await
    }

    async fn managed_provider(&self, app: &App, name: &str) -> Result<OAuthProvider> {
        let name = parse_name(name).map_err(|_| Error::NotFound("Provider"))?;
        self.store.oauth_provider(app.id, &name).await?.ok_or(Error::NotFound("Provider"))
    }

    /// The app's enabled provider `name`, as stored now (a disabled or removed one stops at
    /// once on every node).
    pub(crate) async fn live_provider(&self, app: &App, name: &str) -> Result<OAuthProvider> {
        let name = parse_name(name).map_err(|_| Error::NotFound("Provider"))?;
        let found = self.store.oauth_provider(app.id, &name).await?;
        found.filter(|p| p.enabled).ok_or(Error::NotFound("Provider"))
    }

    /// The app's enabled providers, for `auth/methods` and the sign-in pages.
    pub async fn enabled_providers(&self, slug: &str) -> Result<Vec<ProviderView>> {
        let app = self.app(slug).await?;
        let providers = self.store.oauth_providers(app.id).await?;
        Ok(providers.iter().filter(|p| p.enabled).map(|p| self.provider_view(&app, p)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        assert_eq!(parse_name(" GitHub ").unwrap(), "github");
        assert!(parse_name("").is_err());
        assert!(parse_name("-x").is_err());
        assert!(parse_name("a/b").is_err());
        assert!(parse_name(&"a".repeat(41)).is_err());
        assert_eq!(parse_url(" https://id.example.com/ ", "issuer").unwrap(), "https://id.example.com/");
        assert!(parse_url("http://id.example.com", "issuer").is_err());
        assert!(parse_url("http://127.0.0.1:9000/realm", "issuer").is_ok());
        assert!(parse_url("https://u:p@id.example.com", "issuer").is_err());
        assert!(parse_url("https://id.example.com/#x", "issuer").is_err());
        assert!(parse_scopes(&["openid".into(), "a b".into()]).is_err());
        assert_eq!(parse_scopes(&["openid".into(), "email".into()]).unwrap(), "openid email");
    }

    #[test]
    fn every_kind_has_a_preset() {
        for kind in shared::federation::PROVIDER_KINDS {
            let p = preset(kind).unwrap();
            assert_eq!(p.kind, kind);
            assert!(p.oidc || (p.authorization_url.is_some() && p.token_url.is_some() && p.userinfo_url.is_some()));
        }
        assert!(preset("myspace").is_none());
    }
}
