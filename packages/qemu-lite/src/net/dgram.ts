/**
 * QEMU's `-netdev dgram,local.type=inet,...,remote.type=inet,...` (net/dgram.c): one
 * UDP datagram per frame, no framing, from the local address to the remote one.
 */
import { createSocket, type Socket } from 'node:dgram';
import { NET_BUFSIZE, type NetBackend } from './net-client';

export class DgramNetBackend implements NetBackend {
  receive: (frame: Uint8Array) => void = () => {};
  readonly stats = { tx: 0, rx: 0, dropped: 0 };
  private readonly sock: Socket;
  private bound = false;
  private readonly queued: Uint8Array[] = [];
  /** Datagrams handed to node but not yet sent (its send() resolves the address on a later tick). */
  private pending = 0;
  private closing = false;

  constructor(
    readonly id: string, local: { host: string; port: number }, private readonly remote: { host: string; port: number },
    onError: (m: string) => void,
  ) {
    this.sock = createSocket(local.host.includes(':') ? 'udp6' : 'udp4');
    this.sock.on('error', (e) => onError(`-netdev dgram,id=${id}: ${e.message}`));
    this.sock.on('message', (msg) => {
      if (msg.length > NET_BUFSIZE) {
        this.stats.dropped++;
        return;
      }
      this.stats.rx++;
      this.receive(new Uint8Array(msg));
    });
    this.sock.bind(local.port, local.host, () => {
      this.bound = true;
      for (const f of this.queued.splice(0)) this.transmit(f);
      if (this.closing && this.pending === 0) this.closeSocket();
    });
  }

  send(frame: Uint8Array): void {
    if (this.closing) {
      this.stats.dropped++;
      return;
    }
    if (!this.bound) {
      if (this.queued.length < 64) this.queued.push(frame.slice());
      else this.stats.dropped++;
      return;
    }
    this.transmit(frame);
  }

  /**
   * Closes once the frames already sent have left: a guest's last frames before it
   * powers off must reach the peer, as with QEMU's synchronous sendto().
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.bound && this.pending === 0) this.closeSocket();
  }

  private transmit(frame: Uint8Array): void {
    this.stats.tx++;
    this.pending++;
    this.sock.send(frame, this.remote.port, this.remote.host, () => {
      if (--this.pending === 0 && this.closing) this.closeSocket();
    });
  }

  private closeSocket(): void {
    try {
      this.sock.close();
    } catch { /* already closed */ }
  }
}
