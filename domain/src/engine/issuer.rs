//! The issuer: the one place that mints what proves a sign-in: sessions and their first
//! refresh token, rotated refresh tokens' successors, access tokens and the browser cookies
//! that name a session. ID tokens and license tokens join here.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{ActiveOrg, Engine, Principal, RequestMeta};
use crate::crypto::{random_token, token_digest};
use crate::model::{App, NewRefreshToken, RefreshKey, RefreshToken, Session};
use crate::tokens::{Claims, TokenPair};
use crate::Result;

/// Every refresh token starts with this.
const REFRESH_PREFIX: &str = "rt_";
/// Every refresh token issued to an OIDC client starts with this instead: only the token
/// endpoint takes it, for that client (`/v1/auth/refresh` refuses it without a lookup).
pub(super) const OIDC_REFRESH_PREFIX: &str = "ort_";
/// Every session cookie starts with this.
pub(super) const COOKIE_PREFIX: &str = "cs_";

/// A session's authentication method references (RFC 8176, the ID token's `amr`) after a
/// password sign-in or sign-up.
pub(super) const AMR_PASSWORD: &[&str] = &["pwd"];
/// After a one-time secret sent by email: a code, a magic link, an invitation's link.
pub(super) const AMR_EMAIL_ONE_TIME: &[&str] = &["otp"];
/// After a one-time code sent by SMS.
pub(super) const AMR_SMS_ONE_TIME: &[&str] = &["otp", "sms"];
/// After a sign-in through an external identity provider. RFC 8176 has no value for it;
/// `fed` is the one in use (Microsoft Entra ID's), and how that provider authenticated the
/// user is its own to tell.
pub(super) const AMR_FEDERATED: &[&str] = &["fed"];

/// Bytes of a refresh token after its prefix: its session (16), its generation (8, big
/// endian) and 32 secret bytes, base64url without padding.
const REFRESH_BYTES: usize = 16 + 8 + 32;

/// A refresh token: `prefix`, then its key and `secret`, base64url. The key tells the store
/// where the token is kept (one row, next to its session's others); only the digest of the
/// whole token is stored there.
fn refresh_token_of(prefix: &str, session_id: Uuid, generation: i64, secret: &[u8; 32]) -> String {
    let mut bytes = [0u8; REFRESH_BYTES];
    bytes[..16].copy_from_slice(session_id.as_bytes());
    bytes[16..24].copy_from_slice(&generation.to_be_bytes());
    bytes[24..].copy_from_slice(secret);
    format!("{prefix}{}", crate::crypto::b64url(&bytes))
}

/// A session's first refresh token, as a sign-in issues it (generation 0), for whatever
/// opens a session itself: a tool, a test.
pub fn first_refresh_token(session_id: Uuid) -> String {
    first_token_of(REFRESH_PREFIX, session_id)
}

/// A session's first refresh token, starting with `prefix`: a random secret.
fn first_token_of(prefix: &str, session_id: Uuid) -> String {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    refresh_token_of(prefix, session_id, 0, &secret)
}

/// How a presented refresh token says where it is kept.
pub(super) enum RefreshLookup {
    /// At this key (every token issued since migration 0020).
    Keyed(RefreshKey),
    /// By this digest alone: issued before, or not a refresh token at all.
    Legacy(String),
}

impl RefreshLookup {
    pub(super) fn of(token: &str) -> Self {
        use base64::Engine as _;
        let digest = token_digest(token);
        let body = token.strip_prefix(OIDC_REFRESH_PREFIX).or_else(|| token.strip_prefix(REFRESH_PREFIX));
        let bytes = body.and_then(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b).ok());
        let key = bytes.as_deref().filter(|b| b.len() == REFRESH_BYTES).and_then(|b| {
            let (session, rest) = b.split_first_chunk::<16>()?;
            let (generation, _) = rest.split_first_chunk::<8>()?;
            Some((Uuid::from_bytes(*session), i64::from_be_bytes(*generation)))
        });
        match key {
            Some((session_id, generation)) => Self::Keyed(RefreshKey { session_id, generation, digest }),
            None => Self::Legacy(digest),
        }
    }
}

impl Engine {
    /// The successor of a refresh token kept at `key`: the next generation of its session,
    /// its secret an HMAC of the token under a subkey of the master key. Only its digest is
    /// stored, so neither the database nor the database and the master key together yield a
    /// live refresh token, and a repeat derives the same one.
    pub(super) fn successor_of(&self, refresh_token: &str, key: &RefreshKey) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.refresh_key, refresh_token.as_bytes());
        let prefix = if refresh_token.starts_with(OIDC_REFRESH_PREFIX) { OIDC_REFRESH_PREFIX } else { REFRESH_PREFIX };
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&tag.as_ref()[..32]);
        refresh_token_of(prefix, key.session_id, key.generation.saturating_add(1), &secret)
    }

    /// The app's refresh token `token` names, wherever it is kept; `None` if there is none
    /// (or `token` is not one).
    pub(super) async fn find_refresh_token(&self, app_id: Uuid, token: &str) -> Result<Option<RefreshToken>> {
        Ok(match RefreshLookup::of(token) {
            RefreshLookup::Keyed(key) => self.store.refresh_token(app_id, &key).await?,
            RefreshLookup::Legacy(digest) => self.store.legacy_refresh_token(app_id, &digest).await?,
        })
    }

    /// A session of the user, who just authenticated as `amr` says (`AMR_*`), and its first
    /// refresh token.
    pub(super) async fn open_session(
        &self,
        tx: &mut dyn crate::store::Tx,
        app: &App,
        user_id: Uuid,
        meta: &RequestMeta,
        at: DateTime<Utc>,
        amr: &[&str],
    ) -> Result<(Session, String)> {
        let amr = amr.iter().map(|m| (*m).to_owned()).collect();
        self.open_session_with(tx, app, user_id, meta, at, amr, REFRESH_PREFIX).await
    }

    /// A session whose first refresh token starts with `prefix`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn open_session_with(
        &self,
        tx: &mut dyn crate::store::Tx,
        app: &App,
        user_id: Uuid,
        meta: &RequestMeta,
        at: DateTime<Utc>,
        amr: Vec<String>,
        prefix: &str,
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
            amr,
        };
        tx.insert_session(&session).await?;
        let refresh = first_token_of(prefix, session.id);
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
    pub(super) async fn token_pair(
        &self,
        app: &App,
        user_id: Uuid,
        role: &str,
        org: Option<&ActiveOrg>,
        session_id: Uuid,
        refresh_token: String,
    ) -> Result<TokenPair> {
        let ttl = app.config.access_token_ttl_seconds;
        Ok(TokenPair {
            access_token: self.access_token(app, user_id, role, org, session_id, ttl, None).await?,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: ttl,
        })
    }

    /// The one place access tokens are signed: `ttl` seconds of the app's JWT for a session,
    /// with `org` and `org_role` while the session acts in an organization, and the OIDC
    /// client it was issued to with its scopes (`client`).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn access_token(
        &self,
        app: &App,
        user_id: Uuid,
        role: &str,
        org: Option<&ActiveOrg>,
        session_id: Uuid,
        ttl: i64,
        client: Option<(&str, &str)>,
    ) -> Result<String> {
        let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
        let iat = Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer(&app.slug),
            aud: app.slug.clone(),
            sub: user_id.to_string(),
            iat,
            exp: iat + ttl,
            jti: Uuid::new_v4().to_string(),
            sid: session_id.to_string(),
            role: role.to_owned(),
            org: org.map(|o| o.id.to_string()),
            org_role: org.map(|o| o.role.clone()),
            client_id: client.map(|(id, _)| id.to_owned()),
            scope: client.map(|(_, scope)| scope.to_owned()),
        };
        signer.sign(&claims)
    }

    /// The one place license tokens are signed: the app's JWT (`typ: license+jwt`) that lets
    /// a device check its activation offline. Answers the token and its expiry.
    pub(super) async fn license_token(
        &self,
        app: &App,
        license: &crate::licenses::License,
        activation: &crate::licenses::Activation,
    ) -> Result<(String, DateTime<Utc>)> {
        use crate::licenses::{LicenseClaims, LICENSE_TOKEN_TTL_SECONDS, LICENSE_TOKEN_TYP};
        let signer = self.keys.signer(self.store.as_ref(), &self.config.master_key, app.id).await?;
        let iat = Utc::now().timestamp();
        let license_exp = license.expires_at.map(|t| t.timestamp());
        let exp = license_exp.map_or(iat + LICENSE_TOKEN_TTL_SECONDS, |e| e.min(iat + LICENSE_TOKEN_TTL_SECONDS));
        let claims = LicenseClaims {
            iss: self.issuer(&app.slug),
            aud: app.slug.clone(),
            sub: license.id.to_string(),
            iat,
            exp,
            jti: Uuid::new_v4().to_string(),
            product: license.product_id.clone(),
            fingerprint: activation.fingerprint.clone(),
            aid: activation.id.to_string(),
            license_exp,
            user: license.user_id.map(|u| u.to_string()),
            org: license.org_id.map(|o| o.to_string()),
        };
        let expires_at = DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now);
        Ok((signer.sign_typed(LICENSE_TOKEN_TYP, &claims)?, expires_at))
    }

    /// A browser cookie for the principal's session: an opaque token, stored as its digest on
    /// the session, so revoking the session ends the cookie at once (the console's today; the
    /// hosted pages' and seed 003's cookie API next). Each sign-in gets a new one.
    pub async fn issue_cookie(&self, principal: &Principal) -> Result<String> {
        self.bind_cookie(principal, None).await
    }

    /// A new cookie for the session, which from then on ends at `expires_at` when given.
    pub(super) async fn bind_cookie(&self, principal: &Principal, expires_at: Option<DateTime<Utc>>) -> Result<String> {
        let cookie = random_token(COOKIE_PREFIX);
        let mut tx = self.write().await?;
        tx.set_session_cookie(principal.app.id, principal.session_id, &token_digest(&cookie), expires_at).await?;
        if expires_at.is_some() {
            tx.changed(super::cache::Change::Session(principal.session_id));
        }
        tx.commit().await?;
        Ok(cookie)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_token_says_where_it_is_kept() {
        let session = Uuid::new_v4();
        let token = refresh_token_of(OIDC_REFRESH_PREFIX, session, i64::MAX - 1, &[7; 32]);
        let digest = token_digest(&token);
        match RefreshLookup::of(&token) {
            RefreshLookup::Keyed(key) => {
                assert_eq!(key, RefreshKey { session_id: session, generation: i64::MAX - 1, digest });
            }
            RefreshLookup::Legacy(_) => panic!("a keyed token read as legacy"),
        }
        assert!(
            matches!(RefreshLookup::of(&first_refresh_token(session)), RefreshLookup::Keyed(k) if k.generation == 0)
        );
    }

    #[test]
    fn anything_else_is_looked_up_by_digest() {
        let keyed = first_refresh_token(Uuid::new_v4());
        let legacy = random_token(REFRESH_PREFIX);
        for token in [
            legacy.as_str(),
            &keyed[..keyed.len() - 1],
            &format!("{keyed}A"),
            &keyed.replacen("rt_", "xx_", 1),
            &keyed.replacen("rt_", "", 1),
            "rt_!!!!",
            "",
        ] {
            match RefreshLookup::of(token) {
                RefreshLookup::Legacy(digest) => assert_eq!(digest, token_digest(token)),
                RefreshLookup::Keyed(_) => panic!("{token:?} read as keyed"),
            }
        }
    }
}
