//! The one place engine errors become HTTP: `{statusCode, error, message}` with the status of
//! DESIGN.md "Errors". Also the JSON extractor whose rejections take the same shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Error;
use serde::de::DeserializeOwned;

/// An engine error on its way out as a response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn status_of(e: &Error) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The documented error shape of every error of the API.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error, example = json!({"statusCode": 401, "error": "INVALID_CREDENTIALS", "message": "Invalid credentials"}))]
pub struct ErrorBody<'a> {
    /// The HTTP status, repeated.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// The machine-readable code: `INVALID_REQUEST`, `INVALID_EMAIL`, `WEAK_PASSWORD`,
    /// `INVALID_PHONE`, `INVALID_CREDENTIALS`, `UNAUTHENTICATED`, `INVALID_APP_CREDENTIALS`,
    /// `INVALID_OTP`, `TOKEN_EXPIRED`, `SESSION_REVOKED`, `REFRESH_TOKEN_REUSED`,
    /// `INVALID_TOKEN`, `FORBIDDEN`, `CSRF_FAILED`, `LICENSE_INVALID`, `LICENSE_REVOKED`,
    /// `LICENSE_EXPIRED`, `ACTIVATION_LIMIT_REACHED`, `SIGNUP_DISABLED`, `NOT_FOUND`,
    /// `METHOD_NOT_ALLOWED`, `USER_EXISTS`, `SLUG_TAKEN`, `CONFLICT`, `PAYLOAD_TOO_LARGE`,
    /// `RATE_LIMIT_EXCEEDED` (with `Retry-After`), `SERVICE_UNAVAILABLE`, `UNAVAILABLE`,
    /// `INTERNAL`, or an upstream provider's failure (`OAUTH_*`).
    pub error: &'a str,
    /// A safe, human-readable message.
    pub message: &'a str,
}

/// A response in the documented error shape.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody { status_code: status.as_u16(), error: code, message };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        if let Error::Internal(cause) = &self.0 {
            // The client gets a code; the log gets the whole chain.
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let mut response = error_response(status, self.0.code(), &self.0.to_string());
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750, 3: a 401 names the scheme; a token that was sent and refused says so.
            let challenge = match &self.0 {
                Error::Unauthenticated(m) if *m == super::extract::MISSING_BEARER => "Bearer",
                Error::Unauthenticated(_) | Error::TokenExpired | Error::SessionRevoked => {
                    "Bearer error=\"invalid_token\""
                }
                _ => "Bearer",
            };
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(seconds) = self.0.retry_after_seconds() {
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// `axum::Json` whose every rejection (bad JSON, wrong types, missing fields, wrong content
/// type, oversized body) is a 4xx in the documented shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match <axum::Json<T> as FromRequest<S>>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// An optional body: none without a `Content-Type`; with one, what `ApiJson` takes.
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        match <axum::Json<T> as OptionalFromRequest<S>>::from_request(req, state).await {
            Ok(value) => Ok(value.map(|axum::Json(value)| ApiJson(value))),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Response {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and what was wrong with it.
            let detail = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.body_text());
            error_response(StatusCode::BAD_REQUEST, "INVALID_REQUEST", &format!("Invalid request body: {detail}"))
        }
        JsonRejection::JsonSyntaxError(_) => {
            error_response(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "Request body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "INVALID_REQUEST",
            "Expected a request with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            error_response(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "Request body is too large")
        }
        other => error_response(StatusCode::BAD_REQUEST, "INVALID_REQUEST", &other.body_text()),
    }
}

/// The code for a bare status, for rejections raised below the handlers.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::CONFLICT => "CONFLICT",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::TOO_MANY_REQUESTS => "RATE_LIMIT_EXCEEDED",
        StatusCode::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
        s if s.is_server_error() => "INTERNAL",
        _ => "INVALID_REQUEST",
    }
}

/// Gives every error response of the API the documented shape, including the plain-text
/// rejections of axum's extractors (bad query strings, bad path segments).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    // JSON errors stand, and so do the pages of emailed links (`pages.rs`), which answer
    // browsers on API paths.
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let message = if status.is_server_error() || text.trim().is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text.trim().to_owned()
    };
    error_response(status, code_for(status), &message)
}
