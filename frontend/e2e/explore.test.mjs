// A catalogue of more than one page: the explore page shows the first 24 servers, then the rest
// when scrolled to the end (or, without IntersectionObserver, on "Load more servers"), each once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  api,
  bearerToken,
  launchBrowser,
  logInViaUi,
  newPage,
  registerViaApi,
  screenshot,
  startBackend,
  uniqueName,
  waitForCount,
} from './harness.mjs';

const PAGE = 24; // SERVERS_PAGE in src/api/queries.ts
const CREATED = 30;
const CATEGORY = 'gaming';

describe('exploring a catalogue of many servers', { timeout: 180_000 }, () => {
  let backend;
  let browser;
  const pages = [];
  /** Every server's name, by id (the order of the catalogue), and those of CATEGORY. */
  let everyName;
  let categoryNames;

  before(async () => {
    backend = await startBackend({ name: 'explore-backend' });
    browser = await launchBrowser();
    const base = backend.url;
    const maker = uniqueName('maker');
    await registerViaApi(base, maker);
    const token = await bearerToken(base, maker);
    for (let i = 1; i <= CREATED; i += 1) {
      const created = await api(base, token, 'POST', '/api/servers/', {
        name: `Catalogue ${String(i).padStart(2, '0')}`,
        category: CATEGORY,
        description: 'One of many',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    const all = await api(base, token, 'GET', '/api/servers/?limit=100');
    assert.equal(all.status, 200, JSON.stringify(all.body));
    everyName = all.body.map((s) => s.name);
    categoryNames = all.body.filter((s) => s.category === CATEGORY).map((s) => s.name);
    // More than a page in all and in the category; not a whole number of pages.
    assert.ok(everyName.length > PAGE && everyName.length < 2 * PAGE, `${everyName.length} servers`);
    assert.ok(categoryNames.length > PAGE && categoryNames.length < 2 * PAGE, `${categoryNames.length} in ${CATEGORY}`);
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

  const cards = (p) => p.getByRole('main').locator('.server-grid .card-name');
  const moreButton = (p) => p.getByRole('button', { name: 'Load more servers' });

  it('shows the first 24 servers, and the rest when scrolled to the end, each once', async () => {
    const base = backend.url;
    const reader = uniqueName('reader');
    await registerViaApi(base, reader);
    const p = await page();
    await logInViaUi(p, base, reader);
    await waitForCount(cards(p), PAGE);
    await moreButton(p).waitFor();
    // The end of the grid is out of view: nothing more comes on its own.
    await p.waitForTimeout(500);
    assert.equal(await cards(p).count(), PAGE);
    assert.deepEqual(await cards(p).allTextContents(), everyName.slice(0, PAGE));

    await p.getByRole('region', { name: 'Explore' }).evaluate((content) => content.scrollTo(0, content.scrollHeight));
    await waitForCount(cards(p), everyName.length);
    assert.deepEqual(await cards(p).allTextContents(), everyName, 'each server once, in order');
    // The second page was shorter than 24: the last.
    await waitForCount(moreButton(p), 0);
  });

  it('loads a category page by page on "Load more servers" where there is no IntersectionObserver', async () => {
    const p = await page();
    await p.addInitScript(() => {
      delete window.IntersectionObserver;
    });
    // A visitor: the catalogue is public.
    await p.goto(`${backend.url}/explore/${CATEGORY}`);
    await p.getByRole('heading', { level: 1, name: `Explore: ${CATEGORY}` }).waitFor();
    await waitForCount(cards(p), PAGE);
    assert.deepEqual(await cards(p).allTextContents(), categoryNames.slice(0, PAGE));

    await p.getByRole('region', { name: 'Explore' }).evaluate((content) => content.scrollTo(0, content.scrollHeight));
    await p.waitForTimeout(500);
    assert.equal(await cards(p).count(), PAGE, 'loaded without being asked');
    await screenshot(p, 'explore-load-more');

    await moreButton(p).click();
    await waitForCount(cards(p), categoryNames.length);
    assert.deepEqual(await cards(p).allTextContents(), categoryNames, 'each server once, in order');
    await waitForCount(moreButton(p), 0);
    // The keyboard goes on from the first server the button added.
    const focused = await p.evaluate(() => document.activeElement?.querySelector('.card-name')?.textContent);
    assert.equal(focused, categoryNames[PAGE]);
  });
});
