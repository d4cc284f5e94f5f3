// My DM partners' online state (the personal socket's `user.presence.list` and `user.presence`):
// the ids of those online now. A connection's first list (right after `ready` and any replay)
// is the whole truth and replaces what was known; later ones on the same connection name
// partners gained with a new conversation, and are added. Nothing is known while disconnected:
// the next `ready` brings a full list again.
import type { Conversation, UserRef } from '../api/types';

export const nobodyOnline: ReadonlySet<number> = new Set();

/** After a `user.presence.list`: `replace` for a connection's first one. */
export function withPresenceList(current: ReadonlySet<number>, users: UserRef[], replace: boolean): ReadonlySet<number> {
  if (replace) return users.length === 0 ? nobodyOnline : new Set(users.map((u) => u.id));
  if (users.every((u) => current.has(u.id))) return current;
  const next = new Set(current);
  for (const user of users) next.add(user.id);
  return next;
}

/** After a `user.presence`: the partner came online or went offline. */
export function withPresence(current: ReadonlySet<number>, id: number, online: boolean): ReadonlySet<number> {
  if (current.has(id) === online) return current;
  const next = new Set(current);
  if (online) next.add(id);
  else next.delete(id);
  return next;
}

/** The other participants of a conversation who are online. */
export function onlineParticipants(conversation: Conversation, meId: number, online: ReadonlySet<number>): UserRef[] {
  return conversation.participants.filter((p) => p.id !== meId && online.has(p.id));
}
