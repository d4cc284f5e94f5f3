//! Events pushed to live clients. Serialized with a `type` tag, one variant per event; later
//! features add variants here.

use crate::ids::{ServerId, UserId};
use serde::Serialize;

/// Something that happened, to deliver to the sockets that care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A user joined a server.
    #[serde(rename = "member.joined")]
    MemberJoined {
        server_id: ServerId,
        user_id: UserId,
    },
    /// A user left (or was removed from) a server.
    #[serde(rename = "member.left")]
    MemberLeft {
        server_id: ServerId,
        user_id: UserId,
    },
}

impl Event {
    /// The server whose sockets should receive this event.
    pub fn server_id(&self) -> ServerId {
        match self {
            Event::MemberJoined { server_id, .. } | Event::MemberLeft { server_id, .. } => {
                *server_id
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_with_their_type() {
        let event = Event::MemberJoined {
            server_id: ServerId(3),
            user_id: UserId(7),
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"type": "member.joined", "server_id": 3, "user_id": 7})
        );
        assert_eq!(event.server_id(), ServerId(3));
    }
}
