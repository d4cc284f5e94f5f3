import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { json, mockFetch, renderWithProviders } from '../test/render';
import { pageKey } from './Layout';

const me = { user_id: 1, username: 'alice', is_staff: false };
const conversation = {
  id: 12,
  kind: 'dm',
  name: null,
  participants: [
    { id: 1, username: 'alice' },
    { id: 2, username: 'bob' },
  ],
  last_message: null,
  last_seq: 0,
  created_at: '2025-01-01T00:00:00Z',
  active_at: '2025-01-01T00:00:00Z',
};

function backend() {
  return mockFetch({
    'GET /api/me/': () => json(200, me),
    'GET /api/server/select/': () => json(200, []),
    'GET /api/dms/': () => json(200, [conversation]),
    'GET /api/dms/12/': () => json(200, conversation),
    'GET /api/dms/12/messages/': () => json(200, []),
    'GET /api/me/blocks/': () => json(200, []),
  });
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the drawers (phones and tablets)', () => {
  it('opens the navigation from the header, closes it with Escape (focus back) or by choosing a place', async () => {
    const { fetch } = backend();
    const { container } = renderWithProviders(<App />, { fetch, path: '/dms' });
    const user = userEvent.setup();
    const app = container.querySelector('.app') as HTMLElement;
    const toggle = await within(screen.getByRole('banner')).findByRole('button', { name: 'Navigation' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');

    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect(app).toHaveClass('nav-open');
    // Focus moves into the drawer.
    await waitFor(() => expect(document.activeElement?.closest('.sidebar, .rail')).not.toBeNull());
    await user.keyboard('{Escape}');
    expect(app).not.toHaveClass('nav-open');
    expect(toggle).toHaveFocus();

    await user.click(toggle);
    const list = screen.getByRole('navigation', { name: 'Direct messages' });
    await user.click(await within(list).findByRole('link', { name: /bob/ }));
    expect(await screen.findByRole('heading', { level: 1, name: 'bob' })).toBeInTheDocument();
    expect(app).not.toHaveClass('nav-open');
  });

  it('opens the member list from the chat header, one drawer at a time', async () => {
    const { fetch } = backend();
    const { container } = renderWithProviders(<App />, { fetch, path: '/dms/12' });
    const user = userEvent.setup();
    const app = container.querySelector('.app') as HTMLElement;
    const members = await screen.findByRole('button', { name: 'Members' });
    await user.click(members);
    expect(app).toHaveClass('members-open');
    expect(members).toHaveAttribute('aria-expanded', 'true');
    await waitFor(() => expect(screen.getByRole('complementary', { name: 'Participants' })).toHaveFocus());

    // Opening the navigation closes the member list.
    await user.click(within(screen.getByRole('banner')).getByRole('button', { name: 'Navigation' }));
    expect(app).toHaveClass('nav-open');
    expect(app).not.toHaveClass('members-open');
    act(() => {
      (container.querySelector('.drawer-backdrop') as HTMLElement).click();
    });
    expect(app).not.toHaveClass('nav-open');
  });

  it('has nothing to open for a visitor on a page without a sidebar', async () => {
    const { fetch } = mockFetch({
      'GET /api/me/': () => json(401, { error: 'Not authenticated', code: 'unauthenticated' }),
      'POST /api/token/refresh/': () => json(401, { error: 'No refresh token', code: 'unauthenticated' }),
    });
    renderWithProviders(<App />, { fetch, path: '/login' });
    await screen.findByRole('heading', { level: 1, name: 'Log in' });
    expect(within(screen.getByRole('banner')).queryByRole('button', { name: 'Navigation' })).not.toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Servers' })).not.toBeInTheDocument();
  });
});

describe('pageKey', () => {
  it('treats channels of one server, and all of Home, as one page (focus stays put)', () => {
    expect(pageKey('/servers/5/channels/9')).toBe('/servers/5');
    expect(pageKey('/servers/5')).toBe('/servers/5');
    expect(pageKey('/dms/12')).toBe('/dms');
    expect(pageKey('/dms')).toBe('/dms');
    expect(pageKey('/explore/art')).toBe('/explore/art');
  });
});
