import type { SocketLike } from '../chat/socket';

/**
 * A scripted WebSocket: tests open, feed and close it by hand. `instances` and `last` are the
 * chat sockets (channels, conversations); the personal socket (`/ws/me`, which the app opens
 * once signed in) is kept apart in `personal`, so a test of a chat is not confused by it.
 */
export class FakeWebSocket implements SocketLike {
  static instances: FakeWebSocket[] = [];
  static personal: FakeWebSocket[] = [];
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  closedWith: number | undefined;

  constructor(readonly url: string) {
    if (new URL(url).pathname === '/ws/me') FakeWebSocket.personal.push(this);
    else FakeWebSocket.instances.push(this);
  }

  static reset(): void {
    FakeWebSocket.instances = [];
    FakeWebSocket.personal = [];
  }

  /** The newest personal socket. */
  static get lastPersonal(): FakeWebSocket {
    const socket = FakeWebSocket.personal[FakeWebSocket.personal.length - 1];
    if (!socket) throw new Error('no personal socket was created');
    return socket;
  }

  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!socket) throw new Error('no socket was created');
    return socket;
  }

  static factory = (url: string): FakeWebSocket => new FakeWebSocket(url);

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }

  close(code = 1005): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  // --- driven by the test ---
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  receive(frame: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(frame) }));
  }

  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code }));
  }
}
