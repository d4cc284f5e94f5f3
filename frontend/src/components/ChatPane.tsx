import { skipToken, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { keys } from '../api/queries';
import type { Conversation } from '../api/types';
import type { CurrentUser } from '../api/types';
import type { ConnectionState } from '../chat/socket';
import { typingText } from '../chat/typing';
import type { Chat, PrivateNotice } from '../chat/useChat';
import type { ChatHistory } from '../chat/useHistory';
import { MessageList } from './MessageList';
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
  me: CurrentUser;
  /** The composer, or what stands in its place (join the server, you blocked them, …). */
  composer: ReactNode;
  goneText: string;
  emptyText?: string;
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
  me,
  composer,
  goneText,
  emptyText,
  onSeen,
}: ChatPaneProps) {
  const Heading = headingLevel === 1 ? 'h1' : 'h2';
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
          <MembersToggle />
        </div>
      </div>
      {notice}
      <MessageList history={history} me={me} onRetry={chat.retry} onDiscard={chat.discard} emptyText={emptyText} onSeen={onSeen} />
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
      <div className="composer-area">{composer}</div>
    </section>
  );
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
