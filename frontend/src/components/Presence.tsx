// Where my DM partners' online state shows (the personal socket's presence, chat/presence.ts):
// a green dot on a 1:1 conversation's avatar in the list and beside its title, "N online" for
// a group.
import type { Conversation } from '../api/types';
import { usePersonal } from '../chat/PersonalProvider';
import { onlineParticipants } from '../chat/presence';

/** A green dot, named for assistive technology ("online", "2 online") and as a tooltip. */
export function PresenceDot({ label = 'online' }: { label?: string }) {
  return <span className="presence-dot" role="img" aria-label={label} title={label.charAt(0).toUpperCase() + label.slice(1)} />;
}

/** How many of a conversation's other participants are online (for a 1:1: 0 or 1). */
export function useOnlineCount(conversation: Conversation, meId: number): number {
  const { online } = usePersonal();
  return onlineParticipants(conversation, meId, online).length;
}

/** On a conversation's avatar in the list: the other person is online, or how many of a group are. */
export function ConversationPresenceDot({ conversation, meId }: { conversation: Conversation; meId: number }) {
  const count = useOnlineCount(conversation, meId);
  if (count === 0) return null;
  return <PresenceDot label={conversation.kind === 'group' ? `${count} online` : 'online'} />;
}

/** Beside a conversation's title: a dot for a 1:1 with someone online, "N online" for a group. */
export function ConversationPresence({ conversation, meId }: { conversation: Conversation; meId: number }) {
  const count = useOnlineCount(conversation, meId);
  if (count === 0) return null;
  if (conversation.kind !== 'group') {
    return (
      <span className="chat-presence">
        <PresenceDot />
      </span>
    );
  }
  return (
    <p className="chat-presence">
      <span className="presence-dot" aria-hidden="true" />
      {count} online
    </p>
  );
}
