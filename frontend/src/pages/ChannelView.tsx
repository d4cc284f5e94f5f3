import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useLayoutEffect, useRef, type UIEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useApi } from '../api/context';
import { unwrap } from '../api/errors';
import { keys } from '../api/queries';
import type { ChatMessage } from '../api/types';
import { emptyMessages, messagesReducer, type MessagesState } from '../chat/messages';
import { typingText } from '../chat/typing';
import { HISTORY_PAGE, useChannelChat } from '../chat/useChannelChat';
import { Composer } from '../components/Composer';
import { MessageItem, PendingItem } from '../components/MessageItem';
import { ErrorNotice, Loading } from '../components/Status';
import { routeId, useServerContext } from './ServerPage';

export function ChannelView() {
  const channelId = routeId(useParams().channelId);
  const { server } = useServerContext();
  const channel = server.channel_server.find((c) => c.id === channelId);
  if (channelId === null || !channel) {
    return (
      <section className="channel empty">
        <h2>Channel not found</h2>
        <p>
          This channel is not part of {server.name}. <Link to={`/servers/${server.id}`}>Open the server</Link>.
        </p>
      </section>
    );
  }
  // Keyed so that switching channels starts from a clean socket and scroll state.
  return <Channel key={channel.id} channelId={channel.id} name={channel.name} topic={channel.topic} />;
}

function useHistory(channelId: number) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const key = keys.messages(channelId);
  const history = useQuery({
    queryKey: key,
    queryFn: async (): Promise<MessagesState> => {
      const page = await unwrap(
        client.GET('/api/channels/{channel_id}/messages/', {
          params: { path: { channel_id: channelId }, query: { limit: HISTORY_PAGE } },
        }),
      );
      const current = queryClient.getQueryData<MessagesState>(key) ?? emptyMessages;
      return messagesReducer(current, { type: 'page', messages: page, limit: HISTORY_PAGE, older: false });
    },
    // The socket keeps it current; coming back to the channel re-reads the newest page.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnMount: 'always',
    refetchOnReconnect: false,
  });
  const older = useMutation({
    mutationFn: async () => {
      const oldest = queryClient.getQueryData<MessagesState>(key)?.messages[0];
      if (!oldest) return;
      const page = await unwrap(
        client.GET('/api/channels/{channel_id}/messages/', {
          params: { path: { channel_id: channelId }, query: { before: oldest.id, limit: HISTORY_PAGE } },
        }),
      );
      queryClient.setQueryData<MessagesState>(key, (state) =>
        messagesReducer(state ?? emptyMessages, { type: 'page', messages: page, limit: HISTORY_PAGE, older: true }),
      );
    },
  });
  return { history, older };
}

function connectionText(state: string): string {
  if (state === 'open') return 'Connected';
  if (state === 'gone') return 'Channel unavailable';
  if (state === 'unauthorized') return 'Logged out';
  return 'Reconnecting…';
}

function Channel({ channelId, name, topic }: { channelId: number; name: string; topic: string }) {
  const { server, me, isMember } = useServerContext();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { history, older } = useHistory(channelId);

  const onGone = useCallback(
    (what: 'channel' | 'server') => {
      if (what === 'server') {
        navigate('/', { replace: true, state: { notice: `${server.name} was deleted.` } });
        return;
      }
      void queryClient.invalidateQueries({ queryKey: keys.server(server.id) });
      navigate(`/servers/${server.id}`, { replace: true, state: { notice: `#${name} is no longer available.` } });
    },
    [navigate, queryClient, server.id, server.name, name],
  );

  const chat = useChannelChat({
    serverId: server.id,
    channelId,
    me,
    enabled: history.isSuccess,
    onGone,
  });

  const state = history.data ?? emptyMessages;
  const log = useRef<HTMLDivElement>(null);
  const scroll = useRef({ height: 0, atBottom: true, firstId: undefined as number | undefined });

  // Stay pinned to the newest message when already at the bottom; keep the reader's place
  // when an older page is prepended above.
  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const firstId = state.messages[0]?.id;
    const prepended = scroll.current.firstId !== undefined && firstId !== scroll.current.firstId && el.scrollHeight > scroll.current.height && !scroll.current.atBottom;
    if (prepended) {
      el.scrollTop += el.scrollHeight - scroll.current.height;
    } else if (scroll.current.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    scroll.current.height = el.scrollHeight;
    scroll.current.firstId = firstId;
  }, [state.messages, state.pending]);

  const loadOlder = () => {
    if (state.hasOlder && !older.isPending) older.mutate();
  };
  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const el = event.currentTarget;
    scroll.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    scroll.current.height = el.scrollHeight;
    if (el.scrollTop < 40 && !older.isError) loadOlder();
  };

  const typing = typingText(chat.typing);

  return (
    <section className="channel" aria-labelledby="channel-title">
      <div className="channel-head">
        <h2 id="channel-title"># {name}</h2>
        {topic && <p className="channel-topic">{topic}</p>}
        <p role="status" aria-label="Connection" className={`connection connection-${chat.connection}`}>
          {connectionText(chat.connection)}
        </p>
      </div>
      <div className="channel-body">
        <div className="conversation">
          <div ref={log} className="log" role="log" aria-label="Messages" aria-live="polite" tabIndex={0} onScroll={onScroll}>
            {history.isPending && <Loading label="Loading messages…" />}
            {history.isError && <ErrorNotice error={history.error} onRetry={() => void history.refetch()} />}
            {state.hasOlder && (
              <button type="button" className="button secondary load-older" disabled={older.isPending} onClick={loadOlder}>
                {older.isPending ? 'Loading older messages…' : 'Load older messages'}
              </button>
            )}
            {older.isError && <ErrorNotice error={older.error} />}
            {history.isSuccess && state.messages.length === 0 && state.pending.length === 0 && (
              <p className="muted">No messages yet. Say hello!</p>
            )}
            <ol className="messages">
              {state.messages.map((message: ChatMessage) => (
                <li key={message.id}>
                  <MessageItem message={message} own={message.sender_id === me.user_id} />
                </li>
              ))}
              {state.pending.map((pending) => (
                <li key={pending.nonce}>
                  <PendingItem
                    pending={pending}
                    username={me.username}
                    onRetry={() => chat.retry(pending.nonce)}
                    onDiscard={() => chat.discard(pending.nonce)}
                  />
                </li>
              ))}
            </ol>
          </div>
          <p className="typing" aria-live="polite">
            {typing}
          </p>
          {chat.error && (
            <div className="notice notice-error" role="alert">
              <p>{chat.error}</p>
              <button type="button" className="button secondary" onClick={chat.dismissError}>
                Dismiss
              </button>
            </div>
          )}
          {isMember === false ? (
            <p className="composer-locked">Join this server to send messages</p>
          ) : isMember ? (
            <Composer channelName={name} onSend={chat.send} onTyping={chat.notifyTyping} />
          ) : null}
        </div>
        <section className="online" aria-label="Online">
          <h3 className="side-title">Online — {chat.online.length}</h3>
          <ul>
            {chat.online.map((user) => (
              <li key={user.id}>
                <span className="presence-dot" aria-hidden="true" />
                {user.username}
              </li>
            ))}
          </ul>
        </section>
      </div>
    </section>
  );
}

