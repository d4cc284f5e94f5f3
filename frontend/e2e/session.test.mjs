// The cookie session: a short-lived access token is renewed silently, reloads keep the
// session, and logging out ends it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  launchBrowser,
  logInViaUi,
  newPage,
  registerViaApi,
  startBackend,
  uniqueName,
} from './harness.mjs';

describe('session', { timeout: 120_000 }, () => {
  let backend;
  let browser;

  before(async () => {
    // Access tokens live 2 s here, so every step below runs on a renewed one.
    backend = await startBackend({
      name: 'session-backend',
      env: { HEARTH_ACCESS_TOKEN_TTL_SECS: '2' },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('survives access-token expiry, reloads, then logs out', async () => {
    const eve = uniqueName('eve');
    await registerViaApi(backend.url, eve);
    const page = await newPage(browser);
    await logInViaUi(page, backend.url, eve);

    await sleep(3_000);
    // An authenticated action after expiry: refreshed silently, not sent to the login screen.
    await page.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'gaming' }).click();
    await page.getByRole('link', { name: /^Speedrunners/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Speedrunners' }).waitFor();
    await page.getByRole('button', { name: 'Join server' }).click();
    await page.getByRole('button', { name: 'Leave server' }).waitFor();
    assert.doesNotMatch(new URL(page.url()).pathname, /^\/login/);

    // The socket reconnects with a renewed cookie after its token expired.
    await sleep(3_000);
    await page.reload();
    await page.getByRole('banner').getByText(eve).waitFor();
    await page.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('banner').getByRole('link', { name: 'Log in' }).waitFor();
    await page.reload();
    await page.getByRole('banner').getByRole('link', { name: 'Log in' }).waitFor();
    assert.deepEqual(page.errors, [], 'the page threw uncaught errors');
  });
});
