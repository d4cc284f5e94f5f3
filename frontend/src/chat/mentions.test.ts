import { describe, expect, it } from 'vitest';
import { insertMention, matchPeople, mentionQueryAt, mentionsUser, splitMentions } from './mentions';

const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };
const albert = { id: 3, username: 'albert' };

describe('mentions in a message', () => {
  it('splits the content around the tokens of the people it mentions', () => {
    expect(splitMentions('hi <@1> and <@!2>!', [alice, bob])).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', user: alice, raw: '<@1>' },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', user: bob, raw: '<@!2>' },
      { kind: 'text', text: '!' },
    ]);
  });

  it('leaves a token of someone not in mentions as it was written', () => {
    expect(splitMentions('<@9> <@1>', [alice])).toEqual([
      { kind: 'text', text: '<@9> ' },
      { kind: 'mention', user: alice, raw: '<@1>' },
    ]);
    expect(splitMentions('plain <@1>', undefined)).toEqual([{ kind: 'text', text: 'plain <@1>' }]);
  });

  it('knows whether it mentions me', () => {
    expect(mentionsUser([alice, bob], 2)).toBe(true);
    expect(mentionsUser([alice], 2)).toBe(false);
    expect(mentionsUser(undefined, 2)).toBe(false);
  });
});

describe('@ completion', () => {
  it('finds the @name being typed before the caret', () => {
    expect(mentionQueryAt('hello @al', 9)).toEqual({ start: 6, query: 'al' });
    expect(mentionQueryAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQueryAt('mail@al', 7)).toBeNull();
    expect(mentionQueryAt('@al done', 8)).toBeNull();
  });

  it('lists names starting with it first, then containing it', () => {
    expect(matchPeople([bob, albert, alice], 'al')).toEqual([albert, alice]);
    expect(matchPeople([bob, albert, alice], 'B')).toEqual([bob, albert]);
    expect(matchPeople([bob, alice, bob], '')).toEqual([alice, bob]);
  });

  it('replaces @name with the token and a space, the caret after it', () => {
    const text = 'hi @al, ok';
    expect(insertMention(text, { start: 3, query: 'al' }, 6, 1)).toEqual({ text: 'hi <@1> , ok', caret: 8 });
    expect(insertMention('hi @al', { start: 3, query: 'al' }, 6, 1)).toEqual({ text: 'hi <@1> ', caret: 8 });
  });
});
