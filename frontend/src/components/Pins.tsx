// Pins: Pin / Unpin on a message (PUT / DELETE /api/messages/{id}/pin/), and the panel listing a
// chat's pinned messages, the latest pinned first, each a way to jump to it. The list is in the
// cache under keys.pins; the chat's socket keeps it current (chat/pins.ts).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../api/context';
import { ApiError, errorMessage, unwrap } from '../api/errors';
import { keys } from '../api/queries';
import type { ChatMessage } from '../api/types';
import { emptyMessages, messagesReducer, type MessagesState } from '../chat/messages';
import { applyPinAnswer } from '../chat/pins';
import { excerptText } from '../chat/replies';
import type { ChatSource } from '../chat/sources';
import { ErrorNotice, Loading } from './Status';

export function useTogglePin(message: ChatMessage) {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (on: boolean) => {
      const params = { params: { path: { message_id: message.id } } };
      return unwrap(on ? client.PUT('/api/messages/{message_id}/pin/', params) : client.DELETE('/api/messages/{message_id}/pin/', params));
    },
    onSuccess: (answer) => {
      applyPinAnswer(queryClient, answer);
      queryClient.setQueryData<MessagesState>(keys.messages(answer.channel_id), (state) =>
        messagesReducer(state ?? emptyMessages, answer.pinned_at ? { type: 'pinned', message: answer } : { type: 'unpinned', id: answer.id }),
      );
    },
  });
}

export function pinError(error: unknown): string {
  if (!(error instanceof ApiError)) return errorMessage(error);
  if (error.status === 403) return 'Only its author or the server’s owner can pin or unpin this message.';
  if (error.code === 'too_many_pins') return 'This chat has 50 pinned messages already: unpin one first.';
  if (error.code === 'rate_limited') return 'Pinning too fast: wait a moment and try again.';
  return error.message;
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function PinsPanel({ id, source, onJump }: { id: string; source: ChatSource; onJump: (id: number) => void }) {
  const pins = useQuery({ queryKey: keys.pins(source.channelId), queryFn: source.fetchPins });
  return (
    <section id={id} className="chat-panel pins-panel" aria-label="Pinned messages">
      <h3 className="chat-panel-title">Pinned messages</h3>
      {pins.isPending && <Loading label="Loading pinned messages…" />}
      {pins.isError && <ErrorNotice error={pins.error} onRetry={() => void pins.refetch()} />}
      {pins.isSuccess && pins.data.length === 0 && <p className="muted">Nothing is pinned here yet.</p>}
      {pins.isSuccess && pins.data.length > 0 && (
        <ul className="panel-list">
          {pins.data.map((message) => (
            <li key={message.id}>
              <button type="button" className="panel-item" onClick={() => onJump(message.id)}>
                <span className="panel-item-meta">
                  <span className="message-sender">{message.sender}</span>
                  <time dateTime={message.timestamp}>{when.format(new Date(message.timestamp))}</time>
                </span>
                <span className="panel-item-text">{excerptText(message.content, message.mentions)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
