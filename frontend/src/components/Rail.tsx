import { useId, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { useMyServers } from '../api/queries';
import type { Server } from '../api/types';
import { useServerCounts } from '../chat/useUnread';
import { CompassIcon, HomeIcon, PlusIcon } from './Icons';
import { ServerIcon } from './ServerCard';
import { UnreadBadge } from './UnreadBadge';

function RailLink({
  to,
  label,
  active,
  describedBy,
  children,
}: {
  to: string;
  label: string;
  active: boolean;
  /** What is unread there (the badge), said after the name. */
  describedBy?: string;
  children: ReactNode;
}) {
  return (
    <Link
      to={to}
      className={`rail-item${active ? ' active' : ''}`}
      aria-label={label}
      aria-describedby={describedBy}
      title={label}
      // "true", not "page": the page's own current link is in the sidebar.
      aria-current={active ? 'true' : undefined}
    >
      {children}
    </Link>
  );
}

/** A server of mine: its icon, a dot when something is unread there, its mentions in red. */
function RailServer({ server, active }: { server: Server; active: boolean }) {
  const counts = useServerCounts(server.id);
  const badgeId = useId();
  const unread = counts.unread > 0 || counts.mentions > 0;
  return (
    <li className={unread ? 'rail-unread' : undefined}>
      <RailLink to={`/servers/${server.id}`} label={server.name} active={active} describedBy={unread ? badgeId : undefined}>
        <ServerIcon server={server} size={48} />
      </RailLink>
      <UnreadBadge counts={counts} describes={badgeId} variant="dot" />
    </li>
  );
}

function within(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/** The left rail: Home (direct messages), my servers, then creating and exploring servers. */
export function Rail() {
  const mine = useMyServers(true);
  const { pathname } = useLocation();

  return (
    <nav className="rail" aria-label="Servers">
      <ul>
        <li>
          <RailLink to="/dms" label="Home" active={within(pathname, '/dms')}>
            <HomeIcon />
          </RailLink>
        </li>
        <li className="rail-separator" aria-hidden="true" />
        {mine.isError && (
          <li>
            <button type="button" className="rail-item rail-retry" title="Could not load your servers. Try again." onClick={() => void mine.refetch()}>
              <span aria-hidden="true">!</span>
              <span className="visually-hidden">Could not load your servers. Try again.</span>
            </button>
          </li>
        )}
        {mine.data?.map((server) => (
          <RailServer key={server.id} server={server} active={within(pathname, `/servers/${server.id}`)} />
        ))}
        {mine.data && mine.data.length > 0 && <li className="rail-separator" aria-hidden="true" />}
        <li>
          <RailLink to="/servers/new" label="Create server" active={pathname === '/servers/new'}>
            <PlusIcon size={24} />
          </RailLink>
        </li>
        <li>
          <RailLink to="/" label="Explore servers" active={pathname === '/' || within(pathname, '/explore')}>
            <CompassIcon />
          </RailLink>
        </li>
      </ul>
    </nav>
  );
}
