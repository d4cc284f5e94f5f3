// The chat engine, for any ChatSource (a server's channel or a conversation): binds a ChatSocket
// to the query cache. Live frames update the message list; our own messages stay pending until
// the server echoes their nonce back, and are re-sent (same nonce) after a reconnect; presence
// and typing are kept here. Frames about the chat's context (its server, a conversation's
// participants) are handed to `onFrame` for the caller to apply. `account.deleted` (every socket
// of a deleted account hears it) ends the session here, as the personal socket does.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../api/context';
import { keys } from '../api/queries';
import { conversationsQuery } from '../dms/queries';
import type { ClientFrame, CurrentUser, IncomingFrame, ReplyPreview, UserRef } from '../api/types';
import { ACCOUNT_DELETED_NOTICE, useEndSession } from '../auth/session';
import {
  emptyMessages,
  frameAction,
  lastSeq,
  messagesReducer,
  newNonce,
  type MessagesAction,
  type MessagesState,
  type PendingMessage,
} from './messages';
import { applyPinsFrame } from './pins';
import { ChatSocket, type ConnectionState, type SocketFactory } from './socket';
import type { ChatSource } from './sources';
import { createThrottle, TypingTracker } from './typing';
import { HISTORY_PAGE } from './useHistory';

export const MAX_MESSAGE_CHARS = 2000;
/** How long a `/pm` notice ("Sent privately to bob") stays. */
export const PM_NOTICE_MS = 8_000;

/** `/pm <username> <text>`: a private message, which the server never posts to the chat. */
export function privateMessageTarget(text: string): string | null {
  const match = /^\/pm(?:\s+(\S+))?(?:\s|$)/.exec(text.trim());
  return match ? (match[1] ?? '') : null;
}

/** What became of a `/pm` sent from this chat. */
export interface PrivateNotice {
  /** The nonce it was sent with. */
  id: string;
  kind: 'delivered' | 'error';
  /** The recipient's username (as the server spells it once delivered). */
  target: string;
  /** For errors: what went wrong. */
  text?: string;
}

export interface ChatOptions {
  source: ChatSource;
  me: CurrentUser;
  /** Connect only once the first history page is in (so the resume point is known). */
  enabled: boolean;
  /** Every frame, after the engine applied what it knows: for the chat's context. */
  onFrame?: (frame: IncomingFrame) => void;
  /** The socket was closed with 4004: the chat does not exist (any more), or we left it. */
  onGone: () => void;
  createSocket?: SocketFactory;
}

/** The server refused to post our messages here (not a member, blocked) until one goes through. */
export interface Refusal {
  code: string;
  message: string;
}

export interface Chat {
  connection: ConnectionState;
  online: UserRef[];
  /**
   * How many are online: `online.length` in a small channel; in a large one (past the server's
   * presence limit) the server's count, while `online` is only a first page of them.
   */
  onlineCount: number;
  typing: UserRef[];
  /** The last problem with sending, for an alert. */
  error: string | null;
  dismissError: () => void;
  refusal: Refusal | null;
  /** Sends a message; while `replyTo` is set, as an answer to that message (`reply_to`). */
  send: (content: string) => boolean;
  /** The message the next one sent answers, as the composer shows it. */
  replyTo: ReplyPreview | null;
  setReplyTo: (reply: ReplyPreview | null) => void;
  retry: (nonce: string) => void;
  discard: (nonce: string) => void;
  notifyTyping: () => void;
  /** What became of the `/pm`s sent here, newest last; they go away after PM_NOTICE_MS. */
  notices: PrivateNotice[];
  dismissNotice: (id: string) => void;
}

/** The socket frame that posts a pending message (again, after a reconnect: the same nonce). */
function messageFrame(pending: Pick<PendingMessage, 'content' | 'nonce' | 'reply'>): ClientFrame {
  const replyTo = pending.reply && !pending.reply.deleted ? { reply_to: pending.reply.id } : {};
  return { type: 'message', message: pending.content, nonce: pending.nonce, ...replyTo };
}

/** Error codes that refuse every message we send here, not only the one they name. */
const REFUSALS = new Set(['not_member', 'blocked']);

export function useChat({ source, me, enabled, onFrame, onGone, createSocket }: ChatOptions): Chat {
  const api = useApi();
  const queryClient = useQueryClient();
  const endSession = useEndSession();
  const channelId = source.channelId;
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [online, setOnline] = useState<UserRef[]>([]);
  // A large channel tells counts instead of every arrival (`presence.count`).
  const [crowd, setCrowd] = useState<{ count: number; complete: boolean }>({ count: 0, complete: true });
  const [typing, setTyping] = useState<UserRef[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [replyTo, setReplyTo] = useState<ReplyPreview | null>(null);
  const socketRef = useRef<ChatSocket | null>(null);
  const trackerRef = useRef<TypingTracker | null>(null);
  const throttle = useRef(createThrottle()).current;
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [notices, setNotices] = useState<PrivateNotice[]>([]);
  /** The `/pm`s waiting for an answer, by nonce: the username they were sent to. */
  const privateSends = useRef(new Map<string, string>());
  const noticeTimers = useRef(new Set<ReturnType<typeof setTimeout>>());

  const dismissNotice = useCallback((id: string) => setNotices((all) => all.filter((n) => n.id !== id)), []);
  const notify = useCallback(
    (notice: PrivateNotice) => {
      setNotices((all) => [...all.filter((n) => n.id !== notice.id).slice(-2), notice]);
      const timer = setTimeout(() => {
        noticeTimers.current.delete(timer);
        dismissNotice(notice.id);
      }, PM_NOTICE_MS);
      noticeTimers.current.add(timer);
    },
    [dismissNotice],
  );
  useEffect(() => {
    const timers = noticeTimers.current;
    return () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    };
  }, []);

  const update = useCallback(
    (action: MessagesAction) =>
      queryClient.setQueryData<MessagesState>(keys.messages(channelId), (state) =>
        messagesReducer(state ?? emptyMessages, action),
      ),
    [queryClient, channelId],
  );

  const pendingOf = useCallback(
    () => queryClient.getQueryData<MessagesState>(keys.messages(channelId))?.pending ?? [],
    [queryClient, channelId],
  );

  /** (Re)sends every message still waiting for its echo, with its original nonce. */
  const flush = useCallback(() => {
    for (const pending of pendingOf()) {
      if (pending.status !== 'sending') continue;
      if (!socketRef.current?.send(messageFrame(pending))) return;
    }
  }, [pendingOf]);

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
      const page = await source.fetchPage({ limit: HISTORY_PAGE });
      update({ type: 'page', messages: page, limit: HISTORY_PAGE, older: false });
    } catch {
      // The replay already brought every new message; edits will come with the next resync.
    }
  }, [source, update]);

  const failSending = useCallback(
    (message: string, nonce: string | null | undefined, onlyFirst: boolean, dropReply = false) => {
      const sending = pendingOf().filter((p) => p.status === 'sending');
      // The server names the refused message by its nonce; without one, guess.
      const refused = nonce
        ? sending.filter((p) => p.nonce === nonce)
        : onlyFirst
          ? sending.slice(0, 1)
          : sending;
      for (const pending of refused) {
        update({ type: 'failed', nonce: pending.nonce, error: message, ...(dropReply ? { dropReply } : {}) });
      }
    },
    [pendingOf, update],
  );

  const handleFrame = (frame: IncomingFrame) => {
    const tracker = trackerRef.current;
    switch (frame.type) {
      case 'account.deleted':
        // Whichever socket hears it first: the session ends with the notice.
        endSession(ACCOUNT_DELETED_NOTICE);
        break;
      case 'chat.message':
        update({ type: 'received', message: frame.new_message });
        tracker?.stopped(frame.new_message.sender_id);
        // One of ours went through: whatever refused the earlier ones is over.
        if (frame.new_message.sender_id === me.user_id) setRefusal(null);
        break;
      case 'message.updated':
      case 'message.deleted':
      case 'message.pinned':
      case 'message.unpinned':
      case 'reaction.added':
      case 'reaction.removed': {
        const action = frameAction(frame, me.user_id);
        if (action) update(action);
        applyPinsFrame(queryClient, channelId, frame);
        break;
      }
      case 'presence.list':
        setOnline(frame.users);
        setCrowd({ count: frame.count ?? frame.users.length, complete: frame.complete ?? true });
        break;
      case 'presence.count':
        setCrowd({ count: frame.count, complete: false });
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
      case 'private_message_delivered': {
        const nonce = frame.nonce;
        if (!nonce || !privateSends.current.has(nonce)) break;
        privateSends.current.delete(nonce);
        notify({ id: nonce, kind: 'delivered', target: frame.target });
        // The 1:1 conversation may be new: the list (and so the notice's link, and the personal
        // socket's subscriptions) picks it up, even where no DM list is shown.
        void queryClient
          .fetchQuery({ ...conversationsQuery(api.client, queryClient), staleTime: 0 })
          .catch(() => undefined);
        break;
      }
      case 'error':
        if (frame.nonce && privateSends.current.has(frame.nonce)) {
          // A refused /pm concerns that message only, not the chat's pending ones.
          const target = privateSends.current.get(frame.nonce) ?? '';
          privateSends.current.delete(frame.nonce);
          const text =
            frame.code === 'unknown_user'
              ? `No user named ${target}`
              : frame.code === 'invalid_message' && target === ''
                ? 'Write /pm, a username, then your message'
                : frame.error;
          notify({ id: frame.nonce, kind: 'error', target, text });
          break;
        }
        if (REFUSALS.has(frame.code)) {
          failSending(frame.error, frame.nonce, false);
          setRefusal({ code: frame.code, message: frame.error });
          break;
        }
        switch (frame.code) {
          case 'rate_limited':
            setError(frame.error);
            flushLater(frame.retry_after ?? 1_000);
            break;
          case 'unavailable':
            flushLater(1_000);
            break;
          case 'invalid_message':
            failSending(frame.error, frame.nonce, true);
            break;
          case 'invalid_reply':
            // The message it answers is gone (or not of this chat): a retry sends it plainly.
            failSending(frame.error, frame.nonce, true, true);
            break;
          default:
            setError(frame.error);
        }
        break;
      default:
        break;
    }
    onFrame?.(frame);
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
    const socket = new ChatSocket({
      path: source.socketPath,
      after: lastSeq(queryClient.getQueryData<MessagesState>(keys.messages(source.channelId))),
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
          setCrowd({ count: 0, complete: true });
          tracker.dispose();
          setTyping([]);
        }
        if (state === 'unauthorized') queryClient.setQueryData(keys.me, null);
        if (state === 'gone') onGoneRef.current();
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
  }, [api, queryClient, source, enabled, createSocket, flush, resync]);

  const send = useCallback(
    (content: string): boolean => {
      const text = content.trim();
      if (!text) return false;
      if ([...text].length > MAX_MESSAGE_CHARS) {
        setError(`A message may have at most ${MAX_MESSAGE_CHARS} characters.`);
        return false;
      }
      const nonce = newNonce();
      const target = privateMessageTarget(text);
      if (target !== null) {
        // Not a message of this chat: nothing pending here, a notice once the server answers.
        if (!socketRef.current?.send({ type: 'message', message: text, nonce })) {
          setError('Not connected: the private message was not sent. Try again in a moment.');
          return false;
        }
        privateSends.current.set(nonce, target);
        throttle.reset();
        return true;
      }
      const reply = replyTo ?? undefined;
      update({ type: 'queued', nonce, content: text, ...(reply ? { reply } : {}) });
      socketRef.current?.send(messageFrame({ content: text, nonce, reply }));
      setReplyTo(null);
      throttle.reset();
      return true;
    },
    [update, throttle, replyTo],
  );

  const retry = useCallback(
    (nonce: string) => {
      update({ type: 'retrying', nonce });
      const pending = pendingOf().find((p) => p.nonce === nonce);
      if (pending) socketRef.current?.send(messageFrame(pending));
    },
    [pendingOf, update],
  );

  const discard = useCallback((nonce: string) => update({ type: 'discarded', nonce }), [update]);

  const notifyTyping = useCallback(() => {
    if (socketRef.current?.state === 'open' && throttle.ready()) socketRef.current.send({ type: 'typing' });
  }, [throttle]);

  const dismissError = useCallback(() => setError(null), []);

  return {
    connection,
    online,
    onlineCount: crowd.complete ? online.length : Math.max(crowd.count, online.length),
    typing,
    error,
    dismissError,
    refusal,
    send,
    replyTo,
    setReplyTo,
    retry,
    discard,
    notifyTyping,
    notices,
    dismissNotice,
  };
}
