// Reactions to a message: one entry per emoji, in the order they first appeared, each with its
// count and whether I am among them (`me`). History pages bring them; live frames
// (`reaction.added` / `reaction.removed`) and the answers to my own PUT / DELETE bring an emoji's
// count *as it is now*, so a count is always set from what the server said, never incremented:
// the same change heard twice (its frame on two sockets, or a frame and my request's answer)
// leaves the same count.
import type { Reaction } from '../api/types';

/** An emoji's count now (and, when known, whether I am among them). */
export interface ReactionCount {
  emoji: string;
  count: number;
  /** Left out when this news does not say (someone else's reaction). */
  me?: boolean;
}

/** The reactions with one emoji's count set: added at the end if new, dropped at 0. */
export function withReactionCount(reactions: readonly Reaction[] | undefined, change: ReactionCount): Reaction[] {
  const list = reactions ?? [];
  const at = list.findIndex((r) => r.emoji === change.emoji);
  const current = at >= 0 ? list[at] : undefined;
  const me = change.me ?? current?.me ?? false;
  // An entry I am among counts me at least (a count from older news may lag behind my own).
  const count = me ? Math.max(change.count, 1) : change.count;
  if (count <= 0) return at >= 0 ? list.filter((_, i) => i !== at) : [...list];
  const next: Reaction = { emoji: change.emoji, count, me };
  if (at < 0) return [...list, next];
  return list.map((r, i) => (i === at ? next : r));
}

/** Whether I reacted to the message with this emoji. */
export function reactedWith(reactions: readonly Reaction[] | undefined, emoji: string): boolean {
  return reactions?.some((r) => r.emoji === emoji && r.me) ?? false;
}

/** The server's limit of distinct emoji on one message (`409 too_many_reactions` past it). */
export const MAX_DISTINCT_REACTIONS = 20;

/** The picker's emoji, each with a name for screen readers. */
export const COMMON_EMOJI: readonly { emoji: string; name: string }[] = [
  { emoji: '👍', name: 'thumbs up' },
  { emoji: '👎', name: 'thumbs down' },
  { emoji: '❤️', name: 'red heart' },
  { emoji: '😂', name: 'face with tears of joy' },
  { emoji: '😊', name: 'smiling face' },
  { emoji: '😮', name: 'surprised face' },
  { emoji: '😢', name: 'crying face' },
  { emoji: '😡', name: 'angry face' },
  { emoji: '🎉', name: 'party popper' },
  { emoji: '🔥', name: 'fire' },
  { emoji: '👏', name: 'clapping hands' },
  { emoji: '🙏', name: 'folded hands' },
  { emoji: '🤔', name: 'thinking face' },
  { emoji: '👀', name: 'eyes' },
  { emoji: '✅', name: 'check mark' },
  { emoji: '❌', name: 'cross mark' },
  { emoji: '💯', name: 'hundred points' },
  { emoji: '🚀', name: 'rocket' },
  { emoji: '😎', name: 'smiling face with sunglasses' },
  { emoji: '🙌', name: 'raising hands' },
];

/** An emoji's name for screen readers, when the picker knows it. */
export function emojiName(emoji: string): string {
  return COMMON_EMOJI.find((e) => e.emoji === emoji)?.name ?? emoji;
}

/** What a refused reaction is shown as (unobtrusively, under the message). */
export function reactionErrorText(code: string, fallback: string): string {
  switch (code) {
    case 'invalid_emoji':
      return 'That is not an emoji Hearth accepts.';
    case 'too_many_reactions':
      return `A message can have at most ${MAX_DISTINCT_REACTIONS} different reactions.`;
    case 'rate_limited':
      return 'Reacting too fast: wait a moment and try again.';
    case 'not_member':
      return 'Join this server to react.';
    default:
      return fallback;
  }
}
