//! Schema migrations, embedded in the binary and applied at start-up.

use crate::{Db, DbResult};
use diesel::{Connection, RunQueryDsl};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use hearth_domain::DomainError;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Serialises migrations across instances starting at the same time (any fixed number works;
/// this one spells "hearth").
const MIGRATION_LOCK: i64 = 0x6865_6172_7468;

/// Applies every pending migration and returns the versions applied.
///
/// Safe to call from several instances at once: they take turns on an advisory lock.
#[tracing::instrument(skip_all)]
pub async fn run_pending(db: &Db) -> DbResult<Vec<String>> {
    let url = db.url().to_owned();
    let applied = tokio::task::spawn_blocking(move || -> DbResult<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| DomainError::Unavailable(format!("cannot connect to migrate: {e}")))?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)
            .map_err(crate::error::from_diesel)?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| DomainError::Internal(format!("migration failed: {e}")));
        // The lock is released when the connection closes, also on error.
        result
    })
    .await
    .map_err(|e| DomainError::Internal(format!("migration task failed: {e}")))??;
    for version in &applied {
        tracing::info!(%version, "applied migration");
    }
    Ok(applied)
}
