/**
 * The split virtqueue (virtio spec 1.2 §2.7), device side: the descriptor table, the
 * driver (available) ring and the device (used) ring in guest memory. pop() walks the
 * next available chain, following indirect tables, into views of guest memory; push()
 * returns it through the used ring; needsInterrupt() applies VIRTQ_AVAIL_F_NO_INTERRUPT
 * or, with VIRTIO_F_EVENT_IDX, the used_event index.
 *
 * Every address and index comes from the guest and is checked: a chain that loops, names
 * a descriptor past the table, points outside guest RAM, has an indirect table of a bad
 * length, nests indirection or puts a readable descriptor after a writable one throws
 * VirtqueueError. The device then marks itself DEVICE_NEEDS_RESET (spec 2.1.2); the host
 * never throws past the device and never touches memory outside the slots.
 */
import { VRING_AVAIL_F_NO_INTERRUPT, VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_SIZE, VRING_USED_ELEM_SIZE } from './virtio-ids';

/** The guest memory the queue reads (GuestMemory satisfies it). */
export interface VirtqueueMemory {
  /** A view of [addr, addr+len) inside one RAM region, or undefined. */
  slice(addr: number, len: number): Uint8Array;
}

export class VirtqueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VirtqueueError';
  }
}

/** Largest queue the devices offer (QEMU's VIRTQUEUE_MAX_SIZE is 1024; virtio-blk/net use 256). */
export const VIRTQUEUE_MAX_SIZE = 1024;
/** The longest indirect table accepted (as QEMU: no more than VIRTQUEUE_MAX_SIZE entries). */
export const VIRTQUEUE_MAX_INDIRECT = VIRTQUEUE_MAX_SIZE;

/** One available chain: guest-memory views of its readable then writable buffers. */
export class DescChain {
  readonly readable: Uint8Array[] = [];
  readonly writable: Uint8Array[] = [];
  readLen = 0;
  writeLen = 0;
  constructor(readonly head: number) {}

  /** Copies `len` bytes of the readable part from `offset` into `out` (returns bytes copied). */
  copyFrom(offset: number, out: Uint8Array): number {
    return copySegments(this.readable, offset, out, true);
  }

  /** Copies `data` into the writable part at `offset` (returns bytes copied). */
  copyTo(offset: number, data: Uint8Array): number {
    return copySegments(this.writable, offset, data, false);
  }

  /** The readable segments from byte `offset` to the end (views, no copy). */
  readableFrom(offset: number): Uint8Array[] {
    return sliceSegments(this.readable, offset, this.readLen - offset);
  }

  /** The writable segments [offset, offset+len) (views, no copy). */
  writableRange(offset: number, len: number): Uint8Array[] {
    return sliceSegments(this.writable, offset, len);
  }
}

function copySegments(segs: readonly Uint8Array[], offset: number, buf: Uint8Array, fromSegs: boolean): number {
  let done = 0;
  let skip = offset;
  for (const s of segs) {
    if (done >= buf.length) break;
    if (skip >= s.length) {
      skip -= s.length;
      continue;
    }
    const n = Math.min(s.length - skip, buf.length - done);
    if (fromSegs) buf.set(s.subarray(skip, skip + n), done);
    else s.set(buf.subarray(done, done + n), skip);
    done += n;
    skip = 0;
  }
  return done;
}

function sliceSegments(segs: readonly Uint8Array[], offset: number, len: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = offset;
  let left = len;
  for (const s of segs) {
    if (left <= 0) break;
    if (skip >= s.length) {
      skip -= s.length;
      continue;
    }
    const n = Math.min(s.length - skip, left);
    out.push(s.subarray(skip, skip + n));
    left -= n;
    skip = 0;
  }
  return out;
}

/** vring_need_event (include/uapi/linux/virtio_ring.h), on 16-bit indices. */
export function vringNeedEvent(eventIdx: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

export class Virtqueue {
  /** Negotiated size (the driver may lower it from maxSize); a power of two. */
  size: number;
  ready = false;
  descAddr = 0;
  driverAddr = 0;
  deviceAddr = 0;
  msixVector = 0xffff;
  /** VIRTIO_F_EVENT_IDX / VIRTIO_RING_F_INDIRECT_DESC negotiated. */
  eventIdx = false;
  indirect = false;
  /** Next available ring entry to consume; next used index to produce. */
  lastAvailIdx = 0;
  usedIdx = 0;
  private signalledUsed = 0;
  private signalledUsedValid = false;

  constructor(readonly index: number, readonly maxSize: number, private readonly mem: VirtqueueMemory) {
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0;
    this.msixVector = 0xffff;
    this.lastAvailIdx = this.usedIdx = 0;
    this.signalledUsed = 0;
    this.signalledUsedValid = false;
  }

  private view(addr: number, len: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(addr) || addr < 0) throw new VirtqueueError(`${what} at 0x${addr.toString(16)}: not a guest address`);
    try {
      return this.mem.slice(addr, len);
    } catch {
      throw new VirtqueueError(`${what} at 0x${addr.toString(16)}+0x${len.toString(16)} is outside guest RAM`);
    }
  }

  private u16(addr: number, what: string): number {
    const b = this.view(addr, 2, what);
    return b[0]! | (b[1]! << 8);
  }

  private setU16(addr: number, v: number, what: string): void {
    const b = this.view(addr, 2, what);
    b[0] = v & 0xff;
    b[1] = (v >>> 8) & 0xff;
  }

  /** Size and the ring placement checks done when the driver enables the queue (spec 2.7 alignment). */
  validate(): void {
    const n = this.size;
    if (n === 0 || n > this.maxSize || (n & (n - 1)) !== 0) throw new VirtqueueError(`queue ${this.index}: size ${n} is not a power of two up to ${this.maxSize}`);
    if (this.descAddr % 16 || this.driverAddr % 2 || this.deviceAddr % 4) throw new VirtqueueError(`queue ${this.index}: misaligned ring address`);
    this.view(this.descAddr, n * VRING_DESC_SIZE, `queue ${this.index} descriptor table`);
    this.view(this.driverAddr, 6 + 2 * n, `queue ${this.index} driver ring`);
    this.view(this.deviceAddr, 6 + VRING_USED_ELEM_SIZE * n, `queue ${this.index} device ring`);
  }

  /** The driver's avail->idx. */
  availIdx(): number {
    return this.u16(this.driverAddr + 2, 'avail idx');
  }

  /** Chains are waiting. */
  hasAvail(): boolean {
    return this.ready && this.availIdx() !== this.lastAvailIdx;
  }

  /**
   * The next available chain, or null when the ring is empty. Throws VirtqueueError for
   * anything malformed (the caller marks the device as needing reset).
   */
  pop(): DescChain | null {
    if (!this.ready) return null;
    const avail = this.availIdx();
    if (avail === this.lastAvailIdx) return null;
    if (((avail - this.lastAvailIdx) & 0xffff) > this.size)
      throw new VirtqueueError(`queue ${this.index}: avail idx ${avail} moved more than ${this.size} past ${this.lastAvailIdx}`);
    const head = this.u16(this.driverAddr + 4 + 2 * (this.lastAvailIdx % this.size), 'avail ring entry');
    if (head >= this.size) throw new VirtqueueError(`queue ${this.index}: head descriptor ${head} is past the table (size ${this.size})`);
    const chain = new DescChain(head);
    this.walk(chain, this.descAddr, this.size, head, false);
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    if (this.eventIdx) this.setAvailEvent(this.lastAvailIdx);
    return chain;
  }

  /** Gives back the last popped chain unconsumed (no buffer fit, retry later). */
  unpop(): void {
    this.lastAvailIdx = (this.lastAvailIdx - 1) & 0xffff;
  }

  private walk(chain: DescChain, table: number, tableSize: number, first: number, inIndirect: boolean): void {
    let i = first;
    let count = 0;
    for (;;) {
      if (++count > tableSize) throw new VirtqueueError(`queue ${this.index}: descriptor chain loops (more than ${tableSize} descriptors)`);
      const d = this.view(table + i * VRING_DESC_SIZE, VRING_DESC_SIZE, 'descriptor');
      const lo = (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
      const hi = (d[4]! | (d[5]! << 8) | (d[6]! << 16) | (d[7]! << 24)) >>> 0;
      const len = (d[8]! | (d[9]! << 8) | (d[10]! << 16) | (d[11]! << 24)) >>> 0;
      const flags = d[12]! | (d[13]! << 8);
      const next = d[14]! | (d[15]! << 8);
      const addr = hi * 2 ** 32 + lo;
      if (flags & VRING_DESC_F_INDIRECT) {
        if (!this.indirect) throw new VirtqueueError(`queue ${this.index}: indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC`);
        if (inIndirect) throw new VirtqueueError(`queue ${this.index}: nested indirect descriptor`);
        if (flags & VRING_DESC_F_NEXT) throw new VirtqueueError(`queue ${this.index}: indirect descriptor with NEXT set`);
        if (len === 0 || len % VRING_DESC_SIZE !== 0) throw new VirtqueueError(`queue ${this.index}: indirect table length ${len} is not a multiple of ${VRING_DESC_SIZE}`);
        const n = len / VRING_DESC_SIZE;
        if (n > VIRTQUEUE_MAX_INDIRECT) throw new VirtqueueError(`queue ${this.index}: indirect table of ${n} descriptors is too long`);
        this.view(addr, len, 'indirect table');
        this.walk(chain, addr, n, 0, true);
        return;
      }
      const buf = this.view(addr, len, 'buffer');
      if (flags & VRING_DESC_F_WRITE) {
        chain.writable.push(buf);
        chain.writeLen += len;
      } else {
        if (chain.writable.length > 0) throw new VirtqueueError(`queue ${this.index}: readable descriptor after a writable one`);
        chain.readable.push(buf);
        chain.readLen += len;
      }
      if (!(flags & VRING_DESC_F_NEXT)) return;
      if (next >= tableSize) throw new VirtqueueError(`queue ${this.index}: next descriptor ${next} is past the table (size ${tableSize})`);
      i = next;
    }
  }

  /** Returns a chain through the used ring with `len` bytes written to its buffers. */
  push(head: number, len: number): void {
    const slot = this.deviceAddr + 4 + VRING_USED_ELEM_SIZE * (this.usedIdx % this.size);
    const e = this.view(slot, VRING_USED_ELEM_SIZE, 'used ring entry');
    for (let i = 0; i < 4; i++) {
      e[i] = (head >>> (8 * i)) & 0xff;
      e[4 + i] = (len >>> (8 * i)) & 0xff;
    }
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // The entry must be visible before the index (JS stores are in program order).
    this.setU16(this.deviceAddr + 2, this.usedIdx, 'used idx');
  }

  /** used->avail_event (EVENT_IDX): notify me when avail idx passes this. */
  private setAvailEvent(v: number): void {
    this.setU16(this.deviceAddr + 4 + VRING_USED_ELEM_SIZE * this.size, v, 'avail_event');
  }

  /** virtio_should_notify: whether the driver wants an interrupt for what was pushed since the last one. */
  needsInterrupt(): boolean {
    if (!this.eventIdx) {
      return (this.u16(this.driverAddr, 'avail flags') & VRING_AVAIL_F_NO_INTERRUPT) === 0;
    }
    const usedEvent = this.u16(this.driverAddr + 4 + 2 * this.size, 'used_event');
    const old = this.signalledUsed;
    const valid = this.signalledUsedValid;
    this.signalledUsed = this.usedIdx;
    this.signalledUsedValid = true;
    return !valid || vringNeedEvent(usedEvent, this.usedIdx, old);
  }
}
