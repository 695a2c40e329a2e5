//! The console's view of an app's OIDC clients (the relying parties of the app as an OpenID
//! Connect provider): list, create (a confidential client's secret shown once), change the
//! redirect and post-logout URIs, rotate the secret, delete.

// A server function's arguments are its form's fields: the create form has eight.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcClientInfo {
    pub client_id: String,
    pub name: String,
    pub client_type: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub first_party: bool,
    pub auth_methods: Vec<String>,
    pub created_at: String,
}

/// A client secret just made: shown once, then gone.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct FreshClientSecret {
    pub app: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for FreshClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreshClientSecret").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcClientsView {
    pub clients: Vec<OidcClientInfo>,
    /// The secret made by a form posted without JavaScript, whose page shows it this once.
    pub fresh: Option<FreshClientSecret>,
}

#[cfg(feature = "ssr")]
fn flash(principal: &domain::engine::Principal, app: &str) -> super::flash::Flash {
    super::flash::Flash::new("rampart_flash_oidc_client", "console oidc client", principal, app)
}

#[cfg(feature = "ssr")]
fn info(c: shared::OidcClientView) -> OidcClientInfo {
    OidcClientInfo {
        client_id: c.client_id,
        name: c.name,
        client_type: c.client_type,
        redirect_uris: c.redirect_uris,
        post_logout_redirect_uris: c.post_logout_redirect_uris,
        grant_types: c.grant_types,
        scopes: c.scopes,
        first_party: c.first_party,
        auth_methods: c.token_endpoint_auth_methods,
        created_at: domain::time_format::format(&c.created_at),
    }
}

/// One URI a line (or separated by spaces).
#[cfg(feature = "ssr")]
fn lines(raw: &str) -> Vec<String> {
    raw.split_whitespace().map(str::to_owned).collect()
}

#[cfg(feature = "ssr")]
fn hand_over(waiting: &super::flash::Flash, fresh: FreshClientSecret) -> Result<FreshClientSecret, ConsoleError> {
    let sealed = serde_json::to_string(&fresh).map_err(domain::Error::internal)?;
    waiting.hold(&sealed)?;
    Ok(fresh)
}

#[server(prefix = "/console/_fn", endpoint = "list_oidc_clients")]
pub async fn list_oidc_clients(slug: String) -> Result<OidcClientsView, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let clients = guard::state()?.engine.list_oidc_clients(&caller, &slug).await?;
    let fresh = waiting.take()?.and_then(|opened| serde_json::from_str(&opened).ok());
    Ok(OidcClientsView { clients: clients.into_iter().map(info).collect(), fresh })
}

/// `grant_types` and `scopes` are space-separated (blank: the defaults); `first_party` is a
/// checkbox (`on`).
#[server(prefix = "/console/_fn", endpoint = "create_oidc_client")]
pub async fn create_oidc_client(
    slug: String,
    name: String,
    client_type: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
    #[server(default)] grant_types: String,
    #[server(default)] scopes: String,
    #[server(default)] first_party: String,
) -> Result<FreshClientSecret, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let listed = |raw: &str| Some(lines(raw)).filter(|l| !l.is_empty());
    let input = shared::NewOidcClient {
        name,
        client_type: Some(client_type),
        redirect_uris: lines(&redirect_uris),
        post_logout_redirect_uris: lines(&post_logout_redirect_uris),
        grant_types: listed(&grant_types),
        scopes: listed(&scopes),
        first_party: first_party == "on",
        jwks: None,
    };
    let created = guard::state()?.engine.create_oidc_client(&caller, &slug, input).await?;
    let fresh =
        FreshClientSecret { app: slug, client_id: created.client.client_id, client_secret: created.client_secret };
    hand_over(&waiting, fresh)
}

#[server(prefix = "/console/_fn", endpoint = "update_oidc_client_uris")]
pub async fn update_oidc_client_uris(
    slug: String,
    client_id: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let patch = shared::OidcClientPatch {
        redirect_uris: Some(lines(&redirect_uris)),
        post_logout_redirect_uris: Some(lines(&post_logout_redirect_uris)),
        ..Default::default()
    };
    guard::state()?.engine.update_oidc_client(&caller, &slug, &client_id, patch).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "rotate_oidc_client_secret")]
pub async fn rotate_oidc_client_secret(slug: String, client_id: String) -> Result<FreshClientSecret, ConsoleError> {
    use super::session::guard;
    let principal = guard::require().await?;
    let waiting = flash(&principal, &slug);
    let caller = domain::engine::Caller::Account(principal);
    let rotated = guard::state()?.engine.rotate_oidc_client_secret(&caller, &slug, &client_id).await?;
    let fresh =
        FreshClientSecret { app: slug, client_id: rotated.client.client_id, client_secret: rotated.client_secret };
    hand_over(&waiting, fresh)
}

#[server(prefix = "/console/_fn", endpoint = "delete_oidc_client")]
pub async fn delete_oidc_client(slug: String, client_id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.delete_oidc_client(&caller, &slug, &client_id).await?;
    Ok(())
}
