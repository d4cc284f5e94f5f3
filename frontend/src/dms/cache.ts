// The conversation list and its entries, changed by pure functions: a refetch of
// GET /api/dms/, a live frame on a conversation's socket or on the personal
// socket all go through these, so they agree on order and never step back in time.
import type { ChatMessage, Conversation, Message, UserRef } from '../api/types';

/** Most recently active first, as GET /api/dms/ orders them; ties: the newer conversation first. */
export function sortConversations(list: readonly Conversation[]): Conversation[] {
  return [...list].sort((a, b) => Date.parse(b.active_at) - Date.parse(a.active_at) || b.id - a.id);
}

export function upsertConversation(list: readonly Conversation[] | undefined, conversation: Conversation): Conversation[] {
  return sortConversations([...(list ?? []).filter((c) => c.id !== conversation.id), conversation]);
}

export function removeConversation(list: readonly Conversation[] | undefined, id: number): Conversation[] {
  return (list ?? []).filter((c) => c.id !== id);
}

/** Replaces one entry (by id) with `change(entry)`, keeping the order right. */
export function updateConversation(
  list: Conversation[] | undefined,
  id: number,
  change: (conversation: Conversation) => Conversation,
): Conversation[] | undefined {
  if (!list?.some((c) => c.id === id)) return list;
  return sortConversations(list.map((c) => (c.id === id ? change(c) : c)));
}

function asMessage(message: ChatMessage): Message {
  const { nonce, edited_at, ...rest } = message;
  return { ...rest, ...(nonce ? { nonce } : {}), ...(edited_at ? { edited_at } : {}) };
}

function later(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** A message was posted: it is the conversation's last one now (unless it is older than that). */
export function withMessage(conversation: Conversation, message: ChatMessage): Conversation {
  if (message.seq < conversation.last_seq) return conversation;
  return {
    ...conversation,
    last_message: asMessage(message),
    last_seq: message.seq,
    active_at: later(conversation.active_at, message.timestamp),
  };
}

/** A message was edited: the preview follows if it is the last one. */
export function withEdit(conversation: Conversation, message: ChatMessage): Conversation {
  if (conversation.last_message?.id !== message.id) return conversation;
  return { ...conversation, last_message: asMessage(message) };
}

/** Whether the conversation's preview shows this message (so deleting it changes the preview). */
export function showsMessage(conversation: Conversation | undefined, messageId: number): boolean {
  return conversation?.last_message?.id === messageId;
}

export function withParticipant(conversation: Conversation, user: UserRef): Conversation {
  if (conversation.participants.some((p) => p.id === user.id)) return conversation;
  return { ...conversation, participants: [...conversation.participants, user] };
}

export function withoutParticipant(conversation: Conversation, userId: number): Conversation {
  return { ...conversation, participants: conversation.participants.filter((p) => p.id !== userId) };
}

/**
 * A freshly fetched list, merged with the cached one: an entry whose cached copy is newer (a
 * live frame arrived while the request was in flight) keeps its newer last message.
 */
export function mergeFetched(cached: readonly Conversation[] | undefined, fetched: readonly Conversation[]): Conversation[] {
  const known = new Map((cached ?? []).map((c) => [c.id, c]));
  return sortConversations(
    fetched.map((c) => {
      const mine = known.get(c.id);
      return mine && mine.last_seq > c.last_seq
        ? { ...c, last_message: mine.last_message ?? null, last_seq: mine.last_seq, active_at: later(c.active_at, mine.active_at) }
        : c;
    }),
  );
}

/** The other person of a 1:1 conversation. */
export function otherParticipant(conversation: Conversation, meId: number): UserRef | undefined {
  return conversation.participants.find((p) => p.id !== meId);
}

/** What to call a conversation: the group's name, or the other person's. */
export function conversationTitle(conversation: Conversation, meId: number): string {
  if (conversation.kind === 'group') {
    return (
      conversation.name ||
      conversation.participants
        .filter((p) => p.id !== meId)
        .map((p) => p.username)
        .join(', ')
    );
  }
  return otherParticipant(conversation, meId)?.username ?? 'Direct message';
}

/** The list's one-line preview of the last message. */
export function previewText(conversation: Conversation, meId: number): string {
  const last = conversation.last_message;
  if (!last) return 'No messages yet';
  const content = last.content.replace(/\s+/g, ' ');
  if (last.sender_id === meId) return `You: ${content}`;
  return conversation.kind === 'group' ? `${last.sender}: ${content}` : content;
}
