import { act, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../api/queries';
import type { ChatMessage, Conversation } from '../api/types';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { createTestClient, json, mockFetch, Providers } from '../test/render';
import { emptyMessages, type MessagesState } from './messages';
import { PersonalSocket, type PersonalSocketOptions } from './personal';
import { PersonalProvider, usePersonal } from './PersonalProvider';

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
