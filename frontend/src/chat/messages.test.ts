import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../api/types';
import { emptyMessages, lastSeq, messagesReducer, type MessagesAction, type MessagesState } from './messages';

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
