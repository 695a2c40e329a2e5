//! The OpenAPI document (issue 17) at `/openapi.json`: valid OpenAPI 3.1, and true to the
//! server. The seeds' requests, taken from the document's own examples, are replayed against
//! the server, and the requests and real answers are checked against the document's schemas
//! by `openapi_check.py` (openapi-spec-validator and jsonschema, installed by
//! scripts/install-tools.sh). Every documented operation is routed. `/docs` renders the
//! document from assets the server serves itself, under a CSP of its own.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{access_token, both_stores, mail_to, refresh_token, TestApp};

/// One request and its answer, by the document's path template.
struct Exchange {
    method: Method,
    path: &'static str,
    status: StatusCode,
    request: Option<Value>,
    response: Option<Value>,
    content_type: Option<String>,
    set_cookie: Vec<String>,
}

struct Replay<'a> {
    app: &'a TestApp,
    document: Value,
    exchanges: Vec<Exchange>,
}

impl Replay<'_> {
    /// The request example the document gives for an operation.
    fn example(&self, method: &str, path: &str) -> Value {
        self.document["paths"][path][method]["requestBody"]["content"]["application/json"]["example"].clone()
    }

    /// Sends a request to `path` (a template) with its `{name}`s replaced by `vars`.
    async fn send(
        &mut self,
        method: Method,
        path: &'static str,
        vars: &[(&str, &str)],
        auth: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> &Exchange {
        let mut url = path.to_owned();
        for (name, value) in vars {
            url = url.replace(&format!("{{{name}}}"), value);
        }
        let mut request = self.app.client.request(method.clone(), self.app.url(&url));
        match auth {
            Some(("bearer", token)) => request = request.bearer_auth(token),
            Some(("cookie", cookie)) => request = request.header(header::COOKIE, cookie),
            _ => {}
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let set_cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let text = response.text().await.expect("body");
        let is_json = content_type.as_deref().is_some_and(|t| t.starts_with("application/json"));
        let response = if is_json {
            Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {url}: not JSON ({e}): {text}")))
        } else {
            None
        };
        self.exchanges.push(Exchange { method, path, status, request: body, response, content_type, set_cookie });
        self.exchanges.last().expect("just pushed")
    }

    /// Sends, and checks the status; returns the JSON answer (`null` without one).
    async fn expect(
        &mut self,
        status: StatusCode,
        method: Method,
        path: &'static str,
        vars: &[(&str, &str)],
        auth: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> Value {
        let exchange = self.send(method, path, vars, auth, body).await;
        assert_eq!(exchange.status, status, "{} {}: {:?}", exchange.method, exchange.path, exchange.response);
        exchange.response.clone().unwrap_or(Value::Null)
    }
}

/// Runs `openapi_check.py` on the document and the exchanges; its output on failure.
fn check_with_python(document: &Value, exchanges: &[Exchange]) -> Result<String, String> {
    use std::io::Write;
    let exchanges: Vec<Value> = exchanges
        .iter()
        .map(|e| {
            json!({
                "method": e.method.as_str(),
                "path": e.path,
                "status": e.status.as_u16(),
                "request": e.request,
                "refused_request": e.status == StatusCode::BAD_REQUEST && e.request.is_some(),
                "response": e.response,
                "content_type": e.content_type,
            })
        })
        .collect();
    let input = serde_json::to_vec(&json!({ "document": document, "exchanges": exchanges })).expect("JSON");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/openapi_check.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (openapi-spec-validator is installed by scripts/install-tools.sh)");
    child.stdin.take().expect("stdin").write_all(&input).expect("write to the checker");
    let output = child.wait_with_output().expect("the checker ends");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

async fn document_of(app: &TestApp) -> Value {
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("the document is JSON")
}

/// Seeds 000, 001 and 003 and the OIDC discovery, with each request body the document's
/// example (ids and tokens put in), checked with the answers against the document.
async fn seeds_replayed_against_the_document(app: TestApp) {
    let document = document_of(&app).await;
    let mut r = Replay { app: &app, document, exchanges: Vec::new() };
    let get = Method::GET;
    let post = Method::POST;

    // Seed 000: account, app, invite, introspection.
    let body = r.example("post", "/api/v1/auth/signup");
    assert_eq!(body["email"], "you@example.com", "the seed's example: {body}");
    let pair = r.expect(StatusCode::CREATED, post.clone(), "/api/v1/auth/signup", &[], None, Some(body)).await;
    let owner = access_token(&pair);
    let body = r.example("post", "/api/v1/auth/signin");
    r.expect(StatusCode::OK, post.clone(), "/api/v1/auth/signin", &[], None, Some(body)).await;
    r.expect(StatusCode::OK, get.clone(), "/api/v1/auth/me", &[], Some(("bearer", &owner)), None).await;
    let body = r.example("post", "/api/v1/apps");
    let slug = body["slug"].as_str().expect("slug").to_owned();
    let s = [("slug", slug.as_str())];
    r.expect(StatusCode::CREATED, post.clone(), "/api/v1/apps", &[], Some(("bearer", &owner)), Some(body)).await;
    r.expect(StatusCode::OK, get.clone(), "/api/v1/apps", &[], Some(("bearer", &owner)), None).await;
    r.expect(StatusCode::OK, get.clone(), "/api/v1/introspect/apps/{slug}", &s, Some(("bearer", &owner)), None).await;
    r.expect(StatusCode::OK, get.clone(), "/api/v1/apps/{slug}/config", &s, Some(("bearer", &owner)), None).await;
    r.expect(StatusCode::OK, get.clone(), "/api/v1/apps/{slug}/roles", &s, Some(("bearer", &owner)), None).await;
    let invites = "/api/v1/apps/{slug}/end-users/invites";
    let body = r.example("post", invites);
    let invited = body["email"].as_str().expect("email").to_owned();
    r.expect(StatusCode::CREATED, post.clone(), invites, &s, Some(("bearer", &owner)), Some(body)).await;
    r.expect(StatusCode::OK, get.clone(), invites, &s, Some(("bearer", &owner)), None).await;
    let text = mail_to(&app, &invited).await.text_body().expect("a text part");
    let code = text.split_whitespace().find(|w| w.starts_with("inv_")).expect("the invite's code").to_owned();
    let mut body = r.example("post", "/{slug}/v1/auth/accept-invite");
    body["code"] = json!(code);
    r.expect(StatusCode::OK, post.clone(), "/{slug}/v1/auth/accept-invite", &s, None, Some(body)).await;

    // Seed 001: an end-user signs up, in, reads itself, refreshes and signs out.
    let body = r.example("post", "/{slug}/v1/auth/signup");
    r.expect(StatusCode::CREATED, post.clone(), "/{slug}/v1/auth/signup", &s, None, Some(body)).await;
    let body = r.example("post", "/{slug}/v1/auth/signin");
    let pair = r.expect(StatusCode::OK, post.clone(), "/{slug}/v1/auth/signin", &s, None, Some(body)).await;
    let user = access_token(&pair);
    for path in ["/{slug}/v1/me", "/{slug}/v1/me/permissions", "/{slug}/v1/me/sessions", "/{slug}/v1/me/contacts"] {
        r.expect(StatusCode::OK, get.clone(), path, &s, Some(("bearer", &user)), None).await;
    }
    r.expect(StatusCode::OK, get.clone(), "/{slug}/v1/auth/methods", &s, None, None).await;
    let mut body = r.example("post", "/{slug}/v1/auth/refresh");
    body["refresh_token"] = json!(refresh_token(&pair));
    let pair = r.expect(StatusCode::OK, post.clone(), "/{slug}/v1/auth/refresh", &s, None, Some(body)).await;
    let mut body = r.example("post", "/{slug}/v1/auth/logout");
    body["refresh_token"] = json!(refresh_token(&pair));
    r.expect(StatusCode::NO_CONTENT, post.clone(), "/{slug}/v1/auth/logout", &s, None, Some(body)).await;

    // The documented error shape, from a refused sign-in and a wrong route's body.
    let wrong = json!({ "identifier": "ada", "password": "not the password" });
    let error = r.expect(StatusCode::UNAUTHORIZED, post.clone(), "/{slug}/v1/auth/signin", &s, None, Some(wrong)).await;
    assert_eq!(error["error"], "INVALID_CREDENTIALS");
    let bad = json!({ "slug": 7 });
    r.expect(StatusCode::BAD_REQUEST, post.clone(), "/api/v1/apps", &[], Some(("bearer", &owner)), Some(bad)).await;

    // Seed 003: the cookie API.
    let body = r.example("post", "/{slug}/api/auth/sign-up/email");
    r.expect(StatusCode::OK, post.clone(), "/{slug}/api/auth/sign-up/email", &s, None, Some(body)).await;
    let body = r.example("post", "/{slug}/api/auth/sign-in/email");
    r.expect(StatusCode::OK, post.clone(), "/{slug}/api/auth/sign-in/email", &s, None, Some(body)).await;
    let cookie = r
        .exchanges
        .last()
        .expect("sign-in")
        .set_cookie
        .iter()
        .find_map(|c| c.split(';').next().filter(|pair| pair.starts_with("session=")).map(str::to_owned));
    let cookie = cookie.expect("the session cookie");
    let session = Some(("cookie", cookie.as_str()));
    let answer = r.expect(StatusCode::OK, get.clone(), "/{slug}/api/auth/get-session", &s, session, None).await;
    assert_eq!(answer["user"]["email"], "john@example.com");
    r.expect(StatusCode::OK, post.clone(), "/{slug}/api/auth/token", &s, session, None).await;
    r.expect(StatusCode::OK, get.clone(), "/{slug}/v1/auth/csrf/token", &s, None, None).await;
    r.expect(StatusCode::OK, post.clone(), "/{slug}/api/auth/sign-out", &s, session, None).await;
    let none = r.expect(StatusCode::OK, get.clone(), "/{slug}/api/auth/get-session", &s, session, None).await;
    assert!(none.is_null(), "{none}");

    // OIDC: discovery, keys, and OAuth's error shape.
    r.expect(StatusCode::OK, get.clone(), "/{slug}/.well-known/openid-configuration", &s, None, None).await;
    r.expect(StatusCode::OK, get.clone(), "/{slug}/v1/.well-known/openid-configuration", &s, None, None).await;
    r.expect(StatusCode::OK, get.clone(), "/{slug}/v1/.well-known/jwks.json", &s, None, None).await;
    r.expect(StatusCode::UNAUTHORIZED, get.clone(), "/{slug}/oauth2/userinfo", &s, None, None).await;

    // Operators.
    r.expect(StatusCode::OK, get.clone(), "/health", &[], None, None).await;
    r.expect(StatusCode::OK, get.clone(), "/ready", &[], None, None).await;
    r.expect(StatusCode::OK, get.clone(), "/metrics", &[], None, None).await;

    match check_with_python(&r.document, &r.exchanges) {
        Ok(summary) => assert!(summary.contains("exchanges match"), "{summary}"),
        Err(failures) => panic!("the server and its document disagree:\n{failures}"),
    }
}

/// The checker is not a rubber stamp: an answer that breaks its schema, a status the
/// document does not give and an unknown route are all refused.
async fn the_checker_refuses_what_the_document_does_not_say(app: TestApp) {
    let document = document_of(&app).await;
    assert!(check_with_python(&document, &[]).is_ok());
    let exchange = |path: &'static str, status: u16, response: Value| Exchange {
        method: Method::GET,
        path,
        status: StatusCode::from_u16(status).expect("status"),
        request: None,
        response: Some(response),
        content_type: Some("application/json".into()),
        set_cookie: Vec::new(),
    };
    let cases = [
        exchange("/health", 200, json!({ "status": 7 })),
        exchange("/{slug}/v1/me", 200, json!({ "id": "x" })),
        exchange("/{slug}/v1/me", 404, json!({ "statusCode": "404" })),
        exchange("/health", 302, Value::Null),
        exchange("/api/v1/nowhere", 200, json!({})),
    ];
    for case in cases {
        let what = format!("{} {} {:?}", case.path, case.status, case.response);
        assert!(check_with_python(&document, &[case]).is_err(), "accepted: {what}");
    }
}

/// Every operation of the document reaches a handler of its own (none falls through to the
/// router's fallback or its 405).
async fn every_documented_operation_is_routed(app: TestApp) {
    let document = document_of(&app).await;
    let owner = app.app_with_owner("acme").await;
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let url = path
            .replace("{slug}", "acme")
            .split('/')
            .map(|s| if s.starts_with('{') { "00000000-0000-0000-0000-000000000000" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.push((method, url.clone()));
            }
        }
    }
    // Deleting the app comes last: the others need it.
    operations.sort_by_key(|(method, url)| *method == "delete" && url == "/api/v1/apps/acme");
    let mut checked = 0;
    for (method, url) in operations {
        let response = app
            .client
            .request(method.to_uppercase().parse().expect("method"), app.url(&url))
            .bearer_auth(&owner)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {url}: {body}");
        let fell_through =
            status == StatusCode::NOT_FOUND && (body.contains("No such route") || body.contains("<html"));
        assert!(!fell_through, "{method} {url} is documented but not routed: {body}");
        checked += 1;
    }
    assert!(checked > 150, "only {checked} operations");
}

/// `/docs`: Swagger UI from the binary under a CSP that allows nothing from elsewhere; the
/// other pages keep theirs.
async fn docs_page_is_served_by_rampart(app: TestApp) {
    let response = app.get("/docs").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let response = app.get("/docs/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("http"), "no other origin: {csp}");
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui-bundle.js"), "{html}");
    // No inline script: each script is a file of this server.
    for script in html.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(tag.contains("src=\"./"), "an inline or foreign script: <script{tag}>");
    }
    for (asset, kind) in [
        ("/docs/swagger-ui-bundle.js", "javascript"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/swagger-initializer.js", "javascript"),
    ] {
        let response = app.get(asset).await;
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        assert!(content_type.contains(kind), "{asset}: {content_type}");
        let text = response.text().await.unwrap();
        if asset.ends_with("initializer.js") {
            assert!(text.contains("\"/openapi.json\""), "{text}");
            assert!(!text.contains("petstore"), "{text}");
        }
    }
    // The other surfaces keep their own policy.
    let health = app.get("/health").await;
    assert_eq!(health.headers()[header::CONTENT_SECURITY_POLICY], "frame-ancestors 'none'");
    app.app_with_owner("acme").await;
    let page = app.get("/acme/signin").await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'nonce-") && !csp.contains("unsafe-inline"), "{csp}");
}

both_stores!(
    seeds_replayed_against_the_document,
    the_checker_refuses_what_the_document_does_not_say,
    every_documented_operation_is_routed,
    docs_page_is_served_by_rampart,
);
