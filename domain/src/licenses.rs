//! License keys (seed 002 "04 — License Keys"): the key's typeable format, and what a
//! license and a device's activation of it are.
//!
//! A key is 24 symbols of Crockford's base32 from the OS's CSPRNG (120 bits) and a check
//! symbol (Luhn mod 32), in five groups of five: `7KQ2M-XW4TB-…`. People type keys, so
//! parsing forgives what Crockford forgives (case, `O` for `0`, `I` and `L` for `1`, spaces
//! and hyphens anywhere), and the check symbol catches a mistyped symbol and most swapped
//! neighbours before the store is asked. Only the key's SHA-256 is stored, with its first
//! group to recognise it by.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::RngCore;
use uuid::Uuid;

use crate::crypto::token_digest;
use crate::{Error, Result};

/// Crockford's base32: no `I`, `L`, `O` or `U`.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random symbols in a key (5 bits each).
const RANDOM_SYMBOLS: usize = 24;
/// Symbols per group as the key is shown.
const GROUP: usize = 5;
/// Anything longer is not looked at (a key with a hyphen or a space between every symbol
/// is still shorter).
const MAX_INPUT: usize = 64;

pub const MAX_ACTIVATIONS: i32 = 10_000;
pub const MAX_PRODUCT_ID: usize = 128;
pub const MAX_FINGERPRINT: usize = 256;
pub const MAX_DEVICE_NAME: usize = 128;
/// The largest `metadata` object, serialized.
pub const MAX_METADATA_BYTES: usize = 4096;

/// A license key, as issued or as typed: its 25 symbols, check symbol last.
#[derive(Clone, PartialEq, Eq)]
pub struct LicenseKey(String);

fn value_of(symbol: u8) -> Option<u32> {
    let symbol = match symbol.to_ascii_uppercase() {
        b'O' => b'0',
        b'I' | b'L' => b'1',
        s => s,
    };
    ALPHABET.iter().position(|&a| a == symbol).and_then(|p| u32::try_from(p).ok())
}

/// Luhn mod 32 over the symbols' values, from the right; `doubled_first` says whether the
/// rightmost one is doubled (it is when computing a check symbol, not when checking one).
fn luhn_sum(values: &[u32], doubled_first: bool) -> u32 {
    let mut doubled = doubled_first;
    let mut sum = 0;
    for &v in values.iter().rev() {
        let addend = if doubled { v * 2 } else { v };
        sum += addend / 32 + addend % 32;
        doubled = !doubled;
    }
    sum % 32
}

fn symbol(value: u32) -> char {
    char::from(ALPHABET[(value % 32) as usize])
}

impl LicenseKey {
    /// A new key: 120 random bits and the check symbol.
    pub fn generate() -> LicenseKey {
        let mut bytes = [0u8; RANDOM_SYMBOLS];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        // 256 is a multiple of 32: the low five bits of a uniform byte are uniform.
        let values: Vec<u32> = bytes.iter().map(|b| u32::from(b & 31)).collect();
        let check = (32 - luhn_sum(&values, true)) % 32;
        let mut key: String = values.iter().map(|&v| symbol(v)).collect();
        key.push(symbol(check));
        LicenseKey(key)
    }

    /// A key as someone typed or pasted it. `LicenseInvalid` when it is not the shape of a
    /// key or its check symbol does not match (a typo), without asking the store.
    pub fn parse(raw: &str) -> Result<LicenseKey> {
        if raw.len() > MAX_INPUT {
            return Err(Error::LicenseInvalid("This is not a license key"));
        }
        let mut values = Vec::with_capacity(RANDOM_SYMBOLS + 1);
        for b in raw.bytes().filter(|b| !matches!(b, b'-' | b' ')) {
            values.push(value_of(b).ok_or(Error::LicenseInvalid("This is not a license key"))?);
        }
        if values.len() != RANDOM_SYMBOLS + 1 {
            return Err(Error::LicenseInvalid("This is not a license key"));
        }
        if luhn_sum(&values, false) != 0 {
            return Err(Error::LicenseInvalid("This license key is mistyped: its check symbol does not match"));
        }
        Ok(LicenseKey(values.into_iter().map(symbol).collect()))
    }

    /// As it is shown and typed: five groups of five.
    pub fn display(&self) -> String {
        let symbols: Vec<char> = self.0.chars().collect();
        symbols.chunks(GROUP).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    }

    /// The digest the store keeps and looks the key up by (of the canonical symbols, so
    /// every way of typing one key finds it).
    pub fn digest(&self) -> String {
        token_digest(&self.0)
    }

    /// The first group, kept in clear to recognise the key by.
    pub fn prefix(&self) -> String {
        self.0.chars().take(GROUP).collect()
    }
}

impl fmt::Debug for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LicenseKey({}-…)", self.prefix())
    }
}

/// A license as stored, with how many devices hold it now.
#[derive(Debug, Clone, PartialEq)]
pub struct License {
    pub id: Uuid,
    pub app_id: Uuid,
    pub key_digest: String,
    pub key_prefix: String,
    pub product_id: String,
    pub user_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub max_activations: i32,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Live activations (read with the license; not a stored column).
    pub activations: i64,
}

/// Where a license stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseStatus {
    Active,
    Revoked,
    Expired,
}

impl LicenseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Active => "active",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<LicenseStatus> {
        match raw {
            "active" => Some(LicenseStatus::Active),
            "revoked" => Some(LicenseStatus::Revoked),
            "expired" => Some(LicenseStatus::Expired),
            _ => None,
        }
    }
}

impl License {
    /// Revoked outranks expired: a revoked license stays revoked when its time runs out.
    pub fn status(&self, at: DateTime<Utc>) -> LicenseStatus {
        if self.revoked_at.is_some() {
            LicenseStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= at) {
            LicenseStatus::Expired
        } else {
            LicenseStatus::Active
        }
    }
}

/// One device holding a license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub id: Uuid,
    pub license_id: Uuid,
    pub app_id: Uuid,
    pub fingerprint: String,
    pub device_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// Which licenses a list shows; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenseFilter {
    pub product_id: Option<String>,
    pub user_id: Option<Uuid>,
    pub status: Option<LicenseStatus>,
}

/// Where a page of licenses (newest first) starts: after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenseCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// The `typ` of a license token's header: it is signed with the app's key like an access
/// token, and `typ` keeps either from passing for the other (RFC 8725, 3.11).
pub const LICENSE_TOKEN_TYP: &str = "license+jwt";
/// The longest a license token lasts (less when its license expires sooner): how long a
/// device may run offline, and how late a revocation may reach an offline device. Online
/// verification hands out a fresh one.
pub const LICENSE_TOKEN_TTL_SECONDS: i64 = 14 * 86_400;

/// The claims of a license token: what a device checks offline, against the app's JWKS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LicenseClaims {
    pub iss: String,
    pub aud: String,
    /// The license's id.
    pub sub: String,
    pub iat: i64,
    /// The license's expiry, or `iat` + [`LICENSE_TOKEN_TTL_SECONDS`] when that is sooner.
    pub exp: i64,
    pub jti: String,
    pub product: String,
    /// The device the token was issued to: a device checks it is its own.
    pub fingerprint: String,
    /// The activation's id.
    pub aid: String,
    /// The license's own expiry (unix seconds); absent when it never expires.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub license_exp: Option<i64>,
    /// The end-user the license was issued to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    /// The organization the license was issued to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub org: Option<String>,
}

/// Free text a caller names things with (a product id, a device's fingerprint or name):
/// trimmed, not empty, at most `max` characters, no control characters.
pub fn bounded_text(raw: &str, field: &str, max: usize) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Error::invalid(format!("{field} must not be empty")));
    }
    if text.chars().count() > max {
        return Err(Error::invalid(format!("{field} must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{field} must not contain control characters")));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_and_have_the_documented_shape() {
        for _ in 0..200 {
            let key = LicenseKey::generate();
            let shown = key.display();
            assert_eq!(shown.len(), 29, "{shown}");
            assert_eq!(shown.split('-').count(), 5);
            assert!(shown.split('-').all(|g| g.len() == 5));
            assert_eq!(LicenseKey::parse(&shown).unwrap(), key);
            assert_eq!(key.prefix(), shown[..5]);
        }
        assert_ne!(LicenseKey::generate(), LicenseKey::generate());
    }

    #[test]
    fn typing_slack_is_forgiven() {
        let key = LicenseKey::generate();
        let shown = key.display();
        let sloppy = shown.to_lowercase().replace('-', " ").replace('0', "o").replace('1', "l");
        assert_eq!(LicenseKey::parse(&sloppy).unwrap().digest(), key.digest());
        let no_groups = shown.replace('-', "");
        assert_eq!(LicenseKey::parse(&no_groups).unwrap().digest(), key.digest());
    }

    #[test]
    fn every_single_symbol_typo_is_caught() {
        let key = LicenseKey::generate();
        let symbols: Vec<char> = key.display().replace('-', "").chars().collect();
        for i in 0..symbols.len() {
            for &replacement in ALPHABET {
                let replacement = char::from(replacement);
                if replacement == symbols[i] {
                    continue;
                }
                let mut typo = symbols.clone();
                typo[i] = replacement;
                let typo: String = typo.into_iter().collect();
                assert!(
                    matches!(LicenseKey::parse(&typo), Err(Error::LicenseInvalid(_))),
                    "{typo} was taken for {}",
                    key.display()
                );
            }
        }
    }

    #[test]
    fn not_keys_are_refused() {
        for raw in ["", "ABCDE", "ABCDE-ABCDE-ABCDE-ABCDE-ABCDU", "ÄBCDE-ABCDE-ABCDE-ABCDE-ABCDE", &"A".repeat(65)] {
            assert!(matches!(LicenseKey::parse(raw), Err(Error::LicenseInvalid(_))), "{raw}");
        }
        let key = LicenseKey::generate().display();
        assert!(LicenseKey::parse(&format!("{key}0")).is_err(), "a symbol too many");
    }

    #[test]
    fn a_key_is_not_printed() {
        let key = LicenseKey::generate();
        let printed = format!("{key:?}");
        assert!(!printed.contains(&key.display()[6..]), "{printed}");
    }

    #[test]
    fn status_revoked_outranks_expired() {
        let at = Utc::now();
        let mut l = License {
            id: Uuid::nil(),
            app_id: Uuid::nil(),
            key_digest: String::new(),
            key_prefix: String::new(),
            product_id: "pro".into(),
            user_id: None,
            org_id: None,
            max_activations: 1,
            metadata: serde_json::json!({}),
            created_at: at,
            updated_at: at,
            expires_at: None,
            revoked_at: None,
            activations: 0,
        };
        assert_eq!(l.status(at), LicenseStatus::Active);
        l.expires_at = Some(at);
        assert_eq!(l.status(at), LicenseStatus::Expired);
        l.revoked_at = Some(at);
        assert_eq!(l.status(at), LicenseStatus::Revoked);
    }
}
