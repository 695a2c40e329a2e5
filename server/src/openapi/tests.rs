//! The document covers every route. The API's routes are `OpenApiRouter` routes whose path is
//! their operation's; axum cannot list a router's routes, so what could escape that (a route
//! registered with plain `.route(…)` or nested or merged in from elsewhere) is found in the
//! source: every such call must be a hosted page's or the platform API's alias.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Calls that add routes to a router without a document of them.
const REGISTRATIONS: [&str; 5] = [".route(", ".route_service(", ".nest(", ".nest_service(", ".fallback_service("];

/// Where a route registered by other means than `routes!` is allowed, and why.
fn allowed(file: &str, call: &str, path: &str) -> bool {
    match (file, call) {
        // The hosted pages (sign-in, account, …) are HTML for browsers, not API; the OIDC
        // protocol's endpoints are not among them (`oidc_routes`).
        ("pages/mod.rs", ".route(") => {
            !crate::rest::is_api_path(path) && !path.contains("/oauth2/") && !path.contains("/.well-known/")
        }
        // The platform API's alias: the same routes as the documented `/api/v1`.
        ("rest/mod.rs", ".nest(") => path == "/v1" || path == "/api/v1",
        _ => false,
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read server/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(file, call, first argument)` of a route registration in `server/src`.
fn registrations() -> Vec<(String, &'static str, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let name = file.strip_prefix(&root).expect("under src").to_string_lossy().replace('\\', "/");
        // This file names the calls it looks for.
        if name == "openapi/tests.rs" {
            continue;
        }
        for call in REGISTRATIONS {
            for (at, _) in text.match_indices(call) {
                let rest = text[at + call.len()..].trim_start();
                let argument = match rest.strip_prefix('"') {
                    Some(literal) => literal.split('"').next().unwrap_or_default().to_owned(),
                    // Not a literal path: nothing can vouch for it.
                    None => rest.chars().take(40).collect(),
                };
                found.push((name.clone(), call, argument));
            }
        }
    }
    found
}

#[test]
fn every_route_is_registered_with_its_documentation() {
    let found = registrations();
    assert!(
        found.iter().any(|(file, _, path)| file == "pages/mod.rs" && path == "/{slug}/signin"),
        "the scan finds the hosted pages' routes: {found:?}"
    );
    let undocumented: Vec<_> = found.iter().filter(|(file, call, path)| !allowed(file, call, path)).collect();
    assert!(
        undocumented.is_empty(),
        "routes registered without an OpenAPI operation (give the handler a #[utoipa::path] and \
         register it with `.routes(routes!(handler))`): {undocumented:?}"
    );
}

#[test]
fn the_scan_refuses_what_it_should() {
    assert!(!allowed("rest/mod.rs", ".route(", "/apps/{slug}/new-thing"));
    assert!(!allowed("pages/mod.rs", ".route(", "/{slug}/v1/new-thing"));
    assert!(!allowed("pages/mod.rs", ".route(", "/{slug}/oauth2/device"));
    assert!(!allowed("lib.rs", ".route(", "/status"));
    assert!(allowed("pages/mod.rs", ".route(", "/{slug}/account"));
}

fn document() -> Value {
    serde_json::to_value(super::documented().document).expect("the document serializes")
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

#[test]
fn the_document_covers_every_surface_once() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/apps",
        "/api/v1/apps/{slug}/end-users/invites",
        "/api/v1/introspect/apps/{slug}",
        "/{slug}/v1/auth/signup",
        "/{slug}/v1/me",
        "/{slug}/v1/.well-known/jwks.json",
        "/{slug}/api/auth/sign-up/email",
        "/{slug}/api/auth/get-session",
        "/{slug}/.well-known/openid-configuration",
        "/{slug}/oauth2/authorize",
        "/{slug}/oauth2/token",
        "/{slug}/oauth2/userinfo",
        "/{slug}/oauth2/revoke",
        "/{slug}/oauth2/introspect",
        "/{slug}/oauth2/logout",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // The alias is said once, in the description, not listed twice.
    assert!(paths.keys().all(|p| !p.starts_with("/v1/")), "the /v1 alias is listed");
    // Hosted pages are not API.
    assert!(!paths.contains_key("/{slug}/signin"));

    let mut ids = HashSet::new();
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2') || s.starts_with('3')),
                "{method} {path} has no success response"
            );
            // Every `{name}` of the path is a declared path parameter.
            for name in path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
                let declared = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter().any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true)
                });
                assert!(declared, "{method} {path}: {{{name}}} is not declared");
            }
        }
    }
}

/// Every `$ref` of the document points at something it defines.
#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut refs = BTreeSet::new();
    fn walk(v: &Value, refs: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.insert(r.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    assert!(refs.contains("#/components/schemas/Error"), "{refs:?}");
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external reference {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[test]
fn security_schemes_are_declared_and_used() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"].as_object().expect("securitySchemes");
    for name in ["bearer", "api_key", "session_cookie", "refresh_cookie", "oidc_client", "metrics_token"] {
        assert!(schemes.contains_key(name), "{name} is not declared");
    }
    assert_eq!(schemes["session_cookie"]["in"], "cookie");
    assert_eq!(schemes["session_cookie"]["name"], "session");
    let me = &doc["paths"]["/{slug}/v1/me"]["get"]["security"];
    assert_eq!(me, &serde_json::json!([{"bearer": []}]));
    let apps = &doc["paths"]["/api/v1/apps/{slug}"]["get"]["security"];
    assert_eq!(apps, &serde_json::json!([{"bearer": []}, {"api_key": []}]));
}
