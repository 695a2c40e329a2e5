//! The hosted pages with JavaScript off, as a browser without scripts uses them: plain
//! GETs and form posts, cookies kept, redirects followed. This file holds the browser and
//! the checks every page must pass (CSP with a nonce, no inline script, no caching, no
//! framing, labels), the CSRF and open-redirect refusals, languages and branding;
//! `hosted_flows.rs` walks the flows.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{both_stores, json_of, TestApp, PASSWORD};

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    /// The path and query of the last URL, after redirects.
    pub path: String,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// The CSRF token of the first form (every form of a page has the same one).
    pub fn csrf(&self) -> String {
        attr_after(&self.html, "name=\"csrf_token\"", "value")
            .unwrap_or_else(|| panic!("no csrf_token in {}", self.html))
    }

    /// The action and hidden fields of the form with this id.
    pub fn form(&self, id: &str) -> (String, Vec<(String, String)>) {
        let marker = format!("id=\"{id}\"");
        let at = self.html.find(&marker).unwrap_or_else(|| panic!("no form {id} in {}", self.html));
        let start = self.html[..at].rfind("<form").expect("form start");
        let end = at + self.html[at..].find("</form>").expect("form end");
        let form = &self.html[start..end];
        let action = attr_after(form, "<form", "action").expect("form action");
        let mut hidden = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("type=\"hidden\"") {
            let tag_start = rest[..i].rfind('<').unwrap_or(0);
            let tag_end = i + rest[i..].find('>').map_or(rest.len() - i, |end| end + 1);
            let tag = &rest[tag_start..tag_end];
            if let (Some(name), Some(value)) = (attr_after(tag, "<", "name"), attr_after(tag, "<", "value")) {
                hidden.push((name, value));
            }
            rest = &rest[tag_end..];
        }
        (action, hidden)
    }

    pub fn contains(&self, text: &str) -> bool {
        self.html.contains(text)
    }

    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }
}

/// The value of attribute `name` in the first tag at or after `marker`.
fn attr_after(html: &str, marker: &str, name: &str) -> Option<String> {
    let at = html.find(marker)?;
    let tag_start = html[..=at].rfind('<').unwrap_or(at);
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let key = format!(" {name}=\"");
    let from = tag.find(&key)? + key.len();
    let to = from + tag[from..].find('"')?;
    Some(unescape(&tag[from..to]))
}

pub fn unescape(text: &str) -> String {
    text.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

/// A browser with JavaScript off: a cookie jar, redirects within the server followed, and
/// the `Origin` header a browser puts on form posts.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub origin: String,
    pub language: Option<&'static str>,
    /// The cookies the server set: name → (path, value).
    jar: std::sync::Mutex<Vec<(String, String, String)>>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0")
            .build()
            .unwrap();
        let jar = std::sync::Mutex::new(Vec::new());
        Browser { client, base: app.address.clone(), origin: app.public_url.clone(), language: None, jar }
    }

    /// Keeps the response's cookies as a browser would (a `Max-Age=0` one is forgotten).
    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut jar = self.jar.lock().unwrap();
        for line in response.headers().get_all("set-cookie") {
            let line = line.to_str().unwrap();
            let mut parts = line.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let mut path = "/".to_owned();
            let mut gone = value.is_empty();
            for attribute in parts {
                if let Some(p) = attribute.strip_prefix("Path=") {
                    path = p.to_owned();
                }
                if attribute == "Max-Age=0" {
                    gone = true;
                }
            }
            jar.retain(|(n, p, _)| !(n == name && *p == path));
            if !gone {
                jar.push((name.to_owned(), path, value.to_owned()));
            }
        }
    }

    /// The `Cookie` header for a request to `path`.
    fn cookies_for(&self, path: &str) -> String {
        let path = path.strip_prefix(&self.base).unwrap_or(path);
        let jar = self.jar.lock().unwrap();
        let fits =
            |p: &str| p == "/" || path == p || path.starts_with(&format!("{p}/")) || path.starts_with(&format!("{p}?"));
        jar.iter().filter(|(_, p, _)| fits(p)).map(|(n, _, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// The value of the cookie `name` the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().iter().find(|(n, _, _)| n == name).map(|(_, _, v)| v.clone())
    }

    fn absolute(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn finish(&self, mut response: reqwest::Response) -> Page {
        // Redirects within this server are followed with a GET, as after a form post.
        for _ in 0..10 {
            if !response.status().is_redirection() {
                break;
            }
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            if location.starts_with("http") && !location.starts_with(&self.base) {
                break;
            }
            response = self.send(self.request(reqwest::Method::GET, &location)).await;
        }
        let status = response.status();
        let url = response.url().clone();
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let headers = response.headers().clone();
        let html = response.text().await.unwrap();
        Page { status, path, headers, html }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, self.absolute(path));
        if let Some(language) = self.language {
            request = request.header("accept-language", language);
        }
        let cookies = self.cookies_for(path);
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let response = request.send().await.unwrap();
        self.keep_cookies(&response);
        response
    }

    pub async fn get(&self, path: &str) -> Page {
        self.finish(self.send(self.request(reqwest::Method::GET, path)).await).await
    }

    /// The response to a GET, redirects not followed.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// Posts form `id` of `page` with its hidden fields and `fields`; follows the redirect.
    pub async fn submit(&self, page: &Page, id: &str, fields: &[(&str, &str)]) -> Page {
        self.finish(self.submit_raw(page, id, fields).await).await
    }

    /// The response to a form post, its redirect not followed.
    pub async fn submit_raw(&self, page: &Page, id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let (action, hidden) = page.form(id);
        let mut body: Vec<(String, String)> =
            hidden.into_iter().filter(|(name, _)| !fields.iter().any(|(n, _)| n == name)).collect();
        body.extend(fields.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        self.post(&action, &body, &[]).await
    }

    /// A raw form post to `path`, with the browser's `Origin` unless `headers` name one.
    pub async fn post(&self, path: &str, body: &[(String, String)], headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.request(reqwest::Method::POST, path).form(body);
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("origin")) {
            request = request.header("origin", &self.origin);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }
}

/// Every hosted page must: answer with a CSP that runs only this response's nonce (no
/// `unsafe-inline`), forbid framing and `<base>`, not be cached, put the nonce on its only
/// script and style, carry no inline handler, and label every field.
pub fn assert_secure_page(page: &Page) {
    let csp = page.header("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("base-uri 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'") && csp.contains("img-src https: data:"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    let nonce = csp.split("script-src 'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a script nonce");
    assert!(nonce.len() >= 16, "{csp}");
    assert!(csp.contains(&format!("style-src 'nonce-{nonce}'")), "{csp}");
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(page.header("content-type").starts_with("text/html"));
    let html = &page.html;
    assert!(html.starts_with("<!doctype html>"), "{html}");
    for tag in ["<script", "<style"] {
        let mut count = 0;
        for part in html.split(tag).skip(1) {
            let open = &part[..part.find('>').unwrap()];
            assert!(open.contains(&format!("nonce=\"{nonce}\"")), "{tag} without the nonce: {open}");
            count += 1;
        }
        assert_eq!(count, 1, "one {tag} per page");
    }
    // The one script is the static file, not inline code.
    assert!(html.contains("<script src=\"/_hosted/hosted.js?v="), "{html}");
    assert!(html.contains("></script>"), "{html}");
    let lower = html.to_lowercase();
    for handler in [" onclick=", " onload=", " onsubmit=", " onerror=", " oninput=", "javascript:"] {
        assert!(!lower.contains(handler), "{handler} in {html}");
    }
    // Every visible field has a label.
    for part in html.split("<input").skip(1) {
        let tag = &part[..part.find('>').unwrap()];
        if tag.contains("type=\"hidden\"") {
            continue;
        }
        let id = attr_after(&format!("<input{tag}>"), "<input", "id").unwrap_or_else(|| panic!("no id: {tag}"));
        assert!(html.contains(&format!("for=\"{id}\"")), "no label for {id}");
        assert!(tag.contains(" name=\""), "no name: {tag}");
    }
    if html.contains("<form") {
        assert!(html.contains("aria-live=\"assertive\""), "no live error region: {html}");
    }
}

/// An app `slug` whose owner's token is returned; `patch` is laid over its config.
pub async fn hosted_app(app: &TestApp, slug: &str, patch: serde_json::Value) -> String {
    let owner = app.app_with_owner(slug).await;
    if patch.as_object().is_some_and(|p| !p.is_empty()) {
        app.patch_config(&owner, slug, &patch).await;
    }
    owner
}

/// Signs a new end-user up through the page; answers the browser, signed in.
pub async fn signed_up(app: &TestApp, slug: &str, email: &str) -> Browser {
    let browser = Browser::new(app);
    let page = browser.get(&format!("/{slug}/signup")).await;
    let done = browser
        .submit(&page, "signup-form", &[("email", email), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(done.path.starts_with(&format!("/{slug}/account")), "{}", done.path);
    browser
}

/// Every page, rendered without JavaScript, is secure and labelled; pages with a token in
/// their URL send no Referer.
async fn every_page_is_secure(app: TestApp) {
    let owner = hosted_app(
        &app,
        "acme",
        json!({"magic_link_enabled": true, "otp_enabled": true, "verify_email_on_signup": true}),
    )
    .await;
    let browser = signed_up(&app, "acme", "ann@example.com").await;
    let verify = crate::helpers::link_in(&crate::helpers::mail_to(&app, "ann@example.com").await, "verify-email");
    app.post_json("/acme/v1/auth/forgot-password", &json!({"email": "ann@example.com"})).await;
    let reset = crate::helpers::link_in(&crate::helpers::mail_to(&app, "ann@example.com").await, "reset-password");
    let invite = json_of(
        app.post_json_with_bearer("/api/v1/apps/acme/end-users/invites", &owner, &json!({"email": "ivy@example.com"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert!(invite["id"].is_string());
    let invite = crate::helpers::link_in(&crate::helpers::mail_to(&app, "ivy@example.com").await, "accept-invite");

    let plain = [
        "/acme/signin",
        "/acme/signup",
        "/acme/forgot-password",
        "/acme/magic-link",
        "/acme/otp",
        "/acme/otp/verify?request=0191e3a4-7c2b-7d3e-9f00-123456789abc",
        "/acme/signed-out",
        "/acme/account",
        "/acme/forgot-password?sent=1",
    ];
    for path in plain {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
        assert_secure_page(&page);
        assert_eq!(page.header("referrer-policy"), "same-origin", "{path}");
    }
    for link in [&verify, &reset, &invite] {
        let page = browser.get(link).await;
        assert_eq!(page.status, StatusCode::OK, "{link}: {}", page.html);
        assert_secure_page(&page);
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{link}");
    }
    // The signed-in account page shows its user.
    let account = browser.get("/acme/account").await;
    assert!(account.contains("ann@example.com") && account.contains("Sign out"), "{}", account.html);

    // The script: served from the binary, cached for long, and only static code.
    let script = app.get(&format!("/_hosted/hosted.js?v={}", "x")).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
    let code = script.text().await.unwrap();
    assert!(code.contains("data-min-length") && code.contains("addEventListener"), "{code}");

    // An unknown app is a 404 page, secure too.
    let missing = browser.get("/nope/signin").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_secure_page(&missing);
}

/// What the app turns off is not offered: no sign-up link, no magic link, no OTP.
async fn pages_offer_only_what_the_app_enables(app: TestApp) {
    let owner = hosted_app(&app, "acme", json!({"otp_enabled": false})).await;
    let browser = Browser::new(&app);
    let signin = browser.get("/acme/signin").await;
    assert!(signin.contains("id=\"signup-link\""), "{}", signin.html);
    assert!(!signin.contains("/acme/magic-link") && !signin.contains("/acme/otp"), "{}", signin.html);
    assert_eq!(browser.get("/acme/otp").await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.get("/acme/magic-link").await.status, StatusCode::NOT_FOUND);

    app.patch_config(
        &owner,
        "acme",
        &json!({"signup_enabled": false, "magic_link_enabled": true, "otp_enabled": true,
            "password_min_length": 12, "password_require_symbol": true}),
    )
    .await;
    let signin = browser.get("/acme/signin").await;
    assert!(!signin.contains("signup-link") && !signin.contains("/acme/signup"), "{}", signin.html);
    assert!(signin.contains("/acme/magic-link?lang=en") && signin.contains("/acme/otp?lang=en"), "{}", signin.html);
    let signup = browser.get("/acme/signup").await;
    assert_eq!(signup.status, StatusCode::FORBIDDEN);
    assert!(!signup.contains("signup-form"));
    // The policy's rules, for the script and the reader.
    app.patch_config(&owner, "acme", &json!({"signup_enabled": true})).await;
    let signup = browser.get("/acme/signup").await;
    assert!(signup.contains("data-min-length=\"12\"") && signup.contains("data-symbol=\"true\""), "{}", signup.html);
    assert!(signup.contains("at least 12 characters") && signup.contains("a symbol"), "{}", signup.html);
    assert!(!signup.contains("an uppercase letter"));
}

/// A form post from another site is refused (403, the form shown again saying it expired);
/// so is one without the token; the same site's is taken. A page served without Referer
/// (a link's) posts with `Origin: null`, which `Sec-Fetch-Site` vouches for.
async fn cross_site_posts_are_refused(app: TestApp) {
    hosted_app(&app, "acme", json!({})).await;
    signed_up(&app, "acme", "bob@example.com").await;
    let browser = Browser::new(&app);
    let page = browser.get("/acme/signin").await;
    let fields = |token: Option<String>| {
        let mut body =
            vec![("identifier".to_owned(), "bob@example.com".to_owned()), ("password".into(), PASSWORD.into())];
        if let Some(token) = token {
            body.push(("csrf_token".into(), token));
        }
        body
    };
    let evil =
        browser.post("/acme/signin?lang=en", &fields(Some(page.csrf())), &[("origin", "https://evil.example")]).await;
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.cookie("session"), None, "not signed in");
    let html = evil.text().await.unwrap();
    assert!(html.contains("This form expired") && html.contains("bob@example.com"), "{html}");
    let missing = browser.post("/acme/signin?lang=en", &fields(None), &[]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let forged = browser.post("/acme/signin?lang=en", &fields(Some("forged".into())), &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross = browser
        .post(
            "/acme/signin?lang=en",
            &fields(Some(page.csrf())),
            &[("origin", "null"), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    // Another browser's token does not fit this browser's cookie.
    let other = Browser::new(&app).get("/acme/signin").await;
    let stolen = browser.post("/acme/signin?lang=en", &fields(Some(other.csrf())), &[]).await;
    assert_eq!(stolen.status(), StatusCode::FORBIDDEN);

    let same = browser.post("/acme/signin?lang=en", &fields(Some(page.csrf())), &[]).await;
    assert_eq!(same.status(), StatusCode::SEE_OTHER);
    assert!(same.headers()["location"].to_str().unwrap().starts_with("/acme/account"));
    let behind_no_referrer = browser
        .post(
            "/acme/signin?lang=en",
            &fields(Some(page.csrf())),
            &[("origin", "null"), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(behind_no_referrer.status(), StatusCode::SEE_OTHER);
}

/// `redirect_to` goes only where the app allows: one of its URLs exactly, or a path here.
async fn open_redirects_are_refused(app: TestApp) {
    hosted_app(&app, "acme", json!({"allowed_redirect_urls": ["https://app.example.com/welcome"]})).await;
    signed_up(&app, "acme", "cy@example.com").await;
    for evil in [
        "//evil.com",
        "/\\evil.com",
        "javascript:alert(1)",
        "https://user@evil.com",
        "https://evil.com/welcome",
        "https://app.example.com/welcome/x",
    ] {
        let browser = Browser::new(&app);
        let query: String = url_encode(evil);
        let page = browser.get(&format!("/acme/signin?redirect_to={query}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{evil}");
        assert!(page.contains("not one this app allows"), "{evil}: {}", page.html);
        assert!(!page.contains("evil.com") && !page.contains("javascript:"), "{evil}: {}", page.html);
        // Posted anyway: refused, nobody signed in.
        let body = vec![
            ("csrf_token".to_owned(), page.csrf()),
            ("identifier".into(), "cy@example.com".into()),
            ("password".into(), PASSWORD.into()),
            ("redirect_to".into(), evil.into()),
        ];
        let posted = browser.post("/acme/signin?lang=en", &body, &[]).await;
        assert_eq!(posted.status(), StatusCode::BAD_REQUEST, "{evil}");
        assert!(posted.headers().get("location").is_none());
        let account = browser.get_raw("/acme/account").await;
        assert!(account.headers()["location"].to_str().unwrap().starts_with("/acme/signin"), "{evil}");
    }
    for good in ["https://app.example.com/welcome", "/acme/account?from=x"] {
        let browser = Browser::new(&app);
        let page = browser.get(&format!("/acme/signin?redirect_to={}", url_encode(good))).await;
        assert_eq!(page.status, StatusCode::OK);
        let posted =
            browser.submit_raw(&page, "signin-form", &[("identifier", "cy@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(posted.status(), StatusCode::SEE_OTHER, "{good}");
        assert_eq!(posted.headers()["location"], good);
        let csp = posted.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("form-action 'self' https://app.example.com"), "{csp}");
    }
}

pub fn url_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?lang=fr` and `Accept-Language: fr` give French; the language stays through links and
/// form posts, errors included.
async fn pages_speak_french(app: TestApp) {
    hosted_app(&app, "acme", json!({})).await;
    let browser = Browser::new(&app);
    let page = browser.get("/acme/signin?lang=fr").await;
    assert!(page.contains("<html lang=\"fr\"") && page.contains("Se connecter"), "{}", page.html);
    // The title is plain text: no hydration marker, which `<title>` would show.
    assert!(page.contains("<title>Connexion · App acme</title>"), "{}", page.html);
    assert!(page.contains("action=\"/acme/signin?lang=fr\"") && page.contains("/acme/signup?lang=fr"), "{}", page.html);
    let wrong = browser.submit(&page, "signin-form", &[("identifier", "nobody"), ("password", "wrong-password")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.contains("est incorrect") && wrong.contains("<html lang=\"fr\""), "{}", wrong.html);

    let mut french = Browser::new(&app);
    french.language = Some("fr-CA,fr;q=0.9,en;q=0.5");
    let page = french.get("/acme/signup").await;
    assert!(page.contains("<html lang=\"fr\"") && page.contains("Créez votre compte"), "{}", page.html);
    let page = french.get("/acme/signup?lang=en").await;
    assert!(page.contains("<html lang=\"en\"") && page.contains("Create your account"), "{}", page.html);
    let mut english = Browser::new(&app);
    english.language = Some("de, en;q=0.5");
    assert!(english.get("/acme/forgot-password").await.contains("<html lang=\"en\""));
}

/// The app's branding shows (name, colour, variables, logo, support link), escaped; a value
/// that could carry markup or CSS cannot be stored.
async fn branding_shows_and_cannot_inject(app: TestApp) {
    let owner = hosted_app(&app, "acme", json!({})).await;
    app.patch_config(
        &owner,
        "acme",
        &json!({"branding": {"display_name": "Acme <b>Corp</b> \"Q\"", "primary_color": "#0a7d33", "theme": "dark",
            "logo_url": "https://cdn.example.com/logo.png", "support_url": "mailto:help@example.com",
            "css_variables": {"radius": "4px", "background": "#101010"}}}),
    )
    .await;
    let page = Browser::new(&app).get("/acme/signin").await;
    assert_secure_page(&page);
    assert!(page.contains("--primary:#0a7d33;") && page.contains("--background:#101010;"), "{}", page.html);
    assert!(page.contains("Acme &lt;b&gt;Corp&lt;/b&gt;") && !page.contains("<b>Corp"), "{}", page.html);
    assert!(page.contains("<title>Sign in · Acme &lt;b&gt;Corp&lt;/b&gt; &quot;Q&quot;</title>"), "{}", page.html);
    assert!(page.contains("data-theme=\"dark\""), "{}", page.html);
    assert!(page.contains("src=\"https://cdn.example.com/logo.png\" alt=\"Acme &lt;b&gt;Corp"), "{}", page.html);
    assert!(page.contains("href=\"mailto:help@example.com\""), "{}", page.html);
    for bad in [
        json!({"branding": {"primary_color": "#123;}body{"}}),
        json!({"branding": {"css_variables": {"text": "red;}</style><script>alert(1)</script>"}}}),
        json!({"branding": {"logo_url": "javascript:alert(1)"}}),
        json!({"branding": {"support_url": "javascript:alert(1)"}}),
    ] {
        let refused = app.patch_json_with_bearer("/api/v1/apps/acme/config", &owner, &bad).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let page = Browser::new(&app).get("/acme/signin").await;
    assert!(!page.contains("alert(1)") && page.contains("--primary:#0a7d33;"));
}

both_stores!(
    every_page_is_secure,
    pages_offer_only_what_the_app_enables,
    cross_site_posts_are_refused,
    open_redirects_are_refused,
    pages_speak_french,
    branding_shows_and_cannot_inject,
);
