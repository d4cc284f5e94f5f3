// Unread and mention badges in real browsers: a message mentioning me in a channel I am not
// looking at (written with the composer's @ completion) shows as unread, and as a mention, on
// the channel and on its server in the rail, live; opening the channel acks it and clears
// both, and a reload keeps them cleared (the read state is the server's).
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

/** Without polling, only the personal socket can bring a change this fast. */
const LIVE_MS = 5_000;

describe('unread and mention badges in the browser', { timeout: 240_000 }, () => {
  const suite = browserSuite('unread-backend');
  const page = (options) => suite.page(options);
  const { log, composer, connected } = chatScreen;

  const channels = (p) => p.getByRole('navigation', { name: 'Channels' });
  const channelLink = (p, name) => channels(p).getByRole('link', { name: new RegExp(`^# ${name}`) });
  const rail = (p) => p.getByRole('navigation', { name: 'Servers' });

  it('a mention in another channel shows on the channel and the server, and clears once read', async () => {
    const ana = uniqueName('ana');
    const ben = uniqueName('ben');
    await registerViaApi(suite.backend.url, ana);
    await registerViaApi(suite.backend.url, ben);
    const a = await account(suite.backend.url, ana);
    const b = await account(suite.backend.url, ben);
    const serverName = `Readers ${ana.slice(-4)}`;
    const created = await api(suite.backend.url, a.token, 'POST', '/api/servers/', {
      name: serverName,
      category: 'music',
      description: 'Reading together',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const serverId = created.body.id;
    const general = created.body.channel_server[0].id;
    const second = await api(suite.backend.url, a.token, 'POST', `/api/servers/${serverId}/channels/`, { name: 'random' });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const random = second.body.id;
    const joined = await api(suite.backend.url, b.token, 'POST', `/api/membership/${serverId}/membership/`);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));

    // Ana reads #general; nothing is unread.
    const pa = await page();
    await logInViaUi(pa, suite.backend.url, ana);
    await pa.goto(`${suite.backend.url}/servers/${serverId}/channels/${general}`);
    await connected(pa);
    await channelLink(pa, 'random').waitFor();
    await waitForCount(channels(pa).getByRole('img'), 0);
    await pa.waitForTimeout(500); // the personal socket connects and follows the channels

    // Ben writes in #random and mentions her, picking her from the @ list.
    const pb = await page();
    await logInViaUi(pb, suite.backend.url, ben);
    await pb.goto(`${suite.backend.url}/servers/${serverId}/channels/${random}`);
    await connected(pb);
    await composer(pb).pressSequentially(`hey @${ana.slice(0, 6)}`);
    const option = pb.getByRole('listbox', { name: 'People to mention' }).getByRole('option', { name: ana });
    await option.waitFor();
    await screenshot(pb, 'mention-completion-1280');
    await composer(pb).press('Enter');
    assert.equal(await composer(pb).inputValue(), `hey <@${a.id}> `);
    await composer(pb).pressSequentially('look at this');
    await composer(pb).press('Enter');
    await log(pb).getByText(`@${ana}`).waitFor();

    // Ana, still in #general: one unread and one mention on #random and on the server, live.
    const badge = channelLink(pa, 'random').getByRole('img', { name: '1 unread, 1 mention' });
    await badge.waitFor({ timeout: LIVE_MS });
    // The icon's name stays the server's; the counts describe it (hidden words), a red pill shows them.
    await rail(pa).getByText('1 unread, 1 mention').waitFor({ state: 'attached', timeout: LIVE_MS });
    await rail(pa).locator('.badge-mention').getByText('1', { exact: true }).waitFor();
    const described = await rail(pa).getByRole('link', { name: serverName }).getAttribute('aria-describedby');
    assert.ok(described, 'the server in the rail is described by its counts');
    await screenshot(pa, 'unread-mention-1280');

    // She opens it: the message names her, highlighted; the ack clears the badges.
    const acked = pa.waitForResponse(
      (response) => response.url().endsWith(`/api/channels/${random}/ack/`) && response.request().method() === 'POST',
    );
    await channelLink(pa, 'random').click();
    const mention = log(pa).getByText(`@${ana}`);
    await mention.waitFor();
    const highlighted = await log(pa).locator('article.mentioned').filter({ hasText: 'look at this' }).count();
    assert.equal(highlighted, 1, 'the message mentioning her is highlighted');
    const response = await acked;
    assert.equal(response.status(), 200);
    assert.equal((await response.json()).read_seq, 1);
    await waitForCount(channels(pa).getByRole('img'), 0);
    await waitForCount(rail(pa).getByText(/unread/), 0);
    await screenshot(pa, 'unread-cleared-1280');

    // A reload (back in #general) keeps them cleared: the server holds the read state.
    const loaded = pa.waitForResponse((r) => r.url().endsWith('/api/me/unread/') && r.status() === 200);
    await pa.goto(`${suite.backend.url}/servers/${serverId}/channels/${general}`);
    const counts = await (await loaded).json();
    const entry = counts.channels.find((c) => c.channel_id === random);
    assert.deepEqual(
      { read_seq: entry.read_seq, unread_count: entry.unread_count, mention_count: entry.mention_count },
      { read_seq: 1, unread_count: 0, mention_count: 0 },
    );
    await channelLink(pa, 'random').waitFor();
    await connected(pa);
    await waitForCount(channels(pa).getByRole('img'), 0);
    await waitForCount(rail(pa).getByText(/unread/), 0);
  });
});
