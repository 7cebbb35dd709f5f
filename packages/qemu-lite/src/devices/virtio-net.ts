/**
 * virtio-net (virtio spec 1.2 §5.1; QEMU hw/net/virtio-net.c) without offloads: queue 0
 * receives, queue 1 transmits. Every buffer starts with struct virtio_net_hdr, 12 bytes
 * with VIRTIO_F_VERSION_1 (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
 * num_buffers). The MAC address and the link status are in config space
 * (VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS). Frames from the backend wait in a bounded
 * queue while the driver has no receive buffers posted, as QEMU stops reading its peer.
 */
import type { NetBackend } from '../net/net-client';
import type { VirtioDeviceModel, VirtioTransport } from '../virtio/virtio-device';
import { VIRTIO_ID_NET } from '../virtio/virtio-ids';
import { VirtqueueError } from '../virtio/virtqueue';

export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_HDR_SIZE = 12;
export const VIRTIO_NET_QUEUE_SIZE = 256;
export const VIRTIO_NET_RX_QUEUE = 0;
export const VIRTIO_NET_TX_QUEUE = 1;
/** struct virtio_net_config: mac[6], status, max_virtqueue_pairs, mtu. */
export const VIRTIO_NET_CONFIG_SIZE = 12;
/** Frames held for the guest while it has no receive buffers (beyond: dropped). */
export const VIRTIO_NET_RX_BACKLOG = 256;
/** At this backlog the backend is asked to stop reading its peer; below half it resumes. */
export const VIRTIO_NET_RX_PAUSE = 64;
/** Largest frame taken from the guest (64 KiB + header; no GSO is offered). */
export const VIRTIO_NET_MAX_TX = 65536 + VIRTIO_NET_HDR_SIZE;

/** "52:54:00:12:34:56" -> bytes; undefined when malformed. */
export function parseMac(s: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(s);
  if (m === null) return undefined;
  return Uint8Array.from(m.slice(1, 7).map((h) => parseInt(h, 16)));
}

export class VirtioNet implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID_NET;
  readonly name = 'net';
  readonly featuresLo = ((1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS)) >>> 0;
  readonly featuresHi = 0;
  readonly numQueues = 2;
  readonly queueMaxSize = VIRTIO_NET_QUEUE_SIZE;
  readonly config = new Uint8Array(VIRTIO_NET_CONFIG_SIZE);
  private t!: VirtioTransport;
  private readonly backlog: Uint8Array[] = [];
  readonly stats = { tx: 0, rx: 0, rxDropped: 0 };
  private readonly hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);

  constructor(readonly mac: Uint8Array, private readonly backend: NetBackend) {
    this.config.set(mac, 0);
    new DataView(this.config.buffer).setUint16(6, VIRTIO_NET_S_LINK_UP, true);
    new DataView(this.config.buffer).setUint16(8, 1, true);
    new DataView(this.config.buffer).setUint16(10, 1500, true);
    // num_buffers is 1 in every header we write (no VIRTIO_NET_F_MRG_RXBUF).
    new DataView(this.hdr.buffer).setUint16(10, 1, true);
    backend.receive = (frame) => this.fromBackend(frame);
    // The backend drained: the frames the guest queued meanwhile go out now (outside
    // a notification, so a malformed chain is reported here as the transport would).
    backend.onSendReady = () => {
      if (!this.t?.live) return;
      try {
        this.transmit();
      } catch (e) {
        if (e instanceof VirtqueueError) this.t.needsReset(e.message);
        else throw e;
      }
      this.t.kick();
    };
  }

  attach(t: VirtioTransport): void {
    this.t = t;
  }

  reset(): void {
    this.backlog.length = 0;
    if (this.backendPaused) {
      this.backendPaused = false;
      this.backend.setReceiveReady?.(true);
    }
  }

  /** The backend belongs to the machine (-netdev), which closes it. */
  close(): void {}

  queueNotify(index: number): void {
    if (index === VIRTIO_NET_TX_QUEUE) this.transmit();
    else if (index === VIRTIO_NET_RX_QUEUE) this.flushBacklog();
  }

  activate(): void {
    this.flushBacklog();
  }

  private transmit(): void {
    const q = this.t.queues[VIRTIO_NET_TX_QUEUE]!;
    if (!q.ready) return;
    let any = false;
    // A blocked backend leaves the rest of the queue to its onSendReady.
    while (this.backend.sendBlocked !== true) {
      const chain = q.pop();
      if (chain === null) break;
      if (chain.readLen < VIRTIO_NET_HDR_SIZE || chain.readLen > VIRTIO_NET_MAX_TX)
        throw new VirtqueueError(`virtio-net: tx buffer of ${chain.readLen} bytes (header is ${VIRTIO_NET_HDR_SIZE}, at most ${VIRTIO_NET_MAX_TX})`);
      // Copied out: the backend sends asynchronously, the guest may reuse the buffer at once.
      const frame = new Uint8Array(chain.readLen - VIRTIO_NET_HDR_SIZE);
      chain.copyFrom(VIRTIO_NET_HDR_SIZE, frame);
      this.backend.send(frame);
      this.stats.tx++;
      q.push(chain.head, 0);
      any = true;
    }
    if (any) this.t.notifyQueue(q);
  }

  private fromBackend(frame: Uint8Array): void {
    if (!this.t?.live) {
      this.stats.rxDropped++;
      return;
    }
    if (this.backlog.length >= VIRTIO_NET_RX_BACKLOG) {
      this.stats.rxDropped++;
      return;
    }
    this.backlog.push(frame);
    this.flushBacklog();
    if (this.backlog.length >= VIRTIO_NET_RX_PAUSE && !this.backendPaused) {
      this.backendPaused = true;
      this.backend.setReceiveReady?.(false);
    }
  }

  private backendPaused = false;

  /** Moves waiting frames into posted receive buffers; interrupts once for the batch. */
  private flushBacklog(): void {
    if (!this.t.live || this.backlog.length === 0) return;
    const q = this.t.queues[VIRTIO_NET_RX_QUEUE]!;
    if (!q.ready) return;
    let any = false;
    try {
      while (this.backlog.length > 0) {
        const chain = q.pop();
        if (chain === null) break;
        const frame = this.backlog.shift()!;
        if (chain.writeLen < VIRTIO_NET_HDR_SIZE + frame.length) {
          // Too small for this frame (no MRG_RXBUF): drop the frame, return the buffer unused.
          this.stats.rxDropped++;
          q.unpop();
          if (chain.writeLen < VIRTIO_NET_HDR_SIZE) throw new VirtqueueError(`virtio-net: rx buffer of ${chain.writeLen} bytes is smaller than the header`);
          continue;
        }
        chain.copyTo(0, this.hdr);
        chain.copyTo(VIRTIO_NET_HDR_SIZE, frame);
        q.push(chain.head, VIRTIO_NET_HDR_SIZE + frame.length);
        this.stats.rx++;
        any = true;
      }
    } catch (e) {
      if (e instanceof VirtqueueError) this.t.needsReset(e.message);
      else throw e;
    }
    if (any) {
      this.t.notifyQueue(q);
      this.t.kick();
    }
    if (this.backendPaused && this.backlog.length < VIRTIO_NET_RX_PAUSE / 2) {
      this.backendPaused = false;
      this.backend.setReceiveReady?.(true);
    }
  }
}
