// Swagger UI works under its Content Security Policy, and "Try it out" reaches the API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, newPage, screenshot, startBackend } from './harness.mjs';

describe('API documentation', { timeout: 120_000 }, () => {
  let backend;
  let browser;

  before(async () => {
    backend = await startBackend({ name: 'docs-backend' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('Swagger UI renders the spec and runs a request, with no CSP violation', async () => {
    const page = await newPage(browser, { colorScheme: 'light' });
    const response = await page.goto(`${backend.url}/api/docs/`);
    assert.ok(response?.ok(), `status ${response?.status()}`);
    const csp = (await response.allHeaders())['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    await page.getByRole('heading', { name: /Hearth/ }).first().waitFor();
    const operation = page.locator('#operations-catalogue-list_categories');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    await operation.locator('.responses-table .response-col_status').filter({ hasText: '200' }).first().waitFor();
    await screenshot(page, 'swagger-ui');
    assert.deepEqual(page.errors.map(String), []);
  });
});
