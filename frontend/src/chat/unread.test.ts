import { describe, expect, it } from 'vitest';
import type { Unread } from '../api/types';
import {
  badgeNumber,
  countsLabel,
  mergeFetched,
  serverCounts,
  unreadOf,
  viewedChannel,
  withMention,
  withMessage,
  withNews,
  withRead,
  type UnreadList,
} from './unread';

const ME = 1;
const BOB = 2;

function entry(channel_id: number, changes: Partial<Unread> = {}): Unread {
  return { channel_id, server_id: 5, last_seq: 10, read_seq: 10, unread_count: 0, mention_count: 0, ...changes };
}

const list: UnreadList = [entry(7), entry(8, { last_seq: 4, read_seq: 1, unread_count: 3 }), entry(12, { server_id: null })];

describe('unread counts', () => {
  it("counts someone else's new message once, whichever socket brings it", () => {
    const once = withMessage(list, { channel_id: 7, seq: 11, sender_id: BOB }, ME);
    expect(unreadOf(once ?? [], 7)).toMatchObject({ last_seq: 11, unread_count: 1 });
    // The same frame again (the open chat's socket and the personal one): counted already.
    expect(withMessage(once ?? [], { channel_id: 7, seq: 11, sender_id: BOB }, ME)).toBe(once);
  });

  it('does not count my own messages, but moves last_seq', () => {
    const next = withMessage(list, { channel_id: 7, seq: 11, sender_id: ME }, ME);
    expect(unreadOf(next ?? [], 7)).toMatchObject({ last_seq: 11, unread_count: 0 });
  });

  it('caps the count at 100, as the server does', () => {
    const full = [entry(7, { unread_count: 100, read_seq: 0 })];
    expect(unreadOf(withMessage(full, { channel_id: 7, seq: 11, sender_id: BOB }, ME) ?? [], 7)?.unread_count).toBe(100);
  });

  it('says when it does not know the chat (the caller asks the server)', () => {
    expect(withMessage(list, { channel_id: 99, seq: 1, sender_id: BOB }, ME)).toBeNull();
    expect(withMention(list, { channel_id: 99, seq: 1, sender_id: BOB }, ME)).toBeNull();
  });

  it('counts what news moved past, once, and what was read before it not at all', () => {
    const once = withNews(list, 7, 13);
    expect(unreadOf(once ?? [], 7)).toMatchObject({ last_seq: 13, unread_count: 3 });
    expect(withNews(once ?? [], 7, 13)).toBe(once);
    expect(withNews(once ?? [], 7, 12)).toBe(once);
    // Read to 12 on another client before the news came: one is new.
    const read = withRead(list, 7, 12).list;
    expect(unreadOf(withNews(read, 7, 13) ?? [], 7)).toMatchObject({ last_seq: 13, unread_count: 1 });
    expect(unreadOf(withNews([entry(7, { read_seq: 0, unread_count: 99 })], 7, 500) ?? [], 7)?.unread_count).toBe(100);
    expect(withNews(list, 99, 1)).toBeNull();
  });

  it('counts a mention and its news once, in either order', () => {
    const message = { channel_id: 7, seq: 11, sender_id: BOB };
    const mentionFirst = withNews(withMention(list, message, ME) ?? [], 7, 11);
    const newsFirst = withMention(withNews(list, 7, 11) ?? [], message, ME);
    for (const next of [mentionFirst, newsFirst]) {
      expect(unreadOf(next ?? [], 7)).toMatchObject({ last_seq: 11, unread_count: 1, mention_count: 1 });
    }
  });

  it('counts a mention, and its message once, in either order of the two frames', () => {
    const message = { channel_id: 7, seq: 11, sender_id: BOB };
    const mentionFirst = withMessage(withMention(list, message, ME) ?? [], message, ME);
    const messageFirst = withMention(withMessage(list, message, ME) ?? [], message, ME);
    for (const next of [mentionFirst, messageFirst]) {
      expect(unreadOf(next ?? [], 7)).toMatchObject({ last_seq: 11, unread_count: 1, mention_count: 1 });
    }
  });

  it('reading to the end clears both counts; reading further back changes nothing', () => {
    const counted = withMention(list, { channel_id: 8, seq: 5, sender_id: BOB }, ME) ?? [];
    expect(unreadOf(counted, 8)).toMatchObject({ unread_count: 4, mention_count: 1 });
    const read = withRead(counted, 8, 5);
    expect(read.exact).toBe(true);
    expect(unreadOf(read.list, 8)).toMatchObject({ read_seq: 5, unread_count: 0, mention_count: 0 });
    expect(withRead(read.list, 8, 3).list).toBe(read.list);
  });

  it('reading part way bounds the counts and asks for the exact ones', () => {
    const read = withRead(list, 8, 3);
    expect(read.exact).toBe(false);
    expect(unreadOf(read.list, 8)).toMatchObject({ read_seq: 3, unread_count: 1 });
  });

  it('keeps, when fetched again, what live frames and acks brought meanwhile', () => {
    const live = withRead(withMessage(list, { channel_id: 7, seq: 12, sender_id: BOB }, ME) ?? [], 8, 4).list;
    // The server answered before those: channel 7 at 10, channel 8 read to 1.
    const merged = mergeFetched(live, [entry(7), entry(8, { last_seq: 4, read_seq: 1, unread_count: 3 }), entry(13)]);
    expect(unreadOf(merged, 7)).toMatchObject({ last_seq: 12, unread_count: 1 });
    expect(unreadOf(merged, 8)).toMatchObject({ read_seq: 4, unread_count: 0 });
    // The server's list decides which chats there are.
    expect(merged.map((e) => e.channel_id)).toEqual([7, 8, 13]);
  });

  it("adds up a server's channels for the rail, and leaves conversations out", () => {
    const counted = withMention(list, { channel_id: 7, seq: 11, sender_id: BOB }, ME) ?? [];
    expect(serverCounts(counted, 5)).toEqual({ unread: 4, mentions: 1 });
    expect(serverCounts(counted, 6)).toEqual({ unread: 0, mentions: 0 });
  });

  it('says it in numbers and in words', () => {
    expect(badgeNumber(99)).toBe('99');
    expect(badgeNumber(100)).toBe('99+');
    expect(countsLabel({ unread: 3, mentions: 1 })).toBe('3 unread, 1 mention');
    expect(countsLabel({ unread: 100, mentions: 2 })).toBe('99+ unread, 2 mentions');
  });

  it('knows which chat a page shows', () => {
    expect(viewedChannel('/servers/5/channels/7')).toBe(7);
    expect(viewedChannel('/dms/12')).toBe(12);
    expect(viewedChannel('/dms')).toBeNull();
    expect(viewedChannel('/servers/5')).toBeNull();
  });
});
