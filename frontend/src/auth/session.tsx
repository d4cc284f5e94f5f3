import { skipToken, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef } from 'react';
import { Navigate, Outlet, useLocation, useNavigate } from 'react-router';
import { useApi } from '../api/context';
import { ApiError, unwrap } from '../api/errors';
import { keys, meQuery, useMe } from '../api/queries';
import { ErrorNotice, Loading } from '../components/Status';

/** Marks the session as over when the API reports that a refresh could not renew it. */
export function SessionWatcher() {
  const api = useApi();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      api.onSessionExpired(() => {
        queryClient.setQueryData(keys.me, null);
      }),
    [api, queryClient],
  );
  return null;
}

export interface Credentials {
  username: string;
  password: string;
}

export function useLogin() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (credentials: Credentials) => {
      await unwrap(client.POST('/api/token/', { body: credentials }));
      // Anything fetched while logged out (or as someone else) is stale now.
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
      const me = await queryClient.fetchQuery({ ...meQuery(client), staleTime: 0 });
      if (!me) {
        throw new ApiError(401, {
          error: 'You were logged in, but the session cookie did not stick. Are cookies enabled?',
          code: 'no_session',
        });
      }
      return me;
    },
  });
}

export function useRegister() {
  const { client } = useApi();
  return useMutation({
    mutationFn: (credentials: Credentials) => unwrap(client.POST('/api/register/', { body: credentials })),
  });
}

export function useLogout() {
  const { client } = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      try {
        await client.POST('/api/logout/');
      } finally {
        queryClient.clear();
        queryClient.setQueryData(keys.me, null);
      }
    },
  });
}

/** What the login page says after the account was deleted (here, or from another client). */
export const ACCOUNT_DELETED_NOTICE = 'Your account was deleted.';
/** What it says when the server refused the session and renewing it failed (the cause unknown). */
export const SESSION_ENDED_NOTICE = 'Your session ended. Please sign in again.';

/**
 * Ends the session in this client, without asking the server (it ended it already: the account
 * was deleted): forgets everything cached, then marks nobody as signed in. `notice` is kept for
 * the login page (until the next login), whichever way the app gets there.
 */
export function endSession(queryClient: QueryClient, notice?: string): void {
  queryClient.clear();
  queryClient.setQueryData(keys.me, null);
  if (notice) queryClient.setQueryData(keys.signedOut, notice);
}

/**
 * Ends the session in this client (see `endSession`) and goes to the login page, which shows
 * `notice`. Stable: it can be called from a socket's callbacks.
 */
export function useEndSession(): (notice?: string) => void {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const navigateRef = useRef(navigate);
  useEffect(() => {
    navigateRef.current = navigate;
  });
  return useCallback(
    (notice?: string) => {
      endSession(queryClient, notice);
      // RequireAuth may redirect there too (without the notice): the login page also reads it
      // from the cache.
      void navigateRef.current('/login', { replace: true, state: notice ? { notice } : undefined });
    },
    [queryClient],
  );
}

/** The notice `endSession` left for the login page, if any. */
export function useSignedOutNotice(): string | undefined {
  return useQuery<string>({ queryKey: keys.signedOut, queryFn: skipToken, staleTime: Number.POSITIVE_INFINITY }).data;
}

/**
 * Deletes my account (`DELETE /api/me/`, confirmed by my password), then ends the session here
 * and goes to the login page. A 401 is a wrong password: the auth middleware passes it on as is
 * (no refresh, no "session expired"), so the access cookie is renewed first, in case it expired
 * while the page was open (best effort: if that fails, the server says why).
 */
export function useDeleteAccount() {
  const api = useApi();
  const end = useEndSession();
  return useMutation({
    mutationFn: async (password: string) => {
      await api.refresh();
      await unwrap(api.client.DELETE('/api/me/', { body: { password } }));
      end(ACCOUNT_DELETED_NOTICE);
    },
  });
}

/** Routes under it need a session: without one, the login screen (then back here). */
export function RequireAuth() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading label="Checking your session…" />;
  if (me.isError) return <ErrorNotice error={me.error} onRetry={() => void me.refetch()} />;
  if (!me.data) {
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  return <Outlet />;
}
