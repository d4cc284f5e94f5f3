// The message list of one channel: a pure reducer, so every way messages arrive (a history
// page, a live frame, a replay after a reconnect, the echo of our own message) merges the same
// way: one entry per id, in `seq` order, deletions and edits never undone by stale data.
import type { ChatMessage } from '../api/types';

export interface PendingMessage {
  /** The de-duplication key sent with the message; kept across retries. */
  nonce: string;
  content: string;
  /** `sending` until the server echoes it back; `failed` when it was refused. */
  status: 'sending' | 'failed';
  error?: string;
}

export interface MessagesState {
  /** Stored messages, ascending by `seq`, unique by `id`. */
  messages: ChatMessage[];
  /** Our messages that the server has not echoed yet, in the order they were written. */
  pending: PendingMessage[];
  /** Whether older history may exist before `messages[0]`. */
  hasOlder: boolean;
  /** Ids deleted while we watched, so a page fetched earlier cannot bring them back. */
  deleted: number[];
}

export const emptyMessages: MessagesState = { messages: [], pending: [], hasOlder: false, deleted: [] };

export type MessagesAction =
  /** A history page, oldest first. `older`: fetched with `before` (scrolling back). */
  | { type: 'page'; messages: ChatMessage[]; limit: number; older: boolean }
  | { type: 'received'; message: ChatMessage }
  | { type: 'updated'; message: ChatMessage }
  | { type: 'deleted'; id: number }
  | { type: 'queued'; nonce: string; content: string }
  | { type: 'failed'; nonce: string; error: string }
  | { type: 'retrying'; nonce: string }
  | { type: 'discarded'; nonce: string };

function bySeq(a: ChatMessage, b: ChatMessage): number {
  return a.seq - b.seq || a.id - b.id;
}

function editedAt(message: ChatMessage): number {
  return message.edited_at ? Date.parse(message.edited_at) : 0;
}

/** The fresher of two copies of the same message (an edit wins over an older copy). */
function fresher(current: ChatMessage, incoming: ChatMessage): ChatMessage {
  return editedAt(incoming) >= editedAt(current) ? incoming : current;
}

function merge(state: MessagesState, incoming: ChatMessage[]): ChatMessage[] {
  const deleted = new Set(state.deleted);
  const byId = new Map(state.messages.map((m) => [m.id, m]));
  for (const message of incoming) {
    if (deleted.has(message.id)) continue;
    const current = byId.get(message.id);
    byId.set(message.id, current ? fresher(current, message) : message);
  }
  return [...byId.values()].sort(bySeq);
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
    case 'updated':
      return {
        ...state,
        messages: merge(state, [action.message]),
        pending: acknowledge(state.pending, [action.message]),
      };
    case 'deleted':
      return {
        ...state,
        messages: state.messages.filter((m) => m.id !== action.id),
        deleted: state.deleted.includes(action.id) ? state.deleted : [...state.deleted, action.id],
      };
    case 'queued':
      if (state.pending.some((p) => p.nonce === action.nonce)) return state;
      return {
        ...state,
        pending: [...state.pending, { nonce: action.nonce, content: action.content, status: 'sending' }],
      };
    case 'failed':
      return setPending(state, action.nonce, (p) => ({ ...p, status: 'failed', error: action.error }));
    case 'retrying':
      return setPending(state, action.nonce, (p) => ({ nonce: p.nonce, content: p.content, status: 'sending' }));
    case 'discarded':
      return { ...state, pending: state.pending.filter((p) => p.nonce !== action.nonce) };
  }
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
