//! `unread.updated`: what personal sockets hear of their servers' channels they do not
//! follow. A new message only notes its channel's last `seq` under its server (one map entry,
//! whatever the crowd); every [`super::PRESENCE_TICK`] each server with news gets one frame,
//! the same for every member whose personal socket is here. So a busy server costs each of
//! them a frame per tick, not one per message, and a message costs no more for a crowd.

use super::{Frame, Hub};
use crate::gateway::protocol::{ChannelSeq, ServerFrame};
use hearth_domain::{ChannelId, ChatMessage, ServerId};
use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};

/// Each server's channels with news since the last tick, and their last `seq`.
pub(super) type News = HashMap<ServerId, HashMap<ChannelId, i64>>;

impl Hub {
    fn news(&self) -> MutexGuard<'_, News> {
        self.inner
            .news
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes a new message of a server's channel (here or from another instance).
    pub(super) fn note_news(&self, message: &ChatMessage) {
        let Some(server) = message.server_id else {
            return;
        };
        let mut news = self.news();
        let seq = news
            .entry(server)
            .or_default()
            .entry(message.channel_id)
            .or_insert(0);
        *seq = (*seq).max(message.seq);
    }

    /// Tells the personal sockets here of each server's news since the last tick.
    pub fn news_tick(&self) {
        let news = std::mem::take(&mut *self.news());
        for (server, channels) in news {
            let members = self.servers().get(&server).cloned().unwrap_or_default();
            if members.is_empty() {
                continue;
            }
            let mut channels: Vec<ChannelSeq> = channels
                .into_iter()
                .map(|(channel_id, last_seq)| ChannelSeq {
                    channel_id,
                    last_seq,
                })
                .collect();
            channels.sort_by_key(|c| c.channel_id);
            let frame = ServerFrame::UnreadUpdated {
                server_id: server,
                channels,
            };
            match serde_json::to_string(&frame) {
                Ok(text) => {
                    self.to_personal_sockets(&members, &Arc::new(Frame::plain(text.into())))
                }
                Err(e) => tracing::error!(error = %e, "cannot serialize unread.updated"),
            }
        }
    }
}
