import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../api/types';
import { pinsAfterFrame, withPin, withoutPin } from './pins';

function msg(id: number, pinnedAt?: string, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id,
    channel_id: 7,
    sender: 'alice',
    sender_id: 1,
    content: `message ${id}`,
    timestamp: '2025-01-01T00:00:00Z',
    seq: id,
    ...(pinnedAt ? { pinned_at: pinnedAt } : {}),
    ...extra,
  };
}

const ids = (list: ChatMessage[]) => list.map((m) => m.id);

describe('pins', () => {
  it('lists the latest pinned first, whatever the message order', () => {
    let pins = withPin([], msg(3, '2025-01-01T10:00:00Z'));
    pins = withPin(pins, msg(1, '2025-01-01T12:00:00Z'));
    pins = withPin(pins, msg(2, '2025-01-01T11:00:00Z'));
    expect(ids(pins)).toEqual([1, 2, 3]);
  });

  it('a pin frame heard twice lists the message once', () => {
    const frame = { type: 'message.pinned', message: msg(4, '2025-01-01T10:00:00Z'), pinned_by: 1 } as const;
    expect(ids(pinsAfterFrame(pinsAfterFrame([], frame), frame))).toEqual([4]);
  });

  it('an unpin or a deletion takes it off; other frames change nothing', () => {
    const pins = [msg(2, '2025-01-01T11:00:00Z'), msg(1, '2025-01-01T10:00:00Z')];
    expect(ids(pinsAfterFrame(pins, { type: 'message.unpinned', id: 2, channel_id: 7, message_seq: 2 }))).toEqual([1]);
    expect(ids(pinsAfterFrame(pins, { type: 'message.deleted', id: 1, channel_id: 7, message_seq: 1 }))).toEqual([2]);
    expect(pinsAfterFrame(pins, { type: 'message.unpinned', id: 9, channel_id: 7, message_seq: 9 })).toBe(pins);
    expect(pinsAfterFrame(pins, { type: 'typing', channel_id: 7, user: { id: 1, username: 'alice' } })).toBe(pins);
    expect(ids(withoutPin(pins, 9))).toEqual([2, 1]);
  });

  it('an edit of a pinned message shows in the list', () => {
    const pins = [msg(2, '2025-01-01T11:00:00Z')];
    const edited = msg(2, '2025-01-01T11:00:00Z', { content: 'new words', edited_at: '2025-01-01T12:00:00Z' });
    expect(pinsAfterFrame(pins, { type: 'message.updated', message: edited })[0]?.content).toBe('new words');
  });
});
