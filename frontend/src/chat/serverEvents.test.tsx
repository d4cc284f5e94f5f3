import type { InfiniteData } from '@tanstack/react-query';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../api/queries';
import type { Member, Server } from '../api/types';
import { Rail } from '../components/Rail';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { createTestClient, json, mockFetch, Providers, Where, type Route } from '../test/render';
import { PersonalProvider } from './PersonalProvider';
import { pageToLeave } from './serverEvents';

const me = { user_id: 1, username: 'alice', is_staff: false };
const ready = { type: 'ready', user: { id: 1, username: 'alice' }, max_subscriptions: 200, cursor: 1 };

function server(id: number, name: string, channels: string[] = ['general']): Server {
  return {
    id,
    name,
    owner: 2,
    category: 'programming',
    description: '',
    icon: null,
    banner: null,
    channel_server: channels.map((c, i) => ({ id: id * 10 + i, name: c, topic: '', owner: 2, server: id })),
    num_members: 3,
  };
}

const rust = server(5, 'Rustaceans');
const go = server(6, 'Gophers');

/** The personal socket with the rail, at `path`, with both servers cached as mine. */
function mount(path: string, routes: Record<string, Route> = {}) {
  let mine = [rust, go];
  const { fetch, calls } = mockFetch({
    'GET /api/dms/': () => json(200, []),
    'GET /api/server/select/': () => json(200, mine),
    ...routes,
  });
  const queryClient = createTestClient();
  queryClient.setQueryData(keys.conversations, []);
  queryClient.setQueryData(keys.myServers, mine);
  queryClient.setQueryData(keys.server(5), rust);
  queryClient.setQueryData(keys.server(6), go);
  render(
    <Providers fetch={fetch as typeof globalThis.fetch} queryClient={queryClient} path={path}>
      <PersonalProvider me={me} createSocket={FakeWebSocket.factory}>
        <Rail />
        <Where />
      </PersonalProvider>
    </Providers>,
  );
  const ws = FakeWebSocket.lastPersonal;
  act(() => ws.open());
  act(() => ws.receive(ready));
  const serve = (next: Server[]) => {
    mine = next;
  };
  return { ws, queryClient, calls, serve };
}

function railLinks() {
  return within(screen.getByRole('navigation', { name: 'Servers' }))
    .getAllByRole('link')
    .map((link) => link.getAttribute('aria-label'));
}

beforeEach(() => {
  FakeWebSocket.reset();
});

describe("PersonalProvider: my servers' events, whatever is open", () => {
  it('channel.created in a server that is not open adds the channel to that server', () => {
    const { ws, queryClient } = mount('/dms');
    const random = { id: 70, name: 'random', topic: '', owner: 2, server: 6 };
    act(() => ws.receive({ type: 'channel.created', channel: random, cursor: 2 }));
    expect(queryClient.getQueryData<Server>(keys.server(6))?.channel_server.map((c) => c.name)).toEqual(['general', 'random']);
    // Renamed, and heard twice (the open channel's socket too): one entry, the new name.
    const renamed = { ...random, name: 'off-topic' };
    act(() => ws.receive({ type: 'channel.updated', channel: renamed, cursor: 3 }));
    act(() => ws.receive({ type: 'channel.updated', channel: renamed }));
    expect(queryClient.getQueryData<Server>(keys.server(6))?.channel_server.map((c) => c.name)).toEqual([
      'general',
      'off-topic',
    ]);
    expect(queryClient.getQueryData<Server>(keys.server(5))).toEqual(rust);
    expect(screen.getByText('at /dms:')).toBeInTheDocument();
  });

  it('server.updated renames the server in its details and refreshes the rail and the catalogue', async () => {
    const { ws, queryClient, serve } = mount('/dms');
    queryClient.setQueryData<InfiniteData<Server[], number | undefined>>(keys.servers(null), {
      pages: [[rust, go]],
      pageParams: [undefined],
    });
    serve([rust, { ...go, name: 'Gopherland' }]);
    const view = { id: 6, name: 'Gopherland', owner: 2, category: 'programming', description: '', icon: null, banner: null };
    act(() => ws.receive({ type: 'server.updated', server: view, cursor: 2 }));
    // The details keep what the event lacks (the channels, the count).
    expect(queryClient.getQueryData<Server>(keys.server(6))).toEqual({ ...go, name: 'Gopherland' });
    expect(queryClient.getQueryState(keys.servers(null))?.isInvalidated).toBe(true);
    await waitFor(() => expect(railLinks()).toContain('Gopherland'));
  });

  it('server.deleted while viewing it goes Home with a notice, and takes it off the rail', async () => {
    const { ws, queryClient, serve } = mount('/servers/5/channels/50');
    expect(railLinks()).toContain('Rustaceans');
    serve([go]);
    act(() => ws.receive({ type: 'server.deleted', server_id: 5, cursor: 2 }));
    expect(await screen.findByText('at /dms: Rustaceans was deleted.')).toBeInTheDocument();
    expect(railLinks()).not.toContain('Rustaceans');
    expect(queryClient.getQueryData(keys.server(5))).toBeUndefined();
  });

  it('server.deleted of a server not open only takes it off the rail', async () => {
    const { ws, serve } = mount('/servers/6/channels/60');
    serve([go]);
    act(() => ws.receive({ type: 'server.deleted', server_id: 5, cursor: 2 }));
    // Taken off the cached list at once (the rail hears of it on the next tick).
    await waitFor(() => expect(railLinks()).not.toContain('Rustaceans'));
    expect(railLinks()).toContain('Gophers');
    expect(screen.getByText('at /servers/6/channels/60:')).toBeInTheDocument();
  });

  it('member.left of me removes the server from the rail', async () => {
    const { ws, queryClient, calls, serve } = mount('/dms');
    serve([go]);
    act(() => ws.receive({ type: 'member.left', server_id: 5, user_id: 1, cursor: 2 }));
    await waitFor(() => expect(railLinks()).not.toContain('Rustaceans'));
    // And asked again, with my membership.
    await waitFor(() => expect(calls).toContain('GET /api/server/select/?by_user=true'));
    expect(queryClient.getQueryState(keys.server(5))?.isInvalidated).toBe(true);
    expect(screen.getByText('at /dms:')).toBeInTheDocument();
  });

  it('member.left of me while viewing the server keeps the page, which can still be read', async () => {
    const { ws, serve } = mount('/servers/5/channels/50');
    serve([go]);
    act(() => ws.receive({ type: 'member.left', server_id: 5, user_id: 1, cursor: 2 }));
    await waitFor(() => expect(railLinks()).not.toContain('Rustaceans'));
    expect(screen.getByText('at /servers/5/channels/50:')).toBeInTheDocument();
  });

  it('member.joined of me (on another client) puts the server on the rail', async () => {
    const { ws, serve } = mount('/dms');
    const rs = server(7, 'Crabs');
    serve([rust, go, rs]);
    act(() => ws.receive({ type: 'member.joined', server_id: 7, user_id: 1, cursor: 2 }));
    await waitFor(() => expect(railLinks()).toContain('Crabs'));
  });

  it('member.joined of someone else refreshes that server’s members and count', () => {
    const { ws, queryClient } = mount('/dms');
    const page: Member[] = [{ user_id: 1, username: 'alice', joined_at: '2025-01-01T00:00:00Z' }];
    queryClient.setQueryData<InfiniteData<Member[], number | null>>(keys.members(6), { pages: [page], pageParams: [null] });
    queryClient.setQueryData(keys.members(5), { pages: [page], pageParams: [null] });
    act(() => ws.receive({ type: 'member.joined', server_id: 6, user_id: 3 }));
    expect(queryClient.getQueryState(keys.members(6))?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(keys.server(6))?.isInvalidated).toBe(true);
    expect(queryClient.getQueryState(keys.members(5))?.isInvalidated).toBe(false);
    // Not my servers: the rail is not asked again.
    expect(queryClient.getQueryState(keys.myServers)?.isInvalidated).toBe(false);
  });

  it('channel.deleted of the open channel goes back to its server with a notice', async () => {
    const { ws, queryClient } = mount('/servers/5/channels/50');
    act(() => ws.receive({ type: 'channel.deleted', channel_id: 50, server_id: 5, cursor: 2 }));
    expect(await screen.findByText('at /servers/5: #general is no longer available.')).toBeInTheDocument();
    expect(queryClient.getQueryData<Server>(keys.server(5))?.channel_server).toEqual([]);
  });
});

describe('serverEvents', () => {
  it('pageToLeave concerns the pages of what was lost only', () => {
    const gone = { what: 'server', serverId: 5, name: 'Rustaceans' } as const;
    expect(pageToLeave('/servers/5', gone)).toEqual({ to: '/dms', notice: 'Rustaceans was deleted.' });
    expect(pageToLeave('/servers/5/channels/50', { ...gone, name: undefined })?.notice).toBe('This server was deleted.');
    expect(pageToLeave('/servers/50/channels/5', gone)).toBeNull();
    expect(pageToLeave('/dms', gone)).toBeNull();
    const channel = { what: 'channel', serverId: 5, channelId: 50, name: undefined } as const;
    expect(pageToLeave('/servers/5/channels/50', channel)).toEqual({
      to: '/servers/5',
      notice: 'This channel is no longer available.',
    });
    expect(pageToLeave('/servers/5/channels/51', channel)).toBeNull();
  });
});
