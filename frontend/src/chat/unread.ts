// What is unread where: the cached `GET /api/me/unread/` (one entry per channel of my servers
// and per conversation), kept current by pure updates as frames arrive. Framework-free: the
// provider (PersonalProvider.tsx) applies these to the query cache.
//
// - A new message (a followed conversation's `chat.message`) moves `last_seq` and, when it is
//   someone else's and past `read_seq`, counts one more unread. A message at or below `last_seq`
//   was counted already (the same frame from two sockets, or a refetch that had it).
// - `unread.updated` (my servers' channels, at most one frame per server every 2 s) moves
//   `last_seq` and counts what it moved past.
// - A `mention` frame counts one more mention (and is a new message too, whichever of the two
//   frames comes first).
// - Reading (my ack, or `read.updated` from another client) moves `read_seq` forward only. Read
//   to the end, the counts are 0; read part way, they are bounded by what is left, and the
//   caller asks the server for the exact numbers (`exact: false`).
import type { Unread } from '../api/types';

/** The server counts unread messages up to this (100 means "100 or more"). */
export const UNREAD_CAP = 100;

export interface NewMessage {
  channel_id: number;
  seq: number;
  sender_id: number;
}

/** Read states and counts by channel id, as the server listed them. */
export type UnreadList = Unread[];

function replace(list: UnreadList, channelId: number, update: (entry: Unread) => Unread): UnreadList {
  let changed = false;
  const next = list.map((entry) => {
    if (entry.channel_id !== channelId) return entry;
    const updated = update(entry);
    if (updated !== entry) changed = true;
    return updated;
  });
  return changed ? next : list;
}

export function unreadOf(list: UnreadList | undefined, channelId: number): Unread | undefined {
  return list?.find((entry) => entry.channel_id === channelId);
}

/**
 * A message stored in `channel_id`. Returns null when the list does not know the channel (a
 * server just joined, a conversation just opened): the caller asks the server again.
 */
export function withMessage(list: UnreadList, message: NewMessage, meId: number): UnreadList | null {
  const entry = unreadOf(list, message.channel_id);
  if (!entry) return null;
  if (message.seq <= entry.last_seq) return list;
  const counts = message.sender_id !== meId && message.seq > entry.read_seq;
  return replace(list, message.channel_id, (e) => ({
    ...e,
    last_seq: message.seq,
    unread_count: counts ? Math.min(UNREAD_CAP, e.unread_count + 1) : e.unread_count,
  }));
}

/** A `mention` frame: the message (new, unless another frame brought it first) mentions me. */
export function withMention(list: UnreadList, message: NewMessage, meId: number): UnreadList | null {
  const counted = withMessage(list, message, meId);
  if (!counted) return null;
  const entry = unreadOf(counted, message.channel_id);
  if (!entry || message.seq <= entry.read_seq || message.sender_id === meId) return counted;
  return replace(counted, message.channel_id, (e) => ({ ...e, mention_count: e.mention_count + 1 }));
}

export interface Read {
  list: UnreadList;
  /** False when read part way: the counts are only bounded, the server has the exact ones. */
  exact: boolean;
}

/** I read `channelId` up to `seq` (here or on another client). Never moves back. */
export function withRead(list: UnreadList, channelId: number, seq: number): Read {
  const entry = unreadOf(list, channelId);
  if (!entry || seq <= entry.read_seq) return { list, exact: true };
  const lastSeq = Math.max(entry.last_seq, seq);
  const left = lastSeq - seq;
  const next = replace(list, channelId, (e) => ({
    ...e,
    last_seq: lastSeq,
    read_seq: seq,
    unread_count: Math.min(e.unread_count, left),
    mention_count: Math.min(e.mention_count, left),
  }));
  const updated = unreadOf(next, channelId);
  return { list: next, exact: left === 0 || (updated?.unread_count === 0 && updated.mention_count === 0) };
}

/**
 * A list fetched again, merged with what the cache learnt meanwhile: per channel, whichever
 * has seen further (a frame that came after the server answered is not lost), and the read
 * state furthest along.
 */
export function mergeFetched(cached: UnreadList | undefined, fetched: UnreadList): UnreadList {
  if (!cached) return fetched;
  const byId = new Map(cached.map((entry) => [entry.channel_id, entry]));
  return fetched.map((entry) => {
    const known = byId.get(entry.channel_id);
    if (!known) return entry;
    let merged = known.last_seq > entry.last_seq ? { ...known, server_id: entry.server_id } : entry;
    if (known.read_seq > merged.read_seq) merged = withRead([merged], merged.channel_id, known.read_seq).list[0] ?? merged;
    return merged;
  });
}

export interface Counts {
  unread: number;
  mentions: number;
}

export const noCounts: Counts = { unread: 0, mentions: 0 };

export function countsOf(entry: Unread | undefined): Counts {
  return entry ? { unread: entry.unread_count, mentions: entry.mention_count } : noCounts;
}

/** A server's channels added up (for the rail). */
export function serverCounts(list: UnreadList | undefined, serverId: number): Counts {
  let unread = 0;
  let mentions = 0;
  for (const entry of list ?? []) {
    if (entry.server_id !== serverId) continue;
    unread += entry.unread_count;
    mentions += entry.mention_count;
  }
  return unread === 0 && mentions === 0 ? noCounts : { unread, mentions };
}

/** "99+" above 99 (the server counts to 100 at most per channel). */
export function badgeNumber(count: number): string {
  return count > 99 ? '99+' : String(count);
}

/** For screen readers: "3 unread, 1 mention", "99+ unread", "2 mentions". */
export function countsLabel({ unread, mentions }: Counts): string {
  const parts: string[] = [];
  if (unread > 0) parts.push(`${badgeNumber(unread)} unread`);
  if (mentions > 0) parts.push(`${badgeNumber(mentions)} ${mentions === 1 ? 'mention' : 'mentions'}`);
  return parts.join(', ');
}

/**
 * `unread.updated`: a server's channel I do not follow has messages up to `lastSeq`. What is
 * past `last_seq` and `read_seq` counts as unread (perhaps one of mine from another client:
 * the next fetch has the exact count). Null when the list does not know the channel.
 */
export function withNews(list: UnreadList, channelId: number, lastSeq: number): UnreadList | null {
  const entry = unreadOf(list, channelId);
  if (!entry) return null;
  if (lastSeq <= entry.last_seq) return list;
  const news = lastSeq - Math.max(entry.last_seq, entry.read_seq);
  return replace(list, channelId, (e) => ({
    ...e,
    last_seq: lastSeq,
    unread_count: Math.min(UNREAD_CAP, e.unread_count + Math.max(0, news)),
  }));
}

/** The chat the path shows (`/servers/1/channels/7`, `/dms/12`), by channel id, or null. */
export function viewedChannel(pathname: string): number | null {
  const match = /^\/(?:servers\/\d+\/channels|dms)\/(\d+)\/?$/.exec(pathname);
  return match ? Number(match[1]) : null;
}
