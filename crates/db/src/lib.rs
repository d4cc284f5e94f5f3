//! PostgreSQL persistence for Hearth, with diesel-async over a deadpool pool.
//!
//! Every query returns domain types; row structs stay private to this crate, and database
//! errors become [`DomainError`]s here, so callers never see diesel.

mod error;
mod pool;
mod schema;

pub mod categories;
pub mod channels;
pub mod conversations;
pub mod images;
pub mod members;
pub mod messages;
pub mod migrate;
pub mod read_states;
pub mod servers;
pub mod user_events;
pub mod users;

pub use hearth_domain::DomainError;
pub use pool::{Db, PoolSettings, PoolStatus};

/// The result of every query in this crate.
pub type DbResult<T> = Result<T, DomainError>;
