import { describe, expect, it, vi } from 'vitest';
import { createApi } from './client';
import { isSessionEndpoint } from './authMiddleware';

const ORIGIN = 'http://hearth.test';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/**
 * A fake backend behind `fetch`: the access cookie is "valid" once a refresh succeeded.
 * Every call is recorded as "METHOD path".
 */
function fakeBackend({ refreshWorks = true, refreshDelayMs = 10, slowPath = '', slowMs = 0 } = {}) {
  let valid = false;
  const calls: string[] = [];
  const bodies: string[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    calls.push(`${request.method} ${path}`);
    if (path === '/api/token/refresh/') {
      await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
      if (!refreshWorks) return json(401, { error: 'Refresh token expired', code: 'invalid_token' });
      valid = true;
      return json(200, {});
    }
    if (path === '/api/token/') return json(401, { error: 'Wrong username or password', code: 'bad_credentials' });
    const authenticated = valid;
    if (path === slowPath) await new Promise((resolve) => setTimeout(resolve, slowMs));
    if (!authenticated) return json(401, { error: 'Not authenticated', code: 'unauthenticated' });
    if (request.method === 'POST') bodies.push(await request.text());
    return json(200, { message: 'ok', is_member: true });
  });
  return { fetch, calls, bodies };
}

describe('401 → refresh → retry', () => {
  it('renews the session once and retries the request, body included', async () => {
    const backend = fakeBackend();
    const api = createApi({ baseUrl: ORIGIN, fetch: backend.fetch as typeof fetch });
    const { data, response } = await api.client.POST('/api/servers/', {
      body: { name: 'Rustaceans', category: 'programming' },
    });
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ message: 'ok' });
    expect(backend.calls).toEqual(['POST /api/servers/', 'POST /api/token/refresh/', 'POST /api/servers/']);
    expect(JSON.parse(backend.bodies[0] ?? '')).toEqual({ name: 'Rustaceans', category: 'programming' });
  });

  it('shares one refresh between concurrent 401s (single-flight)', async () => {
    const backend = fakeBackend({ refreshDelayMs: 30 });
    const api = createApi({ baseUrl: ORIGIN, fetch: backend.fetch as typeof fetch });
    const results = await Promise.all(
      [1, 2, 3].map((id) =>
        api.client.GET('/api/membership/{server_id}/membership/is_member/', { params: { path: { server_id: id } } }),
      ),
    );
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200]);
    expect(backend.calls.filter((c) => c === 'POST /api/token/refresh/')).toHaveLength(1);
    expect(backend.calls.filter((c) => c.startsWith('GET'))).toHaveLength(6);
  });

  it('reports the session as expired when the refresh fails, without retrying', async () => {
    const backend = fakeBackend({ refreshWorks: false });
    const api = createApi({ baseUrl: ORIGIN, fetch: backend.fetch as typeof fetch });
    const expired = vi.fn();
    api.onSessionExpired(expired);
    const [a, b] = await Promise.all([
      api.client.GET('/api/servers/{server_id}/members/', { params: { path: { server_id: 1 } } }),
      api.client.GET('/api/servers/{server_id}/members/', { params: { path: { server_id: 2 } } }),
    ]);
    expect(a.response.status).toBe(401);
    expect(a.error).toMatchObject({ code: 'unauthenticated' });
    expect(b.response.status).toBe(401);
    expect(backend.calls.filter((c) => c === 'POST /api/token/refresh/')).toHaveLength(1);
    expect(backend.calls.filter((c) => c.startsWith('GET'))).toHaveLength(2);
    expect(expired).toHaveBeenCalled();
  });

  it('does not refresh on a 401 from the login endpoint (wrong credentials)', async () => {
    const backend = fakeBackend();
    const api = createApi({ baseUrl: ORIGIN, fetch: backend.fetch as typeof fetch });
    const expired = vi.fn();
    api.onSessionExpired(expired);
    const { error, response } = await api.client.POST('/api/token/', { body: { username: 'a', password: 'b' } });
    expect(response.status).toBe(401);
    expect(error).toMatchObject({ error: 'Wrong username or password' });
    expect(backend.calls).toEqual(['POST /api/token/']);
    expect(expired).not.toHaveBeenCalled();
  });

  it('retries a late 401 without a second refresh when a newer refresh already renewed the cookie', async () => {
    // Request 2 was sent with the old cookie but its 401 arrives after request 1's refresh.
    const backend = fakeBackend({ refreshDelayMs: 0, slowPath: '/api/servers/2/members/', slowMs: 50 });
    const api = createApi({ baseUrl: ORIGIN, fetch: backend.fetch as typeof fetch });
    const [first, second] = await Promise.all([
      api.client.GET('/api/servers/{server_id}/members/', { params: { path: { server_id: 1 } } }),
      api.client.GET('/api/servers/{server_id}/members/', { params: { path: { server_id: 2 } } }),
    ]);
    expect(first.response.status).toBe(200);
    expect(second.response.status).toBe(200);
    expect(backend.calls.filter((c) => c === 'POST /api/token/refresh/')).toHaveLength(1);
  });
});

describe('isSessionEndpoint', () => {
  it('knows which endpoints answer 401 for reasons a refresh cannot fix', () => {
    expect(isSessionEndpoint(`${ORIGIN}/api/token/`)).toBe(true);
    expect(isSessionEndpoint(`${ORIGIN}/api/token/refresh`)).toBe(true);
    expect(isSessionEndpoint(`${ORIGIN}/api/logout/`)).toBe(true);
    expect(isSessionEndpoint(`${ORIGIN}/api/auth/token/`)).toBe(true);
    expect(isSessionEndpoint(`${ORIGIN}/api/me/`)).toBe(false);
    expect(isSessionEndpoint(`${ORIGIN}/api/servers/1/`)).toBe(false);
  });
});

describe('requests confirmed by the password', () => {
  it('counts DELETE /api/me/ as one (a 401 is a wrong password), but not GET /api/me/', () => {
    expect(isSessionEndpoint(`${ORIGIN}/api/me/`, 'DELETE')).toBe(true);
    expect(isSessionEndpoint(`${ORIGIN}/api/me`, 'delete')).toBe(true);
    expect(isSessionEndpoint(`${ORIGIN}/api/me/`, 'GET')).toBe(false);
    expect(isSessionEndpoint(`${ORIGIN}/api/me/blocks/2/`, 'DELETE')).toBe(false);
    expect(isSessionEndpoint(`${ORIGIN}/api/token/`, 'POST')).toBe(true);
  });

  it('passes the 401 of a wrong password on: no refresh, no retry, the session is not over', async () => {
    const calls: string[] = [];
    const fetch = vi.fn(async (input: RequestInfo | URL) => {
      const request = input as Request;
      calls.push(`${request.method} ${new URL(request.url).pathname}`);
      return json(401, { error: 'No active account found with the given credentials', code: 'not_authenticated' });
    });
    const api = createApi({ baseUrl: ORIGIN, fetch: fetch as typeof globalThis.fetch });
    const expired = vi.fn();
    api.onSessionExpired(expired);
    const { response } = await api.client.DELETE('/api/me/', { body: { password: 'wrong' } });
    expect(response.status).toBe(401);
    expect(calls).toEqual(['DELETE /api/me/']);
    expect(expired).not.toHaveBeenCalled();
  });
});
