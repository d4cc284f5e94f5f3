// A screenshot of every main screen at a desktop's width (1280 px) and a phone's (390 px):
// login, explore, a server's channel, the DM list, a DM, a group, the group dialog, and on the
// phone the drawers. They land in test-artifacts/e2e/screenshots/screen-<name>-<width>.png for
// a person to look at; the test only checks that each screen shows what it should.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { account, api, launchBrowser, logInViaUi, newPage, screenshot, startBackend } from './harness.mjs';

const SEEDED = 'hearth-demo'; // the seed's password for alice, bob, carol and dave

describe('screens', { timeout: 240_000 }, () => {
  let backend;
  let browser;
  const pages = [];
  const data = {};

  before(async () => {
    backend = await startBackend({ name: 'screens-backend' });
    browser = await launchBrowser();
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => account(backend.url, n, SEEDED)));
    const servers = await api(backend.url, alice.token, 'GET', '/api/server/select/?by_user=true');
    const rustaceans = servers.body.find((s) => s.name === 'Rustaceans');
    assert.ok(rustaceans, 'the seed has Rustaceans');
    const general = rustaceans.channel_server.find((c) => c.name === 'general');
    for (const [who, content] of [
      [bob, 'Has anyone tried the new let-else syntax?'],
      [bob, 'It reads so much better than a match with one arm.'],
      [carol, 'Yes! Together with if-let chains it is lovely.'],
    ]) {
      await api(backend.url, who.token, 'POST', `/api/channels/${general.id}/messages/`, { content });
    }

    const dm = await api(backend.url, bob.token, 'POST', '/api/dms/', { user_id: alice.id });
    for (const [who, content] of [
      [bob, 'Are we still on for Saturday?'],
      [alice, 'Yes! 10 am at the trailhead.'],
      [alice, 'I will bring coffee for both of us.'],
      [bob, 'Perfect, see you there.'],
    ]) {
      await api(backend.url, who.token, 'POST', `/api/dms/${dm.body.id}/messages/`, { content });
    }
    const group = await api(backend.url, carol.token, 'POST', '/api/dms/groups/', {
      name: 'Weekend plans',
      user_ids: [alice.id, bob.id],
    });
    for (const [who, content] of [
      [carol, 'Who is up for a hike this weekend?'],
      [bob, 'Me, if it does not rain.'],
      [alice, 'Count me in.'],
    ]) {
      await api(backend.url, who.token, 'POST', `/api/dms/${group.body.id}/messages/`, { content });
    }
    Object.assign(data, { serverId: rustaceans.id, channelId: general.id, dmId: dm.body.id, groupId: group.body.id });
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

  /** Drawers slide in: wait until nothing moves, or the picture catches them half-way. */
  const settled = (p) => p.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'));
  const connected = (p) => p.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor();
  const log = (p) => p.getByRole('log', { name: 'Messages' });

  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    const phone = width < 720;

    it(`every main screen at ${width} px`, async () => {
      const shot = async (p, name) => {
        await settled(p);
        await screenshot(p, `screen-${name}-${width}`);
      };

      const visitor = await page({ viewport: { width, height } });
      await visitor.goto(`${backend.url}/login`);
      await visitor.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
      await shot(visitor, 'login');
      await visitor.context().close();

      const p = await page({ viewport: { width, height } });
      const nav = p.getByRole('banner').getByRole('button', { name: 'Navigation' });
      await logInViaUi(p, backend.url, 'alice', SEEDED);
      await p.getByRole('main').getByRole('link', { name: /^Rustaceans/ }).getByText(/members/).waitFor();
      await shot(p, 'explore');
      if (phone) {
        await nav.click();
        await p.getByRole('navigation', { name: 'Categories' }).waitFor();
        await shot(p, 'explore-drawer');
        await p.keyboard.press('Escape');
      }

      await p.goto(`${backend.url}/servers/${data.serverId}/channels/${data.channelId}`);
      await connected(p);
      await log(p).getByText('Yes! Together with if-let chains it is lovely.').waitFor();
      await shot(p, 'channel');
      if (phone) {
        await nav.click();
        await p.getByRole('navigation', { name: 'Channels' }).waitFor();
        await shot(p, 'channel-drawer');
        await p.keyboard.press('Escape');
        await p.getByRole('button', { name: 'Members' }).click();
        await p.getByRole('complementary', { name: 'Members' }).getByRole('region', { name: 'Online' }).getByText('alice').waitFor();
        await shot(p, 'channel-members');
        await p.keyboard.press('Escape');
      }

      await p.goto(`${backend.url}/dms`);
      await p.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
      if (phone) {
        await nav.click();
      }
      await p.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: /Weekend plans/ }).waitFor();
      await shot(p, 'dm-list');
      if (phone) {
        await p.keyboard.press('Escape');
        await shot(p, 'home');
      }

      await p.goto(`${backend.url}/dms/${data.dmId}`);
      await connected(p);
      await log(p).getByText('Perfect, see you there.').waitFor();
      await shot(p, 'dm-conversation');
      if (phone) {
        // Own messages carry a "⋯" on phones; here it is opened.
        await log(p).getByRole('article').filter({ hasText: 'I will bring coffee' }).getByRole('button', { name: 'Message actions' }).click();
        await p.getByRole('menu', { name: 'Message actions' }).waitFor();
        await shot(p, 'message-actions');
        await p.keyboard.press('Escape');
      } else {
        await log(p).getByRole('article').filter({ hasText: 'I will bring coffee' }).hover();
        await shot(p, 'message-hover');
      }

      await p.goto(`${backend.url}/dms/${data.groupId}`);
      await connected(p);
      await log(p).getByText('Count me in.').waitFor();
      await shot(p, 'group-conversation');

      if (phone) await nav.click();
      await p.getByRole('button', { name: 'New group', exact: true }).click();
      const dialog = p.getByRole('dialog', { name: 'New group' });
      await dialog.getByLabel('Group name').fill('Book club');
      await dialog.getByRole('checkbox', { name: 'bob' }).check();
      await dialog.getByRole('checkbox', { name: 'dave' }).check();
      await shot(p, 'group-dialog');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    });
  }

  it('a tablet (900 px): the sidebar stays, the member list is a drawer', async () => {
    const p = await page({ viewport: { width: 900, height: 700 } });
    await logInViaUi(p, backend.url, 'alice', SEEDED);
    await p.goto(`${backend.url}/servers/${data.serverId}/channels/${data.channelId}`);
    await connected(p);
    await p.getByRole('navigation', { name: 'Channels' }).waitFor();
    assert.equal(await p.getByRole('banner').getByRole('button', { name: 'Navigation' }).isVisible(), false);
    await settled(p);
    await screenshot(p, 'screen-channel-900');
    await p.getByRole('button', { name: 'Members' }).click();
    await p.getByRole('complementary', { name: 'Members' }).getByText('dave').waitFor();
    await settled(p);
    await screenshot(p, 'screen-channel-members-900');
  });

  it('the light theme, for contrast', async () => {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ]) {
      const p = await page({ viewport: { width, height }, colorScheme: 'light' });
      await logInViaUi(p, backend.url, 'alice', SEEDED);
      await p.goto(`${backend.url}/servers/${data.serverId}/channels/${data.channelId}`);
      await connected(p);
      await settled(p);
      await screenshot(p, `screen-channel-${width}-light`);
      await p.goto(`${backend.url}/dms/${data.dmId}`);
      await connected(p);
      await log(p).getByText('Perfect, see you there.').waitFor();
      await settled(p);
      await screenshot(p, `screen-dm-conversation-${width}-light`);
    }
  });
});
