//! Per-app signing keys: generation, sealing at rest, JWS signing and the public JWK.
//!
//! Three algorithms, chosen per app: RS256 (2048-bit, the default, what every JWT library
//! verifies), ES256 (P-256) and EdDSA (Ed25519, the fastest to sign by far).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use serde::{Deserialize, Serialize};

use crate::crypto::{b64url, MasterKey};
use crate::{Error, Result};

pub const RS256: &str = "RS256";
pub const ES256: &str = "ES256";
pub const EDDSA: &str = "EdDSA";

/// An app's token signing algorithm (the JWS `alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SigningAlg {
    #[default]
    Rs256,
    Es256,
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => RS256,
            SigningAlg::Es256 => ES256,
            SigningAlg::EdDsa => EDDSA,
        }
    }

    /// The JWS name, exactly as JOSE spells it.
    pub fn parse(raw: &str) -> Option<SigningAlg> {
        SigningAlg::ALL.into_iter().find(|a| a.as_str() == raw)
    }

    /// Parses a request's choice, with an error naming the field and the choices.
    pub fn parse_field(raw: &str, field: &str) -> Result<SigningAlg> {
        SigningAlg::parse(raw.trim())
            .ok_or_else(|| Error::invalid(format!("{field} must be one of 'RS256', 'ES256' or 'EdDSA'")))
    }
}

/// A public key as published in the app's JWKS (RFC 7517/7518/8037): `n`/`e` for RSA,
/// `crv`/`x`/`y` for EC, `crv`/`x` for OKP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    fn new(kty: &str, alg: SigningAlg, kid: &str) -> Jwk {
        Jwk {
            kty: kty.into(),
            use_: "sig".into(),
            alg: alg.as_str().into(),
            kid: kid.into(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        }
    }
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

/// Generates a key for `alg`, sealing the PKCS#8 private key with the master key bound to
/// its key id. RSA generation takes tens of milliseconds: call it off the async runtime.
pub fn generate(alg: SigningAlg, master: &MasterKey) -> Result<NewKey> {
    let kid = uuid::Uuid::new_v4().simple().to_string();
    let (pkcs8, jwk) = match alg {
        SigningAlg::Rs256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| fail("generation failed"))?;
            let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| fail("encoding failed"))?;
            let components: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
            let mut jwk = Jwk::new("RSA", alg, &kid);
            jwk.n = Some(b64url(&components.n));
            jwk.e = Some(b64url(&components.e));
            (pkcs8.as_ref().to_vec(), jwk)
        }
        SigningAlg::Es256 => {
            let pair =
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| fail("generation failed"))?;
            let pkcs8 = pair.to_pkcs8v1().map_err(|_| fail("encoding failed"))?;
            // The uncompressed point: 0x04 || x || y, 32 bytes each on P-256.
            let point = pair.public_key().as_ref();
            if point.len() != 65 || point[0] != 4 {
                return Err(fail("unexpected P-256 public key encoding"));
            }
            let mut jwk = Jwk::new("EC", alg, &kid);
            jwk.crv = Some("P-256".into());
            jwk.x = Some(b64url(&point[1..33]));
            jwk.y = Some(b64url(&point[33..]));
            (pkcs8.as_ref().to_vec(), jwk)
        }
        SigningAlg::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(|_| fail("generation failed"))?;
            let pkcs8 = pair.to_pkcs8v1().map_err(|_| fail("encoding failed"))?;
            let mut jwk = Jwk::new("OKP", alg, &kid);
            jwk.crv = Some("Ed25519".into());
            jwk.x = Some(b64url(pair.public_key().as_ref()));
            (pkcs8.as_ref().to_vec(), jwk)
        }
    };
    Ok(NewKey { private_sealed: master.seal(&pkcs8, kid.as_bytes())?, public_jwk: jwk, kid, alg: alg.as_str() })
}

enum Pair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A ready-to-sign private key, parsed once and kept in the engine's key cache.
pub struct Signer {
    kid: String,
    alg: SigningAlg,
    /// The access tokens' header, `{"alg":…,"typ":"at+jwt","kid":…}`, encoded once.
    header_b64: String,
    pair: Pair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl Signer {
    pub fn open(master: &MasterKey, kid: &str, alg: &str, private_sealed: &[u8]) -> Result<Signer> {
        let alg = SigningAlg::parse(alg).ok_or_else(|| fail("unsupported algorithm"))?;
        let pkcs8 = master.open(private_sealed, kid.as_bytes())?;
        let unreadable = |_| fail("stored key unreadable");
        let pair = match alg {
            SigningAlg::Rs256 => Pair::Rsa(RsaKeyPair::from_pkcs8(&pkcs8).map_err(unreadable)?),
            SigningAlg::Es256 => {
                Pair::Ecdsa(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(unreadable)?)
            }
            SigningAlg::EdDsa => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(unreadable)?),
        };
        let header_b64 = encoded_header(alg, crate::tokens::ACCESS_TOKEN_TYP, kid)?;
        Ok(Signer { kid: kid.to_owned(), alg, header_b64, pair, rng: SystemRandom::new() })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Signs `claims` as an access token: a compact JWS (RFC 7515) with header
    /// `{alg, typ: "at+jwt", kid}` (RFC 9068).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        self.sign_with_header(&self.header_b64, claims)
    }

    /// Signs `claims` as another kind of token of the app (`typ` tells the kinds apart, so
    /// one cannot pass for another: RFC 8725, 3.11).
    pub fn sign_typed<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String> {
        self.sign_with_header(&encoded_header(self.alg, typ, &self.kid)?, claims)
    }

    fn sign_with_header<T: Serialize>(&self, header_b64: &str, claims: &T) -> Result<String> {
        let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
        let mut jws = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 360);
        jws.push_str(header_b64);
        jws.push('.');
        jws.push_str(&b64url(&payload));
        let signature = match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, jws.as_bytes(), &mut signature)
                    .map_err(|_| fail("signing failed"))?;
                signature
            }
            Pair::Ecdsa(pair) => {
                pair.sign(&self.rng, jws.as_bytes()).map_err(|_| fail("signing failed"))?.as_ref().to_vec()
            }
            Pair::Ed25519(pair) => pair.sign(jws.as_bytes()).as_ref().to_vec(),
        };
        jws.push('.');
        jws.push_str(&b64url(&signature));
        Ok(jws)
    }
}

fn encoded_header(alg: SigningAlg, typ: &str, kid: &str) -> Result<String> {
    let header = serde_json::json!({ "alg": alg.as_str(), "typ": typ, "kid": kid });
    Ok(b64url(&serde_json::to_vec(&header).map_err(Error::internal)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in SigningAlg::ALL {
            assert_eq!(SigningAlg::parse(alg.as_str()), Some(alg));
        }
        assert_eq!(SigningAlg::parse("rs256"), None);
        assert_eq!(SigningAlg::parse("none"), None);
        assert_eq!(SigningAlg::parse("HS256"), None);
        assert!(SigningAlg::parse_field("PS256", "signing_alg").is_err());
    }

    #[test]
    fn public_jwks_have_the_members_of_their_key_type() {
        let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let rsa = generate(SigningAlg::Rs256, &master).unwrap().public_jwk;
        assert_eq!((rsa.kty.as_str(), rsa.alg.as_str()), ("RSA", RS256));
        assert!(rsa.n.is_some() && rsa.e.is_some() && rsa.x.is_none());
        let ec = generate(SigningAlg::Es256, &master).unwrap().public_jwk;
        assert_eq!((ec.kty.as_str(), ec.crv.as_deref()), ("EC", Some("P-256")));
        assert_eq!(ec.x.as_ref().map(String::len), Some(43));
        assert_eq!(ec.y.as_ref().map(String::len), Some(43));
        let ed = generate(SigningAlg::EdDsa, &master).unwrap().public_jwk;
        assert_eq!((ed.kty.as_str(), ed.crv.as_deref(), ed.alg.as_str()), ("OKP", Some("Ed25519"), EDDSA));
        assert!(ed.y.is_none() && ed.n.is_none());
        let json = serde_json::to_value(&ed).unwrap();
        assert!(json.get("n").is_none(), "absent members are left out: {json}");
    }

    #[test]
    fn a_sealed_key_opens_only_under_its_own_kid() {
        let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let key = generate(SigningAlg::EdDsa, &master).unwrap();
        assert!(Signer::open(&master, &key.kid, EDDSA, &key.private_sealed).is_ok());
        assert!(Signer::open(&master, "another-kid", EDDSA, &key.private_sealed).is_err());
        assert!(Signer::open(&master, &key.kid, RS256, &key.private_sealed).is_err(), "wrong algorithm");
        assert!(Signer::open(&master, &key.kid, "none", &key.private_sealed).is_err());
    }
}
