// What a reply shows of the message it answers (a button that jumps to it), and the bar above
// the composer naming the message about to be answered.
import type { ReplyPreview } from '../api/types';
import { excerptText } from '../chat/replies';

function quoteText(reply: ReplyPreview): string {
  return excerptText(reply.content ?? '');
}

/** Above a reply's text. Without `onJump` (a pending message), only the words. */
export function ReplyQuote({ reply, onJump }: { reply: ReplyPreview; onJump?: (id: number) => void }) {
  if (reply.deleted) {
    return (
      <p className="reply-quote deleted">
        <span className="reply-arrow" aria-hidden="true">
          ↱
        </span>
        Replying to a deleted message
      </p>
    );
  }
  const body = (
    <>
      <span className="reply-arrow" aria-hidden="true">
        ↱
      </span>
      <span className="reply-sender">{reply.sender}</span> <span className="reply-text">{quoteText(reply)}</span>
    </>
  );
  if (!onJump) return <p className="reply-quote">{body}</p>;
  return (
    <button
      type="button"
      className="reply-quote"
      aria-label={`Replying to ${reply.sender ?? 'someone'}: ${quoteText(reply)}. Go to that message`}
      onClick={() => onJump(reply.id)}
    >
      {body}
    </button>
  );
}

/** The message the composer answers, with a way to stop answering it. */
export function ReplyBar({ reply, onCancel }: { reply: ReplyPreview; onCancel: () => void }) {
  return (
    <div className="reply-bar" role="status">
      <p>
        Replying to <strong>{reply.deleted ? 'a deleted message' : reply.sender}</strong>
        {!reply.deleted && <span className="reply-text"> {quoteText(reply)}</span>}
      </p>
      <button type="button" className="icon-button" aria-label="Cancel the reply" onClick={onCancel}>
        ×
      </button>
    </div>
  );
}
