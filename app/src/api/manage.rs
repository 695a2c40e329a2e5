//! The console's view of an app's settings: the account's own permissions on it, the auth
//! config, and the roles with their permission strings.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ConsoleError, RoleInfo};

/// The app's auth config as the console's form shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigView {
    // Spelled out: the `auth_config` server function below defines a struct `AuthConfig`.
    pub config: shared::AuthConfig,
    /// The roles new end-users may get (every role but owner).
    pub roles: Vec<String>,
}

/// What a settings form posts, field by field (`config[signup_enabled]`). Its fields are the
/// config's own: a new setting needs only its input on the form.
pub type ConfigForm = BTreeMap<String, String>;

/// The settings the Hosted pages tab edits, in a form of its own; the Auth config form edits
/// the others. Each form saves only its own, so neither puts back what the other changed.
pub const HOSTED_SETTINGS: [&str; 7] = [
    "allowed_redirect_urls",
    "allowed_origins",
    "session_cookie_ttl_seconds",
    "session_cookie_renew_within_seconds",
    "session_max_lifetime_seconds",
    "csrf_token_required",
    "branding",
];

/// A form's fields as the JSON patch `update_config` takes, each read as the kind of value
/// the config holds there: the Hosted pages form's (`hosted`) or the Auth config form's. A
/// checkbox sends nothing when unchecked, so an absent true-or-false field is false; a
/// number is counted in its field's `units` when it has one (`unit[session_cookie_ttl_seconds]`
/// = 3600: hours), and one that does not parse stays text, so the engine refuses it naming
/// the field; a list is a textarea's lines, blank ones dropped. Posted names the config does
/// not have are ignored.
#[cfg(feature = "ssr")]
fn to_patch(form: &ConfigForm, units: &ConfigForm, hosted: bool) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let Ok(Value::Object(shape)) = serde_json::to_value(shared::AuthConfig::default()) else {
        return serde_json::Map::new();
    };
    shape
        .into_iter()
        // Settings made of several values each (the mail templates, the branding) are not
        // plain fields: left out here, they keep what is stored.
        .filter(|(field, kind)| !kind.is_object() && HOSTED_SETTINGS.contains(&field.as_str()) == hosted)
        .map(|(field, kind)| {
            let posted = form.get(&field).map(String::as_str);
            let value = match kind {
                Value::Bool(_) => Value::Bool(posted.is_some_and(|v| !v.is_empty() && v != "false")),
                Value::Number(_) => {
                    let unit = units.get(&field).and_then(|u| u.trim().parse::<i64>().ok()).filter(|u| *u > 0);
                    counted(posted.unwrap_or_default().trim(), unit.unwrap_or(1))
                }
                Value::Array(_) => posted
                    .unwrap_or_default()
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(Value::from)
                    .collect(),
                _ => Value::from(posted.unwrap_or_default().trim()),
            };
            (field, value)
        })
        .collect()
}

/// `text` times `unit` as a whole number (1.5 hours is 5400 seconds), or the text itself when
/// it is no such number.
#[cfg(feature = "ssr")]
fn counted(text: &str, unit: i64) -> serde_json::Value {
    if let Some(whole) = text.parse::<i64>().ok().and_then(|n| n.checked_mul(unit)) {
        return whole.into();
    }
    let product = text.parse::<f64>().ok().filter(|n| n.is_finite()).map(|n| n * unit as f64);
    match product {
        Some(p) if p.fract() == 0.0 && p.abs() < 1e15 => (p as i64).into(),
        _ => text.into(),
    }
}

/// The branding part of the Hosted pages form as a patch: its text fields (`branding[theme]`),
/// and its CSS variables (`css[radius]`), a blank one meaning the pages' own value (dropped
/// when the app had set it).
#[cfg(feature = "ssr")]
fn branding_patch(branding: &ConfigForm, css: &ConfigForm, stored: &shared::config::Branding) -> serde_json::Value {
    use serde_json::Value;
    let mut patch = serde_json::Map::new();
    for field in ["display_name", "logo_url", "primary_color", "theme", "support_url"] {
        if let Some(value) = branding.get(field) {
            patch.insert(field.to_owned(), Value::from(value.trim()));
        }
    }
    let variables: serde_json::Map<String, Value> = shared::config::CSS_VARIABLES
        .iter()
        .filter_map(|(name, _)| match css.get(*name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(value) => Some((name.to_string(), Value::from(value))),
            None => stored.css_variables.contains_key(*name).then(|| (name.to_string(), Value::Null)),
        })
        .collect();
    if !variables.is_empty() {
        patch.insert("css_variables".into(), Value::Object(variables));
    }
    Value::Object(patch)
}

/// A permission string a role can hold: a built-in management one or the app's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionInfo {
    pub name: String,
    pub description: String,
    pub builtin: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolesView {
    pub roles: Vec<RoleInfo>,
    pub catalog: Vec<PermissionInfo>,
}

#[cfg(feature = "ssr")]
pub(crate) fn role_info(r: domain::model::Role) -> RoleInfo {
    RoleInfo { name: r.name, description: r.description, is_system: r.is_system, permissions: r.permissions }
}

/// The role names of the app, or `fallback` alone when the account may not read roles.
#[cfg(feature = "ssr")]
pub(crate) async fn role_names(
    caller: &domain::engine::Caller,
    slug: &str,
    fallback: &str,
) -> Result<Vec<String>, ConsoleError> {
    match super::session::guard::state()?.engine.roles(caller, slug).await {
        Ok(roles) => Ok(roles.into_iter().map(|r| r.name).collect()),
        Err(domain::Error::Forbidden(_)) => Ok(vec![fallback.to_owned()]),
        Err(e) => Err(e.into()),
    }
}

/// Checked permission boxes plus the free text ("billing.read, reports.export"), in order and
/// without repeats.
#[cfg(feature = "ssr")]
fn permission_set(checked: Vec<String>, extra: &str) -> Vec<String> {
    let mut set: Vec<String> = Vec::new();
    let typed = extra.split(|c: char| c == ',' || c.is_whitespace()).map(str::to_owned);
    for p in checked.into_iter().chain(typed) {
        let p = p.trim().to_owned();
        if !p.is_empty() && !set.contains(&p) {
            set.push(p);
        }
    }
    set
}

/// The signed-in account's permissions on the app: what the console offers it to do. The
/// engine checks each action again.
#[server(prefix = "/console/_fn", endpoint = "app_permissions")]
pub async fn app_permissions(slug: String) -> Result<Vec<String>, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let access = guard::state()?.engine.authorize(&caller, &slug, "app.read").await?;
    Ok(access.role.map(|r| r.permissions).unwrap_or_default())
}

#[server(prefix = "/console/_fn", endpoint = "auth_config")]
pub async fn auth_config(slug: String) -> Result<ConfigView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let config = guard::state()?.engine.config(&caller, &slug).await?;
    let roles = role_names(&caller, &slug, &config.signup_default_role)
        .await?
        .into_iter()
        .filter(|r| r != domain::permissions::OWNER)
        .collect();
    Ok(ConfigView { config, roles })
}

/// Saves every field of the form at once; the engine refuses the whole patch on the first
/// wrong value, so nothing is saved then.
#[server(prefix = "/console/_fn", endpoint = "save_config")]
pub async fn save_config(slug: String, config: ConfigForm) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let patch = to_patch(&config, &ConfigForm::new(), false);
    guard::state()?.engine.update_config(&caller, &slug, &patch).await?;
    Ok(())
}

/// What the Hosted pages tab shows: the config, and the app's own name (the pages show it
/// when the branding names none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostedView {
    pub config: shared::AuthConfig,
    pub app_name: String,
}

#[server(prefix = "/console/_fn", endpoint = "hosted_settings")]
pub async fn hosted_settings(slug: String) -> Result<HostedView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let app = guard::state()?.engine.authorize(&caller, &slug, "config.read").await?.app;
    Ok(HostedView { config: app.config, app_name: app.display_name })
}

/// Saves the Hosted pages form whole (redirects, origins, browser sessions, CSRF and the
/// branding), through the same patch and checks as `PATCH /api/v1/apps/{slug}/config`: the
/// first wrong value refuses it all, naming its field.
#[server(prefix = "/console/_fn", endpoint = "save_hosted_settings")]
pub async fn save_hosted_settings(
    slug: String,
    #[server(default)] config: ConfigForm,
    #[server(default)] unit: ConfigForm,
    #[server(default)] branding: ConfigForm,
    #[server(default)] css: ConfigForm,
) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let stored = engine.config(&caller, &slug).await?;
    let mut patch = to_patch(&config, &unit, true);
    patch.insert("branding".into(), branding_patch(&branding, &css, &stored.branding));
    engine.update_config(&caller, &slug, &patch).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "list_roles")]
pub async fn list_roles(slug: String) -> Result<RolesView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let roles = engine.roles(&caller, &slug).await?;
    let catalog = engine.permission_catalog(&caller, &slug).await?;
    Ok(RolesView {
        roles: roles.into_iter().map(role_info).collect(),
        catalog: catalog
            .into_iter()
            .map(|(name, description, builtin)| PermissionInfo { name, description, builtin })
            .collect(),
    })
}

/// `permissions` are the ticked boxes of the catalog; `extra` is free text for permission
/// strings the app has not used yet.
#[server(prefix = "/console/_fn", endpoint = "create_role")]
pub async fn create_role(
    slug: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] permissions: Vec<String>,
    #[server(default)] extra: String,
) -> Result<RoleInfo, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let input = domain::engine::NewRole {
        name,
        description: Some(description),
        permissions: permission_set(permissions, &extra),
    };
    Ok(role_info(guard::state()?.engine.create_role(&caller, &slug, input).await?))
}

/// Replaces the role's description and permission set.
#[server(prefix = "/console/_fn", endpoint = "update_role")]
pub async fn update_role(
    slug: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] permissions: Vec<String>,
    #[server(default)] extra: String,
) -> Result<RoleInfo, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let patch = domain::engine::RolePatch {
        description: Some(description),
        permissions: Some(permission_set(permissions, &extra)),
    };
    Ok(role_info(guard::state()?.engine.update_role(&caller, &slug, &name, patch).await?))
}

/// An empty `reassign_to` deletes only a role nobody holds.
#[server(prefix = "/console/_fn", endpoint = "delete_role")]
pub async fn delete_role(
    slug: String,
    name: String,
    #[server(default)] reassign_to: String,
) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let reassign_to = Some(reassign_to.trim()).filter(|r| !r.is_empty());
    guard::state()?.engine.delete_role(&caller, &slug, &name, reassign_to).await?;
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn unchecked_boxes_are_false_and_numbers_stay_numbers() {
        let form: ConfigForm =
            [("signup_enabled", "true"), ("password_min_length", " 12 "), ("access_token_ttl_seconds", "soon")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let patch = to_patch(&form, &ConfigForm::new(), false);
        assert_eq!(patch["signup_enabled"], serde_json::json!(true));
        assert_eq!(patch["signin_enabled"], serde_json::json!(false));
        assert_eq!(patch["password_min_length"], serde_json::json!(12));
        assert_eq!(patch["access_token_ttl_seconds"], serde_json::json!("soon"));
    }

    /// The form as a browser posts it (brackets percent-encoded), read the way server
    /// functions read it.
    #[test]
    fn the_posted_form_reads_field_by_field() {
        let body = "slug=gate&config%5Bsignin_enabled%5D=true&config%5Bpassword_min_length%5D=12\
                    &config%5Bsignup_default_role%5D=admin";
        let posted: SaveConfig = serde_qs::Config::new(5, false).deserialize_str(body).unwrap();
        assert_eq!(posted.slug, "gate");
        let patch = to_patch(&posted.config, &ConfigForm::new(), false);
        assert_eq!(patch["signin_enabled"], serde_json::json!(true));
        assert_eq!(patch["signup_enabled"], serde_json::json!(false));
        assert_eq!(patch["password_min_length"], serde_json::json!(12));
        assert_eq!(patch["signup_default_role"], serde_json::json!("admin"));
        let fields = serde_json::to_value(shared::AuthConfig::default()).unwrap();
        let form_fields = fields
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| !v.is_object() && !HOSTED_SETTINGS.contains(&k.as_str()))
            .map(|(k, _)| k);
        assert!(patch.keys().eq(form_fields), "every setting of the form, and only those: {patch:?}");
        assert!(!patch.contains_key("allowed_origins") && !patch.contains_key("branding"), "{patch:?}");
        // Saving the form keeps the app's mail templates.
        let template =
            shared::config::MailTemplate { subject: "Hi".into(), text: "{{link}}".into(), html: String::new() };
        let stored = shared::AuthConfig {
            mail_templates: [("magic_link".to_owned(), template)].into_iter().collect(),
            ..shared::AuthConfig::default()
        };
        let full: ConfigForm = fields
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(field, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Array(_) => String::new(),
                    _ => return None,
                };
                Some((field.clone(), text))
            })
            .collect();
        let saved = stored.patched(&to_patch(&full, &ConfigForm::new(), false)).unwrap();
        assert_eq!(saved.mail_templates, stored.mail_templates);
    }

    #[test]
    fn a_list_is_one_entry_per_line() {
        let form: ConfigForm = [("allowed_redirect_urls", "https://a.example/done\r\n\n  https://b.example/x  \n")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let patch = to_patch(&form, &ConfigForm::new(), true);
        assert_eq!(
            patch["allowed_redirect_urls"],
            serde_json::json!(["https://a.example/done", "https://b.example/x"])
        );
        assert_eq!(
            to_patch(&ConfigForm::new(), &ConfigForm::new(), true)["allowed_redirect_urls"],
            serde_json::json!([])
        );
        let only_the_list = patch.into_iter().filter(|(field, _)| field == "allowed_redirect_urls").collect();
        let config = shared::AuthConfig::default().patched(&only_the_list).unwrap();
        assert_eq!(config.allowed_redirect_urls, ["https://a.example/done", "https://b.example/x"]);
    }

    /// The Hosted pages form as a browser posts it: its own settings only, lifetimes in the
    /// unit picked beside them, the branding and its CSS variables.
    #[test]
    fn the_hosted_form_reads_with_its_units_and_branding() {
        let body = "slug=gate&config%5Ballowed_origins%5D=https%3A%2F%2Fapp.example.com%0D%0A%0D%0Ahttp%3A%2F%2Flocalhost%3A5173\
                    &config%5Bsession_cookie_ttl_seconds%5D=7&unit%5Bsession_cookie_ttl_seconds%5D=86400\
                    &config%5Bsession_cookie_renew_within_seconds%5D=1.5&unit%5Bsession_cookie_renew_within_seconds%5D=3600\
                    &config%5Bsession_max_lifetime_seconds%5D=30&unit%5Bsession_max_lifetime_seconds%5D=86400\
                    &config%5Bcsrf_token_required%5D=true&config%5Bsignup_enabled%5D=false\
                    &branding%5Bdisplay_name%5D=+Acme+&branding%5Bprimary_color%5D=%230a7d5a&branding%5Btheme%5D=dark\
                    &branding%5Blogo_url%5D=&branding%5Bsupport_url%5D=mailto%3Ahelp%40acme.test\
                    &css%5Bradius%5D=4px&css%5Bon-primary%5D=&css%5Bposition%5D=fixed";
        let posted: SaveHostedSettings = serde_qs::Config::new(5, false).deserialize_str(body).unwrap();
        let mut patch = to_patch(&posted.config, &posted.unit, true);
        let hosted: std::collections::BTreeSet<&str> =
            HOSTED_SETTINGS.into_iter().filter(|f| *f != "branding").collect();
        let keys: std::collections::BTreeSet<&str> = patch.keys().map(String::as_str).collect();
        assert_eq!(keys, hosted, "the hosted settings, and only those");
        assert_eq!(patch["session_cookie_ttl_seconds"], serde_json::json!(604_800));
        assert_eq!(patch["session_cookie_renew_within_seconds"], serde_json::json!(5400));
        assert_eq!(patch["session_max_lifetime_seconds"], serde_json::json!(2_592_000));
        assert_eq!(patch["csrf_token_required"], serde_json::json!(true));
        assert_eq!(patch["allowed_origins"], serde_json::json!(["https://app.example.com", "http://localhost:5173"]));
        let stored = shared::config::Branding::default();
        let branding = branding_patch(&posted.branding, &posted.css, &stored);
        assert_eq!(
            branding,
            serde_json::json!({"display_name": "Acme", "logo_url": "", "primary_color": "#0a7d5a", "theme": "dark",
                "support_url": "mailto:help@acme.test", "css_variables": {"radius": "4px"}})
        );
        patch.insert("branding".into(), branding);
        let config = shared::AuthConfig::default().patched(&patch).unwrap();
        assert_eq!(config.branding.css(), ":root{--primary:#0a7d5a;--radius:4px;}");
        assert_eq!(config.session_cookie_ttl_seconds, 604_800);
        assert!(config.signup_enabled, "not this form's setting");

        // A variable left blank that the app had set is dropped; others are not mentioned.
        let stored = shared::config::Branding {
            css_variables: [("on-primary".to_owned(), "#ffffff".to_owned())].into(),
            ..shared::config::Branding::default()
        };
        let branding = branding_patch(&posted.branding, &posted.css, &stored);
        assert_eq!(branding["css_variables"], serde_json::json!({"radius": "4px", "on-primary": null}));
    }

    #[test]
    fn lifetimes_count_in_their_unit_and_bad_ones_stay_text() {
        assert_eq!(counted("7", 86_400), serde_json::json!(604_800));
        assert_eq!(counted("0.5", 3600), serde_json::json!(1800));
        assert_eq!(counted("-1", 60), serde_json::json!(-60));
        assert_eq!(counted("0.3", 1), serde_json::json!("0.3"));
        assert_eq!(counted("soon", 60), serde_json::json!("soon"));
        assert_eq!(counted("9223372036854775807", 60), serde_json::json!("9223372036854775807"));
        let form: ConfigForm = [("session_cookie_ttl_seconds".to_owned(), "week".to_owned())].into();
        let patch = to_patch(&form, &ConfigForm::new(), true)
            .into_iter()
            .filter(|(field, _)| field == "session_cookie_ttl_seconds")
            .collect();
        let refused = shared::AuthConfig::default().patched(&patch).unwrap_err().to_string();
        assert_eq!(refused, "session_cookie_ttl_seconds must be a whole number");
    }

    #[test]
    fn permission_sets_merge_boxes_and_text() {
        let set = permission_set(vec!["user.read".into(), "billing.read".into()], "billing.read, reports.export\nx.y");
        assert_eq!(set, ["user.read", "billing.read", "reports.export", "x.y"]);
    }
}
