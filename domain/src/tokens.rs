//! Access tokens: the claims of DESIGN.md "Tokens" and their verification against an app's
//! published keys, with issuer, audience and algorithm pinned.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{decode_header, Algorithm};
use serde::{Deserialize, Serialize};

use crate::keys::{Jwk, SigningAlg};
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
    /// The OIDC client the token was issued to (RFC 9068), when a client asked for it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_id: Option<String>,
    /// The scopes granted to that client, space-separated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
}

/// The claims of an access token a machine client got for itself (`client_credentials`):
/// no user and no session, so never taken for an end-user's bearer (`Claims` needs `sid`
/// and `role`, and `sub` is not a user id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientClaims {
    pub iss: String,
    pub aud: String,
    /// The client's own id (RFC 9068, 2.2).
    pub sub: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// The token pair every sign-in, sign-up and refresh answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: i64,
}

/// A verifying key of one app, parsed once (the key ring keeps it), with the one algorithm
/// its tokens may claim.
pub struct Verifier {
    pub kid: String,
    alg: Algorithm,
    key: ParsedPublicKey,
}

impl Verifier {
    /// The key's algorithm comes from the stored JWK, never from a token's header.
    pub fn from_jwk(jwk: &Jwk) -> Result<Verifier> {
        let bad = |what: &str| Error::internal(anyhow::anyhow!("JWK {}: {what}", jwk.kid));
        let member = |m: &Option<String>, name: &str| -> Result<Vec<u8>> {
            let encoded = m.as_deref().ok_or_else(|| bad(&format!("lacks {name}")))?;
            URL_SAFE_NO_PAD.decode(encoded).map_err(|_| bad(&format!("{name} is not base64url")))
        };
        let rejected = |_| bad("key rejected");
        let (alg, key) = match SigningAlg::parse(&jwk.alg) {
            Some(SigningAlg::Rs256) => {
                let (n, e) = (member(&jwk.n, "n")?, member(&jwk.e, "e")?);
                let der = AsDer::<PublicKeyX509Der>::as_der(&PublicKeyComponents { n: n.as_slice(), e: e.as_slice() })
                    .map_err(|_| bad("unencodable RSA key"))?;
                (Algorithm::RS256, ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_ref()).map_err(rejected)?)
            }
            Some(SigningAlg::Es256) => {
                let (x, y) = (member(&jwk.x, "x")?, member(&jwk.y, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad("not a P-256 point"));
                }
                let point = [&[4u8][..], &x, &y].concat();
                (Algorithm::ES256, ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).map_err(rejected)?)
            }
            Some(SigningAlg::EdDsa) => {
                (Algorithm::EdDSA, ParsedPublicKey::new(&ED25519, member(&jwk.x, "x")?).map_err(rejected)?)
            }
            None => return Err(bad("unsupported alg")),
        };
        Ok(Verifier { kid: jwk.kid.clone(), alg, key })
    }
}

/// The `kid` of a token's header, if it has a well-formed header at all.
pub fn kid_of(token: &str) -> Result<String> {
    let header = decode_header(token).map_err(|_| invalid())?;
    header.kid.ok_or_else(invalid)
}

/// The `typ` of every access token's header (RFC 9068): verification requires it, so a token
/// of another kind signed with the same key (a license token, an ID token) is never taken
/// for an access token (RFC 8725, 3.11).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Seconds of clock skew forgiven on `exp`.
const LEEWAY_SECONDS: i64 = 5;

/// Whether the claims' `exp` is past (beyond the leeway).
pub fn expired(claims: &Claims) -> bool {
    claims.exp < chrono::Utc::now().timestamp() - LEEWAY_SECONDS
}

fn invalid() -> Error {
    Error::Unauthenticated("Invalid access token")
}

/// Verifies a compact JWS: exactly three segments, a header naming the key's own algorithm
/// (so `alg: none`, HMAC-with-the-public-key and cross-algorithm forgeries fail) and the
/// access tokens' `typ`, the
/// signature over `header.payload` with the parsed key, then the claims: every one present
/// and well typed, `exp` not past, `iss` and `aud` exactly the app's.
///
/// The signature is checked with aws-lc-rs directly rather than through `jsonwebtoken`,
/// whose verifier rebuilds the public key from its components on every call (a third of
/// the cost of an authenticated request).
pub fn verify(token: &str, verifier: &Verifier, issuer: &str, audience: &str) -> Result<Claims> {
    let claims: Claims = verify_payload(token, verifier, ACCESS_TOKEN_TYP)?;
    if expired(&claims) {
        return Err(Error::TokenExpired);
    }
    if claims.iss != issuer || claims.aud != audience {
        return Err(invalid());
    }
    Ok(claims)
}

/// The payload of a compact JWS of type `typ` signed by the verifier's key, as `T`: the
/// checks of [`verify`] but the claims', which are the caller's to make.
pub fn verify_payload<T: serde::de::DeserializeOwned>(token: &str, verifier: &Verifier, typ: &str) -> Result<T> {
    let header = decode_header(token).map_err(|_| invalid())?;
    if header.alg != verifier.alg || header.typ.as_deref() != Some(typ) {
        return Err(invalid());
    }
    let (message, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
    let (_, payload) = message.split_once('.').ok_or_else(invalid)?;
    if payload.contains('.') {
        return Err(invalid());
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
    verifier.key.verify_sig(message.as_bytes(), &signature).map_err(|_| invalid())?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    serde_json::from_slice(&payload).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use crate::keys::{generate, Signer};

    fn claims(exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: "https://auth.example/acme".into(),
            aud: "acme".into(),
            sub: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + exp_in,
            jti: uuid::Uuid::new_v4().to_string(),
            sid: uuid::Uuid::new_v4().to_string(),
            role: "member".into(),
            org: None,
            org_role: None,
            client_id: None,
            scope: None,
        }
    }

    fn pair(alg: SigningAlg) -> (Signer, Verifier) {
        let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let key = generate(alg, &master).unwrap();
        let signer = Signer::open(&master, &key.kid, key.alg, &key.private_sealed).unwrap();
        (signer, Verifier::from_jwk(&key.public_jwk).unwrap())
    }

    #[test]
    fn every_algorithm_round_trips_and_pins_its_claims() {
        for alg in SigningAlg::ALL {
            let (signer, verifier) = pair(alg);
            let c = claims(600);
            let token = signer.sign(&c).unwrap();
            assert_eq!(verify(&token, &verifier, "https://auth.example/acme", "acme").unwrap(), c, "{alg:?}");
            assert!(verify(&token, &verifier, "https://auth.example/other", "acme").is_err());
            assert!(verify(&token, &verifier, "https://auth.example/acme", "other").is_err());
            let expired = signer.sign(&claims(-60)).unwrap();
            assert!(matches!(verify(&expired, &verifier, &c.iss, &c.aud), Err(Error::TokenExpired)));
            // Within the leeway, still good.
            let just = signer.sign(&claims(-2)).unwrap();
            assert!(verify(&just, &verifier, &c.iss, &c.aud).is_ok());
        }
    }

    #[test]
    fn another_key_or_algorithm_or_shape_is_refused() {
        let (rsa, rsa_verifier) = pair(SigningAlg::Rs256);
        let (ed, ed_verifier) = pair(SigningAlg::EdDsa);
        let (ec, ec_verifier) = pair(SigningAlg::Es256);
        let (_, other_ed) = pair(SigningAlg::EdDsa);
        let c = claims(600);
        let (iss, aud) = (c.iss.as_str(), c.aud.as_str());
        let ed_token = ed.sign(&c).unwrap();
        assert!(verify(&ed_token, &other_ed, iss, aud).is_err(), "another key of the same algorithm");
        assert!(verify(&ed_token, &rsa_verifier, iss, aud).is_err());
        assert!(verify(&rsa.sign(&c).unwrap(), &ec_verifier, iss, aud).is_err());
        assert!(verify(&ec.sign(&c).unwrap(), &ed_verifier, iss, aud).is_err());
        let mut parts: Vec<&str> = ed_token.split('.').collect();
        let four = format!("{}.{}", ed_token, parts[2]);
        assert!(verify(&four, &ed_verifier, iss, aud).is_err(), "four segments");
        parts[2] = "";
        assert!(verify(&parts.join("."), &ed_verifier, iss, aud).is_err(), "no signature");
        let padded = format!("{ed_token}=");
        assert!(verify(&padded, &ed_verifier, iss, aud).is_err(), "padded base64");
        // A payload that is not our claims (a missing claim) is refused even when signed.
        let partial = serde_json::json!({ "iss": iss, "aud": aud, "exp": c.exp, "sub": c.sub });
        assert!(verify(&ed.sign(&partial).unwrap(), &ed_verifier, iss, aud).is_err());
        // The right key and claims under another `typ` (a license or ID token, a plain JWT).
        for typ in ["JWT", "license+jwt", "AT+JWT"] {
            assert!(verify(&ed.sign_typed(typ, &c).unwrap(), &ed_verifier, iss, aud).is_err(), "{typ}");
        }
        assert!(verify(&ed.sign_typed(ACCESS_TOKEN_TYP, &c).unwrap(), &ed_verifier, iss, aud).is_ok());
        let mut array_aud = serde_json::to_value(&c).unwrap();
        array_aud["aud"] = serde_json::json!([aud]);
        assert!(verify(&ed.sign(&array_aud).unwrap(), &ed_verifier, iss, aud).is_err(), "aud must be the app's string");
    }
}
