//! An app's auth config (`/api/v1/apps/{slug}/config`, seed 001 step 2): every toggle changes
//! what the consumer API does, and an invalid patch is refused whole.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::helpers::{access_token, assert_error, both_stores, json_of, refresh_token, TestApp, PASSWORD};
use crate::quickstart::verify_with_jwks;
use crate::seed001::assert_seed_defaults;

fn signup_body(username: &str, password: &str) -> Value {
    json!({
        "email": format!("{username}@example.com"),
        "username": username,
        "password": password,
        "display_name": format!("User {username}"),
    })
}

async fn signup(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_json("/gate/v1/auth/signup", &signup_body(username, password)).await
}

async fn signup_with_bearer(app: &TestApp, username: &str, bearer: &str) -> reqwest::Response {
    app.post_json_with_bearer("/gate/v1/auth/signup", bearer, &signup_body(username, PASSWORD)).await
}

async fn signup_and_signin_switches(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let early = app.signup_end_user("gate", "early").await;

    let config = app.patch_config(&owner, "gate", &json!({ "signup_enabled": false })).await;
    assert_eq!(config["signup_enabled"], false);
    let body = assert_error(signup(&app, "late", PASSWORD).await, StatusCode::FORBIDDEN, "SIGNUP_DISABLED").await;
    assert_eq!(body["statusCode"], 403);
    // Invite-only: existing users still sign in.
    app.signin_end_user("gate", "early").await;
    app.me("gate", &access_token(&early)).await;
    app.patch_config(&owner, "gate", &json!({ "signup_enabled": true })).await;
    assert_eq!(signup(&app, "late", PASSWORD).await.status(), StatusCode::CREATED);

    let config = app.patch_config(&owner, "gate", &json!({ "signin_enabled": false })).await;
    assert_eq!(config["signin_enabled"], false);
    assert_error(
        app.post_json("/gate/v1/auth/signin", &json!({ "identifier": "early", "password": PASSWORD })).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
    )
    .await;
    // Sign-up is a separate switch.
    assert_eq!(signup(&app, "later", PASSWORD).await.status(), StatusCode::CREATED);
    app.patch_config(&owner, "gate", &json!({ "signin_enabled": true })).await;
    app.signin_end_user("gate", "early").await;
}

async fn signup_requires_pak(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let other_owner = app.app_with_owner("elsewhere").await;
    let (_, rampart_key) = create_key(&app, &owner, "gate", &["rampart.signup.create"]).await;
    let (_, heimdall_key) = create_key(&app, &owner, "gate", &["heimdall.signup.create"]).await;
    let (_, unscoped_key) = create_key(&app, &owner, "gate", &["user.create", "user.list"]).await;
    let (_, foreign_key) = create_key(&app, &other_owner, "elsewhere", &["rampart.signup.create"]).await;
    let (revoked_view, revoked_key) = create_key(&app, &owner, "gate", &["rampart.signup.create"]).await;
    let response = app
        .delete_with_bearer(&format!("/api/v1/apps/gate/api-keys/{}", revoked_view["id"].as_str().unwrap()), &owner)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let config = app.patch_config(&owner, "gate", &json!({ "signup_requires_pak": true })).await;
    assert_eq!(config["signup_requires_pak"], true);
    // No bearer, or one that is no API key of this app: 401.
    assert_error(signup(&app, "public", PASSWORD).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    let end_user = app.signup_end_user("elsewhere", "visitor").await;
    for bearer in [owner.clone(), access_token(&end_user), foreign_key, revoked_key, "rk_not-a-key".into()] {
        assert_error(signup_with_bearer(&app, "public", &bearer).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
            .await;
    }
    // A key of the app without a sign-up scope: 403.
    assert_error(signup_with_bearer(&app, "public", &unscoped_key).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    // Either spelling of the scope: 201, a normal token pair.
    let pair = json_of(signup_with_bearer(&app, "backend1", &rampart_key).await, StatusCode::CREATED).await;
    assert_eq!(app.me("gate", &access_token(&pair)).await["username"], "backend1");
    let pair = json_of(signup_with_bearer(&app, "backend2", &heimdall_key).await, StatusCode::CREATED).await;
    assert_eq!(app.me("gate", &access_token(&pair)).await["username"], "backend2");
    // Nobody else got in.
    let list = json_of(app.get_with_bearer("/api/v1/apps/gate/end-users", &owner).await, StatusCode::OK).await;
    let mut names: Vec<&str> =
        list["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["backend1", "backend2"]);
    // Sign-in is unaffected.
    let pair = json_of(
        app.post_json("/gate/v1/auth/signin", &json!({ "identifier": "backend1", "password": PASSWORD })).await,
        StatusCode::OK,
    )
    .await;
    app.me("gate", &access_token(&pair)).await;

    // Switched off: the public form works again.
    app.patch_config(&owner, "gate", &json!({ "signup_requires_pak": false })).await;
    assert_eq!(signup(&app, "public", PASSWORD).await.status(), StatusCode::CREATED);
}

async fn password_rules(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    // The default: 8 characters, nothing else.
    let body = assert_error(signup(&app, "short", "Abc123!").await, StatusCode::BAD_REQUEST, "WEAK_PASSWORD").await;
    assert!(body["message"].as_str().unwrap().contains('8'), "{body}");
    assert_eq!(signup(&app, "plain", "abcdefgh").await.status(), StatusCode::CREATED);

    let config = app
        .patch_config(
            &owner,
            "gate",
            &json!({
                "password_min_length": 12,
                "password_require_uppercase": true,
                "password_require_number": true,
                "password_require_symbol": true,
            }),
        )
        .await;
    assert_eq!(config["password_min_length"], 12);
    for (password, rule) in [
        ("Abcdefgh1!x", "12"),
        ("abcdefghij1!", "uppercase"),
        ("Abcdefghijk!", "number"),
        ("Abcdefghijk1", "symbol"),
        (&"Aa1!".repeat(33), "at most"),
    ] {
        let body = assert_error(signup(&app, "strict", password).await, StatusCode::BAD_REQUEST, "WEAK_PASSWORD").await;
        assert!(body["message"].as_str().unwrap().contains(rule), "{password}: {body}");
    }
    assert_eq!(signup(&app, "strict", "Abcdefghij1!").await.status(), StatusCode::CREATED);

    // Each rule alone.
    app.patch_config(
        &owner,
        "gate",
        &json!({
            "password_min_length": 8,
            "password_require_uppercase": false,
            "password_require_symbol": false,
        }),
    )
    .await;
    let body =
        assert_error(signup(&app, "numberless", "abcdefghij").await, StatusCode::BAD_REQUEST, "WEAK_PASSWORD").await;
    assert!(body["message"].as_str().unwrap().contains("number"), "{body}");
    assert_eq!(signup(&app, "numbered", "abcdefgh1").await.status(), StatusCode::CREATED);

    // The refused sign-ups made nobody.
    let list = json_of(app.get_with_bearer("/api/v1/apps/gate/end-users", &owner).await, StatusCode::OK).await;
    let mut names: Vec<&str> =
        list["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["numbered", "plain", "strict"]);
}

async fn token_lifetimes(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let config = app.patch_config(&owner, "gate", &json!({ "access_token_ttl_seconds": 600 })).await;
    assert_eq!(config["access_token_ttl_seconds"], 600);
    let signed_up = app.signup_end_user("gate", "ada").await;
    let signed_in = app.signin_end_user("gate", "ada").await;
    let refreshed = json_of(
        app.post_json("/gate/v1/auth/refresh", &json!({ "refresh_token": refresh_token(&signed_in) })).await,
        StatusCode::OK,
    )
    .await;
    for pair in [&signed_up, &signed_in, &refreshed] {
        assert_eq!(pair["expires_in"], 600, "{pair}");
        let claims = verify_with_jwks(&app, "gate", &access_token(pair)).await;
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600, "{claims}");
    }
    app.patch_config(&owner, "gate", &json!({ "access_token_ttl_seconds": 3600 })).await;
    let pair = app.signin_end_user("gate", "ada").await;
    assert_eq!(pair["expires_in"], 3600);
    let claims = verify_with_jwks(&app, "gate", &access_token(&pair)).await;
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
}

async fn default_role(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let before = app.signup_end_user("gate", "before").await;
    json_of(
        app.post_json_with_bearer(
            "/api/v1/apps/gate/roles",
            &owner,
            &json!({ "name": "trial", "description": "Trial users", "permissions": ["billing.read"] }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let config = app.patch_config(&owner, "gate", &json!({ "signup_default_role": "trial" })).await;
    assert_eq!(config["signup_default_role"], "trial");

    let pair = app.signup_end_user("gate", "newcomer").await;
    assert_eq!(app.me("gate", &access_token(&pair)).await["role"], "trial");
    assert_eq!(verify_with_jwks(&app, "gate", &access_token(&pair)).await["role"], "trial");
    let permissions =
        json_of(app.get_with_bearer("/gate/v1/me/permissions", &access_token(&pair)).await, StatusCode::OK).await;
    assert_eq!(permissions, json!({ "role": "trial", "permissions": ["billing.read"] }));
    // Users from before keep their role.
    assert_eq!(app.me("gate", &access_token(&before)).await["role"], "member");
    // The default role cannot be deleted from under the config.
    assert_error(
        app.delete_with_bearer("/api/v1/apps/gate/roles/trial", &owner).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    app.patch_config(&owner, "gate", &json!({ "signup_default_role": "member" })).await;
    let pair = app.signup_end_user("gate", "latecomer").await;
    assert_eq!(app.me("gate", &access_token(&pair)).await["role"], "member");
}

async fn enforce_app_permissions(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let member = access_token(&app.signup_end_user("gate", "ada").await);

    // Off: any valid token calls any consumer route.
    let users = json_of(app.get_with_bearer("/gate/v1/users", &member).await, StatusCode::OK).await;
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users["users"][0]["username"], "ada");
    let roles = json_of(app.get_with_bearer("/gate/v1/roles", &member).await, StatusCode::OK).await;
    assert_eq!(roles["roles"].as_array().unwrap().len(), 3, "{roles}");

    // On: member has role.read but not user.list.
    let config = app.patch_config(&owner, "gate", &json!({ "enforce_app_permissions": true })).await;
    assert_eq!(config["enforce_app_permissions"], true);
    let body =
        assert_error(app.get_with_bearer("/gate/v1/users", &member).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    assert!(body["message"].as_str().unwrap().contains("user.list"), "{body}");
    json_of(app.get_with_bearer("/gate/v1/roles", &member).await, StatusCode::OK).await;

    // Give member user.list: it works at once.
    let role = json_of(
        app.patch_json_with_bearer(
            "/api/v1/apps/gate/roles/member",
            &owner,
            &json!({ "permissions": ["app.read", "user.read", "role.read", "user.list"] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(role["permissions"].as_array().unwrap().contains(&json!("user.list")), "{role}");
    json_of(app.get_with_bearer("/gate/v1/users", &member).await, StatusCode::OK).await;
    // And take role.read away: the roles route closes at once.
    json_of(
        app.patch_json_with_bearer("/api/v1/apps/gate/roles/member", &owner, &json!({ "permissions": ["user.list"] }))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_error(app.get_with_bearer("/gate/v1/roles", &member).await, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    json_of(app.get_with_bearer("/gate/v1/users", &member).await, StatusCode::OK).await;

    // Off again: everything opens.
    app.patch_config(&owner, "gate", &json!({ "enforce_app_permissions": false })).await;
    json_of(app.get_with_bearer("/gate/v1/roles", &member).await, StatusCode::OK).await;
    // Tokens are still required either way.
    assert_error(app.get("/gate/v1/users").await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
}

async fn invalid_patches_are_refused_whole(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let before = app.config(&owner, "gate").await;
    assert_seed_defaults(&before);
    let path = "/api/v1/apps/gate/config";

    for (patch, field) in [
        // One valid field beside an invalid one, on either side of it.
        (json!({ "signup_enabled": false, "password_min_length": 7 }), "password_min_length"),
        (json!({ "access_token_ttl_seconds": 120, "signup_enabled": "no" }), "signup_enabled"),
        (json!({ "signin_enabled": false, "signup_default_role": "ghost" }), "signup_default_role"),
        (json!({ "access_token_ttl_seconds": -5 }), "access_token_ttl_seconds"),
        (json!({ "access_token_ttl_seconds": 0 }), "access_token_ttl_seconds"),
        (json!({ "refresh_token_ttl_seconds": -1 }), "refresh_token_ttl_seconds"),
        (json!({ "refresh_reuse_grace_seconds": -1 }), "refresh_reuse_grace_seconds"),
        (json!({ "password_min_length": 7 }), "password_min_length"),
        (json!({ "password_min_length": 129 }), "password_min_length"),
        (json!({ "password_min_length": -1 }), "password_min_length"),
        (json!({ "password_min_length": 8.5 }), "password_min_length"),
        (json!({ "password_min_length": "10" }), "password_min_length"),
        (json!({ "signin_enabled": null }), "signin_enabled"),
        (json!({ "signup_requires_pak": 1 }), "signup_requires_pak"),
        (json!({ "enforce_app_permissions": "true" }), "enforce_app_permissions"),
        (json!({ "unknown_field": true }), "unknown_field"),
        (json!({ "signup_default_role": "ghost" }), "signup_default_role"),
        (json!({ "signup_default_role": "owner" }), "signup_default_role"),
        (json!({ "signup_default_role": 5 }), "signup_default_role"),
        (json!({ "access_token_ttl_seconds": 3600, "refresh_token_ttl_seconds": 600 }), "refresh_token_ttl_seconds"),
    ] {
        let body = assert_error(
            app.patch_json_with_bearer(path, &owner, &patch).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
        assert!(body["message"].as_str().unwrap().contains(field), "{patch}: {body}");
        assert_eq!(app.config(&owner, "gate").await, before, "{patch} was half applied");
    }
    // Not an object at all.
    for patch in [json!([]), json!("signup_enabled"), json!(null)] {
        let response = app.patch_json_with_bearer(path, &owner, &patch).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{patch}");
    }
    assert_eq!(app.config(&owner, "gate").await, before);

    // The bounds themselves are accepted; an empty patch changes nothing.
    assert_eq!(app.patch_config(&owner, "gate", &json!({})).await, before);
    for patch in [
        json!({ "password_min_length": 8 }),
        json!({ "password_min_length": 128 }),
        json!({ "access_token_ttl_seconds": 60, "refresh_token_ttl_seconds": 300, "refresh_reuse_grace_seconds": 0 }),
        json!({ "signup_default_role": "admin" }),
    ] {
        let config = app.patch_config(&owner, "gate", &patch).await;
        for (field, value) in patch.as_object().unwrap() {
            assert_eq!(&config[field], value, "{config}");
        }
        assert_eq!(app.config(&owner, "gate").await, config);
    }

    // Only those whose role holds config.update may change it.
    let (_, reader) = create_key(&app, &owner, "gate", &["config.read"]).await;
    json_of(app.get_with_bearer(path, &reader).await, StatusCode::OK).await;
    assert_error(
        app.patch_json_with_bearer(path, &reader, &json!({ "signup_enabled": false })).await,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    let stranger = app.account_token("stranger").await;
    assert_error(app.get_with_bearer(path, &stranger).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_error(
        app.patch_json_with_bearer(path, &stranger, &json!({ "signup_enabled": false })).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(app.get(path).await, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    assert_eq!(app.config(&owner, "gate").await["signup_enabled"], true);
}

/// The console's session cookie for `username` (signed in through the console's form).
async fn console_cookie(app: &TestApp, username: &str) -> String {
    let response = app
        .client
        .post(app.url("/console/_fn/sign_in"))
        .form(&[("identifier", username), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .find(|pair| pair.starts_with("rampart_console="))
        .expect("the console's cookie")
}

/// Posts the console's Hosted pages form as a browser without JavaScript does; answers the
/// page the browser is sent back to.
async fn post_hosted_form(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> String {
    use reqwest::header::{ACCEPT, COOKIE, LOCATION, REFERER};
    let page = app.url("/console/apps/gate/hosted");
    let response = app
        .client
        .post(app.url("/console/_fn/save_hosted_settings"))
        .header(ACCEPT, "text/html")
        .header(COOKIE, cookie)
        .header(REFERER, &page)
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let back = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(back.starts_with(&page) || back.starts_with("/console/apps/gate/hosted"), "{back}");
    let back = if back.starts_with('/') { app.url(&back) } else { back };
    let response = app.client.get(back).header(COOKIE, cookie).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The console's Hosted pages tab without JavaScript: the page shows the settings (lifetimes
/// in days), its form saves them through the config's checks, a refusal comes back with the
/// page marking the field, and the Auth config form leaves them alone.
async fn hosted_settings_in_the_console(app: TestApp) {
    let owner = app.app_with_owner("gate").await;
    let cookie = console_cookie(&app, "gate-owner").await;
    let page = app.client.get(app.url("/console/apps/gate/hosted")).header(reqwest::header::COOKIE, &cookie);
    let page = page.send().await.unwrap().text().await.unwrap();
    for part in [
        "data-testid=\"hosted-form\"",
        "href=\"/gate/signin\"",
        "name=\"branding[primary_color]\" value=\"#3451d1\"",
        "name=\"config[session_cookie_ttl_seconds]\" value=\"7\"",
        "<option value=\"86400\" selected>days</option>",
        "style=\"--primary:#3451d1;\"",
    ] {
        assert!(page.contains(part), "{part} in {page}");
    }

    let form = |color: &'static str| {
        vec![
            ("slug", "gate"),
            ("config[allowed_redirect_urls]", "https://gate.example/done"),
            ("config[allowed_origins]", "https://gate.example\r\nhttp://localhost:5173"),
            ("config[session_cookie_ttl_seconds]", "2"),
            ("unit[session_cookie_ttl_seconds]", "86400"),
            ("config[session_cookie_renew_within_seconds]", "12"),
            ("unit[session_cookie_renew_within_seconds]", "3600"),
            ("config[session_max_lifetime_seconds]", "30"),
            ("unit[session_max_lifetime_seconds]", "86400"),
            ("config[csrf_token_required]", "true"),
            ("branding[display_name]", "Gate & Co"),
            ("branding[logo_url]", "https://cdn.gate.example/logo.png"),
            ("branding[primary_color]", color),
            ("branding[theme]", "dark"),
            ("branding[support_url]", ""),
            ("css[radius]", "6px"),
            ("css[text]", ""),
        ]
    };
    let page = post_hosted_form(&app, &cookie, &form("#0a7d5a")).await;
    assert!(page.contains("value=\"Gate &amp; Co\""), "{page}");
    let config = app.config(&owner, "gate").await;
    assert_eq!(config["allowed_origins"], json!(["https://gate.example", "http://localhost:5173"]));
    assert_eq!(config["allowed_redirect_urls"], json!(["https://gate.example/done"]));
    assert_eq!(config["session_cookie_ttl_seconds"], 2 * 86_400);
    assert_eq!(config["session_cookie_renew_within_seconds"], 12 * 3600);
    assert_eq!(config["session_max_lifetime_seconds"], 30 * 86_400);
    assert_eq!(config["csrf_token_required"], true);
    assert_eq!(
        config["branding"],
        json!({"display_name": "Gate & Co", "logo_url": "https://cdn.gate.example/logo.png", "primary_color": "#0a7d5a",
            "theme": "dark", "support_url": "", "css_variables": {"radius": "6px"}})
    );

    // Refused: the message, on the page and on its field; nothing saved.
    let page = post_hosted_form(&app, &cookie, &form("red")).await;
    assert!(page.contains("branding.primary_color must be a colour like #3451d1"), "{page}");
    let field = page.find("name=\"branding[primary_color]\"").unwrap();
    let input = &page[page[..field].rfind('<').unwrap()..field + page[field..].find('>').unwrap()];
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert_eq!(app.config(&owner, "gate").await["branding"]["primary_color"], "#0a7d5a");

    // The Auth config form (every field it shows, sign-up unticked) saves its own settings only.
    use reqwest::header::{ACCEPT, COOKIE, REFERER};
    let hosted = [
        "allowed_redirect_urls",
        "allowed_origins",
        "session_cookie_ttl_seconds",
        "session_cookie_renew_within_seconds",
        "session_max_lifetime_seconds",
        "csrf_token_required",
    ];
    let mut auth_config_form = vec![("slug".to_owned(), "gate".to_owned())];
    for (field, value) in app.config(&owner, "gate").await.as_object().unwrap() {
        let posted = match value {
            _ if hosted.contains(&field.as_str()) || field == "signup_enabled" => continue,
            Value::Bool(true) => "true".to_owned(),
            Value::Bool(false) | Value::Object(_) => continue,
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            Value::Array(items) => items.iter().map(|i| i.as_str().unwrap()).collect::<Vec<_>>().join("\n"),
            Value::Null => String::new(),
        };
        auth_config_form.push((format!("config[{field}]"), posted));
    }
    let response = app
        .client
        .post(app.url("/console/_fn/save_config"))
        .header(ACCEPT, "text/html")
        .header(COOKIE, &cookie)
        .header(REFERER, app.url("/console/apps/gate/config"))
        .form(&auth_config_form)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    let config = app.config(&owner, "gate").await;
    assert_eq!(config["signup_enabled"], false, "the Auth config form was saved");
    assert_eq!(config["csrf_token_required"], true);
    assert_eq!(config["allowed_origins"], json!(["https://gate.example", "http://localhost:5173"]));
    assert_eq!(config["allowed_redirect_urls"], json!(["https://gate.example/done"]));
    assert_eq!(config["branding"]["theme"], "dark");
}

/// A form the console posts without JavaScript comes back to its page through the Referer,
/// so every console page and server function answer under `Referrer-Policy: same-origin`
/// (the server's default elsewhere is `no-referrer`): a page that once came without it sent
/// its next form post back to `/`, its answer lost.
async fn console_pages_keep_the_referrer_within_the_site(app: TestApp) {
    app.app_with_owner("gate").await;
    let cookie = console_cookie(&app, "gate-owner").await;
    let pages =
        ["/console", "/console/signin", "/console/apps/gate", "/console/apps/gate/hosted", "/console/apps/gate/config"];
    for path in pages {
        let response = app.client.get(app.url(path)).header(reqwest::header::COOKIE, &cookie).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let policy = response.headers().get(reqwest::header::REFERRER_POLICY).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(policy.as_deref(), Some("same-origin"), "{path}");
    }
    let signed_out = app.client.get(app.url("/console/apps/gate/hosted")).send().await.unwrap();
    assert_eq!(signed_out.headers()[reqwest::header::REFERRER_POLICY], "same-origin", "a page that sends to sign-in");
    let posted = app
        .client
        .post(app.url("/console/_fn/save_hosted_settings"))
        .header(reqwest::header::ACCEPT, "text/html")
        .header(reqwest::header::COOKIE, &cookie)
        .header(reqwest::header::REFERER, app.url("/console/apps/gate/hosted"))
        .form(&[("slug", "gate"), ("branding[primary_color]", "blue")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.headers()[reqwest::header::REFERRER_POLICY], "same-origin", "a server function's answer");
}

both_stores!(
    signup_and_signin_switches,
    console_pages_keep_the_referrer_within_the_site,
    signup_requires_pak,
    password_rules,
    token_lifetimes,
    default_role,
    enforce_app_permissions,
    invalid_patches_are_refused_whole,
    hosted_settings_in_the_console,
);
