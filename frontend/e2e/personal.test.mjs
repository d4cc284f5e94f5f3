// The personal socket (/ws/me) in real browsers: a DM list that follows new conversations and
// their messages live (no polling, no reload, no focus change), and /pm typed in a server's
// channel: private for everyone, with a notice for the sender and for the recipient.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PASSWORD,
  account,
  api,
  browserSuite,
  chatScreen,
  logInViaUi,
  registerViaApi,
  screenshot,
  uniqueName,
  waitForCount,
} from './harness.mjs';

/** Without polling, only the personal socket can bring a change this fast. */
const LIVE_MS = 3_000;

describe('the personal socket in the browser', { timeout: 240_000 }, () => {
  const suite = browserSuite('personal-backend');
  const page = (options) => suite.page(options);
  const { log, composer, connected } = chatScreen;

  /** Registers people and puts them in one new server, so that they know each other. */
  async function people(...prefixes) {
    const accounts = [];
    for (const prefix of prefixes) {
      const name = uniqueName(prefix);
      await registerViaApi(suite.backend.url, name);
      accounts.push(await account(suite.backend.url, name));
    }
    const [owner, ...rest] = accounts;
    const created = await api(suite.backend.url, owner.token, 'POST', '/api/servers/', {
      name: `Commons ${owner.username.slice(-4)}`,
      category: 'music',
      description: 'Where people meet',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const person of rest) {
      const joined = await api(suite.backend.url, person.token, 'POST', `/api/membership/${created.body.id}/membership/`);
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
    }
    return { accounts, serverId: created.body.id, channelId: created.body.channel_server[0].id };
  }

  const message = (p, text) => log(p).getByText(text, { exact: true });
  const dmList = (p) => p.getByRole('navigation', { name: 'Direct messages' });
  const dmLink = (p, name) => dmList(p).getByRole('link', { name: new RegExp(name) });
  const toasts = (p) => p.getByRole('region', { name: 'Private messages' });

  async function send(p, text) {
    await composer(p).fill(text);
    await composer(p).press('Enter');
  }

  /** Marks the document, so that a reload (which would lose the mark) cannot go unnoticed. */
  const mark = (p) => p.evaluate(() => Object.assign(window, { hearthNotReloaded: true }));
  const stillSamePage = async (p) => assert.equal(await p.evaluate(() => window.hearthNotReloaded), true, 'the page reloaded');

  it("a new conversation and its messages appear live in the other's DM list", async () => {
    const { accounts, serverId, channelId } = await people('ana', 'ben');
    const [ana, ben] = accounts;

    // Ben sits in Home with no conversations, and does nothing.
    const b = await page();
    await logInViaUi(b, suite.backend.url, ben.username);
    await b.goto(`${suite.backend.url}/dms`);
    await b.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await dmList(b).getByText(/No conversations/).waitFor();
    await mark(b);
    await b.waitForTimeout(500); // the personal socket connects and subscribes

    // Ana opens a DM with him from the channel's member list and writes.
    const a = await page();
    await logInViaUi(a, suite.backend.url, ana.username);
    await a.goto(`${suite.backend.url}/servers/${serverId}/channels/${channelId}`);
    const members = a.getByRole('complementary', { name: 'Members' });
    await members.getByRole('listitem').filter({ hasText: ben.username }).hover();
    await members.getByRole('button', { name: `Message ${ben.username}` }).click();
    await a.waitForURL(/\/dms\/\d+$/);
    await connected(a);
    await send(a, 'First words, live');
    await message(a, 'First words, live').waitFor();

    // Ben's list shows it (conversation.added), then each new message, within seconds.
    await dmLink(b, ana.username).filter({ hasText: 'First words, live' }).waitFor({ timeout: LIVE_MS });
    await send(a, 'And a second one');
    await dmLink(b, ana.username).filter({ hasText: 'And a second one' }).waitFor({ timeout: LIVE_MS });
    await waitForCount(dmLink(b, ana.username), 1);
    await stillSamePage(b);

    // Opening it shows both, once each, and the list keeps following.
    await dmLink(b, ana.username).click();
    await message(b, 'And a second one').waitFor();
    await waitForCount(message(b, 'First words, live'), 1);
    await connected(b);
    await send(a, 'Third, while you read');
    await message(b, 'Third, while you read').waitFor({ timeout: LIVE_MS });
    await waitForCount(message(b, 'Third, while you read'), 1);
    await dmLink(b, ana.username).filter({ hasText: 'Third, while you read' }).waitFor({ timeout: LIVE_MS });
  });

  it('/pm in a channel reaches only the recipient, with a notice on both sides', async () => {
    const { accounts, serverId, channelId } = await people('cy', 'di', 'eve');
    const [cy, di, eve] = accounts;
    const channel = `${suite.backend.url}/servers/${serverId}/channels/${channelId}`;

    const pagesIn = async (viewport) => {
      const opened = [];
      for (const person of [cy, di, eve]) {
        const p = await page(viewport ? { viewport } : undefined);
        await logInViaUi(p, suite.backend.url, person.username);
        await p.goto(channel);
        await connected(p);
        opened.push(p);
      }
      return opened;
    };

    const [c, d, e] = await pagesIn();
    await mark(d);
    await send(c, 'A public hello');
    for (const p of [c, d, e]) await message(p, 'A public hello').waitFor();

    await send(c, `/pm ${di.username} hello, just for you`);
    // Cy: a notice, linking to the conversation; nothing in the channel, nothing pending.
    const delivered = c.getByRole('status').filter({ hasText: `Sent privately to ${di.username}` });
    await delivered.waitFor({ timeout: LIVE_MS });
    await delivered.getByRole('link', { name: di.username }).waitFor({ timeout: LIVE_MS });
    assert.equal(await composer(c).inputValue(), '');
    // Di: a toast saying who wrote what.
    const toast = toasts(d).getByRole('link', { name: new RegExp(`${cy.username}: hello, just for you`) });
    await toast.waitFor({ timeout: LIVE_MS });
    await screenshot(c, 'pm-delivered-1280');
    await screenshot(d, 'pm-received-1280');
    await stillSamePage(d);

    // In the channel for no one (a later public message proves the sockets are all caught up).
    await send(c, 'Another public one');
    for (const p of [c, d, e]) {
      await message(p, 'Another public one').waitFor();
      assert.equal(await log(p).getByText(/just for you/).count(), 0, 'the /pm showed in the channel');
      assert.equal(await log(p).getByText(/^\/pm/).count(), 0, 'the /pm showed in the channel');
    }
    assert.equal(await toasts(e).count(), 0, 'a bystander saw the private message');

    // Di follows the toast into the DM with Cy, where the message is.
    await toast.click();
    await d.waitForURL(/\/dms\/\d+$/);
    await d.getByRole('heading', { level: 1, name: cy.username }).waitFor();
    await message(d, 'hello, just for you').waitFor();
    await dmLink(d, cy.username).filter({ hasText: 'hello, just for you' }).waitFor();

    // A /pm to nobody: an error notice, and still nothing in the channel.
    await send(c, '/pm nobody-by-that-name hi');
    await c.getByRole('alert').filter({ hasText: 'No user named nobody-by-that-name' }).waitFor({ timeout: LIVE_MS });

    // The same on phones (390 px), for the screenshots.
    const phone = { width: 390, height: 844 };
    const cp = await page({ viewport: phone, hasTouch: true });
    await logInViaUi(cp, suite.backend.url, cy.username);
    await cp.goto(channel);
    await connected(cp);
    const dp = await page({ viewport: phone, hasTouch: true });
    await logInViaUi(dp, suite.backend.url, di.username);
    await dp.goto(channel);
    await connected(dp);
    await dp.waitForTimeout(500); // the personal socket connects
    await send(cp, `/pm ${di.username} from my phone`);
    await cp.getByRole('status').filter({ hasText: `Sent privately to ${di.username}` }).waitFor({ timeout: LIVE_MS });
    await toasts(dp).getByText('from my phone').waitFor({ timeout: LIVE_MS });
    await screenshot(cp, 'pm-delivered-390');
    await screenshot(dp, 'pm-received-390');
  });

  it("shows a DM partner's online state live, and deleting an account signs out each of its devices", async () => {
    const { accounts } = await people('fay', 'gus');
    const [fay, gus] = accounts;
    const opened = await api(suite.backend.url, fay.token, 'POST', '/api/dms/', { user_id: gus.id });
    assert.ok(opened.status === 200 || opened.status === 201, JSON.stringify(opened.body));
    const online = (p, name) => dmLink(p, name).getByRole('img', { name: 'online' });

    // Fay's Home: Gus has no socket open, so no dot.
    const f = await page();
    await logInViaUi(f, suite.backend.url, fay.username);
    await f.goto(`${suite.backend.url}/dms`);
    await dmLink(f, gus.username).waitFor();
    await f.waitForTimeout(500); // the personal socket connects
    assert.equal(await online(f, gus.username).count(), 0, 'Gus shown online before he came');
    await mark(f);

    // Gus signs in on two devices: the dot appears at once, and one device more changes nothing.
    const g1 = await page();
    await logInViaUi(g1, suite.backend.url, gus.username);
    await g1.goto(`${suite.backend.url}/dms`);
    await online(f, gus.username).waitFor({ timeout: LIVE_MS });
    await online(g1, fay.username).waitFor({ timeout: LIVE_MS });
    const g2 = await page({ viewport: { width: 390, height: 844 }, hasTouch: true });
    await logInViaUi(g2, suite.backend.url, gus.username);
    await g2.goto(`${suite.backend.url}/dms`);
    // On a phone the DM list is a drawer.
    await g2.getByRole('banner').getByRole('button', { name: 'Navigation' }).click();
    await online(g2, fay.username).waitFor({ timeout: LIVE_MS });
    await screenshot(f, 'dm-presence-1280');

    // A wrong password is refused in place; the right one deletes the account.
    await g1.getByRole('button', { name: 'Delete account' }).click();
    const dialog = g1.getByRole('dialog', { name: 'Delete your account?' });
    await dialog.getByLabel('Password').fill('not-my-password');
    await dialog.getByRole('button', { name: 'Delete account' }).click();
    await dialog.getByText('Wrong password').waitFor();
    await screenshot(g1, 'delete-account-1280');
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Delete account' }).click();

    // Both of Gus's devices end on the login page, saying why; the other one without a reload
    // of its own doing (account.deleted on its personal socket).
    for (const p of [g1, g2]) {
      await p.waitForURL(/\/login/, { timeout: LIVE_MS });
      await p.getByRole('status').filter({ hasText: 'Your account was deleted.' }).waitFor({ timeout: LIVE_MS });
    }
    await screenshot(g2, 'account-deleted-390');
    // He is gone for Fay: no longer online, and never reconnected by his devices.
    await waitForCount(online(f, gus.username), 0, LIVE_MS);
    await f.waitForTimeout(1_000);
    assert.equal(await online(f, gus.username).count(), 0, 'a deleted account came back online');
    await stillSamePage(f);
    const login = await fetch(`${suite.backend.url}/api/auth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: gus.username, password: PASSWORD }),
    });
    assert.equal(login.status, 401, 'the deleted account can still sign in');
  });
});
