//! Database errors as domain errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hearth_domain::DomainError;

/// A SQL function (migration 3) answered an outcome its caller does not know: the code and
/// the migration disagree, which is our fault.
pub(crate) fn unexpected_outcome(function: &str, outcome: &str) -> DomainError {
    DomainError::Internal(format!("{function} answered {outcome:?}"))
}

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
        // A CHECK constraint is a rule about values: whatever slipped past validation and broke
        // one was refused input, not a fault of ours.
        // (The constraint's name is schema detail: logged, not told.)
        DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, ref info) => {
            tracing::info!(
                constraint = info.constraint_name(),
                "check constraint refused a value"
            );
            DomainError::InvalidInput("a value is outside what its field allows".to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorInformation;

    struct Info(&'static str, Option<&'static str>);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            self.1
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: DatabaseErrorKind, info: Info) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(info))
    }

    #[test]
    fn a_broken_check_constraint_is_invalid_input() {
        let err = database_error(
            DatabaseErrorKind::CheckViolation,
            Info(
                "new row violates check constraint",
                Some("categories_name_check"),
            ),
        );
        assert!(matches!(
            from_diesel(err),
            DomainError::InvalidInput(message) if !message.contains("categories_name_check")
        ));
    }

    #[test]
    fn lost_connections_are_unavailable_and_the_rest_internal() {
        let lost = database_error(
            DatabaseErrorKind::Unknown,
            Info("terminating connection due to administrator command", None),
        );
        assert!(matches!(from_diesel(lost), DomainError::Unavailable(_)));
        let other = database_error(DatabaseErrorKind::Unknown, Info("deadlock detected", None));
        assert!(matches!(from_diesel(other), DomainError::Internal(_)));
    }
}
