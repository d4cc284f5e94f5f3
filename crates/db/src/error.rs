//! Database errors as domain errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hearth_domain::DomainError;

/// Maps a diesel error that no caller expected into a domain error.
///
/// Connection-level failures mean the database is unavailable (a 503 upstream), not that the
/// request was wrong.
pub(crate) fn from_diesel(err: DieselError) -> DomainError {
    match err {
        DieselError::NotFound => DomainError::NotFound("record"),
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            DomainError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
            DomainError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(_, ref info) if is_connection_failure(info.message()) => {
            DomainError::Unavailable(info.message().to_owned())
        }
        // PostgreSQL text cannot hold NUL (or other bytes its encoding refuses): the caller sent
        // text we cannot store, which is their mistake, not ours.
        DieselError::DatabaseError(_, ref info) if is_unstorable_text(info.message()) => {
            DomainError::InvalidInput("text must not contain NUL characters".to_owned())
        }
        other => DomainError::Internal(other.to_string()),
    }
}

/// tokio-postgres reports a dropped connection as an unknown database error with a message
/// rather than a kind; recognise the usual ones.
fn is_connection_failure(message: &str) -> bool {
    const SIGNS: [&str; 5] = [
        "connection closed",
        "error communicating with the server",
        "terminating connection",
        "the database system is",
        "Connection refused",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

/// PostgreSQL's "invalid byte sequence" (22021) and "untranslatable character" (22P05).
fn is_unstorable_text(message: &str) -> bool {
    message.contains("invalid byte sequence for encoding")
        || message.contains("cannot be converted to text")
}

/// Pool errors: no connection could be had in time.
pub(crate) fn unavailable(err: impl std::fmt::Display) -> DomainError {
    DomainError::Unavailable(err.to_string())
}

/// The constraint a unique violation broke, if that is what `err` is.
pub(crate) fn unique_violation(err: &DieselError) -> Option<&str> {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            Some(info.constraint_name().unwrap_or_default())
        }
        _ => None,
    }
}

/// The constraint a foreign-key violation broke, if that is what `err` is.
pub(crate) fn foreign_key_violation(err: &DieselError) -> Option<&str> {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            Some(info.constraint_name().unwrap_or_default())
        }
        _ => None,
    }
}
