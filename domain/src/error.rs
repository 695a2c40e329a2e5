//! The one error type of the engine; `server/src/rest/error.rs` maps it to HTTP.

/// Expected failures carry a safe message for the client; `Internal` carries the cause
/// for the log only.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    WeakPassword(String),
    #[error("{0}")]
    InvalidPhone(String),
    #[error("Invalid credentials")]
    InvalidCredentials,
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A backend's `app_id` + `app_secret` that are unknown, wrong, revoked or of another app
    /// (which of these is not said).
    #[error("Invalid app credentials")]
    InvalidAppCredentials,
    /// A one-time code that is wrong, expired, used or out of tries.
    #[error("{0}")]
    InvalidOtp(String),
    #[error("Access token has expired")]
    TokenExpired,
    #[error("Session has been revoked")]
    SessionRevoked,
    #[error("Refresh token was already used; the session has been revoked")]
    RefreshTokenReused,
    /// An emailed link or code that is unknown, used, expired, revoked or of another purpose
    /// (which of these is not said).
    #[error("{0}")]
    InvalidToken(&'static str),
    #[error("{0}")]
    Forbidden(String),
    /// A license key that is not one (its shape or check symbol is wrong) or that no license
    /// of the app has.
    #[error("{0}")]
    LicenseInvalid(&'static str),
    #[error("This license has been revoked")]
    LicenseRevoked,
    #[error("This license has expired")]
    LicenseExpired,
    /// Every activation the license allows is held by other devices.
    #[error("This license is activated on as many devices as it allows; deactivate one first")]
    ActivationLimitReached,
    #[error("Sign-up is disabled for this app")]
    SignupDisabled,
    /// A cookie-authenticated write from a page the app does not trust, or without the CSRF
    /// token the app asks for.
    #[error("{0}")]
    CsrfFailed(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    UserExists(String),
    #[error("This slug is taken: slugs are permanent, even after their app is deleted")]
    SlugTaken,
    #[error("{0}")]
    Conflict(String),
    #[error("Too many requests, please try again later")]
    RateLimited { retry_after_seconds: u64 },
    /// Rampart cannot serve this now (its database is unreachable, or it is too busy to
    /// take more password work): `503` with `Retry-After`.
    #[error("{message}")]
    Unavailable { message: &'static str, retry_after_seconds: u64 },
    /// A sign-in through an external provider that did not complete: the provider refused
    /// or failed, its answer did not verify, or the identity cannot be used here (`code`
    /// says which; `status` is its HTTP status).
    #[error("{message}")]
    OAuthFailed { status: u16, code: &'static str, message: String },
    #[error("Internal server error")]
    Internal(#[source] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The machine-readable code of DESIGN.md "Errors".
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "INVALID_REQUEST",
            Error::InvalidEmail(_) => "INVALID_EMAIL",
            Error::WeakPassword(_) => "WEAK_PASSWORD",
            Error::InvalidPhone(_) => "INVALID_PHONE",
            Error::InvalidCredentials => "INVALID_CREDENTIALS",
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::InvalidAppCredentials => "INVALID_APP_CREDENTIALS",
            Error::InvalidOtp(_) => "INVALID_OTP",
            Error::TokenExpired => "TOKEN_EXPIRED",
            Error::SessionRevoked => "SESSION_REVOKED",
            Error::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Error::InvalidToken(_) => "INVALID_TOKEN",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::LicenseInvalid(_) => "LICENSE_INVALID",
            Error::LicenseRevoked => "LICENSE_REVOKED",
            Error::LicenseExpired => "LICENSE_EXPIRED",
            Error::ActivationLimitReached => "ACTIVATION_LIMIT_REACHED",
            Error::SignupDisabled => "SIGNUP_DISABLED",
            Error::CsrfFailed(_) => "CSRF_FAILED",
            Error::NotFound(_) => "NOT_FOUND",
            Error::UserExists(_) => "USER_EXISTS",
            Error::SlugTaken => "SLUG_TAKEN",
            Error::Conflict(_) => "CONFLICT",
            Error::RateLimited { .. } => "RATE_LIMIT_EXCEEDED",
            Error::Unavailable { .. } => "SERVICE_UNAVAILABLE",
            Error::OAuthFailed { code, .. } => code,
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status DESIGN.md pairs with the code. The REST API and the console's server
    /// functions both answer with it.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidRequest(_)
            | Error::InvalidEmail(_)
            | Error::WeakPassword(_)
            | Error::InvalidPhone(_)
            | Error::InvalidToken(_)
            | Error::LicenseInvalid(_) => 400,
            Error::InvalidCredentials
            | Error::Unauthenticated(_)
            | Error::InvalidAppCredentials
            | Error::InvalidOtp(_)
            | Error::TokenExpired
            | Error::SessionRevoked
            | Error::RefreshTokenReused => 401,
            Error::Forbidden(_)
            | Error::SignupDisabled
            | Error::CsrfFailed(_)
            | Error::LicenseRevoked
            | Error::LicenseExpired => 403,
            Error::NotFound(_) => 404,
            Error::UserExists(_) | Error::SlugTaken | Error::Conflict(_) | Error::ActivationLimitReached => 409,
            Error::RateLimited { .. } => 429,
            Error::Unavailable { .. } => 503,
            Error::OAuthFailed { status, .. } => *status,
            Error::Internal(_) => 500,
        }
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Error::Internal(cause.into())
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest(message.into())
    }

    /// How long a client should wait before trying again, for the errors that say so.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_seconds } | Error::Unavailable { retry_after_seconds, .. } => {
                Some(*retry_after_seconds)
            }
            _ => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    /// As the store classifies it (see `StoreError`): an unreachable database is
    /// `Unavailable`, everything else a fault.
    fn from(e: sqlx::Error) -> Self {
        crate::store::StoreError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_503_not_500() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused")),
        ] {
            let mapped = Error::from(e);
            assert_eq!((mapped.status(), mapped.code()), (503, "SERVICE_UNAVAILABLE"), "{mapped:?}");
            assert!(mapped.retry_after_seconds().is_some());
        }
        assert_eq!(Error::from(sqlx::Error::RowNotFound).status(), 500);
    }
}
