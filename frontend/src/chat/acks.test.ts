import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Acker } from './acks';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

function acker(readSeq = 0, answer?: (seq: number) => Promise<number | void>) {
  const sent: number[] = [];
  const send = vi.fn((seq: number) => {
    sent.push(seq);
    return answer ? answer(seq) : Promise.resolve(seq);
  });
  return { acker: new Acker({ send, readSeq, now: () => Date.now() }), sent };
}

describe('acks', () => {
  it('sends the first at once, then at most one a second, for the highest seq seen', async () => {
    const { acker: a, sent } = acker();
    a.seen(3);
    expect(sent).toEqual([3]);
    await vi.advanceTimersByTimeAsync(10);
    a.seen(4);
    a.seen(6);
    a.seen(5);
    expect(sent).toEqual([3]);
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toEqual([3, 6]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toEqual([3, 6]);
  });

  it('never sends a seq at or below what was acked or known read', async () => {
    const { acker: a, sent } = acker(10);
    a.seen(8);
    a.seen(10);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toEqual([]);
    a.known(15);
    a.seen(14);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toEqual([]);
    a.seen(16);
    expect(sent).toEqual([16]);
    a.seen(16);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toEqual([16]);
  });

  it('takes the read seq the server answers (read further elsewhere)', async () => {
    const { acker: a, sent } = acker(0, async () => 20);
    a.seen(5);
    await vi.advanceTimersByTimeAsync(0);
    expect(a.readSeq).toBe(20);
    a.seen(19);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toEqual([5]);
  });

  it('tries a refused ack again only when seen again, not in a loop', async () => {
    const { acker: a, sent } = acker(0, () => Promise.reject(new Error('429')));
    a.seen(5);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent).toEqual([5]);
    a.seen(5);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([5, 5]);
  });

  it('sends what waits when the chat is left, then nothing', async () => {
    const { acker: a, sent } = acker();
    a.seen(1);
    await vi.advanceTimersByTimeAsync(0);
    a.seen(2);
    a.dispose();
    expect(sent).toEqual([1, 2]);
    a.seen(3);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toEqual([1, 2]);
  });
});
