//! The REST API: the platform API under `/api/v1` (and its alias `/v1`), each app's consumer
//! API under `/{slug}/v1`, and the operators' endpoints.

pub mod apps;
pub mod audit;
pub mod auth;
pub mod cookie_api;
pub mod credentials;
pub mod error;
pub mod extract;
pub mod federation;
pub mod keys;
pub mod licenses;
pub mod links;
pub mod manage;
pub mod members;
pub mod oidc_clients;
pub mod ops;
pub mod orgs;
pub mod otp;
pub mod transfer;
pub mod waitlists;
pub mod webhooks;
pub mod wellknown;

use app::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use error::error_response;

/// Bodies larger than this are refused with `413 PAYLOAD_TOO_LARGE` before they are parsed.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The platform API, documented under `/api/v1` (`routes` serves it under `/v1` too).
fn platform() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::account_signup))
        .routes(routes!(auth::account_signin))
        .routes(routes!(auth::account_refresh))
        .routes(routes!(auth::account_logout))
        .routes(routes!(auth::account_me))
        .routes(routes!(apps::create, apps::list))
        .routes(routes!(apps::get, apps::update, apps::delete))
        .routes(routes!(apps::introspect))
        .routes(routes!(manage::get_config, manage::patch_config))
        .routes(routes!(manage::list_roles, manage::create_role))
        .routes(routes!(manage::get_role, manage::patch_role, manage::delete_role))
        .routes(routes!(manage::list_permissions, manage::create_permission))
        .routes(routes!(manage::list_users))
        .routes(routes!(manage::get_user, manage::patch_user, manage::delete_user))
        .routes(routes!(manage::user_sessions, manage::revoke_user_sessions))
        .routes(routes!(manage::list_api_keys, manage::create_api_key))
        .routes(routes!(manage::revoke_api_key))
        .routes(routes!(transfer::export))
        .routes(routes!(transfer::import))
        .routes(routes!(links::create_invite, links::list_invites))
        .routes(routes!(links::revoke_invite))
        .routes(routes!(links::mail))
        .routes(routes!(links::preview_mail))
        .routes(routes!(credentials::list, credentials::create))
        .routes(routes!(credentials::revoke))
        .routes(routes!(credentials::rotate))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(keys::list))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::revoke))
        .routes(routes!(oidc_clients::list, oidc_clients::create))
        .routes(routes!(oidc_clients::get, oidc_clients::patch, oidc_clients::delete))
        .routes(routes!(oidc_clients::rotate_secret))
        .routes(routes!(licenses::list, licenses::issue))
        .routes(routes!(licenses::get))
        .routes(routes!(licenses::revoke))
        .routes(routes!(licenses::extend))
        .routes(routes!(orgs::admin_list))
        .routes(routes!(orgs::admin_get, orgs::admin_delete))
        .routes(routes!(orgs::admin_members))
        .routes(routes!(orgs::admin_remove_member))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(audit::export))
        .routes(routes!(waitlists::list))
        .routes(routes!(waitlists::entries))
        .routes(routes!(waitlists::export))
        .routes(routes!(waitlists::admit))
        .routes(routes!(members::list, members::invite))
        .routes(routes!(members::list_invites))
        .routes(routes!(members::revoke_invite))
        .routes(routes!(members::change_role, members::remove))
        .routes(routes!(members::accept))
        .routes(routes!(members::lookup))
        .routes(routes!(federation::list, federation::create))
        .routes(routes!(federation::get, federation::update, federation::delete))
}

fn consumer() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::app_signup))
        .routes(routes!(auth::app_signin))
        .routes(routes!(auth::app_refresh))
        .routes(routes!(auth::app_logout))
        .routes(routes!(auth::app_me))
        .routes(routes!(auth::my_permissions))
        .routes(routes!(auth::my_sessions))
        .routes(routes!(auth::revoke_my_session))
        .routes(routes!(auth::app_users))
        .routes(routes!(auth::app_roles))
        .routes(routes!(links::accept_invite))
        .routes(routes!(links::send_verification_email))
        .routes(routes!(links::verify_email, crate::pages::links::verify_email_page))
        .routes(routes!(links::forgot_password))
        .routes(routes!(links::reset_password))
        .routes(routes!(links::magic_link))
        .routes(routes!(links::sign_in_with_token, crate::pages::links::sign_in_token_page))
        .routes(routes!(links::check_email))
        .routes(routes!(links::methods))
        .routes(routes!(links::my_contacts, links::add_contact))
        .routes(routes!(links::remove_contact))
        .routes(routes!(links::make_primary))
        .routes(routes!(licenses::activate))
        .routes(routes!(licenses::verify))
        .routes(routes!(licenses::deactivate))
        .routes(routes!(licenses::my_entitlements))
        .routes(routes!(orgs::accept_invite))
        .routes(routes!(orgs::switch))
        .routes(routes!(orgs::my_organizations))
        .routes(routes!(orgs::mine, orgs::create))
        .routes(routes!(orgs::get, orgs::update, orgs::delete))
        .routes(routes!(orgs::members, orgs::add_member))
        .routes(routes!(orgs::set_member_role, orgs::remove_member))
        .routes(routes!(orgs::invite))
        .routes(routes!(audit::my_activity))
        .routes(routes!(waitlists::my_waitlists))
        .routes(routes!(waitlists::my_waitlist, waitlists::join_waitlist, waitlists::leave_waitlist))
        .routes(routes!(federation::my_identities))
        .routes(routes!(federation::unlink_identity))
        .routes(routes!(crate::pages::federation::oauth_authorize))
        .routes(routes!(crate::pages::federation::oauth_callback, crate::pages::federation::oauth_callback_post))
        .routes(routes!(otp::send_otp))
        .routes(routes!(otp::verify_otp))
        .routes(routes!(otp::send_contact_code))
        .routes(routes!(otp::verify_contact_code))
        .routes(routes!(wellknown::jwks))
        .routes(routes!(crate::pages::oauth::discovery_v1))
        .layer(axum::middleware::from_fn(platform_only_account_flows))
}

/// The `platform` app's end-users are the accounts: of its consumer API only the account
/// flows (`auth/*`, `me`, `me/*`) exist, with the public keys that verify account tokens
/// (`.well-known/*`). Everything else (its users, its roles, whatever a later route adds) is
/// a 404, so no account can list the others.
async fn platform_only_account_flows(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let prefix = format!("/{}/v1/", domain::types::PLATFORM_SLUG);
    if let Some(rest) = req.uri().path().strip_prefix(&prefix) {
        let account_flow =
            rest.starts_with("auth/") || rest == "me" || rest.starts_with("me/") || rest.starts_with(".well-known/");
        if !account_flow {
            return not_found().await;
        }
    }
    next.run(req).await
}

/// The REST API's router, and the documentation of its every route (each route's path is
/// its operation's: see `openapi`).
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, documented) = OpenApiRouter::new()
        .nest("/api/v1", platform())
        .merge(consumer())
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .split_for_parts();
    // The alias of the platform API: the same routes, not listed twice in the document.
    let (alias, _) = platform().split_for_parts();
    let router = router
        .nest("/v1", alias)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(error::json_errors));
    (router, documented)
}

/// Paths that belong to the API, where an unknown route is a JSON 404 rather than a page.
pub fn is_api_path(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    let second = segments.next();
    matches!(first, "api" | "v1" | "health" | "ready" | "metrics" | "openapi.json")
        || matches!(second, Some("v1" | "api"))
}

pub async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "NOT_FOUND", "No such route")
}

async fn method_not_allowed() -> Response {
    error_response(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "Method not allowed on this route")
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_paths() {
        for p in ["/api/v1/nope", "/v1/x", "/acme/v1/nope", "/acme/api/auth/nope", "/health", "/api"] {
            assert!(super::is_api_path(p), "{p}");
        }
        for p in ["/console", "/console/apps/x", "/acme/signin", "/pkg/rampart.js", "/"] {
            assert!(!super::is_api_path(p), "{p}");
        }
    }
}
