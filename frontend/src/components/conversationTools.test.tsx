import { skipToken, useQuery } from '@tanstack/react-query';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { keys } from '../api/queries';
import { emptyMessages, messagesReducer, type MessagesState, type StoredMessage } from '../chat/messages';
import { MessageToolsContext, type MessageTools } from '../chat/messageTools';
import { createTestClient, json, mockFetch, renderWithProviders, type Route } from '../test/render';
import { MessageItem } from './MessageItem';
import { Excerpt, hitRoute, SearchPanel } from './SearchPanel';

const message: StoredMessage = {
  id: 5,
  channel_id: 9,
  sender: 'bob',
  sender_id: 2,
  content: 'Pancakes on Sunday?',
  timestamp: '2025-01-01T12:00:00Z',
  seq: 1,
  reactions: [{ emoji: '👍', count: 2, me: false }],
};

function tools(extra: Partial<MessageTools> = {}): MessageTools {
  return { canPost: true, canPin: () => false, reply: vi.fn(), jumpTo: vi.fn(), highlighted: null, ...extra };
}

/** The held copy of the message, as the chat's list shows it (re-rendered on every change). */
function Held({ value }: { value: MessageTools }) {
  const state = useQuery<MessagesState>({ queryKey: keys.messages(9), queryFn: skipToken }).data;
  const held = state?.messages[0];
  if (!held) return null;
  return (
    <MessageToolsContext.Provider value={value}>
      <MessageItem message={held} own={false} meId={1} />
    </MessageToolsContext.Provider>
  );
}

function renderHeld(routes: Record<string, Route>, value: MessageTools, held: StoredMessage = message) {
  const { fetch, calls } = mockFetch(routes);
  const queryClient = createTestClient();
  queryClient.setQueryData<MessagesState>(
    keys.messages(9),
    messagesReducer(emptyMessages, { type: 'page', messages: [held], limit: 50, older: false }),
  );
  renderWithProviders(<Held value={value} />, { fetch, queryClient });
  return { calls, queryClient };
}

const thumb = encodeURIComponent('👍');

describe('reactions on a message', () => {
  it('shows each emoji with its count, and a press adds mine (the answer sets the count)', async () => {
    const user = userEvent.setup();
    const { calls } = renderHeld(
      { [`PUT /api/messages/5/reactions/${thumb}/me/`]: () => json(200, { message_id: 5, emoji: '👍', count: 3, me: true }) },
      tools(),
    );
    const button = screen.getByRole('button', { name: 'thumbs up: 2 reactions' });
    expect(button).toHaveAttribute('aria-pressed', 'false');
    await user.click(button);
    const mine = await screen.findByRole('button', { name: 'thumbs up: 3 reactions, including you' });
    expect(mine).toHaveAttribute('aria-pressed', 'true');
    expect(calls).toEqual([`PUT /api/messages/5/reactions/${thumb}/me/`]);
  });

  it('picks a new emoji from the picker, and shows a refusal unobtrusively', async () => {
    const user = userEvent.setup();
    const fire = encodeURIComponent('🔥');
    renderHeld(
      {
        [`PUT /api/messages/5/reactions/${fire}/me/`]: () =>
          json(409, { error: 'At most 20 different emoji', code: 'too_many_reactions' }),
      },
      tools(),
    );
    await user.click(screen.getByRole('button', { name: 'Add a reaction' }));
    const picker = screen.getByRole('group', { name: 'Pick a reaction' });
    expect(within(picker).getAllByRole('button')[0]).toHaveFocus();
    await user.click(within(picker).getByRole('button', { name: 'fire' }));
    expect(await screen.findByText('A message can have at most 20 different reactions.')).toHaveAttribute('role', 'status');
    expect(screen.queryByRole('group', { name: 'Pick a reaction' })).not.toBeInTheDocument();
  });

  it('opens the picker from the end of the bar too, and closes it with Escape', async () => {
    const user = userEvent.setup();
    renderHeld({}, tools());
    await user.click(screen.getByRole('button', { name: 'Add another reaction' }));
    expect(screen.getByRole('group', { name: 'Pick a reaction' })).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('group', { name: 'Pick a reaction' })).not.toBeInTheDocument();
  });
});

describe('replies and pins on a message', () => {
  it('offers Reply, and a quote of the original that jumps to it', async () => {
    const user = userEvent.setup();
    const value = tools();
    renderHeld({}, value, {
      ...message,
      reply_to: 4,
      reply: { id: 4, sender: 'alice', sender_id: 1, content: 'Who brings <@2>?', deleted: false },
    });
    await user.click(screen.getByRole('button', { name: 'Reply to this message' }));
    expect(value.reply).toHaveBeenCalledWith(expect.objectContaining({ id: 5 }));
    await user.click(screen.getByRole('button', { name: 'Replying to alice: Who brings @someone?. Go to that message' }));
    expect(value.jumpTo).toHaveBeenCalledWith(4);
  });

  it('says when the original was deleted', () => {
    renderHeld({}, tools(), { ...message, reply_to: 4, reply: { id: 4, deleted: true } });
    expect(screen.getByText('Replying to a deleted message')).toBeInTheDocument();
  });

  it('offers Pin only to whom may pin, and shows a refusal', async () => {
    const user = userEvent.setup();
    renderHeld(
      { 'PUT /api/messages/5/pin/': () => json(409, { error: 'Too many pins', code: 'too_many_pins' }) },
      tools({ canPin: () => true }),
    );
    await user.click(screen.getByRole('button', { name: 'Pin message' }));
    expect(await screen.findByText('This chat has 50 pinned messages already: unpin one first.')).toBeInTheDocument();
  });

  it('pins, marks the message and offers Unpin', async () => {
    const user = userEvent.setup();
    renderHeld(
      { 'PUT /api/messages/5/pin/': () => json(200, { ...message, pinned_at: '2025-01-02T00:00:00Z' }) },
      tools({ canPin: () => true }),
    );
    await user.click(screen.getByRole('button', { name: 'Pin message' }));
    expect(await screen.findByRole('button', { name: 'Unpin message' })).toBeInTheDocument();
    expect(screen.getByText('(pinned)')).toBeInTheDocument();
  });

  it('only shows the reactions, with no Reply nor React, to whom may not write here', () => {
    renderHeld({}, tools({ canPost: false }));
    expect(screen.getByRole('img', { name: 'thumbs up: 2 reactions' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /thumbs up/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Reply to this message' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Add a reaction' })).not.toBeInTheDocument();
  });

  it('has no Pin for whom may not pin', () => {
    renderHeld({}, tools());
    expect(screen.queryByRole('button', { name: 'Pin message' })).not.toBeInTheDocument();
  });
});

describe('search', () => {
  it('opens a hit in its server channel, or in its conversation', () => {
    const hit = (serverId: number | null) => ({ channel: { id: 9, name: 'x', server_id: serverId } });
    expect(hitRoute(hit(3))).toBe('/servers/3/channels/9');
    expect(hitRoute(hit(null))).toBe('/dms/9');
  });

  it('renders an excerpt as text with its hits marked, never as markup', () => {
    const { fetch } = mockFetch({});
    const { container } = renderWithProviders(
      <Excerpt
        parts={[
          { text: '…the <b>', hit: false },
          { text: 'lake', hit: true },
          { text: '</b> on Sunday', hit: false },
        ]}
      />,
      { fetch },
    );
    expect(container.querySelector('b')).toBeNull();
    expect(container.querySelector('mark')).toHaveTextContent('lake');
    expect(container.textContent).toBe('…the <b>lake</b> on Sunday');
  });

  it('searches the server by default, lists hits with their channel, pages on, and explains a bad query', async () => {
    const user = userEvent.setup();
    const hit = (id: number, text: string) => ({
      message: { ...message, id, content: text },
      channel: { id: 9, name: 'general', server_id: 3 },
      excerpt: [{ text, hit: true }],
    });
    const { fetch, calls } = mockFetch({
      'GET /api/search/messages/': (request) => {
        const url = new URL(request.url);
        if (url.searchParams.get('q') === '"') return json(400, { error: 'No words to search for.', code: 'invalid_query' });
        return url.searchParams.get('before')
          ? json(200, { results: [hit(1, 'older pancakes')], next_before: null })
          : json(200, { results: [hit(7, 'pancakes')], next_before: 7 });
      },
    });
    renderWithProviders(<SearchPanel id="s" serverId={3} serverName="Brunch" />, { fetch });
    const box = screen.getByRole('searchbox', { name: 'Search messages' });
    await user.type(box, 'pancakes{Enter}');
    const results = await screen.findByRole('list', { name: 'Search results' });
    expect(within(results).getByRole('button')).toHaveTextContent('#general');
    expect(calls[0]).toBe('GET /api/search/messages/?q=pancakes&limit=20&server_id=3');
    await user.click(screen.getByRole('button', { name: 'More results' }));
    await screen.findByText('older pancakes');
    expect(calls[1]).toContain('before=7');
    expect(screen.queryByRole('button', { name: 'More results' })).not.toBeInTheDocument();

    await user.clear(box);
    await user.type(box, '"{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent('No words to search for. Search for words');
  });
});
