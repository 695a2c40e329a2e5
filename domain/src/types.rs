//! Values that are valid by construction: slugs, emails, usernames, display names and
//! passwords checked against an app's policy.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Words that would shadow a top-level route if used as an app slug.
pub const RESERVED_SLUGS: &[&str] = &[
    "api",
    "v1",
    "console",
    "platform",
    "pkg",
    "assets",
    "health",
    "ready",
    "metrics",
    "docs",
    "openapi.json",
    ".well-known",
    "static",
];

/// The built-in app whose end-users are the platform accounts.
pub const PLATFORM_SLUG: &str = "platform";

#[allow(clippy::expect_used)] // the patterns are literals, checked by the unit tests below
static SLUG_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$").expect("slug pattern"));
#[allow(clippy::expect_used)]
static USERNAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,38}[A-Za-z0-9]$").expect("username pattern"));

/// An app's permanent, URL-safe name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Slug> {
        if !SLUG_RE.is_match(raw) {
            return Err(Error::invalid(
                "slug must be 3-40 characters of lowercase letters, digits and hyphens, \
                 starting and ending with a letter or digit",
            ));
        }
        if RESERVED_SLUGS.contains(&raw) {
            return Err(Error::invalid(format!("slug '{raw}' is reserved")));
        }
        Ok(Slug(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, kept as given; compare with [`Email::normalized`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email> {
        let raw = raw.trim();
        let invalid = || Error::InvalidEmail("Email address is invalid".into());
        if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = raw.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && !local.contains(['"', '(', ')', ',', ':', ';', '<', '>', '[', '\\', ']']);
        if !domain_ok || !local_ok {
            return Err(invalid());
        }
        Ok(Email(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is checked on: emails compare case-insensitively.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A user's handle: 3-40 letters, digits, `.`, `_` or `-`; never contains `@`, so an
/// identifier is unambiguously a username or an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username> {
        if !USERNAME_RE.is_match(raw) {
            return Err(Error::invalid(
                "username must be 3-40 letters, digits, '.', '_' or '-', starting and ending \
                 with a letter or digit",
            ));
        }
        Ok(Username(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A human name shown in the console and tokens' consumers: 1-100 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str, field: &str) -> Result<DisplayName> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 100 {
            return Err(Error::invalid(format!("{field} must be 1-100 characters")));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::invalid(format!("{field} must not contain control characters")));
        }
        Ok(DisplayName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An app's password rules (seed 001, step 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_uppercase: bool,
    pub require_number: bool,
    pub require_symbol: bool,
}

/// Longest password accepted: bounds the work one request can ask of argon2.
pub const PASSWORD_MAX_LENGTH: usize = 128;

/// Longest password input looked at at all, sign-in included: anything longer is refused
/// before it reaches argon2 (a sign-in still spends the dummy verify, so it takes as long).
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// The form a password is hashed and verified in: Unicode NFKC, so the same password typed
/// two ways (a composed or decomposed accent, full-width digits) is one password (NIST SP
/// 800-63B, 5.1.1.2). `None` when the input is longer than `PASSWORD_MAX_BYTES`.
pub fn normalized_password(raw: &secrecy::SecretString) -> Option<secrecy::SecretString> {
    use secrecy::ExposeSecret;
    use unicode_normalization::UnicodeNormalization;
    let raw = raw.expose_secret();
    (raw.len() <= PASSWORD_MAX_BYTES).then(|| secrecy::SecretString::from(raw.nfkc().collect::<String>()))
}

impl From<&crate::model::AuthConfig> for PasswordPolicy {
    fn from(config: &crate::model::AuthConfig) -> Self {
        PasswordPolicy {
            min_length: config.password_min_length,
            require_uppercase: config.password_require_uppercase,
            require_number: config.password_require_number,
            require_symbol: config.password_require_symbol,
        }
    }
}

impl PasswordPolicy {
    /// Checks a new password; the error names the first rule it breaks.
    pub fn check(&self, password: &str) -> Result<()> {
        let weak = |m: String| Err(Error::WeakPassword(m));
        let len = password.chars().count();
        if len < self.min_length as usize {
            return weak(format!("Password must be at least {} characters", self.min_length));
        }
        if len > PASSWORD_MAX_LENGTH {
            return weak(format!("Password must be at most {PASSWORD_MAX_LENGTH} characters"));
        }
        if self.require_uppercase && !password.chars().any(char::is_uppercase) {
            return weak("Password must contain an uppercase letter".into());
        }
        if self.require_number && !password.chars().any(|c| c.is_ascii_digit()) {
            return weak("Password must contain a number".into());
        }
        if self.require_symbol && password.chars().all(char::is_alphanumeric) {
            return weak("Password must contain a symbol".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_compared_in_nfkc_and_bounded() {
        use secrecy::{ExposeSecret, SecretString};
        let n = |s: &str| normalized_password(&SecretString::from(s.to_owned())).map(|p| p.expose_secret().to_owned());
        // "é" composed and as "e" + combining acute; full-width and ASCII digits; a ligature.
        assert_eq!(n("caf\u{e9}-1"), n("cafe\u{301}-1"));
        assert_eq!(n("\u{ff11}\u{ff12}3"), n("123"));
        assert_eq!(n("\u{fb01}ne").as_deref(), Some("fine"));
        assert_eq!(n("CorrectHorseBatteryStaple").as_deref(), Some("CorrectHorseBatteryStaple"));
        assert!(n(&"x".repeat(PASSWORD_MAX_BYTES)).is_some());
        assert!(n(&"x".repeat(PASSWORD_MAX_BYTES + 1)).is_none());
    }

    #[test]
    fn slugs() {
        for ok in ["acme", "acme-corp", "a1b", "0-0", &"a".repeat(40)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ab",
            "-acme",
            "acme-",
            "Acme",
            "ac_me",
            "ac me",
            "acmé",
            &"a".repeat(41),
            "api",
            "console",
            "platform",
            "health",
            "static",
            "../x",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["you@example.com", "A.B+tag@Sub.Example.co", "x@y.io"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@@b.com",
            "a@-b.com",
            ".a@b.com",
            "a..b@c.com",
            "a@b..com",
            "<a>@b.com",
        ] {
            assert!(matches!(Email::parse(bad), Err(Error::InvalidEmail(_))), "{bad}");
        }
        assert_eq!(Email::parse("Ada@Example.COM").map(|e| e.normalized()).ok(), Some("ada@example.com".into()));
    }

    #[test]
    fn usernames() {
        for ok in ["ada", "yourname", "a.b_c-d", "Ada99"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ab", "a@b.com", "-ada", "ada.", "a d a", &"a".repeat(41)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Ada Lovelace ", "name").ok().map(|d| d.0), Some("Ada Lovelace".into()));
        assert!(DisplayName::parse("   ", "name").is_err());
        assert!(DisplayName::parse("a\u{0007}b", "name").is_err());
        assert!(DisplayName::parse(&"x".repeat(101), "name").is_err());
    }

    #[test]
    fn password_policy_names_the_rule() {
        let strict =
            PasswordPolicy { min_length: 10, require_uppercase: true, require_number: true, require_symbol: true };
        let msg = |p: &str| match strict.check(p) {
            Err(Error::WeakPassword(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg("short").contains("at least 10"));
        assert!(msg("longenoughpw").contains("uppercase"));
        assert!(msg("Longenoughpw").contains("number"));
        assert!(msg("Longenoughpw1").contains("symbol"));
        assert!(strict.check("Longenoughpw1!").is_ok());
        assert!(msg(&"A1!".repeat(50)).contains("at most"));
    }
}
