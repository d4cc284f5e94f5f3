// The conversation features in real browsers, two people in one server: a reaction counted
// live for the other, a reply quoting its original (and jumping to it), a pin listed live in
// the other's pins panel, and a search hit that opens its channel on the message; then the
// same two in a conversation, where either may pin and search looks everywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  account,
  api,
  browserSuite,
  chatScreen,
  logInViaUi,
  registerViaApi,
  screenshot,
  uniqueName,
} from './harness.mjs';

/** Without polling, only the channel's socket can bring a change this fast. */
const LIVE_MS = 5_000;

describe('reactions, replies, pins and search in the browser', { timeout: 240_000 }, () => {
  const suite = browserSuite('conversation-backend');
  const page = (options) => suite.page(options);
  const { log, composer, connected } = chatScreen;

  const article = (p, id) => p.locator(`article#message-${id}`);
  /** A message posted over REST, at the pace the server's rate limit allows. */
  async function post(token, channelId, content) {
    for (;;) {
      const sent = await api(suite.backend.url, token, 'POST', `/api/channels/${channelId}/messages/`, { content });
      if (sent.status !== 429) {
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        return sent.body;
      }
      await sleep(sent.body.retry_after ?? 100);
    }
  }
  /** Hover actions appear over a message only while the pointer (or focus) is on it. */
  async function act(p, id, name) {
    await article(p, id).hover();
    await article(p, id).getByRole('button', { name }).click();
  }

  it('reacts, replies, pins and finds, live for the other', async () => {
    const ana = uniqueName('ana');
    const ben = uniqueName('ben');
    await registerViaApi(suite.backend.url, ana);
    await registerViaApi(suite.backend.url, ben);
    const a = await account(suite.backend.url, ana);
    const b = await account(suite.backend.url, ben);
    const created = await api(suite.backend.url, a.token, 'POST', '/api/servers/', {
      name: `Brunch ${ana.slice(-4)}`,
      category: 'music',
      description: 'Weekend plans',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const serverId = created.body.id;
    const general = created.body.channel_server[0].id;
    const second = await api(suite.backend.url, a.token, 'POST', `/api/servers/${serverId}/channels/`, { name: 'random' });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const random = second.body.id;
    const joined = await api(suite.backend.url, b.token, 'POST', `/api/membership/${serverId}/membership/`);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const posted = await api(suite.backend.url, a.token, 'POST', `/api/channels/${general}/messages/`, {
      content: 'Pancakes by the lake on Sunday?',
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const original = posted.body.id;

    const pa = await page();
    await logInViaUi(pa, suite.backend.url, ana);
    await pa.goto(`${suite.backend.url}/servers/${serverId}/channels/${general}`);
    await connected(pa);
    const pb = await page();
    await logInViaUi(pb, suite.backend.url, ben);
    await pb.goto(`${suite.backend.url}/servers/${serverId}/channels/${general}`);
    await connected(pb);
    await article(pb, original).waitFor();

    // Ben reacts with the picker; Ana sees the count live, not as hers.
    await act(pb, original, 'Add a reaction');
    await pb.getByRole('group', { name: 'Pick a reaction' }).getByRole('button', { name: 'thumbs up' }).click();
    const bensThumb = article(pb, original).getByRole('button', { name: 'thumbs up: 1 reaction, including you' });
    await bensThumb.waitFor();
    assert.equal(await bensThumb.getAttribute('aria-pressed'), 'true');
    const anasThumb = article(pa, original).getByRole('button', { name: 'thumbs up: 1 reaction' });
    await anasThumb.waitFor({ timeout: LIVE_MS });
    assert.equal(await anasThumb.getAttribute('aria-pressed'), 'false');
    // She adds hers by pressing it: two for both of them.
    await anasThumb.click();
    await article(pa, original).getByRole('button', { name: 'thumbs up: 2 reactions, including you' }).waitFor();
    await article(pb, original).getByRole('button', { name: 'thumbs up: 2 reactions, including you' }).waitFor({ timeout: LIVE_MS });
    await screenshot(pb, 'reactions-1280');

    // Ben answers her message: the composer says what he answers, the reply quotes it.
    const replyBar = pb.getByRole('status').filter({ hasText: `Replying to ${ana}` });
    await act(pb, original, 'Reply to this message');
    await replyBar.waitFor();
    // Focus is in the composer; Escape changes his mind, Reply again brings it back.
    await composer(pb).press('Escape');
    await replyBar.waitFor({ state: 'detached' });
    await act(pb, original, 'Reply to this message');
    await replyBar.waitFor();
    await composer(pb).fill('Count me in');
    await composer(pb).press('Enter');
    const quoteName = new RegExp(`^Replying to ${ana}: Pancakes by the lake on Sunday\\?\\. Go to that message$`);
    await log(pb).getByRole('button', { name: quoteName }).waitFor();
    assert.equal(await pb.getByText(`Replying to ${ana}`, { exact: false }).count(), 0, 'the reply bar is gone once sent');
    const quote = log(pa).getByRole('button', { name: quoteName });
    await quote.waitFor({ timeout: LIVE_MS });
    await screenshot(pa, 'reply-1280');
    // Clicking the quote jumps to the original: highlighted, and focused.
    await quote.click();
    await pa.locator(`article#message-${original}.jumped`).waitFor();
    assert.equal(await pa.evaluate(() => document.activeElement?.id), `message-${original}`);

    // Ben watches the pins; Ana (the owner) pins her message; his panel lists it live.
    await pb.getByRole('button', { name: 'Pinned messages' }).click();
    const bensPins = pb.getByRole('region', { name: 'Pinned messages' });
    await bensPins.getByText('Nothing is pinned here yet.').waitFor();
    await act(pa, original, 'Pin message');
    await bensPins.getByRole('button', { name: /Pancakes by the lake on Sunday\?/ }).waitFor({ timeout: LIVE_MS });
    await article(pb, original).getByText('(pinned)').waitFor({ state: 'attached' });
    await screenshot(pb, 'pins-1280');
    // A pin jumps to its message; Escape closes the panel, focus back on its button.
    await bensPins.getByRole('button', { name: /Pancakes by the lake on Sunday\?/ }).click();
    await pb.locator(`article#message-${original}.jumped`).waitFor();
    await bensPins.getByRole('button', { name: /Pancakes by the lake on Sunday\?/ }).focus();
    await pb.keyboard.press('Escape');
    await bensPins.waitFor({ state: 'detached' });
    const pinsToggle = pb.getByRole('button', { name: 'Pinned messages' });
    assert.equal(await pinsToggle.evaluate((button) => button === document.activeElement), true);
    assert.equal(await pinsToggle.getAttribute('aria-expanded'), 'false');

    // Ana goes to #random while #general moves on: her message falls out of its newest page.
    await pa.goto(`${suite.backend.url}/servers/${serverId}/channels/${random}`);
    for (let n = 1; n <= 55; n += 1) await post(b.token, general, `later news ${n}`);

    // She searches; the hit opens #general, older history is read until the message is there.
    await connected(pa);
    await pa.getByRole('button', { name: 'Search messages' }).click();
    const search = pa.getByRole('region', { name: 'Search messages' });
    await search.getByRole('searchbox', { name: 'Search messages' }).fill('lake');
    await search.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
    const hit = search.getByRole('list', { name: 'Search results' }).getByRole('button').first();
    await hit.waitFor();
    assert.equal(await hit.locator('mark').first().textContent(), 'lake');
    assert.match(await hit.textContent(), /#general/);
    await screenshot(pa, 'search-1280');
    const older = pa.waitForResponse((r) => r.url().includes(`/api/channels/${general}/messages/?`) && r.url().includes('before='));
    await hit.click();
    await pa.waitForURL(`${suite.backend.url}/servers/${serverId}/channels/${general}`);
    assert.equal((await older).status(), 200);
    await pa.locator(`article#message-${original}.jumped`).waitFor();
    assert.ok(await article(pa, original).isVisible());
    await screenshot(pa, 'search-jump-1280');

    // In their conversation, anyone may pin: Ben pins Ana's message, her panel lists it live.
    const opened = await api(suite.backend.url, a.token, 'POST', '/api/dms/', { user_id: b.id });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const dm = opened.body.id;
    await pa.goto(`${suite.backend.url}/dms/${dm}`);
    await connected(pa);
    await pb.goto(`${suite.backend.url}/dms/${dm}`);
    await connected(pb);
    const waffles = await api(suite.backend.url, a.token, 'POST', `/api/dms/${dm}/messages/`, { content: 'Or waffles at home?' });
    assert.equal(waffles.status, 201, JSON.stringify(waffles.body));
    await article(pb, waffles.body.id).waitFor({ timeout: LIVE_MS });
    await pa.getByRole('button', { name: 'Pinned messages' }).click();
    const anasPins = pa.getByRole('region', { name: 'Pinned messages' });
    await anasPins.getByText('Nothing is pinned here yet.').waitFor();
    await act(pb, waffles.body.id, 'Pin message');
    await anasPins.getByRole('button', { name: /Or waffles at home\?/ }).waitFor({ timeout: LIVE_MS });
    await article(pb, waffles.body.id).getByText('(pinned)').waitFor({ state: 'attached' });

    // From the conversation, search looks everywhere; the hit stays in it and lands on the message.
    await pb.getByRole('button', { name: 'Search messages' }).click();
    const dmSearch = pb.getByRole('region', { name: 'Search messages' });
    const box = dmSearch.getByRole('searchbox', { name: 'Search messages' });
    assert.equal(await box.getAttribute('placeholder'), 'Search all your chats');
    await box.fill('waffles');
    await box.press('Enter');
    const dmHit = dmSearch.getByRole('list', { name: 'Search results' }).getByRole('button').first();
    await dmHit.waitFor();
    await dmHit.click();
    await pb.locator(`article#message-${waffles.body.id}.jumped`).waitFor();
    assert.equal(new URL(pb.url()).pathname, `/dms/${dm}`);
  });
});
