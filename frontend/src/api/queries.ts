// Server state: every read goes through TanStack Query with these keys, every write is a
// mutation that invalidates (or updates) the keys it affects.
import {
  queryOptions,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query';
import type { ApiClient } from './client';
import { useApi } from './context';
import { ApiError, unwrap } from './errors';
import type { CurrentUser, Server } from './types';

export const keys = {
  me: ['me'] as const,
  categories: ['categories'] as const,
  allServers: ['servers'] as const,
  /** The catalogue's pages (InfiniteData of Server[]), of one category or all. */
  servers: (category: string | null) => ['servers', 'catalogue', category ?? '*'] as const,
  myServers: ['servers', 'mine'] as const,
  server: (id: number) => ['server', id] as const,
  /** Every cached server (each with its channels): the prefix of `server(id)`. */
  anyServer: ['server'] as const,
  membership: (serverId: number) => ['membership', serverId] as const,
  anyMembership: ['membership'] as const,
  /** A channel's or a conversation's messages (a conversation's id is its channel id). */
  messages: (channelId: number) => ['messages', channelId] as const,
  /** A channel's or a conversation's pinned messages, the latest pinned first (chat/pins.ts). */
  pins: (channelId: number) => ['pins', channelId] as const,
  /** Message search pages (InfiniteData of SearchPage): words, and the server searched (null: everywhere). */
  search: (q: string, serverId: number | null) => ['search', q, serverId ?? '*'] as const,
  members: (serverId: number) => ['members', serverId] as const,
  /** The first page of a server's members only: the people the viewer knows. */
  memberSample: (serverId: number) => ['members', serverId, 'sample'] as const,
  anyMembers: ['members'] as const,
  conversations: ['dms', 'list'] as const,
  conversation: (id: number) => ['dms', 'one', id] as const,
  anyConversation: ['dms', 'one'] as const,
  blocks: ['blocks'] as const,
  /** GET /api/me/unread/: my read state in every channel and conversation (chat/useUnread.ts). */
  unread: ['unread'] as const,
  /** Why this client's session was ended for the user (the account was deleted): for the login page. */
  signedOut: ['session', 'signed-out'] as const,
};

export const MEMBERS_PAGE = 100;
/** Servers per page of the catalogue: a grid of 2, 3, 4 or 6 columns fills its last row. */
export const SERVERS_PAGE = 24;

/** The signed-in user (restored from the session cookie), or null. */
export function meQuery(client: ApiClient) {
  return queryOptions({
    queryKey: keys.me,
    queryFn: async (): Promise<CurrentUser | null> => {
      const { data, error, response } = await client.GET('/api/me/');
      if (response.status === 401) return null;
      if (!response.ok || !data) throw new ApiError(response.status, error);
      return data;
    },
    staleTime: 5 * 60_000,
  });
}

export function useMe() {
  const { client } = useApi();
  return useQuery(meQuery(client));
}

export function useCategories() {
  const { client } = useApi();
  return useQuery({
    queryKey: keys.categories,
    queryFn: () => unwrap(client.GET('/api/server/category/')),
    staleTime: 5 * 60_000,
  });
}

/** The catalogue, of one category or all, a page of 24 at a time (by server id). */
export function useServers(category: string | null) {
  const { client } = useApi();
  return useInfiniteQuery({
    queryKey: keys.servers(category),
    queryFn: ({ pageParam }) =>
      unwrap(
        client.GET('/api/servers/', {
          params: {
            query: {
              limit: SERVERS_PAGE,
              with_num_members: 'true',
              ...(category ? { category } : {}),
              ...(pageParam === undefined ? {} : { after: pageParam }),
            },
          },
        }),
      ),
    initialPageParam: undefined as number | undefined,
    // A page shorter than asked for is the last one.
    getNextPageParam: (last) => (last.length < SERVERS_PAGE ? undefined : last[last.length - 1]?.id),
  });
}

export function useMyServers(enabled: boolean) {
  const { client } = useApi();
  return useQuery({
    queryKey: keys.myServers,
    queryFn: () =>
      unwrap(client.GET('/api/server/select/', { params: { query: { by_user: 'true' } } })),
    enabled,
  });
}

export function useServer(serverId: number) {
  const { client } = useApi();
  return useQuery({
    queryKey: keys.server(serverId),
    queryFn: () =>
      unwrap(client.GET('/api/servers/{server_id}/', { params: { path: { server_id: serverId } } })),
  });
}

export function useMembership(serverId: number, enabled = true) {
  const { client } = useApi();
  return useQuery({
    queryKey: keys.membership(serverId),
    queryFn: async () => {
      const body = await unwrap(
        client.GET('/api/membership/{server_id}/membership/is_member/', {
          params: { path: { server_id: serverId } },
        }),
      );
      return body.is_member;
    },
    enabled,
  });
}

/** A server's members, a page of 100 at a time (by user id). */
export function useMembers(serverId: number) {
  const { client } = useApi();
  return useInfiniteQuery({
    queryKey: keys.members(serverId),
    queryFn: ({ pageParam }) =>
      unwrap(
        client.GET('/api/servers/{server_id}/members/', {
          params: {
            path: { server_id: serverId },
            query: { limit: MEMBERS_PAGE, ...(pageParam === null ? {} : { after: pageParam }) },
          },
        }),
      ),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => (last.length < MEMBERS_PAGE ? undefined : (last[last.length - 1]?.user_id ?? undefined)),
  });
}

/** After a membership change: the count, the button, the composer, the rail and the member list. */
export function invalidateMembership(queryClient: QueryClient, serverId: number) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.server(serverId) }),
    queryClient.invalidateQueries({ queryKey: keys.membership(serverId) }),
    queryClient.invalidateQueries({ queryKey: keys.allServers }),
    queryClient.invalidateQueries({ queryKey: keys.members(serverId) }),
  ]);
}

/**
 * After the personal socket's `resync` (what was addressed to me while away is lost): every
 * server list, each cached server with its channels, my memberships and the member lists are
 * stale. Those on screen are refetched at once, the others when next shown.
 */
export function invalidateAllServers(queryClient: QueryClient) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.allServers }),
    queryClient.invalidateQueries({ queryKey: keys.anyServer }),
    queryClient.invalidateQueries({ queryKey: keys.anyMembership }),
    queryClient.invalidateQueries({ queryKey: keys.anyMembers }),
  ]);
}

export function useJoinServer(serverId: number) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        client.POST('/api/membership/{server_id}/membership/', {
          params: { path: { server_id: serverId } },
        }),
      ),
    onSuccess: () => {
      queryClient.setQueryData(keys.membership(serverId), true);
    },
    onSettled: () => invalidateMembership(queryClient, serverId),
  });
}

export function useLeaveServer(serverId: number) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        client.DELETE('/api/membership/{server_id}/membership/remove_member/', {
          params: { path: { server_id: serverId } },
        }),
      ),
    onSuccess: () => {
      queryClient.setQueryData(keys.membership(serverId), false);
    },
    onSettled: () => invalidateMembership(queryClient, serverId),
  });
}

/** Replaces the cached server with the changed fields of a live or returned copy. */
export function mergeServer(queryClient: QueryClient, serverId: number, changes: Partial<Server>) {
  queryClient.setQueryData<Server>(keys.server(serverId), (old) => (old ? { ...old, ...changes } : old));
}
