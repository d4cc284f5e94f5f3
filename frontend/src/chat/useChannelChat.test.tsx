import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../api/queries';
import type { ChatMessage } from '../api/types';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { createTestClient, json, mockFetch, Providers } from '../test/render';
import { emptyMessages, type MessagesState } from './messages';
import { useChannelChat } from './useChannelChat';

const me = { user_id: 1, username: 'alice', is_staff: false };

function echo(seq: number, content: string, nonce?: string): ChatMessage {
  return {
    id: 500 + seq,
    channel_id: 9,
    sender: 'alice',
    sender_id: 1,
    content,
    timestamp: '2025-01-01T00:00:00Z',
    seq,
    ...(nonce ? { nonce } : {}),
  };
}

function setup(routes = {}) {
  const { fetch, calls } = mockFetch({
    'GET /api/channels/9/messages/': () => json(200, []),
    ...routes,
  });
  const queryClient = createTestClient();
  queryClient.setQueryData<MessagesState>(keys.messages(9), emptyMessages);
  const onGone = vi.fn();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <Providers fetch={fetch as typeof globalThis.fetch} queryClient={queryClient}>
      {children}
    </Providers>
  );
  const hook = renderHook(
    () => useChannelChat({ serverId: 3, channelId: 9, me, enabled: true, onGone, createSocket: FakeWebSocket.factory }),
    { wrapper },
  );
  const messages = () => queryClient.getQueryData<MessagesState>(keys.messages(9)) ?? emptyMessages;
  return { hook, queryClient, messages, onGone, calls };
}

beforeEach(() => {
  FakeWebSocket.reset();
});

describe('useChannelChat', () => {
  it('keeps a message pending until its echo, re-sending it with the same nonce after a drop', async () => {
    const { hook, messages } = setup();
    expect(FakeWebSocket.last.url).toMatch(/\/ws\/servers\/3\/channels\/9\?after=0$/);

    // Written while the socket is still connecting: queued, not lost.
    act(() => {
      hook.result.current.send('  hello  ');
    });
    expect(messages().pending).toMatchObject([{ content: 'hello', status: 'sending' }]);
    const nonce = messages().pending[0]?.nonce;
    expect(nonce).toBeTruthy();

    act(() => FakeWebSocket.last.open());
    expect(hook.result.current.connection).toBe('open');
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'message', message: 'hello', nonce }]);

    // The network drops before the echo: the retry carries the same nonce.
    act(() => FakeWebSocket.last.drop(1006));
    expect(hook.result.current.connection).toBe('reconnecting');
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    act(() => FakeWebSocket.last.open());
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'message', message: 'hello', nonce }]);

    // The echo (or the replay) settles it: shown once, no longer pending.
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(1, 'hello', nonce) }));
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(1, 'hello', nonce) }));
    expect(messages().pending).toEqual([]);
    expect(messages().messages.map((m) => m.content)).toEqual(['hello']);
  });

  it('resumes after the highest seq it holds', async () => {
    setup();
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(41, 'a') }));
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(42, 'b') }));
    act(() => FakeWebSocket.last.drop(4009));
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    expect(FakeWebSocket.last.url).toMatch(/\?after=42$/);
  });

  it('tracks presence and typing, ignoring our own typing', () => {
    const { hook } = setup();
    act(() => FakeWebSocket.last.open());
    act(() =>
      FakeWebSocket.last.receive({ type: 'presence.list', users: [{ id: 1, username: 'alice' }, { id: 2, username: 'bob' }] }),
    );
    act(() => FakeWebSocket.last.receive({ type: 'presence.join', channel_id: 9, user: { id: 3, username: 'carol' } }));
    act(() => FakeWebSocket.last.receive({ type: 'presence.leave', channel_id: 9, user: { id: 2, username: 'bob' } }));
    expect(hook.result.current.online.map((u) => u.username)).toEqual(['alice', 'carol']);
    expect(hook.result.current.onlineCount).toBe(2);

    act(() => FakeWebSocket.last.receive({ type: 'typing', channel_id: 9, user: { id: 1, username: 'alice' } }));
    act(() => FakeWebSocket.last.receive({ type: 'typing', channel_id: 9, user: { id: 3, username: 'carol' } }));
    expect(hook.result.current.typing.map((u) => u.username)).toEqual(['carol']);
  });

  it('shows a large channel\'s count beside the first page it was given', () => {
    const { hook } = setup();
    act(() => FakeWebSocket.last.open());
    const page = [{ id: 1, username: 'alice' }, { id: 2, username: 'bob' }];
    act(() => FakeWebSocket.last.receive({ type: 'presence.list', channel_id: 9, users: page, count: 250, complete: false }));
    expect(hook.result.current.online).toEqual(page);
    expect(hook.result.current.onlineCount).toBe(250);
    act(() => FakeWebSocket.last.receive({ type: 'presence.count', channel_id: 9, count: 4000 }));
    expect(hook.result.current.onlineCount).toBe(4000);
    // Small again: the whole list, and the count is its length.
    act(() => FakeWebSocket.last.receive({ type: 'presence.list', channel_id: 9, users: page, count: 2, complete: true }));
    expect(hook.result.current.onlineCount).toBe(2);
    act(() => FakeWebSocket.last.receive({ type: 'presence.join', channel_id: 9, user: { id: 3, username: 'carol' } }));
    expect(hook.result.current.onlineCount).toBe(3);
  });

  it('throttles our typing frames to one per 3 s', () => {
    const { hook } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => {
      hook.result.current.notifyTyping();
      hook.result.current.notifyTyping();
      hook.result.current.notifyTyping();
    });
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'typing' }]);
  });

  it('marks pending messages failed when the server says we are not a member', () => {
    const { hook, messages } = setup({
      'GET /api/membership/3/membership/is_member/': () => json(200, { is_member: false }),
    });
    act(() => FakeWebSocket.last.open());
    act(() => {
      hook.result.current.send('let me in');
    });
    act(() =>
      FakeWebSocket.last.receive({
        type: 'error',
        code: 'not_member',
        error: 'You must be a member of this server to post in it',
      }),
    );
    expect(messages().pending).toMatchObject([
      { content: 'let me in', status: 'failed', error: 'You must be a member of this server to post in it' },
    ]);
  });

  it('fails only the message an error frame names by its nonce', () => {
    const { hook, messages } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => {
      hook.result.current.send('first');
      hook.result.current.send('second');
    });
    const sent = FakeWebSocket.last.sent as { nonce?: string }[];
    const secondNonce = sent[1]?.nonce;
    expect(secondNonce).toBeTruthy();
    act(() =>
      FakeWebSocket.last.receive({
        type: 'error',
        code: 'invalid_message',
        error: 'Too long',
        nonce: secondNonce,
      }),
    );
    expect(messages().pending).toMatchObject([
      { content: 'first', status: 'sending' },
      { content: 'second', status: 'failed', error: 'Too long' },
    ]);
  });

  it('applies live edits, deletions and channel changes to the cache', () => {
    const { queryClient, messages, onGone } = setup();
    queryClient.setQueryData(keys.server(3), {
      id: 3,
      name: 'S',
      owner: 2,
      category: 'c',
      description: '',
      channel_server: [{ id: 9, name: 'general', topic: '', owner: 2, server: 3 }],
      num_members: 2,
    });
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(1, 'first') }));
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(2, 'second') }));
    act(() =>
      FakeWebSocket.last.receive({
        type: 'message.updated',
        message: { ...echo(1, 'first, edited'), edited_at: '2025-01-01T00:05:00Z' },
      }),
    );
    act(() => FakeWebSocket.last.receive({ type: 'message.deleted', id: echo(2, '').id, channel_id: 9 }));
    expect(messages().messages.map((m) => m.content)).toEqual(['first, edited']);

    act(() =>
      FakeWebSocket.last.receive({
        type: 'channel.created',
        channel: { id: 10, name: 'random', topic: '', owner: 2, server: 3 },
      }),
    );
    expect(
      queryClient.getQueryData<{ channel_server: { name: string }[] }>(keys.server(3))?.channel_server.map((c) => c.name),
    ).toEqual(['general', 'random']);

    act(() => FakeWebSocket.last.receive({ type: 'channel.deleted', channel_id: 9, server_id: 3 }));
    expect(onGone).toHaveBeenCalledWith('channel');
  });

  it('refreshes the membership when the viewer is removed, the count when someone else leaves', async () => {
    let member = true;
    const { queryClient, calls } = setup({
      'GET /api/membership/3/membership/is_member/': () => json(200, { is_member: member }),
    });
    queryClient.setQueryData(keys.membership(3), true);
    act(() => FakeWebSocket.last.open());
    member = false;
    act(() => FakeWebSocket.last.receive({ type: 'member.left', server_id: 3, user_id: 1 }));
    // Invalidated, not observed by a component here: marked stale for the next reader.
    await waitFor(() => expect(queryClient.getQueryState(keys.membership(3))?.isInvalidated).toBe(true));
    expect(calls).toEqual([]);
  });
  it('sends a reply with reply_to, and shows invalid_reply on the pending message (a retry sends it plainly)', () => {
    const { hook, messages } = setup();
    act(() => FakeWebSocket.last.open());
    const original = { id: 77, sender: 'bob', sender_id: 2, content: 'Pancakes?', deleted: false };
    act(() => hook.result.current.setReplyTo(original));
    expect(hook.result.current.replyTo).toEqual(original);
    act(() => {
      hook.result.current.send('yes');
    });
    // Sent once: the next message answers nothing unless asked again.
    expect(hook.result.current.replyTo).toBeNull();
    const nonce = messages().pending[0]?.nonce ?? '';
    expect(FakeWebSocket.last.sent).toEqual([{ type: 'message', message: 'yes', nonce, reply_to: 77 }]);
    expect(messages().pending[0]?.reply).toEqual(original);

    act(() =>
      FakeWebSocket.last.receive({ type: 'error', code: 'invalid_reply', error: 'That message cannot be answered', nonce }),
    );
    expect(messages().pending).toMatchObject([{ nonce, status: 'failed', error: 'That message cannot be answered' }]);
    act(() => hook.result.current.retry(nonce));
    expect(FakeWebSocket.last.sent.at(-1)).toEqual({ type: 'message', message: 'yes', nonce });
  });

  it('applies reaction and pin frames to the messages and to the loaded pins', () => {
    const { queryClient, messages } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: echo(1, 'pin me') }));
    queryClient.setQueryData(keys.pins(9), []);
    act(() =>
      FakeWebSocket.last.receive({ type: 'reaction.added', channel_id: 9, message_id: 501, emoji: '🎉', count: 1, user_id: 2 }),
    );
    act(() =>
      FakeWebSocket.last.receive({ type: 'reaction.added', channel_id: 9, message_id: 501, emoji: '🎉', count: 2, user_id: 1 }),
    );
    expect(messages().messages[0]?.reactions).toEqual([{ emoji: '🎉', count: 2, me: true }]);
    const pinned = { ...echo(1, 'pin me'), pinned_at: '2025-01-02T00:00:00Z' };
    act(() => FakeWebSocket.last.receive({ type: 'message.pinned', message: pinned, pinned_by: 2 }));
    expect(messages().messages[0]?.pinned_at).toBe('2025-01-02T00:00:00Z');
    expect(queryClient.getQueryData<ChatMessage[]>(keys.pins(9))?.map((m) => m.id)).toEqual([501]);
    act(() => FakeWebSocket.last.receive({ type: 'message.unpinned', id: 501, channel_id: 9 }));
    expect(messages().messages[0]?.pinned_at).toBeUndefined();
    expect(queryClient.getQueryData<ChatMessage[]>(keys.pins(9))).toEqual([]);
  });
});
