import type { Middleware } from 'openapi-fetch';

/** Wraps `fn` so that concurrent callers share one run of it. */
export function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= fn().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

/** Endpoints whose 401 means "wrong credentials" or "no session", not "access token expired". */
const NO_REFRESH = ['/api/token/', '/api/token/refresh/', '/api/register/', '/api/logout/'];
/**
 * Requests confirmed by the account's password, whose 401 means "wrong password": renewing the
 * session would not help, a retry would count as a second failed attempt, and the session is
 * not over. (The caller renews the access cookie before sending them.)
 */
const CONFIRMED_BY_PASSWORD = ['DELETE /api/me/'];

export function isSessionEndpoint(url: string, method?: string): boolean {
  const { pathname } = new URL(url, 'http://localhost');
  const path = pathname.endsWith('/') ? pathname : `${pathname}/`;
  if (method !== undefined && CONFIRMED_BY_PASSWORD.includes(`${method.toUpperCase()} ${path}`)) return true;
  return NO_REFRESH.includes(path) || path.startsWith('/api/auth/');
}

export interface AuthMiddlewareOptions {
  /** Renews the access cookie; resolves to whether it worked. Should be single-flight. */
  refresh: () => Promise<boolean>;
  /** Called when a 401 could not be cured by a refresh: the session is over. */
  onSessionExpired: () => void;
}

/**
 * On a 401, renews the session once (concurrent 401s share the same refresh) and retries the
 * request; if the renewal fails, reports the session as expired and passes the 401 on.
 */
export function createAuthMiddleware({ refresh, onSessionExpired }: AuthMiddlewareOptions): Middleware {
  // A copy of each request in flight, taken before fetch consumes its body, to retry it.
  const copies = new Map<string, { request: Request; generation: number }>();
  // Counts finished refreshes, so a 401 to a request sent before the latest successful
  // refresh is simply retried instead of refreshing again.
  let generation = 0;
  let lastRefreshWorked = false;
  const renew = singleFlight(async () => {
    let worked = false;
    try {
      worked = await refresh();
    } catch {
      worked = false;
    }
    generation += 1;
    lastRefreshWorked = worked;
    return worked;
  });

  return {
    onRequest({ request, id }) {
      if (!isSessionEndpoint(request.url, request.method)) {
        copies.set(id, { request: request.clone(), generation });
      }
      return undefined;
    },
    async onResponse({ response, id, options }) {
      const copy = copies.get(id);
      copies.delete(id);
      if (response.status !== 401 || !copy) return undefined;
      const renewed =
        copy.generation !== generation && lastRefreshWorked ? true : await renew();
      if (!renewed) {
        onSessionExpired();
        return undefined;
      }
      const retried = await options.fetch(copy.request);
      if (retried.status === 401) onSessionExpired();
      return retried;
    },
    onError({ id }) {
      copies.delete(id);
      return undefined;
    },
  };
}
