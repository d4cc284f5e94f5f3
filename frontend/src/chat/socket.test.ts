import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/fakeWebSocket';
import {
  backoffDelay,
  channelSocketPath,
  ChatSocket,
  chatSocketUrl,
  conversationSocketPath,
  type ChatSocketOptions,
  type ConnectionState,
} from './socket';

const HOST = { protocol: 'http:', host: 'hearth.test' };

function setup(overrides: Partial<ChatSocketOptions> = {}) {
  const frames: unknown[] = [];
  const states: ConnectionState[] = [];
  const opens: boolean[] = [];
  const refreshSession = vi.fn(async () => true);
  const socket = new ChatSocket({
    path: channelSocketPath(3, 9),
    after: 12,
    location: HOST,
    createSocket: FakeWebSocket.factory,
    random: () => 0.5,
    refreshSession,
    onFrame: (frame) => frames.push(frame),
    onStateChange: (state) => states.push(state),
    onOpen: (resumed) => opens.push(resumed),
    ...overrides,
  });
  return { socket, frames, states, opens, refreshSession };
}

function chat(seq: number) {
  return {
    type: 'chat.message',
    new_message: {
      id: seq + 1000,
      channel_id: 9,
      sender: 'bob',
      sender_id: 2,
      content: `m${seq}`,
      timestamp: '2025-01-01T00:00:00Z',
      seq,
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('chatSocketUrl', () => {
  it('builds the native channel path on the page origin, ws or wss', () => {
    expect(chatSocketUrl(HOST, channelSocketPath(1, 2))).toBe('ws://hearth.test/ws/servers/1/channels/2');
    expect(chatSocketUrl({ protocol: 'https:', host: 'h.example' }, channelSocketPath(1, 2), 0)).toBe(
      'wss://h.example/ws/servers/1/channels/2?after=0',
    );
  });

  it('builds a conversation path the same way', () => {
    expect(chatSocketUrl(HOST, conversationSocketPath(12), 7)).toBe('ws://hearth.test/ws/dms/12?after=7');
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt, with jitter in the upper half, capped at 10 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 0)).toBe(2_000);
    expect(backoffDelay(3, () => 1)).toBe(4_000);
    expect(backoffDelay(10, () => 1)).toBe(10_000);
    expect(backoffDelay(30, () => 0)).toBe(5_000);
  });
});

describe('ChatSocket', () => {
  it('connects with ?after=<history seq> and reports frames and state', () => {
    const { socket, frames, states, opens } = setup();
    socket.start();
    expect(FakeWebSocket.last.url).toBe('ws://hearth.test/ws/servers/3/channels/9?after=12');
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'presence.list', users: [{ id: 1, username: 'alice' }] });
    FakeWebSocket.last.receive(chat(13));
    expect(states).toEqual(['open']);
    expect(opens).toEqual([false]);
    expect(frames).toHaveLength(2);
    expect(socket.resumeAfter).toBe(13);
  });

  it('ignores frames that are not JSON objects with a type', () => {
    const { socket, frames } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.onmessage?.(new MessageEvent('message', { data: 'not json' }));
    FakeWebSocket.last.receive([1, 2]);
    FakeWebSocket.last.receive({ nope: true });
    expect(frames).toEqual([]);
  });

  it('reconnects after a drop with backoff, resuming after the last seq it saw', () => {
    const { socket, states, opens } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive(chat(13));
    FakeWebSocket.last.receive(chat(14));
    FakeWebSocket.last.drop(1006);
    expect(states.at(-1)).toBe('reconnecting');
    expect(FakeWebSocket.instances).toHaveLength(1);

    // random() = 0.5: first delay is 250 + 0.5 * 250 = 375 ms.
    vi.advanceTimersByTime(374);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.last.url).toBe('ws://hearth.test/ws/servers/3/channels/9?after=14');

    // Refused again: the next wait is longer (500 + 0.5 * 500 = 750 ms).
    FakeWebSocket.last.drop(1006);
    vi.advanceTimersByTime(749);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);

    FakeWebSocket.last.open();
    expect(states.at(-1)).toBe('open');
    expect(opens).toEqual([false, true]);
  });

  it('asks connectAfter for the ?after= of every connection when given, instead of the seq', () => {
    let cursor: number | undefined;
    const { socket } = setup({ resume: false, connectAfter: () => cursor, random: () => 0 });
    socket.start();
    // Nothing known yet: no query at all (not the seq `after` of the options).
    expect(FakeWebSocket.last.url).toBe('ws://hearth.test/ws/servers/3/channels/9');
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive(chat(13));
    cursor = 7;
    expect(socket.resumeAfter).toBe(7);
    FakeWebSocket.last.drop(1006);
    vi.advanceTimersByTime(250);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.last.url).toBe('ws://hearth.test/ws/servers/3/channels/9?after=7');
    socket.stop();
  });

  it('reconnects on 4008, 4009 and 1001 too, never faster than the backoff', () => {
    for (const code of [4008, 4009, 1001, 1011]) {
      FakeWebSocket.reset();
      const { socket } = setup({ random: () => 0 });
      socket.start();
      FakeWebSocket.last.open();
      FakeWebSocket.last.drop(code);
      vi.advanceTimersByTime(249);
      expect(FakeWebSocket.instances).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(FakeWebSocket.instances).toHaveLength(2);
      socket.stop();
    }
  });

  it('caps the wait at 10 s however many attempts failed', () => {
    const { socket } = setup({ random: () => 1 });
    socket.start();
    for (let attempt = 0; attempt < 8; attempt += 1) {
      FakeWebSocket.last.drop(1006);
      vi.advanceTimersByTime(10_000);
    }
    const before = FakeWebSocket.instances.length;
    FakeWebSocket.last.drop(1006);
    vi.advanceTimersByTime(9_999);
    expect(FakeWebSocket.instances).toHaveLength(before);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(before + 1);
  });

  it('abandons a handshake that hangs and tries again', () => {
    const { socket } = setup({ connectTimeoutMs: 1_000, random: () => 0 });
    socket.start();
    const hanging = FakeWebSocket.last;
    vi.advanceTimersByTime(1_000);
    expect(hanging.closedWith).toBeDefined();
    hanging.drop(1006);
    vi.advanceTimersByTime(250);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('on 4001 renews the session once, then reconnects', async () => {
    const { socket, refreshSession, states } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.drop(4001);
    expect(refreshSession).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'presence.list', users: [] });
    expect(states.at(-1)).toBe('open');

    // Authenticated since: a later expiry deserves another refresh.
    FakeWebSocket.last.drop(4001);
    expect(refreshSession).toHaveBeenCalledTimes(2);
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(3));
  });

  it('on 4001 right after a refresh, or when the refresh fails, is logged out', async () => {
    const { socket, refreshSession, states } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.drop(4001);
    await vi.waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    FakeWebSocket.last.open();
    FakeWebSocket.last.drop(4001);
    expect(refreshSession).toHaveBeenCalledTimes(1);
    expect(states.at(-1)).toBe('unauthorized');
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(2);

    FakeWebSocket.reset();
    const failing = setup({ refreshSession: vi.fn(async () => false) });
    failing.socket.start();
    FakeWebSocket.last.drop(4001);
    await vi.waitFor(() => expect(failing.states.at(-1)).toBe('unauthorized'));
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('after account.deleted neither renews nor reconnects, whatever the close code', () => {
    const { socket, refreshSession, states, frames } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'account.deleted', to: 1 });
    // The frame is delivered, for the owner to end the session.
    expect(frames).toEqual([{ type: 'account.deleted', to: 1 }]);
    FakeWebSocket.last.drop(4001);
    expect(states.at(-1)).toBe('unauthorized');
    expect(refreshSession).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);

    // A connection lost right after the frame is not retried either.
    FakeWebSocket.reset();
    const dropped = setup();
    dropped.socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'account.deleted', to: 1 });
    FakeWebSocket.last.drop(1006);
    expect(dropped.states.at(-1)).toBe('unauthorized');
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(dropped.refreshSession).not.toHaveBeenCalled();
  });

  it('on 4004 gives up: the server or channel is gone', () => {
    const { socket, states } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.drop(4004);
    expect(states.at(-1)).toBe('gone');
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('sends only while open, and stop() closes normally without reconnecting', () => {
    const { socket, states } = setup();
    socket.start();
    expect(socket.send({ type: 'typing' })).toBe(false);
    FakeWebSocket.last.open();
    expect(socket.send({ type: 'message', message: 'hi', nonce: 'n1' })).toBe(true);
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'message', message: 'hi', nonce: 'n1' }]);
    socket.stop();
    expect(FakeWebSocket.last.closedWith).toBe(1000);
    expect(states.at(-1)).toBe('closed');
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
});
