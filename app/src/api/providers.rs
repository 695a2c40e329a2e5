//! The console's view of an app's sign-in providers (seed 004's provider-first OAuth): list,
//! add from a preset or as a generic OpenID provider (the client secret is write-only),
//! enable or disable, auto-linking, delete.
// A form's fields are the server function's arguments (the client side the macro makes too).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
pub use shared::federation::PROVIDER_KINDS;
pub use shared::ProviderView;

use super::ConsoleError;

#[server(prefix = "/console/_fn", endpoint = "list_providers")]
pub async fn list_providers(slug: String) -> Result<Vec<ProviderView>, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    Ok(guard::state()?.engine.list_oauth_providers(&caller, &slug).await?)
}

/// Blank fields take the preset's values; `scopes` are separated by spaces or commas.
#[server(prefix = "/console/_fn", endpoint = "add_provider")]
pub async fn add_provider(
    slug: String,
    kind: String,
    #[server(default)] name: String,
    #[server(default)] display_name: String,
    client_id: String,
    #[server(default)] client_secret: String,
    #[server(default)] issuer: String,
    #[server(default)] scopes: String,
    #[server(default)] auto_link: String,
) -> Result<ProviderView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let given = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let scopes: Vec<String> =
        scopes.split([' ', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let input = shared::ProviderInput {
        name: given(name),
        kind,
        display_name: given(display_name),
        client_id: client_id.trim().to_owned(),
        client_secret: given(client_secret),
        issuer: given(issuer),
        scopes: (!scopes.is_empty()).then_some(scopes),
        enabled: Some(true),
        auto_link: Some(auto_link == "on"),
        ..Default::default()
    };
    Ok(guard::state()?.engine.create_oauth_provider(&caller, &slug, input).await?)
}

/// `field` is `enabled` or `auto_link`; `value` is `true` or `false`.
#[server(prefix = "/console/_fn", endpoint = "set_provider_flag")]
pub async fn set_provider_flag(slug: String, name: String, field: String, value: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let on = value == "true";
    let patch = match field.as_str() {
        "enabled" => shared::ProviderPatch { enabled: Some(on), ..Default::default() },
        "auto_link" => shared::ProviderPatch { auto_link: Some(on), ..Default::default() },
        _ => {
            super::set_status(400);
            return Err(ConsoleError::Refused { code: "INVALID_REQUEST".into(), message: "Unknown setting".into() });
        }
    };
    guard::state()?.engine.update_oauth_provider(&caller, &slug, &name, patch).await?;
    Ok(())
}

#[server(prefix = "/console/_fn", endpoint = "delete_provider")]
pub async fn delete_provider(slug: String, name: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.delete_oauth_provider(&caller, &slug, &name).await?;
    Ok(())
}
