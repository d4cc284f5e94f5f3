import type { ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { errorMessage } from '../api/errors';
import type { UserRef } from '../api/types';
import { byName } from '../dms/people';
import { useOpenDirect } from '../dms/queries';
import { Avatar } from './Avatar';
import { ChatIcon } from './Icons';

export interface MemberListProps {
  meId: number;
  /** Who has the chat open now (presence). */
  online: UserRef[];
  /** How many are online, when `online` is only some of them (a large channel). */
  onlineCount?: number;
  /** Everyone who belongs (a server's members, a conversation's participants); undefined while loading. */
  everyone: UserRef[] | undefined;
  ownerId?: number;
  /** Below the offline list: loading, errors, "more members". */
  footer?: ReactNode;
}

/** Online people first, then the rest; each entry but one's own offers a direct message. */
export function MemberList({ meId, online, onlineCount, everyone, ownerId, footer }: MemberListProps) {
  const navigate = useNavigate();
  const open = useOpenDirect();
  const onlineIds = new Set(online.map((u) => u.id));
  const offline = (everyone ?? []).filter((u) => !onlineIds.has(u.id)).sort(byName);
  const message = (user: UserRef) => {
    open.mutate(user.id, { onSuccess: (conversation) => navigate(`/dms/${conversation.id}`) });
  };

  const row = (user: UserRef, isOnline: boolean) => (
    <li key={user.id} className={isOnline ? 'online' : 'offline'}>
      <span className="member-avatar">
        <Avatar id={user.id} name={user.username} size={32} />
        {isOnline && <span className="presence-dot" aria-hidden="true" />}
      </span>
      <span className="member-name">{user.username}</span>
      {user.id === ownerId && (
        <span className="member-badge" title="Server owner">
          owner
        </span>
      )}
      {user.id !== meId && (
        <button
          type="button"
          className="icon-button member-message"
          aria-label={`Message ${user.username}`}
          title={`Message ${user.username}`}
          disabled={open.isPending}
          onClick={() => message(user)}
        >
          <ChatIcon />
        </button>
      )}
    </li>
  );

  return (
    <div className="member-list">
      {open.error && (
        <p className="notice notice-error" role="alert">
          {errorMessage(open.error)}
        </p>
      )}
      <section aria-label="Online">
        <h2 className="side-title">Online — {Math.max(onlineCount ?? 0, online.length)}</h2>
        <ul>{[...online].sort(byName).map((user) => row(user, true))}</ul>
        {onlineCount !== undefined && onlineCount > online.length && (
          <p className="side-note">and {onlineCount - online.length} more</p>
        )}
      </section>
      {everyone && (
        <section aria-label="Offline">
          <h2 className="side-title">Offline — {offline.length}</h2>
          <ul>{offline.map((user) => row(user, false))}</ul>
        </section>
      )}
      {footer}
    </div>
  );
}
