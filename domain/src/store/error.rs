//! What the store says went wrong, in its own terms; `From<StoreError> for Error` is the one
//! place it becomes the engine's error, and engine code that expects a refusal (a taken
//! username, a role still held) matches these variants instead.

use crate::Error;

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write. `constraint` names it (on SQLite, the
    /// database's message naming the columns): for the log, never for a client.
    #[error("refused by unique constraint {constraint}")]
    Unique { constraint: String },
    /// A foreign key refused the write: a deleted row is still referenced, or a new one
    /// references nothing.
    #[error("refused by a foreign key")]
    ForeignKey,
    /// The database cannot be reached now (no connection to be had in time, a dropped or
    /// refused connection, a server shutting down); the same call may succeed later.
    #[error("the database is unreachable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a fault.
    #[error(transparent)]
    Other(anyhow::Error),
}

pub type StoreResult<T> = std::result::Result<T, StoreError>;

impl StoreError {
    pub(crate) fn other(message: &'static str) -> Self {
        StoreError::Other(anyhow::anyhow!(message))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let unreachable = match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
            sqlx::Error::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception) and 57 (operator intervention: admin
            // shutdown, cannot connect now).
            sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57")),
            _ => false,
        };
        match &e {
            _ if unreachable => StoreError::Unavailable(e),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Unique { constraint: db.constraint().unwrap_or(db.message()).to_owned() }
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::ForeignKey,
            _ => StoreError::Other(e.into()),
        }
    }
}

impl From<StoreError> for Error {
    /// A unique refusal is a `Conflict` with a message fit for a client (the constraint goes
    /// to the log only); an unreachable database is `Unavailable` (503, try again later).
    /// A foreign-key refusal the engine did not expect, like any other failure, is a fault.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique { constraint } => {
                tracing::debug!(%constraint, "write refused by a unique constraint");
                Error::Conflict("This conflicts with something that already exists".into())
            }
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "the database is unreachable");
                Error::Unavailable {
                    message: "The service is temporarily unavailable, please try again shortly",
                    retry_after_seconds: 5,
                }
            }
            StoreError::ForeignKey => Error::Internal(StoreError::ForeignKey.into()),
            StoreError::Other(e) => Error::Internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_refusal_is_a_conflict_that_names_no_constraint() {
        let e = Error::from(StoreError::Unique { constraint: "users_app_id_username_normalized_key".into() });
        assert_eq!((e.status(), e.code()), (409, "CONFLICT"));
        assert!(!e.to_string().contains("users"), "{e}");
    }

    #[test]
    fn an_unexpected_foreign_key_refusal_is_a_fault() {
        assert_eq!(Error::from(StoreError::ForeignKey).status(), 500);
    }
}
