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

/// What the config form posts, field by field (`config[signup_enabled]`). Its fields are the
/// config's own: a new setting needs only its input on the form.
pub type ConfigForm = BTreeMap<String, String>;

/// The whole form as the JSON patch `update_config` takes, each field read as the kind of
/// value the config holds there. A checkbox sends nothing when unchecked, so an absent
/// true-or-false field is false; numbers that do not parse stay text, so the engine refuses
/// them naming the field; a list is a textarea's lines, blank ones dropped. Posted names the
/// config does not have are ignored.
#[cfg(feature = "ssr")]
fn to_patch(form: &ConfigForm) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let Ok(Value::Object(shape)) = serde_json::to_value(shared::AuthConfig::default()) else {
        return serde_json::Map::new();
    };
    shape
        .into_iter()
        // Settings made of several values each (the mail templates) are not fields of this
        // form: left out of the patch, they keep what is stored.
        .filter(|(_, kind)| !kind.is_object())
        .map(|(field, kind)| {
            let posted = form.get(&field).map(String::as_str);
            let value = match kind {
                Value::Bool(_) => Value::Bool(posted.is_some_and(|v| !v.is_empty() && v != "false")),
                Value::Number(_) => {
                    let text = posted.unwrap_or_default().trim();
                    text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(text))
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
    guard::state()?.engine.update_config(&caller, &slug, &to_patch(&config)).await?;
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
        let patch = to_patch(&form);
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
        let patch = to_patch(&posted.config);
        assert_eq!(patch["signin_enabled"], serde_json::json!(true));
        assert_eq!(patch["signup_enabled"], serde_json::json!(false));
        assert_eq!(patch["password_min_length"], serde_json::json!(12));
        assert_eq!(patch["signup_default_role"], serde_json::json!("admin"));
        let fields = serde_json::to_value(shared::AuthConfig::default()).unwrap();
        let form_fields = fields.as_object().unwrap().iter().filter(|(_, v)| !v.is_object()).map(|(k, _)| k);
        assert!(patch.keys().eq(form_fields), "every setting of the form, and only those: {patch:?}");
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
        let saved = stored.patched(&to_patch(&full)).unwrap();
        assert_eq!(saved.mail_templates, stored.mail_templates);
    }

    #[test]
    fn a_list_is_one_entry_per_line() {
        let form: ConfigForm = [("allowed_redirect_urls", "https://a.example/done\r\n\n  https://b.example/x  \n")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let patch = to_patch(&form);
        assert_eq!(
            patch["allowed_redirect_urls"],
            serde_json::json!(["https://a.example/done", "https://b.example/x"])
        );
        assert_eq!(to_patch(&ConfigForm::new())["allowed_redirect_urls"], serde_json::json!([]));
        let only_the_list = patch.into_iter().filter(|(field, _)| field == "allowed_redirect_urls").collect();
        let config = shared::AuthConfig::default().patched(&only_the_list).unwrap();
        assert_eq!(config.allowed_redirect_urls, ["https://a.example/done", "https://b.example/x"]);
    }

    #[test]
    fn permission_sets_merge_boxes_and_text() {
        let set = permission_set(vec!["user.read".into(), "billing.read".into()], "billing.read, reports.export\nx.y");
        assert_eq!(set, ["user.read", "billing.read", "reports.export", "x.y"]);
    }
}
