//! Access tokens: the claims of DESIGN.md "Tokens" and their verification against an app's
//! published keys, with issuer, audience and algorithm pinned.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::Jwk;
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sid: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub org_role: Option<String>,
}

/// The token pair every sign-in, sign-up and refresh answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// A verifying key of one app.
pub struct Verifier {
    pub kid: String,
    key: DecodingKey,
}

impl Verifier {
    pub fn from_jwk(jwk: &Jwk) -> Result<Verifier> {
        let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).map_err(Error::internal)?;
        Ok(Verifier { kid: jwk.kid.clone(), key })
    }
}

/// The `kid` of a token's header, if it has a well-formed header at all.
pub fn kid_of(token: &str) -> Result<String> {
    let header = decode_header(token).map_err(|_| Error::Unauthenticated("Invalid access token"))?;
    header.kid.ok_or(Error::Unauthenticated("Invalid access token"))
}

/// Verifies signature, `exp`, `iss` and `aud`; only RS256 is accepted, so `alg: none` and
/// HMAC-with-the-public-key forgeries fail.
pub fn verify(token: &str, verifier: &Verifier, issuer: &str, audience: &str) -> Result<Claims> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 5;
    decode::<Claims>(token, &verifier.key, &validation).map(|data| data.claims).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => Error::TokenExpired,
        _ => Error::Unauthenticated("Invalid access token"),
    })
}
