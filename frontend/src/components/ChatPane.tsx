import { skipToken, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { keys } from '../api/queries';
import type { ChatMessage, Conversation } from '../api/types';
import type { CurrentUser } from '../api/types';
import { MessageToolsContext, type MessageTools } from '../chat/messageTools';
import { previewOf } from '../chat/replies';
import type { ConnectionState } from '../chat/socket';
import type { ChatSource } from '../chat/sources';
import { typingText } from '../chat/typing';
import type { Chat, PrivateNotice } from '../chat/useChat';
import type { ChatHistory } from '../chat/useHistory';
import { useJump } from '../chat/useJump';
import { PinIcon, SearchIcon } from './Icons';
import { MessageList } from './MessageList';
import { PinsPanel } from './Pins';
import { ReplyBar } from './ReplyQuote';
import { SearchPanel } from './SearchPanel';
import { MembersToggle } from './Shell';

function connectionText(state: ConnectionState, goneText: string): string {
  if (state === 'open') return 'Connected';
  if (state === 'gone') return goneText;
  if (state === 'unauthorized') return 'Logged out';
  return 'Reconnecting…';
}

export interface ChatPaneProps {
  /** The chat's heading: a channel's name (h2, under its server's h1), a conversation's (h1). */
  heading: ReactNode;
  headingLevel: 1 | 2;
  titleId: string;
  /** Beside the heading (not part of it): who is online (a conversation's partners). */
  presence?: ReactNode;
  topic?: string;
  /** Buttons beside the connection state (block, add people, leave). */
  actions?: ReactNode;
  /** Above the messages: notices about the chat. */
  notice?: ReactNode;
  chat: Chat;
  history: ChatHistory;
  /** Where its messages and pins are read from. */
  source: ChatSource;
  /**
   * A server channel's: its server (searched by default) and owner (who may pin anyone's
   * message). A conversation has none: any participant may pin there.
   */
  server?: { id: number; name: string; owner: number };
  me: CurrentUser;
  /** The composer, or what stands in its place (join the server, you blocked them, …). */
  composer: ReactNode;
  goneText: string;
  emptyText?: string;
  /** Whether I may write here (reply, react); a server's visitor may not. Default: yes. */
  canPost?: boolean;
  /** The newest message is on screen (its seq): ack it as read. */
  onSeen?: (seq: number) => void;
}

/** The middle column of a chat, channel or conversation alike. */
export function ChatPane({
  heading,
  headingLevel,
  titleId,
  presence,
  topic,
  actions,
  notice,
  chat,
  history,
  source,
  server,
  me,
  composer,
  goneText,
  emptyText,
  canPost = true,
  onSeen,
}: ChatPaneProps) {
  const Heading = headingLevel === 1 ? 'h1' : 'h2';
  const panelId = useId();
  const [panel, setPanel] = useState<'pins' | 'search' | null>(null);
  const composerArea = useRef<HTMLDivElement>(null);
  const { jumpTo, highlighted, notice: jumpNotice, dismissNotice: dismissJumpNotice } = useJump(source.channelId, history);
  const { setReplyTo } = chat;
  const ownerId = server?.owner;
  const tools = useMemo<MessageTools>(
    () => ({
      canPost,
      canPin: (message: ChatMessage) => ownerId === undefined || message.sender_id === me.user_id || ownerId === me.user_id,
      reply: (message: ChatMessage) => {
        setReplyTo(previewOf(message));
        composerArea.current?.querySelector<HTMLElement>('textarea')?.focus();
      },
      jumpTo: (id: number) => void jumpTo(id),
      highlighted,
    }),
    [canPost, ownerId, me.user_id, setReplyTo, jumpTo, highlighted],
  );
  useJumpFromRoute(history.history.isSuccess, tools.jumpTo);
  // The message being answered was deleted meanwhile: say so before the server does.
  const replyTo =
    chat.replyTo && history.history.data?.deleted.includes(chat.replyTo.id) ? { id: chat.replyTo.id, deleted: true } : chat.replyTo;
  const toggle = (which: 'pins' | 'search') => setPanel((open) => (open === which ? null : which));
  const toggles = { pins: useRef<HTMLButtonElement>(null), search: useRef<HTMLButtonElement>(null) };
  /** Escape in a panel closes it; focus goes back to the button that opened it. */
  const closePanelOnEscape = (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || !panel || event.defaultPrevented) return;
    event.stopPropagation();
    toggles[panel].current?.focus();
    setPanel(null);
  };
  return (
    <section className="chat" aria-labelledby={titleId}>
      <div className="chat-head">
        <Heading id={titleId} className="chat-title">
          {heading}
        </Heading>
        {presence}
        {topic && <p className="chat-topic">{topic}</p>}
        <div className="chat-tools">
          <p role="status" aria-label="Connection" className={`connection connection-${chat.connection}`}>
            <span className="connection-label">{connectionText(chat.connection, goneText)}</span>
          </p>
          {actions}
          <button
            type="button"
            className="button secondary tool-button"
            ref={toggles.pins}
            aria-label="Pinned messages"
            aria-expanded={panel === 'pins'}
            aria-controls={panel === 'pins' ? panelId : undefined}
            onClick={() => toggle('pins')}
          >
            <PinIcon />
            <span className="tool-label">Pins</span>
          </button>
          <button
            type="button"
            className="button secondary tool-button"
            ref={toggles.search}
            aria-label="Search messages"
            aria-expanded={panel === 'search'}
            aria-controls={panel === 'search' ? panelId : undefined}
            onClick={() => toggle('search')}
          >
            <SearchIcon />
            <span className="tool-label">Search</span>
          </button>
          <MembersToggle />
        </div>
      </div>
      {notice}
      {panel && (
        <div className="chat-panel-frame" onKeyDown={closePanelOnEscape}>
          {panel === 'pins' && <PinsPanel id={panelId} source={source} onJump={tools.jumpTo} />}
          {panel === 'search' && <SearchPanel id={panelId} serverId={server?.id} serverName={server?.name} />}
        </div>
      )}
      {jumpNotice && (
        <div className="notice chat-notice jump-notice" role="status">
          <p>{jumpNotice}</p>
          <button type="button" className="icon-button pm-dismiss" aria-label="Dismiss" onClick={dismissJumpNotice}>
            ×
          </button>
        </div>
      )}
      <MessageToolsContext.Provider value={tools}>
        <MessageList history={history} me={me} onRetry={chat.retry} onDiscard={chat.discard} emptyText={emptyText} onSeen={onSeen} />
      </MessageToolsContext.Provider>
      <p className="typing" aria-live="polite">
        {typingText(chat.typing)}
      </p>
      <PrivateNotices notices={chat.notices} onDismiss={chat.dismissNotice} meId={me.user_id} />
      {chat.error && (
        <div className="notice notice-error chat-error" role="alert">
          <p>{chat.error}</p>
          <button type="button" className="button secondary" onClick={chat.dismissError}>
            Dismiss
          </button>
        </div>
      )}
      <div
        ref={composerArea}
        className="composer-area"
        onKeyDown={(event) => {
          // Escape in the composer stops answering (the @ list, when open, takes it first).
          if (event.key === 'Escape' && chat.replyTo && !event.defaultPrevented) {
            event.stopPropagation();
            setReplyTo(null);
          }
        }}
      >
        {replyTo && canPost && <ReplyBar reply={replyTo} onCancel={() => setReplyTo(null)} />}
        {composer}
      </div>
    </section>
  );
}

/**
 * A jump asked for by the route (a search hit opened this chat: `state.jumpTo`), once the
 * history is in; the state is then dropped, so going back or reloading does not jump again.
 */
function useJumpFromRoute(ready: boolean, jumpTo: (id: number) => void) {
  const location = useLocation();
  const navigate = useNavigate();
  const state = location.state as { jumpTo?: number } | null;
  const wanted = state?.jumpTo;
  const latest = useRef({ jumpTo, state, to: `${location.pathname}${location.search}` });
  useEffect(() => {
    latest.current = { jumpTo, state, to: `${location.pathname}${location.search}` };
  });
  useEffect(() => {
    if (!ready || typeof wanted !== 'number') return;
    const { jumpTo: jump, state: current, to } = latest.current;
    jump(wanted);
    const { jumpTo: _, ...rest } = current ?? {};
    void navigate(to, { replace: true, state: Object.keys(rest).length > 0 ? rest : null });
  }, [ready, wanted, navigate]);
}

/** The 1:1 conversation with `username`, if the cached list has it (never fetched from here). */
function useDirectWith(username: string, meId: number): Conversation | undefined {
  const list = useQuery<Conversation[]>({ queryKey: keys.conversations, queryFn: skipToken }).data;
  const name = username.toLowerCase();
  return list?.find(
    (c) => c.kind === 'dm' && c.participants.some((p) => p.id !== meId && p.username.toLowerCase() === name),
  );
}

function PrivateNotice({ notice, meId, onDismiss }: { notice: PrivateNotice; meId: number; onDismiss: (id: string) => void }) {
  const conversation = useDirectWith(notice.target, meId);
  const delivered = notice.kind === 'delivered';
  return (
    <div className={`notice pm-notice ${delivered ? 'pm-delivered' : 'notice-error'}`} role={delivered ? 'status' : 'alert'}>
      <p>
        {delivered ? (
          <>
            Sent privately to{' '}
            {conversation ? <Link to={`/dms/${conversation.id}`}>{notice.target}</Link> : <strong>{notice.target}</strong>}
          </>
        ) : (
          <>Private message not sent: {notice.text}</>
        )}
      </p>
      <button type="button" className="icon-button pm-dismiss" aria-label="Dismiss" onClick={() => onDismiss(notice.id)}>
        ×
      </button>
    </div>
  );
}

function PrivateNotices({ notices, meId, onDismiss }: { notices: PrivateNotice[]; meId: number; onDismiss: (id: string) => void }) {
  if (notices.length === 0) return null;
  return (
    <div className="pm-notices">
      {notices.map((notice) => (
        <PrivateNotice key={notice.id} notice={notice} meId={meId} onDismiss={onDismiss} />
      ))}
    </div>
  );
}
