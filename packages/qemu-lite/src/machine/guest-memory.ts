/**
 * GuestMemory: the VMM's view of guest RAM (rust-vmm vm-memory's GuestMemoryMmap).
 * Regions are Uint8Arrays that are also registered as KVM memory slots, so loaders,
 * firmware tables and device DMA write the very bytes the guest sees.
 */
import { hex } from '../bus';

export interface GuestRegion {
  readonly guestPhysAddr: number;
  readonly bytes: Uint8Array;
}

export class GuestMemoryError extends Error {
  constructor(readonly addr: number, readonly len: number) {
    super(`guest address ${hex(addr)}+${hex(len)} is not in guest RAM`);
    this.name = 'GuestMemoryError';
  }
}

export class GuestMemory {
  private readonly regions: GuestRegion[];

  constructor(regions: readonly GuestRegion[]) {
    this.regions = [...regions].sort((a, b) => a.guestPhysAddr - b.guestPhysAddr);
  }

  all(): readonly GuestRegion[] {
    return this.regions;
  }

  /** The region that holds [addr, addr+len) entirely, or undefined. */
  findRegion(addr: number, len = 1): GuestRegion | undefined {
    for (const r of this.regions)
      if (addr >= r.guestPhysAddr && addr + len <= r.guestPhysAddr + r.bytes.length) return r;
    return undefined;
  }

  /** A view of guest bytes [addr, addr+len); GuestMemoryError if not inside one region. */
  slice(addr: number, len: number): Uint8Array {
    const r = this.findRegion(addr, len);
    if (r === undefined) throw new GuestMemoryError(addr, len);
    const off = addr - r.guestPhysAddr;
    return r.bytes.subarray(off, off + len);
  }

  write(addr: number, data: Uint8Array): void {
    this.slice(addr, data.length).set(data);
  }

  read(addr: number, len: number): Uint8Array {
    return this.slice(addr, len).slice();
  }

  fill(addr: number, len: number, value = 0): void {
    this.slice(addr, len).fill(value);
  }

  writeU8(addr: number, v: number): void {
    this.slice(addr, 1)[0] = v;
  }

  writeU16(addr: number, v: number): void {
    const b = this.slice(addr, 2);
    b[0] = v & 0xff;
    b[1] = (v >>> 8) & 0xff;
  }

  writeU32(addr: number, v: number): void {
    const b = this.slice(addr, 4);
    for (let i = 0; i < 4; i++) b[i] = (v >>> (8 * i)) & 0xff;
  }

  readU8(addr: number): number {
    return this.slice(addr, 1)[0]!;
  }

  readU16(addr: number): number {
    const b = this.slice(addr, 2);
    return b[0]! | (b[1]! << 8);
  }

  readU32(addr: number): number {
    const b = this.slice(addr, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
}
