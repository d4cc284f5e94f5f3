// The personal socket's part in the unread counts (keys.unread, see useUnread.ts):
// - `unread.updated` (the server's batched news of my servers' channels: it follows none of
//   them, so a busy server costs it a frame every 2 s, not one per message) and `chat.message`
//   of a followed conversation count what is new, `mention` one more mention (not in the chat
//   on screen: reading it acks it), `read.updated` (read on another client) moves the read
//   state;
// - what the list does not know (a channel just created, a server just joined) and every
//   (re)connect make it ask GET /api/me/unread/ again, once for a burst.
import type { QueryClient } from '@tanstack/react-query';
import type { IncomingFrame } from '../api/types';
import { countMention, countMessage, countNews, markRead, refreshUnread } from './useUnread';

/** How long a reason to ask the server again waits for others to share the request. */
export const UNREAD_REFRESH_MS = 1500;

export interface UnreadFeed {
  onFrame: (frame: IncomingFrame) => void;
  stop: () => void;
}

export function createUnreadFeed(
  queryClient: QueryClient,
  meId: number,
  /** The chat on screen (its channel id), whose messages are read, not counted. */
  viewed: () => number | null,
): UnreadFeed {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresh = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void refreshUnread(queryClient);
    }, UNREAD_REFRESH_MS);
  };
  return {
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    onFrame: (frame) => {
      switch (frame.type) {
        case 'chat.message': {
          const message = frame.new_message;
          if (message.channel_id === viewed()) break;
          if (!countMessage(queryClient, message, meId)) refresh();
          break;
        }
        case 'mention': {
          if (frame.message.channel_id === viewed()) break;
          if (!countMention(queryClient, frame.message, meId)) refresh();
          break;
        }
        case 'unread.updated':
          for (const channel of frame.channels) {
            if (channel.channel_id === viewed()) continue;
            if (!countNews(queryClient, channel.channel_id, channel.last_seq)) refresh();
          }
          break;
        case 'read.updated':
          if (!markRead(queryClient, frame.channel_id, frame.seq)) refresh();
          break;
        case 'ready':
        case 'resync':
          // What happened while away (or before this page loaded) is in the counts only.
          void refreshUnread(queryClient);
          break;
        case 'conversation.added':
        case 'channel.created':
        case 'channel.deleted':
        case 'server.deleted':
          refresh();
          break;
        case 'member.joined':
        case 'member.left':
          if (frame.user_id === meId) refresh();
          break;
        default:
          break;
      }
    },
  };
}
