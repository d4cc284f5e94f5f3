import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../api/types';
import {
  emptyMessages,
  frameAction,
  frameChannelId,
  lastSeq,
  messagesReducer,
  reactionFramesOf,
  type MessagesAction,
  type MessagesState,
  type StoredMessage,
} from './messages';

function msg(seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: 100 + seq,
    channel_id: 7,
    sender: 'alice',
    sender_id: 1,
    content: `message ${seq}`,
    timestamp: `2025-01-01T00:00:${String(seq).padStart(2, '0')}Z`,
    seq,
    ...extra,
  };
}

function run(...actions: MessagesAction[]): MessagesState {
  return actions.reduce(messagesReducer, emptyMessages);
}

function from(state: MessagesState, ...actions: MessagesAction[]): MessagesState {
  return actions.reduce(messagesReducer, state);
}

const seqs = (state: MessagesState) => state.messages.map((m) => m.seq);

describe('messagesReducer', () => {
  it('keeps one entry per id however often a message arrives (history, live, replay)', () => {
    const state = run(
      { type: 'page', messages: [msg(1), msg(2), msg(3)], limit: 50, older: false },
      { type: 'received', message: msg(3) },
      { type: 'received', message: msg(4) },
      { type: 'received', message: msg(4) },
      { type: 'page', messages: [msg(2), msg(3), msg(4)], limit: 50, older: false },
    );
    expect(seqs(state)).toEqual([1, 2, 3, 4]);
  });

  it('orders by seq whatever the arrival order', () => {
    const state = run(
      { type: 'received', message: msg(5) },
      { type: 'received', message: msg(3) },
      { type: 'received', message: msg(4) },
      { type: 'page', messages: [msg(1), msg(2)], limit: 2, older: true },
    );
    expect(seqs(state)).toEqual([1, 2, 3, 4, 5]);
    expect(lastSeq(state)).toBe(5);
  });

  it('prepends older pages and knows when the beginning is reached', () => {
    let state = run({ type: 'page', messages: [msg(51), msg(52)], limit: 2, older: false });
    expect(state.hasOlder).toBe(true);
    state = messagesReducer(state, { type: 'page', messages: [msg(49), msg(50)], limit: 2, older: true });
    expect(seqs(state)).toEqual([49, 50, 51, 52]);
    expect(state.hasOlder).toBe(true);
    state = messagesReducer(state, { type: 'page', messages: [msg(48)], limit: 2, older: true });
    expect(seqs(state)).toEqual([48, 49, 50, 51, 52]);
    expect(state.hasOlder).toBe(false);
  });

  it('replaces a pending message by its echo, matched by nonce', () => {
    let state = run(
      { type: 'queued', nonce: 'n-1', content: 'hello' },
      { type: 'queued', nonce: 'n-2', content: 'again' },
    );
    expect(state.pending.map((p) => p.status)).toEqual(['sending', 'sending']);
    state = messagesReducer(state, { type: 'received', message: msg(1, { content: 'hello', nonce: 'n-1' }) });
    expect(state.pending.map((p) => p.nonce)).toEqual(['n-2']);
    expect(state.messages.map((m) => m.content)).toEqual(['hello']);
    // A replay after a reconnect acknowledges it too.
    state = messagesReducer(state, { type: 'page', messages: [msg(1), msg(2, { nonce: 'n-2' })], limit: 50, older: false });
    expect(state.pending).toEqual([]);
  });

  it('queues a nonce once, and fails, retries and discards it', () => {
    let state = run(
      { type: 'queued', nonce: 'n', content: 'x' },
      { type: 'queued', nonce: 'n', content: 'x' },
      { type: 'failed', nonce: 'n', error: 'Join first' },
    );
    expect(state.pending).toEqual([{ nonce: 'n', content: 'x', status: 'failed', error: 'Join first' }]);
    state = messagesReducer(state, { type: 'retrying', nonce: 'n' });
    expect(state.pending).toEqual([{ nonce: 'n', content: 'x', status: 'sending' }]);
    state = messagesReducer(state, { type: 'discarded', nonce: 'n' });
    expect(state.pending).toEqual([]);
  });

  it('applies edits, and an older copy does not undo them', () => {
    const edited = msg(2, { content: 'edited', edited_at: '2025-01-01T01:00:00Z' });
    let state = run(
      { type: 'page', messages: [msg(1), msg(2)], limit: 50, older: false },
      { type: 'updated', message: edited },
    );
    expect(state.messages[1]?.content).toBe('edited');
    // A page fetched before the edit lands afterwards.
    state = messagesReducer(state, { type: 'page', messages: [msg(1), msg(2)], limit: 50, older: false });
    expect(state.messages[1]?.content).toBe('edited');
  });

  it('removes deleted messages for good', () => {
    let state = run(
      { type: 'page', messages: [msg(1), msg(2), msg(3)], limit: 50, older: false },
      { type: 'deleted', id: msg(2).id },
    );
    expect(seqs(state)).toEqual([1, 3]);
    // Neither a stale page nor a late replay brings it back.
    state = messagesReducer(state, { type: 'page', messages: [msg(1), msg(2), msg(3)], limit: 50, older: false });
    state = messagesReducer(state, { type: 'received', message: msg(2) });
    expect(seqs(state)).toEqual([1, 3]);
  });

  it('learns of deletions it missed from a fresh page covering their range', () => {
    let state = run({ type: 'page', messages: [msg(1), msg(2), msg(3)], limit: 50, older: false });
    state = messagesReducer(state, { type: 'received', message: msg(4) });
    // Message 2 was deleted while we were offline; the newest page no longer lists it.
    state = messagesReducer(state, { type: 'page', messages: [msg(1), msg(3)], limit: 50, older: false });
    expect(seqs(state)).toEqual([1, 3, 4]);
  });

  it('resumes from 0 when it holds nothing', () => {
    expect(lastSeq(undefined)).toBe(0);
    expect(lastSeq(emptyMessages)).toBe(0);
  });
});

describe('messagesReducer: reactions', () => {
  const page = (...messages: StoredMessage[]): MessagesAction => ({ type: 'page', messages, limit: 50, older: false });
  const reactions = (state: MessagesState, id = 101) => state.messages.find((m) => m.id === id)?.reactions;

  it('keeps the reactions a page brought when a live copy of the message (with none) arrives', () => {
    const state = run(
      page({ ...msg(1), reactions: [{ emoji: '👍', count: 2, me: true }] }),
      { type: 'received', message: msg(1) },
      { type: 'updated', message: { ...msg(1), content: 'edited', edited_at: '2025-01-01T01:00:00Z' } },
    );
    expect(state.messages[0]?.content).toBe('edited');
    expect(reactions(state)).toEqual([{ emoji: '👍', count: 2, me: true }]);
  });

  it('sets counts from frames and flips `me` only for my own reaction', () => {
    const base = page(msg(1));
    const theirs = run(base, { type: 'reaction', messageId: 101, emoji: '🎉', count: 1, added: true, mine: false });
    expect(reactions(theirs)).toEqual([{ emoji: '🎉', count: 1, me: false }]);
    const mine = messagesReducer(theirs, { type: 'reaction', messageId: 101, emoji: '🎉', count: 2, added: true, mine: true });
    expect(reactions(mine)).toEqual([{ emoji: '🎉', count: 2, me: true }]);
    // Someone else taking theirs back leaves mine.
    const left = messagesReducer(mine, { type: 'reaction', messageId: 101, emoji: '🎉', count: 1, added: false, mine: false });
    expect(reactions(left)).toEqual([{ emoji: '🎉', count: 1, me: true }]);
    const gone = messagesReducer(left, { type: 'reaction', messageId: 101, emoji: '🎉', count: 0, added: false, mine: true });
    expect(reactions(gone)).toEqual([]);
  });

  it('the same frame heard twice leaves the same count', () => {
    const frame: MessagesAction = { type: 'reaction', messageId: 101, emoji: '👀', count: 3, added: true, mine: false };
    expect(reactions(run(page(msg(1)), frame, frame))).toEqual([{ emoji: '👀', count: 3, me: false }]);
  });

  it('takes the count of my own answer when no frame about that emoji came in since the request', () => {
    const before = run(page({ ...msg(1), reactions: [{ emoji: '👍', count: 1, me: false }] }));
    const since = reactionFramesOf(before, 101, '👍');
    const state = messagesReducer(before, { type: 'reacted', messageId: 101, emoji: '👍', count: 2, me: true, since });
    expect(reactions(state)).toEqual([{ emoji: '👍', count: 2, me: true }]);
  });

  it('a stale answer to my request does not undo a newer frame, but still says I reacted', () => {
    const before = run(page({ ...msg(1), reactions: [{ emoji: '👍', count: 1, me: false }] }));
    const since = reactionFramesOf(before, 101, '👍');
    // My request is on its way; my frame and then someone else's come in first.
    const state = from(
      before,
      { type: 'reaction', messageId: 101, emoji: '👍', count: 2, added: true, mine: true },
      { type: 'reaction', messageId: 101, emoji: '👍', count: 3, added: true, mine: false },
      { type: 'reacted', messageId: 101, emoji: '👍', count: 2, me: true, since },
    );
    expect(reactions(state)).toEqual([{ emoji: '👍', count: 3, me: true }]);
  });

  it('a frame about another emoji does not make my answer stale', () => {
    const before = run(page(msg(1)));
    const since = reactionFramesOf(before, 101, '👍');
    const state = from(
      before,
      { type: 'reaction', messageId: 101, emoji: '🔥', count: 1, added: true, mine: false },
      { type: 'reacted', messageId: 101, emoji: '👍', count: 4, me: true, since },
    );
    expect(reactions(state)).toEqual([
      { emoji: '🔥', count: 1, me: false },
      { emoji: '👍', count: 4, me: true },
    ]);
  });

  it('ignores reactions to messages it does not hold', () => {
    const before = run(page(msg(1)));
    const state = messagesReducer(before, { type: 'reaction', messageId: 999, emoji: '👍', count: 1, added: true, mine: false });
    expect(state.messages).toBe(before.messages);
  });
});

describe('messagesReducer: replies', () => {
  const original = msg(1, { content: 'the original words' });
  const reply = msg(2, {
    sender: 'bob',
    sender_id: 2,
    reply_to: 101,
    reply: { id: 101, sender: 'alice', sender_id: 1, content: 'the original words', deleted: false },
  });

  it('an edit of the original seen live shows in the replies we hold', () => {
    const state = run(
      { type: 'page', messages: [original, reply], limit: 50, older: false },
      { type: 'updated', message: { ...original, content: 'better words', edited_at: '2025-01-01T02:00:00Z' } },
    );
    expect(state.messages[1]?.reply).toEqual({ id: 101, sender: 'alice', sender_id: 1, content: 'better words', deleted: false });
  });

  it('a deletion of the original turns the replies into replies to a deleted message', () => {
    const state = run(
      { type: 'page', messages: [original, reply], limit: 50, older: false },
      { type: 'deleted', id: 101 },
    );
    expect(state.messages.map((m) => m.id)).toEqual([102]);
    expect(state.messages[0]?.reply).toEqual({ id: 101, deleted: true });
    // And a later edit frame about it (stale) does not bring the preview back.
    const later = messagesReducer(state, { type: 'updated', message: { ...original, content: 'x', edited_at: '2025-01-01T03:00:00Z' } });
    expect(later.messages[0]?.reply).toEqual({ id: 101, deleted: true });
  });

  it('keeps the reply of a pending message through a failure and a retry, unless it is dropped', () => {
    const preview = { id: 101, sender: 'alice', sender_id: 1, content: 'the original words', deleted: false };
    let state = run({ type: 'queued', nonce: 'n-1', content: 'agreed', reply: preview });
    state = messagesReducer(state, { type: 'failed', nonce: 'n-1', error: 'slow down' });
    state = messagesReducer(state, { type: 'retrying', nonce: 'n-1' });
    expect(state.pending[0]).toEqual({ nonce: 'n-1', content: 'agreed', status: 'sending', reply: preview });
    state = messagesReducer(state, { type: 'failed', nonce: 'n-1', error: 'That message cannot be answered', dropReply: true });
    expect(state.pending[0]).toEqual({ nonce: 'n-1', content: 'agreed', status: 'failed', error: 'That message cannot be answered' });
  });

  it('a pending reply to a message deleted meanwhile shows it as deleted', () => {
    const preview = { id: 101, sender: 'alice', sender_id: 1, content: 'the original words', deleted: false };
    const state = run(
      { type: 'page', messages: [original], limit: 50, older: false },
      { type: 'queued', nonce: 'n-1', content: 'agreed', reply: preview },
      { type: 'deleted', id: 101 },
    );
    expect(state.pending[0]?.reply).toEqual({ id: 101, deleted: true });
  });
});

describe('messagesReducer: pins', () => {
  it('marks a held message pinned and unpinned', () => {
    let state = run({ type: 'page', messages: [msg(1), msg(2)], limit: 50, older: false });
    state = messagesReducer(state, { type: 'pinned', message: { ...msg(2), pinned_at: '2025-01-02T00:00:00Z' } });
    expect(state.messages.map((m) => m.pinned_at)).toEqual([undefined, '2025-01-02T00:00:00Z']);
    // A replayed copy of the message (a new message's frame says nothing of pins) keeps it.
    state = messagesReducer(state, { type: 'received', message: msg(2) });
    expect(state.messages[1]?.pinned_at).toBe('2025-01-02T00:00:00Z');
    state = messagesReducer(state, { type: 'unpinned', id: 102 });
    expect(state.messages[1]).not.toHaveProperty('pinned_at');
  });
});

describe('frameAction', () => {
  it('turns reaction frames into reaction actions, mine only when the user is me', () => {
    const frame = { type: 'reaction.added', channel_id: 7, message_id: 101, message_seq: 3, emoji: '👍', count: 1, user_id: 5 } as const;
    expect(frameChannelId(frame)).toBe(7);
    expect(frameAction(frame, 5)).toEqual({ type: 'reaction', messageId: 101, emoji: '👍', count: 1, added: true, mine: true });
    expect(frameAction({ ...frame, type: 'reaction.removed', count: 0 }, 6)).toEqual({
      type: 'reaction',
      messageId: 101,
      emoji: '👍',
      count: 0,
      added: false,
      mine: false,
    });
  });
});
