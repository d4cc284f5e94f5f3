import { describe, expect, it } from 'vitest';
import { reactedWith, reactionErrorText, withReactionCount } from './reactions';

describe('withReactionCount', () => {
  it('adds a new emoji at the end, replaces a known one in place and drops it at zero', () => {
    let list = withReactionCount(undefined, { emoji: '👍', count: 1, me: true });
    list = withReactionCount(list, { emoji: '🔥', count: 2 });
    list = withReactionCount(list, { emoji: '👍', count: 3 });
    expect(list).toEqual([
      { emoji: '👍', count: 3, me: true },
      { emoji: '🔥', count: 2, me: false },
    ]);
    expect(reactedWith(list, '👍')).toBe(true);
    expect(reactedWith(list, '🔥')).toBe(false);
    expect(withReactionCount(list, { emoji: '👍', count: 0, me: false })).toEqual([{ emoji: '🔥', count: 2, me: false }]);
  });

  it('counts me at least once while I am among them', () => {
    expect(withReactionCount([], { emoji: '👀', count: 0, me: true })).toEqual([{ emoji: '👀', count: 1, me: true }]);
  });
});

describe('reactionErrorText', () => {
  it('says what the documented refusals mean', () => {
    expect(reactionErrorText('too_many_reactions', 'x')).toMatch(/at most 20/);
    expect(reactionErrorText('rate_limited', 'x')).toMatch(/too fast/);
    expect(reactionErrorText('invalid_emoji', 'x')).toMatch(/not an emoji/);
    expect(reactionErrorText('something_else', 'The server said no')).toBe('The server said no');
  });
});
