//! Each app as an OpenID Connect provider, driven by a standard relying party (the
//! `openidconnect` crate): discovery, code + PKCE through the hosted sign-in page, the ID
//! token validated by the library, userinfo, refresh, logout, client credentials and
//! `private_key_jwt`; the management API of OIDC clients; and the attacks: redirect URI
//! variants, PKCE downgrades, code reuse, another client's code, consent, `prompt=none`.

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{both_stores, json_of, two_nodes, TestApp, PASSWORD};
use crate::hosted::{Browser, Page};

both_stores!(
    clients_are_managed_with_their_secret_shown_once,
    code_flow_with_a_standard_relying_party,
    public_clients_need_pkce_and_third_parties_consent,
    redirect_uris_must_match_exactly,
    codes_are_single_use_and_bound_to_their_client,
    machine_clients_and_private_key_jwt,
    discovery_and_jwks_match_what_is_issued,
    prompt_login_and_max_age_ask_to_sign_in_again,
);
two_nodes!(the_flow_spans_two_nodes);

pub(crate) const RP: &str = "https://rp.example/cb";
const RP_LOGOUT: &str = "https://rp.example/bye";

/// The relying party's HTTP client: reqwest, following no redirects (OAuth 2.0 Security BCP).
async fn send(
    client: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, std::io::Error> {
    let (parts, body) = request.into_parts();
    let mut r = client.request(parts.method, parts.uri.to_string()).body(body);
    for (name, value) in &parts.headers {
        r = r.header(name, value);
    }
    let response = r.send().await.map_err(std::io::Error::other)?;
    let mut built = openidconnect::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        built = built.header(name, value);
    }
    let body = response.bytes().await.map_err(std::io::Error::other)?.to_vec();
    built.body(body).map_err(std::io::Error::other)
}

fn http(
    app: &TestApp,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, std::io::Error>> + Send>,
> {
    let client = app.client.clone();
    move |request| Box::pin(send(client.clone(), request))
}

async fn discover(app: &TestApp, slug: &str) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(app.issuer(slug)).unwrap();
    CoreProviderMetadata::discover_async(issuer, &http(app)).await.unwrap()
}

/// Creates a client through the management API; answers it with its secret.
pub(crate) async fn create_client(app: &TestApp, owner: &str, slug: &str, body: Value) -> Value {
    let response = app.post_json_with_bearer(&format!("/api/v1/apps/{slug}/oidc-clients"), owner, &body).await;
    json_of(response, StatusCode::CREATED).await
}

/// A first-party confidential client with a refresh grant, redirecting to [`RP`].
pub(crate) async fn web_client(app: &TestApp, owner: &str, slug: &str) -> (String, String) {
    let c = create_client(
        app,
        owner,
        slug,
        json!({"name": "Web", "redirect_uris": [RP], "post_logout_redirect_uris": [RP_LOGOUT],
               "scopes": ["openid", "profile", "email", "offline_access"], "first_party": true}),
    )
    .await;
    (c["client_id"].as_str().unwrap().to_owned(), c["client_secret"].as_str().unwrap().to_owned())
}

/// An end-user of `slug` and a browser signed in as them on the hosted pages.
pub(crate) async fn signed_in(app: &TestApp, slug: &str, username: &str) -> Browser {
    app.signup_end_user(slug, username).await;
    let browser = Browser::new(app);
    let page = browser.get(&format!("/{slug}/signin")).await;
    let done = browser.submit(&page, "signin-form", &[("identifier", username), ("password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    browser
}

/// Whether a client's access token is live: `userinfo`, the endpoint that takes it, answers
/// 200 while its session lives (the end-user API never takes it).
async fn live(app: &TestApp, access: &str) -> StatusCode {
    app.get_with_bearer("/acme/oauth2/userinfo", access).await.status()
}

/// A parameter of a URL's query, decoded (empty when absent).
fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Where a response sends the browser back to the client.
pub(crate) fn location(page: &Page) -> String {
    page.header("location")
}

/// The `code` of a redirect to the client, after checking `state` and `iss` (RFC 9207).
pub(crate) fn code_of(app: &TestApp, slug: &str, to: &str, state: &str) -> String {
    assert!(to.starts_with(RP), "{to}");
    assert_eq!(query_param(to, "state"), state, "{to}");
    assert_eq!(query_param(to, "iss"), app.issuer(slug), "{to}");
    query_param(to, "code")
}

/// The `error` of a redirect to the client.
fn error_of(to: &str) -> String {
    assert!(to.starts_with(RP), "{to}");
    query_param(to, "error")
}

/// A raw authorization request (`params` form-encoded), as the browser sends it.
pub(crate) async fn authorize(browser: &Browser, slug: &str, params: &[(&str, &str)]) -> Page {
    let query = url_encoded(params);
    browser.get(&format!("/{slug}/oauth2/authorize?{query}")).await
}

pub(crate) fn url_encoded(params: &[(&str, &str)]) -> String {
    params.iter().map(|(k, v)| format!("{k}={}", crate::hosted::url_encode(v))).collect::<Vec<_>>().join("&")
}

/// A raw token request with `client_secret_post` (or a public client's `client_id`).
async fn token(app: &TestApp, slug: &str, form: &[(&str, &str)]) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let response = app.client.post(app.url(&format!("/{slug}/oauth2/token"))).form(form).send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

/// How a client authenticates in a test's token request.
#[derive(Clone, Copy)]
pub(crate) enum Client<'a> {
    /// A public client: its `client_id` in the form.
    Public(&'a str),
    /// `client_secret_basic`.
    Basic(&'a str, &'a str),
}

/// The token request of a client: `form`, and the client's authentication.
pub(crate) fn token_request(
    app: &TestApp,
    slug: &str,
    client: Client<'_>,
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let request = app.client.post(app.url(&format!("/{slug}/oauth2/token")));
    match client {
        Client::Public(id) => request.form(&[form, &[("client_id", id)]].concat()),
        Client::Basic(id, secret) => request.basic_auth(id, Some(secret)).form(form),
    }
}

/// Exchanges a code of `acme` redirected to [`RP`], with `verifier` when given.
pub(crate) async fn exchange(
    app: &TestApp,
    client: Client<'_>,
    code: &str,
    verifier: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", RP)];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let response = token_request(app, "acme", client, &form).send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

pub(crate) fn s256(verifier: &str) -> String {
    PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.into())).as_str().to_owned()
}

/// The claims of a JWT, unverified (the tests look at what was issued).
pub(crate) fn payload_of(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The header of a JWT.
fn header_of(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub(crate) const VERIFIER: &str = "a-verifier-that-is-long-enough-to-be-a-pkce-verifier-0123456789";

async fn clients_are_managed_with_their_secret_shown_once(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let base = "/api/v1/apps/acme/oidc-clients";
    let created = create_client(&app, &owner, "acme", json!({"name": "Web", "redirect_uris": [RP]})).await;
    let id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("oc_") && secret.starts_with("ocs_"), "{created}");
    assert_eq!(created["client_type"], "confidential");
    assert_eq!(created["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(created["token_endpoint_auth_methods"], json!(["client_secret_basic", "client_secret_post"]));

    let public = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "SPA", "client_type": "public", "redirect_uris": ["http://localhost:5173/cb"]}),
    )
    .await;
    assert!(public.get("client_secret").is_none(), "{public}");
    assert_eq!(public["token_endpoint_auth_methods"], json!(["none"]));

    // Listed and read without a secret; the secret is stored only as its digest.
    let list = json_of(app.get_with_bearer(base, &owner).await, StatusCode::OK).await;
    assert_eq!(list["clients"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("ocs_"), "{list}");
    let one = json_of(app.get_with_bearer(&format!("{base}/{id}"), &owner).await, StatusCode::OK).await;
    assert!(one.get("client_secret").is_none());
    let stored = crate::helpers::stored_values(&app).await;
    assert!(!stored.iter().any(|v| v.windows(secret.len()).any(|w| w == secret.as_bytes())), "secret stored in clear");

    // Patched: URIs, scopes, first party.
    let patched = json_of(
        app.patch_json_with_bearer(
            &format!("{base}/{id}"),
            &owner,
            &json!({"redirect_uris": [RP, "https://rp.example/other"], "first_party": true, "scopes": ["openid"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["redirect_uris"], json!([RP, "https://rp.example/other"]));
    assert_eq!(patched["first_party"], true);

    // Bad input is a 400 and changes nothing.
    for bad in [
        json!({"redirect_uris": ["http://rp.example/cb"]}),
        json!({"redirect_uris": ["https://rp.example/cb#x"]}),
        json!({"redirect_uris": ["https://u:p@rp.example/cb"]}),
        json!({"redirect_uris": ["javascript:alert(1)"]}),
        json!({"grant_types": ["password"]}),
        json!({"grant_types": ["implicit"]}),
        json!({"scopes": ["admin"]}),
        json!({"redirect_uris": []}),
        json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
        json!({"unknown": true}),
    ] {
        let r = app.patch_json_with_bearer(&format!("{base}/{id}"), &owner, &bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let bad_public = app
        .post_json_with_bearer(
            base,
            &owner,
            &json!({"name": "x", "client_type": "public", "grant_types": ["client_credentials"]}),
        )
        .await;
    assert_eq!(bad_public.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(app.get_with_bearer(&format!("{base}/{id}"), &owner).await, StatusCode::OK).await, patched);

    // A new secret: the old one stops at once.
    let public_id = public["client_id"].as_str().unwrap();
    let r = app.post_json_with_bearer(&format!("{base}/{public_id}/rotate-secret"), &owner, &json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "a public client has no secret");
    let rotated = json_of(
        app.post_json_with_bearer(&format!("{base}/{id}/rotate-secret"), &owner, &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let grant = [("grant_type", "refresh_token"), ("refresh_token", "ort_x"), ("client_id", id.as_str())];
    let (status, body, _) = token(&app, "acme", &[&grant[..], &[("client_secret", secret.as_str())]].concat()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    let (status, body, _) = token(&app, "acme", &[&grant[..], &[("client_secret", new_secret)]].concat()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");

    // Other callers: an end-user's account has no role on the app; a key without the scope.
    let stranger = app.account_token("stranger").await;
    assert_eq!(app.get_with_bearer(base, &stranger).await.status(), StatusCode::NOT_FOUND, "not even seen");
    let (_, key) = crate::api_keys::create_key(&app, &owner, "acme", &["user.read"]).await;
    assert_eq!(app.get_with_bearer(base, &key).await.status(), StatusCode::FORBIDDEN);
    let other = app.account_token("other-owner").await;
    app.create_app_ok(&other, "other").await;
    let r = app.get_with_bearer(&format!("/api/v1/apps/other/oidc-clients/{id}"), &other).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "another app's client is not found");

    // Deleted.
    assert_eq!(app.delete_with_bearer(&format!("{base}/{id}"), &owner).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_with_bearer(&format!("{base}/{id}"), &owner).await.status(), StatusCode::NOT_FOUND);

    let log = json_of(app.get_with_bearer("/api/v1/apps/acme/audit?type=oidc_client.*", &owner).await, StatusCode::OK)
        .await
        .to_string();
    for kind in ["oidc_client.created", "oidc_client.updated", "oidc_client.secret_rotated", "oidc_client.deleted"] {
        assert!(log.contains(kind), "{kind} in {log}");
    }
    assert!(!log.contains("ocs_"), "no secret in the audit log");
}

/// The whole flow as a relying party library runs it: discovery, authorization with PKCE
/// through the hosted sign-in page, the code exchange, the ID token checked (signature
/// through the JWKS, issuer, audience, nonce, `at_hash`), userinfo, refresh (and reuse
/// detection), the bearer on Rampart's own API, and RP-initiated logout.
async fn code_flow_with_a_standard_relying_party(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let (client_id, secret) = web_client(&app, &owner, "acme").await;
    app.signup_end_user("acme", "ann").await;
    let metadata = discover(&app, "acme").await;
    let rp =
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.clone()), Some(ClientSecret::new(secret)))
            .set_redirect_uri(RedirectUrl::new(RP.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .set_login_hint(openidconnect::LoginHint::new("ann".into()))
        .url();

    // No session: the hosted sign-in page, the hint prefilled, then back to the request.
    let browser = Browser::new(&app);
    let page = browser.get(url.as_str()).await;
    assert!(page.path.starts_with("/acme/signin"), "{}", page.path);
    assert!(page.html.contains("value=\"ann\""), "login_hint prefilled: {}", page.html);
    let back = browser.submit(&page, "signin-form", &[("identifier", "ann"), ("password", PASSWORD)]).await;
    assert_eq!(back.status, StatusCode::FOUND);
    let code = code_of(&app, "acme", &location(&back), state.secret());

    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http(&app))
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = rp.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).expect("the library accepts the ID token");
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    assert_eq!(claims.preferred_username().unwrap().as_str(), "ann");
    assert_eq!(claims.email().unwrap().as_str(), "ann@example.com");
    assert!(claims.auth_time().is_some());
    // How ann authenticated (RFC 8176): with her password, on the hosted sign-in page.
    let amr = |c: &openidconnect::core::CoreIdTokenClaims| -> Vec<String> {
        c.auth_method_refs().expect("amr").iter().map(|m| m.to_string()).collect()
    };
    assert_eq!(amr(claims), ["pwd"]);
    let sub = claims.subject().clone();

    // The access token is the app's `at+jwt` with the client and scopes, good at `userinfo`.
    let access = tokens.access_token().secret().clone();
    let payload = payload_of(&access);
    assert_eq!(payload["client_id"], client_id);
    assert_eq!(payload["scope"], "openid profile email offline_access");
    let me = json_of(app.get_with_bearer("/acme/oauth2/userinfo", &access).await, StatusCode::OK).await;
    assert_eq!(me["preferred_username"], "ann");

    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&http(&app))
        .await
        .unwrap();
    assert_eq!(info.email().unwrap().as_str(), "ann@example.com");
    assert_eq!(info.preferred_username().unwrap().as_str(), "ann");

    // Refresh through the library; the spent refresh token presented again ends the session.
    let first = tokens.refresh_token().expect("a refresh token").clone();
    assert!(first.secret().starts_with("ort_"));
    let refreshed: CoreTokenResponse =
        rp.exchange_refresh_token(&first).unwrap().request_async(&http(&app)).await.unwrap();
    let new_access = refreshed.access_token().secret().clone();
    let refreshed_claims = refreshed.id_token().unwrap().claims(&id_verifier, |_: Option<&Nonce>| Ok(())).unwrap();
    assert_eq!(amr(refreshed_claims), ["pwd"], "a refresh keeps how the session began");
    assert_eq!(live(&app, &new_access).await, StatusCode::OK);
    // Not on Rampart's own refresh endpoint: the token is bound to its client.
    let r = app
        .post_json("/acme/v1/auth/refresh", &json!({"refresh_token": refreshed.refresh_token().unwrap().secret()}))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let reused = rp.exchange_refresh_token(&first).unwrap().request_async(&http(&app)).await;
    assert!(reused.is_err(), "a spent refresh token is refused");
    assert_eq!(live(&app, &new_access).await, StatusCode::UNAUTHORIZED);

    // A second authorization reuses the browser's session (no sign-in), then logout.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let again = browser.get(url.as_str()).await;
    let code = code_of(&app, "acme", &location(&again), state.secret());
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http(&app))
        .await
        .unwrap();
    let hint = tokens.id_token().unwrap().to_string();
    tokens.id_token().unwrap().claims(&id_verifier, &nonce).unwrap();
    let access = tokens.access_token().secret().clone();
    // A client's token is for the OpenID Connect endpoints, not the whole end-user API: what
    // the user let a client do is its scopes, never their sessions, contacts or orgs.
    for path in ["/acme/v1/me", "/acme/v1/me/sessions", "/acme/v1/me/contacts", "/acme/v1/orgs"] {
        assert_eq!(app.get_with_bearer(path, &access).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    // Logout to an unregistered URI: a page, nothing ended.
    let bad = browser
        .get(&format!(
            "/acme/oauth2/logout?{}",
            url_encoded(&[("id_token_hint", &hint), ("post_logout_redirect_uri", "https://evil.example/")])
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(live(&app, &access).await, StatusCode::OK);
    let out = browser
        .get(&format!(
            "/acme/oauth2/logout?{}",
            url_encoded(&[("id_token_hint", &hint), ("post_logout_redirect_uri", RP_LOGOUT), ("state", "bye-1")])
        ))
        .await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(location(&out), format!("{RP_LOGOUT}?state=bye-1"));
    assert_eq!(live(&app, &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.cookie("session"), None, "the browser's session ended too");
    let signin = browser.get(url.as_str()).await;
    assert!(signin.path.starts_with("/acme/signin"), "signed out: {}", signin.path);

    let log = json_of(app.get_with_bearer("/api/v1/apps/acme/audit?type=oidc.*", &owner).await, StatusCode::OK).await;
    let log = log.to_string();
    assert!(log.contains("oidc.authorized") && log.contains("oidc.code_exchanged"), "{log}");
}

async fn public_clients_need_pkce_and_third_parties_consent(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let c = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "Photo Printer", "client_type": "public", "redirect_uris": [RP], "scopes": ["openid", "email"]}),
    )
    .await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let browser = signed_in(&app, "acme", "bob").await;
    let base = [
        ("response_type", "code"),
        ("client_id", id.as_str()),
        ("redirect_uri", RP),
        ("scope", "openid email"),
        ("state", "s1"),
    ];

    // No PKCE, `plain`, or a challenge without a method: refused back to the client.
    let missing = authorize(&browser, "acme", &base).await;
    assert_eq!(error_of(&location(&missing)), "invalid_request");
    assert_eq!(query_param(&location(&missing), "state"), "s1");
    assert_eq!(query_param(&location(&missing), "iss"), app.issuer("acme"));
    let challenge = s256(VERIFIER);
    for (method, value) in [(Some("plain"), VERIFIER), (None, challenge.as_str()), (Some("S512"), challenge.as_str())] {
        let mut params = base.to_vec();
        params.push(("code_challenge", value));
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        assert_eq!(error_of(&location(&authorize(&browser, "acme", &params).await)), "invalid_request", "{method:?}");
    }
    let mut pkce = base.to_vec();
    pkce.extend([("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")]);

    // A scope the client does not have; prompt=none without a session.
    let mut wide = pkce.clone();
    wide[3] = ("scope", "openid phone");
    assert_eq!(error_of(&location(&authorize(&browser, "acme", &wide).await)), "invalid_scope");
    let mut none = pkce.clone();
    none.push(("prompt", "none"));
    let stranger = Browser::new(&app);
    assert_eq!(error_of(&location(&authorize(&stranger, "acme", &none).await)), "login_required");
    // Signed in, but never consented: consent_required without a page.
    assert_eq!(error_of(&location(&authorize(&browser, "acme", &none).await)), "consent_required");

    // A third party: the consent page, never skipped. Deny, then allow.
    let consent = authorize(&browser, "acme", &pkce).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.html);
    assert!(consent.contains("Photo Printer") && consent.contains("See your email address"), "{}", consent.html);
    let denied = browser.submit_raw(&consent, "consent-form", &[("decision", "deny")]).await;
    assert_eq!(error_of(denied.headers()["location"].to_str().unwrap()), "access_denied");
    // The form's CSRF token is checked.
    let forged = browser.submit_raw(&consent, "consent-form", &[("decision", "allow"), ("csrf_token", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let allowed = browser.submit_raw(&consent, "consent-form", &[("decision", "allow")]).await;
    let to = allowed.headers()["location"].to_str().unwrap().to_owned();
    let code = code_of(&app, "acme", &to, "s1");

    // A public client authenticates with its id alone, and must show the verifier.
    let public = Client::Public(&id);
    let (status, body, _) = exchange(&app, public, &code, None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    // That code is spent now; a new one, with the right verifier.
    let to = location(&authorize(&browser, "acme", &pkce).await);
    let code = code_of(&app, "acme", &to, "s1");
    let (status, body, _) =
        exchange(&app, public, &code, Some("a-wrong-verifier-that-is-long-enough-to-be-a-pkce-verifier-00")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let to = location(&authorize(&browser, "acme", &pkce).await);
    let (status, body, headers) = exchange(&app, public, &code_of(&app, "acme", &to, "s1"), Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body["id_token"].is_string() && body.get("refresh_token").is_some());

    // Remembered: no page the second time (above); prompt=consent asks again, prompt=none
    // now goes through.
    let mut forced = pkce.clone();
    forced.push(("prompt", "consent"));
    assert_eq!(authorize(&browser, "acme", &forced).await.status, StatusCode::OK);
    let through = authorize(&browser, "acme", &none).await;
    assert!(query_param(&location(&through), "code").starts_with("oac_"), "{}", location(&through));
}

async fn redirect_uris_must_match_exactly(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let c = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "Web", "redirect_uris": [RP, "http://127.0.0.1:8080/cb"], "first_party": true}),
    )
    .await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let browser = signed_in(&app, "acme", "cat").await;
    let challenge = s256(VERIFIER);
    let request = |redirect: &str, client: &str| {
        vec![
            ("response_type", "code".to_owned()),
            ("client_id", client.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("scope", "openid".to_owned()),
            ("state", "st".to_owned()),
            ("code_challenge", challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ]
    };
    for variant in [
        "https://rp.example/cb/extra",
        "https://rp.example/cb?x=1",
        "https://rp.example/cb/",
        "https://RP.example/cb",
        "https://rp.example/CB",
        "https://user@rp.example/cb",
        "https://rp.example:443/cb",
        "http://rp.example/cb",
        "https://rp.example/cb#frag",
        "http://localhost:8080/cb",
        "http://127.0.0.1:8081/cb",
        "https://evil.example/cb",
        "",
    ] {
        let params = request(variant, &id);
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = authorize(&browser, "acme", &params).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{variant}");
        assert!(page.header("location").is_empty(), "never redirected: {variant}");
        assert!(page.contains("has not registered"), "{variant}: {}", page.html);
    }
    // An unknown client: a page too, even with a good-looking redirect URI.
    let params = request(RP, "oc_unknown");
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = authorize(&browser, "acme", &params).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.header("location").is_empty() && page.contains("not registered"), "{}", page.html);
    // The registered ones, byte for byte.
    for exact in [RP, "http://127.0.0.1:8080/cb"] {
        let params = request(exact, &id);
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = authorize(&browser, "acme", &params).await;
        assert!(location(&page).starts_with(&format!("{exact}?code=oac_")), "{exact}: {}", location(&page));
    }
    // An unsupported response type goes back to the (valid) client with its error.
    let mut params = request(RP, &id);
    params[0].1 = "token".into();
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(error_of(&location(&authorize(&browser, "acme", &params).await)), "unsupported_response_type");
}

/// Runs an authorization for `client` of `slug` and answers its code.
pub(crate) async fn code_for(app: &TestApp, browser: &Browser, slug: &str, client: &str) -> String {
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", RP),
        ("scope", "openid"),
        ("state", "x"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    code_of(app, slug, &location(&authorize(browser, slug, &params).await), "x")
}

async fn codes_are_single_use_and_bound_to_their_client(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let (a, a_secret) = web_client(&app, &owner, "acme").await;
    let (b, b_secret) = web_client(&app, &owner, "acme").await;
    let browser = signed_in(&app, "acme", "dan").await;
    let (a_auth, b_auth) = (Client::Basic(&a, &a_secret), Client::Basic(&b, &b_secret));

    // Reused: refused, and what the first exchange issued is revoked.
    let code = code_for(&app, &browser, "acme", &a).await;
    let (status, first, _) = exchange(&app, a_auth, &code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(live(&app, access).await, StatusCode::OK);
    let (status, again, _) = exchange(&app, a_auth, &code, Some(VERIFIER)).await;
    assert_eq!((status, again["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(live(&app, access).await, StatusCode::UNAUTHORIZED);
    let form = [("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())];
    let r = token_request(&app, "acme", a_auth, &form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Another client's code, and a code with the wrong redirect URI: refused (and spent).
    let code = code_for(&app, &browser, "acme", &a).await;
    let (status, body, _) = exchange(&app, b_auth, &code, Some(VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _, _) = exchange(&app, a_auth, &code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "spent by the failed attempt");

    // A refresh token of one client is not another's.
    let (_, tokens, _) = exchange(&app, a_auth, &code_for(&app, &browser, "acme", &a).await, Some(VERIFIER)).await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    let r = token_request(&app, "acme", b_auth, &form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Wrong secret with Basic: 401 and the challenge.
    let r = token_request(&app, "acme", Client::Basic(&a, "ocs_wrong"), &form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");

    // A verifier where the request had no challenge (PKCE downgrade), for a confidential client.
    let params = [
        ("response_type", "code"),
        ("client_id", a.as_str()),
        ("redirect_uri", RP),
        ("scope", "openid"),
        ("state", "x"),
    ];
    let code = code_of(&app, "acme", &location(&authorize(&browser, "acme", &params).await), "x");
    let (status, body, _) = exchange(&app, a_auth, &code, Some(VERIFIER)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");

    // No implicit, no password grant.
    for grant in ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"] {
        let r =
            token_request(&app, "acme", a_auth, &[("grant_type", grant), ("username", "dan"), ("password", PASSWORD)])
                .send()
                .await
                .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");
    }
    let log =
        json_of(app.get_with_bearer("/api/v1/apps/acme/audit?type=oidc.code_reused", &owner).await, StatusCode::OK)
            .await;
    assert!(log.to_string().contains("session_revoked"), "{log}");
}

async fn machine_clients_and_private_key_jwt(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    app.patch_config(&owner, "acme", &json!({"rate_limit_credential_failures_per_ip": 6})).await;
    let master = domain::crypto::MasterKey::from_base64(&domain::crypto::MasterKey::generate_base64()).unwrap();
    let key = domain::keys::generate(domain::keys::SigningAlg::EdDsa, &master).unwrap();
    let signer = domain::keys::Signer::open(&master, &key.kid, key.alg, &key.private_sealed).unwrap();
    let public = serde_json::to_value(&key.public_jwk).unwrap();
    let c = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "Billing job", "grant_types": ["client_credentials"], "scopes": ["profile"], "jwks": {"keys": [public]}}),
    )
    .await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    assert!(c["token_endpoint_auth_methods"].to_string().contains("private_key_jwt"));

    // client_credentials through the library (client_secret_basic).
    let metadata = discover(&app, "acme").await;
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.clone()),
        Some(ClientSecret::new(secret.clone())),
    );
    let tokens = rp.exchange_client_credentials().unwrap().request_async(&http(&app)).await.unwrap();
    let machine = tokens.access_token().secret().clone();
    let claims = payload_of(&machine);
    assert_eq!((claims["sub"].as_str(), claims["client_id"].as_str()), (Some(id.as_str()), Some(id.as_str())));
    assert_eq!(claims["scope"], "profile");
    assert!(tokens.refresh_token().is_none() && claims.get("sid").is_none());
    // Never an end-user's bearer.
    for path in ["/acme/v1/me", "/acme/v1/me/sessions", "/acme/v1/me/permissions"] {
        assert_eq!(app.get_with_bearer(path, &machine).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(app.get_with_bearer("/acme/oauth2/userinfo", &machine).await.status(), StatusCode::UNAUTHORIZED);
    let introspected: Value = app
        .client
        .post(app.url("/acme/oauth2/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", machine.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["client_id"], id);
    // A scope the client does not hold.
    let (status, body, _) = token(
        &app,
        "acme",
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret), ("scope", "email")],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scope")));

    // private_key_jwt: an assertion signed with the registered key.
    let endpoint = format!("{}/oauth2/token", app.issuer("acme"));
    let assertion = |aud: &str, jti: &str, exp_in: i64| {
        let now = chrono::Utc::now().timestamp();
        signer
            .sign_typed("JWT", &json!({"iss": id, "sub": id, "aud": aud, "jti": jti, "iat": now, "exp": now + exp_in}))
            .unwrap()
    };
    let with_assertion = |a: String| {
        let app = &app;
        async move {
            token(
                app,
                "acme",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", &a),
                ],
            )
            .await
        }
    };
    let first = assertion(&endpoint, "jti-1", 60);
    let (status, body, _) = with_assertion(first.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = with_assertion(assertion(&app.issuer("acme"), "jti-2", 60)).await;
    assert_eq!(status, StatusCode::OK, "the issuer is an accepted audience: {body}");
    // Replayed, another audience, too long-lived, expired, or signed by another key.
    let other = domain::keys::generate(domain::keys::SigningAlg::EdDsa, &master).unwrap();
    let other_signer = domain::keys::Signer::open(&master, &other.kid, other.alg, &other.private_sealed).unwrap();
    let now = chrono::Utc::now().timestamp();
    let forged = other_signer
        .sign_typed("JWT", &json!({"iss": id, "sub": id, "aud": endpoint, "jti": "jti-9", "iat": now, "exp": now + 60}))
        .unwrap();
    for (what, bad) in [
        ("replayed", first),
        ("another audience", assertion("https://other.example/token", "jti-3", 60)),
        ("too long-lived", assertion(&endpoint, "jti-4", 3600)),
        ("expired", assertion(&endpoint, "jti-5", -60)),
        ("another key", forged),
    ] {
        let (status, body, _) = with_assertion(bad).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")), "{what}");
    }
    // Failed client authentications count in the limiter: soon 429, even with the right secret.
    let mut limited = false;
    for _ in 0..10 {
        let (status, _, headers) = token(
            &app,
            "acme",
            &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", "ocs_no")],
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(headers.contains_key("retry-after"));
            limited = true;
            break;
        }
    }
    assert!(limited, "failed client authentications are rate limited");
}

async fn discovery_and_jwks_match_what_is_issued(app: TestApp) {
    let owner = app.account_token("keys-owner").await;
    for (slug, alg) in [("rsa-app", "RS256"), ("ec-app", "ES256"), ("ed-app", "EdDSA")] {
        let r = app
            .post_json_with_bearer("/v1/apps", &owner, &json!({"slug": slug, "displayName": slug, "signing_alg": alg}))
            .await;
        json_of(r, StatusCode::CREATED).await;
        let spec = json_of(app.get(&format!("/{slug}/.well-known/openid-configuration")).await, StatusCode::OK).await;
        let legacy =
            json_of(app.get(&format!("/{slug}/v1/.well-known/openid-configuration")).await, StatusCode::OK).await;
        assert_eq!(spec, legacy);
        let issuer = app.issuer(slug);
        assert_eq!(spec["issuer"], issuer);
        assert_eq!(spec["authorization_endpoint"], format!("{issuer}/oauth2/authorize"));
        assert_eq!(spec["token_endpoint"], format!("{issuer}/oauth2/token"));
        assert_eq!(spec["userinfo_endpoint"], format!("{issuer}/oauth2/userinfo"));
        assert_eq!(spec["end_session_endpoint"], format!("{issuer}/oauth2/logout"));
        assert_eq!(spec["response_types_supported"], json!(["code"]));
        assert_eq!(spec["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(spec["id_token_signing_alg_values_supported"], json!([alg]));
        assert_eq!(spec["authorization_response_iss_parameter_supported"], true);
        assert!(!spec["grant_types_supported"].to_string().contains("implicit"));
        assert!(!spec["grant_types_supported"].to_string().contains("password"));

        // An ID token of this app verifies with the library against the published keys.
        let (client_id, secret) = web_client(&app, &owner, slug).await;
        let browser = Browser::new(&app);
        app.signup_end_user(slug, "eve").await;
        let page = browser.get(&format!("/{slug}/signin")).await;
        browser.submit(&page, "signin-form", &[("identifier", "eve"), ("password", PASSWORD)]).await;
        let metadata = discover(&app, slug).await;
        let rp =
            CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), Some(ClientSecret::new(secret)))
                .set_redirect_uri(RedirectUrl::new(RP.into()).unwrap());
        let (url, state, nonce) = rp
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_prompt(CoreAuthPrompt::None)
            .url();
        let to = location(&browser.get(url.as_str()).await);
        assert!(to.starts_with(RP), "{to}");
        assert_eq!(query_param(&to, "state"), *state.secret());
        let tokens = rp
            .exchange_code(AuthorizationCode::new(query_param(&to, "code")))
            .unwrap()
            .request_async(&http(&app))
            .await
            .unwrap();
        let id_token = tokens.id_token().unwrap();
        id_token.claims(&rp.id_token_verifier(), &nonce).unwrap_or_else(|e| panic!("{alg}: {e}"));
        let header = header_of(&id_token.to_string());
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some(alg), Some("JWT")));
        let jwks = app.jwks(slug).await;
        assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == header["kid"]));
        // The ID token is not an access token.
        assert_eq!(
            app.get_with_bearer(&format!("/{slug}/v1/me"), &id_token.to_string()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

/// A client made on one node; the authorization on the other; the exchange back on the
/// first; a revocation on one reaches the other at once.
async fn the_flow_spans_two_nodes(a: TestApp, b: TestApp) {
    let owner = a.app_with_owner("acme").await;
    let (client, secret) = web_client(&a, &owner, "acme").await;
    let browser = signed_in(&b, "acme", "fay").await;
    let code = code_for(&b, &browser, "acme", &client).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", RP),
        ("code_verifier", VERIFIER),
    ];
    let r =
        a.client.post(a.url("/acme/oauth2/token")).basic_auth(&client, Some(&secret)).form(&form).send().await.unwrap();
    let tokens: Value = r.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(live(&b, access).await, StatusCode::OK);
    let r =
        b.client.post(b.url("/acme/oauth2/token")).basic_auth(&client, Some(&secret)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "the code is spent on every node");
    let r = b
        .client
        .post(b.url("/acme/oauth2/revoke"))
        .basic_auth(&client, Some(&secret))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while live(&a, access).await != StatusCode::UNAUTHORIZED {
        assert!(std::time::Instant::now() < deadline, "the revocation reached the other node");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// `prompt=login` and an exceeded `max_age` show the sign-in page even with a session; the
/// sign-in that follows satisfies them once, and the code's `auth_time` is that sign-in's.
async fn prompt_login_and_max_age_ask_to_sign_in_again(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let (client, secret) = web_client(&app, &owner, "acme").await;
    let browser = signed_in(&app, "acme", "gus").await;
    let challenge = s256(VERIFIER);
    let base = [
        ("response_type", "code"),
        ("client_id", client.as_str()),
        ("redirect_uri", RP),
        ("scope", "openid"),
        ("state", "p"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let auth_time = |code: String| {
        let (app, client) = (&app, Client::Basic(&client, &secret));
        async move {
            let (_, body, _) = exchange(app, client, &code, Some(VERIFIER)).await;
            payload_of(body["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap()
        }
    };
    // With the session as it is: straight back with a code.
    let first = auth_time(code_of(&app, "acme", &location(&authorize(&browser, "acme", &base).await), "p")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let mut params = base.to_vec();
        params.push(extra);
        let page = authorize(&browser, "acme", &params).await;
        assert!(page.path.starts_with("/acme/signin"), "{extra:?}: {}", page.path);
        let back = browser.submit(&page, "signin-form", &[("identifier", "gus"), ("password", PASSWORD)]).await;
        let again = auth_time(code_of(&app, "acme", &location(&back), "p")).await;
        assert!(again > first, "{extra:?}: a new sign-in ({again} > {first})");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    // The browser cannot claim a fresh sign-in by adding `auth_after` itself (any value, or
    // one a past flow got): only the sign-in page's own round trip satisfies `prompt=login`.
    for forged in ["0", "1", &chrono::Utc::now().timestamp().to_string(), "Zm9yZ2Vk"] {
        let mut params = base.to_vec();
        params.extend([("prompt", "login"), ("auth_after", forged)]);
        let page = authorize(&browser, "acme", &params).await;
        assert!(page.path.starts_with("/acme/signin"), "auth_after={forged}: {}", page.path);
    }
    // A large max_age is satisfied by the session; prompt=none cannot sign in again.
    let mut params = base.to_vec();
    params.push(("max_age", "3600"));
    assert!(query_param(&location(&authorize(&browser, "acme", &params).await), "code").starts_with("oac_"));
    let mut params = base.to_vec();
    params.extend([("max_age", "0"), ("prompt", "none")]);
    assert_eq!(error_of(&location(&authorize(&browser, "acme", &params).await)), "login_required");
    let mut params = base.to_vec();
    params.push(("prompt", "none login"));
    assert_eq!(error_of(&location(&authorize(&browser, "acme", &params).await)), "invalid_request");
}
