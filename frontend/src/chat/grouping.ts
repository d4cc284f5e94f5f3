// How a message list reads: consecutive messages of one author within a few minutes form a
// group (the name and time are shown once, at its head), and each calendar day (the reader's
// time zone) opens with a separator. Pure, so it is tested without rendering.

/** Messages of the same author this close to the previous one continue its group. */
export const GROUP_WINDOW_MS = 7 * 60_000;

export interface Placed {
  senderId: number;
  /** Milliseconds since the epoch; NaN when unknown. */
  time: number;
}

export type LogEntry<T> =
  | { kind: 'day'; key: string; /** Local midnight of that day. */ day: Date }
  | { kind: 'item'; item: T; /** The first of its group: shows the author and the time. */ head: boolean };

/** `YYYY-MM-DD` of a moment in the local time zone. */
export function localDayKey(time: number): string {
  const d = new Date(time);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function groupByAuthor<T>(
  items: readonly T[],
  place: (item: T) => Placed,
  windowMs: number = GROUP_WINDOW_MS,
): LogEntry<T>[] {
  const entries: LogEntry<T>[] = [];
  let previous: Placed | null = null;
  let day: string | null = null;
  for (const item of items) {
    const here = place(item);
    const known = Number.isFinite(here.time);
    let newDay = false;
    if (known) {
      const key = localDayKey(here.time);
      if (key !== day) {
        day = key;
        newDay = true;
        const date = new Date(here.time);
        entries.push({ kind: 'day', key, day: new Date(date.getFullYear(), date.getMonth(), date.getDate()) });
      }
    }
    const continues =
      previous !== null &&
      !newDay &&
      known &&
      Number.isFinite(previous.time) &&
      previous.senderId === here.senderId &&
      here.time - previous.time >= 0 &&
      here.time - previous.time <= windowMs;
    entries.push({ kind: 'item', item, head: !continues });
    previous = here;
  }
  return entries;
}

const fullDay = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

/** "Today", "Yesterday", or the date spelt out. */
export function dayLabel(day: Date, now: Date = new Date()): string {
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (day.getTime() === today.getTime()) return 'Today';
  if (day.getTime() === yesterday.getTime()) return 'Yesterday';
  return fullDay.format(day);
}
