// Live conversation events applied to the query cache: the conversation (keys.conversation)
// and the list (keys.conversations). Both the personal socket (every subscribed conversation)
// and an open conversation's own socket push their frames through here; applying a frame twice
// changes nothing the second time.
import type { QueryClient } from '@tanstack/react-query';
import { keys } from '../api/queries';
import type { Conversation, IncomingFrame } from '../api/types';
import { messagesReducer, type MessagesAction, type MessagesState } from '../chat/messages';
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
      // The list's order and previews come from the server; a new message is a reason to ask
      // (a conversation it lacks, just opened by someone, comes with it). Only a shown list is
      // fetched again, and a burst of messages shares one request.
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

/**
 * The same frame into the conversation's message list, if the cache holds one (the reducer
 * merges by id and orders by seq, so the open conversation's own socket delivering it too is
 * harmless). Frames of other kinds are ignored.
 */
export function applyToMessages(queryClient: QueryClient, id: number, frame: IncomingFrame) {
  let action: MessagesAction | null = null;
  if (frame.type === 'chat.message' && frame.new_message.channel_id === id) action = { type: 'received', message: frame.new_message };
  else if (frame.type === 'message.updated' && frame.message.channel_id === id) action = { type: 'updated', message: frame.message };
  else if (frame.type === 'message.deleted' && frame.channel_id === id) action = { type: 'deleted', id: frame.id };
  if (!action) return;
  const next = action;
  queryClient.setQueryData<MessagesState>(keys.messages(id), (state) => (state ? messagesReducer(state, next) : state));
}
