import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, type RenderOptions } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { MemoryRouter, useLocation } from 'react-router';
import { vi } from 'vitest';
import { createApi } from '../api/client';
import { ApiProvider } from '../api/context';

export const ORIGIN = 'http://hearth.test';

export type Route = (request: Request, body: unknown) => Response | Promise<Response>;

export function json(status: number, body?: unknown): Response {
  return body === undefined
    ? new Response(null, { status })
    : new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A `fetch` answering "METHOD /path" from a table; anything else is a test failure (599). */
export function mockFetch(routes: Record<string, Route>) {
  const calls: string[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const request = input as Request;
    const url = new URL(request.url);
    const key = `${request.method} ${url.pathname}`;
    calls.push(`${key}${url.search}`);
    const route = routes[key];
    if (!route) return json(599, { error: `unexpected ${key}`, code: 'test' });
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
    return route(request, text ? JSON.parse(text) : undefined);
  });
  return { fetch, calls };
}

export function createTestClient() {
  return new QueryClient({
    defaultOptions: { queries: { retry: false, gcTime: Number.POSITIVE_INFINITY }, mutations: { retry: false } },
  });
}

export function Providers({
  fetch,
  queryClient,
  children,
  path = '/',
}: {
  fetch: typeof globalThis.fetch;
  queryClient: QueryClient;
  children: ReactNode;
  path?: string;
}) {
  const api = createApi({ baseUrl: ORIGIN, fetch });
  return (
    <ApiProvider api={api}>
      <QueryClientProvider client={queryClient}>
        <MemoryRouter initialEntries={[path]}>{children}</MemoryRouter>
      </QueryClientProvider>
    </ApiProvider>
  );
}

export function renderWithProviders(
  ui: ReactElement,
  { fetch, queryClient = createTestClient(), path }: { fetch: typeof globalThis.fetch; queryClient?: QueryClient; path?: string },
  options?: RenderOptions,
) {
  return {
    queryClient,
    ...render(
      <Providers fetch={fetch} queryClient={queryClient} path={path}>
        {ui}
      </Providers>,
      options,
    ),
  };
}

/** Where the app is (the path) and the notice it was sent there with: for tests that navigate. */
export function Where() {
  const location = useLocation();
  return (
    <p>
      at {location.pathname}: {(location.state as { notice?: string } | null)?.notice ?? ''}
    </p>
  );
}
