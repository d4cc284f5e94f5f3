// Telling the server how far a chat was read (`POST .../ack/`), coalesced: at most one request
// per `intervalMs` per chat, always for the highest seq seen, never for one not above what was
// acked already (nor below where the server said the reader stands). Framework-free: the hook
// (useReadAck.ts) gives it the request to make.

export interface AckerOptions {
  /** Makes the request; resolves to the read seq the server now holds (or rejects). */
  send: (seq: number) => Promise<number | void>;
  /** How far the reader is known to have read already (nothing at or below it is sent). */
  readSeq?: number;
  intervalMs?: number;
  now?: () => number;
}

export const ACK_INTERVAL_MS = 1000;

export class Acker {
  private readonly send: AckerOptions['send'];
  private readonly intervalMs: number;
  private readonly now: () => number;
  /** The highest seq sent (or known read): nothing at or below it goes out. */
  private acked: number;
  /** The highest seq seen and not sent yet. */
  private wanted = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private disposed = false;

  constructor({ send, readSeq = 0, intervalMs = ACK_INTERVAL_MS, now = () => Date.now() }: AckerOptions) {
    this.send = send;
    this.acked = readSeq;
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** The highest seq acked or known read. */
  get readSeq(): number {
    return this.acked;
  }

  /** Read elsewhere (another client, a refetch): nothing up to `seq` needs sending. */
  known(seq: number): void {
    if (seq > this.acked) this.acked = seq;
    if (this.wanted <= this.acked) this.wanted = 0;
  }

  /** The reader has seen up to `seq`: ack it now, or at the end of the interval. */
  seen(seq: number): void {
    if (this.disposed || seq <= this.acked || seq <= this.wanted) return;
    this.wanted = seq;
    this.schedule();
  }

  /** Sends what is waiting at once (the chat is being left), then stops. */
  dispose(): void {
    if (this.disposed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.wanted > this.acked && !this.inFlight) this.flush();
    this.disposed = true;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.inFlight) return;
    const wait = this.lastSentAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    const seq = this.wanted;
    if (seq <= this.acked) return;
    this.wanted = 0;
    this.inFlight = true;
    this.lastSentAt = this.now();
    const previous = this.acked;
    this.acked = seq;
    this.send(seq).then(
      (readSeq) => {
        if (typeof readSeq === 'number') this.known(readSeq);
        this.done();
      },
      () => {
        // Not recorded: a later sighting tries again (no retry loop: a refusal would repeat).
        if (this.acked === seq) this.acked = previous;
        this.done();
      },
    );
  }

  private done(): void {
    this.inFlight = false;
    if (!this.disposed && this.wanted > this.acked) this.schedule();
  }
}
