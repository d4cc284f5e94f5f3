//! The ways a use case can fail, independent of transport.

use thiserror::Error;

/// A failure the caller can act on, or an infrastructure failure it cannot.
#[derive(Debug, Error)]
pub enum DomainError {
    /// The named thing does not exist (or the caller may not know it does).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique thing already exists (a username, a category name, ...).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Input the database cannot store as given (text holding a NUL character, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The account a valid token names no longer exists.
    #[error("the account no longer exists")]
    AccountGone,
    /// The database is unreachable or out of connections; retrying later may work.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an unexpected storage failure.
    #[error("internal error: {0}")]
    Internal(String),
}
