import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../api/queries';
import type { ChatMessage, Conversation } from '../api/types';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { createTestClient, json, mockFetch, Providers } from '../test/render';
import { emptyMessages, type MessagesState } from './messages';
import { useConversationChat } from './useConversationChat';

const me = { user_id: 1, username: 'alice', is_staff: false };
const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };
const carol = { id: 3, username: 'carol' };

const BLOCKED = 'You cannot send messages in this conversation';

function group(id: number, activeAt: string): Conversation {
  return {
    id,
    kind: 'group',
    name: 'Trio',
    participants: [alice, bob],
    last_message: null,
    last_seq: 0,
    blocked: false,
    created_at: '2025-01-01T00:00:00Z',
    active_at: activeAt,
  };
}

function chat(seq: number, content: string, from = bob, nonce?: string): ChatMessage {
  return {
    id: 700 + seq,
    channel_id: 12,
    sender: from.username,
    sender_id: from.id,
    content,
    timestamp: '2025-01-05T09:00:00Z',
    seq,
    ...(nonce ? { nonce } : {}),
  };
}

function setup() {
  const { fetch, calls } = mockFetch({
    'GET /api/dms/12/messages/': () => json(200, []),
  });
  const queryClient = createTestClient();
  queryClient.setQueryData<MessagesState>(keys.messages(12), emptyMessages);
  queryClient.setQueryData(keys.conversation(12), group(12, '2025-01-01T00:00:00Z'));
  queryClient.setQueryData(keys.conversations, [group(30, '2025-01-02T00:00:00Z'), group(12, '2025-01-01T00:00:00Z')]);
  const onGone = vi.fn();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <Providers fetch={fetch as typeof globalThis.fetch} queryClient={queryClient}>
      {children}
    </Providers>
  );
  const hook = renderHook(
    () => useConversationChat({ conversationId: 12, me, enabled: true, onGone, createSocket: FakeWebSocket.factory }),
    { wrapper },
  );
  const messages = () => queryClient.getQueryData<MessagesState>(keys.messages(12)) ?? emptyMessages;
  const list = () => queryClient.getQueryData<Conversation[]>(keys.conversations) ?? [];
  const one = () => queryClient.getQueryData<Conversation>(keys.conversation(12));
  return { hook, queryClient, messages, list, one, onGone, calls };
}

beforeEach(() => {
  FakeWebSocket.reset();
});

describe('useConversationChat (the chat engine on a conversation)', () => {
  it("connects to the conversation's socket and resyncs its own history after a drop", async () => {
    const { calls } = setup();
    expect(FakeWebSocket.last.url).toMatch(/\/ws\/dms\/12\?after=0$/);
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: chat(4, 'hi') }));
    act(() => FakeWebSocket.last.drop(1006));
    await waitFor(() => expect(FakeWebSocket.instances).toHaveLength(2));
    expect(FakeWebSocket.last.url).toMatch(/\/ws\/dms\/12\?after=4$/);
    act(() => FakeWebSocket.last.open());
    await waitFor(() => expect(calls).toContain('GET /api/dms/12/messages/?limit=50'));
  });

  it('moves the conversation up the list with its last message, and asks the server again', async () => {
    const { messages, list, one, queryClient } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: chat(1, 'first in Trio') }));
    expect(messages().messages.map((m) => m.content)).toEqual(['first in Trio']);
    expect(list().map((c) => c.id)).toEqual([12, 30]);
    expect(list()[0]).toMatchObject({ last_seq: 1, last_message: { content: 'first in Trio' } });
    expect(one()).toMatchObject({ last_seq: 1 });
    await waitFor(() => expect(queryClient.getQueryState(keys.conversations)?.isInvalidated).toBe(true));
  });

  it('keeps the participants current from the conversation frames', () => {
    const { list, one, onGone } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'conversation.participant_added', channel_id: 12, user: carol }));
    expect(one()?.participants.map((p) => p.username)).toEqual(['alice', 'bob', 'carol']);
    expect(list().find((c) => c.id === 12)?.participants).toHaveLength(3);
    act(() => FakeWebSocket.last.receive({ type: 'conversation.participant_left', channel_id: 12, user_id: 2 }));
    expect(one()?.participants.map((p) => p.username)).toEqual(['alice', 'carol']);
    expect(onGone).not.toHaveBeenCalled();
  });

  it('is gone when we leave (our own participant_left) or the socket closes with 4004', () => {
    const first = setup();
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.receive({ type: 'conversation.participant_left', channel_id: 12, user_id: 1 }));
    expect(first.onGone).toHaveBeenCalledTimes(1);
    expect(first.list().map((c) => c.id)).toEqual([30]);
    first.hook.unmount();

    FakeWebSocket.reset();
    const second = setup();
    act(() => FakeWebSocket.last.open());
    act(() => FakeWebSocket.last.drop(4004));
    expect(second.onGone).toHaveBeenCalledTimes(1);
    expect(second.hook.result.current.connection).toBe('gone');
  });

  it('shows a block as a refusal on the pending message, until a message goes through again', () => {
    const { hook, messages } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => {
      hook.result.current.send('are you there?');
    });
    const nonce = messages().pending[0]?.nonce;
    act(() => FakeWebSocket.last.receive({ type: 'error', code: 'blocked', error: BLOCKED, nonce }));
    expect(messages().pending).toMatchObject([{ content: 'are you there?', status: 'failed', error: BLOCKED }]);
    expect(hook.result.current.refusal).toEqual({ code: 'blocked', message: BLOCKED });
    // Someone else's message does not lift it; our own does (the block is over).
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: chat(1, 'from bob') }));
    expect(hook.result.current.refusal).not.toBeNull();
    act(() => {
      hook.result.current.send('now?');
    });
    const second = messages().pending.find((p) => p.content === 'now?')?.nonce;
    act(() => FakeWebSocket.last.receive({ type: 'chat.message', new_message: chat(2, 'now?', alice, second) }));
    expect(hook.result.current.refusal).toBeNull();
    expect(messages().pending.map((p) => p.content)).toEqual(['are you there?']);
  });
});
