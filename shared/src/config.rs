//! An app's auth config: its one definition, its defaults and bounds, and how a patch is laid
//! over it. A new setting is a field here (with its default, and its bounds if it is a
//! number) plus its field in the console's form.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An app's auth configuration (seed 001, step 2): what the store keeps, the REST API shows
/// and takes, and the console edits. Unknown fields are refused; missing ones take their
/// defaults, so older rows read as the current shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub signup_enabled: bool,
    pub signin_enabled: bool,
    pub signup_requires_pak: bool,
    pub password_min_length: u32,
    pub password_require_uppercase: bool,
    pub password_require_number: bool,
    pub password_require_symbol: bool,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_seconds: i64,
    pub refresh_reuse_grace_seconds: i64,
    /// Refresh and logout need the app's `app_id` + `app_secret` (seed 002) in the body: only
    /// the app's backend can keep a session going or end it.
    pub refresh_requires_app_credentials: bool,
    pub enforce_app_permissions: bool,
    pub signup_default_role: String,
    /// Audit events older than this many days are cut from the log (whole prefixes of the
    /// chain, leaving a checkpoint); 0 keeps them for ever.
    pub audit_retention_days: i64,
    /// The sender of the app's mail: its name (empty: the app's display name) and address
    /// (empty: the server's `RAMPART_MAIL_FROM`).
    pub mail_from_name: String,
    pub mail_from_address: String,
    /// Sign-up sends a link that verifies the new user's email.
    pub verify_email_on_signup: bool,
    /// `POST auth/magic-link` signs users in by an emailed link.
    pub magic_link_enabled: bool,
    /// `POST auth/check-email` answers whether an email has an account (an existence
    /// oracle, so off unless the app wants a multi-step sign-in).
    pub check_email_enabled: bool,
    /// Where emailed links may send the user afterwards (`redirectTo`): exact absolute URLs;
    /// relative paths are always allowed.
    pub allowed_redirect_urls: Vec<String>,
    pub verify_email_link_ttl_seconds: i64,
    pub reset_password_link_ttl_seconds: i64,
    pub magic_link_ttl_seconds: i64,
    /// The app's own wording of its messages, by kind (see [`MAIL_KINDS`]); a kind without
    /// one uses Rampart's. A patch sets one kind at a time; `null` drops it.
    pub mail_templates: BTreeMap<String, MailTemplate>,
    /// `POST auth/send-otp` and `verify-otp` (seed 002) sign users in by a code sent by
    /// email or SMS; only backends holding the app's credentials call them.
    pub otp_enabled: bool,
    /// How long a one-time code works.
    pub otp_ttl_seconds: i64,
    /// Consecutive failed password sign-ins after which an account is locked for
    /// `lockout_seconds` (the answer stays `INVALID_CREDENTIALS`; a reset, magic link or OTP
    /// still lets the owner in); 0 never locks.
    pub lockout_threshold: i64,
    pub lockout_seconds: i64,
    /// Every rate limit below counts requests over this sliding window; past a limit the
    /// answer is `429 RATE_LIMIT_EXCEEDED` with `Retry-After`.
    pub rate_limit_window_seconds: i64,
    /// Password sign-ins from one IP, and for one account (or unknown identifier).
    pub rate_limit_signin_per_ip: i64,
    pub rate_limit_signin_per_identifier: i64,
    /// One-time codes sent to one email or phone, and asked for from one IP.
    pub rate_limit_otp_per_destination: i64,
    pub rate_limit_otp_per_ip: i64,
    /// Mailed links (reset, magic link, verification) to one address, and requests from one
    /// IP that mail a link or look an email up (`check-email`), each counted on its own.
    pub rate_limit_links_per_destination: i64,
    pub rate_limit_links_per_ip: i64,
    /// Codes and tokens redeemed from one IP: OTP guesses, invites, reset, verification and
    /// sign-in links.
    pub rate_limit_redeem_per_ip: i64,
    /// Failed app-credential and API-key checks from one IP.
    pub rate_limit_credential_failures_per_ip: i64,
    /// Origins (`scheme://host[:port]`) whose pages may send cookie-authenticated writes
    /// (seed 003's cookie API, the hosted pages' forms). The public URL's own origin is always
    /// allowed; the origins of `allowed_redirect_urls` are too.
    pub allowed_origins: Vec<String>,
    /// Cookie-authenticated writes must also carry `X-CSRF-Token` (from `GET auth/csrf/token`)
    /// besides passing the origin checks.
    pub csrf_token_required: bool,
    /// A browser session (the `session` cookie of the hosted pages and seed 003's cookie API)
    /// lasts this long from its sign-in or its last renewal...
    pub session_cookie_ttl_seconds: i64,
    /// ...is renewed for another `session_cookie_ttl_seconds` when it is used within this long
    /// of its end (0: never renewed)...
    pub session_cookie_renew_within_seconds: i64,
    /// ...and never lasts past this long after its sign-in, however often it is used.
    pub session_max_lifetime_seconds: i64,
    /// How the hosted pages and the app's mail look.
    pub branding: Branding,
    /// The features end-users may join a waitlist for (seed 004's `me/waitlists/{feature}`):
    /// names like `beta` or `ai-search`. A feature dropped from the list keeps its entries
    /// for admins, but takes no new ones.
    pub waitlists: Vec<String>,
    /// End-users may create, join and switch into organizations inside the app (seed 002's
    /// tenants, seed 003's organizations, seed 004's account memberships).
    pub organizations_enabled: bool,
    /// Who may create an organization (see [`ORGANIZATION_CREATION`]): `verified_users` (a
    /// verified primary email first, as seed 003 says), `any_user`, or `admins_only` (end-users
    /// whose role on the app is its owner or admin role).
    pub organization_creation: String,
    /// How long an invitation into an organization lasts.
    pub organization_invite_ttl_seconds: i64,
    /// Days after which the app's signing key is rotated on its own (0: never; else at least
    /// 30, so that at most two keys are published at a time).
    pub signing_key_rotation_days: i64,
}

/// Who may create organizations, and the config's default first.
pub const ORGANIZATION_CREATION: [&str; 3] = ["verified_users", "any_user", "admins_only"];

/// How an app's hosted pages and mail look. Every value is checked, so nothing here can carry
/// markup or arbitrary CSS into a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Branding {
    /// The name the pages show (empty: the app's display name).
    pub display_name: String,
    /// An `https://` image shown above the form (empty: none).
    pub logo_url: String,
    /// The colour of buttons and links, `#rrggbb`.
    pub primary_color: String,
    /// `auto` (follow the device), `light` or `dark`.
    pub theme: String,
    /// Where "Need help?" points (an `https://` or `mailto:` URL; empty: no link).
    pub support_url: String,
    /// Values for the pages' CSS variables, by name without the dashes (see [`CSS_VARIABLES`]).
    pub css_variables: BTreeMap<String, String>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            display_name: String::new(),
            logo_url: String::new(),
            primary_color: "#3451d1".into(),
            theme: "auto".into(),
            support_url: String::new(),
            css_variables: BTreeMap::new(),
        }
    }
}

/// The kinds of value a branding CSS variable takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CssValue {
    /// `#rgb`, `#rrggbb` or `#rrggbbaa`.
    Color,
    /// A length in `px` or `rem`, 0 to 64 of them.
    Length,
    /// A font-family list: letters, digits, spaces, commas and hyphens.
    Font,
}

/// The CSS variables an app may set on its hosted pages, and what each takes.
pub const CSS_VARIABLES: [(&str, CssValue); 9] = [
    ("background", CssValue::Color),
    ("surface", CssValue::Color),
    ("text", CssValue::Color),
    ("muted", CssValue::Color),
    ("border", CssValue::Color),
    ("error", CssValue::Color),
    ("on-primary", CssValue::Color),
    ("radius", CssValue::Length),
    ("font", CssValue::Font),
];

/// `#rgb`, `#rrggbb` or `#rrggbbaa`.
pub fn is_css_color(raw: &str) -> bool {
    raw.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_css_value(kind: CssValue, raw: &str) -> bool {
    match kind {
        CssValue::Color => is_css_color(raw),
        CssValue::Length => {
            let number = raw.strip_suffix("px").or_else(|| raw.strip_suffix("rem"));
            number.is_some_and(|n| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && n.parse::<f64>().is_ok_and(|v| (0.0..=64.0).contains(&v))
            })
        }
        CssValue::Font => {
            !raw.trim().is_empty()
                && raw.len() <= 200
                && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '-'))
        }
    }
}

impl Branding {
    /// Why these values cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.display_name.chars().count() > 100 || self.display_name.chars().any(char::is_control) {
            return Err(ConfigError("branding.display_name must be at most 100 characters, on one line".into()));
        }
        let logo_ok =
            self.logo_url.is_empty() || (self.logo_url.starts_with("https://") && is_redirect_url(&self.logo_url));
        if !logo_ok {
            return Err(ConfigError("branding.logo_url must be an https:// URL".into()));
        }
        if !is_css_color(&self.primary_color) || self.primary_color.len() != 7 {
            return Err(ConfigError("branding.primary_color must be a colour like #3451d1".into()));
        }
        if !["auto", "light", "dark"].contains(&self.theme.as_str()) {
            return Err(ConfigError("branding.theme must be auto, light or dark".into()));
        }
        let support_ok = self.support_url.is_empty()
            || (self.support_url.starts_with("https://") && is_redirect_url(&self.support_url))
            || self.support_url.strip_prefix("mailto:").is_some_and(is_mail_address);
        if !support_ok {
            return Err(ConfigError("branding.support_url must be an https:// or mailto: URL".into()));
        }
        for (name, value) in &self.css_variables {
            let Some((_, kind)) = CSS_VARIABLES.iter().find(|(n, _)| n == name) else {
                let names: Vec<&str> = CSS_VARIABLES.iter().map(|(n, _)| *n).collect();
                return Err(ConfigError(format!(
                    "branding.css_variables: unknown variable '{name}' (one of {})",
                    names.join(", ")
                )));
            };
            if !is_css_value(*kind, value) {
                let wanted = match kind {
                    CssValue::Color => "a colour like #1f2330",
                    CssValue::Length => "a length like 8px or 0.5rem",
                    CssValue::Font => "a font list of letters, digits, spaces, commas and hyphens",
                };
                return Err(ConfigError(format!("branding.css_variables.{name} must be {wanted}")));
            }
        }
        Ok(())
    }

    /// The CSS that sets the app's variables, for a page's `<style>`: only checked values.
    pub fn css(&self) -> String {
        let mut css = format!(":root{{--primary:{};", self.primary_color);
        for (name, value) in &self.css_variables {
            if CSS_VARIABLES.iter().any(|(n, kind)| n == name && is_css_value(*kind, value)) {
                css.push_str(&format!("--{name}:{value};"));
            }
        }
        css.push('}');
        css
    }
}

/// `scheme://host[:port]` of an `http(s)` URL, lowercased: what a browser sends as `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') || authority.contains('\\') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// One message's wording: `{{app}}`, `{{name}}`, `{{link}}`, `{{code}}`, `{{expires}}`,
/// `{{notice}}` and `{{feature}}` are filled in (escaped in the HTML).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MailTemplate {
    pub subject: String,
    pub text: String,
    /// Empty: the text, as HTML paragraphs.
    #[serde(default)]
    pub html: String,
}

/// The messages Rampart sends, and what each must carry for its reader to act on it.
pub const MAIL_KINDS: [(&str, &[&str]); 9] = [
    ("invite", &["{{link}}", "{{code}}"]),
    ("org_invite", &["{{link}}", "{{code}}"]),
    ("verify_email", &["{{link}}"]),
    ("reset_password", &["{{link}}"]),
    ("password_changed", &[]),
    ("magic_link", &["{{link}}"]),
    ("contact_changed", &["{{notice}}"]),
    ("otp", &["{{code}}"]),
    ("waitlist_admitted", &["{{feature}}"]),
];

/// The placeholders a template may use.
pub const MAIL_PLACEHOLDERS: [&str; 7] = ["app", "name", "link", "code", "expires", "notice", "feature"];

impl MailTemplate {
    /// Why this wording cannot be kind `kind`'s, if it cannot.
    pub fn check(&self, kind: &str) -> Result<(), ConfigError> {
        let field = format!("mail_templates.{kind}");
        let Some((_, required)) = MAIL_KINDS.iter().find(|(k, _)| *k == kind) else {
            let kinds: Vec<&str> = MAIL_KINDS.iter().map(|(k, _)| *k).collect();
            return Err(ConfigError(format!("mail_templates: unknown message '{kind}' (one of {})", kinds.join(", "))));
        };
        let subject = self.subject.trim();
        if subject.is_empty() || subject.chars().count() > 200 || subject.chars().any(char::is_control) {
            return Err(ConfigError(format!("{field}.subject must be 1-200 characters on one line")));
        }
        if self.text.trim().is_empty() || self.text.len() > 20_000 || self.html.len() > 50_000 {
            return Err(ConfigError(format!(
                "{field} needs a text of at most 20000 bytes (and an html of at most 50000)"
            )));
        }
        for part in [&self.subject, &self.text, &self.html] {
            let mut rest = part.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                let name = after[..end].trim();
                if !MAIL_PLACEHOLDERS.contains(&name) {
                    return Err(ConfigError(format!(
                        "{field}: unknown placeholder {{{{{name}}}}} (use {})",
                        MAIL_PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(", ")
                    )));
                }
                rest = &after[end + 2..];
            }
        }
        for needed in *required {
            if !self.text.contains(needed) {
                return Err(ConfigError(format!("{field}.text must contain {needed}")));
            }
        }
        Ok(())
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            signup_enabled: true,
            signin_enabled: true,
            signup_requires_pak: false,
            password_min_length: 8,
            password_require_uppercase: false,
            password_require_number: false,
            password_require_symbol: false,
            access_token_ttl_seconds: 3600,
            refresh_token_ttl_seconds: 2_592_000,
            refresh_reuse_grace_seconds: 0,
            refresh_requires_app_credentials: false,
            enforce_app_permissions: false,
            signup_default_role: "member".into(),
            audit_retention_days: 0,
            mail_from_name: String::new(),
            mail_from_address: String::new(),
            verify_email_on_signup: false,
            magic_link_enabled: false,
            check_email_enabled: false,
            allowed_redirect_urls: Vec::new(),
            verify_email_link_ttl_seconds: 86_400,
            reset_password_link_ttl_seconds: 3600,
            magic_link_ttl_seconds: 900,
            mail_templates: BTreeMap::new(),
            otp_enabled: true,
            otp_ttl_seconds: 300,
            lockout_threshold: 10,
            lockout_seconds: 900,
            rate_limit_window_seconds: 900,
            rate_limit_signin_per_ip: 100,
            rate_limit_signin_per_identifier: 20,
            rate_limit_otp_per_destination: 5,
            rate_limit_otp_per_ip: 30,
            rate_limit_links_per_destination: 5,
            rate_limit_links_per_ip: 30,
            rate_limit_redeem_per_ip: 60,
            rate_limit_credential_failures_per_ip: 20,
            allowed_origins: Vec::new(),
            csrf_token_required: false,
            session_cookie_ttl_seconds: 604_800,
            session_cookie_renew_within_seconds: 86_400,
            session_max_lifetime_seconds: 2_592_000,
            branding: Branding::default(),
            waitlists: Vec::new(),
            organizations_enabled: false,
            organization_creation: ORGANIZATION_CREATION[0].into(),
            organization_invite_ttl_seconds: 604_800,
            signing_key_rotation_days: 0,
        }
    }
}

/// A refused config or patch. The message names the field, and starts with it where it can:
/// the console marks the field whose name the message starts with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl AuthConfig {
    /// The numeric settings with their values and the ranges they must stay in.
    fn bounded(&self) -> Vec<(&'static str, i64, RangeInclusive<i64>)> {
        vec![
            ("password_min_length", i64::from(self.password_min_length), 8..=128),
            ("access_token_ttl_seconds", self.access_token_ttl_seconds, 60..=86_400),
            ("refresh_token_ttl_seconds", self.refresh_token_ttl_seconds, 300..=31_536_000),
            ("refresh_reuse_grace_seconds", self.refresh_reuse_grace_seconds, 0..=300),
            ("audit_retention_days", self.audit_retention_days, 0..=3650),
            ("verify_email_link_ttl_seconds", self.verify_email_link_ttl_seconds, 300..=604_800),
            ("reset_password_link_ttl_seconds", self.reset_password_link_ttl_seconds, 300..=86_400),
            ("magic_link_ttl_seconds", self.magic_link_ttl_seconds, 60..=3600),
            ("otp_ttl_seconds", self.otp_ttl_seconds, 60..=600),
            ("lockout_threshold", self.lockout_threshold, 0..=1000),
            ("lockout_seconds", self.lockout_seconds, 60..=86_400),
            ("rate_limit_window_seconds", self.rate_limit_window_seconds, 60..=86_400),
            ("rate_limit_signin_per_ip", self.rate_limit_signin_per_ip, 1..=1_000_000),
            ("rate_limit_signin_per_identifier", self.rate_limit_signin_per_identifier, 1..=1_000_000),
            ("rate_limit_otp_per_destination", self.rate_limit_otp_per_destination, 1..=1_000_000),
            ("rate_limit_otp_per_ip", self.rate_limit_otp_per_ip, 1..=1_000_000),
            ("rate_limit_links_per_destination", self.rate_limit_links_per_destination, 1..=1_000_000),
            ("rate_limit_links_per_ip", self.rate_limit_links_per_ip, 1..=1_000_000),
            ("rate_limit_redeem_per_ip", self.rate_limit_redeem_per_ip, 1..=1_000_000),
            ("rate_limit_credential_failures_per_ip", self.rate_limit_credential_failures_per_ip, 1..=1_000_000),
            ("session_cookie_ttl_seconds", self.session_cookie_ttl_seconds, 300..=31_536_000),
            ("session_cookie_renew_within_seconds", self.session_cookie_renew_within_seconds, 0..=31_536_000),
            ("session_max_lifetime_seconds", self.session_max_lifetime_seconds, 300..=31_536_000),
            ("organization_invite_ttl_seconds", self.organization_invite_ttl_seconds, 3600..=2_592_000),
            ("signing_key_rotation_days", self.signing_key_rotation_days, 0..=3650),
        ]
    }

    /// The rules a config must keep beyond its types: ranges first, then the rules between
    /// fields. (That `signup_default_role` names a role of the app, and not the owner role, is
    /// the engine's to check.)
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value, range) in self.bounded() {
            if !range.contains(&value) {
                return Err(ConfigError(format!("{name} must be between {} and {}", range.start(), range.end())));
            }
        }
        if (1..30).contains(&self.signing_key_rotation_days) {
            return Err(ConfigError("signing_key_rotation_days must be 0 (never) or at least 30".into()));
        }
        if self.refresh_token_ttl_seconds < self.access_token_ttl_seconds {
            return Err(ConfigError("refresh_token_ttl_seconds must be at least access_token_ttl_seconds".into()));
        }
        if self.mail_from_name.chars().count() > 100 || self.mail_from_name.chars().any(char::is_control) {
            return Err(ConfigError("mail_from_name must be at most 100 characters, without line breaks".into()));
        }
        if !self.mail_from_address.is_empty() && !is_mail_address(&self.mail_from_address) {
            return Err(ConfigError("mail_from_address must be an email address".into()));
        }
        if self.allowed_redirect_urls.len() > 50 {
            return Err(ConfigError("allowed_redirect_urls must hold at most 50 URLs".into()));
        }
        for (kind, template) in &self.mail_templates {
            template.check(kind)?;
        }
        if self.session_max_lifetime_seconds < self.session_cookie_ttl_seconds {
            return Err(ConfigError("session_max_lifetime_seconds must be at least session_cookie_ttl_seconds".into()));
        }
        if self.session_cookie_renew_within_seconds > self.session_cookie_ttl_seconds {
            return Err(ConfigError(
                "session_cookie_renew_within_seconds must be at most session_cookie_ttl_seconds".into(),
            ));
        }
        if self.allowed_origins.len() > 50 {
            return Err(ConfigError("allowed_origins must hold at most 50 origins".into()));
        }
        for origin in &self.allowed_origins {
            if origin_of(origin).as_deref() != Some(origin.as_str()) {
                return Err(ConfigError(format!(
                    "allowed_origins must hold origins like https://app.example.com (scheme, host and port, lowercase, no path), not '{origin}'"
                )));
            }
        }
        self.branding.check()?;
        if self.waitlists.len() > crate::waitlists::FEATURES_MAX {
            return Err(ConfigError(format!(
                "waitlists must hold at most {} features",
                crate::waitlists::FEATURES_MAX
            )));
        }
        for (i, feature) in self.waitlists.iter().enumerate() {
            if !crate::waitlists::is_feature_name(feature) {
                return Err(ConfigError(format!(
                    "waitlists must hold feature names of 1-64 lowercase letters, digits, '-', '_' or '.', not '{feature}'"
                )));
            }
            if self.waitlists[..i].contains(feature) {
                return Err(ConfigError(format!("waitlists lists '{feature}' twice")));
            }
        }
        if !ORGANIZATION_CREATION.contains(&self.organization_creation.as_str()) {
            return Err(ConfigError(format!(
                "organization_creation must be one of {}",
                ORGANIZATION_CREATION.join(", ")
            )));
        }
        for url in &self.allowed_redirect_urls {
            if !is_redirect_url(url) {
                return Err(ConfigError(format!(
                    "allowed_redirect_urls must hold absolute http(s) URLs without a fragment, not '{url}'"
                )));
            }
        }
        Ok(())
    }

    /// This config with `patch`'s fields laid over it, then checked whole: the fields are
    /// read in name order and the first wrong one (unknown, of the wrong type, out of range)
    /// refuses the patch, naming it.
    pub fn patched(&self, patch: &Map<String, Value>) -> Result<AuthConfig, ConfigError> {
        let current = serde_json::to_value(self).map_err(|_| ConfigError("the auth config cannot be read".into()))?;
        let patch = Value::Object(patch.clone());
        let mut merged = current.clone();
        lay_over(&mut merged, &patch);
        // A template patched to null is dropped: the kind goes back to Rampart's wording.
        if let Some(Value::Object(templates)) = merged.get_mut("mail_templates") {
            templates.retain(|_, template| !template.is_null());
        }
        // So is a branding CSS variable: the pages go back to their own value.
        if let Some(Value::Object(variables)) = merged.pointer_mut("/branding/css_variables") {
            variables.retain(|_, value| !value.is_null());
        }
        let config: AuthConfig =
            serde_path_to_error::deserialize(merged).map_err(|e| refusal(&current, &patch, &e.path().to_string()))?;
        config.validate()?;
        Ok(config)
    }
}

/// `local@domain`, one line, no spaces or angle brackets: what a sender address may be.
pub fn is_mail_address(raw: &str) -> bool {
    raw.len() <= 254
        && raw.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
        && raw.matches('@').count() == 1
}

/// An absolute `http`/`https` URL with a host and no fragment, no credentials, no spaces.
pub fn is_redirect_url(raw: &str) -> bool {
    let rest = match raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")) {
        Some(rest) => rest,
        None => return false,
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    raw.len() <= 2048
        && !authority.is_empty()
        && !authority.contains('@')
        && !authority.contains('\\')
        && !raw.contains('#')
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\')
}

/// Lays `patch` over `target`: objects field by field, all the way down (so a patch of one
/// field of a group of settings keeps the group's other fields), anything else replaced.
fn lay_over(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (field, value) in patch {
                match target.get_mut(field) {
                    Some(slot) => lay_over(slot, value),
                    None => {
                        target.insert(field.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Why the value at `field` (a dotted path) in `patch` does not fit, worded by the kind of
/// value the config holds there.
fn refusal(current: &Value, patch: &Value, field: &str) -> ConfigError {
    let pointer = format!("/{}", field.replace('.', "/"));
    let expected = match current.pointer(&pointer) {
        None => return ConfigError(format!("unknown config field '{field}'")),
        Some(Value::Bool(_)) => "true or false",
        Some(Value::Number(_)) => {
            // A whole number the field's type cannot hold: say which ones it takes.
            let bounds = AuthConfig::default().bounded().into_iter().find(|(name, ..)| *name == field);
            if let (Some(_), Some((_, _, range))) = (patch.pointer(&pointer).and_then(Value::as_i64), bounds) {
                return ConfigError(format!("{field} must be {}-{}", range.start(), range.end()));
            }
            "a whole number"
        }
        Some(Value::String(_)) if field == "signup_default_role" => "a role name",
        Some(Value::String(_)) if field == "organization_creation" => {
            return ConfigError(format!("organization_creation must be one of {}", ORGANIZATION_CREATION.join(", ")))
        }
        Some(Value::String(_)) => "text",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "an object",
        Some(Value::Null) => "of the right type",
    };
    ConfigError(format!("{field} must be {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(patch: Value) -> String {
        let patch = patch.as_object().cloned().unwrap_or_default();
        AuthConfig::default().patched(&patch).unwrap_err().to_string()
    }

    /// The messages the REST API and the console have always given, word for word.
    #[test]
    fn each_refusal_names_its_field() {
        for (patch, message) in [
            (json!({"signup_enabled": "yes"}), "signup_enabled must be true or false"),
            (json!({"signin_enabled": null}), "signin_enabled must be true or false"),
            (json!({"access_token_ttl_seconds": "soon"}), "access_token_ttl_seconds must be a whole number"),
            (json!({"password_min_length": 8.5}), "password_min_length must be a whole number"),
            (json!({"password_min_length": "10"}), "password_min_length must be a whole number"),
            (json!({"password_min_length": -1}), "password_min_length must be 8-128"),
            (json!({"password_min_length": 7}), "password_min_length must be between 8 and 128"),
            (json!({"access_token_ttl_seconds": -5}), "access_token_ttl_seconds must be between 60 and 86400"),
            (json!({"refresh_reuse_grace_seconds": 301}), "refresh_reuse_grace_seconds must be between 0 and 300"),
            (json!({"signup_default_role": 5}), "signup_default_role must be a role name"),
            (json!({"nope": 1}), "unknown config field 'nope'"),
            (
                json!({"access_token_ttl_seconds": 3600, "refresh_token_ttl_seconds": 600}),
                "refresh_token_ttl_seconds must be at least access_token_ttl_seconds",
            ),
            // Fields are read in name order; type errors come before range errors.
            (json!({"password_min_length": 7, "signup_enabled": "no"}), "signup_enabled must be true or false"),
            (json!({"zzz": 1, "signin_enabled": 1}), "signin_enabled must be true or false"),
            (json!({"aaa": 1, "signin_enabled": 1}), "unknown config field 'aaa'"),
        ] {
            assert_eq!(refused(patch.clone()), message, "{patch}");
        }
    }

    #[test]
    fn a_patch_changes_only_its_fields() {
        let base = AuthConfig { signup_default_role: "trial".into(), ..AuthConfig::default() };
        let patch = json!({"signup_enabled": false, "password_min_length": 12});
        let patched = base.patched(patch.as_object().unwrap()).unwrap();
        assert_eq!(patched, AuthConfig { signup_enabled: false, password_min_length: 12, ..base.clone() });
        assert_eq!(base.patched(&Map::new()).unwrap(), base);
    }

    #[test]
    fn groups_of_settings_are_patched_field_by_field() {
        let mut target = json!({"a": 1, "group": {"x": 1, "y": 2}});
        lay_over(&mut target, &json!({"group": {"y": 3, "z": 4}, "b": [1]}));
        assert_eq!(target, json!({"a": 1, "b": [1], "group": {"x": 1, "y": 3, "z": 4}}));
        lay_over(&mut target, &json!({"group": null}));
        assert_eq!(target, json!({"a": 1, "b": [1], "group": null}));
    }

    #[test]
    fn mail_templates_are_patched_one_kind_at_a_time_and_checked() {
        let template = json!({"subject": "Join {{app}}", "text": "Code {{code}}, or {{link}}"});
        let config = AuthConfig::default()
            .patched(json!({"mail_templates": {"invite": template}}).as_object().unwrap())
            .unwrap();
        assert_eq!(config.mail_templates["invite"].subject, "Join {{app}}");
        let more = json!({"mail_templates": {"magic_link": {"subject": "In", "text": "{{link}}"}}});
        let config = config.patched(more.as_object().unwrap()).unwrap();
        assert_eq!(config.mail_templates.len(), 2);
        let dropped = config.patched(json!({"mail_templates": {"invite": null}}).as_object().unwrap()).unwrap();
        assert_eq!(dropped.mail_templates.keys().collect::<Vec<_>>(), ["magic_link"]);
        for (patch, message) in [
            (
                json!({"mail_templates": {"fax": {"subject": "s", "text": "t"}}}),
                "mail_templates: unknown message 'fax'",
            ),
            (
                json!({"mail_templates": {"magic_link": {"subject": "s", "text": "no link"}}}),
                "mail_templates.magic_link.text must contain {{link}}",
            ),
            (
                json!({"mail_templates": {"magic_link": {"subject": "s", "text": "{{link}} {{password}}"}}}),
                "mail_templates.magic_link: unknown placeholder {{password}}",
            ),
            (
                json!({"mail_templates": {"magic_link": {"subject": "", "text": "{{link}}"}}}),
                "mail_templates.magic_link.subject must be 1-200",
            ),
            (
                json!({"mail_templates": {"magic_link": {"subject": "a\nb", "text": "{{link}}"}}}),
                "mail_templates.magic_link.subject must be 1-200",
            ),
            (
                json!({"mail_templates": {"magic_link": {"subject": "s", "text": "{{link}}", "bcc": "x"}}}),
                "unknown config field 'mail_templates.magic_link.bcc'",
            ),
        ] {
            let refused = AuthConfig::default().patched(patch.as_object().unwrap()).unwrap_err().to_string();
            assert!(refused.starts_with(message), "{refused} for {patch}");
        }
    }

    #[test]
    fn stored_rows_missing_fields_read_as_defaults() {
        let config: AuthConfig = serde_json::from_value(json!({"signup_enabled": false})).unwrap();
        assert_eq!(config, AuthConfig { signup_enabled: false, ..AuthConfig::default() });
        assert!(AuthConfig::default().validate().is_ok());
    }

    #[test]
    fn branding_takes_only_checked_values() {
        let ok = json!({"branding": {"primary_color": "#112233", "theme": "dark", "logo_url": "https://cdn.example.com/l.png",
            "support_url": "mailto:help@example.com", "css_variables": {"radius": "4px", "font": "Inter, sans-serif", "background": "#fff"}}});
        let config = AuthConfig::default().patched(ok.as_object().unwrap()).unwrap();
        assert_eq!(
            config.branding.css(),
            ":root{--primary:#112233;--background:#fff;--font:Inter, sans-serif;--radius:4px;}"
        );
        let cleared =
            config.patched(json!({"branding": {"css_variables": {"radius": null}}}).as_object().unwrap()).unwrap();
        assert_eq!(cleared.branding.css_variables.keys().collect::<Vec<_>>(), ["background", "font"]);
        assert_eq!(cleared.branding.primary_color, "#112233", "the rest of the branding stays");
        for (patch, message) in [
            (json!({"branding": {"primary_color": "red"}}), "branding.primary_color must be"),
            (json!({"branding": {"primary_color": "#123;}body{"}}), "branding.primary_color must be"),
            (json!({"branding": {"theme": "neon"}}), "branding.theme must be"),
            (json!({"branding": {"logo_url": "javascript:alert(1)"}}), "branding.logo_url must be"),
            (json!({"branding": {"logo_url": "http://plain.example.com/x.png"}}), "branding.logo_url must be"),
            (json!({"branding": {"support_url": "javascript:alert(1)"}}), "branding.support_url must be"),
            (
                json!({"branding": {"css_variables": {"position": "fixed"}}}),
                "branding.css_variables: unknown variable 'position'",
            ),
            (
                json!({"branding": {"css_variables": {"text": "red;}</style><script>"}}}),
                "branding.css_variables.text must be",
            ),
            (
                json!({"branding": {"css_variables": {"font": "x;background:url(//evil)"}}}),
                "branding.css_variables.font must be",
            ),
            (json!({"branding": {"css_variables": {"radius": "999px"}}}), "branding.css_variables.radius must be"),
            (json!({"branding": {"display_name": "a\nb"}}), "branding.display_name must be"),
        ] {
            let refused = AuthConfig::default().patched(patch.as_object().unwrap()).unwrap_err().to_string();
            assert!(refused.starts_with(message), "{refused} for {patch}");
        }
    }

    #[test]
    fn organization_settings_are_checked() {
        let on = json!({"organizations_enabled": true, "organization_creation": "any_user"});
        let config = AuthConfig::default().patched(on.as_object().unwrap()).unwrap();
        assert!(config.organizations_enabled);
        assert_eq!(config.organization_creation, "any_user");
        assert_eq!(AuthConfig::default().organization_creation, "verified_users");
        for (patch, message) in [
            (json!({"organization_creation": "everyone"}), "organization_creation must be one of"),
            (json!({"organization_creation": 3}), "organization_creation must be one of"),
            (json!({"organizations_enabled": "yes"}), "organizations_enabled must be true or false"),
            (json!({"organization_invite_ttl_seconds": 60}), "organization_invite_ttl_seconds must be between"),
        ] {
            let refused = AuthConfig::default().patched(patch.as_object().unwrap()).unwrap_err().to_string();
            assert!(refused.starts_with(message), "{refused} for {patch}");
        }
    }

    #[test]
    fn origins_and_cookie_lifetimes_are_checked() {
        let ok = json!({"allowed_origins": ["https://app.example.com", "http://localhost:5173"]});
        assert!(AuthConfig::default().patched(ok.as_object().unwrap()).is_ok());
        for bad in [
            "https://app.example.com/",
            "HTTPS://APP.example.com",
            "ftp://x.example.com",
            "https://u@x.example.com",
            "*",
        ] {
            let patch = json!({"allowed_origins": [bad]});
            let refused = AuthConfig::default().patched(patch.as_object().unwrap()).unwrap_err().to_string();
            assert!(refused.starts_with("allowed_origins must hold origins"), "{refused} for {bad}");
        }
        let patch = json!({"session_cookie_ttl_seconds": 86400, "session_max_lifetime_seconds": 3600});
        let refused = AuthConfig::default().patched(patch.as_object().unwrap()).unwrap_err().to_string();
        assert_eq!(refused, "session_max_lifetime_seconds must be at least session_cookie_ttl_seconds");
        assert_eq!(origin_of("https://App.Example.com:8443/x?y#z").as_deref(), Some("https://app.example.com:8443"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
