import { NavLink } from 'react-router';
import type { Conversation } from '../api/types';
import { countsOf, unreadOf, type Counts } from '../chat/unread';
import { useUnread } from '../chat/useUnread';
import { conversationTitle, otherParticipant, previewText } from '../dms/cache';
import { useConversations } from '../dms/queries';
import { Avatar } from './Avatar';
import { ConversationPresenceDot } from './Presence';
import { ErrorNotice, Loading } from './Status';
import { UnreadBadge } from './UnreadBadge';

const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const longDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** "14:05" today, "Yesterday", "Mon" this week, "Dec 1" this year, else the full date. */
export function listTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const startOf = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(date)) / 86_400_000);
  if (days <= 0) return timeOfDay.format(date);
  if (days === 1) return 'Yesterday';
  if (days < 7) return weekday.format(date);
  if (date.getFullYear() === now.getFullYear()) return shortDate.format(date);
  return longDate.format(date);
}

/** The avatar of a conversation: the other person's, or the group's initials. */
export function ConversationAvatar({ conversation, meId, size = 36 }: { conversation: Conversation; meId: number; size?: number }) {
  const title = conversationTitle(conversation, meId);
  if (conversation.kind === 'group') return <Avatar id={conversation.id} name={title} size={size} group />;
  const other = otherParticipant(conversation, meId);
  return <Avatar id={other?.id ?? conversation.id} name={title} size={size} />;
}

/** One conversation in the list: bold, with its counts, when something is unread there. */
function DmItem({ conversation, meId, counts, now }: { conversation: Conversation; meId: number; counts: Counts; now: Date }) {
  const unread = counts.unread > 0 || counts.mentions > 0;
  return (
    <li>
      <NavLink to={`/dms/${conversation.id}`} className={`dm-item${unread ? ' unread' : ''}`}>
        <span className="dm-avatar">
          <ConversationAvatar conversation={conversation} meId={meId} />
          <ConversationPresenceDot conversation={conversation} meId={meId} />
        </span>
        <span className="dm-text">
          <span className="dm-top">
            <span className="dm-name">{conversationTitle(conversation, meId)}</span>
            <time className="dm-time" dateTime={conversation.active_at}>
              {listTime(conversation.active_at, now)}
            </time>
          </span>
          <span className="dm-preview">
            {conversation.kind === 'group' && <span className="dm-count">{conversation.participants.length} people · </span>}
            {previewText(conversation, meId)}
          </span>
        </span>
        <UnreadBadge counts={counts} />
      </NavLink>
    </li>
  );
}

/**
 * My conversations, most recently active first; live through the personal socket
 * (chat/PersonalProvider.tsx), which also says who is online: a dot on the avatar.
 */
export function DmList({ meId }: { meId: number }) {
  const conversations = useConversations();
  const unread = useUnread();
  const now = new Date();

  return (
    <nav aria-label="Direct messages" className="side-nav dm-list">
      {conversations.isPending && <Loading label="Loading conversations…" />}
      {conversations.isError && (
        <ErrorNotice error={conversations.error} onRetry={() => void conversations.refetch()} />
      )}
      {conversations.data?.length === 0 && (
        <p className="muted">No conversations yet. Message someone from a server's member list, or start a group.</p>
      )}
      {conversations.data && conversations.data.length > 0 && (
        <ul>
          {conversations.data.map((conversation) => (
            <DmItem
              key={conversation.id}
              conversation={conversation}
              meId={meId}
              counts={countsOf(unreadOf(unread, conversation.id))}
              now={now}
            />
          ))}
        </ul>
      )}
    </nav>
  );
}
