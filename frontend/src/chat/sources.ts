// Where a chat's messages live. The engine (socket, reducer, history, pending messages) is the
// same for a server's channel and for a conversation; only these facts differ.
import { useMemo } from 'react';
import type { ApiClient } from '../api/client';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import type { StoredMessage } from './messages';
import { channelSocketPath, conversationSocketPath } from './socket';

export interface PageQuery {
  /** The newest messages older than this message id (scrolling back). */
  before?: number;
  limit: number;
}

export interface ChatSource {
  /** The channel id its messages carry (a conversation's id is one too): its cache key. */
  channelId: number;
  /** Its socket's path on the page's origin. */
  socketPath: string;
  /** A page of its history, oldest first (with reactions, `me` for the reader). */
  fetchPage: (query: PageQuery) => Promise<StoredMessage[]>;
  /** Its pinned messages, the latest pinned first. */
  fetchPins: () => Promise<StoredMessage[]>;
}

function pageParams({ before, limit }: PageQuery) {
  return { limit, ...(before === undefined ? {} : { before }) };
}

export function channelSource(client: ApiClient, serverId: number, channelId: number): ChatSource {
  return {
    channelId,
    socketPath: channelSocketPath(serverId, channelId),
    fetchPage: (query) =>
      unwrap(
        client.GET('/api/channels/{channel_id}/messages/', {
          params: { path: { channel_id: channelId }, query: pageParams(query) },
        }),
      ),
    fetchPins: () =>
      unwrap(client.GET('/api/channels/{channel_id}/pins/', { params: { path: { channel_id: channelId } } })),
  };
}

export function conversationSource(client: ApiClient, conversationId: number): ChatSource {
  return {
    channelId: conversationId,
    socketPath: conversationSocketPath(conversationId),
    fetchPage: (query) =>
      unwrap(
        client.GET('/api/dms/{conversation_id}/messages/', {
          params: { path: { conversation_id: conversationId }, query: pageParams(query) },
        }),
      ),
    fetchPins: () =>
      unwrap(client.GET('/api/dms/{conversation_id}/pins/', { params: { path: { conversation_id: conversationId } } })),
  };
}

export function useChannelSource(serverId: number, channelId: number): ChatSource {
  const { client } = useApi();
  return useMemo(() => channelSource(client, serverId, channelId), [client, serverId, channelId]);
}

export function useConversationSource(conversationId: number): ChatSource {
  const { client } = useApi();
  return useMemo(() => conversationSource(client, conversationId), [client, conversationId]);
}
