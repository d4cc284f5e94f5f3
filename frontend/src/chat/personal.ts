// The personal socket (`/ws/me`, one per signed-in client): what is addressed to the user
// (`private_message`, `conversation.added`, `alert`, and the events of their servers) and the
// frames of the conversations it subscribes to. Built on ChatSocket's connection handling
// (backoff with jitter capped at 10 s, 4001 renews the session once, 4009 and anything else
// reconnect); what differs is resuming, in two parts:
// - what is addressed to the user carries `cursor`, its number in the user's event log: the
//   socket keeps the highest one seen (from `ready`, `resync` and those frames) and reconnects
//   with `?after=<it>`, so the server replays what was missed; a frame it already had is dropped.
//   When that `after` cannot be resumed the server says `resync` (the owner reloads over REST)
//   and goes on from the resync's cursor.
// - the subscriptions' frames have no cursor: one `after` (a seq) per subscription instead,
//   sent again on every `ready`.
// Framework-free so it can be tested with a fake WebSocket.
import type { ClientFrame, IncomingFrame } from '../api/types';
import type { components } from '../api/schema';
import { ChatSocket, type ChatSocketOptions, type ConnectionState } from './socket';

export type SubscribeTo = components['schemas']['SubscribeTo'];
export type PersonalClientFrame = components['schemas']['PersonalClientFrame'];

export const PERSONAL_SOCKET_PATH = '/ws/me';
/** The server's limit per socket (also announced in `ready`). */
export const MAX_SUBSCRIPTIONS = 200;

/**
 * The number in the user's event log of a frame addressed to them (`cursor`), if it has one:
 * `ready`, `resync` and the events of the personal feed do; a subscription's frames do not.
 */
export function cursorOf(frame: IncomingFrame): number | undefined {
  // The generated Event types do not list `cursor` (the gateway adds it to what it sends).
  const cursor = (frame as { cursor?: unknown }).cursor;
  return typeof cursor === 'number' && Number.isSafeInteger(cursor) && cursor >= 0 ? cursor : undefined;
}

export interface PersonalSocketOptions
  extends Omit<ChatSocketOptions, 'path' | 'after' | 'resume' | 'connectAfter' | 'onFrame' | 'onOpen'> {
  /**
   * What to follow, most important first (the most recently active conversations), each with
   * the highest seq the caller holds for it. Asked on every `ready` and on `sync()`.
   */
  wanted: () => SubscribeTo[];
  /** Every frame, after the socket noted what it needs (subscriptions, seqs). */
  onFrame: (frame: IncomingFrame) => void;
  /** `ready` arrived; `resumed` is false the first time. */
  onReady?: (resumed: boolean) => void;
  /**
   * `resync` (right after `ready`): the connection's `after` could not be resumed
   * (`cursor_too_old`: pruned from the log; `unknown_cursor`: beyond its end), so what was
   * addressed to the user meanwhile is lost: reload what is cached from it over REST. The
   * socket goes on from the resync's cursor by itself. Called before `onFrame` gets the frame.
   */
  onResync?: (reason: string) => void;
}

export class PersonalSocket {
  private readonly options: PersonalSocketOptions;
  private readonly socket: ChatSocket;
  /** Channels subscribed to on this connection (or asked for and not refused yet). */
  private readonly followed = new Set<number>();
  /** The highest seq seen per channel, across reconnects: where a resubscription resumes. */
  private readonly seen = new Map<number, number>();
  /** The highest event-log cursor seen, across reconnects: the next connection's `?after=`. */
  private lastCursor: number | undefined;
  private limit = MAX_SUBSCRIPTIONS;
  private isReady = false;
  private readies = 0;

  constructor(options: PersonalSocketOptions) {
    this.options = options;
    this.socket = new ChatSocket({
      ...options,
      path: PERSONAL_SOCKET_PATH,
      resume: false,
      connectAfter: () => this.lastCursor,
      onFrame: (frame) => this.handle(frame),
      onStateChange: (state) => {
        if (state !== 'open') {
          this.isReady = false;
          this.followed.clear();
        }
        options.onStateChange?.(state);
      },
    });
  }

  get state(): ConnectionState {
    return this.socket.state;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** The highest cursor of the user's event log seen so far (none before the first `ready`). */
  get cursor(): number | undefined {
    return this.lastCursor;
  }

  /** The channels followed on the current connection. */
  get subscriptions(): number[] {
    return [...this.followed];
  }

  start(): void {
    this.socket.start();
  }

  stop(): void {
    this.socket.stop();
  }

  send(frame: PersonalClientFrame): boolean {
    return this.socket.send(frame as unknown as ClientFrame);
  }

  /** Subscribes to what `wanted()` names and is not followed yet (within the limit). */
  sync(): void {
    this.subscribe(this.options.wanted());
  }

  /** Subscribes to these channels unless followed already; returns the ids asked for. */
  subscribe(channels: SubscribeTo[]): number[] {
    if (!this.isReady) return [];
    const asked: SubscribeTo[] = [];
    for (const channel of channels) {
      if (this.followed.size + asked.length >= this.limit) break;
      if (this.followed.has(channel.id) || asked.some((c) => c.id === channel.id)) continue;
      const after = Math.max(channel.after ?? 0, this.seen.get(channel.id) ?? 0);
      asked.push(after > 0 ? { id: channel.id, after } : { id: channel.id });
    }
    if (asked.length === 0) return [];
    if (!this.send({ type: 'subscribe', channels: asked })) return [];
    for (const channel of asked) this.followed.add(channel.id);
    return asked.map((c) => c.id);
  }

  private handle(frame: IncomingFrame): void {
    const cursor = cursorOf(frame);
    if (frame.type === 'ready' || frame.type === 'resync') {
      // Where this connection stands in the log: the `after` it was opened with (the replay
      // follows) or the log's end; for `resync`, where it goes on from, even if lower than what
      // we had (a log that no longer reaches that far).
      if (cursor !== undefined) this.lastCursor = cursor;
    } else if (cursor !== undefined) {
      // Numbered 1, 2, 3, ... with no gap: one we are past was delivered already.
      if (this.lastCursor !== undefined && cursor <= this.lastCursor) return;
      this.lastCursor = cursor;
    }
    switch (frame.type) {
      case 'ready':
        this.isReady = true;
        this.followed.clear();
        this.limit = Math.min(MAX_SUBSCRIPTIONS, frame.max_subscriptions || MAX_SUBSCRIPTIONS);
        this.options.onReady?.(this.readies > 0);
        this.readies += 1;
        this.sync();
        break;
      case 'resync':
        this.options.onResync?.(frame.reason);
        break;
      case 'chat.message': {
        const { channel_id, seq } = frame.new_message;
        this.seen.set(channel_id, Math.max(this.seen.get(channel_id) ?? 0, seq));
        break;
      }
      case 'subscribed':
        this.followed.add(frame.channel_id);
        this.seen.set(frame.channel_id, Math.max(this.seen.get(frame.channel_id) ?? 0, frame.last_seq));
        break;
      case 'unsubscribed':
        this.followed.delete(frame.channel_id);
        if (frame.reason === 'not_found') this.seen.delete(frame.channel_id);
        break;
      default:
        break;
    }
    this.options.onFrame(frame);
    if (frame.type === 'conversation.added') this.subscribe([{ id: frame.conversation_id }]);
  }
}
