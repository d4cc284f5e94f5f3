// My unread counts in the query cache (keys.unread): loaded from GET /api/me/unread/ once
// signed in, kept live by the personal socket (PersonalProvider.tsx: `unread.updated` for my
// servers' channels, new messages of conversations, `mention`, `read.updated`) and by my own acks (useReadAck.ts),
// fetched again on window focus, on every (re)connect and when the list lacks a channel.
import { queryOptions, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { ApiClient } from '../api/client';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import { keys, useMe } from '../api/queries';
import {
  countsOf,
  mergeFetched,
  noCounts,
  serverCounts,
  unreadOf,
  withMention,
  withMessage,
  withNews,
  withRead,
  type Counts,
  type NewMessage,
  type UnreadList,
} from './unread';

export function unreadQuery(client: ApiClient, queryClient: QueryClient) {
  return queryOptions({
    queryKey: keys.unread,
    queryFn: async (): Promise<UnreadList> => {
      const fetched = await unwrap(client.GET('/api/me/unread/'));
      return mergeFetched(queryClient.getQueryData<UnreadList>(keys.unread), fetched.channels);
    },
    // Live through the personal socket; focus and reconnects ask again.
    staleTime: 30_000,
    refetchOnWindowFocus: true,
  });
}

/** The cached list (loaded while someone is signed in). */
export function useUnread(): UnreadList | undefined {
  const { client } = useApi();
  const me = useMe().data;
  const queryClient = useQueryClient();
  return useQuery({ ...unreadQuery(client, queryClient), enabled: Boolean(me) }).data;
}

export function useChannelCounts(channelId: number): Counts {
  const list = useUnread();
  return countsOf(unreadOf(list, channelId));
}

export function useServerCounts(serverId: number): Counts {
  const list = useUnread();
  return list ? serverCounts(list, serverId) : noCounts;
}

/** Asks again without cancelling a fetch in flight (a burst of reasons costs one request). */
export function refreshUnread(queryClient: QueryClient) {
  return queryClient.invalidateQueries({ queryKey: keys.unread }, { cancelRefetch: false });
}

/** A new message (a followed chat's); false when the list does not know the chat yet. */
export function countMessage(queryClient: QueryClient, message: NewMessage, meId: number): boolean {
  return update(queryClient, (list) => withMessage(list, message, meId));
}

/** An `unread.updated` channel; false when the list does not know it yet. */
export function countNews(queryClient: QueryClient, channelId: number, lastSeq: number): boolean {
  return update(queryClient, (list) => withNews(list, channelId, lastSeq));
}

/** A `mention` frame; false when the list does not know the chat yet. */
export function countMention(queryClient: QueryClient, message: NewMessage, meId: number): boolean {
  return update(queryClient, (list) => withMention(list, message, meId));
}

/** Read up to `seq` (here, or on another client); false when the counts left are only bounded. */
export function markRead(queryClient: QueryClient, channelId: number, seq: number): boolean {
  let exact = true;
  queryClient.setQueryData<UnreadList>(keys.unread, (list) => {
    if (!list) return list;
    const read = withRead(list, channelId, seq);
    exact = read.exact;
    return read.list;
  });
  return exact;
}

/** How far I am known to have read a chat (0 when not known). */
export function readSeqOf(queryClient: QueryClient, channelId: number): number {
  return unreadOf(queryClient.getQueryData<UnreadList>(keys.unread), channelId)?.read_seq ?? 0;
}

function update(queryClient: QueryClient, change: (list: UnreadList) => UnreadList | null): boolean {
  const list = queryClient.getQueryData<UnreadList>(keys.unread);
  // Not loaded yet: the load will have it.
  if (!list) return true;
  const next = change(list);
  if (next === null) return false;
  if (next !== list) queryClient.setQueryData<UnreadList>(keys.unread, next);
  return true;
}
