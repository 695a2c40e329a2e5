//! The one place mail is rendered: each message's subject, text and HTML from what it
//! carries. Values are escaped for HTML; the text part is what scanners and plain-text
//! readers see, with every link written out whole.

use chrono::TimeDelta;
use shared::config::{is_css_color, AuthConfig, Branding, MailTemplate};

use crate::i18n::{Arg, Language};

/// The messages Rampart sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Invite,
    VerifyEmail,
    ResetPassword,
    PasswordChanged,
    MagicLink,
    /// A security notice about the account's contacts (`Vars::notice` says what changed).
    ContactChanged,
    /// A one-time sign-in code (seed 002's OTP).
    Otp,
    /// The user was let in from a feature's waitlist (`Vars::feature` names it).
    WaitlistAdmitted,
    /// An invite for an account to help manage an app (an app member). Sent by Rampart in
    /// the `platform` app's name and wording, not an app's: not among `ALL`, which an app
    /// may reword.
    MemberInvite,
    /// To an app's owners: its webhook endpoint was disabled after a day of failures
    /// (`Vars::notice` says which). Rampart's wording, like `MemberInvite`.
    WebhookDisabled,
    /// An invitation into an organization of the app (`Vars::notice` is the organization's
    /// name, so an app's own template says it with `{{notice}}`).
    OrgInvite,
}

impl MailKind {
    pub const ALL: [MailKind; 9] = [
        MailKind::Invite,
        MailKind::VerifyEmail,
        MailKind::ResetPassword,
        MailKind::PasswordChanged,
        MailKind::MagicLink,
        MailKind::ContactChanged,
        MailKind::Otp,
        MailKind::WaitlistAdmitted,
        MailKind::OrgInvite,
    ];

    pub fn parse(raw: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Invite => "invite",
            MailKind::VerifyEmail => "verify_email",
            MailKind::ResetPassword => "reset_password",
            MailKind::PasswordChanged => "password_changed",
            MailKind::MagicLink => "magic_link",
            MailKind::ContactChanged => "contact_changed",
            MailKind::Otp => "otp",
            MailKind::WaitlistAdmitted => "waitlist_admitted",
            MailKind::MemberInvite => "member_invite",
            MailKind::WebhookDisabled => "webhook_disabled",
            MailKind::OrgInvite => "org_invite",
        }
    }
}

/// What a message says, besides its kind.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// The app's display name (`render` puts the branding's in its place when it has one).
    pub app: String,
    /// Whom it greets, if known.
    pub name: Option<String>,
    /// The link to follow.
    pub link: Option<String>,
    /// A code to type (invites show theirs).
    pub code: Option<String>,
    /// How long the link or code lasts.
    pub lasts: Option<TimeDelta>,
    /// What changed, for notices.
    pub notice: Option<String>,
    /// The feature a waitlist was for.
    pub feature: Option<String>,
    /// The language of Rampart's wording (an app's own templates are as it wrote them); by
    /// default the request's.
    pub language: Option<Language>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A one-time code as a text message: short, the code first, and the app's domain-bound
/// form (`@host #code`) that phones offer to fill in; in the request's language.
pub fn otp_sms(app: &str, code: &str, lasts: TimeDelta, host: Option<&str>) -> String {
    let language = request_language();
    let args =
        [("app", Arg::from(app.trim())), ("code", Arg::from(code)), ("lasts", Arg::from(duration_in(language, lasts)))];
    let mut text = language.text_with("sms-otp", &args);
    if let Some(host) = host {
        text.push_str(&format!("\n\n@{host} #{code}"));
    }
    text
}

/// The language of the request being served (its `?lang=` or `Accept-Language`), English
/// outside one.
pub(crate) fn request_language() -> Language {
    crate::audit::current_request().language.unwrap_or_default()
}

/// "72 hours", "15 minutes", "1 day", in the request's language.
pub fn duration_words(d: TimeDelta) -> String {
    duration_in(request_language(), d)
}

/// "72 hours", "15 minutes", "1 day" (or "72 heures"...).
pub fn duration_in(language: Language, d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(1);
    let (n, key) = if minutes % (24 * 60) == 0 && minutes >= 48 * 60 {
        (minutes / (24 * 60), "duration-days")
    } else if minutes % 60 == 0 {
        (minutes / 60, "duration-hours")
    } else {
        (minutes, "duration-minutes")
    };
    language.text_with(key, &[("n", Arg::from(n))])
}

pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One paragraph of a message, for both parts.
enum Block {
    Text(String),
    Button { label: String, link: String },
    Code(String),
}

/// `template` with its `{{placeholders}}` filled in from `values` (escaped for HTML when
/// `html`); an unknown placeholder is left as it is (the config refuses those).
fn fill(template: &str, values: &[(&str, String)], html: bool) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) if html => out.push_str(&escape(value)),
            Some((_, value)) => out.push_str(value),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The name an app's end-users see: its branding's display name, else its own.
pub fn branded_name<'a>(display_name: &'a str, branding: &'a Branding) -> &'a str {
    match branding.display_name.trim() {
        "" => display_name,
        name => name,
    }
}

/// How an app's mail looks: the values of its branding that pass the config's checks, and
/// Rampart's look for the others (a value stored before a check existed never reaches the
/// HTML unchecked).
struct Look {
    logo: Option<String>,
    primary: String,
    on_primary: String,
}

impl Look {
    fn of(branding: &Branding) -> Look {
        let checked = |one: Branding| one.check().is_ok();
        let defaults = Branding::default();
        let logo = Some(branding.logo_url.trim())
            .filter(|url| !url.is_empty())
            .filter(|url| checked(Branding { logo_url: (*url).to_owned(), ..Branding::default() }))
            .map(str::to_owned);
        let primary = if checked(Branding { primary_color: branding.primary_color.clone(), ..Branding::default() }) {
            branding.primary_color.clone()
        } else {
            defaults.primary_color
        };
        let on_primary = branding
            .css_variables
            .get("on-primary")
            .filter(|c| is_css_color(c))
            .cloned()
            .unwrap_or_else(|| "#ffffff".to_owned());
        Look { logo, primary, on_primary }
    }

    /// The logo above the message, if the app has one.
    fn header(&self, name: &str) -> String {
        self.logo
            .as_ref()
            .map(|logo| {
                format!(
                    "<p><img src=\"{}\" alt=\"{}\" height=\"48\" style=\"max-height:48px;max-width:240px\"></p>",
                    escape(logo),
                    escape(name)
                )
            })
            .unwrap_or_default()
    }
}

/// The message of `kind`, in the app's wording when it has one for that kind (the config's
/// `mail_templates`), else in Rampart's, in the app's branding.
pub fn render(kind: MailKind, vars: &Vars, config: &AuthConfig) -> Rendered {
    match config.mail_templates.get(kind.as_str()) {
        Some(template) => render_template(template, vars, &config.branding),
        None => render_default(kind, &branded(vars, &config.branding), &Look::of(&config.branding)),
    }
}

/// `vars` with the app's name as its end-users see it.
fn branded(vars: &Vars, branding: &Branding) -> Vars {
    Vars { app: branded_name(&vars.app, branding).to_owned(), ..vars.clone() }
}

/// An app's own wording, filled in. Without an HTML part, the text's paragraphs are the HTML,
/// under the app's logo; an HTML part of the app's own is its whole look.
pub fn render_template(template: &MailTemplate, vars: &Vars, branding: &Branding) -> Rendered {
    let vars = &branded(vars, branding);
    let values = [
        ("app", vars.app.clone()),
        ("name", vars.name.clone().unwrap_or_default()),
        ("link", vars.link.clone().unwrap_or_default()),
        ("code", vars.code.clone().unwrap_or_default()),
        ("expires", vars.lasts.map(duration_words).unwrap_or_default()),
        ("notice", vars.notice.clone().unwrap_or_default()),
        ("feature", vars.feature.clone().unwrap_or_default()),
    ];
    let subject: String = fill(&template.subject, &values, false).chars().filter(|c| !c.is_control()).collect();
    let text = fill(&template.text, &values, false);
    let html = if template.html.trim().is_empty() {
        let paragraphs: String = text
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("<p>{}</p>", escape(p.trim()).replace('\n', "<br>")))
            .collect();
        let header = Look::of(branding).header(&vars.app);
        format!("<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>{header}{paragraphs}</body></html>", escape(&subject))
    } else {
        fill(&template.html, &values, true)
    };
    Rendered { subject, text, html }
}

fn render_default(kind: MailKind, vars: &Vars, look: &Look) -> Rendered {
    let language = vars.language.unwrap_or_else(request_language);
    let app = vars.app.trim();
    let say = |key: &str| language.text_with(key, &[("app", Arg::from(app))]);
    let greeting = match vars.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => language.text_with("mail-greeting-name", &[("name", Arg::from(name))]),
        None => language.text("mail-greeting"),
    };
    let lasts = vars.lasts.map(|d| duration_in(language, d));
    let with_lasts = |key: &str, lasts: &str| language.text_with(key, &[("lasts", Arg::from(lasts))]);
    let link = vars.link.clone().unwrap_or_default();
    let code = vars.code.clone().unwrap_or_default();
    let ignore = language.text("mail-ignore");
    let button = |key: &str, link: String| Block::Button { label: say(key), link };
    // A message with a link: greeting, what it is for, the button, how long it lasts.
    let linked = |intro: &str, label: &str, link: String| {
        let mut blocks = vec![Block::Text(greeting.clone()), Block::Text(say(intro)), button(label, link)];
        if let Some(lasts) = &lasts {
            blocks.push(Block::Text(with_lasts("mail-link-lasts", lasts)));
        }
        blocks.push(Block::Text(ignore.clone()));
        blocks
    };
    let (subject, blocks) = match kind {
        MailKind::Invite => {
            let mut blocks = vec![
                Block::Text(greeting.clone()),
                Block::Text(say("mail-invite-intro")),
                Block::Code(code.clone()),
                button("mail-invite-button", link),
            ];
            if let Some(lasts) = &lasts {
                blocks.push(Block::Text(with_lasts("mail-invite-lasts", lasts)));
            }
            (say("mail-invite-subject"), blocks)
        }
        MailKind::OrgInvite => {
            let org = vars.notice.clone().unwrap_or_default();
            let say_org = |key: &str| {
                language.text_with(key, &[("app", Arg::from(app)), ("org", Arg::from(org.trim().to_owned()))])
            };
            let mut blocks = vec![
                Block::Text(greeting.clone()),
                Block::Text(say_org("mail-org-invite-intro")),
                Block::Code(code.clone()),
                Block::Button { label: say_org("mail-org-invite-button"), link },
            ];
            if let Some(lasts) = &lasts {
                blocks.push(Block::Text(with_lasts("mail-invite-lasts", lasts)));
            }
            blocks.push(Block::Text(ignore.clone()));
            (say_org("mail-org-invite-subject"), blocks)
        }
        MailKind::VerifyEmail => (say("mail-verify-subject"), linked("mail-verify-intro", "mail-verify-button", link)),
        MailKind::ResetPassword => (say("mail-reset-subject"), linked("mail-reset-intro", "mail-reset-button", link)),
        MailKind::MagicLink => (say("mail-magic-subject"), linked("mail-magic-intro", "mail-magic-button", link)),
        MailKind::PasswordChanged => (
            say("mail-changed-subject"),
            vec![
                Block::Text(greeting.clone()),
                Block::Text(say("mail-changed-intro")),
                Block::Text(language.text("mail-not-you")),
            ],
        ),
        MailKind::ContactChanged => (
            say("mail-contact-subject"),
            vec![
                Block::Text(greeting.clone()),
                Block::Text(vars.notice.clone().unwrap_or_default()),
                Block::Text(language.text("mail-not-you")),
            ],
        ),
        MailKind::Otp => {
            let mut blocks =
                vec![Block::Text(greeting.clone()), Block::Text(say("mail-otp-intro")), Block::Code(code.clone())];
            if let Some(lasts) = &lasts {
                blocks.push(Block::Text(with_lasts("mail-otp-lasts", lasts)));
            }
            blocks.push(Block::Text(ignore.clone()));
            let subject = language.text_with("mail-otp-subject", &[("app", Arg::from(app)), ("code", Arg::from(code))]);
            (subject, blocks)
        }
        MailKind::WaitlistAdmitted => {
            let feature = vars.feature.clone().unwrap_or_default();
            let say_feature = |key: &str| {
                language.text_with(key, &[("app", Arg::from(app)), ("feature", Arg::from(feature.as_str()))])
            };
            let blocks = vec![Block::Text(greeting.clone()), Block::Text(say_feature("mail-waitlist-intro"))];
            (say_feature("mail-waitlist-subject"), blocks)
        }
        // `notice` says which endpoint of which app (see `webhooks.rs`).
        MailKind::WebhookDisabled => (
            say("mail-webhook-disabled-subject"),
            vec![
                Block::Text(greeting.clone()),
                Block::Text(vars.notice.clone().unwrap_or_default()),
                button("mail-webhook-disabled-button", link),
                Block::Text(language.text("mail-webhook-disabled-after")),
            ],
        ),
        // `notice` says who is invited to which app with which role (see `members.rs`).
        MailKind::MemberInvite => {
            let mut blocks = vec![
                Block::Text(greeting.clone()),
                Block::Text(vars.notice.clone().unwrap_or_default()),
                button("mail-member-invite-button", link),
            ];
            if let Some(lasts) = &lasts {
                blocks.push(Block::Text(with_lasts("mail-link-lasts", lasts)));
            }
            blocks.push(Block::Text(language.text("mail-member-invite-account")));
            blocks.push(Block::Text(ignore.clone()));
            (say("mail-member-invite-subject"), blocks)
        }
    };
    let open_address = language.text("mail-open-address");
    let mut text = String::new();
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;color:#1f2330;max-width:560px;margin:24px auto;line-height:1.5\">{}",
        escape(&subject),
        look.header(app)
    );
    for block in &blocks {
        match block {
            Block::Text(t) => {
                text.push_str(t);
                html.push_str(&format!("<p>{}</p>", escape(t)));
            }
            Block::Code(code) => {
                text.push_str(&format!("    {code}"));
                html.push_str(&format!(
                    "<p style=\"font-family:ui-monospace,monospace;font-size:18px;background:#f2f3f7;padding:8px 12px;border-radius:6px\">{}</p>",
                    escape(code)
                ));
            }
            Block::Button { label, link } => {
                text.push_str(&format!("{label}: {link}"));
                html.push_str(&format!(
                    "<p><a href=\"{href}\" style=\"display:inline-block;background:{primary};color:{on_primary};padding:10px 18px;border-radius:6px;text-decoration:none\">{label}</a></p>\
                     <p style=\"font-size:13px;color:#5b6073\">{open_address} {href}</p>",
                    href = escape(link),
                    label = escape(label),
                    primary = escape(&look.primary),
                    on_primary = escape(&look.on_primary),
                ));
            }
        }
        text.push_str("\n\n");
    }
    text.push_str(&format!("-- \n{app}\n"));
    html.push_str(&format!("<p style=\"font-size:13px;color:#5b6073\">{}</p></body></html>", escape(app)));
    Rendered { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(TimeDelta::hours(72)), "3 days");
        assert_eq!(duration_words(TimeDelta::hours(24)), "24 hours");
        assert_eq!(duration_words(TimeDelta::hours(1)), "1 hour");
        assert_eq!(duration_words(TimeDelta::minutes(15)), "15 minutes");
        assert_eq!(duration_words(TimeDelta::seconds(20)), "1 minute");
    }

    #[test]
    fn rampart_wording_in_french() {
        let vars = Vars {
            app: "Acme".into(),
            name: Some("Zoé".into()),
            link: Some("https://auth.example.com/acme/reset-password?token=t".into()),
            lasts: Some(TimeDelta::hours(1)),
            language: Some(Language::Fr),
            ..Vars::default()
        };
        let r = render(MailKind::ResetPassword, &vars, &AuthConfig::default());
        assert_eq!(r.subject, "Réinitialisez votre mot de passe Acme");
        assert!(r.text.starts_with("Bonjour Zoé,"), "{}", r.text);
        assert!(r.text.contains("Choisir un nouveau mot de passe: https://auth.example.com"), "{}", r.text);
        assert!(r.text.contains("valable 1 heure"), "{}", r.text);
        assert!(r.html.contains("Ou ouvrez cette adresse"), "{}", r.html);
        assert_eq!(duration_in(Language::Fr, TimeDelta::hours(72)), "3 jours");
        let notice = Language::Fr.text_with("notice-contact-added", &[("contact", Arg::from("+33612345678"))]);
        assert_eq!(notice, "+33612345678 a été ajouté à votre compte.");
        // An app's own wording stays as it wrote it.
        let mut config = AuthConfig::default();
        config.mail_templates.insert(
            "reset_password".into(),
            MailTemplate { subject: "Reset {{app}}".into(), text: "{{link}}".into(), html: String::new() },
        );
        assert_eq!(render(MailKind::ResetPassword, &vars, &config).subject, "Reset Acme");
    }

    #[test]
    fn values_are_escaped_in_html_and_whole_in_text() {
        let link = "https://auth.example.com/acme/v1/auth/verify-email?token=abc&x=<y>";
        let r = render(
            MailKind::VerifyEmail,
            &Vars {
                app: "Acme <b>&</b>".into(),
                name: Some("Ann \"A\"".into()),
                link: Some(link.into()),
                ..Vars::default()
            },
            &AuthConfig::default(),
        );
        assert_eq!(r.subject, "Confirm your email for Acme <b>&</b>");
        assert!(r.text.contains(link), "{}", r.text);
        assert!(r.html.contains("Acme &lt;b&gt;&amp;&lt;/b&gt;"));
        assert!(r.html.contains("Ann &quot;A&quot;"));
        assert!(r.html.contains("token=abc&amp;x=&lt;y&gt;"));
        assert!(!r.html.contains("<b>&</b>"));
    }

    #[test]
    fn an_invite_shows_its_code_and_link() {
        let r = render(
            MailKind::Invite,
            &Vars {
                app: "Acme".into(),
                code: Some("inv_123".into()),
                link: Some("http://x/acme/accept-invite?code=inv_123".into()),
                lasts: Some(TimeDelta::hours(72)),
                ..Vars::default()
            },
            &AuthConfig::default(),
        );
        assert!(r.text.contains("    inv_123\n"));
        assert!(r.text.contains("http://x/acme/accept-invite?code=inv_123"));
        assert!(r.text.contains("3 days"));
    }

    #[test]
    fn an_apps_wording_is_filled_in_and_escaped_in_html() {
        let vars = Vars {
            app: "Acme & Co".into(),
            name: Some("<Ann>".into()),
            link: Some("https://x.test/a?token=1&b=2".into()),
            lasts: Some(TimeDelta::minutes(15)),
            ..Vars::default()
        };
        let template = MailTemplate {
            subject: "Sign in to {{ app }}\r\nBcc: x".into(),
            text: "Hi {{name}},\n\n{{link}} (valid {{expires}}) {{unknown}}".into(),
            html: String::new(),
        };
        let templates = AuthConfig {
            mail_templates: [("magic_link".to_owned(), template.clone())].into(),
            ..AuthConfig::default()
        };
        let r = render(MailKind::MagicLink, &vars, &templates);
        assert_eq!(r.subject, "Sign in to Acme & CoBcc: x", "no header injection");
        assert_eq!(r.text, "Hi <Ann>,\n\nhttps://x.test/a?token=1&b=2 (valid 15 minutes) {{unknown}}");
        assert!(r.html.contains("<p>Hi &lt;Ann&gt;,</p>"), "{}", r.html);
        assert!(r.html.contains("token=1&amp;b=2"));
        let with_html = MailTemplate { html: "<a href=\"{{link}}\">{{app}}</a>".into(), ..template };
        assert_eq!(
            render_template(&with_html, &vars, &Branding::default()).html,
            "<a href=\"https://x.test/a?token=1&amp;b=2\">Acme &amp; Co</a>"
        );
        // Other kinds keep Rampart's wording.
        assert_eq!(render(MailKind::VerifyEmail, &vars, &templates).subject, "Confirm your email for Acme & Co");
    }

    fn with_branding(branding: Branding) -> AuthConfig {
        AuthConfig { branding, ..AuthConfig::default() }
    }

    fn reset_vars() -> Vars {
        Vars {
            app: "App acme".into(),
            name: Some("Ann".into()),
            link: Some("https://x.test/acme/reset-password?token=t".into()),
            lasts: Some(TimeDelta::hours(1)),
            ..Vars::default()
        }
    }

    #[test]
    fn rampart_s_look_without_branding() {
        let r = render(MailKind::ResetPassword, &reset_vars(), &AuthConfig::default());
        assert_eq!(r.subject, "Reset your App acme password");
        assert!(r.html.contains("background:#3451d1;color:#ffffff;"), "{}", r.html);
        assert!(!r.html.contains("<img"), "no logo: {}", r.html);
    }

    #[test]
    fn the_branding_names_colours_and_tops_the_mail() {
        let config = with_branding(Branding {
            display_name: "Acme & Sons".into(),
            logo_url: "https://cdn.acme.test/logo.png?size=2&v=\"1\"".into(),
            primary_color: "#0a7d5a".into(),
            css_variables: [("on-primary".to_owned(), "#111111".to_owned())].into(),
            ..Branding::default()
        });
        let r = render(MailKind::ResetPassword, &reset_vars(), &config);
        assert_eq!(r.subject, "Reset your Acme & Sons password");
        assert!(r.text.ends_with("-- \nAcme & Sons\n"), "{}", r.text);
        assert!(!r.text.contains("App acme"), "{}", r.text);
        assert!(r.html.contains("background:#0a7d5a;color:#111111;"), "{}", r.html);
        let body = r.html.split_once("<body").unwrap().1;
        assert!(
            body.split_once('>').unwrap().1.starts_with(
                "<p><img src=\"https://cdn.acme.test/logo.png?size=2&amp;v=&quot;1&quot;\" alt=\"Acme &amp; Sons\""
            ),
            "the logo first, escaped: {}",
            r.html
        );
        assert!(r.html.contains("Acme &amp; Sons"), "{}", r.html);
        assert!(!r.html.contains("Acme & Sons"), "{}", r.html);
        // An app's wording gets the same name, and the logo when its HTML is made from the text.
        let template = MailTemplate { subject: "{{app}}: reset".into(), text: "{{link}}".into(), html: String::new() };
        let config = AuthConfig { mail_templates: [("reset_password".to_owned(), template)].into(), ..config };
        let r = render(MailKind::ResetPassword, &reset_vars(), &config);
        assert_eq!(r.subject, "Acme & Sons: reset");
        assert!(r.html.contains("<body><p><img src=\"https://cdn.acme.test/logo.png"), "{}", r.html);
    }

    /// A value the config would refuse (stored before its check, or written to the store by
    /// hand) never reaches the HTML: Rampart's look stands in for it.
    #[test]
    fn unchecked_branding_is_left_out() {
        let config = with_branding(Branding {
            display_name: "  ".into(),
            logo_url: "javascript:alert(1)".into(),
            primary_color: "red;background:url(https://evil.test/)".into(),
            css_variables: [("on-primary".to_owned(), "#fff;x:y".to_owned())].into(),
            ..Branding::default()
        });
        let r = render(MailKind::ResetPassword, &reset_vars(), &config);
        assert_eq!(r.subject, "Reset your App acme password", "a blank display name is no name");
        assert!(r.html.contains("background:#3451d1;color:#ffffff;"), "{}", r.html);
        assert!(!r.html.contains("evil") && !r.html.contains("javascript") && !r.html.contains("x:y"), "{}", r.html);
        let http_logo = with_branding(Branding { logo_url: "http://plain.test/l.png".into(), ..Branding::default() });
        assert!(!render(MailKind::ResetPassword, &reset_vars(), &http_logo).html.contains("<img"));
    }
}
