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
use axum::routing::{get, post};
use axum::Router;

use error::error_response;

/// Bodies larger than this are refused with `413 PAYLOAD_TOO_LARGE` before they are parsed.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn platform() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(auth::account_signup))
        .route("/auth/signin", post(auth::account_signin))
        .route("/auth/refresh", post(auth::account_refresh))
        .route("/auth/logout", post(auth::account_logout))
        .route("/auth/me", get(auth::account_me))
        .route("/apps", post(apps::create).get(apps::list))
        .route("/apps/{slug}", get(apps::get).patch(apps::update).delete(apps::delete))
        .route("/introspect/apps/{slug}", get(apps::introspect))
        .route("/apps/{slug}/config", get(manage::get_config).patch(manage::patch_config))
        .route("/apps/{slug}/roles", get(manage::list_roles).post(manage::create_role))
        .route("/apps/{slug}/roles/{name}", get(manage::get_role).patch(manage::patch_role).delete(manage::delete_role))
        .route("/apps/{slug}/permissions", get(manage::list_permissions).post(manage::create_permission))
        .route("/apps/{slug}/end-users", get(manage::list_users))
        .route("/apps/{slug}/end-users/export", get(transfer::export))
        .route("/apps/{slug}/end-users/import", post(transfer::import))
        .route("/apps/{slug}/end-users/invites", post(links::create_invite).get(links::list_invites))
        .route("/apps/{slug}/end-users/invites/{id}", axum::routing::delete(links::revoke_invite))
        .route("/apps/{slug}/mail", get(links::mail))
        .route("/apps/{slug}/mail/preview", post(links::preview_mail))
        .route(
            "/apps/{slug}/end-users/{id}",
            get(manage::get_user).patch(manage::patch_user).delete(manage::delete_user),
        )
        .route("/apps/{slug}/end-users/{id}/sessions", get(manage::user_sessions).delete(manage::revoke_user_sessions))
        .route("/apps/{slug}/api-keys", get(manage::list_api_keys).post(manage::create_api_key))
        .route("/apps/{slug}/api-keys/{id}", axum::routing::delete(manage::revoke_api_key))
        .route("/apps/{slug}/credentials", get(credentials::list).post(credentials::create))
        .route("/apps/{slug}/credentials/{app_id}", axum::routing::delete(credentials::revoke))
        .route("/apps/{slug}/credentials/{app_id}/rotate", post(credentials::rotate))
        .route("/apps/{slug}/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/apps/{slug}/webhooks/{id}", get(webhooks::get).patch(webhooks::update).delete(webhooks::delete))
        .route("/apps/{slug}/webhooks/{id}/rotate-secret", post(webhooks::rotate))
        .route("/apps/{slug}/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/apps/{slug}/webhooks/{id}/deliveries/{delivery}/redeliver", post(webhooks::redeliver))
        .route("/apps/{slug}/keys", get(keys::list))
        .route("/apps/{slug}/keys/rotate", post(keys::rotate))
        .route("/apps/{slug}/keys/{kid}/revoke", post(keys::revoke))
        .route("/apps/{slug}/oidc-clients", get(oidc_clients::list).post(oidc_clients::create))
        .route(
            "/apps/{slug}/oidc-clients/{client_id}",
            get(oidc_clients::get).patch(oidc_clients::patch).delete(oidc_clients::delete),
        )
        .route("/apps/{slug}/oidc-clients/{client_id}/rotate-secret", post(oidc_clients::rotate_secret))
        .route("/apps/{slug}/licenses", get(licenses::list).post(licenses::issue))
        .route("/apps/{slug}/licenses/{id}", get(licenses::get))
        .route("/apps/{slug}/licenses/{id}/revoke", post(licenses::revoke))
        .route("/apps/{slug}/licenses/{id}/extend", post(licenses::extend))
        .route("/apps/{slug}/organizations", get(orgs::admin_list))
        .route("/apps/{slug}/organizations/{id}", get(orgs::admin_get).delete(orgs::admin_delete))
        .route("/apps/{slug}/organizations/{id}/members", get(orgs::admin_members))
        .route("/apps/{slug}/organizations/{id}/members/{user_id}", axum::routing::delete(orgs::admin_remove_member))
        .route("/apps/{slug}/audit", get(audit::list))
        .route("/apps/{slug}/audit/verify", get(audit::verify))
        .route("/apps/{slug}/audit/export", get(audit::export))
        .route("/apps/{slug}/waitlists", get(waitlists::list))
        .route("/apps/{slug}/waitlists/{feature}", get(waitlists::entries))
        .route("/apps/{slug}/waitlists/{feature}/export", get(waitlists::export))
        .route("/apps/{slug}/waitlists/{feature}/admit", post(waitlists::admit))
        .route("/apps/{slug}/members", get(members::list).post(members::invite))
        .route("/apps/{slug}/members/invites", get(members::list_invites))
        .route("/apps/{slug}/members/invites/{id}", axum::routing::delete(members::revoke_invite))
        .route("/apps/{slug}/members/{account_id}", axum::routing::patch(members::change_role).delete(members::remove))
        .route("/apps/{slug}/oauth-providers", get(federation::list).post(federation::create))
        .route(
            "/apps/{slug}/oauth-providers/{name}",
            get(federation::get).patch(federation::update).delete(federation::delete),
        )
        .route("/member-invites/accept", post(members::accept))
        .route("/member-invites/lookup", post(members::lookup))
}

fn consumer() -> Router<AppState> {
    Router::new()
        .route("/{slug}/v1/auth/signup", post(auth::app_signup))
        .route("/{slug}/v1/auth/signin", post(auth::app_signin))
        .route("/{slug}/v1/auth/refresh", post(auth::app_refresh))
        .route("/{slug}/v1/auth/logout", post(auth::app_logout))
        .route("/{slug}/v1/auth/accept-invite", post(links::accept_invite))
        .route("/{slug}/v1/auth/send-verification-email", post(links::send_verification_email))
        .route("/{slug}/v1/auth/verify-email", get(crate::pages::verify_email_page).post(links::verify_email))
        .route("/{slug}/v1/auth/forgot-password", post(links::forgot_password))
        .route("/{slug}/v1/auth/reset-password", post(links::reset_password))
        .route("/{slug}/v1/auth/magic-link", post(links::magic_link))
        .route("/{slug}/v1/auth/sign-in/token", get(crate::pages::sign_in_token_page).post(links::sign_in_with_token))
        .route("/{slug}/v1/auth/check-email", post(links::check_email))
        .route("/{slug}/v1/auth/methods", get(links::methods))
        .route("/{slug}/v1/auth/oauth/{provider}/authorize", get(crate::pages::oauth_authorize))
        .route(
            "/{slug}/v1/auth/oauth/{provider}/callback",
            get(crate::pages::oauth_callback).post(crate::pages::oauth_callback_post),
        )
        .route("/{slug}/v1/me/identities", get(federation::my_identities))
        .route("/{slug}/v1/me/identities/{id}", axum::routing::delete(federation::unlink_identity))
        .route("/{slug}/v1/auth/send-otp", post(otp::send_otp))
        .route("/{slug}/v1/auth/verify-otp", post(otp::verify_otp))
        .route("/{slug}/v1/licenses/activate", post(licenses::activate))
        .route("/{slug}/v1/licenses/verify", post(licenses::verify))
        .route("/{slug}/v1/licenses/deactivate", post(licenses::deactivate))
        .route("/{slug}/v1/me", get(auth::app_me))
        .route("/{slug}/v1/me/entitlements", get(licenses::my_entitlements))
        .route("/{slug}/v1/me/permissions", get(auth::my_permissions))
        .route("/{slug}/v1/me/sessions", get(auth::my_sessions))
        .route("/{slug}/v1/me/sessions/{id}", axum::routing::delete(auth::revoke_my_session))
        .route("/{slug}/v1/me/activity", get(audit::my_activity))
        .route("/{slug}/v1/me/waitlists", get(waitlists::my_waitlists))
        .route(
            "/{slug}/v1/me/waitlists/{feature}",
            get(waitlists::my_waitlist).put(waitlists::join_waitlist).delete(waitlists::leave_waitlist),
        )
        .route("/{slug}/v1/me/contacts", get(links::my_contacts).post(links::add_contact))
        .route("/{slug}/v1/me/contacts/{id}", axum::routing::delete(links::remove_contact))
        .route("/{slug}/v1/me/contacts/{id}/primary", post(links::make_primary))
        .route("/{slug}/v1/me/contacts/{id}/verification", post(otp::send_contact_code))
        .route("/{slug}/v1/me/contacts/{id}/verify", post(otp::verify_contact_code))
        .route("/{slug}/v1/auth/accept-org-invite", post(orgs::accept_invite))
        .route("/{slug}/v1/auth/switch-organization", post(orgs::switch))
        .route("/{slug}/v1/me/organizations", get(orgs::mine))
        .route("/{slug}/v1/orgs", get(orgs::mine).post(orgs::create))
        .route("/{slug}/v1/orgs/{id}", get(orgs::get).patch(orgs::update).delete(orgs::delete))
        .route("/{slug}/v1/orgs/{id}/members", get(orgs::members).post(orgs::add_member))
        .route(
            "/{slug}/v1/orgs/{id}/members/{user_id}",
            axum::routing::patch(orgs::set_member_role).delete(orgs::remove_member),
        )
        .route("/{slug}/v1/orgs/{id}/invites", post(orgs::invite))
        .route("/{slug}/v1/users", get(auth::app_users))
        .route("/{slug}/v1/roles", get(auth::app_roles))
        .route("/{slug}/v1/.well-known/jwks.json", get(wellknown::jwks))
        .route("/{slug}/v1/.well-known/openid-configuration", get(crate::pages::openid_configuration))
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

pub fn routes() -> Router<AppState> {
    Router::new()
        .nest("/api/v1", platform())
        .nest("/v1", platform())
        .merge(consumer())
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(error::json_errors))
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
