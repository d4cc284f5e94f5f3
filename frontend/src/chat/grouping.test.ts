import { describe, expect, it } from 'vitest';
import { dayLabel, GROUP_WINDOW_MS, groupByAuthor, localDayKey, type LogEntry, type Placed } from './grouping';

// Times are built in the local time zone, so the tests hold wherever they run.
const at = (day: number, hour: number, minute: number) => new Date(2025, 0, day, hour, minute).getTime();

interface Item {
  id: number;
  senderId: number;
  time: number;
}
const place = (item: Item): Placed => ({ senderId: item.senderId, time: item.time });

/** `day:<key>` for separators, `<id>` for heads, `<id>+` for continuations. */
function shape(entries: LogEntry<Item>[]): string[] {
  return entries.map((e) => (e.kind === 'day' ? `day:${e.key}` : `${e.item.id}${e.head ? '' : '+'}`));
}

describe('groupByAuthor', () => {
  it('groups consecutive messages of one author within 7 minutes', () => {
    const items: Item[] = [
      { id: 1, senderId: 1, time: at(1, 10, 0) },
      { id: 2, senderId: 1, time: at(1, 10, 3) },
      { id: 3, senderId: 1, time: at(1, 10, 10) },
      { id: 4, senderId: 2, time: at(1, 10, 11) },
      { id: 5, senderId: 1, time: at(1, 10, 12) },
    ];
    expect(shape(groupByAuthor(items, place))).toEqual(['day:2025-01-01', '1', '2+', '3+', '4', '5']);
  });

  it('starts a new group after more than the window, and on the exact window still continues', () => {
    const start = at(1, 9, 0);
    const items: Item[] = [
      { id: 1, senderId: 1, time: start },
      { id: 2, senderId: 1, time: start + GROUP_WINDOW_MS },
      { id: 3, senderId: 1, time: start + 2 * GROUP_WINDOW_MS + 1 },
    ];
    expect(shape(groupByAuthor(items, place))).toEqual(['day:2025-01-01', '1', '2+', '3']);
  });

  it('puts a separator before each new day, which also breaks a group', () => {
    const items: Item[] = [
      { id: 1, senderId: 1, time: at(1, 23, 58) },
      { id: 2, senderId: 1, time: at(2, 0, 1) },
      { id: 3, senderId: 1, time: at(2, 0, 2) },
      { id: 4, senderId: 2, time: at(5, 12, 0) },
    ];
    expect(shape(groupByAuthor(items, place))).toEqual([
      'day:2025-01-01',
      '1',
      'day:2025-01-02',
      '2',
      '3+',
      'day:2025-01-05',
      '4',
    ]);
    const separator = groupByAuthor(items, place)[2];
    expect(separator?.kind === 'day' && separator.day.getTime()).toBe(new Date(2025, 0, 2).getTime());
  });

  it('never continues a group across unknown times or time going backwards', () => {
    const items: Item[] = [
      { id: 1, senderId: 1, time: at(1, 10, 5) },
      { id: 2, senderId: 1, time: Number.NaN },
      { id: 3, senderId: 1, time: at(1, 10, 6) },
      { id: 4, senderId: 1, time: at(1, 10, 1) },
    ];
    expect(shape(groupByAuthor(items, place))).toEqual(['day:2025-01-01', '1', '2', '3', '4']);
  });

  it('returns nothing for nothing', () => {
    expect(groupByAuthor([], place)).toEqual([]);
  });
});

describe('dayLabel', () => {
  const now = new Date(2025, 5, 15, 18, 30);
  it('says Today and Yesterday, and spells out other days', () => {
    expect(dayLabel(new Date(2025, 5, 15), now)).toBe('Today');
    expect(dayLabel(new Date(2025, 5, 14), now)).toBe('Yesterday');
    expect(dayLabel(new Date(2025, 5, 1), now)).toMatch(/2025/);
  });

  it('keys days by the local calendar date', () => {
    expect(localDayKey(at(9, 0, 0))).toBe('2025-01-09');
    expect(localDayKey(at(9, 23, 59))).toBe('2025-01-09');
  });
});
