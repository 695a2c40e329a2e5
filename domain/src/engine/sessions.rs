//! Sessions seen from a request: verifying a bearer (`authenticate`), resuming a session
//! by id (the console's cookie), ending one, and the caller's profile. Every check of a
//! session goes through `cached_session`, which the caches serve and every revocation clears
//! on every node; `stored_session` is the store read behind it.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::cache::{Change, Generation, LiveSession};
use super::views::Profile;
use super::{now, ActiveOrg, Engine, Principal};
use crate::crypto::token_digest;
use crate::model::{App, Session, Status, User, UserProfile};
use crate::tokens;
use crate::{Error, Result};

/// A session's use is recorded when the last record is at least this old.
const RECORD_USE_EVERY_SECONDS: i64 = 60;

impl Engine {
    /// The principal of a live session, for callers that keep the session id themselves
    /// (the console's cookie session): through the session cache, as bearers are.
    pub async fn resume_session(&self, slug: &str, session_id: Uuid) -> Result<Principal> {
        let app = self.active_app(slug).await.map_err(|e| match e {
            Error::NotFound(_) | Error::Forbidden(_) => Error::SessionRevoked,
            e => e,
        })?;
        let live = self.cached_session(&app, session_id).await?;
        Ok(Principal { app, user_id: live.user_id, session_id, role_id: live.role_id, role: live.role, org: live.org })
    }

    /// Ends a session by id (sign-out of a cookie session).
    #[tracing::instrument(skip_all, fields(app = %principal.app.slug))]
    pub async fn end_session(&self, principal: &Principal) -> Result<()> {
        let mut tx = self.write().await?;
        let ended = tx.revoke_session(principal.app.id, principal.session_id, now()).await?;
        tx.changed(Change::Session(principal.session_id));
        if ended {
            self.record_signed_out(&mut tx, &principal.app, principal.user_id, principal.session_id);
        }
        tx.commit().await
    }

    /// A live session's user and role: from this node's cache when it has checked the
    /// session lately (revocation, suspension, deletion and role changes clear it on every
    /// node), else from the store.
    pub(super) async fn cached_session(&self, app: &App, sid: Uuid) -> Result<LiveSession> {
        if let Some(live) = self.caches.session(sid) {
            if live.expires_at <= now() {
                return Err(Error::Unauthenticated("Session has expired"));
            }
            return Ok(live);
        }
        let generation = self.caches.generation();
        let (session, user, role) = self.stored_session(app, sid).await?;
        let org = self.store.session_org(app.id, sid).await?.map(|o| ActiveOrg {
            id: o.org_id,
            slug: o.slug,
            role: o.role_name,
            role_id: o.role_id,
        });
        let live = LiveSession {
            user_id: user.id,
            role_id: user.role_id,
            role,
            expires_at: session.expires_at,
            last_used_at: session.last_used_at,
            org,
        };
        self.caches.put_session_if(generation, sid, live.clone());
        Ok(live)
    }

    /// Verifies a bearer access token for the app in the URL and checks that its session and
    /// user are still live. A token of another app fails its issuer, audience and keys.
    ///
    /// A token issued to an OAuth client (`client_id`: through `/oauth2/token`) is refused
    /// here: its scopes say what the user let that client do, which is never the whole
    /// end-user API (sessions, contacts, organizations, identities). Such tokens are taken
    /// only by the OpenID Connect endpoints, through [`Engine::authenticate_any`].
    pub async fn authenticate(&self, slug: &str, bearer: &str) -> Result<Principal> {
        let (principal, claims) = self.authenticate_any(slug, bearer).await?;
        if claims.client_id.is_some() {
            return Err(Error::Unauthenticated(
                "This token was issued to an OAuth client: it is taken only by the app's OpenID Connect endpoints",
            ));
        }
        Ok(principal)
    }

    /// [`Engine::authenticate`], tokens issued to OAuth clients included; answers the
    /// verified claims too.
    pub(crate) async fn authenticate_any(&self, slug: &str, bearer: &str) -> Result<(Principal, Arc<tokens::Claims>)> {
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
        let live = self.cached_session(&app, sid).await?;
        if live.user_id != sub {
            return Err(Error::Unauthenticated("Invalid access token"));
        }
        // A token minted in an organization holds only while its session still acts in it
        // with the same role: leaving, removal, deletion, a switch or a role change (each of
        // which drops the session from every node's cache) stop it at once.
        let org = match (&claims.org, live.org) {
            (None, _) => None,
            (Some(claimed), Some(active))
                if *claimed == active.id.to_string() && claims.org_role.as_deref() == Some(active.role.as_str()) =>
            {
                Some(active)
            }
            _ => return Err(Error::Unauthenticated("The token's organization has changed; refresh it")),
        };
        Ok((
            Principal { app, user_id: live.user_id, session_id: sid, role_id: live.role_id, role: live.role, org },
            claims,
        ))
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

    /// The session with its user and role, if the session is live and the user active, read
    /// from the store (no cache).
    async fn stored_session(&self, app: &App, session_id: Uuid) -> Result<(Session, User, String)> {
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

    /// The principal of the session a browser cookie names, if it is live and has been used
    /// within `idle` (the cookie's inactivity limit; the session's own end still holds).
    /// Every check goes through the session cache, so a revocation ends the cookie at once;
    /// a use is recorded at most once a minute.
    pub async fn cookie_session(&self, slug: &str, cookie: &str, idle: TimeDelta) -> Result<Principal> {
        let app = self.active_app(slug).await.map_err(|e| match e {
            Error::NotFound(_) | Error::Forbidden(_) => Error::SessionRevoked,
            e => e,
        })?;
        if !cookie.starts_with(super::issuer::COOKIE_PREFIX) || cookie.len() > 100 {
            return Err(Error::SessionRevoked);
        }
        let sid = self.store.session_by_cookie(app.id, &token_digest(cookie)).await?.ok_or(Error::SessionRevoked)?;
        let generation = self.caches.generation();
        let live = self.cached_session(&app, sid).await?;
        let at = now();
        if at - live.last_used_at > idle {
            return Err(Error::Unauthenticated("Session has expired"));
        }
        self.record_use(&app, sid, &live, generation, at).await?;
        Ok(Principal {
            app,
            user_id: live.user_id,
            session_id: sid,
            role_id: live.role_id,
            role: live.role,
            org: live.org,
        })
    }

    /// Records that the session was used at `at`, at most once a minute (`last_used_at` is
    /// kept to the minute: a write saved on most uses), and keeps the cache in step.
    /// `generation` must be taken before `live` was read, so a revocation meanwhile keeps
    /// the touched entry out of the cache.
    pub(super) async fn record_use(
        &self,
        app: &App,
        sid: Uuid,
        live: &LiveSession,
        generation: Generation,
        at: DateTime<Utc>,
    ) -> Result<()> {
        if at - live.last_used_at < TimeDelta::seconds(RECORD_USE_EVERY_SECONDS) {
            return Ok(());
        }
        let mut tx = self.write().await?;
        tx.touch_session(app.id, sid, at).await?;
        tx.commit().await?;
        self.caches.put_session_if(generation, sid, LiveSession { last_used_at: at, ..live.clone() });
        Ok(())
    }

    /// Seals a short-lived secret for the browser to hold (a cookie) until the page that
    /// shows it: only this server can open it, and it is bound to `context`.
    pub fn seal_for_browser(&self, secret: &[u8], context: &str) -> Result<String> {
        Ok(crate::crypto::b64url(&self.config.master_key.seal(secret, context.as_bytes())?))
    }

    /// Opens what `seal_for_browser` sealed with the same `context`; `None` if it does not.
    pub fn open_from_browser(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).ok()?;
        self.config.master_key.open(&bytes, context.as_bytes()).ok()
    }
}
