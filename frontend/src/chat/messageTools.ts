// What a message of an open chat offers beyond its author's Edit and Delete: Reply, reactions,
// Pin, and jumping to another message of the chat. ChatPane provides them; a message shown
// anywhere else (or in a test of its own) has none of them.
import { createContext, useContext } from 'react';
import type { ChatMessage } from '../api/types';

export interface MessageTools {
  /** Whether I may write here: Reply and reactions (not for a server's visitors, nor where I blocked them). */
  canPost: boolean;
  /** Whether I may pin or unpin this message (its author, the server's owner; anyone in a conversation). */
  canPin: (message: ChatMessage) => boolean;
  /** Makes this message the one the composer answers. */
  reply: (message: ChatMessage) => void;
  /** Scrolls to (and briefly highlights) a message of this chat, loading older pages if needed. */
  jumpTo: (id: number) => void;
  /** The message a jump just landed on. */
  highlighted: number | null;
}

export const MessageToolsContext = createContext<MessageTools | null>(null);

export function useMessageTools(): MessageTools | null {
  return useContext(MessageToolsContext);
}

/** The DOM id of a message's element, for jumps. */
export function messageElementId(id: number): string {
  return `message-${id}`;
}
