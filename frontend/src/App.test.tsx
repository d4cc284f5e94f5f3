import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { FakeWebSocket } from './test/fakeWebSocket';
import { json, mockFetch, renderWithProviders, type Route } from './test/render';

const alice = { user_id: 1, username: 'alice', is_staff: false };

const server = {
  id: 5,
  name: 'Rustaceans',
  owner: 2,
  category: 'programming',
  description: 'All things Rust',
  icon: null,
  banner: null,
  channel_server: [
    { id: 9, name: 'general', topic: 'Say hi', owner: 2, server: 5 },
    { id: 10, name: 'help', topic: '', owner: 2, server: 5 },
  ],
  num_members: 3,
};

function message(seq: number, sender: [number, string], content: string) {
  return {
    id: 100 + seq,
    channel_id: 9,
    sender: sender[1],
    sender_id: sender[0],
    content,
    timestamp: '2025-01-01T12:00:00Z',
    seq,
  };
}

function backend(overrides: Record<string, Route> = {}) {
  return mockFetch({
    'GET /api/me/': () => json(200, alice),
    'GET /api/servers/5/': () => json(200, server),
    'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: true }),
    'GET /api/channels/9/messages/': () =>
      json(200, [message(1, [2, 'bob'], 'Hi from Bob'), message(2, [1, 'alice'], 'Hi from Alice')]),
    // The rail and the member list.
    'GET /api/server/select/': () => json(200, [server]),
    'GET /api/servers/5/members/': () =>
      json(200, [
        { user_id: 1, username: 'alice', joined_at: '2025-01-01T00:00:00Z' },
        { user_id: 2, username: 'bob', joined_at: '2025-01-01T00:00:00Z' },
      ]),
    ...overrides,
  });
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the channel screen', () => {
  it('opens the first channel of a server, shows history, the connection and live messages', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/servers/5' });

    expect(await screen.findByRole('heading', { level: 1, name: 'Rustaceans' })).toBeInTheDocument();
    expect(screen.getByTestId('member-count')).toHaveTextContent('3 members');
    const channels = screen.getByRole('navigation', { name: 'Channels' });
    await waitFor(() =>
      expect(within(channels).getByRole('link', { name: '# general' })).toHaveAttribute('aria-current', 'page'),
    );
    expect(screen.getByRole('button', { name: 'Leave server' })).toBeInTheDocument();

    const log = await screen.findByRole('log', { name: 'Messages' });
    await within(log).findByText('Hi from Bob');
    expect(within(log).getAllByRole('article')).toHaveLength(2);
    const connection = screen.getByRole('status', { name: 'Connection' });
    expect(connection).toHaveTextContent('Reconnecting…');

    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    expect(FakeWebSocket.last.url).toMatch(/\/ws\/servers\/5\/channels\/9\?after=2$/);
    act(() => FakeWebSocket.last.open());
    expect(connection).toHaveTextContent('Connected');

    act(() => FakeWebSocket.last.receive({ type: 'presence.list', users: [{ id: 2, username: 'bob' }] }));
    expect(await within(screen.getByRole('region', { name: 'Online' })).findByText('bob')).toBeInTheDocument();
    act(() => FakeWebSocket.last.receive({ type: 'typing', channel_id: 9, user: { id: 2, username: 'bob' } }));
    expect(await screen.findByText('bob is typing…')).toBeInTheDocument();
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: message(3, [2, 'bob'], 'Live one') }));
    await waitFor(() => expect(within(log).getAllByRole('article')).toHaveLength(3));
    expect(screen.queryByText('bob is typing…')).not.toBeInTheDocument();

    // Own messages can be edited and deleted; others' cannot.
    const bobs = within(log).getByText('Hi from Bob').closest('article');
    const mine = within(log).getByText('Hi from Alice').closest('article');
    expect(bobs && within(bobs).queryByRole('button', { name: 'Edit message' })).toBeNull();
    expect(mine && within(mine).getByRole('button', { name: 'Delete message' })).toBeInTheDocument();
  });

  it('sends from the composer and shows the message as pending until the echo', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    await screen.findByText('Hi from Bob');
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last.open());

    const user = userEvent.setup();
    await user.type(screen.getByRole('textbox', { name: 'Message' }), 'Fresh words{Enter}');
    const sent = FakeWebSocket.last.sent.find((f) => (f as { type: string }).type === 'message') as {
      nonce: string;
      message: string;
    };
    expect(sent.message).toBe('Fresh words');
    expect(screen.getByText('Sending…')).toBeInTheDocument();

    act(() =>
      FakeWebSocket.last.receive({
        type: 'chat.message',
        new_message: { ...message(3, [1, 'alice'], 'Fresh words'), nonce: sent.nonce },
      }),
    );
    await waitFor(() => expect(screen.queryByText('Sending…')).not.toBeInTheDocument());
    expect(screen.getAllByText('Fresh words')).toHaveLength(1);
  });

  it('edits and deletes an own message (delete asks first)', async () => {
    const { fetch, calls } = backend({
      'PATCH /api/messages/102/': (_request, body) =>
        json(200, { ...message(2, [1, 'alice'], (body as { content: string }).content), edited_at: '2025-01-01T12:05:00Z' }),
      'DELETE /api/messages/102/': () => json(204),
    });
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    const log = await screen.findByRole('log', { name: 'Messages' });
    await within(log).findByText('Hi from Alice');
    const user = userEvent.setup();

    const mine = () => within(log).getByText(/^Hi from Alice/).closest('article') as HTMLElement;
    await user.click(within(mine()).getByRole('button', { name: 'Edit message' }));
    const editor = screen.getByRole('textbox', { name: 'Edit message' });
    expect(editor).toHaveFocus();
    await user.clear(editor);
    await user.type(editor, 'Hi from Alice, edited');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls).toContain('PATCH /api/messages/102/'));
    // The change shows once the server broadcasts it.
    act(() => {
      FakeWebSocket.last.receive({
        type: 'message.updated',
        message: { ...message(2, [1, 'alice'], 'Hi from Alice, edited'), edited_at: '2025-01-01T12:05:00Z' },
      });
    });
    expect(await within(log).findByText('Hi from Alice, edited')).toBeInTheDocument();

    await user.click(within(mine()).getByRole('button', { name: 'Delete message' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete message?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(calls).toContain('DELETE /api/messages/102/'));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    act(() => FakeWebSocket.last.receive({ type: 'message.deleted', id: 102, channel_id: 9 }));
    await waitFor(() => expect(within(log).queryByText(/Hi from Alice/)).not.toBeInTheDocument());
  });

  it('groups messages by author within minutes, with a separator per day', async () => {
    const local = (day: number, hour: number, minute: number) => new Date(2025, 0, day, hour, minute).toISOString();
    const at = (seq: number, sender: [number, string], content: string, timestamp: string) => ({
      ...message(seq, sender, content),
      timestamp,
    });
    const { fetch } = backend({
      'GET /api/channels/9/messages/': () =>
        json(200, [
          at(1, [2, 'bob'], 'one', local(1, 12, 0)),
          at(2, [2, 'bob'], 'two', local(1, 12, 3)),
          at(3, [1, 'alice'], 'three', local(1, 12, 4)),
          at(4, [1, 'alice'], 'four', local(1, 12, 30)),
          at(5, [2, 'bob'], 'five', local(2, 9, 0)),
        ]),
    });
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    const log = await screen.findByRole('log', { name: 'Messages' });
    await within(log).findByText('five');
    expect(within(log).getAllByRole('article')).toHaveLength(5);
    // Names shown at the head of each group only (the rest name them for screen readers).
    const shown = [...log.querySelectorAll('.message-sender')].map((el) => el.textContent);
    expect(shown).toEqual(['bob', 'alice', 'alice', 'bob']);
    const days = within(log).getAllByRole('heading', { level: 3 });
    expect(days).toHaveLength(2);
    expect(days[0]?.querySelector('time')).toHaveAttribute('dateTime', '2025-01-01');
    expect(days[1]?.querySelector('time')).toHaveAttribute('dateTime', '2025-01-02');
  });

  it('tells non-members to join instead of showing the composer', async () => {
    const { fetch } = backend({
      'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: false }),
    });
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    expect(await screen.findByText('Join this server to send messages')).toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'Message' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Join server' })).toBeInTheDocument();
  });
});

describe('the session', () => {
  it('sends a visitor without a session to the login screen', async () => {
    const { fetch } = backend({
      'GET /api/me/': () => json(401, { error: 'Not authenticated', code: 'unauthenticated' }),
      'POST /api/token/refresh/': () => json(401, { error: 'No refresh token', code: 'unauthenticated' }),
    });
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(within(screen.getByRole('banner')).getByRole('link', { name: 'Log in' })).toBeInTheDocument();
  });

  it('logs in, shows the username in the header, and logs out', async () => {
    let session = false;
    const { fetch } = backend({
      'GET /api/me/': () => (session ? json(200, alice) : json(401, { error: 'Not authenticated', code: 'unauthenticated' })),
      'POST /api/token/refresh/': () => json(401, { error: 'No refresh token', code: 'unauthenticated' }),
      'POST /api/token/': (_request, body) => {
        const { password } = body as { password: string };
        if (password !== 'hearth-demo') return json(401, { error: 'Invalid username or password', code: 'invalid_credentials' });
        session = true;
        return json(200, { user_id: 1, refresh: 'r' });
      },
      'POST /api/logout/': () => {
        session = false;
        return json(200, { message: 'Logged out' });
      },
      'GET /api/server/category/': () => json(200, [{ id: 1, name: 'programming', description: '', icon: null }]),
      // The rail (mine) and the catalogue.
      'GET /api/server/select/': () => json(200, [server]),
      'GET /api/servers/': () => json(200, [server]),
    });
    renderWithProviders(<App />, { fetch, path: '/login' });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'wrong-password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid username or password');

    await user.clear(screen.getByLabelText('Password'));
    await user.type(screen.getByLabelText('Password'), 'hearth-demo');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Explore' })).toBeInTheDocument();
    const banner = screen.getByRole('banner');
    expect(within(banner).getByText('alice')).toBeInTheDocument();
    const categories = screen.getByRole('navigation', { name: 'Categories' });
    expect(await within(categories).findByRole('link', { name: 'programming' })).toHaveAttribute('href', '/explore/programming');
    const main = screen.getByRole('main');
    expect(await within(main).findByRole('link', { name: /^Rustaceans/ })).toHaveTextContent('3 members');

    // The rail: Home, the servers one belongs to, creating and exploring (the current place).
    const rail = screen.getByRole('navigation', { name: 'Servers' });
    expect(await within(rail).findByRole('link', { name: 'Rustaceans' })).toHaveAttribute('href', '/servers/5');
    expect(within(rail).getByRole('link', { name: 'Home' })).toHaveAttribute('href', '/dms');
    expect(within(rail).getByRole('link', { name: 'Create server' })).toHaveAttribute('href', '/servers/new');
    expect(within(rail).getByRole('link', { name: 'Explore servers' })).toHaveAttribute('aria-current', 'true');
    expect(within(rail).getByRole('link', { name: 'Rustaceans' })).not.toHaveAttribute('aria-current');

    await user.click(within(banner).getByRole('button', { name: 'Log out' }));
    expect(await within(banner).findByRole('link', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Servers' })).not.toBeInTheDocument();
  });
});
