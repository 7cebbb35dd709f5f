/**
 * virtio-blk (virtio spec 1.2 §5.2; QEMU hw/block/virtio-blk.c) on a raw image: one
 * request queue; each request is a 16-byte header (type, reserved, sector), data
 * buffers, and a status byte in the last writable byte. IN/OUT go to the image
 * asynchronously (the guest keeps running; the completion is posted to the used ring
 * and interrupts when it lands), FLUSH waits for earlier writes then fdatasyncs,
 * DISCARD and WRITE_ZEROES zero the ranges, GET_ID returns the drive's serial.
 * A read-only drive offers VIRTIO_BLK_F_RO and fails writes with IOERR.
 */
import type { BlockDriver } from '../block/block-driver';
import type { VirtioDeviceModel, VirtioTransport } from '../virtio/virtio-device';
import { VIRTIO_ID_BLOCK } from '../virtio/virtio-ids';
import { VirtqueueError, type DescChain } from '../virtio/virtqueue';

export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;

export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

export const VIRTIO_BLK_ID_BYTES = 20;
export const VIRTIO_BLK_SECTOR_SIZE = 512;
export const VIRTIO_BLK_QUEUE_SIZE = 256;
/** struct virtio_blk_config up to write_zeroes_may_unmap (offsets below). */
export const VIRTIO_BLK_CONFIG_SIZE = 60;
const CFG_CAPACITY = 0;
const CFG_SEG_MAX = 12;
const CFG_BLK_SIZE = 20;
const CFG_MAX_DISCARD_SECTORS = 36;
const CFG_MAX_DISCARD_SEG = 40;
const CFG_DISCARD_SECTOR_ALIGNMENT = 44;
const CFG_MAX_WRITE_ZEROES_SECTORS = 48;
const CFG_MAX_WRITE_ZEROES_SEG = 52;
const CFG_WRITE_ZEROES_MAY_UNMAP = 56;
/** The most discard/write-zeroes segments per request (QEMU's default is 1; we accept a few). */
export const VIRTIO_BLK_MAX_DISCARD_SEG = 1;
export const VIRTIO_BLK_MAX_DISCARD_SECTORS = 0x3fffff;

export interface VirtioBlkOptions {
  image: BlockDriver;
  /** GET_ID answer (QEMU: the serial= property, empty by default). */
  serial: string;
}

export class VirtioBlk implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly name = 'blk';
  readonly featuresLo: number;
  readonly featuresHi = 0;
  readonly numQueues = 1;
  readonly queueMaxSize = VIRTIO_BLK_QUEUE_SIZE;
  readonly config = new Uint8Array(VIRTIO_BLK_CONFIG_SIZE);
  private t!: VirtioTransport;
  /** Bumped on reset: completions of an older generation are dropped. */
  private generation = 0;
  /** Writes in flight (a flush waits for them). */
  private readonly inflightWrites = new Set<Promise<unknown>>();
  /** Requests completed (tests, bench). */
  completed = 0;
  /** Throughput accounting for the bench: bytes moved and the host time span of the requests (ms). */
  readonly stats = { readBytes: 0, writeBytes: 0, readStartMs: -1, readEndMs: -1, writeStartMs: -1, writeEndMs: -1 };
  private readonly hdr = new Uint8Array(16);
  private readonly hdrView = new DataView(this.hdr.buffer);

  constructor(private readonly opts: VirtioBlkOptions) {
    const ro = opts.image.readonly;
    this.featuresLo = ((1 << VIRTIO_BLK_F_SEG_MAX) | (1 << VIRTIO_BLK_F_BLK_SIZE) | (1 << VIRTIO_BLK_F_FLUSH) |
      (ro ? 1 << VIRTIO_BLK_F_RO : (1 << VIRTIO_BLK_F_DISCARD) | (1 << VIRTIO_BLK_F_WRITE_ZEROES))) >>> 0;
    const c = new DataView(this.config.buffer);
    const sectors = Math.floor(opts.image.size / VIRTIO_BLK_SECTOR_SIZE);
    c.setUint32(CFG_CAPACITY, sectors % 2 ** 32, true);
    c.setUint32(CFG_CAPACITY + 4, Math.floor(sectors / 2 ** 32), true);
    c.setUint32(CFG_SEG_MAX, VIRTIO_BLK_QUEUE_SIZE - 2, true);
    c.setUint32(CFG_BLK_SIZE, VIRTIO_BLK_SECTOR_SIZE, true);
    c.setUint32(CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS, true);
    c.setUint32(CFG_MAX_DISCARD_SEG, VIRTIO_BLK_MAX_DISCARD_SEG, true);
    c.setUint32(CFG_DISCARD_SECTOR_ALIGNMENT, 1, true);
    c.setUint32(CFG_MAX_WRITE_ZEROES_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS, true);
    c.setUint32(CFG_MAX_WRITE_ZEROES_SEG, VIRTIO_BLK_MAX_DISCARD_SEG, true);
    this.config[CFG_WRITE_ZEROES_MAY_UNMAP] = 0;
  }

  get capacitySectors(): number {
    return Math.floor(this.opts.image.size / VIRTIO_BLK_SECTOR_SIZE);
  }

  attach(t: VirtioTransport): void {
    this.t = t;
  }

  reset(): void {
    this.generation++;
  }

  close(): void {
    this.opts.image.close();
  }

  /** Pops every available request and starts it; completions arrive asynchronously. */
  queueNotify(index: number): void {
    const q = this.t.queues[index]!;
    for (;;) {
      const chain = q.pop(); // VirtqueueError goes to the transport (NEEDS_RESET)
      if (chain === null) break;
      this.start(chain);
    }
  }

  private start(chain: DescChain): void {
    if (chain.readLen < 16 || chain.writeLen < 1) throw new VirtqueueError(`virtio-blk: request without header or status byte (${chain.readLen} readable, ${chain.writeLen} writable)`);
    chain.copyFrom(0, this.hdr);
    const type = this.hdrView.getUint32(0, true);
    const sector = this.hdrView.getUint32(8, true) + this.hdrView.getUint32(12, true) * 2 ** 32;
    const statusAt = chain.writeLen - 1;
    const gen = this.generation;
    const finish = (status: number, written: number) => {
      if (gen !== this.generation || !this.t.live) return; // reset meanwhile: the ring is gone
      const q = this.t.queues[0]!;
      chain.copyTo(statusAt, Uint8Array.of(status));
      try {
        q.push(chain.head, written + 1);
      } catch (e) {
        this.t.needsReset((e as Error).message);
        return;
      }
      this.completed++;
      this.t.notifyQueue(q);
      this.t.kick();
    };
    const image = this.opts.image;
    const inRange = (bytes: number) => Number.isSafeInteger(sector) && sector * VIRTIO_BLK_SECTOR_SIZE + bytes <= image.size;
    switch (type) {
      case VIRTIO_BLK_T_IN: {
        const len = statusAt;
        if (len % VIRTIO_BLK_SECTOR_SIZE !== 0 || !inRange(len)) return finish(VIRTIO_BLK_S_IOERR, 0);
        if (this.stats.readStartMs < 0) this.stats.readStartMs = performance.now();
        image.read(sector * VIRTIO_BLK_SECTOR_SIZE, chain.writableRange(0, len)).then(
          () => {
            this.stats.readBytes += len;
            this.stats.readEndMs = performance.now();
            finish(VIRTIO_BLK_S_OK, len);
          }, () => finish(VIRTIO_BLK_S_IOERR, 0));
        return;
      }
      case VIRTIO_BLK_T_OUT: {
        const len = chain.readLen - 16;
        if (image.readonly || len % VIRTIO_BLK_SECTOR_SIZE !== 0 || !inRange(len)) return finish(VIRTIO_BLK_S_IOERR, 0);
        if (this.stats.writeStartMs < 0) this.stats.writeStartMs = performance.now();
        this.track(image.write(sector * VIRTIO_BLK_SECTOR_SIZE, chain.readableFrom(16)).then(
          () => {
            this.stats.writeBytes += len;
            this.stats.writeEndMs = performance.now();
            finish(VIRTIO_BLK_S_OK, 0);
          }, () => finish(VIRTIO_BLK_S_IOERR, 0)));
        return;
      }
      case VIRTIO_BLK_T_FLUSH: {
        const earlier = [...this.inflightWrites];
        Promise.allSettled(earlier).then(() => (image.readonly ? undefined : image.flush())).then(
          () => finish(VIRTIO_BLK_S_OK, 0), () => finish(VIRTIO_BLK_S_IOERR, 0));
        return;
      }
      case VIRTIO_BLK_T_GET_ID: {
        const id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
        const s = new TextEncoder().encode(this.opts.serial).subarray(0, VIRTIO_BLK_ID_BYTES);
        id.set(s);
        const n = Math.min(statusAt, VIRTIO_BLK_ID_BYTES);
        chain.copyTo(0, id.subarray(0, n));
        // Completed through a resolved promise, like every other request (never inside the notify).
        void Promise.resolve().then(() => finish(VIRTIO_BLK_S_OK, n));
        return;
      }
      case VIRTIO_BLK_T_DISCARD:
      case VIRTIO_BLK_T_WRITE_ZEROES: {
        const segBytes = chain.readLen - 16;
        if (segBytes === 0 || segBytes % 16 !== 0 || segBytes / 16 > VIRTIO_BLK_MAX_DISCARD_SEG) return finish(VIRTIO_BLK_S_UNSUPP, 0);
        if (image.readonly) return finish(VIRTIO_BLK_S_IOERR, 0);
        const seg = new Uint8Array(16);
        const ranges: [number, number][] = [];
        for (let o = 16; o < chain.readLen; o += 16) {
          chain.copyFrom(o, seg);
          const d = new DataView(seg.buffer);
          const s = d.getUint32(0, true) + d.getUint32(4, true) * 2 ** 32;
          const n = d.getUint32(8, true);
          if (n > VIRTIO_BLK_MAX_DISCARD_SECTORS || (s + n) * VIRTIO_BLK_SECTOR_SIZE > image.size) return finish(VIRTIO_BLK_S_IOERR, 0);
          ranges.push([s * VIRTIO_BLK_SECTOR_SIZE, n * VIRTIO_BLK_SECTOR_SIZE]);
        }
        this.track((async () => {
          for (const [off, len] of ranges) await image.zero(off, len);
        })().then(() => finish(VIRTIO_BLK_S_OK, 0), () => finish(VIRTIO_BLK_S_IOERR, 0)));
        return;
      }
      default:
        void Promise.resolve().then(() => finish(VIRTIO_BLK_S_UNSUPP, 0));
    }
  }

  private track(p: Promise<unknown>): void {
    this.inflightWrites.add(p);
    void p.finally(() => this.inflightWrites.delete(p));
  }
}
