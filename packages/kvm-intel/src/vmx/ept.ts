/**
 * Extended page tables (SDM vol. 3C 29.3): the EPT pointer, the 4-level walk from
 * guest-physical to host-physical addresses with 1 GiB and 2 MiB pages, accessed/dirty
 * flags, and the two ways a walk fails: EPT misconfiguration (an entry that is
 * architecturally invalid: W without R, execute-only without support, reserved bits,
 * reserved memory type) and EPT violation (not present, or the access is not allowed),
 * with the exit qualification of SDM table 28-7.
 *
 * `eptWalk` runs on every TLB miss: it writes into a caller-owned EptWalkResult and
 * allocates nothing.
 */
import {
  VMX_EPT_1GB_PAGE_BIT,
  VMX_EPT_2MB_PAGE_BIT,
  VMX_EPT_AD_BIT,
  VMX_EPT_EXECUTE_ONLY_BIT,
  VMX_EPT_PAGE_WALK_4_BIT,
  VMX_EPTP_UC_BIT,
  VMX_EPTP_WB_BIT,
} from './capabilities';
import {
  EPT_VIOLATION_ACC_INSTR,
  EPT_VIOLATION_ACC_READ,
  EPT_VIOLATION_ACC_WRITE,
  EPT_VIOLATION_GVA_IS_VALID,
  EPT_VIOLATION_GVA_TRANSLATED,
} from './exit-info';
import type { PageTableMemory } from '@kvmts/kvm-core';

// EPT pointer (SDM 25.6.11), Linux's VMX_EPTP_* names
export const VMX_EPTP_MT_MASK = 0x7;
export const VMX_EPTP_MT_UC = 0;
export const VMX_EPTP_MT_WB = 6;
export const VMX_EPTP_PWL_MASK = 0x38;
export const VMX_EPTP_PWL_4 = 0x18;
export const VMX_EPTP_AD_ENABLE_BIT = 1 << 6;

// EPT entries (SDM tables 29-1..29-6), Linux's VMX_EPT_* names
export const VMX_EPT_READABLE_MASK = 1 << 0;
export const VMX_EPT_WRITABLE_MASK = 1 << 1;
export const VMX_EPT_EXECUTABLE_MASK = 1 << 2;
export const VMX_EPT_RWX_MASK = 7;
export const VMX_EPT_MT_SHIFT = 3;
export const VMX_EPT_IPAT_BIT = 1 << 6;
export const VMX_EPT_LARGE_PAGE = 1 << 7;
export const VMX_EPT_ACCESS_BIT = 1 << 8;
export const VMX_EPT_DIRTY_BIT = 1 << 9;

/** Memory types (SDM 12.3): 2, 3 and 7 are reserved in EPT leaf entries. */
export const MTRR_TYPE_UNCACHABLE = 0;
export const MTRR_TYPE_WRCOMB = 1;
export const MTRR_TYPE_WRTHROUGH = 4;
export const MTRR_TYPE_WRPROT = 5;
export const MTRR_TYPE_WRBACK = 6;

function memTypeReserved(mt: number): boolean {
  return mt === 2 || mt === 3 || mt === 7;
}

export const EPT_WALK_OK = 0;
export const EPT_WALK_VIOLATION = 1;
export const EPT_WALK_MISCONFIG = 2;

/** Access flags for a walk. */
export const EPT_ACCESS_READ = 1;
export const EPT_ACCESS_WRITE = 2;
export const EPT_ACCESS_FETCH = 4;

export interface EptpFields {
  memoryType: number;
  pageWalkLength: number;
  adEnabled: boolean;
  pml4: number;
}

export function encodeEptp(pml4: number, memoryType = VMX_EPTP_MT_WB, adEnabled = false): number {
  return pml4 + memoryType + VMX_EPTP_PWL_4 + (adEnabled ? VMX_EPTP_AD_ENABLE_BIT : 0);
}

/** Decodes an EPTP given as (lo, hi) halves. */
export function decodeEptp(lo: number, hi: number): EptpFields {
  return {
    memoryType: lo & VMX_EPTP_MT_MASK,
    pageWalkLength: ((lo & VMX_EPTP_PWL_MASK) >>> 3) + 1,
    adEnabled: (lo & VMX_EPTP_AD_ENABLE_BIT) !== 0,
    pml4: (hi & 0xfffff) * 4294967296 + ((lo & ~0xfff) >>> 0),
  };
}

/**
 * EPTP validity (SDM 26.2.1.1): memory type UC or WB as IA32_VMX_EPT_VPID_CAP allows,
 * page-walk length 4, A/D only if supported, bits 11:7 and bits 63:N zero.
 * Returns undefined when valid, else a message.
 */
export function checkEptp(lo: number, hi: number, eptCap: number, physAddrWidth: number): string | undefined {
  const mt = lo & VMX_EPTP_MT_MASK;
  if (!((mt === VMX_EPTP_MT_UC && eptCap & VMX_EPTP_UC_BIT) || (mt === VMX_EPTP_MT_WB && eptCap & VMX_EPTP_WB_BIT))) {
    return `EPTP memory type ${mt} not supported`;
  }
  if ((lo & VMX_EPTP_PWL_MASK) !== VMX_EPTP_PWL_4 || !(eptCap & VMX_EPT_PAGE_WALK_4_BIT)) return 'EPTP page-walk length is not 4';
  if (lo & VMX_EPTP_AD_ENABLE_BIT && !(eptCap & VMX_EPT_AD_BIT)) return 'EPTP A/D enable without support';
  if (lo & 0xf80) return 'EPTP reserved bits 11:7 set';
  if (hi & ~physHiMask(physAddrWidth)) return 'EPTP address beyond the physical-address width';
  return undefined;
}

/** Mask of the bits of the high dword that lie below MAXPHYADDR. */
function physHiMask(physAddrWidth: number): number {
  return physAddrWidth >= 52 ? 0xfffff : (1 << (physAddrWidth - 32)) - 1;
}

/** Output of a walk, reused across walks by its owner. */
export class EptWalkResult {
  /** Host-physical address of the accessed byte (OK). */
  hpa = 0;
  /** Page size of the leaf: 4096, 2 MiB or 1 GiB (OK). */
  pageSize = 0;
  /** Leaf memory type and ignore-PAT bit (OK). */
  memoryType = 0;
  ignorePat = false;
  /** AND of R/W/X (bits 2:0) over the entries walked: the permissions of the translation. */
  permissions = 0;
  /** Exit qualification of an EPT violation (SDM table 28-7). */
  qualification = 0;
  /** Level (4..1) of the entry that was not present, refused the access or was misconfigured. */
  faultLevel = 0;
}

export interface EptWalkConfig {
  /** IA32_VMX_EPT_VPID_CAP (low dword) of the silicon: execute-only, 2M/1G pages. */
  eptCap: number;
  physAddrWidth: number;
}

const LEVEL_SHIFT_SCALE = [0, 4096, 2097152, 1073741824, 549755813888]; // 2^(12 + 9*(level-1))
const entryAddrs = new Float64Array(5);

/**
 * Walks the EPT for `gpa` with `access` (EPT_ACCESS_* flags). `eptpLo/Hi` is the EPT
 * pointer. `gvaValid`/`gvaTranslated` describe the access for the qualification (bits 7
 * and 8): with EPT A/D enabled, accesses to guest paging structures (gvaValid &&
 * !gvaTranslated) count as writes (SDM 29.3.3.2). On success, sets the accessed flags of
 * the entries used and, for a write, the dirty flag of the leaf (when A/D is enabled).
 */
export function eptWalk(
  mem: PageTableMemory,
  cfg: EptWalkConfig,
  eptpLo: number,
  eptpHi: number,
  gpa: number,
  access: number,
  gvaValid: boolean,
  gvaTranslated: boolean,
  out: EptWalkResult,
): number {
  const ad = (eptpLo & VMX_EPTP_AD_ENABLE_BIT) !== 0;
  if (ad && gvaValid && !gvaTranslated) access |= EPT_ACCESS_WRITE;
  const hiMask = physHiMask(cfg.physAddrWidth);
  let table = (eptpHi & hiMask) * 4294967296 + ((eptpLo & ~0xfff) >>> 0);
  let perms = 7;
  let level = 4;
  for (;;) {
    const idx = Math.floor(gpa / LEVEL_SHIFT_SCALE[level]!) & 0x1ff;
    const pteAddr = table + idx * 8;
    const lo = mem.readU32(pteAddr);
    const hi = mem.readU32(pteAddr + 4);
    entryAddrs[level] = pteAddr;
    const rwx = lo & VMX_EPT_RWX_MASK;
    if (rwx === 0) {
      perms = 0;
      return violation(out, access, perms, level, gvaValid, gvaTranslated);
    }
    // Misconfigurations (SDM 29.3.3.1)
    if ((rwx & 3) === VMX_EPT_WRITABLE_MASK) return misconfig(out, level);
    if (rwx === VMX_EPT_EXECUTABLE_MASK && !(cfg.eptCap & VMX_EPT_EXECUTE_ONLY_BIT)) return misconfig(out, level);
    if ((hi & 0xfffff & ~hiMask) !== 0) return misconfig(out, level);
    const large = level < 4 && (lo & VMX_EPT_LARGE_PAGE) !== 0;
    let leaf = level === 1;
    if (level === 4) {
      if (lo & 0xf8) return misconfig(out, level); // bits 7:3 reserved in a PML4E
    } else if (large) {
      if (level === 3) {
        if (!(cfg.eptCap & VMX_EPT_1GB_PAGE_BIT) || (lo & 0x3ffff000) !== 0) return misconfig(out, level);
      } else if (!(cfg.eptCap & VMX_EPT_2MB_PAGE_BIT) || (lo & 0x1ff000) !== 0) {
        return misconfig(out, level);
      }
      leaf = true;
    } else if (level > 1 && (lo & 0x78) !== 0) {
      return misconfig(out, level); // bits 6:3 reserved in a non-leaf PDPTE/PDE
    }
    if (leaf && memTypeReserved((lo >>> VMX_EPT_MT_SHIFT) & 7)) return misconfig(out, level);
    perms &= rwx;
    if (leaf) {
      if (((access & EPT_ACCESS_READ) && !(perms & 1)) || ((access & EPT_ACCESS_WRITE) && !(perms & 2)) || ((access & EPT_ACCESS_FETCH) && !(perms & 4))) {
        return violation(out, access, perms, level, gvaValid, gvaTranslated);
      }
      const size = LEVEL_SHIFT_SCALE[level]!;
      const frame = (hi & hiMask) * 4294967296 + ((lo & ~0xfff) >>> 0);
      const base = frame - (frame % size);
      out.hpa = base + (gpa % size);
      out.pageSize = size;
      out.memoryType = (lo >>> VMX_EPT_MT_SHIFT) & 7;
      out.ignorePat = (lo & VMX_EPT_IPAT_BIT) !== 0;
      out.permissions = perms;
      out.qualification = 0;
      out.faultLevel = 0;
      if (ad) {
        for (let l = 4; l >= level; l--) {
          const a = entryAddrs[l]!;
          let v = mem.readU32(a) | VMX_EPT_ACCESS_BIT;
          if (l === level && (access & EPT_ACCESS_WRITE)) v |= VMX_EPT_DIRTY_BIT;
          mem.writeU32(a, v);
        }
      }
      return EPT_WALK_OK;
    }
    table = (hi & hiMask) * 4294967296 + ((lo & ~0xfff) >>> 0);
    level--;
  }
}

function violation(out: EptWalkResult, access: number, perms: number, level: number, gvaValid: boolean, gvaTranslated: boolean): number {
  out.permissions = perms;
  out.faultLevel = level;
  out.qualification =
    (access & EPT_ACCESS_READ ? EPT_VIOLATION_ACC_READ : 0) |
    (access & EPT_ACCESS_WRITE ? EPT_VIOLATION_ACC_WRITE : 0) |
    (access & EPT_ACCESS_FETCH ? EPT_VIOLATION_ACC_INSTR : 0) |
    ((perms & 7) << 3) |
    (gvaValid ? EPT_VIOLATION_GVA_IS_VALID : 0) |
    (gvaValid && gvaTranslated ? EPT_VIOLATION_GVA_TRANSLATED : 0);
  return EPT_WALK_VIOLATION;
}

function misconfig(out: EptWalkResult, level: number): number {
  out.faultLevel = level;
  out.qualification = 0; // the exit qualification of an EPT misconfiguration is undefined (0 here)
  return EPT_WALK_MISCONFIG;
}

/**
 * Builds EPT mappings in a PageTableMemory (tests, and kvm-core's MMU later). Tables come
 * from `allocPage` (zeroed 4 KiB pages). Not a hot path.
 */
export class EptBuilder {
  readonly pml4: number;

  constructor(
    private readonly mem: PageTableMemory,
    private readonly allocPage: () => number,
  ) {
    this.pml4 = allocPage();
  }

  /** The EPTP for these tables. */
  eptp(memoryType = VMX_EPTP_MT_WB, adEnabled = false): number {
    return encodeEptp(this.pml4, memoryType, adEnabled);
  }

  /**
   * Maps [gpa, gpa+size) to [hpa, hpa+size) with R/W/X `perms` and memory type `memType`
   * (WB by default), using the largest pages alignment allows if `largePages`.
   */
  map(gpa: number, hpa: number, size: number, perms = 7, memType = MTRR_TYPE_WRBACK, largePages = true): void {
    if (gpa % 4096 || hpa % 4096 || size % 4096) throw new RangeError('EPT mappings must be 4 KiB aligned');
    let off = 0;
    while (off < size) {
      const g = gpa + off;
      const h = hpa + off;
      let level = 1;
      if (largePages) {
        if (g % 1073741824 === 0 && h % 1073741824 === 0 && size - off >= 1073741824) level = 3;
        else if (g % 2097152 === 0 && h % 2097152 === 0 && size - off >= 2097152) level = 2;
      }
      this.setLeaf(g, h, level, perms, memType);
      off += LEVEL_SHIFT_SCALE[level]!;
    }
  }

  /** Identity map [0, size). */
  identityMap(size: number, perms = 7): void {
    this.map(0, 0, size, perms);
  }

  /**
   * Maps a memslot: RWX, or R-X for KVM_MEM_READONLY so that guest writes become EPT
   * violations (which KVM turns into MMIO exits).
   */
  mapSlot(gpa: number, hpa: number, size: number, readonly: boolean): void {
    this.map(gpa, hpa, size, readonly ? VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK : VMX_EPT_RWX_MASK);
  }

  /** Writes a raw entry at `level` for `gpa` (creating tables above it): tests use it to build broken entries. */
  setRawEntry(gpa: number, level: number, lo: number, hi: number): void {
    const addr = this.entryAddress(gpa, level);
    this.mem.writeU32(addr, lo);
    this.mem.writeU32(addr + 4, hi);
  }

  /** Host-physical address of the entry that maps `gpa` at `level`, allocating tables above it. */
  entryAddress(gpa: number, level: number): number {
    let table = this.pml4;
    for (let l = 4; l > level; l--) {
      const addr = table + (Math.floor(gpa / LEVEL_SHIFT_SCALE[l]!) & 0x1ff) * 8;
      let lo = this.mem.readU32(addr);
      let hi = this.mem.readU32(addr + 4);
      if ((lo & 7) === 0) {
        const page = this.allocPage();
        lo = ((page % 4294967296) | 7) >>> 0;
        hi = Math.floor(page / 4294967296);
        this.mem.writeU32(addr, lo);
        this.mem.writeU32(addr + 4, hi);
      } else if (l < 4 && lo & VMX_EPT_LARGE_PAGE) {
        throw new RangeError(`0x${gpa.toString(16)} is already mapped by a large page`);
      }
      table = hi * 4294967296 + ((lo & ~0xfff) >>> 0);
    }
    return table + (Math.floor(gpa / LEVEL_SHIFT_SCALE[level]!) & 0x1ff) * 8;
  }

  private setLeaf(gpa: number, hpa: number, level: number, perms: number, memType: number): void {
    const lo = ((hpa % 4294967296) | (perms & 7) | ((memType & 7) << VMX_EPT_MT_SHIFT) | (level > 1 ? VMX_EPT_LARGE_PAGE : 0)) >>> 0;
    this.setRawEntry(gpa, level, lo, Math.floor(hpa / 4294967296));
  }
}
