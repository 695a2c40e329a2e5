//! End-user authentication for any app (accounts are the `platform` app's end-users):
//! sign-up, sign-in, refresh rotation with reuse detection, logout, bearer verification.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::cache::{Change, LiveSession};
use super::{now, Engine, Principal, RequestMeta};
use crate::crypto::{random_token, token_digest};
use crate::model::{App, Contact, ContactKind, NewRefreshToken, RefreshSuccessor, Session, Status, User, UserProfile};
use crate::tokens::{self, Claims, TokenPair};
use crate::types::{normalized_password, DisplayName, Email, Username, PASSWORD_MAX_LENGTH};
use crate::{password, Error, Result};

const REFRESH_PREFIX: &str = "rt_";
/// A refresh records the session's use when the last record is at least this old.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// What a sign-up asks for (seed 001, step 3).
#[derive(Debug)]
pub struct SignupInput {
    pub email: String,
    pub username: String,
    pub password: SecretString,
    pub display_name: Option<String>,
    /// Only for accounts made from the command line: the operator vouches for the address.
    pub email_verified: bool,
    /// The request's bearer, for apps that set `signup_requires_pak`.
    pub api_key: Option<String>,
}

/// `GET /me` (seed 001, step 5).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: String,
    #[serde(with = "crate::time_format")]
    pub joined_at: DateTime<Utc>,
    #[serde(with = "crate::time_format")]
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
    #[serde(serialize_with = "crate::time_format::option::serialize")]
    pub email_verified_at: Option<DateTime<Utc>>,
}

fn invalid_refresh() -> Error {
    Error::Unauthenticated("Invalid refresh token")
}

impl Engine {
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn signup(&self, slug: &str, input: SignupInput, meta: &RequestMeta) -> Result<TokenPair> {
        self.signup_session(slug, input, meta).await.map(|(pair, _)| pair)
    }

    /// Sign-up that also answers with the principal, for the console's cookie session.
    pub async fn signup_session(
        &self,
        slug: &str,
        input: SignupInput,
        meta: &RequestMeta,
    ) -> Result<(TokenPair, Principal)> {
        let app = self.active_app(slug).await?;
        if !app.config.signup_enabled {
            return Err(Error::SignupDisabled);
        }
        if app.config.signup_requires_pak {
            self.require_signup_key(app.id, input.api_key.as_deref()).await?;
        }
        let email = Email::parse(&input.email)?;
        let username = Username::parse(&input.username)?;
        let display_name = match &input.display_name {
            Some(name) => DisplayName::parse(name, "display_name")?,
            None => DisplayName::parse(username.as_str(), "display_name")?,
        };
        let password = normalized_password(&input.password)
            .ok_or_else(|| Error::WeakPassword(format!("Password must be at most {PASSWORD_MAX_LENGTH} characters")))?;
        {
            use secrecy::ExposeSecret;
            crate::types::PasswordPolicy::from(&app.config).check(password.expose_secret())?;
        }
        let taken = || Error::UserExists("User with this username or email already exists".into());
        if self.store.user_by_username(app.id, username.as_str()).await?.is_some()
            || self.store.user_by_verified_contact(app.id, ContactKind::Email, &email.normalized()).await?.is_some()
        {
            return Err(taken());
        }
        let role =
            self.store.role_by_name(app.id, &app.config.signup_default_role).await?.ok_or_else(|| {
                Error::internal(anyhow::anyhow!("signup_default_role is missing in app {}", app.slug))
            })?;
        let hash = password::hash_for(app.id, password).await?;

        let at = now();
        let user = User {
            id: Uuid::new_v4(),
            app_id: app.id,
            username: username.as_str().to_owned(),
            display_name: display_name.as_str().to_owned(),
            password_hash: Some(hash),
            role_id: role.id,
            status: Status::Active,
            created_at: at,
            updated_at: at,
        };
        let contact = Contact {
            id: Uuid::new_v4(),
            app_id: app.id,
            user_id: user.id,
            kind: ContactKind::Email,
            value: email.as_str().to_owned(),
            is_primary: true,
            verified_at: input.email_verified.then_some(at),
            created_at: at,
        };
        let mut tx = self.write().await?;
        tx.insert_user(&user).await.map_err(|e| match e {
            Error::Conflict(_) => taken(),
            e => e,
        })?;
        tx.insert_contact(&contact).await.map_err(|e| match e {
            Error::Conflict(_) => taken(),
            e => e,
        })?;
        let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at).await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, "signed up");
        let pair = self.token_pair(&app, user.id, &role.name, session.id, refresh).await?;
        Ok((pair, Principal { app, user_id: user.id, session_id: session.id, role_id: role.id, role: role.name }))
    }

    /// Username or *verified* email + password. Every failure is the same
    /// `INVALID_CREDENTIALS`, after the same argon2 work.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn signin(
        &self,
        slug: &str,
        identifier: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<TokenPair> {
        self.signin_session(slug, identifier, password, meta).await.map(|(pair, _)| pair)
    }

    /// Sign-in that also answers with the principal, for the console's cookie session.
    pub async fn signin_session(
        &self,
        slug: &str,
        identifier: &str,
        password: SecretString,
        meta: &RequestMeta,
    ) -> Result<(TokenPair, Principal)> {
        // An unknown app is just another wrong credential; a store failure is not.
        let app = match self.app(slug).await {
            Err(Error::NotFound(_)) => Err(Error::InvalidCredentials),
            other => Ok(other?),
        };
        let user = match &app {
            Ok(app) => self.find_by_identifier(app.id, identifier).await?,
            Err(_) => None,
        };
        // An oversized password is checked as an empty one against the dummy hash: refused
        // in the same time, without feeding argon2 what the client chose.
        let password = normalized_password(&password);
        let eligible = password.is_some()
            && matches!(&app, Ok(a) if a.status == Status::Active && a.config.signin_enabled)
            && user.as_ref().is_some_and(|u| u.status == Status::Active);
        let stored = user.as_ref().filter(|_| eligible).and_then(|u| u.password_hash.clone());
        let password = password.unwrap_or_else(|| SecretString::from(String::new()));
        let key = app.as_ref().map_or(password::NEUTRAL, |a| a.id);
        let verified = password::verify_for(key, password, stored).await?;
        let (Ok(app), Some(user), true) = (app, user, verified) else {
            return Err(Error::InvalidCredentials);
        };
        let role = self.role_name(&app, user.role_id).await?;
        let at = now();
        let mut tx = self.write().await?;
        let (session, refresh) = self.open_session(&mut *tx, &app, user.id, meta, at).await?;
        tx.commit().await?;
        let pair = self.token_pair(&app, user.id, &role, session.id, refresh).await?;
        Ok((pair, Principal { app, user_id: user.id, session_id: session.id, role_id: user.role_id, role }))
    }

    /// The principal of a live session, for callers that keep the session id themselves
    /// (the console's cookie session).
    pub async fn resume_session(&self, slug: &str, session_id: Uuid) -> Result<Principal> {
        let app = self.active_app(slug).await.map_err(|e| match e {
            Error::NotFound(_) | Error::Forbidden(_) => Error::SessionRevoked,
            e => e,
        })?;
        let (session, user, role) = self.live_session(&app, session_id).await?;
        Ok(Principal { app, user_id: user.id, session_id: session.id, role_id: user.role_id, role })
    }

    /// Ends a session by id (sign-out of a cookie session).
    #[tracing::instrument(skip_all, fields(app = %principal.app.slug))]
    pub async fn end_session(&self, principal: &Principal) -> Result<()> {
        let mut tx = self.write().await?;
        tx.revoke_session(principal.app.id, principal.session_id, now()).await?;
        tx.changed(Change::Session(principal.session_id));
        tx.commit().await
    }

    async fn find_by_identifier(&self, app_id: Uuid, identifier: &str) -> Result<Option<User>> {
        let identifier = identifier.trim();
        if identifier.is_empty() || identifier.len() > 254 {
            return Ok(None);
        }
        if identifier.contains('@') {
            self.store.user_by_verified_contact(app_id, ContactKind::Email, &identifier.to_lowercase()).await
        } else {
            self.store.user_by_username(app_id, identifier).await
        }
    }

    /// Rotates a refresh token. Presenting a token already rotated revokes the whole session
    /// (seed 001, step 6), unless the app opted into a retry tolerance
    /// (`refresh_reuse_grace_seconds`) and the repeat comes within it: then it answers with
    /// the same successor.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn refresh(&self, slug: &str, refresh_token: &str) -> Result<TokenPair> {
        let app = self.active_app(slug).await?;
        let digest = token_digest(refresh_token);
        let at = now();
        // Derived from the presented token, never stored: a repeat derives the same one.
        let successor = self.successor_of(refresh_token);
        let rotation = RefreshSuccessor { digest: token_digest(&successor), created_at: at };
        // The common case is one statement: the token is current and its session live.
        if let Some(sid) = self.store.rotate_refresh_token(app.id, &digest, &rotation).await? {
            // Taken before `live` reads the session: a revocation meanwhile keeps the touched
            // entry out of the cache.
            let generation = self.caches.generation();
            let live = self.live(&app, sid).await?;
            // `last_used_at` is kept to the minute: a write saved on most refreshes.
            if at - live.last_used_at >= TimeDelta::seconds(TOUCH_EVERY_SECONDS) {
                let mut tx = self.write().await?;
                tx.touch_session(app.id, sid, at).await?;
                tx.commit().await?;
                self.caches.put_session_if(generation, sid, LiveSession { last_used_at: at, ..live.clone() });
            }
            return self.token_pair(&app, live.user_id, &live.role, sid, successor).await;
        }
        // Unknown, already rotated, or its session is over: find out which.
        let token = self.store.refresh_token(app.id, &digest).await?.ok_or_else(invalid_refresh)?;
        let sid = token.session_id;
        let live = self.live(&app, sid).await?;
        let grace = app.config.refresh_reuse_grace_seconds;
        match (token.rotated_at, token.successor_digest) {
            // Within the tolerance, and this token's successor is the one derived again (a
            // token rotated before successors were derived has another, and is reuse).
            (Some(rotated), Some(child))
                if grace > 0 && at - rotated <= TimeDelta::seconds(grace) && child == rotation.digest =>
            {
                self.token_pair(&app, live.user_id, &live.role, sid, successor).await
            }
            (Some(_), _) => {
                let mut tx = self.write().await?;
                tx.revoke_session(app.id, sid, at).await?;
                tx.changed(Change::Session(sid));
                tx.commit().await?;
                tracing::warn!(session = %sid, "refresh token reused after rotation; session revoked");
                Err(Error::RefreshTokenReused)
            }
            // Live session, token not rotated, yet the rotation did not happen: the session
            // ended between the two reads.
            (None, _) => Err(Error::SessionRevoked),
        }
    }

    /// The successor of a refresh token: an HMAC of the token under a subkey of the master
    /// key. Only its digest is stored, so neither the database nor the database and the
    /// master key together yield a live refresh token.
    fn successor_of(&self, refresh_token: &str) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.refresh_key, refresh_token.as_bytes());
        format!("{REFRESH_PREFIX}{}", crate::crypto::b64url(tag.as_ref()))
    }

    /// A live session's user and role: from this node's cache when it has checked the
    /// session lately (revocation, suspension, deletion and role changes clear it on every
    /// node), else from the store.
    async fn live(&self, app: &App, sid: Uuid) -> Result<LiveSession> {
        if let Some(live) = self.caches.session(sid) {
            if live.expires_at <= now() {
                return Err(Error::Unauthenticated("Session has expired"));
            }
            return Ok(live);
        }
        let generation = self.caches.generation();
        let (session, user, role) = self.live_session(app, sid).await?;
        let live = LiveSession {
            user_id: user.id,
            role_id: user.role_id,
            role,
            expires_at: session.expires_at,
            last_used_at: session.last_used_at,
        };
        self.caches.put_session_if(generation, sid, live.clone());
        Ok(live)
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are refused.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn logout(&self, slug: &str, refresh_token: &str) -> Result<()> {
        let app = self.app(slug).await?;
        let token =
            self.store.refresh_token(app.id, &token_digest(refresh_token)).await?.ok_or_else(invalid_refresh)?;
        let mut tx = self.write().await?;
        tx.revoke_session(app.id, token.session_id, now()).await?;
        tx.changed(Change::Session(token.session_id));
        tx.commit().await
    }

    /// Verifies a bearer access token for the app in the URL and checks that its session and
    /// user are still live. A token of another app fails its issuer, audience and keys.
    pub async fn authenticate(&self, slug: &str, bearer: &str) -> Result<Principal> {
        let app = self.app(slug).await.map_err(|e| match e {
            Error::NotFound(_) => Error::Unauthenticated("Invalid access token"),
            e => e,
        })?;
        // The same token (byte for byte) verified before for this app: only expiry can
        // have changed.
        let digest: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
        let claims = match self.caches.verified(&digest, app.id) {
            Some(claims) => {
                if tokens::expired(&claims) {
                    return Err(Error::TokenExpired);
                }
                claims
            }
            None => {
                let generation = self.caches.generation();
                let kid = tokens::kid_of(bearer)?;
                let (issuer, audience) = (self.issuer(&app.slug), app.slug.clone());
                let claims = self
                    .keys
                    .with_verifier(self.store.as_ref(), app.id, &kid, |v| tokens::verify(bearer, v, &issuer, &audience))
                    .await?;
                let claims = Arc::new(claims);
                self.caches.put_verified_if(generation, digest, app.id, claims.clone());
                claims
            }
        };
        let (sid, sub) = match (Uuid::parse_str(&claims.sid), Uuid::parse_str(&claims.sub)) {
            (Ok(sid), Ok(sub)) => (sid, sub),
            _ => return Err(Error::Unauthenticated("Invalid access token")),
        };
        if app.status != Status::Active {
            return Err(Error::Forbidden("App is suspended".into()));
        }
        // Revocation clears this cache on every node, so a revoked bearer stops at once.
        let live = self.live(&app, sid).await?;
        if live.user_id != sub {
            return Err(Error::Unauthenticated("Invalid access token"));
        }
        Ok(Principal { app, user_id: live.user_id, session_id: sid, role_id: live.role_id, role: live.role })
    }

    /// The caller's profile, in seed 001's shape. Cached per user: every change to a user
    /// publishes `Change::User`, which drops it on every node.
    pub async fn profile(&self, principal: &Principal) -> Result<Arc<Profile>> {
        if let Some(cached) = self.caches.profile(principal.user_id) {
            return Ok(cached);
        }
        let generation = self.caches.generation();
        let found = self.store.user_profile(principal.app.id, principal.user_id).await?;
        let UserProfile { user, role_name, email, email_verified_at } = found.ok_or(Error::NotFound("User"))?;
        let profile = Arc::new(Profile {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: role_name,
            joined_at: user.created_at,
            created_at: user.created_at,
            email,
            email_verified_at,
        });
        self.caches.put_profile_if(generation, principal.user_id, profile.clone());
        Ok(profile)
    }

    async fn role_name(&self, app: &App, role_id: Uuid) -> Result<String> {
        let role = self.store.role_by_id(app.id, role_id).await?;
        role.map(|r| r.name).ok_or_else(|| Error::internal(anyhow::anyhow!("user's role is missing")))
    }

    /// The session with its user and role, if the session is live and the user active.
    async fn live_session(&self, app: &App, session_id: Uuid) -> Result<(Session, User, String)> {
        let session = self.store.session(app.id, session_id).await?.ok_or(Error::SessionRevoked)?;
        if session.revoked_at.is_some() {
            return Err(Error::SessionRevoked);
        }
        if session.expires_at <= now() {
            return Err(Error::Unauthenticated("Session has expired"));
        }
        let found = self.store.user_profile(app.id, session.user_id).await?;
        let UserProfile { user, role_name, .. } = found.ok_or(Error::SessionRevoked)?;
        if user.status != Status::Active {
            return Err(Error::SessionRevoked);
        }
        Ok((session, user, role_name))
    }

    async fn open_session(
        &self,
        tx: &mut dyn crate::store::Tx,
        app: &App,
        user_id: Uuid,
        meta: &RequestMeta,
        at: DateTime<Utc>,
    ) -> Result<(Session, String)> {
        let session = Session {
            id: Uuid::new_v4(),
            app_id: app.id,
            user_id,
            created_at: at,
            last_used_at: at,
            expires_at: at + TimeDelta::seconds(app.config.refresh_token_ttl_seconds),
            revoked_at: None,
            ip: meta.ip.clone(),
            user_agent: meta.user_agent.as_ref().map(|ua| ua.chars().take(512).collect()),
        };
        tx.insert_session(&session).await?;
        let refresh = random_token(REFRESH_PREFIX);
        tx.insert_refresh_token(&NewRefreshToken {
            app_id: app.id,
            session_id: session.id,
            digest: token_digest(&refresh),
            created_at: at,
        })
        .await?;
        Ok((session, refresh))
    }

    /// The one place access tokens are minted.
    async fn token_pair(
        &self,
        app: &App,
        user_id: Uuid,
        role: &str,
        session_id: Uuid,
        refresh_token: String,
    ) -> Result<TokenPair> {
        let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
        let iat = Utc::now().timestamp();
        let ttl = app.config.access_token_ttl_seconds;
        let claims = Claims {
            iss: self.issuer(&app.slug),
            aud: app.slug.clone(),
            sub: user_id.to_string(),
            iat,
            exp: iat + ttl,
            jti: Uuid::new_v4().to_string(),
            sid: session_id.to_string(),
            role: role.to_owned(),
            org: None,
            org_role: None,
        };
        Ok(TokenPair {
            access_token: signer.sign(&claims)?,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: ttl,
        })
    }
}
