// A server's live events applied to the query cache: its details and channels (keys.server),
// the server lists (the rail's keys.myServers and the catalogue), my membership and its member
// list. Two sockets push their frames through here: the personal socket (every server I am a
// member of, unasked, whatever is open) and an open channel's socket (its server's events, for
// members and mere readers alike). Both may deliver the same event: a channel is upserted or
// removed by id and a server dropped from a list by id, so the second time changes nothing, and
// an invalidation twice costs at most one more request.
//
// What the viewer can no longer see or use is returned as `Lost`, for the page showing it to
// move away (`pageToLeave`): each socket's owner decides whether its page is concerned.
import type { QueryClient } from '@tanstack/react-query';
import { invalidateMembership, keys, mergeServer } from '../api/queries';
import type { Channel, IncomingFrame, Server } from '../api/types';

/**
 * A channel or a server that went away for the viewer (deleted), with its name while the cache
 * had it. No longer being a member is not a loss: anyone may read a server, so its page stays
 * and offers Join again (whether I left here, on another client, or was removed).
 */
export type Lost =
  | { what: 'channel'; serverId: number; channelId: number; name: string | undefined }
  | { what: 'server'; serverId: number; name: string | undefined };

/** Where a page showing something lost sends the viewer, and what it tells them there. */
export interface Away {
  to: string;
  notice: string;
}

/**
 * Applies one server event (`member.*`, `channel.*`, `server.*`); frames of other kinds are
 * ignored. Returns what the viewer lost, if anything.
 */
export function applyServerEvent(queryClient: QueryClient, frame: IncomingFrame, meId: number): Lost | null {
  switch (frame.type) {
    case 'member.joined':
    case 'member.left':
      applyMembership(queryClient, frame.type === 'member.joined', frame.server_id, frame.user_id === meId);
      return null;
    case 'channel.created':
    case 'channel.updated': {
      const { channel } = frame;
      changeChannels(queryClient, channel.server, (channels) => upsertChannel(channels, channel));
      return null;
    }
    case 'channel.deleted': {
      const { server_id: serverId, channel_id: channelId } = frame;
      const channels = queryClient.getQueryData<Server>(keys.server(serverId))?.channel_server;
      const name = channels?.find((c) => c.id === channelId)?.name;
      changeChannels(queryClient, serverId, (channels) => channels.filter((c) => c.id !== channelId));
      return { what: 'channel', serverId, channelId, name };
    }
    case 'server.updated':
      // The event has no channels nor member count: the cached ones stay.
      mergeServer(queryClient, frame.server.id, frame.server);
      void queryClient.invalidateQueries({ queryKey: keys.allServers });
      return null;
    case 'server.deleted': {
      const serverId = frame.server_id;
      const lost: Lost = { what: 'server', serverId, name: serverName(queryClient, serverId) };
      dropFromMyServers(queryClient, serverId);
      void queryClient.invalidateQueries({ queryKey: keys.allServers });
      queryClient.removeQueries({ queryKey: keys.server(serverId) });
      return lost;
    }
    default:
      return null;
  }
}

/** Someone joined or left: the member list and count; when it is me, my servers and my membership too. */
function applyMembership(queryClient: QueryClient, joined: boolean, serverId: number, isMe: boolean) {
  if (!isMe) {
    void queryClient.invalidateQueries({ queryKey: keys.members(serverId) });
    void queryClient.invalidateQueries({ queryKey: keys.server(serverId) });
    return;
  }
  // Off the rail at once when I left (here, elsewhere) or was removed; the refetch confirms it.
  if (!joined) dropFromMyServers(queryClient, serverId);
  void invalidateMembership(queryClient, serverId);
}

/** Where the viewer at `pathname` goes because of `lost`, or null when the page is not concerned. */
export function pageToLeave(pathname: string, lost: Lost): Away | null {
  if (lost.what === 'channel') {
    const shown = within(pathname, `/servers/${lost.serverId}/channels/${lost.channelId}`);
    return shown ? awayFromChannel(lost.serverId, lost.name) : null;
  }
  return within(pathname, `/servers/${lost.serverId}`) ? awayFromServer(lost.name) : null;
}

/** A channel that went away: back to its server, which says so. */
export function awayFromChannel(serverId: number, name: string | undefined): Away {
  const channel = name === undefined ? 'This channel' : `#${name}`;
  return { to: `/servers/${serverId}`, notice: `${channel} is no longer available.` };
}

/** A deleted server: Home, which says so. */
export function awayFromServer(name: string | undefined): Away {
  return { to: '/dms', notice: `${name ?? 'This server'} was deleted.` };
}

function within(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

function upsertChannel(channels: Channel[], channel: Channel): Channel[] {
  const exists = channels.some((c) => c.id === channel.id);
  return exists ? channels.map((c) => (c.id === channel.id ? channel : c)) : [...channels, channel];
}

/** The channel list the server's page reads, changed in place when cached (else read when shown). */
function changeChannels(queryClient: QueryClient, serverId: number, change: (channels: Channel[]) => Channel[]) {
  queryClient.setQueryData<Server>(keys.server(serverId), (server) =>
    server ? { ...server, channel_server: change(server.channel_server) } : server,
  );
}

function serverName(queryClient: QueryClient, serverId: number): string | undefined {
  const server =
    queryClient.getQueryData<Server>(keys.server(serverId)) ??
    queryClient.getQueryData<Server[]>(keys.myServers)?.find((s) => s.id === serverId);
  return server?.name;
}

/** Off the rail at once; the invalidation that follows confirms it. */
function dropFromMyServers(queryClient: QueryClient, serverId: number) {
  queryClient.setQueryData<Server[]>(keys.myServers, (mine) => mine?.filter((s) => s.id !== serverId));
}
