// The personal socket's part in the unread counts (keys.unread, see useUnread.ts):
// - it follows my servers' channels too (after my conversations, within the socket's 200), from
//   the list's `last_seq`, so a message in a channel I am not looking at counts at once;
// - `chat.message` of a followed chat counts one more unread, `mention` one more mention (not in
//   the chat on screen: reading it acks it), `read.updated` (read on another client) moves the
//   read state;
// - what the list does not know (a channel just created, a server just joined) and every
//   (re)connect make it ask GET /api/me/unread/ again, once for a burst.
import type { QueryClient } from '@tanstack/react-query';
import { keys } from '../api/queries';
import type { IncomingFrame } from '../api/types';
import { lastSeq, type MessagesState } from './messages';
import type { SubscribeTo } from './personal';
import { serverChannels, unreadOf, type UnreadList } from './unread';
import { countMention, countMessage, markRead, refreshUnread } from './useUnread';

/** How long a reason to ask the server again waits for others to share the request. */
export const UNREAD_REFRESH_MS = 1500;

export interface UnreadFeed {
  /** My servers' channels to follow, with the highest seq known for each. */
  wanted: () => SubscribeTo[];
  /** Whether the channel is a server's (as opposed to a conversation), as far as the list knows. */
  isServerChannel: (channelId: number) => boolean;
  onFrame: (frame: IncomingFrame) => void;
  /** Ask the server again soon (debounced). */
  refresh: () => void;
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
  const list = () => queryClient.getQueryData<UnreadList>(keys.unread);

  return {
    wanted: () =>
      serverChannels(list()).map((entry) => {
        const messages = queryClient.getQueryData<MessagesState>(keys.messages(entry.channel_id));
        const after = Math.max(entry.last_seq, messages ? lastSeq(messages) : 0);
        return after > 0 ? { id: entry.channel_id, after } : { id: entry.channel_id };
      }),
    isServerChannel: (channelId) => {
      const serverId = unreadOf(list(), channelId)?.server_id;
      return serverId !== null && serverId !== undefined;
    },
    refresh,
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
