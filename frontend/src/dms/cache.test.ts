import { describe, expect, it } from 'vitest';
import type { ChatMessage, Conversation } from '../api/types';
import {
  conversationTitle,
  mergeFetched,
  previewText,
  sortConversations,
  updateConversation,
  upsertConversation,
  withEdit,
  withMessage,
  withoutParticipant,
  withParticipant,
} from './cache';

const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };
const carol = { id: 3, username: 'carol' };

function conversation(id: number, activeAt: string, overrides: Partial<Conversation> = {}): Conversation {
  return {
    id,
    kind: 'dm',
    name: null,
    participants: [alice, bob],
    last_message: null,
    last_seq: 0,
    blocked: false,
    created_at: '2025-01-01T00:00:00Z',
    active_at: activeAt,
    ...overrides,
  };
}

function message(channelId: number, seq: number, content: string, sender = bob, timestamp = '2025-01-03T10:00:00Z'): ChatMessage {
  return {
    id: 1000 + channelId * 100 + seq,
    channel_id: channelId,
    sender: sender.username,
    sender_id: sender.id,
    content,
    timestamp,
    seq,
    nonce: null,
    edited_at: null,
  };
}

describe('the conversation list', () => {
  it('is ordered by last activity, the newer conversation first on a tie', () => {
    const list = sortConversations([
      conversation(10, '2025-01-01T10:00:00Z'),
      conversation(11, '2025-01-02T10:00:00Z'),
      conversation(12, '2025-01-01T10:00:00Z'),
    ]);
    expect(list.map((c) => c.id)).toEqual([11, 12, 10]);
  });

  it('moves a conversation to the top when a message arrives in it', () => {
    const list = [conversation(11, '2025-01-02T10:00:00Z'), conversation(10, '2025-01-01T10:00:00Z')];
    const next = updateConversation(list, 10, (c) => withMessage(c, message(10, 1, 'hi')));
    expect(next?.map((c) => c.id)).toEqual([10, 11]);
    expect(next?.[0]).toMatchObject({ last_seq: 1, active_at: '2025-01-03T10:00:00Z', last_message: { content: 'hi' } });
    // No `nonce: null` or `edited_at: null` leaks into the REST shape.
    expect(next?.[0]?.last_message).not.toHaveProperty('nonce');
  });

  it('leaves the list alone for a conversation it does not hold', () => {
    const list = [conversation(11, '2025-01-02T10:00:00Z')];
    expect(updateConversation(list, 99, (c) => withMessage(c, message(99, 1, 'x')))).toBe(list);
  });

  it('ignores a replayed message older than the last one', () => {
    const current = withMessage(conversation(10, '2025-01-01T00:00:00Z'), message(10, 5, 'five'));
    expect(withMessage(current, message(10, 4, 'four', bob, '2025-01-04T00:00:00Z'))).toBe(current);
  });

  it('follows an edit of the last message only', () => {
    const current = withMessage(conversation(10, '2025-01-01T00:00:00Z'), message(10, 5, 'five'));
    const edited = { ...message(10, 5, 'five!'), edited_at: '2025-01-03T10:01:00Z' };
    expect(withEdit(current, edited).last_message).toMatchObject({ content: 'five!', edited_at: '2025-01-03T10:01:00Z' });
    expect(withEdit(current, message(10, 4, 'older'))).toBe(current);
  });

  it('upserts a conversation the server returned, in its place', () => {
    const list = [conversation(11, '2025-01-02T10:00:00Z'), conversation(10, '2025-01-01T10:00:00Z')];
    expect(upsertConversation(list, conversation(12, '2025-01-03T00:00:00Z')).map((c) => c.id)).toEqual([12, 11, 10]);
    expect(upsertConversation(list, conversation(10, '2025-01-05T00:00:00Z')).map((c) => c.id)).toEqual([10, 11]);
  });

  it('keeps a newer last message than a refetch that was in flight when it arrived', () => {
    const live = withMessage(conversation(10, '2025-01-01T00:00:00Z'), message(10, 3, 'newest'));
    const stale = conversation(10, '2025-01-02T00:00:00Z', { last_seq: 2, last_message: { ...message(10, 2, 'older'), nonce: undefined, edited_at: undefined } });
    const other = conversation(11, '2025-01-02T12:00:00Z');
    const merged = mergeFetched([live], [other, stale]);
    expect(merged.map((c) => c.id)).toEqual([10, 11]);
    expect(merged[0]).toMatchObject({ last_seq: 3, last_message: { content: 'newest' } });
    // Anything else comes from the server, which knows best.
    expect(mergeFetched([live], [conversation(10, '2025-01-09T00:00:00Z', { last_seq: 3, name: 'x' })])[0]?.name).toBe('x');
  });

  it('adds and removes participants', () => {
    const group = conversation(20, '2025-01-01T00:00:00Z', { kind: 'group', name: 'Trio', participants: [alice, bob] });
    const added = withParticipant(group, carol);
    expect(added.participants).toEqual([alice, bob, carol]);
    expect(withParticipant(added, carol)).toBe(added);
    expect(withoutParticipant(added, 2).participants).toEqual([alice, carol]);
  });
});

describe('titles and previews', () => {
  it('names a 1:1 conversation after the other person, a group by its name', () => {
    expect(conversationTitle(conversation(10, '2025-01-01T00:00:00Z'), 1)).toBe('bob');
    expect(conversationTitle(conversation(10, '2025-01-01T00:00:00Z'), 2)).toBe('alice');
    const group = conversation(20, '2025-01-01T00:00:00Z', { kind: 'group', name: 'Trio', participants: [alice, bob, carol] });
    expect(conversationTitle(group, 1)).toBe('Trio');
    expect(conversationTitle({ ...group, name: null }, 1)).toBe('bob, carol');
  });

  it('previews the last message: mine as "You:", a group\'s with its sender', () => {
    const dm = conversation(10, '2025-01-01T00:00:00Z');
    expect(previewText(dm, 1)).toBe('No messages yet');
    expect(previewText(withMessage(dm, message(10, 1, 'hello\nthere')), 1)).toBe('hello there');
    expect(previewText(withMessage(dm, message(10, 1, 'mine', alice)), 1)).toBe('You: mine');
    const group = conversation(20, '2025-01-01T00:00:00Z', { kind: 'group', name: 'Trio', participants: [alice, bob, carol] });
    expect(previewText(withMessage(group, message(20, 1, 'yo', carol)), 1)).toBe('carol: yo');
  });
});
