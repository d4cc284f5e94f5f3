import { describe, expect, it } from 'vitest';
import { excerptText, loadUntil, previewOf } from './replies';

describe('replies', () => {
  it('previews the first 100 characters, counting emoji as one', () => {
    const content = '🔥'.repeat(120);
    const preview = previewOf({ id: 5, sender: 'alice', sender_id: 1, content });
    expect([...(preview.content ?? '')]).toHaveLength(100);
    expect(preview).toMatchObject({ id: 5, sender: 'alice', deleted: false });
  });

  it('reads mention tokens as names in an excerpt', () => {
    expect(excerptText('hi <@3>,\n  and <@!4>', [{ id: 3, username: 'bob' }])).toBe('hi @bob, and @someone');
  });

  it('loads older pages until the message is there, the beginning is reached, or too many were read', async () => {
    let pages = 0;
    const found = await loadUntil(() => pages === 2, () => true, async () => void (pages += 1));
    expect(found).toBe('found');
    expect(pages).toBe(2);
    pages = 0;
    expect(await loadUntil(() => false, () => pages < 1, async () => void (pages += 1))).toBe('missing');
    pages = 0;
    expect(await loadUntil(() => false, () => true, async () => void (pages += 1), 3)).toBe('too_far');
    expect(pages).toBe(3);
  });
});
