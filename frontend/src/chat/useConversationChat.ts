// A conversation's chat (a direct message or a group): the engine (useChat) on the
// conversation's socket and history; what the socket says about the conversation itself (its
// last message, its participants) goes to the cache through dms/live.ts.
import { useQueryClient } from '@tanstack/react-query';
import type { CurrentUser, IncomingFrame } from '../api/types';
import { applyConversationFrame } from '../dms/live';
import type { SocketFactory } from './socket';
import { useConversationSource } from './sources';
import { useChat, type Chat } from './useChat';

export interface ConversationChatOptions {
  conversationId: number;
  me: CurrentUser;
  /** Connect only once the first history page is in (so the resume point is known). */
  enabled: boolean;
  /** The conversation is gone, or we are no longer in it (4004, or our own `participant_left`). */
  onGone: () => void;
  createSocket?: SocketFactory;
}

export function useConversationChat({ conversationId, me, enabled, onGone, createSocket }: ConversationChatOptions): Chat {
  const queryClient = useQueryClient();
  const source = useConversationSource(conversationId);
  const onFrame = (frame: IncomingFrame) => {
    if (applyConversationFrame(queryClient, conversationId, frame, me.user_id).left) onGone();
  };
  return useChat({ source, me, enabled, onFrame, onGone, createSocket });
}
