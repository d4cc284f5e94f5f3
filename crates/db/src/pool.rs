//! The connection pool.

use crate::error::unavailable;
use crate::DbResult;
use deadpool::Runtime;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use hearth_domain::DomainError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
    /// Connections taken from the pool for good and shared by short reads (see
    /// [`Db::pipelined`]): one per worker thread, up to [`SHARED`] (further threads share).
    shared: Arc<[Mutex<Option<AsyncPgConnection>>; SHARED]>,
    /// How long a pipelined read may take before it fails with [`DomainError::Unavailable`].
    timeout: Duration,
}

/// Connections shared by pipelined reads.
const SHARED: usize = 4;

static NEXT_SHARED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's shared connection: with up to [`SHARED`] worker threads each uses its
    /// own, so a connection's task and the requests that use it run on the same thread.
    static SHARED_SLOT: usize = NEXT_SHARED.fetch_add(1, Ordering::Relaxed) % SHARED;
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

/// A moment's state of the pool (the shared connections of pipelined reads not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub size: usize,
    pub in_use: usize,
    pub waiting: usize,
}

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
            shared: Arc::new(std::array::from_fn(|_| Mutex::new(None))),
            timeout: settings.timeout,
        })
    }

    /// The pool's connections, how many are lent out, and how many requests wait for one.
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            size: status.size,
            in_use: status.size.saturating_sub(status.available),
            waiting: status.waiting,
        }
    }

    /// The URL the pool connects to (for migrations, which need a connection of their own).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) async fn conn(&self) -> DbResult<Conn> {
        self.pool.get().await.map_err(unavailable)
    }

    /// Runs a short single-statement read on this thread's shared connection. Queries of
    /// concurrent requests go out on it back to back and PostgreSQL answers them in order
    /// (pipelining), so a busy server makes one round trip, one read and one backend wake-up
    /// for many requests instead of one each. `start` only builds the query's future; nothing
    /// of the connection is borrowed while it runs.
    ///
    /// Only for reads that take microseconds and fail only when their connection does: a slow
    /// one would hold up the others behind it. A connection whose read fails, or does not
    /// answer within the pool's timeout, is closed once the reads on it are done, and the next
    /// read takes a fresh one.
    pub(crate) async fn pipelined<T>(
        &self,
        start: impl FnOnce(&mut AsyncPgConnection) -> BoxFuture<'static, diesel::QueryResult<T>>,
    ) -> DbResult<T> {
        let slot = &self.shared[SHARED_SLOT.with(|slot| *slot)];
        let lock = || slot.lock().unwrap_or_else(PoisonError::into_inner);
        // A pooled connection must not go back to the pool while a query on it runs (the
        // pool's check would find its state shared), so a connection this read took but could
        // not share lives until the query is done.
        let mut spare = None;
        // The guard is a temporary of this statement: released before anything awaits.
        let started = start_shared(&mut lock(), start);
        let query = match started {
            Ok(query) => query,
            Err(start) => {
                let mut conn = self.conn().await?;
                let query = start(&mut conn);
                let mut shared = lock();
                if shared.is_none() {
                    // Out of the pool for good: a shared connection is never checked in again.
                    *shared = Some(Object::take(conn));
                } else {
                    spare = Some(conn);
                }
                query
            }
        };
        // A read stuck behind a lock or a frozen server fails as fast as a request that cannot
        // get a pooled connection, and the connection it is stuck on is not handed to the
        // reads that come next.
        let answer = match tokio::time::timeout(self.timeout, query).await {
            Ok(answer) => answer.map_err(crate::error::from_diesel),
            Err(_) => Err(DomainError::Unavailable(
                "the database did not answer in time".to_owned(),
            )),
        };
        if spare.is_none() && answer.is_err() {
            // A shared read fails only when its connection does (the reads are single-row
            // lookups by key), and a connection in a state we do not recognise must not keep
            // answering every later read with the same error. Closed once the reads still on
            // it are done; the next read opens another.
            lock().take();
        }
        drop(spare);
        answer
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

/// Starts a read on the shared connection, or hands `start` back when there is none yet.
fn start_shared<F, Q>(shared: &mut Option<AsyncPgConnection>, start: F) -> Result<Q, F>
where
    F: FnOnce(&mut AsyncPgConnection) -> Q,
{
    match shared.as_mut() {
        Some(conn) => Ok(start(conn)),
        None => Err(start),
    }
}
