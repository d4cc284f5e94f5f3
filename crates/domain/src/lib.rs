//! What Hearth *is*, free of I/O: identifiers, the records the product talks about, the rules that
//! govern them, the events pushed to live clients and the errors a use case can end in.
//!
//! Nothing here knows about HTTP, SQL or an async runtime; `hearth-db` and `hearth-api` depend on
//! this crate, never the other way round.

pub mod error;
pub mod events;
pub mod ids;
pub mod model;
pub mod rules;
pub mod search;

pub use error::DomainError;
pub use events::{
    Audience, ChannelView, ChatMessage, Event, Reaction, ReplyPreview, ServerView, UserRef,
};
pub use ids::{CategoryId, ChannelId, MessageId, ServerId, UserId};
