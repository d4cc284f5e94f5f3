// The personal socket (`/ws/me`, one per signed-in client): what is addressed to the user
// (`private_message`, `conversation.added`) and the frames of the conversations it subscribes
// to. Built on ChatSocket's connection handling (backoff with jitter capped at 10 s, 4001 renews
// the session once, 4009 and anything else reconnect); what differs is resuming: not one
// `?after=` for the socket but one `after` per subscription, sent again on every `ready`.
// Framework-free so it can be tested with a fake WebSocket.
import type { ClientFrame, IncomingFrame } from '../api/types';
import type { components } from '../api/schema';
import { ChatSocket, type ChatSocketOptions, type ConnectionState } from './socket';

export type SubscribeTo = components['schemas']['SubscribeTo'];
export type PersonalClientFrame = components['schemas']['PersonalClientFrame'];

export const PERSONAL_SOCKET_PATH = '/ws/me';
/** The server's limit per socket (also announced in `ready`). */
export const MAX_SUBSCRIPTIONS = 200;

export interface PersonalSocketOptions
  extends Omit<ChatSocketOptions, 'path' | 'after' | 'resume' | 'onFrame' | 'onOpen'> {
  /**
   * What to follow, most important first (the most recently active conversations), each with
   * the highest seq the caller holds for it. Asked on every `ready` and on `sync()`.
   */
  wanted: () => SubscribeTo[];
  /** Every frame, after the socket noted what it needs (subscriptions, seqs). */
  onFrame: (frame: IncomingFrame) => void;
  /** `ready` arrived; `resumed` is false the first time. */
  onReady?: (resumed: boolean) => void;
}

export class PersonalSocket {
  private readonly options: PersonalSocketOptions;
  private readonly socket: ChatSocket;
  /** Channels subscribed to on this connection (or asked for and not refused yet). */
  private readonly followed = new Set<number>();
  /** The highest seq seen per channel, across reconnects: where a resubscription resumes. */
  private readonly seen = new Map<number, number>();
  private limit = MAX_SUBSCRIPTIONS;
  private isReady = false;
  private readies = 0;

  constructor(options: PersonalSocketOptions) {
    this.options = options;
    this.socket = new ChatSocket({
      ...options,
      path: PERSONAL_SOCKET_PATH,
      resume: false,
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
    switch (frame.type) {
      case 'ready':
        this.isReady = true;
        this.followed.clear();
        this.limit = Math.min(MAX_SUBSCRIPTIONS, frame.max_subscriptions || MAX_SUBSCRIPTIONS);
        this.options.onReady?.(this.readies > 0);
        this.readies += 1;
        this.sync();
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
