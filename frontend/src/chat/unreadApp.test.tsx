import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, Unread } from '../api/types';
import { App } from '../App';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { json, mockFetch, renderWithProviders } from '../test/render';

const alice = { user_id: 1, username: 'alice', is_staff: false };

const server = {
  id: 5,
  name: 'Rustaceans',
  owner: 2,
  category: 'programming',
  description: '',
  icon: null,
  banner: null,
  channel_server: [
    { id: 9, name: 'general', topic: '', owner: 2, server: 5 },
    { id: 10, name: 'help', topic: '', owner: 2, server: 5 },
  ],
  num_members: 2,
};

function message(channelId: number, seq: number, content: string, mentions?: { id: number; username: string }[]) {
  return {
    id: channelId * 100 + seq,
    channel_id: channelId,
    sender: 'bob',
    sender_id: 2,
    content,
    timestamp: '2025-01-01T12:00:00Z',
    seq,
    ...(mentions ? { mentions } : {}),
  };
}

function unread(channel_id: number, changes: Partial<Unread>): Unread {
  return { channel_id, server_id: 5, last_seq: 0, read_seq: 0, unread_count: 0, mention_count: 0, ...changes };
}

function backend() {
  const acks: { channel: string; seq: number }[] = [];
  const mocked = mockFetch({
    'GET /api/me/': () => json(200, alice),
    'GET /api/servers/5/': () => json(200, server),
    'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: true }),
    'GET /api/channels/9/messages/': () =>
      json(200, [
        message(9, 1, 'Hi'),
        message(9, 2, 'Hello <@1>, see <@7>', [{ id: 1, username: 'alice' }]),
        message(9, 3, 'Anyone?'),
      ]),
    'GET /api/server/select/': () => json(200, [server]),
    'GET /api/servers/5/members/': () =>
      json(200, [
        { user_id: 1, username: 'alice', joined_at: '2025-01-01T00:00:00Z' },
        { user_id: 2, username: 'bob', joined_at: '2025-01-01T00:00:00Z' },
      ]),
    'GET /api/dms/': () => json(200, []),
    'GET /api/me/unread/': () =>
      json(200, {
        channels: [
          unread(9, { last_seq: 3, read_seq: 1, unread_count: 2, mention_count: 1 }),
          unread(10, { last_seq: 4, read_seq: 1, unread_count: 3, mention_count: 1 }),
        ],
      }),
    'POST /api/channels/9/ack/': (request, body) => {
      const seq = (body as { seq: number }).seq;
      acks.push({ channel: new URL(request.url).pathname, seq });
      return json(200, { channel_id: 9, read_seq: seq, moved: true });
    },
  });
  return { ...mocked, acks };
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const channelList = () => screen.getByRole('navigation', { name: 'Channels' });
const railLink = () => within(screen.getByRole('navigation', { name: 'Servers' })).getByRole('link', { name: 'Rustaceans' });

describe('unread and mention badges', () => {
  it('shows the counts, acks the newest message on screen, and follows the personal socket', async () => {
    const { fetch, acks } = backend();
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });

    // The channel not open: its counts; the rail: the server's.
    await screen.findByRole('navigation', { name: 'Channels' });
    const help = await within(channelList()).findByRole('link', { name: /help/ });
    expect(await within(help).findByRole('img', { name: '3 unread, 1 mention' })).toBeInTheDocument();
    expect(within(help).getByText('1')).toHaveClass('badge-mention');
    // The open channel is read up to its newest message once it shows: acked once, cleared.
    const log = await screen.findByRole('log', { name: 'Messages' });
    await within(log).findByText('Anyone?');
    await waitFor(() => expect(acks).toEqual([{ channel: '/api/channels/9/ack/', seq: 3 }]));
    const general = within(channelList()).getByRole('link', { name: /general/ });
    expect(within(general).queryByRole('img')).not.toBeInTheDocument();
    await waitFor(() => expect(railLink()).toHaveAccessibleDescription('3 unread, 1 mention'));

    // My mention in the history: a chip, the message highlighted; an unknown id stays text.
    const mentioning = within(log).getByText('@alice').closest('article');
    expect(mentioning).toHaveClass('mentioned');
    expect(within(log).getByText(/see <@7>/)).toBeInTheDocument();

    // The personal socket follows none of my servers' channels (a busy server would cost it a
    // frame per message): the server tells their news, batched, as `unread.updated`.
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive({ type: 'ready', user: { id: 1, username: 'alice' }, max_subscriptions: 200, cursor: 1 }));
    const followed = (ws.sent as { type: string; channels?: { id: number }[] }[]).flatMap((frame) =>
      frame.type === 'subscribe' ? (frame.channels ?? []).map((c) => c.id) : [],
    );
    expect(followed).not.toContain(9);
    expect(followed).not.toContain(10);
    const news = (channel_id: number, last_seq: number) => ({
      type: 'unread.updated' as const,
      server_id: 5,
      channels: [{ channel_id, last_seq }],
    });

    // A message in the channel not open counts; a mention too; the same news twice, once.
    act(() => ws.receive(news(10, 5)));
    expect(await within(help).findByRole('img', { name: '4 unread, 1 mention' })).toBeInTheDocument();
    const mention = message(10, 6, 'hey <@1>', [{ id: 1, username: 'alice' }]);
    act(() => ws.receive({ type: 'mention', to: 1, server_id: 5, message: mention, cursor: 2 }));
    act(() => ws.receive(news(10, 6)));
    act(() => ws.receive(news(10, 6)));
    expect(await within(help).findByRole('img', { name: '5 unread, 2 mentions' })).toBeInTheDocument();
    expect(railLink()).toHaveAccessibleDescription('5 unread, 2 mentions');

    // Read on another client: cleared here.
    act(() => ws.receive({ type: 'read.updated', to: 1, channel_id: 10, seq: 6, cursor: 3 }));
    await waitFor(() => expect(within(help).queryByRole('img')).not.toBeInTheDocument());
    expect(railLink()).not.toHaveAccessibleDescription(/unread/);

    // A message in the open channel is not counted: it is read (acked) as it shows.
    const chat = FakeWebSocket.last;
    act(() => chat.open());
    act(() => chat.receive({ type: 'chat.message', new_message: message(9, 4, 'live') }));
    act(() => ws.receive(news(9, 4)));
    await within(log).findByText('live');
    await waitFor(() => expect(acks.map((a) => a.seq)).toEqual([3, 4]));
    expect(within(general).queryByRole('img')).not.toBeInTheDocument();
  }, 20_000);

  it('counts a conversation in the DM list, and clears it once opened and read', async () => {
    const participants = [
      { id: 1, username: 'alice' },
      { id: 2, username: 'bob' },
    ];
    const withBob: Conversation = {
      id: 12,
      kind: 'dm',
      name: null,
      participants,
      last_message: null,
      last_seq: 2,
      blocked: false,
      created_at: '2025-01-01T00:00:00Z',
      active_at: '2025-01-01T00:00:00Z',
    };
    const acks: number[] = [];
    const { fetch } = mockFetch({
      'GET /api/me/': () => json(200, alice),
      'GET /api/server/select/': () => json(200, []),
      'GET /api/dms/': () => json(200, [withBob]),
      'GET /api/dms/12/': () => json(200, withBob),
      'GET /api/dms/12/messages/': () => json(200, [message(12, 1, 'one'), message(12, 2, 'two'), message(12, 3, 'three')]),
      'GET /api/me/blocks/': () => json(200, []),
      'GET /api/me/unread/': () =>
        json(200, { channels: [unread(12, { server_id: null, last_seq: 2, read_seq: 0, unread_count: 2 })] }),
      'POST /api/dms/12/ack/': (_request, body) => {
        const seq = (body as { seq: number }).seq;
        acks.push(seq);
        return json(200, { channel_id: 12, read_seq: seq, moved: true });
      },
    });
    renderWithProviders(<App />, { fetch, path: '/dms' });
    const nav = await screen.findByRole('navigation', { name: 'Direct messages' });
    const link = await within(nav).findByRole('link', { name: /bob/ });
    expect(await within(link).findByRole('img', { name: '2 unread' })).toBeInTheDocument();

    // A message mentioning me, from the personal socket (which follows the conversation).
    const ws = FakeWebSocket.lastPersonal;
    act(() => ws.open());
    act(() => ws.receive({ type: 'ready', user: { id: 1, username: 'alice' }, max_subscriptions: 200, cursor: 1 }));
    await waitFor(() => expect(ws.sent).toContainEqual({ type: 'subscribe', channels: [{ id: 12, after: 2 }] }));
    const mention = message(12, 3, 'three <@1>', [{ id: 1, username: 'alice' }]);
    act(() => ws.receive({ type: 'chat.message', new_message: mention }));
    act(() => ws.receive({ type: 'mention', to: 1, server_id: null, message: mention, cursor: 2 }));
    expect(await within(link).findByRole('img', { name: '3 unread, 1 mention' })).toBeInTheDocument();

    // Opened: the newest message shows, is acked, and the badge goes.
    await userEvent.setup().click(link);
    await screen.findByText('three');
    await waitFor(() => expect(acks).toEqual([3]));
    await waitFor(() => expect(within(link).queryByRole('img')).not.toBeInTheDocument());
  }, 20_000);
});
