// Replies: a message may answer another of its chat (`reply_to`), and then carries a preview of
// it (`reply`: author and first 100 characters, or `deleted`), kept current by the server. The
// preview is stored with the reply, so a deletion or an edit of the original seen live is
// applied to the replies we hold too (the server sends no frame for them).
import type { ChatMessage, ReplyPreview, UserRef } from '../api/types';

/** How much of the original the server keeps in a preview (characters, not UTF-16 units). */
export const PREVIEW_CHARS = 100;

/** The preview of `message` a reply to it shows. */
export function previewOf(message: Pick<ChatMessage, 'id' | 'sender' | 'sender_id' | 'content'>): ReplyPreview {
  return {
    id: message.id,
    sender: message.sender,
    sender_id: message.sender_id,
    content: [...message.content].slice(0, PREVIEW_CHARS).join(''),
    deleted: false,
  };
}

/** What the message answering `reply` shows of it now that the original was deleted. */
export function deletedPreview(reply: ReplyPreview): ReplyPreview {
  return { id: reply.id, deleted: true };
}

/**
 * An excerpt's text to read: mention tokens as "@name" when the original (if we hold it)
 * names them, else "@someone"; white space runs as one space.
 */
export function excerptText(content: string, mentions?: readonly UserRef[]): string {
  const names = new Map((mentions ?? []).map((u) => [u.id, u.username]));
  return content
    .replace(/<@!?(\d{1,18})>/g, (_, id: string) => `@${names.get(Number(id)) ?? 'someone'}`)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The message we are about to answer, as the composer shows it. */
export interface ReplyTarget {
  id: number;
  preview: ReplyPreview;
}

/** How many older pages a jump to an original that is not loaded reads before giving up. */
export const JUMP_MAX_PAGES = 5;

export type JumpOutcome = 'found' | 'missing' | 'too_far';

/**
 * Loads older pages until `has()` holds, the beginning is reached (`missing`: the message is
 * not, or no longer, in this chat) or `maxPages` were read (`too_far`). A failed page throws.
 */
export async function loadUntil(
  has: () => boolean,
  hasOlder: () => boolean,
  loadOlder: () => Promise<unknown>,
  maxPages = JUMP_MAX_PAGES,
): Promise<JumpOutcome> {
  for (let page = 0; ; page += 1) {
    if (has()) return 'found';
    if (!hasOlder()) return 'missing';
    if (page >= maxPages) return 'too_far';
    await loadOlder();
  }
}
