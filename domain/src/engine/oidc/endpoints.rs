//! What a client does with its tokens: userinfo, revocation (RFC 7009), introspection
//! (RFC 7662), and RP-initiated logout.

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{
    scopes_of, with_query, BasicCredentials, IdTokenHint, Logout, OAuthError, OAuthResult, TokenParams, UserInfo,
    ID_TOKEN_TYP, MAX_STATE,
};
use crate::audit::Event;
use crate::engine::audit::{user_actor, user_kind};
use crate::engine::cache::Change;
use crate::engine::issuer::OIDC_REFRESH_PREFIX;
use crate::engine::oidc_clients::could_be_client_id;
use crate::engine::{now, Engine, Principal, RequestMeta};
use crate::model::App;
use crate::tokens::{self, Claims, ClientClaims, ACCESS_TOKEN_TYP};
use crate::{Error, Result};

impl Engine {
    /// The userinfo endpoint: the claims an access token issued to a client with `openid`
    /// releases. Any other bearer (a plain Rampart token, a machine client's) is refused.
    pub async fn oidc_userinfo(&self, slug: &str, bearer: &str) -> Result<UserInfo> {
        let (principal, claims) = self.authenticate_any(slug, bearer).await?;
        let scopes = scopes_of(claims.scope.as_deref());
        let Some(client_id) = claims.client_id.clone().filter(|_| scopes.iter().any(|s| s == "openid")) else {
            return Err(Error::Forbidden("insufficient_scope".into()));
        };
        let claims = self.user_claims(&principal.app, principal.user_id, &scopes, principal.org.as_ref()).await?;
        Ok(UserInfo { claims: Value::Object(claims), client_id })
    }

    /// RFC 7009: revokes a refresh token or access token the client holds (the session
    /// behind either ends). Unknown tokens, and other clients', change nothing.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_revoke(
        &self,
        slug: &str,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<()> {
        let app = self.active_app(slug).await?;
        let client = self.authenticate_client(&app, p, basic, meta).await?;
        let token = p.token.as_deref().ok_or_else(|| OAuthError::request("token is required"))?;
        let sid = if token.starts_with(OIDC_REFRESH_PREFIX) {
            match self.find_refresh_token(app.id, token).await? {
                Some(t) => Some(t.session_id),
                None => None,
            }
        } else {
            self.verified_user_token(&app, token).await.and_then(|c| Uuid::parse_str(&c.sid).ok())
        };
        let Some(sid) = sid else { return Ok(()) };
        let Some(grant) = self.store.oidc_grant(app.id, sid).await?.filter(|g| g.client_id == client.id) else {
            return Ok(());
        };
        let Some(session) = self.store.session(app.id, grant.session_id).await? else { return Ok(()) };
        let mut tx = self.write().await?;
        if tx.revoke_session(app.id, sid, now()).await? {
            let kind = user_kind(&app.slug);
            tx.record(
                app.id,
                Event::new("oidc.token_revoked", user_actor(&app.slug, session.user_id))
                    .subject(kind, session.user_id)
                    .session(sid)
                    .details(json!({"client_id": client.client_id})),
            );
        }
        tx.changed(Change::Session(sid));
        tx.commit().await?;
        Ok(())
    }

    /// RFC 7662, for confidential clients: whether a token of the app is active, and what
    /// it says.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_introspect(
        &self,
        slug: &str,
        p: &TokenParams,
        basic: Option<&BasicCredentials>,
        meta: &RequestMeta,
    ) -> OAuthResult<Value> {
        let app = self.active_app(slug).await?;
        let client = self.authenticate_client(&app, p, basic, meta).await?;
        if !client.confidential {
            return Err(OAuthError::new(401, "invalid_client", "Only confidential clients may introspect tokens"));
        }
        let token = p.token.as_deref().ok_or_else(|| OAuthError::request("token is required"))?;
        let inactive = json!({"active": false});
        let issuer = self.issuer(&app.slug);
        if token.starts_with(OIDC_REFRESH_PREFIX) {
            let Some(t) = self.find_refresh_token(app.id, token).await? else { return Ok(inactive) };
            let Some(grant) = self.store.oidc_grant(app.id, t.session_id).await? else { return Ok(inactive) };
            let session = self.store.session(app.id, t.session_id).await?;
            let Some(session) = session.filter(|s| s.is_live(now()) && t.rotated_at.is_none()) else {
                return Ok(inactive);
            };
            let owner = self.store.oidc_client_by_id(app.id, grant.client_id).await?;
            return Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": owner.map(|c| c.client_id),
                "sub": session.user_id.to_string(),
                "scope": grant.scopes.join(" "),
                "exp": session.expires_at.timestamp(),
                "iat": t.created_at.timestamp(),
                "iss": issuer,
                "sid": session.id.to_string(),
            }));
        }
        if let Some(claims) = self.verified_user_token(&app, token).await {
            return Ok(active_bearer(&claims));
        }
        if let Some(claims) = self.verified_client_token(&app, token).await {
            return Ok(active_bearer(&claims));
        }
        Ok(inactive)
    }

    /// A live end-user access token of the app (its session live too), or `None`.
    async fn verified_user_token(&self, app: &App, token: &str) -> Option<Claims> {
        let (_, claims) = self.authenticate_any(&app.slug, token).await.ok()?;
        Some(Claims::clone(&claims))
    }

    /// A live machine-client access token of the app, or `None`.
    async fn verified_client_token(&self, app: &App, token: &str) -> Option<ClientClaims> {
        let kid = tokens::kid_of(token).ok()?;
        let claims: ClientClaims = self
            .keys
            .with_verifier(self.store.as_ref(), app.id, &kid, |v| tokens::verify_payload(token, v, ACCESS_TOKEN_TYP))
            .await
            .ok()?;
        let live =
            claims.exp >= Utc::now().timestamp() && claims.iss == self.issuer(&app.slug) && claims.aud == app.slug;
        let client = self.store.oidc_client(app.id, &claims.client_id).await.ok()??;
        (live && client.confidential).then_some(claims)
    }

    /// RP-initiated logout: `id_token_hint` (one of this app's ID tokens, expired or not)
    /// names the client and the session; the session it names and the browser's session of
    /// the same user end. Answers where to go: the registered `post_logout_redirect_uri`
    /// (with `state`), or nothing (Rampart's signed-out page).
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_logout(
        &self,
        slug: &str,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        client_id: Option<&str>,
        browser: Option<&Principal>,
    ) -> Result<std::result::Result<Logout, &'static str>> {
        let app = self.active_app(slug).await?;
        let Some(hint) = id_token_hint else { return Ok(Err("oauth-logout-hint")) };
        let Ok(kid) = tokens::kid_of(hint) else { return Ok(Err("oauth-logout-hint")) };
        let verified = self
            .keys
            .with_verifier(self.store.as_ref(), app.id, &kid, |v| {
                tokens::verify_payload::<IdTokenHint>(hint, v, ID_TOKEN_TYP)
            })
            .await;
        let Ok(claims) =
            verified.map_err(|_| ()).and_then(|c| if c.iss == self.issuer(&app.slug) { Ok(c) } else { Err(()) })
        else {
            return Ok(Err("oauth-logout-hint"));
        };
        if client_id.is_some_and(|id| id != claims.aud) {
            return Ok(Err("oauth-logout-hint"));
        }
        let client =
            if could_be_client_id(&claims.aud) { self.store.oidc_client(app.id, &claims.aud).await? } else { None };
        let Some(client) = client else { return Ok(Err("oauth-unknown-client")) };
        let redirect = match post_logout_redirect_uri {
            Some(uri) if client.post_logout_redirect_uris.iter().any(|u| u == uri) => {
                let mut params = Vec::new();
                if let Some(state) = state.filter(|s| !s.is_empty() && s.len() <= MAX_STATE) {
                    params.push(("state", state));
                }
                Some(if params.is_empty() { uri.to_owned() } else { with_query(uri, &params) })
            }
            Some(_) => return Ok(Err("oauth-bad-redirect-uri")),
            None => None,
        };
        let user_id = Uuid::parse_str(&claims.sub).ok();
        let mut ending: Vec<Uuid> = Vec::new();
        if let Some(sid) = claims.sid.as_deref().and_then(|s| Uuid::parse_str(s).ok()) {
            let grant = self.store.oidc_grant(app.id, sid).await?;
            if grant.is_some_and(|g| g.client_id == client.id) {
                ending.push(sid);
            }
        }
        let browser_ended = match browser.filter(|b| Some(b.user_id) == user_id) {
            Some(b) => {
                ending.push(b.session_id);
                true
            }
            None => false,
        };
        if let Some(user_id) = user_id {
            let mut tx = self.write().await?;
            for sid in ending {
                if tx.revoke_session(app.id, sid, now()).await? {
                    self.record_signed_out(&mut tx, &app, user_id, sid);
                }
                tx.changed(Change::Session(sid));
            }
            tx.commit().await?;
        }
        Ok(Ok(Logout { redirect, browser_ended }))
    }
}

/// What introspection tells of a live access token: `active`, and the claims RFC 7662
/// names that the token carries (a machine client's token has no `sid`).
fn active_bearer(claims: &impl Serialize) -> Value {
    const TOLD: [&str; 9] = ["client_id", "scope", "sub", "aud", "iss", "exp", "iat", "jti", "sid"];
    let all = serde_json::to_value(claims).unwrap_or_default();
    let mut answer = Map::new();
    answer.insert("active".into(), json!(true));
    answer.insert("token_type".into(), json!("Bearer"));
    for name in TOLD {
        if let Some(v) = all.get(name) {
            answer.insert(name.into(), v.clone());
        }
    }
    Value::Object(answer)
}
