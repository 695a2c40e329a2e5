//! An app's OIDC clients (the relying parties of the app as an OpenID Connect provider):
//! created with their secret shown once (confidential clients; public ones have none and use
//! PKCE), listed and read without it, changed, given a new secret, deleted. Managed with the
//! `oidc.*` permissions; every change is an audit event in its transaction.

use serde_json::json;
use shared::oidc::{GRANT_TYPES, SCOPES};
use shared::{CreatedOidcClient, NewOidcClient, OidcClientPatch, OidcClientView};
use uuid::Uuid;

use super::audit::actor_of;
use super::cache::Change;
use super::{now, Access, Caller, Engine};
use crate::audit::Event;
use crate::crypto::{random_id, random_token, token_digest};
use crate::model::{App, OidcClient};
use crate::types::DisplayName;
use crate::{Error, Result};

/// Every client's public identifier starts with this.
pub const OIDC_CLIENT_ID_PREFIX: &str = "oc_";
/// Every client secret starts with this, so a leaked one is recognisable.
pub const OIDC_CLIENT_SECRET_PREFIX: &str = "ocs_";
/// The most URIs of one kind a client registers.
const MAX_URIS: usize = 20;
/// The longest URI a client registers.
const MAX_URI_LENGTH: usize = 2048;
/// The most keys, and bytes of JSON, of a client's JWK set.
const MAX_JWKS_KEYS: usize = 10;
const MAX_JWKS_BYTES: usize = 16 * 1024;

/// How the client authenticates at the token endpoint (discovery's names).
pub(super) fn auth_methods(c: &OidcClient) -> Vec<String> {
    if !c.confidential {
        return vec!["none".into()];
    }
    let mut methods = vec!["client_secret_basic".to_owned(), "client_secret_post".to_owned()];
    if c.jwks.is_some() {
        methods.push("private_key_jwt".into());
    }
    methods
}

pub(super) fn view(c: &OidcClient) -> OidcClientView {
    OidcClientView {
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        client_type: if c.confidential { "confidential" } else { "public" }.into(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        grant_types: c.grant_types.clone(),
        scopes: c.scopes.clone(),
        first_party: c.first_party,
        jwks: c.jwks.clone(),
        token_endpoint_auth_methods: auth_methods(c),
        created_at: c.created_at,
        updated_at: c.updated_at,
        secret_rotated_at: c.secret_rotated_at,
    }
}

/// A redirect (or post-logout) URI a client may register: absolute, no fragment, no
/// credentials in it; `https`, or `http` to a loopback host (a developer's machine, a native
/// app's local listener), or a native app's private-use scheme (`com.example.app:/cb`).
/// Kept exactly as written: the authorization endpoint compares strings, never normalised.
pub fn parse_redirect_uri(raw: &str, field: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid(format!("{field}: {raw:?} {why}"));
    if raw.is_empty() || raw.len() > MAX_URI_LENGTH || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("is not a URI"));
    }
    let url = url::Url::parse(raw).map_err(|_| bad("is not an absolute URI"))?;
    if url.fragment().is_some() || raw.contains('#') {
        return Err(bad("must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    // A web redirect URI's host becomes a source of the hosted pages' `form-action`: only
    // what a real host is spelled with (the URL parser lets `*`, `;` and `,` through).
    let plain_host = |h: &str| h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    if matches!(url.scheme(), "https" | "http") && !url.host_str().is_some_and(plain_host) {
        return Err(bad("has a host that is not a domain name or an IP address"));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if !loopback {
                return Err(bad("must be https (http only to localhost, 127.0.0.1 or [::1])"));
            }
        }
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ftp" | "ws" | "wss" => {
            return Err(bad("has a scheme that cannot receive a redirect"))
        }
        // A private-use scheme: reverse domain notation (RFC 8252, 7.1).
        scheme if scheme.contains('.') => {}
        _ => return Err(bad("must be https, http to a loopback host, or a reverse-domain private-use scheme")),
    }
    Ok(raw.to_owned())
}

fn parse_uris(raw: &[String], field: &str) -> Result<Vec<String>> {
    if raw.len() > MAX_URIS {
        return Err(Error::invalid(format!("{field}: at most {MAX_URIS} URIs")));
    }
    let mut uris = Vec::new();
    for uri in raw {
        let uri = parse_redirect_uri(uri, field)?;
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    Ok(uris)
}

/// Known values only, each once, none missing.
fn parse_list(raw: &[String], known: &[&str], field: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in raw {
        if !known.contains(&v.as_str()) {
            return Err(Error::invalid(format!("{field}: unknown value {v:?} (known: {})", known.join(", "))));
        }
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(format!("{field} must not be empty")));
    }
    Ok(out)
}

/// A client's public keys for `private_key_jwt`: a JWK set of public keys the token endpoint
/// can verify (RSA, EC P-256, Ed25519), nothing private in it.
pub(super) fn parse_jwks(raw: &serde_json::Value) -> Result<serde_json::Value> {
    let bad = |why: &str| Error::invalid(format!("jwks: {why}"));
    if raw.to_string().len() > MAX_JWKS_BYTES {
        return Err(bad("too large"));
    }
    let keys = raw.get("keys").and_then(|k| k.as_array()).ok_or_else(|| bad("must be {\"keys\": [...]}"))?;
    if keys.is_empty() || keys.len() > MAX_JWKS_KEYS {
        return Err(bad(&format!("must hold 1 to {MAX_JWKS_KEYS} keys")));
    }
    for key in keys {
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|m| key.get(m).is_some()) {
            return Err(bad("holds private key material: register public keys only"));
        }
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(key.clone()).map_err(|_| bad("a key is not a usable JWK"))?;
        jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|_| bad("a key is not a usable public key"))?;
        if matches!(jwk.algorithm, jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)) {
            return Err(bad("symmetric keys are not accepted"));
        }
    }
    Ok(raw.clone())
}

/// The rules a client as a whole must keep.
fn check(c: &OidcClient) -> Result<()> {
    let has = |g: &str| c.grant_types.iter().any(|x| x == g);
    if has("authorization_code") && c.redirect_uris.is_empty() {
        return Err(Error::invalid("redirect_uris: the authorization_code grant needs at least one"));
    }
    if has("refresh_token") && !has("authorization_code") {
        return Err(Error::invalid("grant_types: refresh_token comes only with authorization_code"));
    }
    if !c.confidential && has("client_credentials") {
        return Err(Error::invalid("grant_types: a public client cannot use client_credentials"));
    }
    if !c.confidential && c.jwks.is_some() {
        return Err(Error::invalid("jwks: only confidential clients authenticate with keys"));
    }
    Ok(())
}

impl Engine {
    /// Registers a client. A confidential client's secret is in the answer and nowhere else,
    /// ever again; a public client has none.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn create_oidc_client(
        &self,
        caller: &Caller,
        slug: &str,
        input: NewOidcClient,
    ) -> Result<CreatedOidcClient> {
        let Access { app, .. } = self.authorize(caller, slug, "oidc.create").await?;
        let name = DisplayName::parse(&input.name, "name")?;
        let confidential = match input.client_type.as_deref() {
            None | Some("confidential") => true,
            Some("public") => false,
            Some(_) => return Err(Error::invalid("client_type must be confidential or public")),
        };
        let default_grants = ["authorization_code", "refresh_token"].map(String::from);
        let grant_types =
            parse_list(input.grant_types.as_deref().unwrap_or(&default_grants), GRANT_TYPES, "grant_types")?;
        let default_scopes = ["openid", "profile", "email"].map(String::from);
        let scopes = parse_list(input.scopes.as_deref().unwrap_or(&default_scopes), SCOPES, "scopes")?;
        let secret = confidential.then(|| random_token(OIDC_CLIENT_SECRET_PREFIX));
        let at = now();
        let client = OidcClient {
            id: Uuid::new_v4(),
            app_id: app.id,
            client_id: random_id(OIDC_CLIENT_ID_PREFIX),
            name: name.as_str().to_owned(),
            confidential,
            secret_digest: secret.as_deref().map(token_digest),
            redirect_uris: parse_uris(&input.redirect_uris, "redirect_uris")?,
            post_logout_redirect_uris: parse_uris(&input.post_logout_redirect_uris, "post_logout_redirect_uris")?,
            grant_types,
            scopes,
            first_party: input.first_party,
            jwks: input.jwks.as_ref().map(parse_jwks).transpose()?,
            created_at: at,
            updated_at: at,
            secret_rotated_at: None,
        };
        check(&client)?;
        let mut tx = self.write().await?;
        tx.insert_oidc_client(&client).await?;
        tx.record(
            app.id,
            Event::new("oidc_client.created", actor_of(caller)).subject("oidc_client", client.id).details(json!({
                "client_id": client.client_id,
                "name": client.name,
                "client_type": if confidential { "confidential" } else { "public" },
                "redirect_uris": client.redirect_uris,
                "grant_types": client.grant_types,
                "scopes": client.scopes,
                "first_party": client.first_party,
            })),
        );
        tx.commit().await?;
        Ok(CreatedOidcClient { client: view(&client), client_secret: secret })
    }

    /// The app's clients, newest first; never a secret.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn list_oidc_clients(&self, caller: &Caller, slug: &str) -> Result<Vec<OidcClientView>> {
        let Access { app, .. } = self.authorize(caller, slug, "oidc.read").await?;
        Ok(self.store.oidc_clients(app.id).await?.iter().map(view).collect())
    }

    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn get_oidc_client(&self, caller: &Caller, slug: &str, client_id: &str) -> Result<OidcClientView> {
        let Access { app, .. } = self.authorize(caller, slug, "oidc.read").await?;
        Ok(view(&self.managed_oidc_client(&app, client_id).await?))
    }

    /// Changes the client's name, URIs, grant types, scopes, first-party flag or keys. Codes
    /// already issued keep the redirect URI they were issued for; sessions keep their scopes.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn update_oidc_client(
        &self,
        caller: &Caller,
        slug: &str,
        client_id: &str,
        patch: OidcClientPatch,
    ) -> Result<OidcClientView> {
        let Access { app, .. } = self.authorize(caller, slug, "oidc.update").await?;
        let mut client = self.managed_oidc_client(&app, client_id).await?;
        let mut changed = Vec::new();
        if let Some(name) = &patch.name {
            client.name = DisplayName::parse(name, "name")?.as_str().to_owned();
            changed.push("name");
        }
        if let Some(uris) = &patch.redirect_uris {
            client.redirect_uris = parse_uris(uris, "redirect_uris")?;
            changed.push("redirect_uris");
        }
        if let Some(uris) = &patch.post_logout_redirect_uris {
            client.post_logout_redirect_uris = parse_uris(uris, "post_logout_redirect_uris")?;
            changed.push("post_logout_redirect_uris");
        }
        if let Some(grants) = &patch.grant_types {
            client.grant_types = parse_list(grants, GRANT_TYPES, "grant_types")?;
            changed.push("grant_types");
        }
        if let Some(scopes) = &patch.scopes {
            client.scopes = parse_list(scopes, SCOPES, "scopes")?;
            changed.push("scopes");
        }
        if let Some(first_party) = patch.first_party {
            client.first_party = first_party;
            changed.push("first_party");
        }
        if let Some(jwks) = &patch.jwks {
            client.jwks = jwks.as_ref().map(parse_jwks).transpose()?;
            changed.push("jwks");
        }
        check(&client)?;
        client.updated_at = now();
        let mut tx = self.write().await?;
        if !tx.update_oidc_client(&client).await? {
            return Err(Error::NotFound("OIDC client"));
        }
        tx.record(
            app.id,
            Event::new("oidc_client.updated", actor_of(caller))
                .subject("oidc_client", client.id)
                .details(json!({"client_id": client.client_id, "changed": changed})),
        );
        tx.commit().await?;
        Ok(view(&client))
    }

    /// Gives a confidential client a new secret (shown once); the old one stops at once.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn rotate_oidc_client_secret(
        &self,
        caller: &Caller,
        slug: &str,
        client_id: &str,
    ) -> Result<CreatedOidcClient> {
        let Access { app, .. } = self.authorize(caller, slug, "oidc.update").await?;
        let mut client = self.managed_oidc_client(&app, client_id).await?;
        if !client.confidential {
            return Err(Error::Conflict("A public client has no secret".into()));
        }
        let secret = random_token(OIDC_CLIENT_SECRET_PREFIX);
        let at = now();
        client.secret_digest = Some(token_digest(&secret));
        client.secret_rotated_at = Some(at);
        client.updated_at = at;
        let mut tx = self.write().await?;
        if !tx.update_oidc_client(&client).await? {
            return Err(Error::NotFound("OIDC client"));
        }
        tx.record(
            app.id,
            Event::new("oidc_client.secret_rotated", actor_of(caller))
                .subject("oidc_client", client.id)
                .details(json!({"client_id": client.client_id})),
        );
        tx.commit().await?;
        Ok(CreatedOidcClient { client: view(&client), client_secret: Some(secret) })
    }

    /// Deletes the client: its consents and codes go, and every session opened for it ends
    /// at once on every node (its refresh tokens with them).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn delete_oidc_client(&self, caller: &Caller, slug: &str, client_id: &str) -> Result<()> {
        let Access { app, .. } = self.authorize(caller, slug, "oidc.delete").await?;
        let client = self.managed_oidc_client(&app, client_id).await?;
        let mut tx = self.write().await?;
        let ended = tx.revoke_oidc_client_sessions(app.id, client.id, now()).await?;
        for sid in &ended {
            tx.changed(Change::Session(*sid));
        }
        if !tx.delete_oidc_client(app.id, client.id).await? {
            return Err(Error::NotFound("OIDC client"));
        }
        tx.record(
            app.id,
            Event::new("oidc_client.deleted", actor_of(caller))
                .subject("oidc_client", client.id)
                .details(json!({"client_id": client.client_id, "sessions_revoked": ended.len()})),
        );
        tx.commit().await
    }

    /// The app's client named in a URL, as stored now.
    async fn managed_oidc_client(&self, app: &App, client_id: &str) -> Result<OidcClient> {
        let found = if could_be_client_id(client_id) { self.store.oidc_client(app.id, client_id).await? } else { None };
        found.ok_or(Error::NotFound("OIDC client"))
    }

    /// Whether a page of `origin` (a browser's `Origin` header) may read what the app's OIDC
    /// endpoints answer `client_id`, or, without one (a preflight's question), some client
    /// of the app: as Keycloak's "web origins", a client's origins are those of its
    /// registered redirect URIs, compared exactly (scheme, host and port; no wildcard).
    pub async fn oidc_origin_allowed(&self, slug: &str, client_id: Option<&str>, origin: &str) -> Result<bool> {
        let app = self.active_app(slug).await?;
        let clients = match client_id {
            Some(id) if could_be_client_id(id) => self.store.oidc_client(app.id, id).await?.into_iter().collect(),
            Some(_) => Vec::new(),
            None => self.store.oidc_clients(app.id).await?,
        };
        Ok(clients.iter().flat_map(|c| &c.redirect_uris).any(|uri| web_origin(uri).as_deref() == Some(origin)))
    }
}

impl Engine {
    /// The origin a browser is sent back to when a hosted page's form ends an authorization
    /// request of the app (`client_id`, `redirect_uri`), or `None` unless the client has that
    /// redirect URI registered: the page's `form-action` must allow the redirect chain's end.
    pub async fn oidc_return_origin(&self, slug: &str, client_id: &str, redirect_uri: &str) -> Result<Option<String>> {
        let app = self.active_app(slug).await?;
        if !could_be_client_id(client_id) {
            return Ok(None);
        }
        let client = self.store.oidc_client(app.id, client_id).await?;
        let registered = client.is_some_and(|c| c.redirect_uris.iter().any(|uri| uri == redirect_uri));
        Ok(registered.then(|| web_origin(redirect_uri)).flatten())
    }
}

/// The origin of a redirect URI as a browser's `Origin` header spells it (`https://host`,
/// the port only when not the scheme's default); `None` for a native app's private-use
/// scheme, which no web page has.
pub fn web_origin(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

/// Anything else is not looked up.
pub(super) fn could_be_client_id(raw: &str) -> bool {
    raw.starts_with(OIDC_CLIENT_ID_PREFIX) && raw.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_origins_are_scheme_host_and_port() {
        assert_eq!(web_origin("https://rp.example/cb?x=1").as_deref(), Some("https://rp.example"));
        assert_eq!(web_origin("https://rp.example:443/cb").as_deref(), Some("https://rp.example"));
        assert_eq!(web_origin("https://rp.example:8443/cb").as_deref(), Some("https://rp.example:8443"));
        assert_eq!(web_origin("http://localhost:5173/").as_deref(), Some("http://localhost:5173"));
        assert_eq!(web_origin("https://RP.Example/cb").as_deref(), Some("https://rp.example"));
        assert_eq!(web_origin("http://[::1]:8080/cb").as_deref(), Some("http://[::1]:8080"));
        assert_eq!(web_origin("com.example.app:/cb"), None);
        assert_eq!(web_origin("not a uri"), None);
    }

    #[test]
    fn redirect_uris_are_kept_as_written_and_only_safe_ones() {
        for ok in [
            "https://rp.example/cb",
            "https://rp.example/cb?x=1",
            "http://localhost:8080/cb",
            "http://127.0.0.1:9/cb",
            "http://[::1]/cb",
            "com.example.app:/oauth",
        ] {
            assert_eq!(parse_redirect_uri(ok, "r").unwrap(), ok, "{ok}");
        }
        for bad in [
            "",
            "/relative",
            "http://rp.example/cb",
            "https://rp.example/cb#frag",
            "https://user:pw@rp.example/cb",
            "https://user@rp.example/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "custom:/x",
            "https://rp.example/c b",
            // Hosts that would widen the hosted pages' form-action.
            "https://*/cb",
            "https://*.example/cb",
            "https://a;script-src/cb",
            "https://a,b/cb",
        ] {
            assert!(parse_redirect_uri(bad, "r").is_err(), "{bad}");
        }
    }

    #[test]
    fn private_keys_and_symmetric_keys_are_refused() {
        assert!(parse_jwks(&json!({"keys": [{"kty": "oct", "k": "AAAA"}]})).is_err());
        assert!(parse_jwks(&json!({"keys": []})).is_err());
        assert!(parse_jwks(&json!([])).is_err());
        let ed = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert!(parse_jwks(&json!({"keys": [ed.clone()]})).is_ok());
        let mut private = ed;
        private["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
        assert!(parse_jwks(&json!({"keys": [private]})).is_err());
    }
}
