//! The token endpoint: client authentication (`client_secret_basic`, `client_secret_post`,
//! `private_key_jwt`, none for public clients), the authorization code with PKCE, refresh
//! through the sessions' rotation and reuse detection, client credentials, and the tokens
//! (access and ID) a grant yields.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    at_hash, is_verifier, scopes_of, AssertionClaims, BasicCredentials, OAuthError, OAuthResult, OAuthTokens,
    TokenParams, ASSERTION_TYPE, CODE_PREFIX, ID_TOKEN_TYP, MAX_ASSERTION_SECONDS,
};
use crate::audit::Event;
use crate::crypto::{b64url, constant_time_eq, token_digest};
use crate::engine::audit::{user_actor, user_kind};
use crate::engine::cache::Change;
use crate::engine::issuer::OIDC_REFRESH_PREFIX;
use crate::engine::oidc_clients::could_be_client_id;
use crate::engine::{now, ActiveOrg, Engine, RequestMeta};
use crate::model::{App, ContactKind, OidcClient, OidcGrant, Status};
use crate::tokens::{ClientClaims, ACCESS_TOKEN_TYP};
use crate::{Error, Result};

impl Engine {
    /// The token endpoint: one grant, after the client's authentication.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_token(
        &self,
        slug: &str,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<OAuthTokens> {
        let app = self.active_app(slug).await?;
        let client = self.authenticate_client(&app, p, basic, meta).await?;
        let grant_type = p.grant_type.as_deref().ok_or_else(|| OAuthError::request("grant_type is required"))?;
        if !["authorization_code", "refresh_token", "client_credentials"].contains(&grant_type) {
            return Err(OAuthError::new(400, "unsupported_grant_type", "Unsupported grant_type"));
        }
        if !client.grant_types.iter().any(|g| g == grant_type) {
            return Err(OAuthError::new(400, "unauthorized_client", "This client may not use this grant type"));
        }
        match grant_type {
            "authorization_code" => self.exchange_code(&app, &client, p, meta).await,
            "refresh_token" => self.refresh_for_client(&app, &client, p).await,
            _ => self.client_credentials(&app, &client, p).await,
        }
    }

    /// Authenticates the client of a token, revocation or introspection request: by one
    /// method only. Every failure is `invalid_client` after the same work, counted against
    /// the caller's IP like a wrong app secret.
    pub(super) async fn authenticate_client(
        &self,
        app: &App,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<OidcClient> {
        let assertion = match (p.client_assertion_type.as_deref(), p.client_assertion.as_deref()) {
            (None, None) => None,
            (Some(ASSERTION_TYPE), Some(a)) => Some(a),
            _ => return Err(OAuthError::request("client_assertion_type must be jwt-bearer with a client_assertion")),
        };
        let methods =
            usize::from(basic.is_some()) + usize::from(p.client_secret.is_some()) + usize::from(assertion.is_some());
        if methods > 1 {
            return Err(OAuthError::request("Use exactly one client authentication method"));
        }
        let asserted_id = assertion
            .and_then(|a| jsonwebtoken::dangerous::insecure_decode::<Value>(a).ok())
            .and_then(|d| d.claims.get("sub").and_then(Value::as_str).map(str::to_owned));
        let client_id = match (basic.map(|b| b.client_id.clone()), p.client_id.clone(), asserted_id) {
            (Some(b), Some(f), _) if b != f => {
                return Err(OAuthError::request("client_id differs from the Basic credentials"))
            }
            (_, Some(f), Some(a)) if f != a => return Err(OAuthError::request("client_id differs from the assertion")),
            (Some(b), _, _) => b,
            (None, Some(f), _) => f,
            (None, None, Some(a)) => a,
            (None, None, None) => return Err(OAuthError::request("Client authentication is required")),
        };
        self.credentials_blocked(app, meta).await?;
        let client =
            if could_be_client_id(&client_id) { self.store.oidc_client(app.id, &client_id).await? } else { None };
        let secret = basic.map(|b| &b.client_secret).or(p.client_secret.as_ref());
        let ok = match (&client, secret, assertion) {
            (Some(c), Some(secret), None) => {
                let presented = token_digest(secret.expose_secret());
                c.confidential
                    && c.secret_digest.as_deref().is_some_and(|d| constant_time_eq(presented.as_bytes(), d.as_bytes()))
            }
            (Some(c), None, Some(a)) => c.confidential && self.check_assertion(app, c, a).await?,
            (Some(c), None, None) => !c.confidential,
            (None, secret, _) => {
                // The comparison a known client costs, so unknown and wrong look alike.
                let presented = token_digest(secret.map(|s| s.expose_secret()).unwrap_or_default());
                std::hint::black_box(constant_time_eq(presented.as_bytes(), token_digest(&client_id).as_bytes()));
                false
            }
            (Some(_), Some(_), Some(_)) => false,
        };
        match client {
            Some(c) if ok => Ok(c),
            _ => {
                self.credential_failed(app, meta).await?;
                Err(OAuthError {
                    basic_challenge: basic.is_some(),
                    ..OAuthError::new(401, "invalid_client", "Client authentication failed")
                })
            }
        }
    }

    /// A `private_key_jwt` assertion (RFC 7523 3): signed by one of the client's keys,
    /// `iss` = `sub` = the client, `aud` the token endpoint or the issuer, expiring within
    /// minutes, its `jti` never seen before.
    async fn check_assertion(&self, app: &App, client: &OidcClient, assertion: &str) -> Result<bool> {
        use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
        let Some(jwks) = &client.jwks else { return Ok(false) };
        let Ok(header) = decode_header(assertion) else { return Ok(false) };
        let allowed = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];
        if !allowed.contains(&header.alg) {
            return Ok(false);
        }
        let keys: Vec<jsonwebtoken::jwk::Jwk> = jwks
            .get("keys")
            .and_then(Value::as_array)
            .map(|ks| ks.iter().filter_map(|k| serde_json::from_value(k.clone()).ok()).collect())
            .unwrap_or_default();
        let jwk = match &header.kid {
            Some(kid) => keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
            None if keys.len() == 1 => keys.first(),
            None => None,
        };
        let Some(key) = jwk.and_then(|k| DecodingKey::from_jwk(k).ok()) else { return Ok(false) };
        let issuer = self.issuer(&app.slug);
        let mut v = Validation::new(header.alg);
        v.set_audience(&[format!("{issuer}/oauth2/token"), issuer.clone()]);
        v.set_issuer(&[client.client_id.as_str()]);
        v.sub = Some(client.client_id.clone());
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        v.leeway = 5;
        let Ok(data) = decode::<AssertionClaims>(assertion, &key, &v) else { return Ok(false) };
        let at = now();
        if data.claims.exp > at.timestamp() + MAX_ASSERTION_SECONDS {
            return Ok(false);
        }
        let Some(jti) = data.claims.jti.filter(|j| !j.is_empty() && j.len() <= 256) else { return Ok(false) };
        let until = DateTime::from_timestamp(data.claims.exp, 0).unwrap_or(at) + TimeDelta::seconds(5);
        let mut tx = self.write().await?;
        let fresh = tx.use_oidc_assertion(client.id, &jti, until, at).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// `authorization_code`: the code is spent whatever follows; presented again, the session
    /// its first exchange opened is revoked (RFC 6749 4.1.2).
    async fn exchange_code(
        &self,
        app: &App,
        client: &OidcClient,
        p: &TokenParams,
        meta: &RequestMeta,
    ) -> OAuthResult<OAuthTokens> {
        let code = p.code.as_deref().filter(|c| c.starts_with(CODE_PREFIX) && c.len() <= 100);
        let code = code.ok_or_else(|| OAuthError::grant("Invalid authorization code"))?;
        let digest = token_digest(code);
        let at = now();
        let mut tx = self.write().await?;
        let Some(found) = tx.consume_oidc_code(app.id, &digest, at).await? else {
            drop(tx);
            self.code_reused(app, &digest).await?;
            return Err(OAuthError::grant("Invalid authorization code"));
        };
        let bad = |why: &str| OAuthError::grant(why.to_owned());
        let checked = if found.client_id != client.id {
            Err(bad("The code was issued to another client"))
        } else if found.expires_at <= at {
            Err(bad("The code has expired"))
        } else if p.redirect_uri.as_deref() != Some(found.redirect_uri.as_str()) {
            Err(bad("redirect_uri differs from the authorization request's"))
        } else {
            match (&found.code_challenge, p.code_verifier.as_deref()) {
                (Some(challenge), Some(verifier)) if is_verifier(verifier) => {
                    let computed = b64url(&Sha256::digest(verifier.as_bytes()));
                    if constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                        Ok(())
                    } else {
                        Err(bad("PKCE verification failed"))
                    }
                }
                (Some(_), _) => Err(bad("PKCE verification failed")),
                // A verifier for a request that had no challenge: a downgrade (RFC 9700 2.1.1).
                (None, Some(_)) => Err(bad("code_verifier without a code_challenge")),
                (None, None) => Ok(()),
            }
        };
        if let Err(e) = checked {
            // The code stays spent.
            tx.commit().await?;
            return Err(e);
        }
        let user = self.store.user_by_id(app.id, found.user_id).await?;
        if !user.is_some_and(|u| u.status == Status::Active) {
            tx.commit().await?;
            return Err(bad("The end-user is no longer active"));
        }
        let (session, refresh) = self
            .open_session_with(&mut *tx, app, found.user_id, meta, at, found.amr.clone(), OIDC_REFRESH_PREFIX)
            .await?;
        let grant = OidcGrant {
            session_id: session.id,
            app_id: app.id,
            client_id: client.id,
            scopes: found.scopes.clone(),
            nonce: found.nonce.clone(),
            auth_time: found.auth_time,
            amr: found.amr.clone(),
            created_at: at,
        };
        tx.insert_oidc_grant(&grant).await?;
        tx.set_oidc_code_session(app.id, &digest, session.id).await?;
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new("oidc.code_exchanged", user_actor(&app.slug, found.user_id))
                .subject(kind, found.user_id)
                .session(session.id)
                .details(json!({"client_id": client.client_id, "scopes": found.scopes})),
        );
        tx.commit().await?;
        let refresh = client.grant_types.iter().any(|g| g == "refresh_token").then_some(refresh);
        self.client_tokens(app, client, &grant, refresh, found.nonce.as_deref()).await
    }

    /// A code presented again: the session its first exchange opened ends.
    async fn code_reused(&self, app: &App, digest: &str) -> Result<()> {
        let Some(code) = self.store.oidc_code(app.id, digest).await? else { return Ok(()) };
        let mut tx = self.write().await?;
        let mut revoked = false;
        if let Some(sid) = code.session_id {
            revoked = tx.revoke_session(app.id, sid, now()).await?;
            tx.changed(Change::Session(sid));
        }
        let kind = user_kind(&app.slug);
        let mut event = Event::new("oidc.code_reused", user_actor(&app.slug, code.user_id))
            .failed()
            .subject(kind, code.user_id)
            .details(json!({"session_revoked": revoked}));
        if let Some(sid) = code.session_id {
            event = event.session(sid);
        }
        tx.record(app.id, event);
        tx.commit().await?;
        tracing::warn!("authorization code presented again; its session revoked");
        Ok(())
    }

    /// `refresh_token`: only the client's own, rotated with the sessions' reuse detection.
    async fn refresh_for_client(&self, app: &App, client: &OidcClient, p: &TokenParams) -> OAuthResult<OAuthTokens> {
        let token = p.refresh_token.as_deref().filter(|t| t.starts_with(OIDC_REFRESH_PREFIX) && t.len() <= 100);
        let token = token.ok_or_else(|| OAuthError::grant("Invalid refresh token"))?;
        let found = self.find_refresh_token(app.id, token).await?;
        let grant = match found {
            Some(t) => self.store.oidc_grant(app.id, t.session_id).await?,
            None => None,
        };
        let Some(mut grant) = grant.filter(|g| g.client_id == client.id) else {
            return Err(OAuthError::grant("Invalid refresh token"));
        };
        if p.scope.is_some() {
            let asked = scopes_of(p.scope.as_deref());
            if asked.is_empty() || asked.iter().any(|s| !grant.scopes.contains(s)) {
                return Err(OAuthError::new(400, "invalid_scope", "A refresh cannot widen the grant's scopes"));
            }
            grant.scopes = asked;
        }
        let (_, _, successor) = self.rotate_refresh(app, token).await?;
        self.client_tokens(app, client, &grant, Some(successor), None).await
    }

    /// `client_credentials`: a token for the machine client itself (RFC 9068: `sub` is the
    /// client), no user, no session, no refresh token.
    async fn client_credentials(&self, app: &App, client: &OidcClient, p: &TokenParams) -> OAuthResult<OAuthTokens> {
        if !client.confidential {
            return Err(OAuthError::new(
                400,
                "unauthorized_client",
                "Only confidential clients use client_credentials",
            ));
        }
        let asked = scopes_of(p.scope.as_deref());
        let machine: Vec<String> =
            client.scopes.iter().filter(|s| !["openid", "offline_access"].contains(&s.as_str())).cloned().collect();
        if asked.iter().any(|s| !machine.contains(s)) {
            return Err(OAuthError::new(400, "invalid_scope", "A requested scope is not allowed for this client"));
        }
        let scope = if p.scope.is_some() { asked } else { machine }.join(" ");
        let ttl = app.config.access_token_ttl_seconds;
        let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
        let iat = Utc::now().timestamp();
        let claims = ClientClaims {
            iss: self.issuer(&app.slug),
            aud: app.slug.clone(),
            sub: client.client_id.clone(),
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            iat,
            exp: iat + ttl,
            jti: Uuid::new_v4().to_string(),
        };
        let access_token = signer.sign_typed(ACCESS_TOKEN_TYP, &claims)?;
        Ok(OAuthTokens {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
            refresh_token: None,
            id_token: None,
            scope,
        })
    }

    /// The access token (with the client and its scopes), and the ID token when `openid` was
    /// granted, of a session opened for a client.
    async fn client_tokens(
        &self,
        app: &App,
        client: &OidcClient,
        grant: &OidcGrant,
        refresh_token: Option<String>,
        nonce: Option<&str>,
    ) -> OAuthResult<OAuthTokens> {
        let live = self.cached_session(app, grant.session_id).await?;
        let ttl = app.config.access_token_ttl_seconds;
        let scope = grant.scopes.join(" ");
        let access_token = self
            .access_token(
                app,
                live.user_id,
                &live.role,
                live.org.as_ref(),
                grant.session_id,
                ttl,
                Some((&client.client_id, &scope)),
            )
            .await?;
        let id_token = if grant.scopes.iter().any(|s| s == "openid") {
            let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
            let iat = Utc::now().timestamp();
            let mut claims = self.user_claims(app, live.user_id, &grant.scopes, live.org.as_ref()).await?;
            claims.insert("iss".into(), json!(self.issuer(&app.slug)));
            claims.insert("aud".into(), json!(client.client_id));
            claims.insert("iat".into(), json!(iat));
            claims.insert("exp".into(), json!(iat + ttl));
            claims.insert("auth_time".into(), json!(grant.auth_time.timestamp()));
            claims.insert("sid".into(), json!(grant.session_id.to_string()));
            claims.insert("at_hash".into(), json!(at_hash(signer.alg(), &access_token)));
            if let Some(nonce) = nonce {
                claims.insert("nonce".into(), json!(nonce));
            }
            if !grant.amr.is_empty() {
                claims.insert("amr".into(), json!(grant.amr));
            }
            Some(signer.sign_typed(ID_TOKEN_TYP, &Value::Object(claims))?)
        } else {
            None
        };
        Ok(OAuthTokens { access_token, token_type: "Bearer", expires_in: ttl, refresh_token, id_token, scope })
    }

    /// `sub` and the claims the scopes release: `profile` (name, preferred_username,
    /// updated_at), `email`, `phone`, and `org` when organizations are on.
    pub(super) async fn user_claims(
        &self,
        app: &App,
        user_id: Uuid,
        scopes: &[String],
        org: Option<&ActiveOrg>,
    ) -> Result<Map<String, Value>> {
        let has = |s: &str| scopes.iter().any(|x| x == s);
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(user_id.to_string()));
        let user = self.store.user_by_id(app.id, user_id).await?.ok_or(Error::SessionRevoked)?;
        if has("profile") {
            claims.insert("name".into(), json!(user.display_name));
            claims.insert("preferred_username".into(), json!(user.username));
            claims.insert("updated_at".into(), json!(user.updated_at.timestamp()));
        }
        if has("email") || has("phone") {
            let contacts = self.store.contacts_of(app.id, user_id).await?;
            let pick = |kind: ContactKind| {
                contacts
                    .iter()
                    .filter(|c| c.kind == kind)
                    .max_by_key(|c| (c.is_primary, c.verified_at.is_some()))
                    .map(|c| (c.value.clone(), c.verified_at.is_some()))
            };
            if has("email") {
                if let Some((email, verified)) = pick(ContactKind::Email) {
                    claims.insert("email".into(), json!(email));
                    claims.insert("email_verified".into(), json!(verified));
                }
            }
            if has("phone") {
                if let Some((phone, verified)) = pick(ContactKind::Phone) {
                    claims.insert("phone_number".into(), json!(phone));
                    claims.insert("phone_number_verified".into(), json!(verified));
                }
            }
        }
        if app.config.organizations_enabled {
            if let Some(org) = org {
                claims.insert("org".into(), json!(org.id.to_string()));
                claims.insert("org_role".into(), json!(org.role));
            }
        }
        Ok(claims)
    }
}
