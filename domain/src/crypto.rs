//! Secrets at rest and opaque tokens: the master key (AES-256-GCM), random tokens and
//! their SHA-256 digests, constant-time comparison.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

const NONCE_LEN: usize = 12;

/// The server's master key: encrypts signing keys and other secrets stored in the database,
/// and derives the keys of Rampart's MACs (`subkey`). Its `Debug` never prints the key.
#[derive(Clone)]
pub struct MasterKey {
    aead: Aes256Gcm,
    raw: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Parses the base64 form of a 32-byte key.
    pub fn from_base64(encoded: &str) -> Result<MasterKey, String> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(encoded.trim()))
            .map_err(|_| "must be base64".to_string())?;
        let raw: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| format!("must decode to 32 bytes, got {}", bytes.len()))?;
        let aead = Aes256Gcm::new_from_slice(&raw).map_err(|_| "must decode to 32 bytes".to_string())?;
        Ok(MasterKey { aead, raw })
    }

    /// An HMAC-SHA256 key for one purpose, derived from the master key with HKDF (RFC 5869)
    /// under `label`: each use gets its own key, and none of them reveals the master key.
    pub fn subkey(&self, label: &str) -> Result<aws_lc_rs::hmac::Key> {
        use aws_lc_rs::{hkdf, hmac};
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"rampart master key subkeys v1").extract(&self.raw);
        let info = [label.as_bytes()];
        let okm = prk
            .expand(&info, hmac::HMAC_SHA256)
            .map_err(|_| Error::internal(anyhow::anyhow!("cannot derive the {label} key")))?;
        Ok(hmac::Key::from(okm))
    }

    /// A fresh random key, base64-encoded, for the dev key file.
    pub fn generate_base64() -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        STANDARD.encode(bytes)
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. the key id) so a ciphertext
    /// cannot be moved to another row. Output: nonce || ciphertext+tag.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context })
            .map_err(|_| Error::internal(anyhow::anyhow!("encryption failed")))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::internal(anyhow::anyhow!("sealed secret too short")));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context })
            .map_err(|_| Error::internal(anyhow::anyhow!("cannot decrypt a stored secret: wrong RAMPART_MASTER_KEY?")))
    }
}

/// A high-entropy opaque token: `prefix` + 256 random bits, base64url.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A public identifier: `prefix` + 96 random bits in lowercase hex. Unguessable, so nobody can
/// enumerate them, but not a secret.
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().fold(prefix.to_owned(), |mut id, b| {
        id.push_str(&format!("{b:02x}"));
        id
    })
}

/// The digest under which a secret token is stored and looked up.
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_bound_to_context() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let sealed = key.seal(b"secret", b"kid-1").unwrap();
        assert_eq!(key.open(&sealed, b"kid-1").unwrap(), b"secret");
        assert!(key.open(&sealed, b"kid-2").is_err());
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert!(other.open(&sealed, b"kid-1").is_err());
        assert!(key.open(&sealed[..5], b"kid-1").is_err());
    }

    #[test]
    fn subkeys_differ_by_label_and_by_master_key() {
        use aws_lc_rs::hmac;
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let tag = |k: &MasterKey, label: &str| hmac::sign(&k.subkey(label).unwrap(), b"message").as_ref().to_vec();
        assert_eq!(tag(&key, "a"), tag(&key, "a"), "deterministic");
        assert_ne!(tag(&key, "a"), tag(&key, "b"));
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert_ne!(tag(&key, "a"), tag(&other, "a"));
    }

    #[test]
    fn master_key_parse_errors() {
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert!(MasterKey::from_base64("AAAA").is_err());
        assert!(format!("{:?}", MasterKey::from_base64(&MasterKey::generate_base64()).unwrap()).contains("redacted"));
    }

    #[test]
    fn tokens_are_unique_and_digests_stable() {
        let a = random_token("rt_");
        assert!(a.starts_with("rt_") && a.len() > 40);
        assert_ne!(a, random_token("rt_"));
        assert_eq!(token_digest(&a), token_digest(&a));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        let id = random_id("app_");
        assert!(id.starts_with("app_") && id.len() == 28 && id[4..].chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert_ne!(id, random_id("app_"));
    }
}
