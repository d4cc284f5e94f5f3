import { Link, Navigate, NavLink, Outlet, useLocation, useOutletContext, useParams } from 'react-router';
import { ApiError } from '../api/errors';
import { useMe, useMembership, useServer } from '../api/queries';
import type { Channel, CurrentUser, Server } from '../api/types';
import { useChannelCounts } from '../chat/useUnread';
import { JoinLeaveButton } from '../components/JoinLeaveButton';
import { OwnerTools } from '../components/OwnerTools';
import { ServerIcon } from '../components/ServerCard';
import { SidePanel } from '../components/Shell';
import { ErrorNotice, Loading, memberCountText } from '../components/Status';
import { UnreadBadge } from '../components/UnreadBadge';
import { NotFoundPage } from './NotFoundPage';

export interface ServerContext {
  server: Server;
  me: CurrentUser;
  isOwner: boolean;
  isMember: boolean | undefined;
  /** A notice passed on by the page that sent us here ("#x is no longer available"). */
  notice: string | undefined;
}

export function useServerContext(): ServerContext {
  return useOutletContext<ServerContext>();
}

/** Parses a route id: positive integers only. */
export function routeId(value: string | undefined): number | null {
  if (!value || !/^\d{1,18}$/.test(value)) return null;
  const id = Number(value);
  return id > 0 && Number.isSafeInteger(id) ? id : null;
}

export function ServerPage() {
  const serverId = routeId(useParams().serverId);
  if (serverId === null) return <NotFoundPage />;
  return <ServerScreen serverId={serverId} />;
}

function ServerScreen({ serverId }: { serverId: number }) {
  const me = useMe().data;
  const server = useServer(serverId);
  const membership = useMembership(serverId);
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice;

  if (server.isPending) return <Loading label="Loading server…" />;
  if (server.isError) {
    const missing = server.error instanceof ApiError && server.error.status === 404;
    return (
      <section className="page narrow">
        <h1>{missing ? 'Server not found' : 'Could not load this server'}</h1>
        <ErrorNotice error={server.error} onRetry={missing ? undefined : () => void server.refetch()} />
        <p>
          <Link to="/">Explore servers</Link>
        </p>
      </section>
    );
  }
  if (!me) return null;

  const data = server.data;
  const isOwner = data.owner === me.user_id;
  const context: ServerContext = { server: data, me, isOwner, isMember: membership.data, notice };

  return (
    <div className="workspace">
      <SidePanel>
        <div className="server-head">
          {data.banner && <img className="server-banner" src={data.banner} alt="" />}
          <div className="server-title">
            <ServerIcon server={data} size={48} />
            <div>
              <h1>{data.name}</h1>
              <p className="server-meta">
                <span data-testid="member-count">{memberCountText(data.num_members)}</span>
                <span aria-hidden="true"> · </span>
                <Link to={`/explore/${encodeURIComponent(data.category)}`}>{data.category}</Link>
              </p>
            </div>
          </div>
          {data.description && <p className="server-description">{data.description}</p>}
          {/* Members leave here; non-members join where they would write (the composer). */}
          {(isOwner || membership.data === true) && (
            <JoinLeaveButton serverId={data.id} isOwner={isOwner} isMember={membership.data} />
          )}
          {membership.isError && <ErrorNotice error={membership.error} onRetry={() => void membership.refetch()} />}
        </div>
        <nav aria-label="Channels" className="side-nav">
          <h2 className="side-title">Channels</h2>
          {data.channel_server.length === 0 ? (
            <p className="muted">No channels yet.</p>
          ) : (
            <ul>
              {data.channel_server.map((channel) => (
                <ChannelLink key={channel.id} serverId={data.id} channel={channel} />
              ))}
            </ul>
          )}
        </nav>
        {isOwner && <OwnerTools server={data} />}
      </SidePanel>
      <div className="content">
        <Outlet context={context} />
      </div>
    </div>
  );
}

/** A channel in the sidebar, bold with its counts when something is unread there. */
function ChannelLink({ serverId, channel }: { serverId: number; channel: Channel }) {
  const counts = useChannelCounts(channel.id);
  const unread = counts.unread > 0 || counts.mentions > 0;
  return (
    <li>
      <NavLink
        to={`/servers/${serverId}/channels/${channel.id}`}
        title={channel.topic || undefined}
        className={unread ? 'unread' : undefined}
      >
        <span className="channel-hash">#</span> {channel.name}
        <UnreadBadge counts={counts} />
      </NavLink>
    </li>
  );
}

/** Opening a server opens its first channel, as Discord does, so live events flow. */
export function ServerIndex() {
  const { server, isOwner, isMember } = useServerContext();
  const location = useLocation();
  const first = server.channel_server[0];
  if (first) return <Navigate to={`/servers/${server.id}/channels/${first.id}`} replace state={location.state} />;
  return (
    <section className="chat empty">
      <p>This server has no channels yet.</p>
      {isMember === false && <JoinLeaveButton serverId={server.id} isOwner={isOwner} isMember={isMember} />}
    </section>
  );
}
