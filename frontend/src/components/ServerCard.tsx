import { Link } from 'react-router';
import type { Server } from '../api/types';
import { memberCountText } from './Status';

export function ServerIcon({ server, size = 48 }: { server: Pick<Server, 'name' | 'icon'>; size?: number }) {
  if (server.icon) {
    return <img className="server-icon" src={server.icon} alt="" width={size} height={size} />;
  }
  return (
    <span className="server-icon placeholder" aria-hidden="true" style={{ width: size, height: size }}>
      {server.name.slice(0, 1).toUpperCase()}
    </span>
  );
}

/** A server in the catalogue: the whole card is one link, named by the server first. */
export function ServerCard({ server }: { server: Server }) {
  return (
    <Link to={`/servers/${server.id}`} className="server-card">
      <span className="card-banner" aria-hidden="true">
        {server.banner && <img src={server.banner} alt="" loading="lazy" />}
      </span>
      <span className="card-body">
        <span className="card-title">
          <ServerIcon server={server} size={40} />
          <span className="card-name">{server.name}</span>
        </span>
        {server.description && <span className="card-description">{server.description}</span>}
        <span className="card-meta">
          <span>{memberCountText(server.num_members)}</span>
          <span className="card-category">{server.category}</span>
        </span>
      </span>
    </Link>
  );
}
