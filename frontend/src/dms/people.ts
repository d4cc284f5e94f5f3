// The people the viewer knows, to start conversations with: the members of their servers (the
// first page of each server's member list) and the people they already talk to.
import { useQueries } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import { keys, MEMBERS_PAGE, useMyServers } from '../api/queries';
import type { UserRef } from '../api/types';
import { useConversations } from './queries';

/** Servers asked for their members at most; a server's first 100 members at most. */
export const KNOWN_SERVERS_MAX = 20;

export function byName(a: UserRef, b: UserRef): number {
  return a.username.localeCompare(b.username, undefined, { sensitivity: 'base' }) || a.id - b.id;
}

export function useKnownUsers(meId: number): { users: UserRef[]; isPending: boolean } {
  const { client } = useApi();
  const conversations = useConversations();
  const servers = useMyServers(true);
  const samples = useQueries({
    queries: (servers.data ?? []).slice(0, KNOWN_SERVERS_MAX).map((server) => ({
      queryKey: keys.memberSample(server.id),
      queryFn: () =>
        unwrap(
          client.GET('/api/servers/{server_id}/members/', {
            params: { path: { server_id: server.id }, query: { limit: MEMBERS_PAGE } },
          }),
        ),
      staleTime: 60_000,
    })),
  });

  const known = new Map<number, UserRef>();
  for (const conversation of conversations.data ?? []) {
    for (const person of conversation.participants) known.set(person.id, person);
  }
  for (const sample of samples) {
    for (const member of sample.data ?? []) known.set(member.user_id, { id: member.user_id, username: member.username });
  }
  known.delete(meId);
  return {
    users: [...known.values()].sort(byName),
    isPending: conversations.isPending || servers.isPending || samples.some((s) => s.isPending),
  };
}
