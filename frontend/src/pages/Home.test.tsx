import { focusManager } from '@tanstack/react-query';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation } from '../api/types';
import { App } from '../App';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { json, mockFetch, renderWithProviders, type Route } from '../test/render';

const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };
const carol = { id: 3, username: 'carol' };
const dave = { id: 4, username: 'dave' };
const me = { user_id: 1, username: 'alice', is_staff: false };

const server = {
  id: 5,
  name: 'Rustaceans',
  owner: 2,
  category: 'programming',
  description: '',
  icon: null,
  banner: null,
  channel_server: [{ id: 9, name: 'general', topic: '', owner: 2, server: 5 }],
  num_members: 4,
};

function conversation(id: number, activeAt: string, overrides: Partial<Conversation> = {}): Conversation {
  return {
    id,
    kind: 'dm',
    name: null,
    participants: [alice, bob],
    last_message: null,
    last_seq: 0,
    blocked: false,
    created_at: '2025-01-01T00:00:00Z',
    active_at: activeAt,
    ...overrides,
  };
}

function lastMessage(channelId: number, seq: number, from: { id: number; username: string }, content: string) {
  return {
    id: 900 + seq,
    channel_id: channelId,
    sender: from.username,
    sender_id: from.id,
    content,
    timestamp: '2025-01-03T10:00:00Z',
    seq,
  };
}

const withBob = conversation(12, '2025-01-02T10:00:00Z', {
  last_message: lastMessage(12, 3, bob, 'See you tomorrow'),
  last_seq: 3,
});
const trio = conversation(40, '2025-01-03T10:00:00Z', {
  kind: 'group',
  name: 'Trio',
  participants: [alice, bob, carol],
  last_message: lastMessage(40, 1, carol, 'Hello trio'),
  last_seq: 1,
});
const withCarol = conversation(13, '2025-01-01T10:00:00Z', { participants: [alice, carol] });

function members() {
  return [alice, bob, carol, dave].map((u) => ({ user_id: u.id, username: u.username, joined_at: '2025-01-01T00:00:00Z' }));
}

function backend(overrides: Record<string, Route> = {}, list: () => Conversation[] = () => [withBob, trio, withCarol]) {
  return mockFetch({
    'GET /api/me/': () => json(200, me),
    'GET /api/server/select/': () => json(200, [server]),
    'GET /api/servers/5/': () => json(200, server),
    'GET /api/servers/5/members/': () => json(200, members()),
    'GET /api/membership/5/membership/is_member/': () => json(200, { is_member: true }),
    'GET /api/channels/9/messages/': () => json(200, []),
    'GET /api/dms/': () => json(200, list()),
    'GET /api/dms/12/': () => json(200, withBob),
    'GET /api/dms/12/messages/': () => json(200, [lastMessage(12, 3, bob, 'See you tomorrow')]),
    'GET /api/dms/40/': () => json(200, trio),
    'GET /api/dms/40/messages/': () => json(200, [lastMessage(40, 1, carol, 'Hello trio')]),
    'GET /api/me/blocks/': () => json(200, []),
    ...overrides,
  });
}

function dmLinks() {
  const nav = screen.getByRole('navigation', { name: 'Direct messages' });
  return within(nav).queryAllByRole('link');
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  focusManager.setFocused(undefined);
});

describe('the DM list', () => {
  it('lists conversations most recently active first, with names, previews and the open one marked', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/dms/12' });
    await waitFor(() => expect(dmLinks()).toHaveLength(3));
    const [first, second, third] = dmLinks();
    expect(first).toHaveTextContent('Trio');
    expect(first).toHaveTextContent('3 people · carol: Hello trio');
    expect(second).toHaveTextContent('bob');
    expect(second).toHaveTextContent('See you tomorrow');
    expect(second).toHaveAttribute('aria-current', 'page');
    expect(third).toHaveTextContent('carol');
    expect(third).toHaveTextContent('No messages yet');
    // Home is the current place in the rail.
    expect(within(screen.getByRole('navigation', { name: 'Servers' })).getByRole('link', { name: 'Home' })).toHaveAttribute(
      'aria-current',
      'true',
    );
  });

  it('asks the server again when the window regains focus, and follows the personal socket live', async () => {
    let list = [withBob];
    const { fetch, calls } = backend({}, () => list);
    const { queryClient } = renderWithProviders(<App />, { fetch, path: '/dms' });
    await waitFor(() => expect(dmLinks()).toHaveLength(1));
    const fetches = () => calls.filter((c) => c === 'GET /api/dms/').length;

    // Someone opened a conversation with us: it shows once the window has focus again.
    list = [conversation(14, '2025-01-04T00:00:00Z', { participants: [alice, dave] }), withBob];
    act(() => {
      focusManager.setFocused(false);
      focusManager.setFocused(true);
    });
    await waitFor(() => expect(dmLinks()).toHaveLength(2));
    expect(dmLinks()[0]).toHaveTextContent('dave');

    // The personal socket: on ready it reloads the list and subscribes to every conversation,
    // from the highest seq known.
    await waitFor(() => expect(FakeWebSocket.personal).toHaveLength(1));
    const personal = FakeWebSocket.lastPersonal;
    expect(new URL(personal.url).pathname).toBe('/ws/me');
    const before = fetches();
    act(() => personal.open());
    act(() => personal.receive({ type: 'ready', user: alice, max_subscriptions: 200 }));
    expect(personal.sent).toEqual([{ type: 'subscribe', channels: [{ id: 14 }, { id: 12, after: 3 }] }]);
    await waitFor(() => expect(fetches()).toBe(before + 1));

    // A message in a conversation moves it up, with its preview.
    act(() =>
      personal.receive({
        type: 'chat.message',
        new_message: { ...lastMessage(12, 4, bob, 'Live from bob'), timestamp: '2025-01-05T00:00:00Z' },
      }),
    );
    await waitFor(() => expect(dmLinks()[0]).toHaveTextContent('Live from bob'));

    // Added to a group: the list is reloaded and the group followed.
    list = [{ ...trio, active_at: '2025-01-06T00:00:00Z' }, ...list];
    act(() => personal.receive({ type: 'conversation.added', conversation_id: 40, to: 1 }));
    await waitFor(() => expect(dmLinks()).toHaveLength(3));
    expect(dmLinks()[0]).toHaveTextContent('Trio');
    await waitFor(() => expect(personal.sent).toContainEqual({ type: 'subscribe', channels: [{ id: 40 }] }));

    // Gone for me (deleted, or I was removed): out of the list.
    act(() => personal.receive({ type: 'unsubscribed', channel_id: 14, reason: 'not_found' }));
    await waitFor(() => expect(dmLinks()).toHaveLength(2));
    expect(queryClient.getQueryData<Conversation[]>(['dms', 'list'])?.map((c) => c.id)).toEqual([40, 12]);
  });

  it('shows a private message sent to me as a toast linking to the conversation', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/dms' });
    await waitFor(() => expect(dmLinks()).toHaveLength(3));
    await waitFor(() => expect(FakeWebSocket.personal).toHaveLength(1));
    const personal = FakeWebSocket.lastPersonal;
    act(() => personal.open());
    act(() => personal.receive({ type: 'ready', user: alice, max_subscriptions: 200 }));
    act(() => personal.receive({ type: 'private_message', user: 'bob', message: 'psst', to: 1, conversation_id: 12 }));
    const toast = await screen.findByRole('region', { name: 'Private messages' });
    const link = within(toast).getByRole('link', { name: /bob: psst/ });
    expect(link).toHaveAttribute('href', '/dms/12');
    await userEvent.setup().click(link);
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Private messages' })).not.toBeInTheDocument());
    expect(await screen.findByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();
  });
});

describe('alerts from my other connections', () => {
  it('shows a refused action as a notice, apart from private messages', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/dms' });
    await waitFor(() => expect(dmLinks()).toHaveLength(3));
    await waitFor(() => expect(FakeWebSocket.personal).toHaveLength(1));
    const personal = FakeWebSocket.lastPersonal;
    act(() => personal.open());
    act(() => personal.receive({ type: 'ready', user: alice, max_subscriptions: 200, cursor: 8 }));
    act(() =>
      personal.receive({ type: 'alert', to: 1, code: 'blocked', message: 'You cannot message this user', cursor: 9 }),
    );
    const notices = await screen.findByRole('region', { name: 'Notices' });
    expect(within(notices).getByRole('alert')).toHaveTextContent('You cannot message this user');
    expect(screen.queryByRole('region', { name: 'Private messages' })).not.toBeInTheDocument();
  });
});

describe('starting conversations', () => {
  it('opens a DM from the member list of a channel and navigates to it', async () => {
    const opened: unknown[] = [];
    const { fetch } = backend({
      'POST /api/dms/': (_request, body) => {
        opened.push(body);
        return json(201, withBob);
      },
    });
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    const panel = await screen.findByRole('complementary', { name: 'Members' });
    const offline = await within(panel).findByRole('region', { name: 'Offline' });
    await within(offline).findByText('bob');
    // No way to message oneself.
    expect(within(panel).queryByRole('button', { name: 'Message alice' })).not.toBeInTheDocument();
    await userEvent.click(within(panel).getByRole('button', { name: 'Message bob' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();
    expect(opened).toEqual([{ user_id: 2 }]);
    expect(await screen.findByText('See you tomorrow', { selector: '.message-content' })).toBeInTheDocument();
    await waitFor(() => expect(FakeWebSocket.last.url).toMatch(/\/ws\/dms\/12\?after=3$/));
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveAttribute('placeholder', 'Message @bob');
  });

  it('explains why a DM could not be opened', async () => {
    const { fetch } = backend({
      'POST /api/dms/': () => json(403, { error: 'You cannot message this user', code: 'blocked' }),
    });
    renderWithProviders(<App />, { fetch, path: '/servers/5/channels/9' });
    const panel = await screen.findByRole('complementary', { name: 'Members' });
    await userEvent.click(await within(panel).findByRole('button', { name: 'Message carol' }));
    expect(await within(panel).findByRole('alert')).toHaveTextContent('You cannot message this user');
  });

  it('creates a group of people one knows, asking for at least two of them', async () => {
    const created: unknown[] = [];
    const group = conversation(41, '2025-01-05T00:00:00Z', { kind: 'group', name: 'Weekend', participants: [alice, bob, dave] });
    const { fetch } = backend({
      'POST /api/dms/groups/': (_request, body) => {
        created.push(body);
        return json(201, group);
      },
      'GET /api/dms/41/': () => json(200, group),
      'GET /api/dms/41/messages/': () => json(200, []),
    });
    renderWithProviders(<App />, { fetch, path: '/dms' });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'New group' }));
    const dialog = screen.getByRole('dialog', { name: 'New group' });
    expect(within(dialog).getByLabelText('Group name')).toHaveFocus();
    await user.type(within(dialog).getByLabelText('Group name'), 'Weekend');

    // People come from the servers' member lists and the conversations, without oneself.
    const people = within(dialog).getByRole('group', { name: 'People' });
    await within(people).findByRole('checkbox', { name: 'dave' });
    expect(within(people).getAllByRole('checkbox').map((box) => box.closest('label')?.textContent)).toEqual([
      'Bbob',
      'Ccarol',
      'Ddave',
    ]);
    await user.click(within(people).getByRole('checkbox', { name: 'bob' }));
    await user.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect(within(dialog).getByRole('alert')).toHaveTextContent('Pick at least 2 people.');
    expect(created).toEqual([]);

    await user.click(within(people).getByRole('checkbox', { name: 'dave' }));
    expect(within(dialog).getByText('2 of 9 picked')).toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Weekend' })).toBeInTheDocument();
    expect(created).toEqual([{ name: 'Weekend', user_ids: [2, 4] }]);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});

describe('groups', () => {
  it('adds someone, follows the live participant list, and leaves', async () => {
    const added: unknown[] = [];
    let left = false;
    const { fetch } = backend({
      'POST /api/dms/40/participants/': (_request, body) => {
        added.push(body);
        return json(200, { ...trio, participants: [alice, bob, carol, dave] });
      },
      'DELETE /api/dms/40/participants/me/': () => {
        left = true;
        return json(204);
      },
    });
    renderWithProviders(<App />, { fetch, path: '/dms/40' });
    const user = userEvent.setup();
    expect(await screen.findByRole('heading', { level: 1, name: 'Trio' })).toBeInTheDocument();
    const panel = screen.getByRole('complementary', { name: 'Participants' });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'presence.list', users: [alice, carol] }));
    expect(within(within(panel).getByRole('region', { name: 'Online' })).getByText('carol')).toBeInTheDocument();
    expect(within(within(panel).getByRole('region', { name: 'Offline' })).getByText('bob')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Add people' }));
    const dialog = screen.getByRole('dialog', { name: 'Add people to Trio' });
    await user.click(await within(dialog).findByRole('button', { name: 'Add dave' }));
    expect(await within(dialog).findByText('dave was added.')).toBeInTheDocument();
    expect(added).toEqual([{ user_id: 4 }]);
    await user.click(within(dialog).getByRole('button', { name: 'Done' }));
    expect(within(panel).getByText('dave')).toBeInTheDocument();

    // Bob leaves, live.
    act(() => FakeWebSocket.last.receive({ type: 'conversation.participant_left', channel_id: 40, user_id: 2 }));
    await waitFor(() => expect(within(panel).queryByText('bob')).not.toBeInTheDocument());

    await user.click(screen.getByRole('button', { name: 'Leave group' }));
    const confirm = screen.getByRole('dialog', { name: 'Leave Trio?' });
    await user.click(within(confirm).getByRole('button', { name: 'Leave group' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Home' })).toBeInTheDocument();
    expect(screen.getByText('You left Trio.')).toBeInTheDocument();
    expect(left).toBe(true);
    await waitFor(() => expect(dmLinks().map((l) => l.textContent)).not.toContainEqual(expect.stringContaining('Trio')));
  });
});

describe('blocking', () => {
  it('blocks from the conversation header (after asking), locks the composer, and unblocks', async () => {
    let blocked: { id: number; username: string }[] = [];
    const calls: string[] = [];
    const { fetch } = backend({
      'GET /api/me/blocks/': () => json(200, blocked),
      'PUT /api/me/blocks/2/': () => {
        calls.push('block');
        blocked = [bob];
        return json(204);
      },
      'DELETE /api/me/blocks/2/': () => {
        calls.push('unblock');
        blocked = [];
        return json(204);
      },
    });
    renderWithProviders(<App />, { fetch, path: '/dms/12' });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Block bob' }));
    const dialog = screen.getByRole('dialog', { name: 'Block bob?' });
    await user.click(within(dialog).getByRole('button', { name: 'Block' }));

    expect(await screen.findByText('You blocked bob. Unblock them to send messages.')).toBeInTheDocument();
    // Focus goes back to the header's button, which now offers the way back.
    await waitFor(() => expect(screen.getByRole('button', { name: 'Unblock bob' })).toHaveFocus());
    expect(screen.queryByRole('textbox', { name: 'Message' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Unblock bob' }));
    expect(await screen.findByRole('textbox', { name: 'Message' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Block bob' })).toBeInTheDocument();
    expect(calls).toEqual(['block', 'unblock']);
  });

  it('lists blocked users in Home, to unblock them there', async () => {
    let blocked = [bob, dave];
    const { fetch } = backend({
      'GET /api/me/blocks/': () => json(200, blocked),
      'DELETE /api/me/blocks/4/': () => {
        blocked = [bob];
        return json(204);
      },
    });
    renderWithProviders(<App />, { fetch, path: '/dms' });
    const list = await screen.findByRole('list', { name: 'Blocked users' });
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['BbobUnblock', 'DdaveUnblock']);
    await userEvent.click(within(list).getByRole('button', { name: 'Unblock dave' }));
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(1));
  });

  it("shows the server's refusal when the other person blocked us, and recovers once a message goes through", async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/dms/12' });
    const user = userEvent.setup();
    await screen.findByRole('heading', { level: 1, name: 'bob' });
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    act(() => FakeWebSocket.last.open());
    await user.type(screen.getByRole('textbox', { name: 'Message' }), 'hello?{Enter}');
    const sent = FakeWebSocket.last.sent.find((f) => (f as { type: string }).type === 'message') as { nonce: string };
    act(() =>
      FakeWebSocket.last.receive({
        type: 'error',
        code: 'blocked',
        error: 'You cannot send messages in this conversation',
        nonce: sent.nonce,
      }),
    );
    const area = screen.getByRole('textbox', { name: 'Message' }).closest('.composer-area') as HTMLElement;
    expect(await within(area).findByRole('alert')).toHaveTextContent('You cannot send messages in this conversation');
    expect(screen.getByText('Not sent')).toBeInTheDocument();

    // Retried after they unblocked us: it goes through, and the refusal is gone.
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    act(() =>
      FakeWebSocket.last.receive({
        type: 'chat.message',
        new_message: { ...lastMessage(12, 4, alice, 'hello?'), nonce: sent.nonce },
      }),
    );
    await waitFor(() => expect(within(area).queryByRole('alert')).not.toBeInTheDocument());
    expect(screen.queryByText('Not sent')).not.toBeInTheDocument();
  });
});

async function connectPersonal() {
  await waitFor(() => expect(FakeWebSocket.personal).toHaveLength(1));
  const personal = FakeWebSocket.lastPersonal;
  act(() => personal.open());
  act(() => personal.receive({ type: 'ready', user: alice, max_subscriptions: 200, cursor: 1 }));
  return personal;
}

describe("my partners' presence", () => {
  it('puts a dot on the conversations of partners online and beside the open one, live', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/dms/12' });
    await waitFor(() => expect(dmLinks()).toHaveLength(3));
    expect(await screen.findByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();
    expect(screen.queryAllByRole('img', { name: /online/ })).toEqual([]);
    const personal = await connectPersonal();
    const chat = screen.getByRole('region', { name: 'bob' });

    act(() => personal.receive({ type: 'user.presence.list', online: [bob] }));
    // The list: Trio (bob, carol), bob, carol.
    const [trioLink, bobLink, carolLink] = dmLinks() as [HTMLElement, HTMLElement, HTMLElement];
    expect(within(bobLink).getByRole('img', { name: 'online' })).toHaveAttribute('title', 'Online');
    expect(within(trioLink).getByRole('img', { name: '1 online' })).toBeInTheDocument();
    expect(within(carolLink).queryByRole('img')).not.toBeInTheDocument();
    expect(within(chat).getByRole('img', { name: 'online' })).toBeInTheDocument();
    // Beside the title, not in it.
    expect(screen.getByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();

    act(() => personal.receive({ type: 'user.presence', user: bob, online: false }));
    expect(within(bobLink).queryByRole('img', { name: 'online' })).not.toBeInTheDocument();
    expect(within(trioLink).queryByRole('img')).not.toBeInTheDocument();
    expect(within(chat).queryByRole('img', { name: 'online' })).not.toBeInTheDocument();

    act(() => personal.receive({ type: 'user.presence', user: carol, online: true }));
    expect(within(carolLink).getByRole('img', { name: 'online' })).toBeInTheDocument();
    expect(within(trioLink).getByRole('img', { name: '1 online' })).toBeInTheDocument();
    // A later list on the same connection adds.
    act(() => personal.receive({ type: 'user.presence.list', online: [bob] }));
    expect(within(trioLink).getByRole('img', { name: '2 online' })).toBeInTheDocument();
    expect(within(bobLink).getByRole('img', { name: 'online' })).toBeInTheDocument();
    expect(within(carolLink).getByRole('img', { name: 'online' })).toBeInTheDocument();

    // Disconnected: nobody is shown online.
    act(() => personal.drop(1006));
    expect(screen.queryAllByRole('img', { name: /online/ })).toEqual([]);
  });

  it('says how many of a group are online beside its title', async () => {
    const { fetch } = backend();
    renderWithProviders(<App />, { fetch, path: '/dms/40' });
    expect(await screen.findByRole('heading', { level: 1, name: 'Trio' })).toBeInTheDocument();
    const personal = await connectPersonal();
    const chat = screen.getByRole('region', { name: 'Trio' });
    expect(within(chat).queryByText(/online/)).not.toBeInTheDocument();
    act(() => personal.receive({ type: 'user.presence.list', online: [carol, dave] }));
    // dave is a partner from another conversation: not in this one.
    expect(within(chat).getByText('1 online')).toBeInTheDocument();
    act(() => personal.receive({ type: 'user.presence', user: bob, online: true }));
    expect(within(chat).getByText('2 online')).toBeInTheDocument();
  });
});

describe('the forced logout', () => {
  /** The backend once the account is gone: the session no longer works. */
  function deletable(overrides: Record<string, Route> = {}) {
    const state = { deleted: false };
    const gone = () => json(401, { error: 'The account no longer exists', code: 'not_authenticated' });
    const mock = backend({
      'GET /api/me/': () => (state.deleted ? gone() : json(200, me)),
      'POST /api/token/refresh/': () => (state.deleted ? gone() : json(200, {})),
      ...overrides,
    });
    return { ...mock, state };
  }

  it('on account.deleted ends the session and shows the login page with a notice, without reconnecting', async () => {
    const { fetch, calls, state } = deletable();
    renderWithProviders(<App />, { fetch, path: '/dms/12' });
    expect(await screen.findByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();
    const personal = await connectPersonal();

    // Deleted from another client.
    state.deleted = true;
    act(() => personal.receive({ type: 'account.deleted', to: 1 }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByText('Your account was deleted.')).toBeInTheDocument();
    expect(within(screen.getByRole('banner')).getByRole('link', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Servers' })).not.toBeInTheDocument();
    expect(personal.closedWith).toBe(1000);

    act(() => personal.drop(4001));
    // Longer than the first reconnect's backoff (at most 500 ms) or a renewal would take.
    await act(() => new Promise((resolve) => setTimeout(resolve, 700)));
    expect(FakeWebSocket.personal).toHaveLength(1);
    expect(calls).not.toContain('POST /api/token/refresh/');
    expect(screen.getByText('Your account was deleted.')).toBeInTheDocument();
  });

  it("does the same when the conversation's own socket hears it first", async () => {
    const { fetch, state } = deletable();
    renderWithProviders(<App />, { fetch, path: '/dms/12' });
    expect(await screen.findByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(1));
    const socket = FakeWebSocket.last;
    act(() => socket.open());
    state.deleted = true;
    act(() => socket.receive({ type: 'account.deleted', to: 1 }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByText('Your account was deleted.')).toBeInTheDocument();
    expect(socket.closedWith).toBe(1000);
    expect(FakeWebSocket.lastPersonal.closedWith).toBe(1000);
  });
});

describe('deleting my account', () => {
  function deletable(password: string) {
    let deleted = false;
    const bodies: unknown[] = [];
    const gone = () => json(401, { error: 'The account no longer exists', code: 'not_authenticated' });
    const mock = backend({
      'GET /api/me/': () => (deleted ? gone() : json(200, me)),
      'POST /api/token/refresh/': () => (deleted ? gone() : json(200, {})),
      'DELETE /api/me/': (_request, body) => {
        bodies.push(body);
        if ((body as { password?: string }).password !== password) {
          return json(401, { error: 'No active account found with the given credentials', code: 'not_authenticated' });
        }
        deleted = true;
        return json(204);
      },
    });
    return { ...mock, bodies };
  }

  it('asks for the password, deletes the account and shows the login page with a notice', async () => {
    const { fetch, calls, bodies } = deletable('hearth-demo');
    renderWithProviders(<App />, { fetch, path: '/dms' });
    const user = userEvent.setup();
    expect(await screen.findByRole('heading', { level: 1, name: 'Home' })).toBeInTheDocument();
    await connectPersonal();
    const banner = screen.getByRole('banner');
    await user.click(within(banner).getByRole('button', { name: 'Delete account' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete your account?' });
    const password = within(dialog).getByLabelText('Password');
    expect(password).toHaveFocus();
    await user.type(password, 'hearth-demo');
    await user.click(within(dialog).getByRole('button', { name: 'Delete account' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByText('Your account was deleted.')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(within(banner).getByRole('link', { name: 'Log in' })).toBeInTheDocument();
    expect(bodies).toEqual([{ password: 'hearth-demo' }]);
    // The access cookie was renewed first, so that a 401 could only mean a wrong password.
    expect(calls.lastIndexOf('POST /api/token/refresh/')).toBeLessThan(calls.indexOf('DELETE /api/me/'));
    expect(FakeWebSocket.lastPersonal.closedWith).toBe(1000);
    expect(FakeWebSocket.personal).toHaveLength(1);
  });

  it('says "Wrong password" and stays signed in when the password is wrong', async () => {
    const { fetch, calls, bodies } = deletable('hearth-demo');
    renderWithProviders(<App />, { fetch, path: '/dms' });
    const user = userEvent.setup();
    expect(await screen.findByRole('heading', { level: 1, name: 'Home' })).toBeInTheDocument();
    const banner = screen.getByRole('banner');
    const open = within(banner).getByRole('button', { name: 'Delete account' });
    await user.click(open);
    const dialog = screen.getByRole('dialog', { name: 'Delete your account?' });
    const password = within(dialog).getByLabelText('Password');

    // Nothing typed: nothing sent.
    await user.click(within(dialog).getByRole('button', { name: 'Delete account' }));
    expect(within(dialog).getByRole('alert')).toHaveTextContent('Enter your password.');
    expect(bodies).toEqual([]);

    await user.type(password, 'guess');
    await user.click(within(dialog).getByRole('button', { name: 'Delete account' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Wrong password');
    expect(password).toHaveAttribute('aria-invalid', 'true');
    expect(bodies).toEqual([{ password: 'guess' }]);
    // Not taken for an expired session: not retried, still signed in, still here.
    expect(calls.filter((c) => c === 'DELETE /api/me/')).toHaveLength(1);
    expect(within(banner).getByText('alice')).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1, name: 'Home' })).toBeInTheDocument();

    // Typing again clears the error; Cancel closes, focus back on the header's button.
    await user.type(password, '!');
    expect(within(dialog).queryByRole('alert')).not.toBeInTheDocument();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(open).toHaveFocus();
    expect(bodies).toHaveLength(1);
  });
});
