// A server channel's chat: the engine (useChat) on the channel's socket and history, plus what
// the channel's socket says about its server: member counts, the viewer's membership, the
// member list, the channel list and the server's details.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { invalidateMembership, keys, mergeServer } from '../api/queries';
import type { Channel, CurrentUser, IncomingFrame, Server } from '../api/types';
import type { SocketFactory } from './socket';
import { useChannelSource } from './sources';
import { useChat, type Chat } from './useChat';

export interface ChannelChatOptions {
  serverId: number;
  channelId: number;
  me: CurrentUser;
  /** Connect only once the first history page is in (so the resume point is known). */
  enabled: boolean;
  /** The channel (4004 or `channel.deleted`) or its server (`server.deleted`) went away. */
  onGone: (what: 'channel' | 'server') => void;
  createSocket?: SocketFactory;
}

export type ChannelChat = Chat;

function upsertChannel(channels: Channel[], channel: Channel): Channel[] {
  const exists = channels.some((c) => c.id === channel.id);
  return exists ? channels.map((c) => (c.id === channel.id ? channel : c)) : [...channels, channel];
}

export function useChannelChat({ serverId, channelId, me, enabled, onGone, createSocket }: ChannelChatOptions): ChannelChat {
  const queryClient = useQueryClient();
  const source = useChannelSource(serverId, channelId);

  const onFrame = (frame: IncomingFrame) => {
    switch (frame.type) {
      case 'member.joined':
      case 'member.left':
        void queryClient.invalidateQueries({ queryKey: keys.members(frame.server_id) });
        if (frame.user_id === me.user_id) void invalidateMembership(queryClient, frame.server_id);
        else void queryClient.invalidateQueries({ queryKey: keys.server(frame.server_id) });
        break;
      case 'channel.created':
      case 'channel.updated':
        queryClient.setQueryData<Server>(keys.server(frame.channel.server), (server) =>
          server ? { ...server, channel_server: upsertChannel(server.channel_server, frame.channel) } : server,
        );
        break;
      case 'channel.deleted':
        queryClient.setQueryData<Server>(keys.server(frame.server_id), (server) =>
          server
            ? { ...server, channel_server: server.channel_server.filter((c) => c.id !== frame.channel_id) }
            : server,
        );
        if (frame.channel_id === channelId) onGone('channel');
        break;
      case 'server.updated':
        mergeServer(queryClient, frame.server.id, frame.server);
        void queryClient.invalidateQueries({ queryKey: keys.allServers });
        break;
      case 'server.deleted':
        void queryClient.invalidateQueries({ queryKey: keys.allServers });
        queryClient.removeQueries({ queryKey: keys.server(frame.server_id) });
        if (frame.server_id === serverId) onGone('server');
        break;
      case 'error':
        // Refused as a non-member: the composer should say so.
        if (frame.code === 'not_member') void invalidateMembership(queryClient, serverId);
        break;
      default:
        break;
    }
  };

  const onChannelGone = useCallback(() => onGone('channel'), [onGone]);
  return useChat({ source, me, enabled, onFrame, onGone: onChannelGone, createSocket });
}
