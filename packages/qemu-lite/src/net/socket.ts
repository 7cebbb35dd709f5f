/**
 * QEMU's `-netdev socket,listen=|connect=` (net/socket.c, stream mode): one TCP
 * connection carrying frames, each preceded by its length as a 4-byte big-endian
 * integer. listen= accepts one peer; connect= connects at start. Frames the NIC sends
 * while nobody is connected are dropped, as with QEMU. When the kernel's socket buffer is
 * full (a peer that reads slowly) the backend reports sendBlocked until 'drain', and the
 * NIC stops transmitting, as QEMU's net_socket_receive returning 0 stalls its queue.
 */
import { createServer, Socket, type Server } from 'node:net';
import { NET_BUFSIZE, type NetBackend } from './net-client';

/** How long close() lets unsent frames drain to a slow peer before dropping the connection. */
export const SOCKET_LINGER_MS = 10_000;

export class SocketNetBackend implements NetBackend {
  receive: (frame: Uint8Array) => void = () => {};
  readonly stats = { tx: 0, rx: 0, dropped: 0 };
  private sock: Socket | undefined;
  private server: Server | undefined;
  /** Bytes received but not yet a whole frame. */
  private pending: Buffer = Buffer.alloc(0);
  private closed = false;

  private constructor(readonly id: string, private readonly onError: (message: string) => void) {}

  /** listen=HOST:PORT: bound synchronously enough that a connect after `ready` succeeds. */
  static listen(id: string, host: string, port: number, onError: (m: string) => void): SocketNetBackend {
    const b = new SocketNetBackend(id, onError);
    const server = createServer((s) => {
      if (b.sock !== undefined) {
        s.destroy(); // one peer, as QEMU
        return;
      }
      b.attach(s);
    });
    server.on('error', (e) => onError(`-netdev socket,id=${id}: listen ${host}:${port}: ${e.message}`));
    server.listen(port, host || undefined);
    b.server = server;
    return b;
  }

  static connect(id: string, host: string, port: number, onError: (m: string) => void): SocketNetBackend {
    const b = new SocketNetBackend(id, onError);
    const s = new Socket();
    s.on('error', (e) => {
      if (!b.closed) onError(`-netdev socket,id=${id}: connect ${host}:${port}: ${e.message}`);
    });
    s.connect(port, host || '127.0.0.1', () => b.attach(s));
    return b;
  }

  /** Resolves once the listening socket is bound (tests start the peer after it). */
  listening(): Promise<void> {
    const server = this.server;
    if (server === undefined || server.listening) return Promise.resolve();
    return new Promise((r) => server.once('listening', () => r()));
  }

  private attach(s: Socket): void {
    this.sock = s;
    s.setNoDelay(true);
    if (this.paused) s.pause();
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('close', () => {
      if (this.sock === s) this.sock = undefined;
    });
    s.on('error', () => {});
  }

  private onData(d: Buffer): void {
    this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    for (;;) {
      if (this.pending.length < 4) return;
      const len = this.pending.readUInt32BE(0);
      if (len > NET_BUFSIZE) {
        // A corrupt stream: QEMU drops the connection's state too.
        this.stats.dropped++;
        this.pending = Buffer.alloc(0);
        this.sock?.destroy();
        return;
      }
      if (this.pending.length < 4 + len) return;
      const frame = new Uint8Array(this.pending.subarray(4, 4 + len));
      this.pending = this.pending.subarray(4 + len);
      this.stats.rx++;
      this.receive(frame);
    }
  }

  setReceiveReady(ready: boolean): void {
    this.paused = !ready;
    if (ready) this.sock?.resume();
    else this.sock?.pause();
  }

  private paused = false;
  sendBlocked = false;
  onSendReady: (() => void) | undefined = undefined;
  private readonly drained = () => {
    this.sendBlocked = false;
    this.onSendReady?.();
  };

  send(frame: Uint8Array): void {
    const s = this.sock;
    if (s === undefined || s.destroyed) {
      this.stats.dropped++;
      return;
    }
    const b = Buffer.allocUnsafe(4 + frame.length);
    b.writeUInt32BE(frame.length, 0);
    b.set(frame, 4);
    this.stats.tx++;
    if (!s.write(b) && !this.sendBlocked) {
      this.sendBlocked = true;
      s.once('drain', this.drained);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.sock;
    if (s !== undefined) {
      // end(), not destroy(): frames the guest sent last (still in the socket's buffer
      // while the peer was catching up) go out before the FIN. A peer that never reads
      // again is cut off after a while; the timer does not keep the process alive.
      s.end();
      const t = setTimeout(() => s.destroy(), SOCKET_LINGER_MS);
      t.unref();
      s.once('close', () => clearTimeout(t));
    }
    this.server?.close();
  }
}
