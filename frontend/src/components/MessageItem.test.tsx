import { act, fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../api/types';
import { mockFetch, renderWithProviders } from '../test/render';
import { LONG_PRESS_MS } from './MessageActions';
import { MessageItem } from './MessageItem';

const message: ChatMessage = {
  id: 5,
  channel_id: 9,
  sender: 'alice',
  sender_id: 1,
  content: 'Mine to change',
  timestamp: '2025-01-01T12:00:00Z',
  seq: 1,
};

function renderItem(own: boolean, head = true) {
  const { fetch } = mockFetch({});
  renderWithProviders(<MessageItem message={message} own={own} head={head} />, { fetch });
  return screen.getByRole('article');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('message actions', () => {
  it('offers Edit and Delete (shown on hover or focus) and a "⋯" menu with the same actions', async () => {
    const article = renderItem(true);
    const user = userEvent.setup();
    expect(within(article).getByRole('button', { name: 'Edit message' })).toBeInTheDocument();
    expect(within(article).getByRole('button', { name: 'Delete message' })).toBeInTheDocument();
    const more = within(article).getByRole('button', { name: 'Message actions' });
    expect(more).toHaveAttribute('aria-expanded', 'false');

    await user.click(more);
    const menu = screen.getByRole('menu', { name: 'Message actions' });
    expect(more).toHaveAttribute('aria-expanded', 'true');
    const items = within(menu).getAllByRole('menuitem');
    expect(items.map((i) => i.textContent)).toEqual(['Edit', 'Delete']);
    expect(items[0]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(items[1]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(items[0]).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
    expect(more).toHaveFocus();

    await user.click(more);
    await user.click(within(screen.getByRole('menu')).getByRole('menuitem', { name: 'Delete' }));
    expect(screen.getByRole('dialog', { name: 'Delete message?' })).toBeInTheDocument();
  });

  it('opens the menu on a long press (touch), not on a short tap or a mouse press', () => {
    vi.useFakeTimers();
    const article = renderItem(true);
    fireEvent.pointerDown(article, { pointerType: 'touch', clientX: 10, clientY: 10 });
    act(() => vi.advanceTimersByTime(LONG_PRESS_MS - 100));
    fireEvent.pointerUp(article, { pointerType: 'touch' });
    act(() => vi.advanceTimersByTime(1_000));
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();

    // Scrolling (moving the finger) is not a long press either.
    fireEvent.pointerDown(article, { pointerType: 'touch', clientX: 10, clientY: 10 });
    fireEvent.pointerMove(article, { pointerType: 'touch', clientX: 10, clientY: 60 });
    act(() => vi.advanceTimersByTime(1_000));
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();

    fireEvent.pointerDown(article, { pointerType: 'mouse', clientX: 10, clientY: 10 });
    act(() => vi.advanceTimersByTime(1_000));
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();

    fireEvent.pointerDown(article, { pointerType: 'touch', clientX: 10, clientY: 10 });
    act(() => vi.advanceTimersByTime(LONG_PRESS_MS));
    expect(screen.getByRole('menu', { name: 'Message actions' })).toBeInTheDocument();
    // The phone's own context menu does not open on top of ours.
    const contextMenu = new MouseEvent('contextmenu', { bubbles: true, cancelable: true });
    article.dispatchEvent(contextMenu);
    expect(contextMenu.defaultPrevented).toBe(true);
  });

  it("gives someone else's message no actions at all", () => {
    vi.useFakeTimers();
    const article = renderItem(false);
    expect(within(article).queryByRole('button')).not.toBeInTheDocument();
    fireEvent.pointerDown(article, { pointerType: 'touch', clientX: 10, clientY: 10 });
    act(() => vi.advanceTimersByTime(LONG_PRESS_MS * 2));
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
  });

  it('names the author of a continued message for screen readers, and shows the time on hover', () => {
    const article = renderItem(false, false);
    expect(within(article).getByText('alice')).toHaveClass('visually-hidden');
    expect(within(article).getByText('Mine to change')).toBeInTheDocument();
    expect(article.querySelector('time')).toHaveAttribute('dateTime', '2025-01-01T12:00:00Z');
  });
});

describe('mentions in a message', () => {
  it('shows each mention as an @name chip, text as text, and highlights a message naming me', () => {
    const { fetch } = mockFetch({});
    const mentioning: ChatMessage = {
      ...message,
      sender: 'bob',
      sender_id: 2,
      content: '<b>hey</b> <@1> and <@!3>, not <@9>',
      mentions: [
        { id: 1, username: 'alice' },
        { id: 3, username: 'carol' },
      ],
    };
    renderWithProviders(<MessageItem message={mentioning} own={false} meId={1} />, { fetch });
    const article = screen.getByRole('article');
    expect(article).toHaveClass('mentioned');
    expect(within(article).getByText('@alice')).toHaveClass('mention', 'mention-me');
    expect(within(article).getByText('@carol')).not.toHaveClass('mention-me');
    // Someone's text, never markup; an id the server did not resolve stays as written.
    expect(article.querySelector('b')).toBeNull();
    expect(article.querySelector('.message-content')).toHaveTextContent('<b>hey</b> @alice and @carol, not <@9>');
    expect(within(article).getByText('(mentions you)')).toHaveClass('visually-hidden');
  });

  it('does not highlight a message that names others only', () => {
    const { fetch } = mockFetch({});
    const other: ChatMessage = { ...message, content: 'hi <@3>', mentions: [{ id: 3, username: 'carol' }] };
    renderWithProviders(<MessageItem message={other} own={false} meId={1} />, { fetch });
    expect(screen.getByRole('article')).not.toHaveClass('mentioned');
    expect(screen.getByText('@carol')).toHaveClass('mention');
  });
});
