//! The in-process hub: every event published after a commit reaches every local subscriber.

use hearth_domain::Event;
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it misses some (and is told so by
/// `broadcast::error::RecvError::Lagged`).
const CAPACITY: usize = 1024;

/// Fans events out to local subscribers. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self { sender }
    }

    /// Delivers `event` to every current subscriber; with none, the event is simply not needed.
    pub fn publish(&self, event: Event) {
        tracing::debug!(?event, "publishing event");
        // An error only means there is no subscriber right now.
        let _ = self.sender.send(Arc::new(event));
    }

    /// A stream of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_domain::{ServerId, UserId};

    #[tokio::test]
    async fn subscribers_receive_published_events_in_order() {
        let hub = Hub::new();
        let mut events = hub.subscribe();
        for user in 1..=3 {
            hub.publish(Event::MemberJoined {
                server_id: ServerId(1),
                user_id: UserId(user),
            });
        }
        for user in 1..=3 {
            let event = events.recv().await.map(|e| (*e).clone());
            assert!(
                matches!(event, Ok(Event::MemberJoined { user_id, .. }) if user_id == UserId(user))
            );
        }
    }
}
