// "X is typing…": each typing frame shows its user for a while, renewed by the next one.
import type { UserRef } from '../api/types';

export const TYPING_VISIBLE_MS = 8_000;
export const TYPING_SEND_INTERVAL_MS = 3_000;

export class TypingTracker {
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly users = new Map<number, UserRef>();
  private readonly onChange: (users: UserRef[]) => void;
  private readonly visibleMs: number;

  constructor(onChange: (users: UserRef[]) => void, visibleMs = TYPING_VISIBLE_MS) {
    this.onChange = onChange;
    this.visibleMs = visibleMs;
  }

  /** `user` is typing: show them, and forget them `visibleMs` after the last signal. */
  typing(user: UserRef): void {
    const existing = this.timers.get(user.id);
    if (existing !== undefined) clearTimeout(existing);
    const isNew = !this.users.has(user.id);
    this.users.set(user.id, user);
    this.timers.set(
      user.id,
      setTimeout(() => this.stopped(user.id), this.visibleMs),
    );
    if (isNew) this.emit();
  }

  /** `userId` stopped typing (their message arrived, or they left). */
  stopped(userId: number): void {
    const timer = this.timers.get(userId);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(userId);
    if (this.users.delete(userId)) this.emit();
  }

  get current(): UserRef[] {
    return [...this.users.values()];
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.users.clear();
  }

  private emit(): void {
    this.onChange(this.current);
  }
}

/** A gate that opens at most once per `intervalMs`: for sending our own typing frames. */
export function createThrottle(intervalMs = TYPING_SEND_INTERVAL_MS, now: () => number = Date.now) {
  let last = Number.NEGATIVE_INFINITY;
  return {
    /** Whether to act now; if so, starts a new interval. */
    ready(): boolean {
      const t = now();
      if (t - last < intervalMs) return false;
      last = t;
      return true;
    },
    reset(): void {
      last = Number.NEGATIVE_INFINITY;
    },
  };
}

/** The sentence for who is typing, or an empty string. */
export function typingText(users: UserRef[]): string {
  const [first, second] = users;
  if (!first) return '';
  if (users.length === 1) return `${first.username} is typing…`;
  if (users.length === 2 && second) return `${first.username} and ${second.username} are typing…`;
  return 'Several people are typing…';
}
