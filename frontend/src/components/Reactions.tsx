// A message's reactions: one toggle per emoji with its count (pressed when I am among them),
// and a picker of common emoji. A toggle asks the server (PUT / DELETE .../reactions/{emoji}/me/)
// and shows its answer; the live frames keep every reader's counts current.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useApi } from '../api/context';
import { ApiError, errorMessage, unwrap } from '../api/errors';
import { keys } from '../api/queries';
import type { Reaction } from '../api/types';
import { emptyMessages, messagesReducer, reactionFramesOf, type MessagesState, type StoredMessage } from '../chat/messages';
import { COMMON_EMOJI, emojiName, reactionErrorText } from '../chat/reactions';
import { SmileIcon } from './Icons';

/** Adds or takes back my reaction; the answer goes into the chat's messages. */
export function useToggleReaction(message: StoredMessage) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  const key = keys.messages(message.channel_id);
  return useMutation({
    mutationFn: async ({ emoji, on }: { emoji: string; on: boolean }) => {
      const since = reactionFramesOf(queryClient.getQueryData<MessagesState>(key), message.id, emoji);
      const params = { params: { path: { message_id: message.id, emoji } } };
      const path = '/api/messages/{message_id}/reactions/{emoji}/me/' as const;
      const answer = await unwrap(on ? client.PUT(path, params) : client.DELETE(path, params));
      return { answer, since };
    },
    onSuccess: ({ answer, since }) => {
      queryClient.setQueryData<MessagesState>(key, (state) =>
        messagesReducer(state ?? emptyMessages, {
          type: 'reacted',
          messageId: message.id,
          emoji: answer.emoji,
          count: answer.count,
          me: answer.me,
          since,
        }),
      );
    },
  });
}

export function reactionError(error: unknown): string {
  return error instanceof ApiError ? reactionErrorText(error.code, error.message) : errorMessage(error);
}

function label(reaction: Reaction): string {
  const people = reaction.count === 1 ? '1 reaction' : `${reaction.count} reactions`;
  return `${emojiName(reaction.emoji)}: ${people}${reaction.me ? ', including you' : ''}`;
}

function ReactionFace({ reaction }: { reaction: Reaction }) {
  return (
    <>
      <span aria-hidden="true">{reaction.emoji}</span>
      <span className="reaction-count" aria-hidden="true">
        {reaction.count}
      </span>
    </>
  );
}

export function ReactionBar({
  reactions,
  onToggle,
  onAdd,
}: {
  reactions: readonly Reaction[];
  /** None: the reactions are only shown (a visitor of a server cannot react). */
  onToggle?: (emoji: string, on: boolean) => void;
  /** Opens the picker, from the end of the bar. */
  onAdd?: () => void;
}) {
  if (reactions.length === 0) return null;
  return (
    <div className="reactions" role="group" aria-label="Reactions">
      {reactions.map((reaction) =>
        onToggle ? (
          <button
            key={reaction.emoji}
            type="button"
            className={`reaction${reaction.me ? ' mine' : ''}`}
            aria-pressed={reaction.me ?? false}
            aria-label={label(reaction)}
            onClick={() => onToggle(reaction.emoji, !reaction.me)}
          >
            <ReactionFace reaction={reaction} />
          </button>
        ) : (
          <span key={reaction.emoji} className="reaction read-only" role="img" aria-label={label(reaction)}>
            <ReactionFace reaction={reaction} />
          </span>
        ),
      )}
      {onToggle && onAdd && (
        <button type="button" className="reaction reaction-add" aria-label="Add another reaction" title="Add a reaction" onClick={onAdd}>
          <SmileIcon />
          <span aria-hidden="true">+</span>
        </button>
      )}
    </div>
  );
}

/** A small grid of common emoji; arrow keys move, Escape closes (focus goes back to the opener). */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const grid = useRef<HTMLDivElement>(null);
  useEffect(() => {
    grid.current?.querySelector<HTMLElement>('button')?.focus();
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...(grid.current?.querySelectorAll<HTMLElement>('button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => buttons[(to + buttons.length) % buttons.length]?.focus();
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') move(at + 1);
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') move(at - 1);
    else if (event.key === 'Escape') onClose();
    else return;
    event.preventDefault();
    event.stopPropagation();
  };
  return (
    <div ref={grid} className="emoji-picker" role="group" aria-label="Pick a reaction" onKeyDown={onKeyDown}>
      {COMMON_EMOJI.map(({ emoji, name }) => (
        <button key={emoji} type="button" className="emoji-option" aria-label={name} title={name} onClick={() => onPick(emoji)}>
          {emoji}
        </button>
      ))}
      <button type="button" className="icon-button emoji-close" aria-label="Close the reactions" onClick={onClose}>
        ×
      </button>
    </div>
  );
}
