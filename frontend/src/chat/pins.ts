// A chat's pinned messages (GET /api/channels/{id}/pins/, /api/dms/{id}/pins/: the latest
// pinned first), in the cache under keys.pins and kept current by the live frames: pinned,
// unpinned, deleted (a deleted message is no pin, and no `message.unpinned` says so) and edited.
// Applying a frame twice (a conversation's frames arrive on two sockets) changes nothing.
import type { QueryClient } from '@tanstack/react-query';
import { keys } from '../api/queries';
import type { ChatMessage, IncomingFrame } from '../api/types';
import type { StoredMessage } from './messages';

/** Latest pinned first, then the newer message first (the server's order). */
function byPin(a: ChatMessage, b: ChatMessage): number {
  const at = (m: ChatMessage) => (m.pinned_at ? Date.parse(m.pinned_at) : 0);
  return at(b) - at(a) || b.id - a.id;
}

/** The list with `message` pinned (its copy replaced if it was already there). */
export function withPin(pins: readonly StoredMessage[], message: ChatMessage): StoredMessage[] {
  const current = pins.find((m) => m.id === message.id);
  const pinned: StoredMessage = {
    ...message,
    pinned_at: message.pinned_at ?? current?.pinned_at ?? new Date().toISOString(),
    ...(current?.reactions ? { reactions: current.reactions } : {}),
  };
  return [...pins.filter((m) => m.id !== message.id), pinned].sort(byPin);
}

export function withoutPin(pins: readonly StoredMessage[], id: number): StoredMessage[] {
  return pins.some((m) => m.id === id) ? pins.filter((m) => m.id !== id) : [...pins];
}

/** The list after one live frame of its chat (unchanged, same array, for frames of other kinds). */
export function pinsAfterFrame(pins: StoredMessage[], frame: IncomingFrame): StoredMessage[] {
  switch (frame.type) {
    case 'message.pinned':
      return withPin(pins, frame.message);
    case 'message.unpinned':
    case 'message.deleted':
      return pins.some((m) => m.id === frame.id) ? withoutPin(pins, frame.id) : pins;
    case 'message.updated': {
      const edited = frame.message;
      if (!pins.some((m) => m.id === edited.id)) return pins;
      return pins.map((m) => (m.id === edited.id ? { ...m, content: edited.content, edited_at: edited.edited_at, mentions: edited.mentions } : m));
    }
    default:
      return pins;
  }
}

/** Applies a frame of chat `channelId` to its cached pins (only if they were loaded). */
export function applyPinsFrame(queryClient: QueryClient, channelId: number, frame: IncomingFrame) {
  if (!['message.pinned', 'message.unpinned', 'message.deleted', 'message.updated'].includes(frame.type)) return;
  queryClient.setQueryData<StoredMessage[]>(keys.pins(channelId), (pins) => (pins ? pinsAfterFrame(pins, frame) : pins));
}

/** My own pin or unpin went through: the list shows it at once (its frame changes nothing then). */
export function applyPinAnswer(queryClient: QueryClient, message: ChatMessage) {
  queryClient.setQueryData<StoredMessage[]>(keys.pins(message.channel_id), (pins) => {
    if (!pins) return pins;
    return message.pinned_at ? withPin(pins, message) : withoutPin(pins, message.id);
  });
}
