// One chat's live socket (a server channel's or a conversation's: the protocol is the same):
// connects with cookie auth, resumes with `?after=<last seq>`, reconnects with capped
// exponential backoff and jitter, renews the session once on 4001 and gives up on 4004, and
// for good after `account.deleted` (the account is gone: its tokens no longer work).
// Framework-free so it can be tested with a fake WebSocket.
import type { ClientFrame, IncomingFrame } from '../api/types';

export type ConnectionState =
  | 'connecting'
  | 'open'
  | 'reconnecting'
  /** 4001 and the session could not be renewed, or the account was deleted (`account.deleted`). */
  | 'unauthorized'
  /** 4004: the server, channel or conversation does not exist (any more), or we left it. */
  | 'gone'
  | 'closed';

/** The close codes the gateway documents (docs/websocket.md). */
export const CloseCode = {
  normal: 1000,
  unauthorized: 4001,
  gone: 4004,
} as const;

export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

const OPEN = 1;

export interface ChatSocketOptions {
  /** The socket's path on the page's origin: see `channelSocketPath`, `conversationSocketPath`. */
  path: string;
  /** The highest seq already held (history): the server replays everything after it. */
  after?: number;
  /**
   * Whether reconnects resume with `?after=<highest seq seen>` (a chat's socket, the default).
   * The personal socket says false: its channels resume per subscription instead.
   */
  resume?: boolean;
  /**
   * The `?after=` of each connection, asked just before it is opened (the first one and every
   * reconnect); `undefined` connects without one. When given it replaces the seq resume above:
   * the personal socket resumes by its event cursor, which only it can read from its frames.
   */
  connectAfter?: () => number | undefined;
  onFrame: (frame: IncomingFrame) => void;
  onStateChange?: (state: ConnectionState) => void;
  /** Called on every successful open; `resumed` is false for the first one. */
  onOpen?: (resumed: boolean) => void;
  /** Renews the access cookie; resolves to whether it worked. */
  refreshSession: () => Promise<boolean>;
  createSocket?: SocketFactory;
  location?: { protocol: string; host: string };
  random?: () => number;
  now?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A connection attempt that has not opened by then is abandoned and retried. */
  connectTimeoutMs?: number;
  /** A connection that stayed open this long resets the backoff. */
  stableAfterMs?: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, random: () => number, baseMs = 500, maxMs = 10_000): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A server channel's socket (the native path, which always speaks the full protocol). */
export function channelSocketPath(serverId: number, channelId: number): string {
  return `/ws/servers/${serverId}/channels/${channelId}`;
}

/** A direct or group conversation's socket. */
export function conversationSocketPath(conversationId: number): string {
  return `/ws/dms/${conversationId}`;
}

export function chatSocketUrl(location: { protocol: string; host: string }, path: string, after?: number): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = after !== undefined ? `?after=${after}` : '';
  return `${scheme}//${location.host}${path}${query}`;
}

function isFrame(value: unknown): value is IncomingFrame {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export class ChatSocket {
  private readonly options: ChatSocketOptions;
  private readonly createSocket: SocketFactory;
  private socket: SocketLike | null = null;
  private lastSeq: number | undefined;
  private attempt = 0;
  private opens = 0;
  private openedAt: number | null = null;
  private refreshTried = false;
  /** `account.deleted` arrived: the close that follows is the end, whatever its code. */
  private accountDeleted = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private current: ConnectionState = 'connecting';

  constructor(options: ChatSocketOptions) {
    this.options = options;
    this.lastSeq = options.after;
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url));
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** What the next connection resumes after (its `?after=`): a seq, or `connectAfter`'s answer. */
  get resumeAfter(): number | undefined {
    return this.options.connectAfter ? this.options.connectAfter() : this.lastSeq;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close(CloseCode.normal);
    }
    this.setState('closed');
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(frame: ClientFrame): boolean {
    if (this.socket?.readyState !== OPEN || this.current !== 'open') return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onStateChange?.(state);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.retryTimer = this.connectTimer = null;
  }

  private connect(): void {
    if (this.stopped) return;
    this.clearTimers();
    const location = this.options.location ?? window.location;
    const socket = this.createSocket(chatSocketUrl(location, this.options.path, this.resumeAfter));
    this.socket = socket;
    this.openedAt = null;
    this.connectTimer = setTimeout(() => {
      // Half-open networks can leave a handshake hanging; closing fires onclose (1006).
      if (this.socket === socket && socket.readyState !== OPEN) socket.close();
    }, this.options.connectTimeoutMs ?? 10_000);

    socket.onopen = () => {
      if (this.socket !== socket) return;
      if (this.connectTimer !== null) clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.openedAt = this.now();
      this.setState('open');
      this.options.onOpen?.(this.opens > 0);
      this.opens += 1;
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!isFrame(frame)) return;
      if (frame.type === 'chat.message') {
        if (this.options.resume !== false) this.lastSeq = Math.max(this.lastSeq ?? 0, frame.new_message.seq);
      } else if (frame.type === 'presence.list' || frame.type === 'ready') {
        // The gateway accepted our credentials: a later 4001 deserves a new refresh.
        this.refreshTried = false;
      } else if (frame.type === 'account.deleted') {
        this.accountDeleted = true;
      }
      this.options.onFrame(frame);
    };
    socket.onerror = () => {
      // Always followed by a close event, which decides what to do.
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handleClose(event.code);
    };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private handleClose(code: number): void {
    this.clearTimers();
    if (this.stopped) return;
    if (this.accountDeleted) {
      // Nothing to renew or reconnect to (the server closes with 4001 next).
      this.setState('unauthorized');
      return;
    }
    if (code === CloseCode.gone) {
      this.setState('gone');
      return;
    }
    if (code === CloseCode.unauthorized) {
      if (this.refreshTried) {
        this.setState('unauthorized');
        return;
      }
      this.refreshTried = true;
      this.setState('reconnecting');
      this.options.refreshSession().then(
        (renewed) => this.afterRefresh(renewed),
        () => this.afterRefresh(false),
      );
      return;
    }
    const stable = this.options.stableAfterMs ?? 5_000;
    if (this.openedAt !== null && this.now() - this.openedAt >= stable) this.attempt = 0;
    const delay = backoffDelay(
      this.attempt,
      this.options.random ?? Math.random,
      this.options.baseDelayMs,
      this.options.maxDelayMs,
    );
    this.attempt += 1;
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private afterRefresh(renewed: boolean): void {
    if (this.stopped) return;
    if (renewed) this.connect();
    else this.setState('unauthorized');
  }
}
