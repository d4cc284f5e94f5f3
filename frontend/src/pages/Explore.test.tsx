import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SERVERS_PAGE } from '../api/queries';
import type { Server } from '../api/types';
import { App } from '../App';
import { json, mockFetch, renderWithProviders, type Route } from '../test/render';

function server(id: number, category = 'programming'): Server {
  return {
    id,
    name: `Server ${id}`,
    owner: 2,
    category,
    description: '',
    icon: null,
    banner: null,
    channel_server: [],
    num_members: 1,
  };
}

/** Servers 101, 102, ...: ids that are not positions, so `after` is seen to be the last id. */
function catalogue(count: number, category?: string): Server[] {
  return Array.from({ length: count }, (_, i) => server(101 + i, category));
}

/** `GET /api/servers/` as the backend answers it: by id, after `after`, at most `limit`. */
function pages(all: Server[]): Route {
  return (request) => {
    const query = new URL(request.url).searchParams;
    const after = Number(query.get('after') ?? 0);
    const limit = Number(query.get('limit') ?? 50);
    const category = query.get('category');
    const page = all.filter((s) => s.id > after && (category === null || s.category === category)).slice(0, limit);
    return json(200, page);
  };
}

/** A visitor (the catalogue is public) on the explore page at `path`. */
function explore(path: string, listing: Route) {
  const { fetch, calls } = mockFetch({
    'GET /api/me/': () => json(401, { error: 'Not authenticated', code: 'unauthenticated' }),
    'POST /api/token/refresh/': () => json(401, { error: 'No refresh token', code: 'unauthenticated' }),
    'GET /api/server/category/': () => json(200, [{ id: 1, name: 'programming', description: '', icon: null }]),
    'GET /api/servers/': listing,
  });
  renderWithProviders(<App />, { fetch, path });
  /** The query of each catalogue request so far. */
  const listings = () =>
    calls
      .filter((c) => c.startsWith('GET /api/servers/?'))
      .map((c) => Object.fromEntries(new URLSearchParams(c.slice(c.indexOf('?')))));
  return { calls, listings };
}

function cards() {
  return within(screen.getByRole('main')).queryAllByRole('link', { name: /^Server \d+/ });
}

function cardIds() {
  return cards().map((link) => Number(link.getAttribute('href')?.replace('/servers/', '')));
}

const moreButton = () => screen.queryByRole('button', { name: 'Load more servers' });

/** An IntersectionObserver a test moves into and out of view. */
class FakeIntersectionObserver {
  static all: FakeIntersectionObserver[] = [];
  readonly targets = new Set<Element>();
  constructor(
    private readonly callback: IntersectionObserverCallback,
    readonly options: IntersectionObserverInit = {},
  ) {
    FakeIntersectionObserver.all.push(this);
  }
  observe(target: Element) {
    this.targets.add(target);
  }
  unobserve(target: Element) {
    this.targets.delete(target);
  }
  disconnect() {
    this.targets.clear();
  }
  takeRecords() {
    return [];
  }
  /** Every watched element comes into view (or leaves it). */
  static show(isIntersecting: boolean) {
    for (const observer of FakeIntersectionObserver.all) {
      for (const target of observer.targets) {
        const entry = { target, isIntersecting } as IntersectionObserverEntry;
        observer.callback([entry], observer as unknown as IntersectionObserver);
      }
    }
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeIntersectionObserver.all = [];
});

describe('the explore page, a page of servers at a time', () => {
  it('shows the first page, loads the next after its last id on "Load more", and stops after a short page', async () => {
    const all = catalogue(SERVERS_PAGE + 6);
    let release = () => {};
    const listing = pages(all);
    const { listings } = explore('/', async (request, body) => {
      // The second page waits, for the button's state while it loads.
      if (new URL(request.url).searchParams.has('after')) await new Promise<void>((resolve) => (release = resolve));
      return listing(request, body);
    });
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE));
    expect(cardIds()).toEqual(all.slice(0, SERVERS_PAGE).map((s) => s.id));
    expect(listings()).toEqual([{ limit: String(SERVERS_PAGE), with_num_members: 'true' }]);

    const user = userEvent.setup();
    const more = moreButton();
    expect(more).toBeInstanceOf(HTMLButtonElement);
    await user.click(more as HTMLElement);
    await waitFor(() => expect(more).toBeDisabled());
    expect(more).toHaveTextContent('Loading…');
    expect(listings()[1]).toEqual({ limit: String(SERVERS_PAGE), with_num_members: 'true', after: '124' });

    act(() => release());
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE + 6));
    expect(cardIds()).toEqual(all.map((s) => s.id));
    // A page shorter than the limit was the last: no button, and no further request.
    expect(moreButton()).not.toBeInTheDocument();
    expect(listings()).toHaveLength(2);
    // The keyboard goes on from the first server the button added (the button is gone).
    await waitFor(() => expect(screen.getByRole('link', { name: /^Server 125/ })).toHaveFocus());
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('offers no more after a first page shorter than the limit', async () => {
    const { listings } = explore('/', pages(catalogue(3)));
    await waitFor(() => expect(cards()).toHaveLength(3));
    expect(moreButton()).not.toBeInTheDocument();
    expect(listings()).toHaveLength(1);
  });

  it('says when a category has no servers', async () => {
    explore('/explore/programming', pages([server(200, 'art')]));
    expect(await screen.findByText('No servers here yet.')).toBeInTheDocument();
    expect(cards()).toHaveLength(0);
    expect(moreButton()).not.toBeInTheDocument();
  });

  it("lists a category's servers by that category, page after page", async () => {
    const all = [...catalogue(SERVERS_PAGE + 2, 'programming'), server(200, 'art')];
    const { listings } = explore('/explore/programming', pages(all));
    expect(await screen.findByRole('heading', { level: 1, name: 'Explore: programming' })).toBeInTheDocument();
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE));
    const user = userEvent.setup();
    await user.click(moreButton() as HTMLElement);
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE + 2));
    expect(listings()).toEqual([
      { limit: String(SERVERS_PAGE), with_num_members: 'true', category: 'programming' },
      { limit: String(SERVERS_PAGE), with_num_members: 'true', category: 'programming', after: '124' },
    ]);
    expect(cardIds()).not.toContain(200);
  });

  it('keeps the first page when the next one fails, says so by the button, and loads it on a second try', async () => {
    const all = catalogue(SERVERS_PAGE + 1);
    const listing = pages(all);
    let failures = 1;
    explore('/', (request, body) => {
      if (new URL(request.url).searchParams.has('after') && failures > 0) {
        failures -= 1;
        return json(500, { error: 'internal error', code: 'internal' });
      }
      return listing(request, body);
    });
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE));
    const user = userEvent.setup();
    await user.click(moreButton() as HTMLElement);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('internal error');
    // Near the button, and the servers already shown stay.
    expect(alert.parentElement).toContainElement(moreButton());
    expect(cards()).toHaveLength(SERVERS_PAGE);
    expect(screen.queryByText('Loading servers…')).not.toBeInTheDocument();
    expect(moreButton()).toBeEnabled();

    await user.click(moreButton() as HTMLElement);
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE + 1));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(moreButton()).not.toBeInTheDocument();
  });

  it('offers to try again when the first page fails', async () => {
    let fail = true;
    const listing = pages(catalogue(2));
    explore('/', (request, body) =>
      fail ? json(503, { error: 'Try later', code: 'unavailable' }) : listing(request, body),
    );
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Try later');
    expect(moreButton()).not.toBeInTheDocument();
    fail = false;
    await userEvent.setup().click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(cards()).toHaveLength(2));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('the explore page, scrolled to the end', () => {
  it('loads the next page when the end of the grid comes into view, and goes on while it stays there', async () => {
    vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver);
    const all = catalogue(SERVERS_PAGE * 2 + 5);
    const { listings } = explore('/', pages(all));
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE));
    expect(listings()).toHaveLength(1);
    // Watched within the page's scrolling element.
    const watching = FakeIntersectionObserver.all.filter((o) => o.targets.size > 0);
    expect(watching).toHaveLength(1);
    expect(watching[0]?.options.root).toBe(screen.getByRole('region', { name: 'Explore' }));

    act(() => FakeIntersectionObserver.show(true));
    // A tall window: the end is still in view after the second page, so the third follows.
    await waitFor(() => expect(cards()).toHaveLength(all.length));
    expect(cardIds()).toEqual(all.map((s) => s.id));
    expect(listings().map((q) => q.after)).toEqual([undefined, '124', '148']);
    expect(moreButton()).not.toBeInTheDocument();
    // Three pages of cards in jsdom take about 4 s alone on a two-core machine, more beside
    // the other test files: the default 5 s timed out in full runs (before the unread work too).
  }, 20_000);

  it('does not retry on its own after a failed page, only when asked', async () => {
    vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver);
    const listing = pages(catalogue(SERVERS_PAGE + 3));
    let failures = 1;
    const { listings } = explore('/', (request, body) => {
      if (new URL(request.url).searchParams.has('after') && failures > 0) {
        failures -= 1;
        return json(500, { error: 'internal error', code: 'internal' });
      }
      return listing(request, body);
    });
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE));
    act(() => FakeIntersectionObserver.show(true));
    expect(await screen.findByRole('alert')).toHaveTextContent('internal error');
    // Still in view, but one failed request is all until the button is pressed.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(listings()).toHaveLength(2);
    expect(cards()).toHaveLength(SERVERS_PAGE);

    await userEvent.setup().click(moreButton() as HTMLElement);
    await waitFor(() => expect(cards()).toHaveLength(SERVERS_PAGE + 3));
    expect(listings()).toHaveLength(3);
  });
});
