import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../api/queries';
import type { ChatMessage, Conversation } from '../api/types';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { createTestClient, json, mockFetch, Providers, Where, type Route } from '../test/render';
import { emptyMessages, type MessagesState } from './messages';
import { PersonalSocket, type PersonalSocketOptions } from './personal';
import { PersonalProvider, TOAST_MS, usePersonal } from './PersonalProvider';

const HOST = { protocol: 'http:', host: 'hearth.test' };
const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };
const me = { user_id: 1, username: 'alice', is_staff: false };

function message(channelId: number, seq: number, content = `m${seq}`): ChatMessage {
  return {
    id: channelId * 100 + seq,
    channel_id: channelId,
    sender: 'bob',
    sender_id: 2,
    content,
    timestamp: `2025-01-0${Math.min(seq, 9)}T00:00:00Z`,
    seq,
  };
}

function setup(wanted: PersonalSocketOptions['wanted'], overrides: Partial<PersonalSocketOptions> = {}) {
  const frames: { type: string }[] = [];
  const readies: boolean[] = [];
  const refreshSession = vi.fn(async () => true);
  const socket = new PersonalSocket({
    wanted,
    location: HOST,
    createSocket: FakeWebSocket.factory,
    random: () => 0.5,
    refreshSession,
    onFrame: (frame) => frames.push(frame),
    onReady: (resumed) => readies.push(resumed),
    ...overrides,
  });
  socket.start();
  return { socket, frames, readies, refreshSession };
}

const ready = { type: 'ready', user: alice, max_subscriptions: 200 };

beforeEach(() => {
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PersonalSocket', () => {
  it('connects to /ws/me without a cursor and subscribes on ready, with after where known', () => {
    const { readies } = setup(() => [{ id: 12, after: 3 }, { id: 40 }, { id: 12, after: 3 }]);
    const ws = FakeWebSocket.lastPersonal;
    expect(ws.url).toBe('ws://hearth.test/ws/me');
    act(() => ws.open());
    // Nothing before ready: the server has not accepted us yet.
    expect(ws.sent).toEqual([]);
    ws.receive(ready);
    expect(readies).toEqual([false]);
    expect(ws.sent).toEqual([{ type: 'subscribe', channels: [{ id: 12, after: 3 }, { id: 40 }] }]);
  });

  it('subscribes again after a reconnect, from the highest seq it saw', () => {
    vi.useFakeTimers();
    let wanted = [{ id: 12, after: 3 }, { id: 40 }];
    const { socket, readies } = setup(() => wanted);
    const first = FakeWebSocket.lastPersonal;
    first.open();
    first.receive(ready);
    first.receive({ type: 'subscribed', channel_id: 12, last_seq: 5, online: [] });
    first.receive({ type: 'subscribed', channel_id: 40, last_seq: 0, online: [] });
    first.receive({ type: 'chat.message', new_message: message(12, 6) });
    first.receive({ type: 'chat.message', new_message: message(40, 1) });
    expect(socket.subscriptions.sort()).toEqual([12, 40]);

    // 4009: fell behind; reconnect with backoff, never with a socket-wide ?after.
    first.drop(4009);
    expect(socket.state).toBe('reconnecting');
    vi.advanceTimersByTime(10_000);
    const second = FakeWebSocket.lastPersonal;
    expect(second).not.toBe(first);
    expect(second.url).toBe('ws://hearth.test/ws/me');
    second.open();
    wanted = [...wanted, { id: 77, after: 2 }];
    second.receive(ready);
    expect(readies).toEqual([false, true]);
    expect(second.sent).toEqual([
      { type: 'subscribe', channels: [{ id: 12, after: 6 }, { id: 40, after: 1 }, { id: 77, after: 2 }] },
    ]);
  });

  it('renews the session once on 4001', async () => {
    const { refreshSession } = setup(() => []);
    const first = FakeWebSocket.lastPersonal;
    first.open();
    first.drop(4001);
    await waitFor(() => expect(FakeWebSocket.personal).toHaveLength(2));
    expect(refreshSession).toHaveBeenCalledTimes(1);
  });

  it('follows a conversation it was added to, and forgets one that is gone', () => {
    const { socket, frames } = setup(() => [{ id: 12 }]);
    const ws = FakeWebSocket.lastPersonal;
    ws.open();
    ws.receive(ready);
    ws.receive({ type: 'conversation.added', conversation_id: 55, to: 1 });
    expect(ws.sent[1]).toEqual({ type: 'subscribe', channels: [{ id: 55 }] });
    // Already followed: not asked twice.
    ws.receive({ type: 'conversation.added', conversation_id: 55, to: 1 });
    expect(ws.sent).toHaveLength(2);

    ws.receive({ type: 'unsubscribed', channel_id: 12, reason: 'not_found' });
    expect(socket.subscriptions).toEqual([55]);
    expect(frames.map((f) => f.type)).toEqual(['ready', 'conversation.added', 'conversation.added', 'unsubscribed']);
  });

  it('asks for at most the server limit', () => {
    setup(() => Array.from({ length: 250 }, (_, i) => ({ id: i + 1 })));
    const ws = FakeWebSocket.lastPersonal;
    ws.open();
    ws.receive({ ...ready, max_subscriptions: 200 });
    const sent = ws.sent[0] as { channels: unknown[] };
    expect(sent.channels).toHaveLength(200);
  });

  it('reconnects with ?after=<the highest cursor seen>, from ready and from events', () => {
    vi.useFakeTimers();
    const { socket, frames } = setup(() => [{ id: 12 }]);
    const first = FakeWebSocket.lastPersonal;
    // The first connection knows no cursor: it starts at the end of the log.
    expect(first.url).toBe('ws://hearth.test/ws/me');
    expect(socket.cursor).toBeUndefined();
    first.open();
    first.receive({ ...ready, cursor: 7 });
    expect(socket.cursor).toBe(7);

    // Dropped before anything else: resume from ready's cursor.
    first.drop(1006);
    vi.advanceTimersByTime(10_000);
    const second = FakeWebSocket.lastPersonal;
    expect(second).not.toBe(first);
    expect(second.url).toBe('ws://hearth.test/ws/me?after=7');
    second.open();
    second.receive({ ...ready, cursor: 7 });
    second.receive({ type: 'conversation.added', conversation_id: 55, to: 1, cursor: 8 });
    second.receive({ type: 'private_message', user: 'bob', message: 'psst', to: 1, conversation_id: 12, cursor: 9 });
    // A subscription's frames carry no cursor and do not move it.
    second.receive({ type: 'chat.message', new_message: message(12, 40) });
    second.receive({ type: 'server.deleted', server_id: 5, cursor: 10 });
    expect(socket.cursor).toBe(10);
    expect(frames.map((f) => f.type)).toEqual([
      'ready',
      'ready',
      'conversation.added',
      'private_message',
      'chat.message',
      'server.deleted',
    ]);

    second.drop(4009);
    vi.advanceTimersByTime(10_000);
    const third = FakeWebSocket.lastPersonal;
    expect(third.url).toBe('ws://hearth.test/ws/me?after=10');
    // The channels still resume by seq, per subscription.
    third.open();
    third.receive({ ...ready, cursor: 10 });
    expect(third.sent).toEqual([{ type: 'subscribe', channels: [{ id: 12, after: 40 }] }]);
  });

  it('keeps the cursor when 4001 renews the session', async () => {
    const { refreshSession } = setup(() => []);
    const first = FakeWebSocket.lastPersonal;
    first.open();
    first.receive({ ...ready, cursor: 3 });
    first.receive({ type: 'member.joined', server_id: 5, user_id: 1, cursor: 4 });
    first.drop(4001);
    await waitFor(() => expect(FakeWebSocket.personal).toHaveLength(2));
    expect(refreshSession).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.lastPersonal.url).toBe('ws://hearth.test/ws/me?after=4');
  });

  it('drops a cursored frame it already had, and delivers the next one', () => {
    const { socket, frames } = setup(() => []);
    const ws = FakeWebSocket.lastPersonal;
    ws.open();
    ws.receive({ ...ready, cursor: 5 });
    ws.receive({ type: 'conversation.added', conversation_id: 55, to: 1, cursor: 6 });
    // The same again (a reconnect race), and one from before ready's cursor.
    ws.receive({ type: 'conversation.added', conversation_id: 55, to: 1, cursor: 6 });
    ws.receive({ type: 'private_message', user: 'bob', message: 'old', to: 1, conversation_id: 12, cursor: 5 });
    ws.receive({ type: 'private_message', user: 'bob', message: 'new', to: 1, conversation_id: 12, cursor: 7 });
    expect(frames).toEqual([
      { ...ready, cursor: 5 },
      { type: 'conversation.added', conversation_id: 55, to: 1, cursor: 6 },
      { type: 'private_message', user: 'bob', message: 'new', to: 1, conversation_id: 12, cursor: 7 },
    ]);
    // The dropped copy did not subscribe a second time either.
    expect(ws.sent).toEqual([{ type: 'subscribe', channels: [{ id: 55 }] }]);
    expect(socket.cursor).toBe(7);
  });

  it('on resync asks for a reload and goes on from the resync cursor, even a lower one', () => {
    vi.useFakeTimers();
    const resyncs: string[] = [];
    const { socket, frames } = setup(() => [], { onResync: (reason) => resyncs.push(reason) });
    const first = FakeWebSocket.lastPersonal;
    first.open();
    first.receive({ ...ready, cursor: 50 });
    expect(resyncs).toEqual([]);
    first.drop(1006);
    vi.advanceTimersByTime(10_000);

    // The log no longer reaches cursor 50 (a restored database): it ends at 10.
    const second = FakeWebSocket.lastPersonal;
    expect(second.url).toBe('ws://hearth.test/ws/me?after=50');
    second.open();
    second.receive({ ...ready, cursor: 50 });
    second.receive({ type: 'resync', reason: 'unknown_cursor', cursor: 10 });
    expect(resyncs).toEqual(['unknown_cursor']);
    expect(socket.cursor).toBe(10);
    // What follows is new, although numbered below the cursor we had.
    second.receive({ type: 'server.deleted', server_id: 5, cursor: 11 });
    expect(frames.map((f) => f.type)).toEqual(['ready', 'ready', 'resync', 'server.deleted']);
    second.drop(1006);
    vi.advanceTimersByTime(10_000);

    // Pruned this time: far ahead.
    const third = FakeWebSocket.lastPersonal;
    expect(third.url).toBe('ws://hearth.test/ws/me?after=11');
    third.open();
    third.receive({ ...ready, cursor: 11 });
    third.receive({ type: 'resync', reason: 'cursor_too_old', cursor: 120 });
    expect(resyncs).toEqual(['unknown_cursor', 'cursor_too_old']);
    third.receive({ type: 'member.left', server_id: 5, user_id: 1, cursor: 120 });
    third.receive({ type: 'member.left', server_id: 6, user_id: 1, cursor: 121 });
    expect(frames.slice(4).map((f) => f.type)).toEqual(['ready', 'resync', 'member.left']);
    third.drop(1006);
    vi.advanceTimersByTime(10_000);
    expect(FakeWebSocket.lastPersonal.url).toBe('ws://hearth.test/ws/me?after=121');
  });
});

function conversation(id: number, lastSeq: number, activeAt: string): Conversation {
  return {
    id,
    kind: 'dm',
    name: null,
    participants: [alice, bob],
    last_message: lastSeq > 0 ? { ...message(id, lastSeq), nonce: undefined, edited_at: undefined } : null,
    last_seq: lastSeq,
    blocked: false,
    created_at: '2025-01-01T00:00:00Z',
    active_at: activeAt,
  };
}

function Gone({ id }: { id: number }) {
  return <p>{usePersonal().gone.has(id) ? `gone ${id}` : `here ${id}`}</p>;
}

describe('PersonalProvider (the personal socket bound to the cache)', () => {
  function mount(list: Conversation[], served: () => Conversation[] = () => list) {
    const { fetch, calls } = mockFetch({ 'GET /api/dms/': () => json(200, served()) });
    const queryClient = createTestClient();
    queryClient.setQueryData(keys.conversations, list);
    const view = render(
      <Providers fetch={fetch as typeof globalThis.fetch} queryClient={queryClient}>
        <PersonalProvider me={me} createSocket={FakeWebSocket.factory}>
          <Gone id={12} />
        </PersonalProvider>
      </Providers>,
    );
    return { queryClient, calls, view };
  }

  it('subscribes from the cache, reloads the list on ready, and feeds the list and cached messages', async () => {
    const list = [conversation(12, 3, '2025-01-03T00:00:00Z'), conversation(13, 0, '2025-01-02T00:00:00Z')];
    const { queryClient, calls } = mount(list);
    // Conversation 12 is open: its messages up to seq 4 are cached.
    queryClient.setQueryData<MessagesState>(keys.messages(12), {
      ...emptyMessages,
      messages: [message(12, 3), message(12, 4)],
    });
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive(ready));
    expect(ws.sent).toEqual([{ type: 'subscribe', channels: [{ id: 12, after: 4 }, { id: 13 }] }]);
    await waitFor(() => expect(calls).toContain('GET /api/dms/'));

    act(() => ws.receive({ type: 'chat.message', new_message: message(12, 5, 'live') }));
    act(() => ws.receive({ type: 'chat.message', new_message: message(12, 5, 'live') }));
    act(() => ws.receive({ type: 'chat.message', new_message: message(13, 1, 'not cached') }));
    const messages = queryClient.getQueryData<MessagesState>(keys.messages(12));
    expect(messages?.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(queryClient.getQueryData(keys.messages(13))).toBeUndefined();
    const entries = queryClient.getQueryData<Conversation[]>(keys.conversations);
    expect(entries?.find((c) => c.id === 12)?.last_message?.content).toBe('live');
    expect(entries?.find((c) => c.id === 13)?.last_seq).toBe(1);

    act(() => ws.receive({ type: 'message.deleted', id: 1205, channel_id: 12 }));
    expect(queryClient.getQueryData<MessagesState>(keys.messages(12))?.messages.map((m) => m.seq)).toEqual([3, 4]);
  });

  it('reconnects after its cursor, and on resync reloads the conversations and every server', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const list = [conversation(12, 3, '2025-01-03T00:00:00Z')];
    let served = list;
    const { queryClient, calls } = mount(list, () => served);
    const server = { id: 5, name: 'Rustaceans', owner: 2, category: 'programming', description: '', channel_server: [] };
    queryClient.setQueryData(keys.myServers, [server]);
    queryClient.setQueryData(keys.servers(null), { pages: [[server]], pageParams: [undefined] });
    queryClient.setQueryData(keys.server(5), server);
    queryClient.setQueryData(keys.membership(5), true);
    queryClient.setQueryData(keys.conversation(12), list[0]);
    const dmsFetches = () => calls.filter((c) => c === 'GET /api/dms/').length;

    const first = FakeWebSocket.lastPersonal;
    expect(first.url).toBe('ws://localhost:3000/ws/me');
    act(() => first.open());
    act(() => first.receive({ ...ready, cursor: 30 }));
    // An event of another server's (it refreshes none of those checked below) moves the cursor.
    act(() => first.receive({ type: 'member.joined', server_id: 8, user_id: 2, cursor: 31 }));
    await waitFor(() => expect(dmsFetches()).toBe(1));
    await waitFor(() => expect(queryClient.isFetching()).toBe(0));
    act(() => first.drop(1006));
    act(() => vi.advanceTimersByTime(10_000));

    const second = FakeWebSocket.lastPersonal;
    expect(second).not.toBe(first);
    expect(second.url).toBe('ws://localhost:3000/ws/me?after=31');
    act(() => second.open());
    act(() => second.receive({ ...ready, cursor: 31 }));
    // The ready's reload, finished before the resync comes.
    await waitFor(() => expect(dmsFetches()).toBe(2));
    await waitFor(() => expect(queryClient.isFetching()).toBe(0));
    for (const key of [keys.myServers, keys.servers(null), keys.server(5), keys.membership(5), keys.conversation(12)]) {
      expect(queryClient.getQueryState(key)?.isInvalidated).toBe(false);
    }

    // What was addressed to me meanwhile is lost: reload.
    served = [conversation(77, 0, '2025-01-09T00:00:00Z'), ...list];
    act(() => second.receive({ type: 'resync', reason: 'cursor_too_old', cursor: 400 }));
    await waitFor(() => expect(dmsFetches()).toBe(3));
    await waitFor(() =>
      expect(queryClient.getQueryData<Conversation[]>(keys.conversations)?.map((c) => c.id)).toEqual([77, 12]),
    );
    for (const key of [keys.myServers, keys.servers(null), keys.server(5), keys.membership(5), keys.conversation(12)]) {
      expect(queryClient.getQueryState(key)?.isInvalidated).toBe(true);
    }
    // The new conversation is followed, and the next connection goes on from the resync.
    await waitFor(() => expect(second.sent).toContainEqual({ type: 'subscribe', channels: [{ id: 77 }] }));
    act(() => second.drop(1006));
    act(() => vi.advanceTimersByTime(10_000));
    expect(FakeWebSocket.lastPersonal.url).toBe('ws://localhost:3000/ws/me?after=400');
  });

  it('shows an alert as a notice with its message, once, until dismissed', async () => {
    mount([conversation(12, 3, '2025-01-03T00:00:00Z')]);
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive({ ...ready, cursor: 1 }));
    const alert = { type: 'alert', to: 1, code: 'blocked', message: 'You cannot message bob', cursor: 2 };
    act(() => ws.receive(alert));
    // Delivered twice (a reconnect race): shown once.
    act(() => ws.receive(alert));
    const notices = screen.getByRole('region', { name: 'Notices' });
    expect(within(notices).getAllByRole('alert')).toHaveLength(1);
    expect(within(notices).getByRole('alert')).toHaveTextContent('You cannot message bob');
    // Not a private message.
    expect(screen.queryByRole('region', { name: 'Private messages' })).not.toBeInTheDocument();

    await userEvent.setup().click(within(notices).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('region', { name: 'Notices' })).not.toBeInTheDocument();
  });

  it('lets an alert notice go by itself after a while', () => {
    vi.useFakeTimers();
    mount([]);
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive({ ...ready, cursor: 1 }));
    act(() => ws.receive({ type: 'alert', to: 1, code: 'unknown_user', message: 'No user named zed', cursor: 2 }));
    expect(screen.getByRole('alert')).toHaveTextContent('No user named zed');
    act(() => vi.advanceTimersByTime(TOAST_MS - 1));
    expect(screen.getByRole('alert')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('marks a conversation gone on unsubscribed not_found, and stops on logout', async () => {
    // The server no longer lists it either.
    const { queryClient, view } = mount([conversation(12, 3, '2025-01-03T00:00:00Z')], () => []);
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive(ready));
    expect(screen.getByText('here 12')).toBeInTheDocument();
    act(() => ws.receive({ type: 'unsubscribed', channel_id: 12, reason: 'not_found' }));
    await waitFor(() => expect(screen.getByText('gone 12')).toBeInTheDocument());
    expect(queryClient.getQueryData<Conversation[]>(keys.conversations)).toEqual([]);

    view.rerender(
      <Providers fetch={vi.fn() as unknown as typeof globalThis.fetch} queryClient={queryClient}>
        <PersonalProvider me={null} createSocket={FakeWebSocket.factory}>
          <Gone id={12} />
        </PersonalProvider>
      </Providers>,
    );
    expect(ws.closedWith).toBe(1000);
  });
});

function Online() {
  const { online } = usePersonal();
  return <p>online: {[...online].sort((a, b) => a - b).join(',') || 'nobody'}</p>;
}

describe("PersonalProvider: my partners' presence and the forced logout", () => {
  const carol = { id: 3, username: 'carol' };
  const dave = { id: 4, username: 'dave' };

  function mount(routes: Record<string, Route> = {}) {
    const { fetch, calls } = mockFetch({ 'GET /api/dms/': () => json(200, []), ...routes });
    const queryClient = createTestClient();
    queryClient.setQueryData(keys.me, me);
    queryClient.setQueryData(keys.conversations, []);
    render(
      <Providers fetch={fetch as typeof globalThis.fetch} queryClient={queryClient}>
        <PersonalProvider me={me} createSocket={FakeWebSocket.factory}>
          <Online />
          <Where />
        </PersonalProvider>
      </Providers>,
    );
    return { queryClient, calls };
  }

  it('takes the first list after each ready as the whole truth, adds later ones, and knows nothing while away', () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    mount();
    const first = FakeWebSocket.lastPersonal;
    act(() => first.open());
    act(() => first.receive({ ...ready, cursor: 1 }));
    expect(screen.getByText('online: nobody')).toBeInTheDocument();
    act(() => first.receive({ type: 'user.presence.list', online: [bob, carol] }));
    expect(screen.getByText('online: 2,3')).toBeInTheDocument();
    // A new conversation brought dave along: added to the others.
    act(() => first.receive({ type: 'user.presence.list', online: [dave] }));
    expect(screen.getByText('online: 2,3,4')).toBeInTheDocument();
    act(() => first.receive({ type: 'user.presence', user: bob, online: false }));
    expect(screen.getByText('online: 3,4')).toBeInTheDocument();
    act(() => first.receive({ type: 'user.presence', user: bob, online: true }));
    expect(screen.getByText('online: 2,3,4')).toBeInTheDocument();

    // Disconnected: nobody is known to be online until the next ready's list.
    act(() => first.drop(1006));
    expect(screen.getByText('online: nobody')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(10_000));
    const second = FakeWebSocket.lastPersonal;
    expect(second).not.toBe(first);
    act(() => second.open());
    act(() => second.receive({ ...ready, cursor: 1 }));
    act(() => second.receive({ type: 'user.presence.list', online: [carol] }));
    expect(screen.getByText('online: 3')).toBeInTheDocument();
    act(() => second.receive({ type: 'user.presence.list', online: [bob, carol] }));
    expect(screen.getByText('online: 2,3')).toBeInTheDocument();
    // Even an empty first list replaces.
    act(() => second.drop(1006));
    act(() => vi.advanceTimersByTime(10_000));
    const third = FakeWebSocket.lastPersonal;
    act(() => third.open());
    act(() => third.receive({ ...ready, cursor: 1 }));
    act(() => third.receive({ type: 'user.presence', user: dave, online: true }));
    expect(screen.getByText('online: 4')).toBeInTheDocument();
    act(() => third.receive({ type: 'user.presence.list', online: [] }));
    expect(screen.getByText('online: nobody')).toBeInTheDocument();
  });

  it('on account.deleted ends the session and goes to the login page, and the socket stays closed', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { queryClient, calls } = mount();
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive({ ...ready, cursor: 4 }));
    act(() => ws.receive({ type: 'user.presence.list', online: [bob] }));
    expect(screen.getByText('online: 2')).toBeInTheDocument();
    // The ready's reload of the list is done.
    await waitFor(() => expect(calls).toContain('GET /api/dms/'));
    await waitFor(() => expect(queryClient.isFetching()).toBe(0));

    act(() => ws.receive({ type: 'account.deleted', to: 1 }));
    expect(await screen.findByText('at /login: Your account was deleted.')).toBeInTheDocument();
    expect(queryClient.getQueryData(keys.me)).toBeNull();
    expect(queryClient.getQueryData(keys.signedOut)).toBe('Your account was deleted.');
    // Nothing of the account is kept.
    expect(queryClient.getQueryData(keys.conversations)).toBeUndefined();
    expect(screen.getByText('online: nobody')).toBeInTheDocument();
    expect(ws.closedWith).toBe(1000);

    // The server's 4001 that follows changes nothing: no renewal, no reconnect.
    act(() => ws.drop(4001));
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.personal).toHaveLength(1);
    expect(calls).not.toContain('POST /api/token/refresh/');
  });

  it('ends the session the same way when a 4001 cannot be cured by renewing the session', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { queryClient, calls } = mount({
      'POST /api/token/refresh/': () => json(401, { error: 'Not authenticated', code: 'not_authenticated' }),
    });
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive({ ...ready, cursor: 4 }));
    // Closed while the frame was missed (or the session is over): renewing it fails.
    act(() => ws.drop(4001));
    // Without the frame it cannot say the account was deleted.
    expect(await screen.findByText('at /login: Your session ended. Please sign in again.')).toBeInTheDocument();
    expect(queryClient.getQueryData(keys.me)).toBeNull();
    expect(calls.filter((c) => c === 'POST /api/token/refresh/')).toHaveLength(1);
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.personal).toHaveLength(1);
  });
});
