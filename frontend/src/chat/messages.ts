// The message list of one channel: a pure reducer, so every way messages arrive (a history
// page, a live frame, a replay after a reconnect, the echo of our own message) merges the same
// way: one entry per id, in `seq` order, deletions and edits never undone by stale data.
// Reactions and pins are kept here too: history pages carry them, live message frames do not
// (a live copy keeps the reactions held), and their own frames change them.
import type { ChatMessage, IncomingFrame, Message, ReplyPreview } from '../api/types';
import { withReactionCount } from './reactions';
import { deletedPreview, previewOf } from './replies';

/** A message as we hold it: a live frame's shape, plus the reactions history pages carry. */
export type StoredMessage = ChatMessage & Pick<Message, 'reactions'>;

export interface PendingMessage {
  /** The de-duplication key sent with the message; kept across retries. */
  nonce: string;
  content: string;
  /** `sending` until the server echoes it back; `failed` when it was refused. */
  status: 'sending' | 'failed';
  error?: string;
  /** The message it answers (sent as `reply_to`), as the composer showed it. */
  reply?: ReplyPreview;
}

export interface MessagesState {
  /** Stored messages, ascending by `seq`, unique by `id`. */
  messages: StoredMessage[];
  /** Our messages that the server has not echoed yet, in the order they were written. */
  pending: PendingMessage[];
  /** Whether older history may exist before `messages[0]`. */
  hasOlder: boolean;
  /** Ids deleted while we watched, so a page fetched earlier cannot bring them back. */
  deleted: number[];
  /**
   * How many reaction frames were applied, per message and emoji (`reactionKey`): an answer to
   * my own reaction request is newer news than what we hold only if no frame about the same
   * emoji came in since the request was sent (see `reacted`).
   */
  reactionFrames?: Record<string, number>;
}

export const emptyMessages: MessagesState = { messages: [], pending: [], hasOlder: false, deleted: [] };

export type MessagesAction =
  /** A history page, oldest first. `older`: fetched with `before` (scrolling back). */
  | { type: 'page'; messages: StoredMessage[]; limit: number; older: boolean }
  | { type: 'received'; message: ChatMessage }
  | { type: 'updated'; message: ChatMessage }
  | { type: 'deleted'; id: number }
  | { type: 'queued'; nonce: string; content: string; reply?: ReplyPreview }
  /** `dropReply`: the message it answered is gone; a retry posts it as a plain message. */
  | { type: 'failed'; nonce: string; error: string; dropReply?: boolean }
  | { type: 'retrying'; nonce: string }
  | { type: 'discarded'; nonce: string }
  /** A reaction frame: the emoji's count now; `mine` when the change was my own (`added` says which). */
  | { type: 'reaction'; messageId: number; emoji: string; count: number; added: boolean; mine: boolean }
  /**
   * The answer to my own reaction request, sent when `reactionFramesOf` was `since`: its count
   * is taken only if no frame about that emoji came in meanwhile (a frame is as new, or
   * newer); `me` always.
   */
  | { type: 'reacted'; messageId: number; emoji: string; count: number; me: boolean; since: number }
  | { type: 'pinned'; message: ChatMessage }
  | { type: 'unpinned'; id: number };

function bySeq(a: ChatMessage, b: ChatMessage): number {
  return a.seq - b.seq || a.id - b.id;
}

function editedAt(message: ChatMessage): number {
  return message.edited_at ? Date.parse(message.edited_at) : 0;
}

/** The fresher of two copies of the same message (an edit wins over an older copy). */
function fresher<T extends ChatMessage>(current: T, incoming: T): T {
  return editedAt(incoming) >= editedAt(current) ? incoming : current;
}

/**
 * A live copy (`chat.message`, `message.updated`) carries no reactions: the ones held stay. Nor
 * is a new message's frame news of an unpin: a pin held stays (a page, or `message.unpinned`,
 * says otherwise).
 */
function live(current: StoredMessage, incoming: ChatMessage, kind: 'received' | 'updated'): StoredMessage {
  const merged: StoredMessage = { ...incoming };
  if (current.reactions) merged.reactions = current.reactions;
  if (kind === 'received' && current.pinned_at && !incoming.pinned_at) merged.pinned_at = current.pinned_at;
  return merged;
}

function merge(state: MessagesState, incoming: StoredMessage[], kind: 'page' | 'received' | 'updated' = 'page'): StoredMessage[] {
  const deleted = new Set(state.deleted);
  const byId = new Map(state.messages.map((m) => [m.id, m]));
  for (const message of incoming) {
    if (deleted.has(message.id)) continue;
    const current = byId.get(message.id);
    const copy = current && kind !== 'page' ? live(current, message, kind) : message;
    byId.set(message.id, current ? fresher(current, copy) : copy);
  }
  return [...byId.values()].sort(bySeq);
}

function reactionKey(messageId: number, emoji: string): string {
  return `${messageId} ${emoji}`;
}

/** How many frames about this message's emoji were applied: what a `reacted` action's `since` is. */
export function reactionFramesOf(state: MessagesState | undefined, messageId: number, emoji: string): number {
  return state?.reactionFrames?.[reactionKey(messageId, emoji)] ?? 0;
}

/** The same change to one held message (nothing if we do not hold it). */
function changeMessage(state: MessagesState, id: number, change: (m: StoredMessage) => StoredMessage): MessagesState {
  if (!state.messages.some((m) => m.id === id)) return state;
  return { ...state, messages: state.messages.map((m) => (m.id === id ? change(m) : m)) };
}

/** Replies we hold to `id` show `preview` of it instead. */
function withReplyPreviews(messages: StoredMessage[], id: number, preview: (reply: ReplyPreview) => ReplyPreview): StoredMessage[] {
  if (!messages.some((m) => m.reply?.id === id)) return messages;
  return messages.map((m) => (m.reply?.id === id ? { ...m, reply: preview(m.reply) } : m));
}

/** Drops pending entries the given stored messages acknowledge (same nonce). */
function acknowledge(pending: PendingMessage[], stored: ChatMessage[]): PendingMessage[] {
  const nonces = new Set(stored.map((m) => m.nonce).filter((n): n is string => Boolean(n)));
  return nonces.size === 0 ? pending : pending.filter((p) => !nonces.has(p.nonce));
}

function setPending(
  state: MessagesState,
  nonce: string,
  change: (p: PendingMessage) => PendingMessage,
): MessagesState {
  return { ...state, pending: state.pending.map((p) => (p.nonce === nonce ? change(p) : p)) };
}

export function messagesReducer(state: MessagesState, action: MessagesAction): MessagesState {
  switch (action.type) {
    case 'page': {
      const page = action.messages;
      let kept = state.messages;
      const first = page[0];
      const last = page[page.length - 1];
      if (first && last) {
        // A page lists every surviving message between its first and last seq: anything we
        // hold in that range that it lacks was deleted meanwhile.
        const ids = new Set(page.map((m) => m.id));
        kept = kept.filter((m) => m.seq < first.seq || m.seq > last.seq || ids.has(m.id));
      }
      const base = { ...state, messages: kept };
      const hasOlder = action.older || state.messages.length === 0 ? page.length >= action.limit : state.hasOlder;
      return {
        ...state,
        messages: merge(base, page),
        pending: acknowledge(state.pending, page),
        hasOlder,
      };
    }
    case 'received':
    case 'updated': {
      let messages = merge(state, [action.message], action.type);
      // An edit of an original: the replies we hold to it show its new words.
      if (action.type === 'updated') {
        const { message } = action;
        messages = withReplyPreviews(messages, message.id, (reply) => (reply.deleted ? reply : previewOf(message)));
      }
      return { ...state, messages, pending: acknowledge(state.pending, [action.message]) };
    }
    case 'deleted':
      return {
        ...state,
        messages: withReplyPreviews(
          state.messages.filter((m) => m.id !== action.id),
          action.id,
          deletedPreview,
        ),
        deleted: state.deleted.includes(action.id) ? state.deleted : [...state.deleted, action.id],
        // A reply being written to it can no longer be sent as one.
        pending: state.pending.map((p) =>
          p.reply?.id === action.id && !p.reply.deleted ? { ...p, reply: deletedPreview(p.reply) } : p,
        ),
      };
    case 'queued':
      if (state.pending.some((p) => p.nonce === action.nonce)) return state;
      return {
        ...state,
        pending: [
          ...state.pending,
          { nonce: action.nonce, content: action.content, status: 'sending', ...(action.reply ? { reply: action.reply } : {}) },
        ],
      };
    case 'failed':
      return setPending(state, action.nonce, ({ reply, ...p }) => ({
        ...p,
        ...(reply && !action.dropReply ? { reply } : {}),
        status: 'failed',
        error: action.error,
      }));
    case 'retrying':
      return setPending(state, action.nonce, (p) => ({
        nonce: p.nonce,
        content: p.content,
        status: 'sending',
        ...(p.reply ? { reply: p.reply } : {}),
      }));
    case 'discarded':
      return { ...state, pending: state.pending.filter((p) => p.nonce !== action.nonce) };
    case 'reaction': {
      const key = reactionKey(action.messageId, action.emoji);
      const frames = { ...state.reactionFrames, [key]: reactionFramesOf(state, action.messageId, action.emoji) + 1 };
      const change = { emoji: action.emoji, count: action.count, ...(action.mine ? { me: action.added } : {}) };
      return {
        ...changeMessage(state, action.messageId, (m) => ({ ...m, reactions: withReactionCount(m.reactions, change) })),
        reactionFrames: frames,
      };
    }
    case 'reacted': {
      // A frame since the request is as new as this answer or newer: only `me` is news then.
      const stale = reactionFramesOf(state, action.messageId, action.emoji) !== action.since;
      return changeMessage(state, action.messageId, (m) => {
        const held = m.reactions?.find((r) => r.emoji === action.emoji)?.count ?? 0;
        const count = stale ? held : action.count;
        return { ...m, reactions: withReactionCount(m.reactions, { emoji: action.emoji, count, me: action.me }) };
      });
    }
    case 'pinned': {
      const pinnedAt = action.message.pinned_at ?? new Date().toISOString();
      return changeMessage(state, action.message.id, (m) => ({ ...m, pinned_at: pinnedAt }));
    }
    case 'unpinned':
      return changeMessage(state, action.id, ({ pinned_at: _, ...m }) => m);
  }
}

/** The channel a live frame about messages is of, or null for frames of other kinds. */
export function frameChannelId(frame: IncomingFrame): number | null {
  switch (frame.type) {
    case 'chat.message':
      return frame.new_message.channel_id;
    case 'message.updated':
    case 'message.pinned':
      return frame.message.channel_id;
    case 'message.deleted':
    case 'message.unpinned':
    case 'reaction.added':
    case 'reaction.removed':
      return frame.channel_id;
    default:
      return null;
  }
}

/** The reducer's action for a live frame about messages (`meId`: the reader), or null. */
export function frameAction(frame: IncomingFrame, meId: number): MessagesAction | null {
  switch (frame.type) {
    case 'chat.message':
      return { type: 'received', message: frame.new_message };
    case 'message.updated':
      return { type: 'updated', message: frame.message };
    case 'message.deleted':
      return { type: 'deleted', id: frame.id };
    case 'reaction.added':
    case 'reaction.removed':
      return {
        type: 'reaction',
        messageId: frame.message_id,
        emoji: frame.emoji,
        count: frame.count,
        added: frame.type === 'reaction.added',
        mine: frame.user_id === meId,
      };
    case 'message.pinned':
      return { type: 'pinned', message: frame.message };
    case 'message.unpinned':
      return { type: 'unpinned', id: frame.id };
    default:
      return null;
  }
}

/** A held message by id. */
export function findMessage(state: MessagesState | undefined, id: number): StoredMessage | undefined {
  return state?.messages.find((m) => m.id === id);
}

/** The highest `seq` held: what to resume a socket from. */
export function lastSeq(state: MessagesState | undefined): number {
  const last = state?.messages[state.messages.length - 1];
  return last ? last.seq : 0;
}

/** A fresh de-duplication key for a message. */
export function newNonce(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
