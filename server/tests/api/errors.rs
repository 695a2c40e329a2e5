//! Every failure is `{"statusCode", "error", "message"}` with the HTTP status, a 4xx for
//! anything a client can send, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_error_shape, both_stores, json_of, TestApp, PASSWORD};

const JSON: &str = "application/json";

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    bearer: Option<String>,
    status: StatusCode,
    code: &'static str,
    /// Words the message must contain (the field or rule at fault).
    mentions: &'static [&'static str],
}

fn case(name: &'static str, method: Method, path: impl Into<String>) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        content_type: None,
        body: None,
        bearer: None,
        status: StatusCode::BAD_REQUEST,
        code: "INVALID_REQUEST",
        mentions: &[],
    }
}

impl Case {
    fn json(mut self, body: &Value) -> Case {
        self.content_type = Some(JSON);
        self.body = Some(serde_json::to_vec(body).unwrap());
        self
    }
    fn raw(mut self, content_type: Option<&'static str>, body: impl Into<Vec<u8>>) -> Case {
        self.content_type = content_type;
        self.body = Some(body.into());
        self
    }
    fn bearer(mut self, token: &str) -> Case {
        self.bearer = Some(token.to_owned());
        self
    }
    fn expect(mut self, status: StatusCode, code: &'static str) -> Case {
        self.status = status;
        self.code = code;
        self
    }
    fn mentioning(mut self, words: &'static [&'static str]) -> Case {
        self.mentions = words;
        self
    }
}

fn signup_body(email: &str, username: &str, password: &str) -> Value {
    json!({ "email": email, "username": username, "password": password })
}

async fn error_table(app: TestApp) {
    let token = app.account_token("existing").await;
    app.create_app_ok(&token, "errs").await;
    app.signup_end_user("errs", "member1").await;

    let signup = "/v1/auth/signup";
    let mib = {
        let mut body = br#"{"email":""#.to_vec();
        body.extend(std::iter::repeat_n(b'a', 1024 * 1024));
        body.extend(br#"","username":"big","password":"YourSecurePassword123"}"#);
        body
    };
    let just_over = {
        let mut body = br#"{"email":""#.to_vec();
        body.extend(std::iter::repeat_n(b'a', 64 * 1024 + 1));
        body.extend(br#""}"#);
        body
    };
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let long_segment = "a".repeat(8 * 1024);

    use Method as M;
    use StatusCode as S;
    let cases = vec![
        // Bodies that are not the JSON asked for.
        case("malformed JSON", M::POST, signup).raw(Some(JSON), r#"{"email":"#),
        case("trailing garbage", M::POST, signup)
            .raw(Some(JSON), r#"{"email":"a@example.com","username":"abc","password":"YourSecurePassword123"} x"#),
        case("single quotes", M::POST, signup).raw(Some(JSON), "{'email':'a@example.com'}"),
        case("empty body", M::POST, signup).raw(Some(JSON), ""),
        case("null body", M::POST, signup).raw(Some(JSON), "null"),
        case("array body", M::POST, signup).raw(Some(JSON), "[]"),
        case("string body", M::POST, signup).raw(Some(JSON), r#""hello""#),
        case("deeply nested", M::POST, signup).raw(Some(JSON), deep),
        case("wrong type", M::POST, signup)
            .json(&json!({ "email": 5, "username": "abc", "password": PASSWORD }))
            .mentioning(&["email"]),
        case("wrong type, nested", M::POST, signup)
            .json(&json!({ "email": "a@example.com", "username": ["abc"], "password": PASSWORD }))
            .mentioning(&["username"]),
        case("null for a required field", M::POST, signup)
            .json(&json!({ "email": "a@example.com", "username": null, "password": PASSWORD })),
        case("missing field", M::POST, signup)
            .json(&json!({ "email": "a@example.com", "password": PASSWORD }))
            .mentioning(&["username"]),
        case("missing password on sign-in", M::POST, "/v1/auth/signin")
            .json(&json!({ "identifier": "existing" }))
            .mentioning(&["password"]),
        case("refresh token not a string", M::POST, "/v1/auth/refresh").json(&json!({ "refresh_token": 123 })),
        case("invalid UTF-8", M::POST, signup).raw(
            Some(JSON),
            b"{\"email\":\"\xff\xfe@example.com\",\"username\":\"abc\",\"password\":\"YourSecurePassword123\"}"
                .to_vec(),
        ),
        case("invalid UTF-8 in a key", M::POST, signup).raw(Some(JSON), b"{\"\xc3\x28\":1}".to_vec()),
        case("lone surrogate escape", M::POST, signup)
            .raw(Some(JSON), r#"{"email":"\ud800@example.com","username":"abc","password":"YourSecurePassword123"}"#),
        case("unknown field in PATCH", M::PATCH, "/v1/apps/errs").json(&json!({ "colour": "red" })).bearer(&token),
        case("unknown status value", M::PATCH, "/v1/apps/errs")
            .json(&json!({ "status": "deleted" }))
            .bearer(&token)
            .mentioning(&["status"]),
        // Content types.
        case("no content type", M::POST, signup)
            .raw(None, serde_json::to_vec(&signup_body("ct@example.com", "ctuser", PASSWORD)).unwrap())
            .expect(S::UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST"),
        case("text/plain", M::POST, signup)
            .raw(Some("text/plain"), serde_json::to_vec(&signup_body("ct@example.com", "ctuser", PASSWORD)).unwrap())
            .expect(S::UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST"),
        case("form encoded", M::POST, "/v1/auth/signin")
            .raw(Some("application/x-www-form-urlencoded"), "identifier=existing&password=YourSecurePassword123")
            .expect(S::UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST"),
        // Size.
        case("1 MiB body", M::POST, signup).raw(Some(JSON), mib).expect(S::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        case("just over the limit", M::POST, "/errs/v1/auth/signup")
            .raw(Some(JSON), just_over)
            .expect(S::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
        // Values the engine refuses.
        case("invalid email", M::POST, signup)
            .json(&signup_body("not-an-email", "newbie", PASSWORD))
            .expect(S::BAD_REQUEST, "INVALID_EMAIL"),
        case("invalid email, consumer API", M::POST, "/errs/v1/auth/signup")
            .json(&signup_body("a@b", "newbie", PASSWORD))
            .expect(S::BAD_REQUEST, "INVALID_EMAIL"),
        case("short password", M::POST, signup)
            .json(&signup_body("weak@example.com", "weakling", "short"))
            .expect(S::BAD_REQUEST, "WEAK_PASSWORD")
            .mentioning(&["at least 8"]),
        case("overlong password", M::POST, "/errs/v1/auth/signup")
            .json(&signup_body("weak@example.com", "weakling", &"Aa1!".repeat(40)))
            .expect(S::BAD_REQUEST, "WEAK_PASSWORD")
            .mentioning(&["at most 128"]),
        case("invalid username", M::POST, signup)
            .json(&signup_body("user@example.com", "a b", PASSWORD))
            .mentioning(&["username"]),
        case("huge username", M::POST, signup)
            .json(&signup_body("user@example.com", &"u".repeat(10_000), PASSWORD))
            .mentioning(&["username"]),
        case("username taken, any case", M::POST, signup)
            .json(&signup_body("other@example.com", "EXISTING", PASSWORD))
            .expect(S::CONFLICT, "USER_EXISTS"),
        case("username taken in the app", M::POST, "/errs/v1/auth/signup")
            .json(&signup_body("other@example.com", "member1", PASSWORD))
            .expect(S::CONFLICT, "USER_EXISTS"),
        case("signup to an unknown app", M::POST, "/no-such-app/v1/auth/signup")
            .json(&signup_body("user@example.com", "someone", PASSWORD))
            .expect(S::NOT_FOUND, "NOT_FOUND"),
        // Routes.
        case("unknown route under /api/v1", M::GET, "/api/v1/nope").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("unknown route under /v1", M::GET, "/v1/nope/deeper").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("unknown app sub-route", M::GET, "/api/v1/apps/errs/nope")
            .bearer(&token)
            .expect(S::NOT_FOUND, "NOT_FOUND"),
        case("unknown route under /{slug}/v1", M::GET, "/errs/v1/nope").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("bare /{slug}/v1", M::GET, "/errs/v1").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("bare /api/v1", M::GET, "/api/v1").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("bare /api", M::GET, "/api").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("trailing slash", M::GET, "/v1/apps/").bearer(&token).expect(S::NOT_FOUND, "NOT_FOUND"),
        case("unknown route of an unknown app", M::GET, "/no-such-app/v1/whatever").expect(S::NOT_FOUND, "NOT_FOUND"),
        case("unknown POST route", M::POST, "/errs/v1/auth/nope").json(&json!({})).expect(S::NOT_FOUND, "NOT_FOUND"),
        case("JWKS of an unknown app", M::GET, "/no-such-app/v1/.well-known/jwks.json")
            .expect(S::NOT_FOUND, "NOT_FOUND"),
        case("very long slug", M::GET, format!("/v1/apps/{long_segment}"))
            .bearer(&token)
            .expect(S::NOT_FOUND, "NOT_FOUND"),
        case("encoded slash in slug", M::GET, "/v1/apps/errs%2F..%2Fplatform")
            .bearer(&token)
            .expect(S::NOT_FOUND, "NOT_FOUND"),
        case("wrong method on signup", M::GET, signup).expect(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
        case("wrong method on me", M::DELETE, "/v1/auth/me")
            .bearer(&token)
            .expect(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
        case("wrong method on apps", M::PUT, "/api/v1/apps")
            .json(&json!({}))
            .bearer(&token)
            .expect(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
        case("wrong method on consumer me", M::POST, "/errs/v1/me")
            .json(&json!({}))
            .expect(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
        case("wrong method on JWKS", M::DELETE, "/errs/v1/.well-known/jwks.json")
            .expect(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
        case("wrong method on health", M::POST, "/health").expect(S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
    ];

    // A connection per case: the server closes one after refusing an oversized body, and a
    // pooled connection handed to the next case before the client saw that close fails to send.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    for c in cases {
        let oversized = c.body.as_ref().is_some_and(|b| b.len() > server::rest::MAX_BODY_BYTES);
        let mut request = client.request(c.method.clone(), app.url(&c.path));
        if let Some(ct) = c.content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(body) = c.body {
            request = request.body(body);
        }
        if let Some(token) = &c.bearer {
            request = request.bearer_auth(token);
        }
        // A server refusing an oversized body answers before reading it and closes the
        // connection with the rest unread; under load the client can see that reset before
        // the answer. Such a send is tried again; any other failure to send is a failure.
        let mut attempts = 0;
        let response = loop {
            attempts += 1;
            match request.try_clone().expect("a body that can be sent again").send().await {
                Ok(response) => break response,
                Err(_) if oversized && attempts < 5 => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("{}: {e}", c.name),
            }
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap();
        assert!(content_type.starts_with(JSON), "{}: content type {content_type:?}", c.name);
        assert!(status.as_u16() < 500, "{}: {status} {text}", c.name);
        assert_eq!(status, c.status, "{}: {text}", c.name);
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", c.name));
        assert_error_shape(&body, status);
        assert_eq!(body["error"], c.code, "{}: {body}", c.name);
        let message = body["message"].as_str().unwrap();
        for word in c.mentions {
            assert!(message.contains(word), "{}: {message:?} lacks {word:?}", c.name);
        }
        // No internals leak into messages.
        for leak in ["sqlx", "SQLSTATE", "panicked", "src/", "serde_json::"] {
            assert!(!message.contains(leak), "{}: {message}", c.name);
        }
    }

    // None of the refused sign-ups created anything; the server is still well.
    for username in ["big", "newbie", "weakling", "ctuser", "someone"] {
        assert_error(
            app.post_json("/v1/auth/signin", &json!({ "identifier": username, "password": PASSWORD })).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIALS",
        )
        .await;
    }
    // A JSON content type with parameters is still JSON.
    let response = app
        .client
        .post(app.url(signup))
        .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(serde_json::to_vec(&signup_body("charset@example.com", "charset", PASSWORD)).unwrap())
        .send()
        .await
        .unwrap();
    json_of(response, StatusCode::CREATED).await;
}

both_stores!(error_table);
