import { useEffect, useLayoutEffect, useRef, type UIEvent } from 'react';
import type { ChatMessage, CurrentUser } from '../api/types';
import { dayLabel, groupByAuthor, type Placed } from '../chat/grouping';
import { emptyMessages, type PendingMessage } from '../chat/messages';
import type { ChatHistory } from '../chat/useHistory';
import { MessageItem } from './MessageItem';
import { PendingItem } from './PendingItem';
import { ErrorNotice, Loading } from './Status';

type Entry = { kind: 'stored'; message: ChatMessage } | { kind: 'pending'; pending: PendingMessage };

export interface MessageListProps {
  history: ChatHistory;
  me: CurrentUser;
  onRetry: (nonce: string) => void;
  onDiscard: (nonce: string) => void;
  /** Shown when there is nothing yet. */
  emptyText?: string;
  /** The newest message (its seq) is on screen, in a visible page: the chat is read up to it. */
  onSeen?: (seq: number) => void;
}

/** Whether the page can be seen at all (a tab in the background cannot). */
function pageVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden';
}

/**
 * A chat's log: messages grouped by author with a separator per day, our pending ones last;
 * pinned to the newest message while the reader is at the bottom, older pages loaded when
 * scrolling to the top (or with the button, for keyboards).
 */
export function MessageList({
  history: { history, older },
  me,
  onRetry,
  onDiscard,
  emptyText = 'No messages yet. Say hello!',
  onSeen,
}: MessageListProps) {
  const state = history.data ?? emptyMessages;
  const log = useRef<HTMLDivElement>(null);
  const scroll = useRef({ height: 0, atBottom: true, firstId: undefined as number | undefined });
  const newest = state.messages[state.messages.length - 1];
  const newestItem = useRef<HTMLLIElement>(null);
  /** Where there is no IntersectionObserver (jsdom): being at the bottom is seeing the newest. */
  const seenAtBottom = useRef<() => void>(() => undefined);

  // Stay pinned to the newest message when already at the bottom; keep the reader's place
  // when an older page is prepended above.
  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const firstId = state.messages[0]?.id;
    const prepended =
      scroll.current.firstId !== undefined &&
      firstId !== scroll.current.firstId &&
      el.scrollHeight > scroll.current.height &&
      !scroll.current.atBottom;
    if (prepended) {
      el.scrollTop += el.scrollHeight - scroll.current.height;
    } else if (scroll.current.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    scroll.current.height = el.scrollHeight;
    scroll.current.firstId = firstId;
  }, [state.messages, state.pending]);

  // The newest message on screen (at least a part of it) while the page is visible: read.
  const newestSeq = newest?.seq;
  useEffect(() => {
    if (!onSeen || newestSeq === undefined) return;
    const seq = newestSeq;
    const root = log.current;
    const item = newestItem.current;
    let inView = false;
    const check = () => {
      if (inView && pageVisible()) onSeen(seq);
    };
    let observer: IntersectionObserver | undefined;
    if (typeof IntersectionObserver !== 'undefined' && root && item) {
      observer = new IntersectionObserver(
        (entries) => {
          inView = entries.some((entry) => entry.isIntersecting);
          check();
        },
        { root },
      );
      observer.observe(item);
    } else {
      const atBottom = () => {
        inView = scroll.current.atBottom;
        check();
      };
      seenAtBottom.current = atBottom;
      atBottom();
    }
    document.addEventListener('visibilitychange', check);
    return () => {
      observer?.disconnect();
      seenAtBottom.current = () => undefined;
      document.removeEventListener('visibilitychange', check);
    };
  }, [onSeen, newestSeq]);

  const loadOlder = () => {
    if (state.hasOlder && !older.isPending) older.mutate();
  };
  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const el = event.currentTarget;
    scroll.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    scroll.current.height = el.scrollHeight;
    if (scroll.current.atBottom) seenAtBottom.current();
    if (el.scrollTop < 40 && !older.isError) loadOlder();
  };

  const now = Date.now();
  const entries: Entry[] = [
    ...state.messages.map((message): Entry => ({ kind: 'stored', message })),
    ...state.pending.map((pending): Entry => ({ kind: 'pending', pending })),
  ];
  const place = (entry: Entry): Placed =>
    entry.kind === 'stored'
      ? { senderId: entry.message.sender_id, time: Date.parse(entry.message.timestamp) }
      : { senderId: me.user_id, time: now };
  const grouped = groupByAuthor(entries, place);
  const today = new Date(now);

  return (
    <div ref={log} className="log" role="log" aria-label="Messages" aria-live="polite" tabIndex={0} onScroll={onScroll}>
      {history.isPending && <Loading label="Loading messages…" />}
      {history.isError && <ErrorNotice error={history.error} onRetry={() => void history.refetch()} />}
      {state.hasOlder && (
        <button type="button" className="button secondary load-older" disabled={older.isPending} onClick={loadOlder}>
          {older.isPending ? 'Loading older messages…' : 'Load older messages'}
        </button>
      )}
      {older.isError && <ErrorNotice error={older.error} />}
      {history.isSuccess && entries.length === 0 && <p className="muted log-empty">{emptyText}</p>}
      <ol className="messages">
        {grouped.map((entry) => {
          if (entry.kind === 'day') {
            return (
              <li key={`day-${entry.key}`} className="day-divider">
                <span role="heading" aria-level={3}>
                  <time dateTime={entry.key}>{dayLabel(entry.day, today)}</time>
                </span>
              </li>
            );
          }
          const { item, head } = entry;
          return item.kind === 'stored' ? (
            <li key={item.message.id} ref={item.message.id === newest?.id ? newestItem : undefined}>
              <MessageItem message={item.message} own={item.message.sender_id === me.user_id} head={head} meId={me.user_id} />
            </li>
          ) : (
            <li key={item.pending.nonce}>
              <PendingItem
                pending={item.pending}
                username={me.username}
                userId={me.user_id}
                head={head}
                onRetry={() => onRetry(item.pending.nonce)}
                onDiscard={() => onDiscard(item.pending.nonce)}
              />
            </li>
          );
        })}
      </ol>
    </div>
  );
}
