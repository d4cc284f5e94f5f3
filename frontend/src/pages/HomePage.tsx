import { useState } from 'react';
import { Outlet, useLocation, useNavigate, useOutletContext } from 'react-router';
import { errorMessage } from '../api/errors';
import { useMe } from '../api/queries';
import type { CurrentUser } from '../api/types';
import { Avatar } from '../components/Avatar';
import { DmList } from '../components/DmList';
import { GroupDialog } from '../components/GroupDialogs';
import { PlusIcon } from '../components/Icons';
import { SidePanel } from '../components/Shell';
import { ErrorNotice, Loading } from '../components/Status';
import { useKnownUsers } from '../dms/people';
import { useBlocks, useOpenDirect, useUnblock } from '../dms/queries';

export interface HomeContext {
  me: CurrentUser;
  startGroup: () => void;
}

export function useHomeContext(): HomeContext {
  return useOutletContext<HomeContext>();
}

/** Home: direct messages and groups. The list on the left, a conversation (or the index) beside it. */
export function HomePage() {
  const me = useMe().data;
  const [creating, setCreating] = useState(false);
  if (!me) return null;
  const context: HomeContext = { me, startGroup: () => setCreating(true) };

  return (
    <div className="workspace home">
      <SidePanel>
        <div className="side-header">
          <h2 className="side-title">Direct messages</h2>
          <button type="button" className="icon-button" aria-label="New group" title="New group" onClick={() => setCreating(true)}>
            <PlusIcon size={18} />
          </button>
        </div>
        <DmList meId={me.user_id} />
      </SidePanel>
      <div className="content">
        <Outlet context={context} />
      </div>
      {creating && <GroupDialog meId={me.user_id} onClose={() => setCreating(false)} />}
    </div>
  );
}

/** /dms without a conversation: people to talk to, and the ones I blocked. */
export function HomeIndex() {
  const { me, startGroup } = useHomeContext();
  const notice = (useLocation().state as { notice?: string } | null)?.notice;
  return (
    <section className="page home-index" aria-labelledby="home-title">
      <h1 id="home-title">Home</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <StartConversation meId={me.user_id} startGroup={startGroup} />
      <BlockedUsers />
    </section>
  );
}

function StartConversation({ meId, startGroup }: { meId: number; startGroup: () => void }) {
  const navigate = useNavigate();
  const known = useKnownUsers(meId);
  const open = useOpenDirect();
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const people = needle ? known.users.filter((u) => u.username.toLowerCase().includes(needle)) : known.users;

  return (
    <section className="home-section" aria-labelledby="start-title">
      <div className="section-head">
        <h2 id="start-title">Start a conversation</h2>
        <button type="button" className="button secondary" onClick={startGroup}>
          New group conversation
        </button>
      </div>
      <p className="muted">Anyone from your servers or your conversations.</p>
      <input
        type="search"
        className="people-filter"
        aria-label="Find people"
        placeholder="Find people"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {open.error && (
        <p className="notice notice-error" role="alert">
          {errorMessage(open.error)}
        </p>
      )}
      {known.isPending && known.users.length === 0 && <Loading label="Finding people you know…" />}
      {!known.isPending && known.users.length === 0 && (
        <p className="muted">Nobody yet: join a server to meet people.</p>
      )}
      <ul className="people people-scroll">
        {people.map((user) => (
          <li key={user.id}>
            <span className="person">
              <Avatar id={user.id} name={user.username} size={32} />
              <span className="person-name">{user.username}</span>
            </span>
            <button
              type="button"
              className="button secondary"
              aria-label={`Message ${user.username}`}
              disabled={open.isPending}
              onClick={() => open.mutate(user.id, { onSuccess: (c) => navigate(`/dms/${c.id}`) })}
            >
              Message
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function BlockedUsers() {
  const blocks = useBlocks();
  const unblock = useUnblock();
  return (
    <section className="home-section" aria-labelledby="blocked-title">
      <h2 id="blocked-title">Blocked users</h2>
      <p className="muted">They cannot start a conversation with you, and neither of you can write in the one you have.</p>
      {blocks.isPending && <Loading label="Loading…" />}
      {blocks.isError && <ErrorNotice error={blocks.error} onRetry={() => void blocks.refetch()} />}
      {blocks.data?.length === 0 && <p>You have not blocked anyone.</p>}
      {unblock.error && (
        <p className="notice notice-error" role="alert">
          {errorMessage(unblock.error)}
        </p>
      )}
      {blocks.data && blocks.data.length > 0 && (
        <ul className="people" aria-label="Blocked users">
          {blocks.data.map((user) => (
            <li key={user.id}>
              <span className="person">
                <Avatar id={user.id} name={user.username} size={32} />
                <span className="person-name">{user.username}</span>
              </span>
              <button
                type="button"
                className="button secondary"
                aria-label={`Unblock ${user.username}`}
                disabled={unblock.isPending}
                onClick={() => unblock.mutate(user)}
              >
                Unblock
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
