import createClient from 'openapi-fetch';
import { createAuthMiddleware, singleFlight } from './authMiddleware';
import type { paths } from './schema';

export interface ApiOptions {
  /** Empty in the app (same-origin relative URLs); tests pass an absolute origin. */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
}

/**
 * The typed API client, with silent session renewal: a 401 triggers one
 * `POST /api/token/refresh/` (shared by concurrent requests) and a retry.
 */
export function createApi({ baseUrl = '', fetch }: ApiOptions = {}) {
  // Lazily read so tests can stub `globalThis.fetch` after the module loaded.
  const doFetch: typeof globalThis.fetch = (input, init) => (fetch ?? globalThis.fetch)(input, init);
  const common = { baseUrl, fetch: doFetch, credentials: 'include' as const };
  const bare = createClient<paths>(common);
  const listeners = new Set<() => void>();

  const refresh = singleFlight(async () => {
    try {
      const { response } = await bare.POST('/api/token/refresh/');
      return response.ok;
    } catch {
      return false;
    }
  });

  const client = createClient<paths>(common);
  client.use(
    createAuthMiddleware({
      refresh,
      onSessionExpired: () => {
        for (const listener of listeners) listener();
      },
    }),
  );

  return {
    client,
    /** Renews the access cookie (single-flight); resolves to whether it worked. */
    refresh,
    /** Subscribes to "the session is over"; returns the unsubscribe function. */
    onSessionExpired(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type Api = ReturnType<typeof createApi>;
export type ApiClient = Api['client'];
