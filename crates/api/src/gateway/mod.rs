//! Live delivery of events to connected clients.
//!
//! For now only the in-process hub exists; the WebSocket sessions and the Redis bridge plug
//! into it.

mod hub;

pub use hub::Hub;
