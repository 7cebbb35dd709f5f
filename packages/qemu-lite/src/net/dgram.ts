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
      for (const f of this.queued.splice(0)) this.send(f);
    });
  }

  send(frame: Uint8Array): void {
    if (!this.bound) {
      if (this.queued.length < 64) this.queued.push(frame.slice());
      else this.stats.dropped++;
      return;
    }
    this.stats.tx++;
    this.sock.send(frame, this.remote.port, this.remote.host);
  }

  close(): void {
    try {
      this.sock.close();
    } catch { /* already closed */ }
  }
}
