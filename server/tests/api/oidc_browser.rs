//! The provider as relying parties in browsers see it: the ID token's `amr` (RFC 8176)
//! after each way of signing in on the hosted pages, and CORS for single-page apps on
//! other origins at the token, userinfo and revocation endpoints (Keycloak's "web
//! origins": a client's origins are those of its registered redirect URIs).

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{both_stores, json_of, link_in, mail_to, query_param, TestApp, MAIL_WAIT};
use crate::hosted::{hosted_app, signed_up, Browser};
use crate::hosted_flows::{code_in, invited};
use crate::oidc_provider::{
    authorize, code_for, create_client, exchange, location, payload_of, s256, signed_in, token_request, url_encoded,
    web_client, Client, RP, VERIFIER,
};

both_stores!(
    id_tokens_say_how_the_user_signed_in,
    single_page_apps_call_from_their_origins_only,
    hosted_forms_may_end_at_the_clients_redirect_uri
);

/// The `amr` of the ID token that an authorization in `browser` yields, and of the one
/// its refresh yields.
async fn amr_after(app: &TestApp, browser: &Browser, client: &str, rp: Client<'_>) -> (Value, Value) {
    let (status, tokens, _) = exchange(app, rp, &code_for(app, browser, "acme", client).await, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let first = payload_of(tokens["id_token"].as_str().unwrap())["amr"].clone();
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
    let refreshed = json_of(token_request(app, "acme", rp, &refresh).send().await.unwrap(), StatusCode::OK).await;
    (first, payload_of(refreshed["id_token"].as_str().unwrap())["amr"].clone())
}

/// Each way of signing in on the hosted pages leaves its method on the session, and every
/// ID token of a grant from that session says it, refreshed or not.
async fn id_tokens_say_how_the_user_signed_in(app: TestApp) {
    let owner = hosted_app(&app, "acme", json!({"magic_link_enabled": true, "otp_enabled": true})).await;
    let (client, secret) = web_client(&app, &owner, "acme").await;
    let rp = Client::Basic(&client, &secret);
    let pwd = json!(["pwd"]);
    let otp = json!(["otp"]);

    // A password, at sign-in and at sign-up.
    let ann = signed_in(&app, "acme", "ann").await;
    assert_eq!(amr_after(&app, &ann, &client, rp).await, (pwd.clone(), pwd.clone()));
    let bob = signed_up(&app, "acme", "bob@example.com").await;
    assert_eq!(amr_after(&app, &bob, &client, rp).await, (pwd.clone(), pwd));

    // An invitation accepted: its link came by email.
    let (ivy, welcome) = invited(&app, &owner, "ivy@example.com").await;
    assert!(welcome.path.starts_with("/acme/account"), "{}", welcome.path);
    assert_eq!(amr_after(&app, &ivy, &client, rp).await, (otp.clone(), otp.clone()));

    // A magic link, to the invited user's verified address.
    let by_link = Browser::new(&app);
    let page = by_link.get("/acme/magic-link").await;
    by_link.submit(&page, "email-form", &[("email", "ivy@example.com")]).await;
    let link = link_in(&mail_to(&app, "ivy@example.com").await, "sign-in/token");
    let page = by_link.get(&link).await;
    let signed = by_link.submit(&page, "confirm-form", &[]).await;
    assert!(signed.path.starts_with("/acme/account"), "{}", signed.path);
    assert_eq!(amr_after(&app, &by_link, &client, rp).await, (otp.clone(), otp.clone()));

    // A one-time code by email, then by SMS.
    let by_mail = Browser::new(&app);
    let page = by_mail.get("/acme/otp").await;
    let code_page = by_mail.submit(&page, "otp-send-form", &[("destination", "ivy@example.com")]).await;
    let code = code_in(&mail_to(&app, "ivy@example.com").await.text_body().unwrap());
    let signed = by_mail.submit(&code_page, "otp-verify-form", &[("code", &code)]).await;
    assert!(signed.path.starts_with("/acme/account"), "{}", signed.path);
    assert_eq!(amr_after(&app, &by_mail, &client, rp).await, (otp.clone(), otp));
    let by_sms = Browser::new(&app);
    let page = by_sms.get("/acme/otp").await;
    let code_page = by_sms.submit(&page, "otp-send-form", &[("destination", "+1 (415) 555-0142")]).await;
    let text = app.sms.wait_for("+14155550142", MAIL_WAIT).await.expect("a text message");
    let signed = by_sms.submit(&code_page, "otp-verify-form", &[("code", &text.code().unwrap())]).await;
    assert!(signed.path.starts_with("/acme/account"), "{}", signed.path);
    let sms = json!(["otp", "sms"]);
    assert_eq!(amr_after(&app, &by_sms, &client, rp).await, (sms.clone(), sms));

    // Discovery says the claim exists.
    let discovery = json_of(app.get("/acme/.well-known/openid-configuration").await, StatusCode::OK).await;
    assert!(discovery["claims_supported"].as_array().unwrap().contains(&json!("amr")), "{discovery}");
}

/// The single-page app's origin.
const SPA: &str = "http://localhost:5173";
/// Another client's origin.
const OTHER: &str = "https://other.example";

/// A request of `method` to `path` with `Origin: origin` (none when empty).
fn from_origin(app: &TestApp, method: Method, path: &str, origin: &str) -> reqwest::RequestBuilder {
    let request = app.client.request(method, app.url(path));
    if origin.is_empty() {
        request
    } else {
        request.header("origin", origin)
    }
}

/// A preflight of `path` from `origin`, as a browser sends it before a call with headers.
async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> (StatusCode, HeaderMap) {
    let r = from_origin(app, Method::OPTIONS, path, origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    (r.status(), r.headers().clone())
}

/// The origin a response lets read it, if any; never with credentials, never `*`.
fn allowed(headers: &HeaderMap) -> Option<String> {
    assert!(headers.get("access-control-allow-credentials").is_none(), "no credentials mode: {headers:?}");
    let origin = headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
    if origin.is_some() {
        let vary: Vec<&str> = headers.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
        assert!(vary.iter().any(|v| v.contains("Origin")), "Vary: Origin with a granted origin: {headers:?}");
    }
    origin
}

/// A token-endpoint form posted by `client_id`'s page at `origin`.
async fn token_from(app: &TestApp, origin: &str, form: &[(&str, &str)]) -> (StatusCode, Value, HeaderMap) {
    let r = from_origin(app, Method::POST, "/acme/oauth2/token", origin).form(form).send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

/// A page of a client's registered origin reads what the token, userinfo and revocation
/// endpoints answer that client, never another client's answers nor anything from a
/// foreign origin; preflights are answered for the origins some client of the app
/// registered; discovery and the JWKS are readable from anywhere; introspection never.
async fn single_page_apps_call_from_their_origins_only(app: TestApp) {
    let owner = app.app_with_owner("acme").await;
    let spa = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "SPA", "client_type": "public", "first_party": true, "scopes": ["openid", "profile"],
               "redirect_uris": [format!("{SPA}/callback"), "com.example.app:/cb"]}),
    )
    .await;
    let spa_id = spa["client_id"].as_str().unwrap().to_owned();
    let other = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "Other", "client_type": "public", "first_party": true, "redirect_uris": [format!("{OTHER}/cb")]}),
    )
    .await;
    let other_id = other["client_id"].as_str().unwrap().to_owned();
    let (web_id, web_secret) = web_client(&app, &owner, "acme").await;
    let owner_b = app.account_token("owner-b").await;
    app.create_app_ok(&owner_b, "elsewhere").await;

    // Preflights: for an origin of some client of the app; not for a foreign one, a near
    // miss (port, scheme, host), `null`, or in another app.
    for path in ["/acme/oauth2/token", "/acme/oauth2/revoke", "/acme/oauth2/userinfo"] {
        for origin in [SPA, OTHER] {
            let (status, h) = preflight(&app, path, origin, "POST").await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{path}");
            assert_eq!(allowed(&h).as_deref(), Some(origin), "{path} {origin}");
            assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"), "{h:?}");
            assert!(h["access-control-allow-headers"].to_str().unwrap().contains("authorization"), "{h:?}");
        }
        for origin in [
            "https://evil.example",
            "http://localhost:5174",
            "https://localhost:5173",
            "http://127.0.0.1:5173",
            "https://rp.example.evil",
            "null",
        ] {
            let (status, h) = preflight(&app, path, origin, "POST").await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{path}");
            assert_eq!(allowed(&h), None, "{path} {origin}");
        }
    }
    let (_, h) = preflight(&app, "/acme/oauth2/userinfo", SPA, "GET").await;
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("GET"), "{h:?}");
    let (_, h) = preflight(&app, "/acme/oauth2/token", SPA, "POST").await;
    assert!(!h["access-control-allow-methods"].to_str().unwrap().contains("GET"), "{h:?}");
    assert_eq!(allowed(&preflight(&app, "/elsewhere/oauth2/token", SPA, "POST").await.1), None);
    assert_eq!(allowed(&preflight(&app, "/no-such-app/oauth2/token", SPA, "POST").await.1), None);

    // The code, through the browser's session.
    let browser = signed_in(&app, "acme", "sue").await;
    let challenge = s256(VERIFIER);
    let redirect = format!("{SPA}/callback");
    let params = [
        ("response_type", "code"),
        ("client_id", spa_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid profile"),
        ("state", "spa"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code_page = authorize(&browser, "acme", &params).await;
    let code = query_param(&location(&code_page), "code");
    assert!(code.starts_with("oac_"), "{}", location(&code_page));

    // Token endpoint errors: readable by the client's own page only (a foreign origin, or
    // another client's origin, gets nothing); an unknown client has no origins.
    let bogus = [
        ("grant_type", "authorization_code"),
        ("code", "oac_bogus"),
        ("redirect_uri", redirect.as_str()),
        ("client_id", spa_id.as_str()),
        ("code_verifier", VERIFIER),
    ];
    for (origin, expected) in [("https://evil.example", None), (OTHER, None), ("", None), (SPA, Some(SPA))] {
        let (status, body, h) = token_from(&app, origin, &bogus).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{origin}");
        assert_eq!(allowed(&h).as_deref(), expected, "{origin}");
    }
    let mut unknown = bogus.to_vec();
    unknown[3] = ("client_id", "oc_unknown");
    let (status, _, h) = token_from(&app, SPA, &unknown).await;
    assert_eq!((status, allowed(&h)), (StatusCode::UNAUTHORIZED, None));
    // The other client from its own origin: its own answer is readable there.
    let mut others = bogus.to_vec();
    others[3] = ("client_id", other_id.as_str());
    assert_eq!(allowed(&token_from(&app, OTHER, &others).await.2).as_deref(), Some(OTHER));
    // The same client named by Basic credentials: a confidential client's origins (none
    // registered for a web page here) are not the single-page app's.
    let r = from_origin(&app, Method::POST, "/acme/oauth2/token", SPA)
        .basic_auth(&web_id, Some(&web_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "ort_bogus")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(allowed(r.headers()), None);

    // The exchange from the app's page.
    let mut good = bogus.to_vec();
    good[1] = ("code", code.as_str());
    let (status, tokens, h) = token_from(&app, SPA, &good).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(allowed(&h).as_deref(), Some(SPA));
    assert_eq!(h["cache-control"], "no-store");
    let access = tokens["access_token"].as_str().unwrap();

    // Userinfo: the token's client decides, whatever the origin claims.
    for (origin, expected) in [(SPA, Some(SPA)), (OTHER, None), ("https://evil.example", None)] {
        let r =
            from_origin(&app, Method::GET, "/acme/oauth2/userinfo", origin).bearer_auth(access).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{origin}");
        assert_eq!(allowed(r.headers()).as_deref(), expected, "{origin}");
        assert_eq!(r.json::<Value>().await.unwrap()["preferred_username"], "sue");
    }

    // Introspection is a backend's: never readable by a page, even of the client's origin.
    let r = from_origin(&app, Method::POST, "/acme/oauth2/introspect", "https://rp.example")
        .basic_auth(&web_id, Some(&web_secret))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(allowed(r.headers()), None);

    // Revocation from a foreign page changes what it changes (the token is the secret) but
    // is not readable there; from the app's page it is.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("token", refresh), ("client_id", spa_id.as_str())];
    let r = from_origin(&app, Method::POST, "/acme/oauth2/revoke", OTHER).form(&form).send().await.unwrap();
    assert_eq!((r.status(), allowed(r.headers())), (StatusCode::OK, None));
    let r = from_origin(&app, Method::POST, "/acme/oauth2/revoke", SPA).form(&form).send().await.unwrap();
    assert_eq!((r.status(), allowed(r.headers()).as_deref()), (StatusCode::OK, Some(SPA)));
    let r = from_origin(&app, Method::GET, "/acme/oauth2/userinfo", SPA).bearer_auth(access).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "revoked");

    // Public documents: readable by any page.
    for path in [
        "/acme/.well-known/openid-configuration",
        "/acme/v1/.well-known/openid-configuration",
        "/acme/v1/.well-known/jwks.json",
    ] {
        let r = from_origin(&app, Method::GET, path, "https://anyone.example").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(r.headers().get("access-control-allow-credentials").is_none());
    }
}

/// The `form-action` of a page, split into its sources.
fn form_action(headers: &HeaderMap) -> Vec<String> {
    let csp = headers["content-security-policy"].to_str().unwrap();
    let directive = csp.split(';').map(str::trim).find(|d| d.starts_with("form-action ")).expect(csp);
    directive.split_whitespace().skip(1).map(str::to_owned).collect()
}

/// A sign-in (or consent) form's post is followed by redirects that end at the client's
/// redirect URI, and browsers hold that whole chain to the page's `form-action`: the page
/// lets its forms end at a redirect URI the client registered, and at no other.
async fn hosted_forms_may_end_at_the_clients_redirect_uri(app: TestApp) {
    let owner = hosted_app(&app, "acme", json!({})).await;
    let (client, _) = web_client(&app, &owner, "acme").await;
    let resume = |redirect_uri: &str, client: &str| {
        let params = [
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "s1"),
        ];
        format!("/acme/oauth2/authorize?{}", url_encoded(&params))
    };
    let signin_targets = |to: String| {
        let app = &app;
        async move {
            let page = Browser::new(app).get(&format!("/acme/signin?{}", url_encoded(&[("redirect_to", &to)]))).await;
            assert_eq!(page.status, StatusCode::OK);
            form_action(&page.headers)
        }
    };
    assert_eq!(signin_targets(resume(RP, &client)).await, ["'self'", "https://rp.example"]);
    // Not the client's redirect URI, another app's client, an unknown client: only 'self'.
    assert_eq!(signin_targets(resume("https://evil.example/cb", &client)).await, ["'self'"]);
    assert_eq!(signin_targets(resume(RP, "oc_unknown")).await, ["'self'"]);
    let other = format!("/other/oauth2/authorize?{}", url_encoded(&[("client_id", &client), ("redirect_uri", RP)]));
    assert_eq!(signin_targets(other).await, ["'self'"]);

    // A third party's consent page: its form ends at the client.
    let third = create_client(
        &app,
        &owner,
        "acme",
        json!({"name": "Printer", "client_type": "public", "redirect_uris": ["http://localhost:5173/cb"], "scopes": ["openid"]}),
    )
    .await;
    let third = third["client_id"].as_str().unwrap();
    let browser = signed_in(&app, "acme", "ann").await;
    let challenge = s256(VERIFIER);
    let params = [
        ("response_type", "code"),
        ("client_id", third),
        ("redirect_uri", "http://localhost:5173/cb"),
        ("scope", "openid"),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let consent = authorize(&browser, "acme", &params).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.path);
    assert!(consent.html.contains("Printer"), "{}", consent.html);
    assert_eq!(form_action(&consent.headers), ["'self'", "http://localhost:5173"]);
}
