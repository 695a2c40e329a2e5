//! The OpenAPI 3.1 document served at `/openapi.json`, and Swagger UI at `/docs` rendering it
//! from assets built into the binary. The operations come from the handlers' `#[utoipa::path]`
//! through the `OpenApiRouter`s that also route them (`rest::routes`), so a route cannot be
//! served without its documentation; this module adds what is said once for all of them: the
//! security schemes, the error shape, the path parameters' descriptions.

use app::state::AppState;
use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub mod schemas;

use crate::rest::error::ErrorBody;

/// Where the document and its page are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

const DESCRIPTION: &str = "\
Rampart's HTTP API: the **platform API** (accounts, apps and everything an app's owners manage), \
each app's **consumer API** under `/{slug}/v1` (its end-users), the **cookie API** of browsers \
under `/{slug}/api/auth`, each app's **OpenID Connect provider**, and the operators' endpoints.

The platform API is served under `/api/v1` and, identically, under the alias `/v1`; only \
`/api/v1` is listed here.

**Authentication.** Accounts and end-users send their access token as `Authorization: Bearer` \
(`bearer`); an app's API keys go in the same header (`api_key`). Backends that hold an app \
credential send `app_id` and `app_secret` **in the JSON body** of the operations that take them \
(OTP, licenses, refresh from a backend): OpenAPI has no security scheme for credentials in a \
body, so those operations show the two fields in their request schema. Browsers of the cookie \
API carry the `session` cookie (`session_cookie`), and their writes pass the CSRF checks \
(`Origin`, and `X-CSRF-Token` when the app asks for it). OpenID Connect clients authenticate at \
the token, revocation and introspection endpoints with `client_secret_basic` \
(`oidc_client`) or `client_secret_post`.

**Errors** all have one shape, `{statusCode, error, message}` (schema `Error`), except at the \
OAuth endpoints (`/{slug}/oauth2/*`), which answer with OAuth's `{error, error_description}`.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rampart",
        description = DESCRIPTION,
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(ErrorBody, crate::pages::oauth::OAuthErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "accounts", description = "Platform accounts: sign-up, sign-in, tokens (`/api/v1/auth`)"),
        (name = "apps", description = "Apps and their settings (platform API)"),
        (name = "end-users", description = "An app's end-users, their invites and sessions (platform API)"),
        (name = "access", description = "Roles, permissions, API keys, app credentials and members (platform API)"),
        (name = "integrations", description = "Webhooks, signing keys, OIDC clients and upstream providers (platform API)"),
        (name = "licenses", description = "Licenses and entitlements"),
        (name = "organizations", description = "Organizations of an app's end-users"),
        (name = "audit", description = "The audit log and mail log"),
        (name = "waitlists", description = "Feature waitlists"),
        (name = "consumer auth", description = "An app's end-users signing up, in and out (`/{slug}/v1/auth`)"),
        (name = "consumer me", description = "The signed-in end-user's own data (`/{slug}/v1/me`)"),
        (name = "cookie api", description = "Browser sessions by cookie (`/{slug}/api/auth`, seed 003)"),
        (name = "openid connect", description = "Each app as an OpenID Connect provider"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token (a JWT signed with the app's key, RS256 or ES256): an account's \
                 for the platform API, an end-user's for its app's consumer API.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let api_key = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("rk_…")
            .description(Some(
                "An app's API key (`POST /api/v1/apps/{slug}/api-keys`), sent as a bearer token: \
                 acts on that app with the permissions it was given.",
            ))
            .build();
        components.add_security_scheme("api_key", SecurityScheme::Http(api_key));
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::browser::SESSION_COOKIE,
                "The browser session of the cookie API (`Path=/{slug}`, `HttpOnly`).",
            ))),
        );
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::browser::REFRESH_COOKIE,
                "The refresh token as a cookie (`Path=/{slug}/v1/auth`), read by refresh and \
                 logout when the body carries none.",
            ))),
        );
        let metrics = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("`RAMPART_METRICS_TOKEN`, when the operator set one."))
            .build();
        components.add_security_scheme("metrics_token", SecurityScheme::Http(metrics));
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some("An OIDC client's `client_id` and `client_secret` (client_secret_basic).".into());
        components.add_security_scheme("oidc_client", SecurityScheme::Http(basic));
        components.responses.insert(
            "Error".into(),
            RefOr::T(
                ResponseBuilder::new()
                    .description("The request was refused or failed: `{statusCode, error, message}`.")
                    .content("application/json", Content::new(Some(Ref::from_schema_name("Error"))))
                    .build(),
            ),
        );
    }
}

/// What the path parameters are, said once.
fn parameter_description(name: &str) -> &'static str {
    match name {
        "slug" => "The app's slug",
        "name" => "The name (of a role or an upstream provider)",
        "app_id" => "The app credential's `app_id`",
        "client_id" => "The OIDC client's `client_id`",
        "kid" => "The signing key's id (`kid`)",
        "provider" => "The upstream provider's name",
        "feature" => "The waitlist's feature",
        "account_id" => "The account's id",
        "user_id" => "The end-user's id",
        "delivery" => "The delivery's id",
        _ => "The resource's id",
    }
}

/// Paths whose errors are OAuth's, not Rampart's shape, or pages'.
fn has_rampart_errors(path: &str) -> bool {
    !path.contains("/oauth2/")
}

/// Declares every `{name}` of a path that its operation did not (all are strings), and gives
/// every operation of the REST API the `Error` response for its 4xx and 5xx.
fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    let mut ids = std::collections::HashSet::new();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let names: Vec<&str> =
            path.split('/').filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        let operations: [(&str, &mut Option<Operation>); 8] = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("options", &mut item.options),
            ("head", &mut item.head),
            ("patch", &mut item.patch),
            ("trace", &mut item.trace),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            // A handler of two methods has one `operation_id`: the second gets its method.
            if let Some(id) = &mut operation.operation_id {
                if !ids.insert(id.clone()) {
                    id.push('_');
                    id.push_str(method);
                    ids.insert(id.clone());
                }
            }
            let parameters = operation.parameters.get_or_insert_with(Vec::new);
            for name in &names {
                let declared = parameters
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.name == *name && p.parameter_in == ParameterIn::Path));
                if !declared {
                    parameters.push(RefOr::T(path_parameter(name)));
                }
            }
            // Path parameters first, in the path's order, then the others.
            parameters.sort_by_key(|p| match p {
                RefOr::T(p) if p.parameter_in == ParameterIn::Path => {
                    names.iter().position(|n| *n == p.name).unwrap_or(0)
                }
                _ => names.len(),
            });
            if has_rampart_errors(path) {
                for class in ["4XX", "5XX"] {
                    operation
                        .responses
                        .responses
                        .entry(class.into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Error")));
                }
            }
        }
    }
}

fn path_parameter(name: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(parameter_description(name)))
        .schema(Some(utoipa::openapi::schema::Object::with_type(utoipa::openapi::schema::Type::String)))
        .build()
}

/// The routers of every documented surface, each built with the operations it serves, and
/// the document of them all. Each is given its layers by `build`.
pub struct Documented {
    pub rest: Router<AppState>,
    pub cookie_api: Router<AppState>,
    pub oidc: Router<AppState>,
    pub metrics: Router<crate::metrics::Scrape>,
    pub document: utoipa::openapi::OpenApi,
}

pub fn documented() -> Documented {
    let (rest, mut operations) = crate::rest::routes();
    let (cookie_api, cookie_operations) = crate::rest::cookie_api::routes().split_for_parts();
    let (oidc, oidc_operations) = crate::pages::oidc_routes().split_for_parts();
    let (metrics, metrics_operations) = OpenApiRouter::new().routes(routes!(crate::metrics::scrape)).split_for_parts();
    for more in [cookie_operations, oidc_operations, metrics_operations] {
        operations.merge(more);
    }
    let mut document = ApiDoc::openapi().merge_from(operations);
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    complete(&mut document);
    Documented { rest, cookie_api, oidc, metrics, document }
}

/// The CSP of the docs page: Swagger UI's script and styles from this server only (its
/// components set `style` attributes, hence `'unsafe-inline'` for styles, and draw icons as
/// `data:` images); it fetches the document and, with "Try it out", this API.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; font-src 'self' data:; \
                        form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /openapi.json` and the Swagger UI at `/docs` (its assets at `/docs/*`), under the
/// docs page's own CSP.
pub fn routes<S: Clone + Send + Sync + 'static>(document: utoipa::openapi::OpenApi) -> axum::Router<S> {
    let config = Config::new([DOCUMENT_PATH]).validator_url("none").try_it_out_enabled(false);
    let ui = SwaggerUi::new(DOCS_PATH).url(DOCUMENT_PATH, document).config(config);
    axum::Router::from(ui)
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
}

#[cfg(test)]
mod tests;
