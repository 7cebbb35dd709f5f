/**
 * Absolute storage of an s390 guest: the VM's memory slots seen big-endian. There is
 * no MMIO on s390 (devices are channel or PCI attached), so an absolute address no
 * slot covers is an addressing exception, never an exit.
 * A one-entry slot cache keeps the common single-slot guest at a compare and an index.
 */
import { uapi, type Memslots } from '@kvmts/kvm-core';

const KVM_MEM_READONLY = uapi.KVM_MEM_READONLY;

export class GuestStorage {
  /** The cached slot: [base, end) in absolute addresses, its bytes and a DataView. */
  base = 0;
  end = 0;
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  readonly: boolean = false;
  /** The cached slot logs dirty pages. */
  logDirty: boolean = false;
  /** Storage keys, one per 4 KiB frame (ACC 4 bits, F, R, C), indexed by frame number. */
  skeys: Uint8Array = new Uint8Array(0);

  constructor(readonly memslots: Memslots) {
    memslots.onChange(() => this.invalidate());
    this.resizeKeys();
  }

  invalidate(): void {
    this.base = 0;
    this.end = 0;
    this.resizeKeys();
  }

  /** One past the highest absolute address any slot covers. */
  get size(): number {
    let top = 0;
    for (const s of this.memslots.all()) top = Math.max(top, s.guestPhysAddr + s.memorySize);
    return top;
  }

  private resizeKeys(): void {
    const frames = Math.ceil(this.size / 4096);
    if (frames > this.skeys.length) {
      const k = new Uint8Array(frames);
      k.set(this.skeys);
      this.skeys = k;
    }
  }

  /**
   * Make `abs` hit the cache; returns its offset in `bytes`, or -1 if no slot covers
   * [abs, abs+len). The caller then uses `bytes` / `view`.
   */
  lookup(abs: number, len: number): number {
    if (abs >= this.base && abs + len <= this.end) return abs - this.base;
    const slot = this.memslots.find(abs);
    if (slot === undefined) return -1;
    this.base = slot.guestPhysAddr;
    this.end = slot.guestPhysAddr + slot.memorySize;
    this.bytes = slot.hva;
    this.view = new DataView(slot.hva.buffer, slot.hva.byteOffset, slot.hva.byteLength);
    this.readonly = (slot.flags & KVM_MEM_READONLY) !== 0;
    this.logDirty = slot.dirtyBitmap !== null;
    if (abs + len > this.end) return -1;
    return abs - this.base;
  }

  /** Mark the frame holding abs dirty in the slot's log (KVM_MEM_LOG_DIRTY_PAGES). */
  markDirty(abs: number): void {
    this.memslots.markDirty(abs);
  }

  // ---- Slow, bounds-checked byte access for the API side (memOp, loaders, KVM). ----

  readByte(abs: number): number {
    const off = this.lookup(abs, 1);
    return off < 0 ? -1 : this.bytes[off]!;
  }

  writeByte(abs: number, v: number): boolean {
    const off = this.lookup(abs, 1);
    if (off < 0 || this.readonly) return false;
    this.bytes[off] = v;
    return true;
  }

  /** True if every byte of [abs, abs+len) is backed by a slot. */
  accessible(abs: number, len: number): boolean {
    let a = abs;
    const end = abs + len;
    while (a < end) {
      const off = this.lookup(a, 1);
      if (off < 0) return false;
      a = this.end;
    }
    return true;
  }
}
