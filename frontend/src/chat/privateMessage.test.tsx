import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../api/queries';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { createTestClient, json, mockFetch, Providers } from '../test/render';
import { emptyMessages, type MessagesState } from './messages';
import { PM_NOTICE_MS, privateMessageTarget } from './useChat';
import { useChannelChat } from './useChannelChat';

const me = { user_id: 1, username: 'alice', is_staff: false };

function setup() {
  const { fetch, calls } = mockFetch({
    'GET /api/channels/9/messages/': () => json(200, []),
    'GET /api/dms/': () => json(200, []),
  });
  const queryClient = createTestClient();
  queryClient.setQueryData<MessagesState>(keys.messages(9), emptyMessages);
  const wrapper = ({ children }: { children: ReactNode }) => (
    <Providers fetch={fetch as typeof globalThis.fetch} queryClient={queryClient}>
      {children}
    </Providers>
  );
  const hook = renderHook(
    () => useChannelChat({ serverId: 3, channelId: 9, me, enabled: true, onGone: vi.fn(), createSocket: FakeWebSocket.factory }),
    { wrapper },
  );
  const messages = () => queryClient.getQueryData<MessagesState>(keys.messages(9)) ?? emptyMessages;
  return { hook, queryClient, messages, calls };
}

function sentPm(index = 0) {
  const frames = FakeWebSocket.last.sent.filter((f) => (f as { type: string }).type === 'message');
  return frames[index] as { type: 'message'; message: string; nonce: string };
}

beforeEach(() => {
  FakeWebSocket.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('privateMessageTarget', () => {
  it('recognises /pm as the server does', () => {
    expect(privateMessageTarget('/pm bob hi there')).toBe('bob');
    expect(privateMessageTarget('  /pm   Bob   hi')).toBe('Bob');
    expect(privateMessageTarget('/pm bob')).toBe('bob');
    expect(privateMessageTarget('/pm')).toBe('');
    expect(privateMessageTarget('/pmbob hi')).toBeNull();
    expect(privateMessageTarget('hello /pm bob')).toBeNull();
    expect(privateMessageTarget('/PM bob hi')).toBeNull();
  });
});

describe('/pm in a chat', () => {
  it('is sent with a nonce but never pending here, and says when it was delivered', async () => {
    const { hook, messages, calls } = setup();
    act(() => FakeWebSocket.last.open());
    let accepted = false;
    act(() => {
      accepted = hook.result.current.send('/pm bob hello there');
    });
    expect(accepted).toBe(true);
    const frame = sentPm();
    expect(frame).toMatchObject({ type: 'message', message: '/pm bob hello there' });
    expect(frame.nonce).toEqual(expect.any(String));
    expect(messages().pending).toEqual([]);

    vi.useFakeTimers({ shouldAdvanceTime: true });
    act(() =>
      FakeWebSocket.last.receive({ type: 'private_message_delivered', target: 'bob', message: 'hello there', nonce: frame.nonce }),
    );
    expect(hook.result.current.notices).toEqual([{ id: frame.nonce, kind: 'delivered', target: 'bob' }]);
    expect(messages().messages).toEqual([]);
    // The conversation may be new: the list is asked for again (for the notice's link).
    await waitFor(() => expect(calls).toContain('GET /api/dms/'));
    // Someone else's answer (another tab's nonce) is not ours to show.
    act(() => FakeWebSocket.last.receive({ type: 'private_message_delivered', target: 'carol', message: 'x', nonce: 'other' }));
    expect(hook.result.current.notices).toHaveLength(1);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(PM_NOTICE_MS + 10);
    });
    await waitFor(() => expect(hook.result.current.notices).toEqual([]));
  });

  it('shows a refusal of the /pm only, without marking the chat refused', () => {
    const { hook, messages } = setup();
    act(() => FakeWebSocket.last.open());
    act(() => {
      hook.result.current.send('/pm nobody hi');
    });
    act(() => {
      hook.result.current.send('/pm carol hi');
    });
    act(() => {
      hook.result.current.send('a normal message');
    });
    const [unknown, blocked] = [sentPm(0), sentPm(1)];
    expect(messages().pending.map((p) => p.content)).toEqual(['a normal message']);

    act(() =>
      FakeWebSocket.last.receive({ type: 'error', code: 'unknown_user', error: 'No such user', nonce: unknown.nonce }),
    );
    act(() =>
      FakeWebSocket.last.receive({
        type: 'error',
        code: 'blocked',
        error: 'You cannot send messages in this conversation',
        nonce: blocked.nonce,
      }),
    );
    expect(hook.result.current.notices).toEqual([
      { id: unknown.nonce, kind: 'error', target: 'nobody', text: 'No user named nobody' },
      { id: blocked.nonce, kind: 'error', target: 'carol', text: 'You cannot send messages in this conversation' },
    ]);
    expect(hook.result.current.refusal).toBeNull();
    expect(messages().pending).toMatchObject([{ content: 'a normal message', status: 'sending' }]);

    act(() => hook.result.current.dismissNotice(unknown.nonce));
    expect(hook.result.current.notices.map((n) => n.target)).toEqual(['carol']);
  });

  it('keeps the text when it cannot be sent now', () => {
    const { hook, messages } = setup();
    let accepted = true;
    act(() => {
      accepted = hook.result.current.send('/pm bob hi');
    });
    expect(accepted).toBe(false);
    expect(hook.result.current.error).toMatch(/not sent/);
    expect(messages().pending).toEqual([]);
  });
});
