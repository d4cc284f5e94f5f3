// Mentions, written `<@user_id>` in a message's content (Discord's form; `<@!user_id>` too).
// The server resolves them (`mentions` on the message: the users named who can read the
// channel); here we only split the text around them and help the composer write them.
import type { UserRef } from '../api/types';

export type ContentPart = { kind: 'text'; text: string } | { kind: 'mention'; user: UserRef; raw: string };

const TOKEN = /<@!?(\d{1,18})>/g;

/**
 * The content split into text and mentions; a token naming someone not in `mentions` (no such
 * user, or one who cannot read the channel) stays text, as written.
 */
export function splitMentions(content: string, mentions: readonly UserRef[] | undefined): ContentPart[] {
  if (!mentions || mentions.length === 0 || !content.includes('<@')) return content ? [{ kind: 'text', text: content }] : [];
  const byId = new Map(mentions.map((user) => [user.id, user]));
  const parts: ContentPart[] = [];
  let text = '';
  let at = 0;
  for (const match of content.matchAll(TOKEN)) {
    const user = byId.get(Number(match[1]));
    if (!user) continue;
    text += content.slice(at, match.index);
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push({ kind: 'mention', user, raw: match[0] });
    at = match.index + match[0].length;
  }
  text += content.slice(at);
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

/** Whether the message names this user (as the server resolved it). */
export function mentionsUser(mentions: readonly UserRef[] | undefined, userId: number): boolean {
  return mentions?.some((user) => user.id === userId) ?? false;
}

/** The token that mentions `userId`. */
export function mentionToken(userId: number): string {
  return `<@${userId}>`;
}

export interface MentionQuery {
  /** Where the `@` is. */
  start: number;
  /** The letters typed after it, so far. */
  query: string;
}

/**
 * The `@name` being typed just before the caret, if any: an `@` at the start or after a space,
 * then name characters up to the caret.
 */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([\w.-]{0,32})$/.exec(before);
  if (!match) return null;
  const query = match[2] ?? '';
  return { start: caret - query.length - 1, query };
}

/** The people whose name starts with the query (then those containing it), by name, at most `limit`. */
export function matchPeople(people: readonly UserRef[], query: string, limit = 8): UserRef[] {
  const q = query.toLowerCase();
  const seen = new Set<number>();
  const starts: UserRef[] = [];
  const contains: UserRef[] = [];
  for (const person of people) {
    if (seen.has(person.id)) continue;
    seen.add(person.id);
    const name = person.username.toLowerCase();
    if (name.startsWith(q)) starts.push(person);
    else if (q && name.includes(q)) contains.push(person);
  }
  const byName = (a: UserRef, b: UserRef) => a.username.localeCompare(b.username);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, limit);
}

/** The text with `@query` replaced by the person's token and a space; where the caret goes. */
export function insertMention(text: string, at: MentionQuery, caret: number, userId: number): { text: string; caret: number } {
  const token = `${mentionToken(userId)} `;
  const after = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, at.start) + token + after, caret: at.start + token.length };
}
