// A server owner's journey: create a server and a channel (a visitor sees both live), upload an
// icon and a banner (the explore page shows them), see a refused upload explained; and
// scrolling back through a long history.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  api,
  bearerToken,
  currentChannel,
  launchBrowser,
  logInViaUi,
  newPage,
  registerViaApi,
  screenshot,
  startBackend,
  uniqueName,
  waitForCount,
} from './harness.mjs';

/** A PNG of `size`×`size` pixels, rendered by the browser itself. */
async function png(page, size) {
  await page.setContent(
    `<div id="box" style="width:${size}px;height:${size}px;background:linear-gradient(45deg,#e07a2f,#3a6ea5)"></div>`,
  );
  return page.locator('#box').screenshot({ type: 'png' });
}

describe('owning a server', { timeout: 180_000 }, () => {
  let backend;
  let browser;
  const pages = [];

  before(async () => {
    // History is filled through the REST API below: let one user post quickly.
    backend = await startBackend({
      name: 'owner-backend',
      env: { HEARTH_WS_RATE_PER_SEC: '500', HEARTH_WS_RATE_BURST: '500' },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const page of pages) {
      assert.deepEqual(page.errors.map(String), [], 'the page threw uncaught errors');
    }
    await browser?.close();
    await backend?.stop();
  });

  async function page(options) {
    const created = await newPage(browser, options);
    pages.push(created);
    return created;
  }

  it('creates a server and a channel, uploads images, and a visitor sees it live', async () => {
    const base = backend.url;
    const olga = uniqueName('olga');
    const vic = uniqueName('vic');
    await registerViaApi(base, olga);
    await registerViaApi(base, vic);
    const serverName = `Olga's ${olga.slice(-4)}`;

    const owner = await page();
    await logInViaUi(owner, base, olga);
    await owner.getByRole('link', { name: 'Create server' }).click();
    await owner.getByLabel('Name').fill(serverName);
    await owner.getByLabel('Category').selectOption('art');
    await owner.getByLabel('Description').fill('Made in a browser test');
    await screenshot(owner, 'create-server');
    await owner.getByRole('button', { name: 'Create server' }).click();
    await owner.getByRole('heading', { level: 1, name: serverName }).waitFor();
    const { serverId } = await currentChannel(owner);
    // The owner is a member and has no Leave button.
    await owner.getByTestId('member-count').filter({ hasText: /^\s*1 member\s*$/ }).waitFor();
    assert.equal(await owner.getByRole('button', { name: 'Leave server' }).count(), 0);
    await owner.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: '# general' }).waitFor();

    // A visitor opens the server; the channel the owner adds next appears for them live.
    const visitor = await page();
    await logInViaUi(visitor, base, vic);
    await visitor.goto(`${base}/servers/${serverId}`);
    await visitor.getByRole('heading', { level: 1, name: serverName }).waitFor();
    await visitor.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor();
    assert.equal(await visitor.getByLabel('Channel name').count(), 0, 'owner tools shown to a visitor');

    await owner.getByLabel('Channel name').fill('Random');
    await owner.getByRole('button', { name: 'Create channel' }).click();
    await owner.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: '# random' }).waitFor();
    await visitor.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: '# random' }).waitFor();
    // The visitor joins; the owner's count follows live.
    await visitor.getByRole('button', { name: 'Join server' }).click();
    await owner.getByTestId('member-count').filter({ hasText: /^\s*2 members\s*$/ }).waitFor();

    // Images: a too-large icon is refused with the server's explanation, then good ones stick.
    const scratch = await page();
    const bigIcon = await png(scratch, 120);
    const icon = await png(scratch, 64);
    const banner = await png(scratch, 600);
    await owner.getByLabel('Server icon').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: bigIcon });
    await owner.getByRole('alert').filter({ hasText: /70/ }).waitFor();
    await owner.getByLabel('Server icon').setInputFiles({ name: 'icon.png', mimeType: 'image/png', buffer: icon });
    await owner.getByText('Icon updated.').waitFor();
    await owner.getByLabel('Server banner').setInputFiles({ name: 'banner.png', mimeType: 'image/png', buffer: banner });
    await owner.getByText('Banner updated.').waitFor();
    await owner.locator('img.server-banner').waitFor();
    await screenshot(owner, 'server-owner');

    // The explore page shows them, loaded from /media/ (the card, not the rail's link to the server).
    await owner.goto(`${base}/explore/art`);
    const card = owner.getByRole('main').getByRole('link', { name: new RegExp(`^${serverName}`) });
    await card.getByText('2 members').waitFor();
    const sources = await card.locator('img').evaluateAll((imgs) =>
      imgs.map((img) => ({ src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0 })),
    );
    assert.equal(sources.length, 2, JSON.stringify(sources));
    for (const { src, loaded } of sources) {
      assert.match(src ?? '', /^\/media\/[0-9a-f]{64}\.png$/);
      assert.ok(loaded, `${src} did not load`);
    }
    await screenshot(owner, 'explore-with-images');
  });

  it('loads older messages when scrolling back', async () => {
    const base = backend.url;
    const pat = uniqueName('pat');
    await registerViaApi(base, pat);
    const token = await bearerToken(base, pat);
    const created = await api(base, token, 'POST', '/api/servers/', {
      name: `History ${pat.slice(-4)}`,
      category: 'music',
      description: 'A long conversation',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const serverId = created.body.id;
    const channelId = created.body.channel_server[0].id;
    for (let i = 1; i <= 120; i += 1) {
      const sent = await api(base, token, 'POST', `/api/channels/${channelId}/messages/`, {
        content: `message number ${i}`,
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
    }

    const reader = await page();
    await logInViaUi(reader, base, pat);
    await reader.goto(`${base}/servers/${serverId}/channels/${channelId}`);
    const log = reader.getByRole('log', { name: 'Messages' });
    await log.getByText('message number 120', { exact: true }).waitFor();
    assert.equal(await log.getByText('message number 1', { exact: true }).count(), 0);
    // Scroll to the top until the very first message shows up.
    for (let attempt = 0; attempt < 20; attempt += 1) {
      if ((await log.getByText('message number 1', { exact: true }).count()) === 1) break;
      await log.evaluate((element) => {
        element.scrollTop = 0;
      });
      await reader.waitForTimeout(300);
    }
    await waitForCount(log.getByText('message number 1', { exact: true }), 1);
    const texts = await log.getByRole('article').allTextContents();
    const numbers = texts.map((t) => Number(t.match(/message number (\d+)/)?.[1])).filter(Boolean);
    assert.deepEqual(numbers, Array.from({ length: 120 }, (_, i) => i + 1), 'each message once, in order');
  });
});
