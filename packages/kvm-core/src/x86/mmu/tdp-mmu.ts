/**
 * The two-dimensional paging MMU (arch/x86/kvm/mmu/tdp_mmu.c): builds the EPT or NPT
 * tables that map guest-physical to host-physical addresses, lazily, one 4 KiB page per
 * TDP fault, from the VM's memslots. The vendor supplies the entry format (TdpFormat);
 * the tables live in a host page pool (TdpPagePool) that the vendor's hardware walker
 * (eptWalk / nptWalk) reads, and the vendor points its EPTP / nCR3 at `root`.
 *
 * "Host-physical" here is the memslots' address space: a leaf maps a gpa to the same
 * number, and the engine finds the slot's bytes from it. What the MMU decides is
 * whether and how a gpa is mapped:
 *   - backed by a slot: present, writable unless the slot is KVM_MEM_READONLY or dirty
 *     logging still has to see the first write (the write fault marks the page dirty
 *     and makes it writable, as Linux's fast_page_fault does);
 *   - not backed (MMIO): a special "MMIO SPTE" (an EPT misconfiguration / an NPT entry
 *     with a reserved bit) so later accesses fault straight to emulation;
 * and it zaps everything when a memslot changes (kvm_mmu_zap_all on memslot updates).
 * Shadow paging (ept=0 / npt=0 with guest paging) is not implemented: those modules run
 * the guest without TDP (gpa used directly by the engine).
 */

/** What the MMU needs from the VM's memslots (memory/memslots.ts's Memslots). */
export interface TdpMemslots {
  find(gpa: number): { readonly flags: number } | undefined;
  markDirty(gpa: number): void;
  onChange(listener: () => void): void;
}

// Memory-region flags (uapi: KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY).
const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
const KVM_MEM_READONLY = 1 << 1;

/** The vendor's TDP entry format (the subset the MMU needs). */
export interface TdpFormat {
  /** 'ept' or 'npt' (for dumps). */
  readonly name: string;
  /** Low-dword flag bits of a non-leaf entry (the next table's address is ORed in). */
  readonly tableLo: number;
  /** Low-dword flag bits of a 4 KiB leaf, writable or not (the frame address is ORed in). */
  leafLo(writable: boolean): number;
  /** High-dword flag bits of a leaf (e.g. NPT's NX is bit 63). */
  leafHi(executable: boolean): number;
  /** The bit of the low dword that grants writes (cleared to write-protect). */
  readonly writableBit: number;
  /** The MMIO SPTE (low, high): faults in a way the vendor recognises as "emulate MMIO". */
  readonly mmioLo: number;
  readonly mmioHi: number;
  /** Whether an entry (low dword) points somewhere (present / any of R,W,X). */
  isPresent(lo: number): boolean;
}

/** kvm_tdp_page_fault results (RET_PF_*). */
export const RET_PF_FIXED = 0;
/** The access needs the instruction emulated (MMIO, or a write to a read-only slot). */
export const RET_PF_EMULATE = 1;
/** The fault cannot be fixed (gpa beyond the tables' reach). */
export const RET_PF_INVALID = 2;

const LEVEL_SCALE = [0, 4096, 2097152, 1073741824, 549755813888];
const TWO32 = 4294967296;

/**
 * Host memory for translation tables at host-physical [base, base + size). Grows by
 * doubling (the base stays, so entries stay valid). Little-endian 32-bit words: the
 * PageTableMemory shape the vendors' walkers read.
 */
export class TdpPagePool {
  private words: Int32Array;
  private next = 0;

  constructor(readonly base: number, pages = 16) {
    if (base % 4096 !== 0) throw new RangeError('TdpPagePool base must be page aligned');
    this.words = new Int32Array(pages * 1024);
  }

  readU32(hpa: number): number {
    const i = (hpa - this.base) / 4;
    if (!(i >= 0 && i < this.words.length) || (i | 0) !== i) throw new RangeError(`TDP table access at 0x${hpa.toString(16)} outside the pool`);
    return this.words[i]! >>> 0;
  }

  writeU32(hpa: number, value: number): void {
    const i = (hpa - this.base) / 4;
    if (!(i >= 0 && i < this.words.length) || (i | 0) !== i) throw new RangeError(`TDP table write at 0x${hpa.toString(16)} outside the pool`);
    this.words[i] = value | 0;
  }

  /** A zeroed 4 KiB table; its host-physical address. */
  allocPage(): number {
    if ((this.next + 1) * 1024 > this.words.length) {
      const bigger = new Int32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    const hpa = this.base + this.next * 4096;
    this.next++;
    return hpa;
  }

  /** Free every table (a zap of the whole tree). */
  reset(): void {
    this.words.fill(0, 0, this.next * 1024);
    this.next = 0;
  }

  get pagesUsed(): number {
    return this.next;
  }
}

/** The default host-physical base of the table pool: above any guest RAM (2^45). */
export const TDP_POOL_BASE = 2 ** 45;

export class TdpMmu {
  readonly pool: TdpPagePool;
  /** Host-physical address of the top-level table (EPT PML4 / NPT PML4). */
  root = 0;
  /** Bumped whenever the tree is zapped, so vendors know to flush their TLBs. */
  generation = 0;
  /** Faults fixed / MMIO SPTEs installed, for tests and traces. */
  stats = { fixed: 0, mmio: 0, dirty: 0, zaps: 0 };
  private readonly zapListeners: (() => void)[] = [];

  constructor(readonly memslots: TdpMemslots, readonly format: TdpFormat, readonly rootLevel = 4, poolBase = TDP_POOL_BASE) {
    this.pool = new TdpPagePool(poolBase);
    this.root = this.pool.allocPage();
    memslots.onChange(() => this.zapAll());
  }

  /** Called after every zap (vendors flush the engine's TLB). */
  onZap(listener: () => void): void {
    this.zapListeners.push(listener);
  }

  /** kvm_tdp_mmu_zap_all: drop every mapping; faults rebuild what is used. */
  zapAll(): void {
    this.pool.reset();
    this.root = this.pool.allocPage();
    this.generation++;
    this.stats.zaps++;
    for (const l of this.zapListeners) l();
  }

  /** The host-physical address of the 4 KiB leaf entry for gpa, building tables above it. */
  private leafEntry(gpa: number): number {
    const pool = this.pool;
    const f = this.format;
    let table = this.root;
    for (let level = this.rootLevel; level > 1; level--) {
      const addr = table + (Math.floor(gpa / LEVEL_SCALE[level]!) % 512) * 8;
      const lo = pool.readU32(addr);
      const hi = pool.readU32(addr + 4);
      if (!f.isPresent(lo)) {
        const page = pool.allocPage();
        pool.writeU32(addr, ((page % TWO32) | f.tableLo) >>> 0);
        pool.writeU32(addr + 4, Math.floor(page / TWO32));
        table = page;
      } else {
        table = (hi & 0xfffff) * TWO32 + ((lo & ~0xfff) >>> 0);
      }
    }
    return table + (Math.floor(gpa / 4096) % 512) * 8;
  }

  /**
   * kvm_tdp_page_fault for a violation at gpa (write/fetch as the hardware reported it).
   * Returns RET_PF_FIXED when the access can simply be retried, RET_PF_EMULATE when the
   * instruction must be emulated (MMIO or a write to a read-only slot).
   */
  pageFault(gpa: number, isWrite: boolean): number {
    if (!(gpa >= 0 && gpa < 2 ** (12 + 9 * this.rootLevel))) return RET_PF_INVALID;
    const f = this.format;
    const slot = this.memslots.find(gpa);
    const entry = this.leafEntry(gpa);
    const frame = gpa - (gpa % 4096);
    if (slot === undefined) {
      this.pool.writeU32(entry, f.mmioLo);
      this.pool.writeU32(entry + 4, f.mmioHi);
      this.stats.mmio++;
      return RET_PF_EMULATE;
    }
    const readonly = (slot.flags & KVM_MEM_READONLY) !== 0;
    const logging = (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    if (readonly && isWrite) {
      this.writeLeaf(entry, frame, false);
      return RET_PF_EMULATE;
    }
    let writable = !readonly;
    if (logging) {
      // Write-protected until the first write; that write marks the page dirty.
      writable = isWrite;
      if (isWrite) {
        this.memslots.markDirty(gpa);
        this.stats.dirty++;
      }
    }
    this.writeLeaf(entry, frame, writable);
    this.stats.fixed++;
    return RET_PF_FIXED;
  }

  private writeLeaf(entry: number, frame: number, writable: boolean): void {
    const f = this.format;
    this.pool.writeU32(entry, ((frame % TWO32) | f.leafLo(writable)) >>> 0);
    this.pool.writeU32(entry + 4, (Math.floor(frame / TWO32) | f.leafHi(true)) >>> 0);
  }

  /** Whether gpa currently has an MMIO SPTE (the vendor's misconfig/RSVD fault handler asks). */
  isMmioSpte(gpa: number): boolean {
    const e = this.leafEntry(gpa);
    return this.pool.readU32(e) === this.format.mmioLo >>> 0 && this.pool.readU32(e + 4) === this.format.mmioHi >>> 0;
  }
}
