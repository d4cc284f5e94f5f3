// Live conversation events applied to the query cache: the conversation (keys.conversation)
// and the list (keys.conversations). A conversation's own socket calls this today; the
// personal socket, once the backend has one, will push its frames through the same function.
import type { QueryClient } from '@tanstack/react-query';
import { keys } from '../api/queries';
import type { Conversation, IncomingFrame } from '../api/types';
import {
  removeConversation,
  showsMessage,
  updateConversation,
  withEdit,
  withMessage,
  withoutParticipant,
  withParticipant,
} from './cache';

/**
 * Refetches the list (GET /api/dms/) without cancelling a fetch in flight: messages arriving in
 * a burst share one request, and `mergeFetched` keeps what a frame brought meanwhile.
 */
export function refreshConversations(queryClient: QueryClient) {
  return queryClient.invalidateQueries({ queryKey: keys.conversations }, { cancelRefetch: false });
}

/** The same change to the conversation and to its entry in the list. */
function change(queryClient: QueryClient, id: number, update: (c: Conversation) => Conversation) {
  queryClient.setQueryData<Conversation>(keys.conversation(id), (c) => (c ? update(c) : c));
  queryClient.setQueryData<Conversation[]>(keys.conversations, (all) => updateConversation(all, id, update));
}

export interface Applied {
  /** The viewer is no longer in this conversation. */
  left: boolean;
}

/** Applies one frame about conversation `id` (frames of other kinds are ignored). */
export function applyConversationFrame(queryClient: QueryClient, id: number, frame: IncomingFrame, meId: number): Applied {
  switch (frame.type) {
    case 'chat.message': {
      if (frame.new_message.channel_id !== id) break;
      const message = frame.new_message;
      change(queryClient, id, (c) => withMessage(c, message));
      // The list's order and previews come from the server; a new message is a reason to ask.
      void refreshConversations(queryClient);
      break;
    }
    case 'message.updated':
      if (frame.message.channel_id !== id) break;
      change(queryClient, id, (c) => withEdit(c, frame.message));
      break;
    case 'message.deleted': {
      if (frame.channel_id !== id) break;
      const list = queryClient.getQueryData<Conversation[]>(keys.conversations);
      const one = queryClient.getQueryData<Conversation>(keys.conversation(id));
      // The preview showed it; only the server knows what the last message is now.
      if (showsMessage(one, frame.id)) void queryClient.invalidateQueries({ queryKey: keys.conversation(id) });
      if (showsMessage(list?.find((c) => c.id === id), frame.id)) void refreshConversations(queryClient);
      break;
    }
    case 'conversation.participant_added':
      if (frame.channel_id !== id) break;
      change(queryClient, id, (c) => withParticipant(c, frame.user));
      break;
    case 'conversation.participant_left':
      if (frame.channel_id !== id) break;
      if (frame.user_id === meId) {
        forgetConversation(queryClient, id);
        return { left: true };
      }
      change(queryClient, id, (c) => withoutParticipant(c, frame.user_id));
      break;
    default:
      break;
  }
  return { left: false };
}

/** We are out of a conversation (we left it, or it is gone): drop it from the cache. */
export function forgetConversation(queryClient: QueryClient, id: number) {
  queryClient.setQueryData<Conversation[]>(keys.conversations, (all) => (all ? removeConversation(all, id) : all));
  queryClient.removeQueries({ queryKey: keys.conversation(id), exact: true });
  queryClient.removeQueries({ queryKey: keys.messages(id), exact: true });
}
