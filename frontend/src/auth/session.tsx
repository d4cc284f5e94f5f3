import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
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
