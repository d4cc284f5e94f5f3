// One of our messages that the server has not confirmed yet: sending, or refused (with Retry
// and Discard); a reply shows what it answers.
import type { PendingMessage } from '../chat/messages';
import { Avatar } from './Avatar';
import { ReplyQuote } from './ReplyQuote';

/** One of our messages that the server has not confirmed (yet). */
export function PendingItem({
  pending,
  username,
  userId,
  head = true,
  onRetry,
  onDiscard,
}: {
  pending: PendingMessage;
  username: string;
  userId: number;
  head?: boolean;
  onRetry: () => void;
  onDiscard: () => void;
}) {
  const state = <span className="message-state">{pending.status === 'sending' ? 'Sending…' : 'Not sent'}</span>;
  return (
    <article className={`message own pending ${pending.status} ${head ? 'head' : 'continued'}`} aria-busy={pending.status === 'sending'}>
      <div className="message-gutter">{head && <Avatar id={userId} name={username} />}</div>
      <div className="message-body">
        {head ? (
          <div className="message-meta">
            <span className="message-sender">{username}</span>
            {state}
          </div>
        ) : (
          <span className="visually-hidden">{username}</span>
        )}
        {pending.reply && <ReplyQuote reply={pending.reply} />}
        <div className="message-text">
          <p className="message-content">{pending.content}</p>
          {!head && state}
        </div>
        {pending.status === 'failed' && (
          <div className="message-failed">
            {pending.error && <p className="field-error">{pending.error}</p>}
            <button type="button" className="button secondary" onClick={onRetry}>
              Retry
            </button>
            <button type="button" className="button secondary" onClick={onDiscard}>
              Discard
            </button>
          </div>
        )}
      </div>
    </article>
  );
}
