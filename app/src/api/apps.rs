//! The console's view of apps: list, create, open.

use leptos::prelude::*;

use super::{AppInfo, AppSummary, ConsoleError};

#[cfg(feature = "ssr")]
fn summary(app: domain::model::App, role: String) -> AppSummary {
    AppSummary {
        slug: app.slug,
        display_name: app.display_name,
        status: app.status.as_str().into(),
        role,
        created_at: domain::time_format::format(&app.created_at),
    }
}

#[server(prefix = "/console/_fn", endpoint = "list_apps")]
pub async fn list_apps() -> Result<Vec<AppSummary>, ConsoleError> {
    use super::session::guard;
    let account = guard::require().await?;
    let memberships = guard::state()?.engine.list_apps(&account).await?;
    Ok(memberships.into_iter().map(|m| summary(m.app, m.role.name)).collect())
}

/// Validated by the engine, so the console and the API refuse the same input with the same
/// message.
#[server(prefix = "/console/_fn", endpoint = "create_app")]
pub async fn create_app(
    slug: String,
    display_name: String,
    #[server(default)] signing_alg: Option<String>,
) -> Result<AppSummary, ConsoleError> {
    use super::session::guard;
    let account = guard::require().await?;
    let input = domain::engine::NewApp { slug, display_name, metadata: None, signing_alg };
    let app = guard::state()?.engine.create_app(&account, input).await?;
    leptos_axum::redirect(&format!("/console/apps/{}", app.slug));
    Ok(summary(app, domain::permissions::OWNER.into()))
}

#[server(prefix = "/console/_fn", endpoint = "app_detail")]
pub async fn app_detail(slug: String) -> Result<AppInfo, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let (app, role, roles) = engine.app_detail(&caller, &slug).await?;
    Ok(AppInfo {
        issuer: engine.issuer(&app.slug),
        jwks_url: engine.jwks_url(&app.slug),
        signing_alg: engine.signing_alg(&app).await?.as_str().into(),
        roles: roles
            .into_iter()
            .map(|r| super::RoleInfo {
                name: r.name,
                description: r.description,
                is_system: r.is_system,
                permissions: r.permissions,
            })
            .collect(),
        summary: summary(app, role.map(|r| r.name).unwrap_or_default()),
    })
}
