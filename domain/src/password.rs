//! argon2id password hashing with the OWASP parameters, always off the async runtime.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// m = 19 MiB, t = 2, p = 1 (OWASP's argon2id recommendation).
fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A real hash of a throwaway password, verified against when the user is unknown so the
/// answer takes as long as for a known one.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking(&SecretString::from("rampart-dummy-password-for-timing")).unwrap_or_default());

fn hash_blocking(password: &SecretString) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()?
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(anyhow::anyhow!("hashing failed: {e}")))
}

fn verify_blocking(password: &SecretString, stored: Option<&str>) -> Result<bool> {
    let (hash, known) = match stored {
        Some(h) => (h.to_owned(), true),
        None => (DUMMY_HASH.clone(), false),
    };
    let parsed =
        PasswordHash::new(&hash).map_err(|e| Error::internal(anyhow::anyhow!("stored hash unreadable: {e}")))?;
    let ok = argon2()?.verify_password(password.expose_secret().as_bytes(), &parsed).is_ok();
    Ok(ok && known)
}

/// Hashes a password on the blocking pool.
pub async fn hash(password: SecretString) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(Error::internal)?
}

/// Verifies a password on the blocking pool. With `stored = None` (unknown user, or a user
/// without a password) it verifies against a dummy hash and answers `false`, in the same time.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(&password, stored.as_deref())).await.map_err(Error::internal)?
}

/// Forces the dummy hash so the first unknown-user sign-in is not slower than the rest.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verify_and_dummy() {
        let h = hash(SecretString::from("CorrectHorseBatteryStaple")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(SecretString::from("CorrectHorseBatteryStaple"), Some(h.clone())).await.unwrap());
        assert!(!verify(SecretString::from("wrong"), Some(h)).await.unwrap());
        assert!(!verify(SecretString::from("rampart-dummy-password-for-timing"), None).await.unwrap());
    }
}
