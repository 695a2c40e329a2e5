//! Sign-in through external providers against a small OpenID provider served in the test
//! (its own RSA key, discovery, JWKS, an authorize endpoint that answers at once, a token
//! endpoint that checks PKCE, user info, and GitHub-style `/gh/user` endpoints). It can be
//! told to lie, and every lie must be refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::{get, post};
use axum::Json;
use domain::crypto::MasterKey;
use domain::keys::{Signer, SigningAlg};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, json_of, run, Backend, TestApp, PASSWORD};
use crate::hosted::Browser;

/// What the fake provider does wrong, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Lie {
    #[default]
    None,
    WrongIssuer,
    WrongAudience,
    BadSignature,
    NoNonce,
    WrongNonce,
    Expired,
}

#[derive(Default)]
struct FakeState {
    lie: Lie,
    subject: String,
    email: String,
    email_verified: bool,
    /// code → (nonce, PKCE challenge)
    codes: HashMap<String, (Option<String>, String)>,
}

struct Fake {
    issuer: String,
    client_id: String,
    client_secret: String,
    signer: Signer,
    /// Same kid as `signer`, another key: what a forger has.
    forger: Signer,
    jwk: Value,
    state: Mutex<FakeState>,
}

type Shared = Arc<Fake>;

fn signers() -> (Signer, Signer, Value) {
    let master = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
    let real = domain::keys::generate(SigningAlg::Rs256, &master).unwrap();
    let other = domain::keys::generate(SigningAlg::Rs256, &master).unwrap();
    let signer = Signer::open(&master, &real.kid, real.alg, &real.private_sealed).unwrap();
    // The forger's key claims the real key's id.
    let forger = Signer::open(&master, &other.kid, other.alg, &other.private_sealed).unwrap();
    (signer, forger, serde_json::to_value(&real.public_jwk).unwrap())
}

async fn discovery(State(f): State<Shared>) -> Json<Value> {
    let i = &f.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(f): State<Shared>) -> Json<Value> {
    Json(json!({ "keys": [f.jwk] }))
}

/// Answers at once: back to `redirect_uri` with a code (the user "consented").
async fn authorize(State(f): State<Shared>, Query(q): Query<HashMap<String, String>>) -> AxumResponse {
    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(q.get("client_id"), Some(&f.client_id));
    assert_eq!(q.get("code_challenge_method").map(String::as_str), Some("S256"), "PKCE S256 is always sent");
    let code = domain::crypto::random_id("code_");
    let challenge = q["code_challenge"].clone();
    f.state.lock().unwrap().codes.insert(code.clone(), (q.get("nonce").cloned(), challenge));
    let mut to = openidconnect::url::Url::parse(&q["redirect_uri"]).unwrap();
    to.query_pairs_mut().append_pair("code", &code).append_pair("state", &q["state"]);
    (AxumStatus::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

fn basic_ok(f: &Fake, headers: &axum::http::HeaderMap, form: &HashMap<String, String>) -> bool {
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", f.client_id, f.client_secret));
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Basic {expected}"));
    let post = form.get("client_id") == Some(&f.client_id) && form.get("client_secret") == Some(&f.client_secret);
    basic || post
}

async fn token(
    State(f): State<Shared>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> AxumResponse {
    if !basic_ok(&f, &headers, &form) {
        return (AxumStatus::UNAUTHORIZED, Json(json!({"error": "invalid_client"}))).into_response();
    }
    let mut state = f.state.lock().unwrap();
    // Codes are single use.
    let Some((nonce, challenge)) = state.codes.remove(form.get("code").map(String::as_str).unwrap_or_default()) else {
        return (AxumStatus::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if domain::crypto::token_digest(&verifier) != challenge {
        return (AxumStatus::BAD_REQUEST, Json(json!({"error": "invalid_grant", "error_description": "PKCE"})))
            .into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": f.issuer,
        "sub": state.subject,
        "aud": f.client_id,
        "iat": now,
        "exp": now + 300,
        "email": state.email,
        "email_verified": state.email_verified,
        "name": "Fed Person",
        "preferred_username": "fedperson",
    });
    match (state.lie, nonce) {
        (Lie::NoNonce, _) | (_, None) => {}
        (Lie::WrongNonce, Some(_)) => claims["nonce"] = json!("not-the-nonce"),
        (_, Some(nonce)) => claims["nonce"] = json!(nonce),
    }
    match state.lie {
        Lie::WrongIssuer => claims["iss"] = json!("https://evil.example.com"),
        Lie::WrongAudience => claims["aud"] = json!("someone-else"),
        Lie::Expired => claims["exp"] = json!(now - 600),
        _ => {}
    }
    let signer = if state.lie == Lie::BadSignature { &f.forger } else { &f.signer };
    let mut id_token = signer.sign_typed("JWT", &claims).unwrap();
    if state.lie == Lie::BadSignature {
        // The forger's token, under the real key's id.
        let real_header = f.signer.sign_typed("JWT", &json!({})).unwrap();
        let header = real_header.split('.').next().unwrap();
        let rest: Vec<&str> = id_token.splitn(2, '.').collect();
        id_token = format!("{header}.{}", rest[1]);
    }
    Json(json!({
        "access_token": format!("at-{}", state.subject),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

async fn userinfo(State(f): State<Shared>) -> Json<Value> {
    let s = f.state.lock().unwrap();
    Json(json!({"sub": s.subject, "email": s.email, "email_verified": s.email_verified}))
}

async fn gh_user(State(f): State<Shared>, headers: axum::http::HeaderMap) -> AxumResponse {
    let s = f.state.lock().unwrap();
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(&format!("Bearer at-{}", s.subject)) {
        return AxumStatus::UNAUTHORIZED.into_response();
    }
    Json(json!({"id": 4242, "login": "octo-cat", "name": "Octo Cat", "email": null})).into_response()
}

async fn gh_emails(State(f): State<Shared>) -> Json<Value> {
    let s = f.state.lock().unwrap();
    Json(json!([
        {"email": "other@example.com", "primary": false, "verified": true},
        {"email": s.email, "primary": true, "verified": s.email_verified},
    ]))
}

/// Starts the fake provider on a random port.
async fn fake_provider() -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (signer, forger, jwk) = tokio::task::spawn_blocking(signers).await.unwrap();
    let fake = Arc::new(Fake {
        issuer,
        client_id: "rampart-client".into(),
        client_secret: "fake-secret-123".into(),
        signer,
        forger,
        jwk,
        state: Mutex::new(FakeState {
            subject: "sub-1".into(),
            email: "fed@example.com".into(),
            email_verified: true,
            ..FakeState::default()
        }),
    });
    let router = axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .route("/gh/user", get(gh_user))
        .route("/gh/user/emails", get(gh_emails))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    fake
}

impl Fake {
    fn set(&self, lie: Lie, subject: &str, email: &str, verified: bool) {
        let mut s = self.state.lock().unwrap();
        s.lie = lie;
        s.subject = subject.into();
        s.email = email.into();
        s.email_verified = verified;
    }
}

/// An app with the fake as its `fake` OpenID provider.
async fn app_with_provider(app: &TestApp, slug: &str, fake: &Fake, auto_link: bool) -> String {
    let owner = app.app_with_owner(slug).await;
    let body = json!({
        "name": "fake", "kind": "oidc", "display_name": "Fake ID", "issuer": fake.issuer,
        "client_id": fake.client_id, "client_secret": fake.client_secret, "auto_link": auto_link,
    });
    let r = app.client.post(app.url(&format!("/api/v1/apps/{slug}/oauth-providers"))).bearer_auth(&owner).json(&body);
    let created = json_of(r.send().await.unwrap(), StatusCode::CREATED).await;
    assert_eq!(created["has_client_secret"], true);
    assert!(created.get("client_secret").is_none());
    owner
}

fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        let (n, rest) = line.split_once('=')?;
        (n == name).then(|| rest.split(';').next().unwrap_or_default().to_owned())
    })
}

/// The way there and back: authorize at Rampart, the provider's answer; returns the
/// callback URL and the flow cookie.
async fn to_callback(app: &TestApp, slug: &str, provider: &str, query: &str) -> (String, String) {
    let start = app.get(&format!("/{slug}/v1/auth/oauth/{provider}/authorize{query}")).await;
    assert_eq!(start.status(), StatusCode::FOUND, "{:?}", start.text().await);
    let flow = set_cookie(&start, "oauth_flow").expect("the flow cookie");
    let line = start.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(line
        .iter()
        .any(|l| l.contains(&format!("Path=/{slug}/v1/auth/oauth/{provider}/callback")) && l.contains("HttpOnly")));
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("code_challenge=") && location.contains("state="), "{location}");
    let back = app.client.get(&location).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    (back.headers()["location"].to_str().unwrap().to_owned(), flow)
}

async fn callback(app: &TestApp, url: &str, flow: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(url);
    if let Some(flow) = flow {
        request = request.header("cookie", format!("oauth_flow={flow}"));
    }
    request.send().await.unwrap()
}

async fn sign_in_through(app: &TestApp, slug: &str) -> reqwest::Response {
    let (url, flow) = to_callback(app, slug, "fake", "").await;
    callback(app, &url, Some(&flow)).await
}

#[tokio::test]
async fn first_sign_in_creates_the_user_and_answers_tokens() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        run(backend, |app| async move {
            let fake = fake_provider().await;
            app_with_provider(&app, "fed-new", &fake, false).await;
            let pair = json_of(sign_in_through(&app, "fed-new").await, StatusCode::OK).await;
            let token = pair["access_token"].as_str().unwrap().to_owned();
            let me = app.me("fed-new", &token).await;
            assert_eq!(me["email"], "fed@example.com", "{me}");
            let ids = json_of(app.get_with_bearer("/fed-new/v1/me/identities", &token).await, StatusCode::OK).await;
            assert_eq!(ids["identities"].as_array().unwrap().len(), 1);
            assert_eq!(ids["identities"][0]["provider"], "fake");
            // Again: the same user, no second one.
            let again = json_of(sign_in_through(&app, "fed-new").await, StatusCode::OK).await;
            let me2 = app.me("fed-new", again["access_token"].as_str().unwrap()).await;
            assert_eq!(me["id"], me2["id"]);
            // The last way to sign in cannot be unlinked.
            let id = ids["identities"][0]["id"].as_str().unwrap();
            let r = app.delete_with_bearer(&format!("/fed-new/v1/me/identities/{id}"), &token).await;
            assert_error(r, StatusCode::CONFLICT, "CONFLICT").await;
        })
        .await;
    }
}

#[tokio::test]
async fn a_lying_provider_is_refused() {
    run(Backend::Sqlite, |app| async move {
        let fake = fake_provider().await;
        app_with_provider(&app, "fed-lies", &fake, false).await;
        for lie in
            [Lie::WrongIssuer, Lie::WrongAudience, Lie::BadSignature, Lie::NoNonce, Lie::WrongNonce, Lie::Expired]
        {
            fake.set(lie, &format!("liar-{lie:?}"), &format!("{lie:?}@example.com").to_lowercase(), true);
            let r = sign_in_through(&app, "fed-lies").await;
            assert_error(r, StatusCode::UNAUTHORIZED, "OAUTH_VERIFICATION_FAILED").await;
        }
        let users = app.engine.store().user_by_username(app.engine.app("fed-lies").await.unwrap().id, "fedperson");
        assert!(users.await.unwrap().is_none(), "no lie created a user");
    })
    .await;
}

#[tokio::test]
async fn state_is_single_use_and_bound_to_its_cookie() {
    run(Backend::Sqlite, |app| async move {
        let fake = fake_provider().await;
        app_with_provider(&app, "fed-state", &fake, false).await;
        // Without its cookie.
        let (url, _) = to_callback(&app, "fed-state", "fake", "").await;
        assert_error(callback(&app, &url, None).await, StatusCode::BAD_REQUEST, "OAUTH_STATE_INVALID").await;
        // Another flow's cookie.
        let (url_a, _) = to_callback(&app, "fed-state", "fake", "").await;
        let (_, flow_b) = to_callback(&app, "fed-state", "fake", "").await;
        let r = callback(&app, &url_a, Some(&flow_b)).await;
        assert_error(r, StatusCode::BAD_REQUEST, "OAUTH_STATE_INVALID").await;
        // Replayed: the first callback signs in, the second is refused.
        let (url, flow) = to_callback(&app, "fed-state", "fake", "").await;
        assert_eq!(callback(&app, &url, Some(&flow)).await.status(), StatusCode::OK);
        let r = callback(&app, &url, Some(&flow)).await;
        assert_error(r, StatusCode::BAD_REQUEST, "OAUTH_STATE_INVALID").await;
        // The provider said no: a clear 4xx (and a page for browsers).
        let (url, flow) = to_callback(&app, "fed-state", "fake", "").await;
        let state = crate::helpers::query_param(&url, "state");
        let denied = format!("/fed-state/v1/auth/oauth/fake/callback?error=access_denied&state={state}");
        let r = callback(&app, &app.url(&denied), Some(&flow)).await;
        assert_error(r, StatusCode::FORBIDDEN, "OAUTH_PROVIDER_ERROR").await;
        let page = app.client.get(app.url(&denied)).header("accept", "text/html").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        assert!(page.text().await.unwrap().contains("did not sign you in"));
    })
    .await;
}

#[tokio::test]
async fn an_existing_user_is_linked_only_with_a_verified_email_and_auto_linking() {
    run(Backend::Sqlite, |app| async move {
        let fake = fake_provider().await;
        let owner = app_with_provider(&app, "fed-link", &fake, false).await;
        let existing = app.signup_end_user("fed-link", "alice").await;
        let alice_id = app.me("fed-link", existing["access_token"].as_str().unwrap()).await["id"].clone();
        // Verify alice's email through the engine's own link, as her mailbox would.
        crate::helpers::execute_sql(
            &app,
            "UPDATE contacts SET verified_at = 1 WHERE value = 'alice@example.com'",
            "UPDATE contacts SET verified_at = now() WHERE value = 'alice@example.com'",
        )
        .await;
        fake.set(Lie::None, "alice-at-fake", "alice@example.com", true);
        // Auto-linking off: refused, with what to do.
        let r = sign_in_through(&app, "fed-link").await;
        let body = assert_error(r, StatusCode::CONFLICT, "ACCOUNT_EXISTS").await;
        assert!(body["message"].as_str().unwrap().contains("account page"));
        // On, but the provider does not vouch for the email: refused.
        let patch = json!({"auto_link": true});
        let r = app.patch_json_with_bearer("/api/v1/apps/fed-link/oauth-providers/fake", &owner, &patch).await;
        assert_eq!(json_of(r, StatusCode::OK).await["auto_link"], true);
        fake.set(Lie::None, "alice-at-fake", "alice@example.com", false);
        assert_error(sign_in_through(&app, "fed-link").await, StatusCode::CONFLICT, "ACCOUNT_EXISTS").await;
        // Both: the same user.
        fake.set(Lie::None, "alice-at-fake", "alice@example.com", true);
        let pair = json_of(sign_in_through(&app, "fed-link").await, StatusCode::OK).await;
        assert_eq!(app.me("fed-link", pair["access_token"].as_str().unwrap()).await["id"], alice_id);
        // A suspended user is refused.
        let alice = alice_id.as_str().unwrap();
        let r = app
            .patch_json_with_bearer(
                &format!("/api/v1/apps/fed-link/end-users/{alice}"),
                &owner,
                &json!({"status": "suspended"}),
            )
            .await;
        assert!(r.status().is_success(), "{:?}", r.text().await);
        assert_error(sign_in_through(&app, "fed-link").await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    })
    .await;
}

#[tokio::test]
async fn browsers_get_the_session_cookie_and_link_and_unlink_from_the_account() {
    run(Backend::Sqlite, |app| async move {
        let fake = fake_provider().await;
        let owner = app_with_provider(&app, "fed-web", &fake, false).await;
        // The sign-in page offers the provider, without JavaScript: a plain link.
        let browser = Browser::new(&app);
        let signin = browser.get("/fed-web/signin").await;
        assert!(signin.contains("Continue with Fake ID"), "{}", signin.html);
        assert!(signin.contains("/fed-web/v1/auth/oauth/fake/authorize?redirect_to="));
        // A browser sign-in: the session cookie and a redirect to redirect_to.
        fake.set(Lie::None, "web-1", "web@example.com", true);
        let (url, flow) = to_callback(&app, "fed-web", "fake", "?redirect_to=/fed-web/account").await;
        let r = callback(&app, &url, Some(&flow)).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()["location"], "/fed-web/account");
        assert!(set_cookie(&r, "session").is_some_and(|c| c.starts_with("cs_")));
        // A user with a password links the provider from the account page.
        app.signup_end_user("fed-web", "bob").await;
        let page = browser.get("/fed-web/signin").await;
        let account = browser.submit(&page, "signin-form", &[("identifier", "bob"), ("password", PASSWORD)]).await;
        assert!(account.contains("Link Fake ID"), "{}", account.html);
        fake.set(Lie::None, "bob-at-fake", "bob-elsewhere@example.com", true);
        let to_fake = browser.submit_raw(&account, "link-form-fake", &[]).await;
        assert_eq!(to_fake.status(), StatusCode::FOUND);
        let location = to_fake.headers()["location"].to_str().unwrap().to_owned();
        let back = app.client.get(&location).send().await.unwrap();
        let callback_url = back.headers()["location"].to_str().unwrap().to_owned();
        let linked = browser.get(&callback_url).await;
        assert!(linked.path.contains("done=linked"), "{}", linked.path);
        assert!(linked.contains("bob-elsewhere@example.com"), "{}", linked.html);
        // The identity now signs bob in.
        let pair = json_of(sign_in_through(&app, "fed-web").await, StatusCode::OK).await;
        assert_eq!(app.me("fed-web", pair["access_token"].as_str().unwrap()).await["username"], "bob");
        // Bob has a password: he may unlink.
        let unlinked = browser.submit(&linked, &format!("identity-form-{}", identity_id(&linked.html)), &[]).await;
        assert!(unlinked.path.contains("done=unlinked"), "{}", unlinked.path);
        assert!(!unlinked.contains("bob-elsewhere@example.com"));
        let kinds: Vec<String> = audit_types(&app, "fed-web", &owner).await;
        for kind in ["oauth_provider.created", "identity.linked", "identity.unlinked", "end_user.signed_in"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
        }
    })
    .await;
}

fn identity_id(html: &str) -> String {
    let at = html.find("identity-form-").expect("an identity form") + "identity-form-".len();
    html[at..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '-').collect()
}

async fn audit_types(app: &TestApp, slug: &str, owner: &str) -> Vec<String> {
    let log =
        json_of(app.get_with_bearer(&format!("/api/v1/apps/{slug}/audit?limit=100"), owner).await, StatusCode::OK)
            .await;
    log["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn github_preset_maps_its_user_and_verified_email() {
    run(Backend::Sqlite, |app| async move {
        let fake = fake_provider().await;
        let owner = app.app_with_owner("fed-gh").await;
        let i = &fake.issuer;
        let body = json!({
            "kind": "github", "client_id": fake.client_id, "client_secret": fake.client_secret,
            "authorization_url": format!("{i}/authorize"), "token_url": format!("{i}/token"),
            "userinfo_url": format!("{i}/gh/user"),
        });
        let r = app.client.post(app.url("/api/v1/apps/fed-gh/oauth-providers")).bearer_auth(&owner).json(&body);
        let created = json_of(r.send().await.unwrap(), StatusCode::CREATED).await;
        assert_eq!(created["name"], "github");
        assert_eq!(created["callback_url"], app.url("/fed-gh/v1/auth/oauth/github/callback"));
        fake.set(Lie::None, "gh-1", "octo@example.com", true);
        let (url, flow) = to_callback(&app, "fed-gh", "github", "").await;
        let pair = json_of(callback(&app, &url, Some(&flow)).await, StatusCode::OK).await;
        let me = app.me("fed-gh", pair["access_token"].as_str().unwrap()).await;
        assert_eq!(me["username"], "octo-cat", "{me}");
        assert_eq!(me["email"], "octo@example.com");
        // auth/methods lists it with its URLs.
        let methods = json_of(app.get("/fed-gh/v1/auth/methods").await, StatusCode::OK).await;
        assert_eq!(methods["oauth"][0]["provider"], "github");
        assert_eq!(methods["oauth"][0]["authorize"], app.url("/fed-gh/v1/auth/oauth/github/authorize"));
    })
    .await;
}

#[tokio::test]
async fn provider_management_never_shows_the_secret_and_disabling_stops_it() {
    run(Backend::Sqlite, |app| async move {
        let fake = fake_provider().await;
        let owner = app_with_provider(&app, "fed-admin", &fake, false).await;
        let list =
            json_of(app.get_with_bearer("/api/v1/apps/fed-admin/oauth-providers", &owner).await, StatusCode::OK).await;
        let text = list.to_string();
        assert!(!text.contains(&fake.client_secret), "{text}");
        // The secret is sealed at rest too.
        for value in crate::helpers::stored_values(&app).await {
            assert!(!String::from_utf8_lossy(&value).contains(&fake.client_secret));
        }
        // Bad input is a 400, duplicates a 409.
        let bad = [
            json!({"kind": "myspace", "client_id": "x"}),
            json!({"kind": "oidc", "client_id": "x"}),
            json!({"kind": "oidc", "client_id": "x", "issuer": "http://id.example.com", "name": "o"}),
            json!({"kind": "google", "client_id": "x", "issuer": "https://evil.example.com"}),
            json!({"kind": "github", "client_id": "x", "name": "bad name"}),
        ];
        for body in bad {
            let r = app.client.post(app.url("/api/v1/apps/fed-admin/oauth-providers")).bearer_auth(&owner).json(&body);
            assert_error(r.send().await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_REQUEST").await;
        }
        let dup = json!({"name": "fake", "kind": "google", "client_id": "x"});
        let r = app.client.post(app.url("/api/v1/apps/fed-admin/oauth-providers")).bearer_auth(&owner).json(&dup);
        assert_error(r.send().await.unwrap(), StatusCode::CONFLICT, "CONFLICT").await;
        // Disabled between authorize and callback: the callback is refused at once.
        let (url, flow) = to_callback(&app, "fed-admin", "fake", "").await;
        let off = json!({"enabled": false});
        let r = app.patch_json_with_bearer("/api/v1/apps/fed-admin/oauth-providers/fake", &owner, &off).await;
        assert_eq!(json_of(r, StatusCode::OK).await["enabled"], false);
        assert_error(callback(&app, &url, Some(&flow)).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        let start = app.get("/fed-admin/v1/auth/oauth/fake/authorize").await;
        assert_error(start, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        let methods = json_of(app.get("/fed-admin/v1/auth/methods").await, StatusCode::OK).await;
        assert_eq!(methods["oauth"], json!([]));
        // Removed.
        let r = app.delete_with_bearer("/api/v1/apps/fed-admin/oauth-providers/fake", &owner).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = app.get_with_bearer("/api/v1/apps/fed-admin/oauth-providers/fake", &owner).await;
        assert_error(r, StatusCode::NOT_FOUND, "NOT_FOUND").await;
        // A redirect_to the app does not allow is refused before anything else.
        let r = app.get("/fed-admin/v1/auth/oauth/fake/authorize?redirect_to=https://evil.example.com").await;
        assert!(r.status().is_client_error());
    })
    .await;
}
