import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { useMyServers } from '../api/queries';
import { CompassIcon, HomeIcon, PlusIcon } from './Icons';
import { ServerIcon } from './ServerCard';

function RailLink({ to, label, active, children }: { to: string; label: string; active: boolean; children: ReactNode }) {
  return (
    <Link
      to={to}
      className={`rail-item${active ? ' active' : ''}`}
      aria-label={label}
      title={label}
      // "true", not "page": the page's own current link is in the sidebar.
      aria-current={active ? 'true' : undefined}
    >
      {children}
    </Link>
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
          <li key={server.id}>
            <RailLink to={`/servers/${server.id}`} label={server.name} active={within(pathname, `/servers/${server.id}`)}>
              <ServerIcon server={server} size={48} />
            </RailLink>
          </li>
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
