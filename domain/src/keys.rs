//! Per-app signing keys: generation, sealing at rest, JWS signing and the public JWK.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use serde::{Deserialize, Serialize};

use crate::crypto::{b64url, MasterKey};
use crate::{Error, Result};

pub const RS256: &str = "RS256";

/// A public key as published in the app's JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// A freshly generated key: the private half sealed for storage, the public half as a JWK.
pub struct NewKey {
    pub kid: String,
    pub alg: &'static str,
    pub private_sealed: Vec<u8>,
    pub public_jwk: Jwk,
}

fn fail(what: &str) -> Error {
    Error::internal(anyhow::anyhow!("signing key: {what}"))
}

/// Generates an RS256 (2048-bit) key, sealing the PKCS#8 private key with the master key
/// bound to its key id.
pub fn generate_rs256(master: &MasterKey) -> Result<NewKey> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| fail("generation failed"))?;
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| fail("encoding failed"))?;
    let kid = uuid::Uuid::new_v4().simple().to_string();
    let components: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
    Ok(NewKey {
        private_sealed: master.seal(pkcs8.as_ref(), kid.as_bytes())?,
        public_jwk: Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: RS256.into(),
            kid: kid.clone(),
            n: b64url(&components.n),
            e: b64url(&components.e),
        },
        kid,
        alg: RS256,
    })
}

/// A ready-to-sign private key, parsed once and kept in the engine's key cache.
pub struct Signer {
    kid: String,
    pair: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl Signer {
    pub fn open(master: &MasterKey, kid: &str, alg: &str, private_sealed: &[u8]) -> Result<Signer> {
        if alg != RS256 {
            return Err(fail("unsupported algorithm"));
        }
        let pkcs8 = master.open(private_sealed, kid.as_bytes())?;
        let pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| fail("stored key unreadable"))?;
        Ok(Signer { kid: kid.to_owned(), pair, rng: SystemRandom::new() })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` as a compact JWS (RFC 7515) with header `{alg, typ, kid}`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        let header = serde_json::json!({ "alg": RS256, "typ": "JWT", "kid": self.kid });
        let header = serde_json::to_vec(&header).map_err(Error::internal)?;
        let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
        let mut jws = format!("{}.{}", b64url(&header), b64url(&payload));
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, jws.as_bytes(), &mut signature)
            .map_err(|_| fail("signing failed"))?;
        jws.push('.');
        jws.push_str(&b64url(&signature));
        Ok(jws)
    }
}
