// The signed-in client's personal socket (chat/personal.ts), bound to the query cache: mounted
// once by the frame (Layout), started while someone is signed in and stopped on logout.
// - On every `ready` (the first and after each reconnect) it subscribes to my conversations
//   (the 200 most recently active, each from the highest seq the cache holds) and reloads
//   GET /api/dms/: what is addressed to me is replayed from the socket's cursor, but the
//   conversations' own frames other than messages (participants, edits) are not; whenever the
//   list changes it subscribes to conversations it does not follow yet.
// - `resync` (the cursor could not be resumed: what was addressed to me meanwhile is lost):
//   the conversations and everything cached about servers and their channels are reloaded.
// - Conversation frames go through dms/live.ts into the list and, when cached, the
//   conversation's messages, so the list and an open conversation agree.
// - `unsubscribed` `not_found`: the conversation is gone for me (dropped from the list; an open
//   view reads `gone` and says so). `private_message`: a toast linking to the conversation.
//   `alert` (something I did on another connection was refused): a notice with its message.
// - The events of my servers (`server.*`, `channel.*`, `member.*`), heard whatever is open, go
//   through chat/serverEvents.ts into the cache, as an open channel's own do: the rail, the
//   channel lists and the member lists follow. A page showing what I lost moves away with a
//   notice: a deleted channel back to its server, a deleted server to Home. A server I left or
//   was removed from only leaves the rail (anyone may read it: its page offers Join again).
// - My unread counts (chat/liveUnread.ts): `unread.updated` (my servers' channels, batched by
//   the server) and the conversations' messages counted where I am not looking, `mention` and
//   `read.updated` applied, GET /api/me/unread/ asked again on each `ready`.
// - My DM partners' presence (`user.presence.list`, `user.presence`; chat/presence.ts): who is
//   online, as `online`; the first list after each `ready` replaces, later ones add, and nothing
//   is known while disconnected.
// - `account.deleted` (from another client; the server closes with 4001 next), or a 4001 the
//   session could not be renewed after (`unauthorized`: the account is gone or the session over,
//   its frame missed while disconnected): the session ends here, on to the login page with
//   "Your account was deleted." (or, without the frame, "Your session ended."); the socket does
//   not reconnect.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useApi } from '../api/context';
import { invalidateAllServers, keys } from '../api/queries';
import type { Conversation, CurrentUser, IncomingFrame } from '../api/types';
import { ACCOUNT_DELETED_NOTICE, SESSION_ENDED_NOTICE, useEndSession } from '../auth/session';
import { removeConversation } from '../dms/cache';
import { applyConversationFrame, applyToMessages, refreshConversations } from '../dms/live';
import { conversationsQuery } from '../dms/queries';
import { createUnreadFeed } from './liveUnread';
import { lastSeq, type MessagesState } from './messages';
import { MAX_SUBSCRIPTIONS, PersonalSocket } from './personal';
import { nobodyOnline, withPresence, withPresenceList } from './presence';
import { applyServerEvent, pageToLeave } from './serverEvents';
import type { ConnectionState, SocketFactory } from './socket';
import { viewedChannel } from './unread';

/** How long a private message's toast, or an alert's notice, stays. */
export const TOAST_MS = 10_000;

export interface PrivateToast {
  id: number;
  from: string;
  text: string;
  conversationId: number;
}

/** An `alert`: an action of mine on another connection was refused (`blocked`, `unknown_user`...). */
export interface AlertToast {
  id: number;
  code: string;
  text: string;
}

export interface Personal {
  connection: ConnectionState | 'off';
  /** Conversations that are gone for me (deleted, or I am no longer in them). */
  gone: ReadonlySet<number>;
  /** My DM partners (everyone I share a conversation with) who are online now, by id. */
  online: ReadonlySet<number>;
}

const none: ReadonlySet<number> = new Set();
const PersonalContext = createContext<Personal>({ connection: 'off', gone: none, online: nobodyOnline });

export function usePersonal(): Personal {
  return useContext(PersonalContext);
}

function conversationOf(frame: IncomingFrame): number | null {
  switch (frame.type) {
    case 'chat.message':
      return frame.new_message.channel_id;
    case 'message.updated':
      return frame.message.channel_id;
    case 'message.deleted':
    case 'conversation.participant_added':
    case 'conversation.participant_left':
      return frame.channel_id;
    default:
      return null;
  }
}

export function PersonalProvider({
  me,
  createSocket,
  children,
}: {
  me: CurrentUser | null | undefined;
  createSocket?: SocketFactory;
  children: ReactNode;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const [connection, setConnection] = useState<ConnectionState | 'off'>('off');
  const [gone, setGone] = useState<ReadonlySet<number>>(none);
  const [online, setOnline] = useState<ReadonlySet<number>>(nobodyOnline);
  const [toasts, setToasts] = useState<PrivateToast[]>([]);
  const [alerts, setAlerts] = useState<AlertToast[]>([]);
  const pathRef = useRef(pathname);
  // A ref, not a dependency: navigate changes with the location, the socket must not.
  const navigateRef = useRef(navigate);
  useEffect(() => {
    pathRef.current = pathname;
    navigateRef.current = navigate;
  });
  const endSession = useEndSession();
  const userId = me?.user_id;

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const dismissAlert = useCallback((id: number) => setAlerts((all) => all.filter((a) => a.id !== id)), []);

  useEffect(() => {
    if (userId === undefined) return;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    let nextToast = 0;
    const later = (run: () => void, ms: number) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        run();
      }, ms);
      timers.add(timer);
    };
    const setGoneFor = (id: number, isGone: boolean) =>
      setGone((all) => {
        if (all.has(id) === isGone) return all;
        const next = new Set(all);
        if (isGone) next.add(id);
        else next.delete(id);
        return next;
      });

    const unread = createUnreadFeed(queryClient, userId, () => viewedChannel(pathRef.current));
    const wanted = () =>
      (queryClient.getQueryData<Conversation[]>(keys.conversations) ?? []).slice(0, MAX_SUBSCRIPTIONS).map((c) => {
        const messages = queryClient.getQueryData<MessagesState>(keys.messages(c.id));
        // The messages we hold, or else what the list knows: the replay fills what is newer.
        const after = messages ? lastSeq(messages) : c.last_seq;
        return after > 0 ? { id: c.id, after } : { id: c.id };
      });

    /** This connection's `user.presence.list` will be its first: the whole truth. */
    let fullList = false;
    let ended = false;
    /** The account is gone (or the session over): end it here, for good, once. */
    const forcedLogout = (notice: string) => {
      if (ended) return;
      ended = true;
      socket.stop();
      endSession(notice);
    };

    const onFrame = (frame: IncomingFrame) => {
      unread.onFrame(frame);
      const id = conversationOf(frame);
      if (id !== null) {
        applyToMessages(queryClient, id, frame);
        if (applyConversationFrame(queryClient, id, frame, userId).left) setGoneFor(id, true);
        return;
      }
      const lost = applyServerEvent(queryClient, frame, userId);
      const away = lost && pageToLeave(pathRef.current, lost);
      if (away) navigateRef.current(away.to, { replace: true, state: { notice: away.notice } });
      switch (frame.type) {
        case 'ready':
          fullList = true;
          break;
        case 'user.presence.list': {
          const replace = fullList;
          fullList = false;
          setOnline((all) => withPresenceList(all, frame.online, replace));
          break;
        }
        case 'user.presence':
          setOnline((all) => withPresence(all, frame.user.id, frame.online));
          break;
        case 'account.deleted':
          forcedLogout(ACCOUNT_DELETED_NOTICE);
          break;
        case 'conversation.added':
          setGoneFor(frame.conversation_id, false);
          void refreshConversations(queryClient);
          break;
        case 'subscribed':
          setGoneFor(frame.channel_id, false);
          break;
        case 'unsubscribed':
          if (frame.reason === 'not_found') {
            queryClient.setQueryData<Conversation[]>(keys.conversations, (all) =>
              all ? removeConversation(all, frame.channel_id) : all,
            );
            setGoneFor(frame.channel_id, true);
          } else if (frame.reason === 'unavailable') {
            later(() => socket.sync(), 5_000);
          }
          break;
        case 'private_message': {
          const list = queryClient.getQueryData<Conversation[]>(keys.conversations);
          if (!list?.some((c) => c.id === frame.conversation_id)) void refreshConversations(queryClient);
          // Reading that conversation already: its message is right there.
          if (pathRef.current === `/dms/${frame.conversation_id}`) break;
          const toast: PrivateToast = {
            id: (nextToast += 1),
            from: frame.user,
            text: frame.message,
            conversationId: frame.conversation_id,
          };
          setToasts((all) => [...all.slice(-2), toast]);
          later(() => dismiss(toast.id), TOAST_MS);
          break;
        }
        case 'alert': {
          const alert: AlertToast = { id: (nextToast += 1), code: frame.code, text: frame.message };
          setAlerts((all) => [...all.slice(-2), alert]);
          later(() => dismissAlert(alert.id), TOAST_MS);
          break;
        }
        default:
          break;
      }
    };

    // A fetch in flight is shared: a `resync` right after `ready` costs one request.
    const reloadConversations = () =>
      void queryClient.fetchQuery({ ...conversationsQuery(api.client, queryClient), staleTime: 0 }).catch(() => undefined);

    const socket = new PersonalSocket({
      wanted,
      refreshSession: api.refresh,
      createSocket,
      onFrame,
      // The cursor replays what is addressed to me, but not the conversations' participant
      // changes and edits: ask for the list.
      onReady: reloadConversations,
      onResync: () => {
        // What was addressed to me while away is lost: reload what it would have changed.
        reloadConversations();
        void queryClient.invalidateQueries({ queryKey: keys.anyConversation });
        void invalidateAllServers(queryClient);
      },
      onStateChange: (state) => {
        setConnection(state);
        // The next `ready` brings a full list.
        if (state !== 'open') setOnline(nobodyOnline);
        // Without the frame the cause is unknown (the account gone, or a session over).
        if (state === 'unauthorized') forcedLogout(SESSION_ENDED_NOTICE);
      },
    });
    // A changed list (a refetch, a conversation opened or created here): follow what is new.
    const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
      if (event.type !== 'updated' || event.action.type !== 'success') return;
      const key = event.query.queryKey;
      if (key[0] === keys.conversations[0] && key[1] === keys.conversations[1]) socket.sync();
    });
    setConnection(socket.state);
    socket.start();
    return () => {
      unsubscribe();
      unread.stop();
      socket.stop();
      for (const timer of timers) clearTimeout(timer);
      setConnection('off');
      setGone(none);
      setOnline(nobodyOnline);
      setToasts([]);
      setAlerts([]);
    };
  }, [api, queryClient, userId, createSocket, dismiss, dismissAlert, endSession]);

  const value = useMemo<Personal>(() => ({ connection, gone, online }), [connection, gone, online]);
  return (
    <PersonalContext.Provider value={value}>
      {children}
      {(toasts.length > 0 || alerts.length > 0) && (
        <div className="toasts">
          {alerts.length > 0 && (
            <div className="toast-group" aria-label="Notices" role="region">
              {alerts.map((alert) => (
                <div key={alert.id} className="toast toast-alert" role="alert" data-code={alert.code}>
                  <p className="toast-body">
                    <span className="toast-kicker">Refused</span>
                    <span className="toast-text">{alert.text}</span>
                  </p>
                  <DismissButton onClick={() => dismissAlert(alert.id)} />
                </div>
              ))}
            </div>
          )}
          {toasts.length > 0 && (
            <div className="toast-group" aria-label="Private messages" role="region">
              {toasts.map((toast) => (
                <div key={toast.id} className="toast" role="status">
                  <Link to={`/dms/${toast.conversationId}`} className="toast-link" onClick={() => dismiss(toast.id)}>
                    <span className="toast-kicker">Private message</span>
                    <span className="toast-text">
                      <strong>{toast.from}</strong>: {toast.text}
                    </span>
                  </Link>
                  <DismissButton onClick={() => dismiss(toast.id)} />
                </div>
              ))}
            </div>
          )}
        </div>
      )}
    </PersonalContext.Provider>
  );
}

/** The × that closes a toast. */
function DismissButton({ onClick }: { onClick: () => void }) {
  return (
    <button type="button" className="icon-button toast-close" aria-label="Dismiss" onClick={onClick}>
      ×
    </button>
  );
}
