import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createThrottle, TypingTracker, typingText } from './typing';

const bob = { id: 2, username: 'bob' };
const carol = { id: 3, username: 'carol' };

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TypingTracker', () => {
  it('shows a typist for 8 s after their last signal', () => {
    const changes: string[] = [];
    const tracker = new TypingTracker((users) => changes.push(typingText(users)));
    tracker.typing(bob);
    expect(tracker.current).toEqual([bob]);
    vi.advanceTimersByTime(7_999);
    expect(tracker.current).toEqual([bob]);
    vi.advanceTimersByTime(1);
    expect(tracker.current).toEqual([]);
    expect(changes).toEqual(['bob is typing…', '']);
  });

  it('renews the 8 s on every signal, without re-announcing', () => {
    const onChange = vi.fn();
    const tracker = new TypingTracker(onChange);
    tracker.typing(bob);
    vi.advanceTimersByTime(5_000);
    tracker.typing(bob);
    vi.advanceTimersByTime(5_000);
    expect(tracker.current).toEqual([bob]);
    expect(onChange).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(3_000);
    expect(tracker.current).toEqual([]);
    expect(onChange).toHaveBeenCalledTimes(2);
  });

  it('expires each typist on their own clock, and forgets one who sent their message', () => {
    const tracker = new TypingTracker(() => undefined);
    tracker.typing(bob);
    vi.advanceTimersByTime(4_000);
    tracker.typing(carol);
    expect(typingText(tracker.current)).toBe('bob and carol are typing…');
    vi.advanceTimersByTime(4_000);
    expect(tracker.current).toEqual([carol]);
    tracker.stopped(carol.id);
    expect(tracker.current).toEqual([]);
  });

  it('dispose() cancels every timer', () => {
    const onChange = vi.fn();
    const tracker = new TypingTracker(onChange);
    tracker.typing(bob);
    tracker.dispose();
    vi.advanceTimersByTime(10_000);
    expect(onChange).toHaveBeenCalledTimes(1);
  });
});

describe('createThrottle', () => {
  it('lets a typing frame through at most every 3 s', () => {
    let now = 0;
    const throttle = createThrottle(3_000, () => now);
    expect(throttle.ready()).toBe(true);
    now = 2_999;
    expect(throttle.ready()).toBe(false);
    now = 3_000;
    expect(throttle.ready()).toBe(true);
    now = 3_001;
    expect(throttle.ready()).toBe(false);
    throttle.reset();
    expect(throttle.ready()).toBe(true);
  });
});

describe('typingText', () => {
  it('names one or two typists, and summarises more', () => {
    expect(typingText([])).toBe('');
    expect(typingText([bob])).toBe('bob is typing…');
    expect(typingText([bob, carol, { id: 4, username: 'dave' }])).toBe('Several people are typing…');
  });
});
