import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type FormEvent, type KeyboardEvent, type RefObject } from 'react';
import { useApi } from '../api/context';
import { errorMessage, unwrap } from '../api/errors';
import { mentionsUser } from '../chat/mentions';
import type { StoredMessage } from '../chat/messages';
import { messageElementId, useMessageTools, type MessageTools } from '../chat/messageTools';
import { Avatar } from './Avatar';
import { ConfirmDialog } from './ConfirmDialog';
import { EditIcon, PinIcon, ReplyIcon, SmileIcon, TrashIcon } from './Icons';
import { MessageActions, useLongPress, type MessageAction } from './MessageActions';
import { MessageContent } from './MessageContent';
import { pinError, useTogglePin } from './Pins';
import { EmojiPicker, ReactionBar, reactionError, useToggleReaction } from './Reactions';
import { ReplyQuote } from './ReplyQuote';

const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

function Time({ iso, className }: { iso: string; className?: string }) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return (
    <time className={className} dateTime={iso} title={fullTime.format(date)}>
      {timeOfDay.format(date)}
    </time>
  );
}

/** Focuses the first of these that can take focus now (a hidden button cannot). */
function focusOneOf(...elements: (HTMLElement | null | undefined)[]) {
  for (const element of elements) {
    element?.focus();
    if (element && document.activeElement === element) return;
  }
}

export interface MessageItemProps {
  message: StoredMessage;
  own: boolean;
  /** The first message of an author's group: shows their avatar, name and the time. */
  head?: boolean;
  /** The reader: a message mentioning them is highlighted. */
  meId?: number;
}

/** A stored message; its author may edit or delete it. Changes arrive back over the socket. */
export function MessageItem({ message, own, head = true, meId }: MessageItemProps) {
  const { client } = useApi();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const [confirming, setConfirming] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const [picking, setPicking] = useState(false);
  const tools = useMessageTools();
  const firstButton = useRef<HTMLButtonElement>(null);
  const moreButton = useRef<HTMLButtonElement>(null);
  const article = useRef<HTMLElement>(null);
  const path = { params: { path: { message_id: message.id } } };
  const backToActions = () => requestAnimationFrame(() => focusOneOf(firstButton.current, moreButton.current, article.current));
  const react = useToggleReaction(message);
  const pin = useTogglePin(message);
  const toggleReaction = (emoji: string, on: boolean) => {
    // One change at a time (a button stays enabled, so focus stays on it while it is asked).
    if (react.isPending) return;
    pin.reset();
    react.mutate({ emoji, on });
  };
  const togglePin = () => {
    react.reset();
    pin.mutate(!message.pinned_at);
  };
  const problem = react.error ? reactionError(react.error) : pin.error ? pinError(pin.error) : null;

  const edit = useMutation({
    mutationFn: (content: string) => unwrap(client.PATCH('/api/messages/{message_id}/', { ...path, body: { content } })),
    onSuccess: () => {
      setEditing(false);
      backToActions();
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(client.DELETE('/api/messages/{message_id}/', path)),
    onSuccess: () => {
      setConfirming(false);
      // The message is about to disappear: leave focus on the conversation, not on <body>.
      article.current?.closest<HTMLElement>('[role="log"]')?.focus();
    },
  });
  const actions = messageActions({
    message,
    own,
    tools,
    firstButton,
    onReact: () => setPicking(true),
    onPin: togglePin,
    onEdit: () => startEditing(),
    onDelete: () => askToDelete(),
  });
  const longPress = useLongPress(() => setMenuOpen(true), actions.length > 0 && !editing);
  const mentionsMe = meId !== undefined && mentionsUser(message.mentions, meId);

  const startEditing = () => {
    setDraft(message.content);
    edit.reset();
    setEditing(true);
  };
  const cancelEditing = () => {
    setEditing(false);
    backToActions();
  };
  const askToDelete = () => {
    remove.reset();
    setConfirming(true);
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
      event.stopPropagation();
      cancelEditing();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  };

  return (
    <article
      ref={article}
      id={messageElementId(message.id)}
      tabIndex={-1}
      className={`message ${head ? 'head' : 'continued'}${own ? ' own' : ''}${mentionsMe ? ' mentioned' : ''}${menuOpen ? ' menu-open' : ''}${actions.length > 0 ? ' has-actions' : ''}${tools?.highlighted === message.id ? ' jumped' : ''}`}
      {...longPress}
    >
      <div className="message-gutter">
        {head ? <Avatar id={message.sender_id} name={message.sender} /> : <Time iso={message.timestamp} className="gutter-time" />}
      </div>
      <div className="message-body">
        {head ? (
          <div className="message-meta">
            <span className="message-sender">{message.sender}</span>
            <Time iso={message.timestamp} />
            {message.pinned_at && <PinMark />}
          </div>
        ) : (
          <>
            <span className="visually-hidden">{message.sender}</span>
            {message.pinned_at && <PinMark />}
          </>
        )}
        {message.reply && <ReplyQuote reply={message.reply} onJump={tools?.jumpTo} />}
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
              <span className="field-hint">Enter to save, Escape to cancel</span>
            </div>
            {edit.error && (
              <p className="field-error" role="alert">
                {errorMessage(edit.error)}
              </p>
            )}
          </form>
        ) : (
          <div className="message-text">
            <MessageContent content={message.content} mentions={message.mentions} meId={meId} />
            {mentionsMe && <span className="visually-hidden">(mentions you)</span>}
            {message.edited_at && <span className="message-edited">(edited)</span>}
          </div>
        )}
        {tools && (
          <ReactionBar
            reactions={message.reactions ?? []}
            onToggle={tools.canPost ? toggleReaction : undefined}
            onAdd={() => setPicking(true)}
          />
        )}
        {picking && (
          <EmojiPicker
            onPick={(emoji) => {
              setPicking(false);
              toggleReaction(emoji, true);
              backToActions();
            }}
            onClose={() => {
              setPicking(false);
              backToActions();
            }}
          />
        )}
        {problem && (
          <p className="message-problem" role="status">
            {problem}
          </p>
        )}
      </div>
      {actions.length > 0 && !editing && (
        <MessageActions menuOpen={menuOpen} setMenuOpen={setMenuOpen} actions={actions} moreButton={moreButton} />
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
            backToActions();
          }}
        />
      )}
    </article>
  );
}

function PinMark() {
  return (
    <span className="pin-mark" title="Pinned">
      <PinIcon />
      <span className="visually-hidden">(pinned)</span>
    </span>
  );
}

/** What this message offers: the chat's tools (when it is shown in one), its author's edits. */
function messageActions({
  message,
  own,
  tools,
  firstButton,
  onReact,
  onPin,
  onEdit,
  onDelete,
}: {
  message: StoredMessage;
  own: boolean;
  tools: MessageTools | null;
  firstButton: RefObject<HTMLButtonElement | null>;
  onReact: () => void;
  onPin: () => void;
  onEdit: () => void;
  onDelete: () => void;
}): MessageAction[] {
  const actions: MessageAction[] = [];
  if (tools?.canPost) {
    actions.push(
      { label: 'Reply', name: 'Reply to this message', icon: <ReplyIcon />, onSelect: () => tools.reply(message) },
      { label: 'React', name: 'Add a reaction', icon: <SmileIcon />, onSelect: onReact },
    );
  }
  if (tools) {
    if (tools.canPin(message)) {
      const pinned = Boolean(message.pinned_at);
      actions.push({ label: pinned ? 'Unpin' : 'Pin', name: pinned ? 'Unpin message' : 'Pin message', icon: <PinIcon />, onSelect: onPin });
    }
  }
  if (own) {
    actions.push(
      { label: 'Edit', name: 'Edit message', icon: <EditIcon />, onSelect: onEdit },
      { label: 'Delete', name: 'Delete message', icon: <TrashIcon />, onSelect: onDelete, danger: true },
    );
  }
  const first = actions[0];
  if (first) first.buttonRef = firstButton;
  return actions;
}
