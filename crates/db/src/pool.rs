//! The connection pool.

use crate::error::unavailable;
use crate::DbResult;
use deadpool::Runtime;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hearth_domain::DomainError;
use std::time::Duration;

/// How the pool is sized and how long a request waits for a connection.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: usize,
    /// How long a request may wait for a free connection (or a new one) before it fails fast
    /// with [`DomainError::Unavailable`].
    pub timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 16,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A handle to the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
    url: String,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never print it.
        f.debug_struct("Db")
            .field("status", &self.pool.status())
            .finish_non_exhaustive()
    }
}

pub(crate) type Conn = Object<AsyncPgConnection>;

impl Db {
    /// Builds the pool. No connection is opened until one is needed.
    pub fn connect(url: &str, settings: &PoolSettings) -> DbResult<Self> {
        // `Verified` recycling would run `SELECT 1` before every checkout: a round trip per
        // request. `Fast` only refuses connections known to be broken; one that died since its
        // last use fails its first query (a 503) and is discarded, so the pool still heals by
        // itself after a database restart (tests/api/faults.rs).
        let mut config = ManagerConfig::default();
        config.recycling_method = RecyclingMethod::Fast;
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(settings.max_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.timeout))
            .create_timeout(Some(settings.timeout))
            .recycle_timeout(Some(settings.timeout))
            .build()
            .map_err(|e| DomainError::Internal(format!("cannot build the database pool: {e}")))?;
        Ok(Self {
            pool,
            url: url.to_owned(),
        })
    }

    /// The URL the pool connects to (for migrations, which need a connection of their own).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) async fn conn(&self) -> DbResult<Conn> {
        self.pool.get().await.map_err(unavailable)
    }

    /// Checks that the database answers (for readiness probes).
    #[tracing::instrument(skip_all)]
    pub async fn ping(&self) -> DbResult<()> {
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(crate::error::from_diesel)?;
        Ok(())
    }
}
