/**
 * The memory that holds translation tables (EPT or NPT), seen as little-endian 32-bit words
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
  /** Word view: table entries are 4-byte aligned, and x86 hosts (and typed arrays on them) are little-endian. */
  private readonly words: Uint32Array;
  private next = 0;

  constructor(
    readonly base: number,
    size: number,
  ) {
    if (base % 4096 !== 0 || size % 4096 !== 0 || size <= 0) throw new RangeError('pool base and size must be 4 KiB multiples');
    this.bytes = new Uint8Array(size);
    this.words = new Uint32Array(this.bytes.buffer);
  }

  /** Word index of `hpa`; throws for an address outside the pool or not 4-byte aligned. */
  private index(hpa: number): number {
    const off = hpa - this.base;
    if (!(off >= 0 && off + 4 <= this.bytes.length) || off % 4 !== 0) {
      throw new RangeError(`table access at 0x${hpa.toString(16)} outside the pool`);
    }
    return off / 4;
  }

  readU32(hpa: number): number {
    return this.words[this.index(hpa)]!;
  }

  writeU32(hpa: number, value: number): void {
    this.words[this.index(hpa)] = value;
  }

  /** A zeroed 4 KiB page from the pool; returns its host-physical address. */
  allocPage(): number {
    if (this.next + 4096 > this.bytes.length) throw new RangeError('page-table pool exhausted');
    const hpa = this.base + this.next;
    this.next += 4096;
    return hpa;
  }
}
