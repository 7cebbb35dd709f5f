/**
 * A network backend (QEMU's NetClientState peer of a NIC): frames out to the host side,
 * frames in from it. The NIC sets `receive`; the backend calls it for every frame.
 */
export interface NetBackend {
  readonly id: string;
  /** The NIC's frame towards the outside. Dropped when the backend has no peer yet. */
  send(frame: Uint8Array): void;
  /** Set by the NIC: a frame arrived from outside. */
  receive: (frame: Uint8Array) => void;
  /**
   * Flow control from the NIC (QEMU's can_receive): false while its receive backlog is
   * full, so a stream backend stops reading its peer (TCP then pushes back) instead of
   * dropping frames. Datagram backends cannot push back and ignore it.
   */
  setReceiveReady?(ready: boolean): void;
  /**
   * Flow control towards the peer (QEMU's net queue stalling the NIC's transmit when the
   * socket would block): true while a stream backend holds bytes the kernel would not
   * take, so the NIC leaves the guest's frames in its queue instead of piling them up in
   * host memory (and losing them when the VMM ends).
   */
  readonly sendBlocked?: boolean;
  /** Set by the NIC: called when sendBlocked turns false again. */
  onSendReady?: () => void;
  /** Frames sent / received / dropped (tests, bench). */
  readonly stats: { tx: number; rx: number; dropped: number };
  close(): void;
}

export class NetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetError';
  }
}

/** "HOST:PORT" (host may be empty: all addresses for listen, localhost for connect). */
export function parseHostPort(s: string, what: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  if (i < 0) throw new NetError(`${what} '${s}' is not HOST:PORT`);
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const portText = s.slice(i + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) throw new NetError(`${what}: port '${portText}' is not a number from 0 to 65535`);
  return { host, port };
}

/** The largest frame accepted from a backend (QEMU's NET_BUFSIZE is 68 KiB). */
export const NET_BUFSIZE = 4096 + 65536;
