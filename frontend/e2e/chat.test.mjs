// The main journey in a real browser: register → log in → explore a category → open a server →
// join → two people chat live → leave; plus a network drop that must not lose a message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORD,
  api,
  bearerToken,
  currentChannel,
  launchBrowser,
  logInViaUi,
  newPage,
  registerViaApi,
  screenshot,
  startBackend,
  startProxy,
  uniqueName,
  waitForCount,
} from './harness.mjs';

const SERVER = 'Rustaceans'; // seeded, owned by alice, in "programming"

describe('chat in the browser', { timeout: 180_000 }, () => {
  let backend;
  let proxy;
  let browser;
  const pages = [];

  before(async () => {
    backend = await startBackend({ name: 'chat-backend' });
    proxy = await startProxy(backend.port);
    browser = await launchBrowser();
  });

  after(async () => {
    for (const page of pages) {
      assert.deepEqual(page.errors, [], 'the page threw uncaught errors');
    }
    await browser?.close();
    await proxy?.close();
    await backend?.stop();
  });

  async function page(options) {
    const created = await newPage(browser, options);
    pages.push(created);
    return created;
  }

  const log = (p) => p.getByRole('log', { name: 'Messages' });
  const message = (p, text) => log(p).getByText(text, { exact: true });
  const memberCount = (p, n) =>
    p.getByTestId('member-count').filter({ hasText: new RegExp(`^\\s*${n} members?\\s*$`) });

  async function readMemberCount(p) {
    const text = await p.getByTestId('member-count').textContent();
    return Number.parseInt(text ?? '', 10);
  }

  async function send(p, text) {
    const box = p.getByRole('textbox', { name: 'Message', exact: true });
    await box.fill(text);
    await box.press('Enter');
  }

  it('register, log in, explore, join, chat live with a second person, edit, delete, leave', async () => {
    const base = proxy.url;
    const ann = uniqueName('ann');
    const ben = uniqueName('ben');

    // Register and log in through the screens.
    const a = await page();
    await a.goto(`${base}/register`);
    await screenshot(a, 'register');
    await a.getByLabel('Username').fill(ann);
    await a.getByLabel('Password').fill(PASSWORD);
    await a.getByRole('button', { name: 'Create account' }).click();
    await a.getByText('Account created. You can log in now.').waitFor();
    assert.match(new URL(a.url()).pathname, /^\/login/);
    await screenshot(a, 'login');
    await a.getByLabel('Username').fill(ann);
    await a.getByLabel('Password').fill(PASSWORD);
    await a.getByRole('button', { name: 'Log in' }).click();
    await a.getByRole('heading', { level: 1, name: /^Explore/ }).waitFor();
    await a.getByRole('banner').getByText(ann).waitFor();

    // Explore a category and open a server.
    await a.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'programming' }).click();
    await a.getByRole('heading', { level: 1, name: /programming/i }).waitFor();
    const card = a.getByRole('link', { name: new RegExp(`^${SERVER}`) });
    await card.getByText(/\d+ members?/).waitFor();
    await screenshot(a, 'explore');
    await card.click();
    await a.getByRole('heading', { level: 1, name: SERVER }).waitFor();
    await a.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: '# general' }).waitFor();
    const { serverId, channelId } = await currentChannel(a);
    const before = await readMemberCount(a);

    // Join: the button flips and the count goes up without a reload.
    await a.getByRole('button', { name: 'Join server' }).click();
    await a.getByRole('button', { name: 'Leave server' }).waitFor();
    await memberCount(a, before + 1).waitFor();
    await a.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor();
    await screenshot(a, 'server');

    // A second person in another browser context joins the same channel.
    await registerViaApi(backend.url, ben);
    const b = await page();
    await logInViaUi(b, base, ben);
    await b.goto(`${base}/servers/${serverId}/channels/${channelId}`);
    await b.getByRole('heading', { level: 1, name: SERVER }).waitFor();
    await b.getByRole('status', { name: 'Connection' }).getByText('Connected').waitFor();
    await b.getByRole('button', { name: 'Join server' }).click();
    await b.getByRole('button', { name: 'Leave server' }).waitFor();
    // Ann sees Ben's join live.
    await memberCount(a, before + 2).waitFor();
    await a.getByRole('region', { name: 'Online' }).getByText(ben).waitFor();

    // They chat, each seeing the other's message live.
    await send(a, 'Hello from Ann');
    await message(b, 'Hello from Ann').waitFor();
    await send(b, 'Hi Ann, Ben here');
    await message(a, 'Hi Ann, Ben here').waitFor();
    await waitForCount(message(a, 'Hello from Ann'), 1);
    await waitForCount(message(b, 'Hi Ann, Ben here'), 1);

    // Ben types; Ann sees it.
    await b.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially('typing…');
    await a.getByText(`${ben} is typing…`).waitFor();
    await b.getByRole('textbox', { name: 'Message', exact: true }).fill('');
    await screenshot(a, 'channel');

    // Ann edits her message; Ben sees the new text.
    const own = log(a).getByRole('article').filter({ hasText: 'Hello from Ann' });
    await own.hover();
    await own.getByRole('button', { name: 'Edit message' }).click();
    const editor = a.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('Hello from Ann (edited)');
    await a.getByRole('button', { name: 'Save' }).click();
    await message(b, 'Hello from Ann (edited)').waitFor();
    await waitForCount(message(b, 'Hello from Ann'), 0);

    // Ann deletes another message; it disappears for Ben.
    await send(a, 'This will be deleted');
    await message(b, 'This will be deleted').waitFor();
    const doomed = log(a).getByRole('article').filter({ hasText: 'This will be deleted' });
    await doomed.hover();
    await doomed.getByRole('button', { name: 'Delete message' }).click();
    await a.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await waitForCount(message(b, 'This will be deleted'), 0);
    await waitForCount(message(a, 'This will be deleted'), 0);

    // Ben cannot edit Ann's message.
    const foreign = log(b).getByRole('article').filter({ hasText: 'Hello from Ann (edited)' });
    await foreign.hover();
    assert.equal(await foreign.getByRole('button', { name: 'Edit message' }).count(), 0);

    // A phone-sized view of the same channel.
    const phone = await page({ viewport: { width: 375, height: 740 }, colorScheme: 'light' });
    await logInViaUi(phone, base, ann);
    await phone.goto(`${base}/servers/${serverId}/channels/${channelId}`);
    await message(phone, 'Hello from Ann (edited)').waitFor();
    await screenshot(phone, 'channel-phone');
    await phone.context().close();

    // Ann leaves: the button flips back and Ben's count follows live.
    await a.getByRole('button', { name: 'Leave server' }).click();
    await a.getByRole('button', { name: 'Join server' }).waitFor();
    await memberCount(a, before + 1).waitFor();
    await memberCount(b, before + 1).waitFor();
    // No longer a member: no composer for Ann.
    await a.getByText('Join this server to send messages').waitFor();
  });

  it('a network drop and resume loses no message and duplicates none', async () => {
    const base = proxy.url;
    const cat = uniqueName('cat');
    const dan = uniqueName('dan');
    await registerViaApi(backend.url, cat);
    await registerViaApi(backend.url, dan);
    const danToken = await bearerToken(backend.url, dan);

    const c = await page();
    await logInViaUi(c, base, cat);
    await c.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'programming' }).click();
    await c.getByRole('link', { name: new RegExp(`^${SERVER}`) }).click();
    const { serverId, channelId } = await currentChannel(c);
    await c.getByRole('button', { name: 'Join server' }).click();
    await c.getByRole('button', { name: 'Leave server' }).waitFor();
    const joined = await api(backend.url, danToken, 'POST', `/api/membership/${serverId}/membership/`);
    assert.equal(joined.status, 200);
    const connection = c.getByRole('status', { name: 'Connection' });
    await connection.getByText('Connected').waitFor();

    await api(backend.url, danToken, 'POST', `/api/channels/${channelId}/messages/`, {
      content: 'before the drop',
    });
    await message(c, 'before the drop').waitFor();

    // The network goes away: the page notices and tries to reconnect.
    proxy.pause();
    await connection.getByText('Reconnecting…').waitFor();
    const missed = Array.from({ length: 5 }, (_, i) => `missed while offline ${i + 1}`);
    for (const content of missed) {
      const sent = await api(backend.url, danToken, 'POST', `/api/channels/${channelId}/messages/`, {
        content,
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
    }
    // Cat writes while offline; the message goes out once the socket is back.
    await send(c, 'written while offline');
    await screenshot(c, 'channel-reconnecting');

    proxy.resume();
    await connection.getByText('Connected').waitFor({ timeout: 30_000 });
    for (const content of [...missed, 'written while offline']) {
      await message(c, content).waitFor();
      await waitForCount(message(c, content), 1);
    }
    await waitForCount(message(c, 'before the drop'), 1);

    // In channel order, and stored exactly once on the server too.
    const texts = await log(c).getByRole('article').allTextContents();
    const positions = missed.map((m) => texts.findIndex((t) => t.includes(m)));
    assert.deepEqual([...positions].sort((x, y) => x - y), positions, 'messages out of order');
    const history = await api(backend.url, danToken, 'GET', `/api/channels/${channelId}/messages/?limit=100`);
    const offline = history.body.filter((m) => m.content === 'written while offline');
    assert.equal(offline.length, 1, 'the message written offline was stored once');
  });
});
