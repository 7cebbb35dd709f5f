/**
 * The software TLB's geometry (cpu.ts): three direct-mapped arrays of TLB_SIZE entries,
 * for reads, writes and fetches, in that order, indexed by the linear page number's low
 * TLB_BITS. 4096 entries per kind: the amd64 Debian kernel's boot walked the page tables
 * 1.24 M times with 1024 (the direct map and the kernel text alias in a small TLB), 0.15 M
 * with 4096. The compiled tier's inline accesses index the same arrays (jit/emit.ts).
 */
export const TLB_BITS = 12;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
/** The first write entry (ACCESS_WRITE * TLB_SIZE). */
export const TLB_WRITE_BASE = TLB_SIZE;
