import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useApi } from '../api/context';
import { errorMessage, unwrap } from '../api/errors';
import type { ChatMessage } from '../api/types';
import type { PendingMessage } from '../chat/messages';
import { ConfirmDialog } from './ConfirmDialog';

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function Time({ iso }: { iso: string }) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return <time dateTime={iso}>{timeFormat.format(date)}</time>;
}

/** A stored message; its author may edit or delete it. Changes arrive back over the socket. */
export function MessageItem({ message, own }: { message: ChatMessage; own: boolean }) {
  const { client } = useApi();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const [confirming, setConfirming] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const path = { params: { path: { message_id: message.id } } };

  const edit = useMutation({
    mutationFn: (content: string) => unwrap(client.PATCH('/api/messages/{message_id}/', { ...path, body: { content } })),
    onSuccess: () => {
      setEditing(false);
      requestAnimationFrame(() => editButton.current?.focus());
    },
  });
  const article = useRef<HTMLElement>(null);
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE('/api/messages/{message_id}/', path)),
    onSuccess: () => {
      setConfirming(false);
      // The message is about to disappear: leave focus on the conversation, not on <body>.
      article.current?.closest<HTMLElement>('[role="log"]')?.focus();
    },
  });

  const startEditing = () => {
    setDraft(message.content);
    edit.reset();
    setEditing(true);
  };
  const cancelEditing = () => {
    setEditing(false);
    requestAnimationFrame(() => editButton.current?.focus());
  };
  const save = (event?: FormEvent) => {
    event?.preventDefault();
    const content = draft.trim();
    if (!content) return;
    if (content === message.content) cancelEditing();
    else edit.mutate(content);
  };
  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      cancelEditing();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  };

  return (
    <article ref={article} className={`message${own ? ' own' : ''}`}>
      <div className="message-meta">
        <span className="message-sender">{message.sender}</span>
        <Time iso={message.timestamp} />
        {message.edited_at && <span className="message-edited">(edited)</span>}
      </div>
      {editing ? (
        <form className="message-edit" onSubmit={save}>
          <textarea
            aria-label="Edit message"
            value={draft}
            rows={2}
            // Focus moves into the editor the moment it opens.
            autoFocus
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onEditKey}
          />
          <div className="message-edit-actions">
            <button type="submit" className="button" disabled={edit.isPending || !draft.trim()}>
              Save
            </button>
            <button type="button" className="button secondary" onClick={cancelEditing}>
              Cancel
            </button>
          </div>
          {edit.error && (
            <p className="field-error" role="alert">
              {errorMessage(edit.error)}
            </p>
          )}
        </form>
      ) : (
        <p className="message-content">{message.content}</p>
      )}
      {own && !editing && (
        <div className="message-actions">
          <button ref={editButton} type="button" className="icon-button" aria-label="Edit message" onClick={startEditing}>
            Edit
          </button>
          <button
            ref={deleteButton}
            type="button"
            className="icon-button"
            aria-label="Delete message"
            onClick={() => {
              remove.reset();
              setConfirming(true);
            }}
          >
            Delete
          </button>
        </div>
      )}
      {confirming && (
        <ConfirmDialog
          title="Delete message?"
          body="This message will be removed for everyone. This cannot be undone."
          confirmLabel="Delete"
          busy={remove.isPending}
          error={remove.error ? errorMessage(remove.error) : null}
          onConfirm={() => remove.mutate()}
          onCancel={() => {
            setConfirming(false);
            deleteButton.current?.focus();
          }}
        />
      )}
    </article>
  );
}

/** One of our messages that the server has not confirmed (yet). */
export function PendingItem({
  pending,
  username,
  onRetry,
  onDiscard,
}: {
  pending: PendingMessage;
  username: string;
  onRetry: () => void;
  onDiscard: () => void;
}) {
  return (
    <article className={`message own pending ${pending.status}`} aria-busy={pending.status === 'sending'}>
      <div className="message-meta">
        <span className="message-sender">{username}</span>
        <span className="message-state">{pending.status === 'sending' ? 'Sending…' : 'Not sent'}</span>
      </div>
      <p className="message-content">{pending.content}</p>
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
    </article>
  );
}
