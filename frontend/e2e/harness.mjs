// End-to-end harness: a real Hearth backend on a fresh database, a TCP proxy in front of it
// (so a test can cut the network), and Debian's Chromium driven by playwright-core.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
/** Screenshots and backend logs (git-ignored). */
export const artifacts = path.join(repoRoot, 'test-artifacts', 'e2e');
export const PASSWORD = 'e2e-password-1';

/** A username nobody has taken yet. */
export function uniqueName(prefix) {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function psql(adminUrl, sql) {
  execFileSync('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'pipe' });
}

async function waitUntilReady(url, child, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the backend exited with ${child.exitCode} before it was ready`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the backend was not ready within ${deadlineMs} ms`);
}

/**
 * Starts `hearth serve --seed-if-empty` on a fresh database with the built SPA.
 * Needs HEARTH_TEST_DATABASE_URL (an admin URL; `make test` starts the private cluster),
 * target/debug/hearth (or HEARTH_BIN) and frontend/dist.
 */
export async function startBackend({ env = {}, name = 'backend' } = {}) {
  const admin = process.env.HEARTH_TEST_DATABASE_URL;
  if (!admin) {
    throw new Error(
      'HEARTH_TEST_DATABASE_URL is not set: run the browser tests with `make frontend-e2e` ' +
        '(or `make test`), which start the private PostgreSQL test cluster',
    );
  }
  const bin = process.env.HEARTH_BIN ?? path.join(repoRoot, 'target', 'debug', 'hearth');
  if (!existsSync(bin)) {
    throw new Error(`no backend binary at ${bin}: run \`cargo build -p hearth-api\` first`);
  }
  const dist = path.join(repoRoot, 'frontend', 'dist');
  if (!existsSync(path.join(dist, 'index.html'))) {
    throw new Error('no built SPA in frontend/dist: run `npm --prefix frontend run build` first');
  }
  const database = `hearth_e2e_${randomUUID().replaceAll('-', '')}`;
  psql(admin, `CREATE DATABASE ${database}`);
  const databaseUrl = new URL(admin);
  databaseUrl.pathname = `/${database}`;
  const port = await freePort();
  const media = mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-media-'));
  mkdirSync(artifacts, { recursive: true });
  const log = createWriteStream(path.join(artifacts, `${name}.log`));
  const child = spawn(bin, ['serve', '--seed-if-empty'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl.toString(),
      HEARTH_HOST: '127.0.0.1',
      HEARTH_PORT: String(port),
      HEARTH_STATIC_DIR: dist,
      HEARTH_MEDIA_DIR: media,
      HEARTH_WORKERS: '2',
      // Every test logs in and registers from this one address: limits out of the way (the
      // Rust tests cover them).
      HEARTH_RATE_LOGIN_FAILURES: '10000/1',
      HEARTH_RATE_LOGIN_ADDRESS: '10000/1',
      HEARTH_RATE_REGISTER_ADDRESS: '10000/1',
      HEARTH_RATE_REFRESH_ACCOUNT: '10000/1',
      HEARTH_RATE_CONVERSATIONS_ACCOUNT: '10000/1',
      HEARTH_RATE_BLOCKS_ACCOUNT: '10000/1',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
      if (timedOut) child.kill('SIGKILL');
    }
    try {
      psql(admin, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    } catch {
      // best effort: the cluster may already be gone
    }
    rmSync(media, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(`${url}/readyz`, child, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, stop };
}

/**
 * A TCP proxy in front of the backend. `pause()` cuts every open connection (sockets included)
 * and refuses new ones until `resume()`: a network drop as the browser sees it.
 */
export async function startProxy(targetPort) {
  const pairs = new Set();
  let paused = false;
  const server = net.createServer((client) => {
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const cut = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    pause() {
      paused = true;
      cut();
    },
    resume() {
      paused = false;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Debian's Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A page that records uncaught errors and Content Security Policy violations, so a test can
 * assert there were none. Dark by default (the SPA's default theme); pass
 * `colorScheme: 'light'` for the light one.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: 'dark',
    ...options,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error));
  // Anything the Content Security Policy blocked is a bug in the page or in the policy.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      page.errors.push(new Error(message.text()));
    }
  });
  return page;
}

/**
 * The set-up of a browser suite (call it inside its `describe`): a backend called `name` and a
 * browser before the tests; after them, every page the suite opened with `page()` is checked
 * for uncaught errors, and both are stopped. `suite.backend` is the running backend.
 */
export function browserSuite(name) {
  let browser;
  const pages = [];
  const suite = {
    backend: undefined,
    /** A new page (see `newPage`), checked for uncaught errors when the suite ends. */
    async page(options) {
      const created = await newPage(browser, options);
      pages.push(created);
      return created;
    },
  };
  before(async () => {
    suite.backend = await startBackend({ name });
    browser = await launchBrowser();
  });
  after(async () => {
    for (const page of pages) {
      assert.deepEqual(page.errors.map(String), [], 'the page threw uncaught errors');
    }
    await browser?.close();
    await suite.backend?.stop();
  });
  return suite;
}

/** What every chat journey looks at: the message log, the composer, the connection. */
export const chatScreen = {
  log: (p) => p.getByRole('log', { name: 'Messages' }),
  composer: (p) => p.getByRole('textbox', { name: 'Message', exact: true }),
  connected: (p) => p.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor(),
};

export async function screenshot(page, name) {
  mkdirSync(path.join(artifacts, 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'screenshots', `${name}.png`), fullPage: true });
}

/** Registers an account through the API (for the second and third users of a test). */
export async function registerViaApi(baseUrl, username, password = PASSWORD) {
  const response = await fetch(`${baseUrl}/api/register/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 201) {
    throw new Error(`register ${username}: ${response.status} ${await response.text()}`);
  }
}

/** A bearer token for REST calls made outside the browser. */
export async function bearerToken(baseUrl, username, password = PASSWORD) {
  const response = await fetch(`${baseUrl}/api/auth/token/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new Error(`token for ${username}: ${response.status}`);
  return (await response.json()).access;
}

export async function api(baseUrl, token, method, pathname, body) {
  const response = await fetch(`${baseUrl}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A user's id and token, for REST calls made outside the browser (the DM API takes ids). */
export async function account(baseUrl, username, password = PASSWORD) {
  const token = await bearerToken(baseUrl, username, password);
  const me = await api(baseUrl, token, 'GET', '/api/me/');
  if (me.status !== 200) throw new Error(`me for ${username}: ${me.status}`);
  return { username, token, id: me.body.user_id };
}

/** Logs in through the login screen and waits for the explore page. */
export async function logInViaUi(page, baseUrl, username, password = PASSWORD) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: /^Explore/ }).waitFor();
}

/** The server and channel ids of a page at /servers/:id/channels/:id. */
export async function currentChannel(page) {
  await page.waitForURL(/\/servers\/\d+\/channels\/\d+/);
  const match = new URL(page.url()).pathname.match(/^\/servers\/(\d+)\/channels\/(\d+)/);
  return { serverId: Number(match[1]), channelId: Number(match[2]) };
}

/** Waits until `locator` has `count` matches (playwright-core has no `expect`). */
export async function waitForCount(locator, count, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last = -1;
  while (Date.now() < deadline) {
    last = await locator.count();
    if (last === count) return;
    await sleep(100);
  }
  throw new Error(`expected ${count} matches of ${locator}, saw ${last}`);
}
