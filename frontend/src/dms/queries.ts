// Conversations and blocks in the query cache. The list is kept live by the personal socket
// (chat/PersonalProvider.tsx): its frames go through dms/live.ts, and it reloads the list on
// every (re)connect and on `conversation.added`; window focus refetches it too, as a safety net.
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import type { ApiClient } from '../api/client';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import { keys } from '../api/queries';
import type { Conversation, UserRef } from '../api/types';
import { mergeFetched, upsertConversation } from './cache';

/** A group has 3 to 10 participants: its creator and 2 to 9 others. */
export const GROUP_MAX_PARTICIPANTS = 10;
export const GROUP_MIN_OTHERS = 2;
export const GROUP_MAX_OTHERS = GROUP_MAX_PARTICIPANTS - 1;

/** A conversation the server just returned: into its own entry and into the list. */
export function rememberConversation(queryClient: QueryClient, conversation: Conversation) {
  queryClient.setQueryData(keys.conversation(conversation.id), conversation);
  queryClient.setQueryData<Conversation[]>(keys.conversations, (all) => (all ? upsertConversation(all, conversation) : all));
}

/** GET /api/dms/, merged with what live frames brought meanwhile (`mergeFetched`). */
export function conversationsQuery(client: ApiClient, queryClient: QueryClient) {
  return queryOptions({
    queryKey: keys.conversations,
    queryFn: async () => {
      const fetched = await unwrap(client.GET('/api/dms/'));
      return mergeFetched(queryClient.getQueryData<Conversation[]>(keys.conversations), fetched);
    },
    refetchOnWindowFocus: true,
  });
}

/** My conversations, most recently active first. */
export function useConversations() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useQuery(conversationsQuery(client, queryClient));
}

export function useConversation(id: number) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: keys.conversation(id),
    queryFn: () => unwrap(client.GET('/api/dms/{conversation_id}/', { params: { path: { conversation_id: id } } })),
    // The list already has it: show that at once, and check with the server in the background.
    initialData: () => queryClient.getQueryData<Conversation[]>(keys.conversations)?.find((c) => c.id === id),
    initialDataUpdatedAt: () => queryClient.getQueryState(keys.conversations)?.dataUpdatedAt,
  });
}

/** Opens (or finds) the 1:1 conversation with a user. */
export function useOpenDirect() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) => unwrap(client.POST('/api/dms/', { body: { user_id: userId } })),
    onSuccess: (conversation) => rememberConversation(queryClient, conversation),
  });
}

export function useCreateGroup() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; user_ids: number[] }) => unwrap(client.POST('/api/dms/groups/', { body })),
    onSuccess: (conversation) => rememberConversation(queryClient, conversation),
  });
}

export function useAddParticipant(conversationId: number) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: number) =>
      unwrap(
        client.POST('/api/dms/{conversation_id}/participants/', {
          params: { path: { conversation_id: conversationId } },
          body: { user_id: userId },
        }),
      ),
    onSuccess: (conversation) => rememberConversation(queryClient, conversation),
  });
}

/** Leaves a group. The caller navigates away, then forgets it (dms/live.ts `forgetConversation`). */
export function useLeaveGroup(conversationId: number) {
  const { client } = useApi();
  return useMutation({
    mutationFn: () =>
      unwrap(
        client.DELETE('/api/dms/{conversation_id}/participants/me/', {
          params: { path: { conversation_id: conversationId } },
        }),
      ),
  });
}

/** The users I blocked. */
export function useBlocks() {
  const { client } = useApi();
  return useQuery({
    queryKey: keys.blocks,
    queryFn: () => unwrap(client.GET('/api/me/blocks/')),
  });
}

export function useBlock() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (user: UserRef) =>
      unwrap(client.PUT('/api/me/blocks/{user_id}/', { params: { path: { user_id: user.id } } })),
    onSuccess: (_done, user) =>
      queryClient.setQueryData<UserRef[]>(keys.blocks, (all) =>
        all?.some((u) => u.id === user.id) ? all : [...(all ?? []), user],
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.blocks }),
  });
}

export function useUnblock() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (user: UserRef) =>
      unwrap(client.DELETE('/api/me/blocks/{user_id}/', { params: { path: { user_id: user.id } } })),
    onSuccess: (_done, user) =>
      queryClient.setQueryData<UserRef[]>(keys.blocks, (all) => all?.filter((u) => u.id !== user.id)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.blocks }),
  });
}
