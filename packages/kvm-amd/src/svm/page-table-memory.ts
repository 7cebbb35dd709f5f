/**
 * The memory that holds translation tables (NPT here), seen as little-endian 32-bit words
 * at host-physical addresses. 64-bit entries are read as two halves so no BigInt is needed.
 * kvm-core's MMU builds its tables in such a pool; tests use `PageTablePool`.
 */
export interface PageTableMemory {
  readU32(hpa: number): number;
  writeU32(hpa: number, value: number): void;
}

/**
 * A contiguous pool of host-physical memory for tables: `base` is the host-physical
 * address of byte 0. Accesses outside the pool are host bugs (the tables are built by
 * the host, never by the guest) and throw RangeError.
 */
export class PageTablePool implements PageTableMemory {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private next = 0;

  constructor(
    readonly base: number,
    size: number,
  ) {
    if (base % 4096 !== 0 || size % 4096 !== 0 || size <= 0) throw new RangeError('pool base and size must be 4 KiB multiples');
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  private offset(hpa: number): number {
    const off = hpa - this.base;
    if (!(off >= 0 && off + 4 <= this.bytes.length) || (off & 3) !== 0) {
      throw new RangeError(`table access at 0x${hpa.toString(16)} outside the pool`);
    }
    return off;
  }

  readU32(hpa: number): number {
    return this.view.getUint32(this.offset(hpa), true);
  }

  writeU32(hpa: number, value: number): void {
    this.view.setUint32(this.offset(hpa), value >>> 0, true);
  }

  /** A zeroed 4 KiB page from the pool; returns its host-physical address. */
  allocPage(): number {
    if (this.next + 4096 > this.bytes.length) throw new RangeError('page-table pool exhausted');
    const hpa = this.base + this.next;
    this.next += 4096;
    return hpa;
  }
}
