//! The authorization endpoint's decisions: sign in first, ask consent, or redirect with a
//! code or an error.

use chrono::TimeDelta;
use serde_json::json;

use super::{
    is_s256_challenge, parse_prompt, scopes_of, with_query, AuthorizeParams, AuthorizeStep, ConsentPrompt, Decision,
    AUTH_AFTER_CONTEXT, CODE_PREFIX, CODE_TTL_SECONDS, MAX_NONCE, MAX_STATE,
};
use crate::audit::Event;
use crate::crypto::{random_token, token_digest};
use crate::engine::audit::{user_actor, user_kind};
use crate::engine::oidc_clients::could_be_client_id;
use crate::engine::{now, Engine, Principal};
use crate::model::OidcCode;
use crate::Result;

impl Engine {
    /// Decides an authorization request: `browser` is the hosted pages' signed-in end-user,
    /// `decision` the consent page's answer when this is its post.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn oidc_authorize(
        &self,
        slug: &str,
        p: &AuthorizeParams,
        browser: Option<&Principal>,
        decision: Decision,
    ) -> Result<AuthorizeStep> {
        let app = self.active_app(slug).await?;
        let client = match p.client_id.as_deref() {
            Some(id) if could_be_client_id(id) => self.store.oidc_client(app.id, id).await?,
            _ => None,
        };
        let Some(client) = client else {
            return Ok(AuthorizeStep::Refused("oauth-unknown-client"));
        };
        // Exact string comparison (RFC 9700 2.1): no normalisation of any kind.
        let Some(redirect_uri) = p.redirect_uri.as_deref().filter(|r| client.redirect_uris.iter().any(|u| u == r))
        else {
            return Ok(AuthorizeStep::Refused("oauth-bad-redirect-uri"));
        };
        let issuer = self.issuer(&app.slug);
        let state = p.state.as_deref().filter(|s| !s.is_empty());
        let back = |error: &str, description: &str| {
            let mut params = vec![("error", error), ("error_description", description)];
            if let Some(state) = state {
                params.push(("state", state));
            }
            params.push(("iss", issuer.as_str()));
            Ok(AuthorizeStep::Redirect(with_query(redirect_uri, &params)))
        };
        if p.request.is_some() {
            return back("request_not_supported", "Request objects are not supported");
        }
        if p.request_uri.is_some() {
            return back("request_uri_not_supported", "request_uri is not supported");
        }
        if p.response_mode.as_deref().is_some_and(|m| m != "query") {
            return back("invalid_request", "Only response_mode=query is supported");
        }
        if p.response_type.as_deref() != Some("code") {
            return back("unsupported_response_type", "Only response_type=code is supported");
        }
        if !client.grant_types.iter().any(|g| g == "authorization_code") {
            return back("unauthorized_client", "This client may not use the authorization code grant");
        }
        if state.is_some_and(|s| s.len() > MAX_STATE) || p.nonce.as_deref().is_some_and(|n| n.len() > MAX_NONCE) {
            return back("invalid_request", "state or nonce is too long");
        }
        let scopes = scopes_of(p.scope.as_deref());
        if scopes.is_empty() {
            return back("invalid_scope", "scope is required");
        }
        if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
            return back("invalid_scope", &format!("Scope {s} is not allowed for this client"));
        }
        let challenge = match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
            (None, None) if !client.confidential => {
                return back("invalid_request", "PKCE with S256 is required for public clients")
            }
            (None, None) => None,
            (None, Some(_)) => return back("invalid_request", "code_challenge_method without code_challenge"),
            // Without a method, the challenge would be `plain` (RFC 7636 4.3): refused.
            (Some(_), None | Some("plain")) => {
                return back("invalid_request", "code_challenge_method must be S256 (plain is refused)")
            }
            (Some(c), Some("S256")) if is_s256_challenge(c) => Some(c.to_owned()),
            (Some(_), Some("S256")) => return back("invalid_request", "code_challenge is not an S256 challenge"),
            (Some(_), Some(_)) => return back("invalid_request", "code_challenge_method must be S256"),
        };
        let prompt = match parse_prompt(p.prompt.as_deref()) {
            Ok(prompt) => prompt,
            Err(why) => return back("invalid_request", why),
        };
        let max_age = match p.max_age.as_deref().map(str::parse::<u32>) {
            None => None,
            Some(Ok(age)) => Some(i64::from(age)),
            Some(Err(_)) => return back("invalid_request", "max_age must be a non-negative integer"),
        };
        let login_hint = p.login_hint.clone().filter(|h| !h.is_empty() && h.len() <= 254);
        // The browser's session: when its sign-in happened, and how.
        let signed_in = match browser {
            Some(principal) => self
                .store
                .session(app.id, principal.session_id)
                .await?
                .filter(|s| s.is_live(now()))
                .map(|s| (principal, s.created_at, s.amr)),
            None => None,
        };
        let Some((principal, auth_time, amr)) = signed_in else {
            if prompt.none {
                return back("login_required", "The end-user is not signed in");
            }
            return Ok(AuthorizeStep::SignIn { login_hint, again: false });
        };
        let at = now();
        // `auth_after` is sealed by this server when it sent the browser to sign in again, and
        // holds for ten minutes: a browser cannot claim a sign-in fresher than it is.
        let fresh = p
            .auth_after
            .as_deref()
            .and_then(|a| self.open_from_browser(a, AUTH_AFTER_CONTEXT))
            .and_then(|b| String::from_utf8(b).ok()?.parse::<i64>().ok())
            .filter(|asked| (0..=600).contains(&(at.timestamp() - asked)))
            .is_some_and(|asked| auth_time.timestamp() >= asked);
        let too_old = max_age.is_some_and(|age| (at - auth_time).num_seconds() > age);
        if (prompt.login || too_old) && !fresh {
            if prompt.none {
                return back("login_required", "The end-user must sign in again");
            }
            return Ok(AuthorizeStep::SignIn { login_hint, again: true });
        }
        let mut consent_to_record = false;
        if !client.first_party {
            match decision {
                Decision::Deny => return back("access_denied", "The end-user denied the request"),
                Decision::Allow => consent_to_record = true,
                Decision::Ask => {
                    let given = self.store.oidc_consent(client.id, principal.user_id).await?;
                    let covered = given.is_some_and(|g| scopes.iter().all(|s| g.contains(s)));
                    if prompt.consent || !covered {
                        if prompt.none {
                            return back("consent_required", "The end-user has not consented to this client");
                        }
                        return Ok(AuthorizeStep::Consent(ConsentPrompt {
                            client_name: client.name.clone(),
                            client_id: client.client_id.clone(),
                            scopes,
                        }));
                    }
                }
            }
        }
        let code = random_token(CODE_PREFIX);
        let record = OidcCode {
            digest: token_digest(&code),
            app_id: app.id,
            client_id: client.id,
            user_id: principal.user_id,
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: challenge,
            nonce: p.nonce.clone().filter(|n| !n.is_empty()),
            scopes: scopes.clone(),
            auth_time,
            amr,
            created_at: at,
            expires_at: at + TimeDelta::seconds(CODE_TTL_SECONDS),
            used_at: None,
            session_id: None,
        };
        let kind = user_kind(&app.slug);
        let mut tx = self.write().await?;
        if consent_to_record {
            tx.grant_oidc_consent(app.id, client.id, principal.user_id, &scopes, at).await?;
            tx.record(
                app.id,
                Event::new("oidc.consent_granted", user_actor(&app.slug, principal.user_id))
                    .subject(kind, principal.user_id)
                    .details(json!({"client_id": client.client_id, "scopes": scopes})),
            );
        }
        tx.insert_oidc_code(&record).await?;
        tx.record(
            app.id,
            Event::new("oidc.authorized", user_actor(&app.slug, principal.user_id))
                .subject(kind, principal.user_id)
                .session(principal.session_id)
                .details(json!({"client_id": client.client_id, "scopes": scopes})),
        );
        tx.commit().await?;
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", issuer.as_str()));
        Ok(AuthorizeStep::Redirect(with_query(redirect_uri, &params)))
    }
}
