// A server channel's chat: the engine (useChat) on the channel's socket and history, plus what
// the channel's socket says about its server (member counts, the viewer's membership, the
// member list, the channel list and the server's details), applied as the personal socket
// applies it: through chat/serverEvents.ts.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { invalidateMembership } from '../api/queries';
import type { CurrentUser, IncomingFrame } from '../api/types';
import { applyServerEvent } from './serverEvents';
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

export function useChannelChat({ serverId, channelId, me, enabled, onGone, createSocket }: ChannelChatOptions): ChannelChat {
  const queryClient = useQueryClient();
  const source = useChannelSource(serverId, channelId);

  const onFrame = (frame: IncomingFrame) => {
    // Refused as a non-member: the composer should say so.
    if (frame.type === 'error' && frame.code === 'not_member') void invalidateMembership(queryClient, serverId);
    const lost = applyServerEvent(queryClient, frame, me.user_id);
    if (lost?.what === 'channel' && lost.channelId === channelId) onGone('channel');
    if (lost?.what === 'server' && lost.serverId === serverId) onGone('server');
  };

  const onChannelGone = useCallback(() => onGone('channel'), [onGone]);
  return useChat({ source, me, enabled, onFrame, onGone: onChannelGone, createSocket });
}
