// Binds a ChannelSocket to the query cache: live frames update the message list, the server
// (member count, channels) and the viewer's membership; our own messages stay pending until
// the server echoes their nonce back, and are re-sent (same nonce) after a reconnect.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import { invalidateMembership, keys, mergeServer } from '../api/queries';
import type { Channel, CurrentUser, IncomingFrame, Server, UserRef } from '../api/types';
import { emptyMessages, lastSeq, messagesReducer, newNonce, type MessagesAction, type MessagesState } from './messages';
import { ChannelSocket, type ConnectionState, type SocketFactory } from './socket';
import { createThrottle, TypingTracker } from './typing';

export const HISTORY_PAGE = 50;
export const MAX_MESSAGE_CHARS = 2000;

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

export interface ChannelChat {
  connection: ConnectionState;
  online: UserRef[];
  typing: UserRef[];
  /** The last problem with sending, for an alert. */
  error: string | null;
  dismissError: () => void;
  send: (content: string) => boolean;
  retry: (nonce: string) => void;
  discard: (nonce: string) => void;
  notifyTyping: () => void;
}

function upsertChannel(channels: Channel[], channel: Channel): Channel[] {
  const exists = channels.some((c) => c.id === channel.id);
  return exists ? channels.map((c) => (c.id === channel.id ? channel : c)) : [...channels, channel];
}

export function useChannelChat({ serverId, channelId, me, enabled, onGone, createSocket }: ChannelChatOptions): ChannelChat {
  const api = useApi();
  const queryClient = useQueryClient();
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [online, setOnline] = useState<UserRef[]>([]);
  const [typing, setTyping] = useState<UserRef[]>([]);
  const [error, setError] = useState<string | null>(null);
  const socketRef = useRef<ChannelSocket | null>(null);
  const trackerRef = useRef<TypingTracker | null>(null);
  const throttle = useRef(createThrottle()).current;
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const update = useCallback(
    (action: MessagesAction) =>
      queryClient.setQueryData<MessagesState>(keys.messages(channelId), (state) =>
        messagesReducer(state ?? emptyMessages, action),
      ),
    [queryClient, channelId],
  );

  /** (Re)sends every message still waiting for its echo, with its original nonce. */
  const flush = useCallback(() => {
    const state = queryClient.getQueryData<MessagesState>(keys.messages(channelId));
    for (const pending of state?.pending ?? []) {
      if (pending.status !== 'sending') continue;
      if (!socketRef.current?.send({ type: 'message', message: pending.content, nonce: pending.nonce })) return;
    }
  }, [queryClient, channelId]);

  const flushLater = useCallback(
    (delayMs: number) => {
      if (flushTimer.current !== null) clearTimeout(flushTimer.current);
      flushTimer.current = setTimeout(() => {
        flushTimer.current = null;
        flush();
      }, delayMs);
    },
    [flush],
  );

  /** After a resume: the newest page again, to pick up edits and deletions we missed. */
  const resync = useCallback(async () => {
    try {
      const page = await unwrap(
        api.client.GET('/api/channels/{channel_id}/messages/', {
          params: { path: { channel_id: channelId }, query: { limit: HISTORY_PAGE } },
        }),
      );
      update({ type: 'page', messages: page, limit: HISTORY_PAGE, older: false });
    } catch {
      // The replay already brought every new message; edits will come with the next resync.
    }
  }, [api, channelId, update]);

  const failSending = useCallback(
    (message: string, nonce: string | null | undefined, onlyFirst: boolean) => {
      const state = queryClient.getQueryData<MessagesState>(keys.messages(channelId));
      const sending = (state?.pending ?? []).filter((p) => p.status === 'sending');
      // The server names the refused message by its nonce; without one, guess.
      const refused = nonce
        ? sending.filter((p) => p.nonce === nonce)
        : onlyFirst
          ? sending.slice(0, 1)
          : sending;
      for (const pending of refused) {
        update({ type: 'failed', nonce: pending.nonce, error: message });
      }
    },
    [queryClient, channelId, update],
  );

  const handleFrame = (frame: IncomingFrame) => {
    const tracker = trackerRef.current;
    switch (frame.type) {
      case 'chat.message':
        update({ type: 'received', message: frame.new_message });
        tracker?.stopped(frame.new_message.sender_id);
        break;
      case 'message.updated':
        update({ type: 'updated', message: frame.message });
        break;
      case 'message.deleted':
        update({ type: 'deleted', id: frame.id });
        break;
      case 'presence.list':
        setOnline(frame.users);
        break;
      case 'presence.join':
        setOnline((users) => (users.some((u) => u.id === frame.user.id) ? users : [...users, frame.user]));
        break;
      case 'presence.leave':
        setOnline((users) => users.filter((u) => u.id !== frame.user.id));
        tracker?.stopped(frame.user.id);
        break;
      case 'typing':
        if (frame.user.id !== me.user_id) tracker?.typing(frame.user);
        break;
      case 'member.joined':
      case 'member.left':
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
        switch (frame.code) {
          case 'rate_limited':
            setError(frame.error);
            flushLater(frame.retry_after ?? 1_000);
            break;
          case 'unavailable':
            flushLater(1_000);
            break;
          case 'not_member':
            failSending(frame.error, frame.nonce, false);
            void invalidateMembership(queryClient, serverId);
            break;
          case 'invalid_message':
            failSending(frame.error, frame.nonce, true);
            break;
          default:
            setError(frame.error);
        }
        break;
      case 'pong':
        break;
    }
  };
  const handleFrameRef = useRef(handleFrame);
  const onGoneRef = useRef(onGone);
  useEffect(() => {
    handleFrameRef.current = handleFrame;
    onGoneRef.current = onGone;
  });

  useEffect(() => {
    if (!enabled) return;
    const tracker = new TypingTracker(setTyping);
    trackerRef.current = tracker;
    const socket = new ChannelSocket({
      serverId,
      channelId,
      after: lastSeq(queryClient.getQueryData<MessagesState>(keys.messages(channelId))),
      refreshSession: api.refresh,
      createSocket,
      onFrame: (frame) => handleFrameRef.current(frame),
      onOpen: (resumed) => {
        flush();
        if (resumed) void resync();
      },
      onStateChange: (state) => {
        setConnection(state);
        if (state !== 'open') {
          setOnline([]);
          tracker.dispose();
          setTyping([]);
        }
        if (state === 'unauthorized') queryClient.setQueryData(keys.me, null);
        if (state === 'gone') onGoneRef.current('channel');
      },
    });
    socketRef.current = socket;
    setConnection(socket.state);
    socket.start();
    return () => {
      socket.stop();
      tracker.dispose();
      if (flushTimer.current !== null) clearTimeout(flushTimer.current);
      socketRef.current = null;
      trackerRef.current = null;
      setOnline([]);
      setTyping([]);
    };
  }, [api, queryClient, serverId, channelId, enabled, createSocket, flush, resync]);

  const send = useCallback(
    (content: string): boolean => {
      const text = content.trim();
      if (!text) return false;
      if ([...text].length > MAX_MESSAGE_CHARS) {
        setError(`A message may have at most ${MAX_MESSAGE_CHARS} characters.`);
        return false;
      }
      const nonce = newNonce();
      update({ type: 'queued', nonce, content: text });
      socketRef.current?.send({ type: 'message', message: text, nonce });
      throttle.reset();
      return true;
    },
    [update, throttle],
  );

  const retry = useCallback(
    (nonce: string) => {
      update({ type: 'retrying', nonce });
      const pending = queryClient
        .getQueryData<MessagesState>(keys.messages(channelId))
        ?.pending.find((p) => p.nonce === nonce);
      if (pending) socketRef.current?.send({ type: 'message', message: pending.content, nonce });
    },
    [queryClient, channelId, update],
  );

  const discard = useCallback((nonce: string) => update({ type: 'discarded', nonce }), [update]);

  const notifyTyping = useCallback(() => {
    if (socketRef.current?.state === 'open' && throttle.ready()) socketRef.current.send({ type: 'typing' });
  }, [throttle]);

  return {
    connection,
    online,
    typing,
    error,
    dismissError: () => setError(null),
    send,
    retry,
    discard,
    notifyTyping,
  };
}
