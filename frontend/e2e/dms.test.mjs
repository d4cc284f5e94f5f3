// Direct messages in real browsers: a DM opened from a member list and chatted in live both
// ways; a group of three (created, written to, left); a block refusing messages until it is
// lifted; and the phone layout's drawers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
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

const REFUSED = 'You cannot send messages in this conversation';

describe('direct messages in the browser', { timeout: 240_000 }, () => {
  const suite = browserSuite('dms-backend');
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
      name: `Meeting place ${owner.username.slice(-4)}`,
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
  const participants = (p) => p.getByRole('complementary', { name: 'Participants' });

  async function send(p, text) {
    await composer(p).fill(text);
    await composer(p).press('Enter');
  }

  it('opens a DM from the member list; both chat live and the other sees it in their list', async () => {
    const { accounts, serverId, channelId } = await people('al', 'bo');
    const [al, bo] = accounts;

    const a = await page();
    await logInViaUi(a, suite.backend.url, al.username);
    await a.goto(`${suite.backend.url}/servers/${serverId}/channels/${channelId}`);
    const members = a.getByRole('complementary', { name: 'Members' });
    const entry = members.getByRole('listitem').filter({ hasText: bo.username });
    await entry.hover();
    await members.getByRole('button', { name: `Message ${bo.username}` }).click();
    await a.waitForURL(/\/dms\/\d+$/);
    await a.getByRole('heading', { level: 1, name: bo.username }).waitFor();
    await connected(a);
    await send(a, 'Hi bo, a DM from al');
    await message(a, 'Hi bo, a DM from al').waitFor();

    // Bo's Home lists the conversation, with its last message.
    const b = await page();
    await logInViaUi(b, suite.backend.url, bo.username);
    await b.getByRole('navigation', { name: 'Servers' }).getByRole('link', { name: 'Home' }).click();
    await b.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await dmLink(b, al.username).filter({ hasText: 'Hi bo, a DM from al' }).waitFor();
    await dmLink(b, al.username).click();
    await message(b, 'Hi bo, a DM from al').waitFor();
    await connected(b);

    // Live both ways, typing included; both are online in the participants list.
    await send(b, 'Hello al, bo here');
    await message(a, 'Hello al, bo here').waitFor();
    await participants(a).getByRole('region', { name: 'Online' }).getByText(bo.username).waitFor();
    await composer(b).pressSequentially('typing');
    await a.getByText(`${bo.username} is typing…`).waitFor();
    await composer(b).fill('');
    await send(a, 'Live again');
    await message(b, 'Live again').waitFor();
    await waitForCount(message(b, 'Live again'), 1);
    await waitForCount(message(a, 'Hello al, bo here'), 1);
    // Bo's list follows the conversation it has open.
    await dmLink(b, al.username).filter({ hasText: 'Live again' }).waitFor();

    // Grouped by author: al's two messages in a row show al's name once.
    await send(a, 'and once more');
    await message(b, 'and once more').waitFor();
    await waitForCount(log(a).getByRole('article'), 4);
    const heads = await log(a).locator('.message.head .message-sender').allTextContents();
    assert.deepEqual(heads, [al.username, bo.username, al.username]);
  });

  it('a group of three: created from Home, a message reaches the two others, one leaves', async () => {
    const { accounts } = await people('gia', 'hal', 'ivy');
    const [gia, hal, ivy] = accounts;
    const name = `Trio ${gia.username.slice(-4)}`;

    const g = await page();
    await logInViaUi(g, suite.backend.url, gia.username);
    await g.goto(`${suite.backend.url}/dms`);
    await g.getByRole('button', { name: 'New group', exact: true }).click();
    const dialog = g.getByRole('dialog', { name: 'New group' });
    await dialog.getByLabel('Group name').fill(name);
    await dialog.getByRole('checkbox', { name: hal.username }).check();
    await dialog.getByRole('checkbox', { name: ivy.username }).check();
    await dialog.getByText('2 of 9 picked').waitFor();
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await g.getByRole('heading', { level: 1, name }).waitFor();
    const groupId = Number(new URL(g.url()).pathname.split('/').pop());
    await connected(g);
    await send(g, 'Hello trio');
    await message(g, 'Hello trio').waitFor();

    const h = await page();
    await logInViaUi(h, suite.backend.url, hal.username);
    await h.goto(`${suite.backend.url}/dms`);
    await dmLink(h, name).click();
    await message(h, 'Hello trio').waitFor();
    await connected(h);

    const i = await page();
    await logInViaUi(i, suite.backend.url, ivy.username);
    await i.goto(`${suite.backend.url}/dms/${groupId}`);
    await message(i, 'Hello trio').waitFor();
    await connected(i);
    await send(i, 'ivy here');
    await message(g, 'ivy here').waitFor();
    await message(h, 'ivy here').waitFor();
    await participants(g).getByText(ivy.username).waitFor();

    // Ivy leaves: back in her Home without the group; the others see her go, live.
    await i.getByRole('button', { name: 'Leave group' }).click();
    await i.getByRole('dialog', { name: `Leave ${name}?` }).getByRole('button', { name: 'Leave group' }).click();
    await i.getByText(`You left ${name}.`).waitFor();
    await waitForCount(dmLink(i, name), 0);
    await waitForCount(participants(g).getByText(ivy.username), 0);
    await waitForCount(participants(h).getByText(ivy.username), 0);
    const left = await api(suite.backend.url, ivy.token, 'GET', `/api/dms/${groupId}/`);
    assert.equal(left.status, 404);

    await send(h, 'just us two now');
    await message(g, 'just us two now').waitFor();
  });

  it('a block refuses messages with the reason shown, until it is lifted', async () => {
    const { accounts } = await people('dee', 'ed');
    const [dee, ed] = accounts;
    const opened = await api(suite.backend.url, dee.token, 'POST', '/api/dms/', { user_id: ed.id });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const conversation = `${suite.backend.url}/dms/${opened.body.id}`;

    const d = await page();
    await logInViaUi(d, suite.backend.url, dee.username);
    await d.goto(conversation);
    await connected(d);
    const e = await page();
    await logInViaUi(e, suite.backend.url, ed.username);
    await e.goto(conversation);
    await connected(e);

    // Ed blocks Dee from the conversation's header; his own composer says why it is gone.
    await e.getByRole('button', { name: `Block ${dee.username}` }).click();
    await e.getByRole('dialog', { name: `Block ${dee.username}?` }).getByRole('button', { name: 'Block' }).click();
    await e.getByText(`You blocked ${dee.username}. Unblock them to send messages.`).waitFor();
    assert.equal(await composer(e).count(), 0);

    // Dee's message is refused, and she is told so.
    await send(d, 'can you hear me');
    await d.locator('.composer-area').getByRole('alert').getByText(REFUSED).waitFor();
    await log(d).getByRole('article').filter({ hasText: 'can you hear me' }).getByText('Not sent').waitFor();
    await screenshot(d, 'dm-blocked-1280');
    await e.waitForTimeout(1_000);
    assert.equal(await message(e, 'can you hear me').count(), 0, 'a refused message was delivered');

    // Ed unblocks her from Home's list of blocked users.
    await e.getByRole('navigation', { name: 'Servers' }).getByRole('link', { name: 'Home' }).click();
    const blocked = e.getByRole('list', { name: 'Blocked users' });
    await blocked.getByRole('button', { name: `Unblock ${dee.username}` }).click();
    await e.getByText('You have not blocked anyone.').waitFor();
    await dmLink(e, dee.username).click();
    await connected(e);

    // It works again: the refused message is retried, and a new one goes through too.
    await d.getByRole('button', { name: 'Retry' }).click();
    await message(e, 'can you hear me').waitFor();
    await waitForCount(d.locator('.composer-area').getByRole('alert'), 0);
    await send(d, 'works again');
    await message(e, 'works again').waitFor();
    await send(e, 'yes it does');
    await message(d, 'yes it does').waitFor();
  });

  it('on a phone (390 px) the drawers open and close, and chatting works', async () => {
    const { accounts, serverId, channelId } = await people('pia', 'quin');
    const [pia, quin] = accounts;
    const opened = await api(suite.backend.url, quin.token, 'POST', '/api/dms/', { user_id: pia.id });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    await api(suite.backend.url, quin.token, 'POST', `/api/dms/${opened.body.id}/messages/`, { content: 'Ping from quin' });

    const p = await page({ viewport: { width: 390, height: 844 }, hasTouch: true });
    await logInViaUi(p, suite.backend.url, pia.username);
    const header = p.getByRole('banner');
    const nav = header.getByRole('button', { name: 'Navigation' });
    const rail = p.getByRole('navigation', { name: 'Servers' });

    // One header row, however long the name; the rail starts closed.
    const box = await header.boundingBox();
    assert.ok(box && box.height <= 56, `the header wrapped: ${JSON.stringify(box)}`);
    assert.equal(await rail.isVisible(), false);
    assert.equal(await nav.getAttribute('aria-expanded'), 'false');

    // The drawer opens with the rail and the page's sidebar, and closes with Escape.
    await nav.click();
    await rail.getByRole('link', { name: 'Home' }).waitFor();
    await p.getByRole('navigation', { name: 'Categories' }).waitFor();
    assert.equal(await nav.getAttribute('aria-expanded'), 'true');
    await p.keyboard.press('Escape');
    await rail.waitFor({ state: 'hidden' });

    // Home, then the conversation, from the drawer; each choice closes it.
    await nav.click();
    await rail.getByRole('link', { name: 'Home' }).click();
    await p.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
    await rail.waitFor({ state: 'hidden' });
    await nav.click();
    await dmLink(p, quin.username).filter({ hasText: 'Ping from quin' }).click();
    await dmList(p).waitFor({ state: 'hidden' });
    await message(p, 'Ping from quin').waitFor();
    await connected(p);

    // Chatting with someone on a desktop.
    const q = await page();
    await logInViaUi(q, suite.backend.url, quin.username);
    await q.goto(`${suite.backend.url}/dms/${opened.body.id}`);
    await connected(q);
    await send(p, 'Typed on a phone');
    await message(q, 'Typed on a phone').waitFor();
    await send(q, 'Read on a phone');
    await message(p, 'Read on a phone').waitFor();

    // The participants drawer: opened from the chat's header, closed by the backdrop.
    const membersButton = p.getByRole('button', { name: 'Members' });
    await membersButton.click();
    await participants(p).getByRole('region', { name: 'Online' }).getByText(quin.username).waitFor();
    await p.mouse.click(20, 400);
    await participants(p).waitFor({ state: 'hidden' });

    // Own messages: a "⋯" button instead of hover buttons, opening the actions.
    const own = log(p).getByRole('article').filter({ hasText: 'Typed on a phone' });
    assert.equal(await own.getByRole('button', { name: 'Edit message' }).isVisible(), false);
    await own.getByRole('button', { name: 'Message actions' }).click();
    await p.getByRole('menu', { name: 'Message actions' }).getByRole('menuitem', { name: 'Edit' }).click();
    await p.getByRole('textbox', { name: 'Edit message' }).fill('Typed on a phone, edited');
    await p.getByRole('button', { name: 'Save' }).click();
    await message(q, 'Typed on a phone, edited').waitFor();

    // A channel on the phone too: chat works, and its member list is a drawer as well.
    await p.goto(`${suite.backend.url}/servers/${serverId}/channels/${channelId}`);
    await connected(p);
    await send(p, 'Hello channel from a phone');
    await message(p, 'Hello channel from a phone').waitFor();
    await p.getByRole('button', { name: 'Members' }).click();
    await p.getByRole('complementary', { name: 'Members' }).getByText(quin.username).waitFor();
    await p.keyboard.press('Escape');
    await p.getByRole('complementary', { name: 'Members' }).waitFor({ state: 'hidden' });
    assert.equal(await p.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Members');
  });
});
