/**
 * Nested paging (AMD APM vol. 2, 15.25): guest-physical to host-physical translation
 * through the table at N_CR3 in the AMD64 long-mode format (4 levels; 2 MiB and 1 GiB
 * pages; P/RW/US/NX/A/D; reserved-bit checks). Nested walks are user-mode accesses
 * (APM 15.25.5), so every level needs US=1 and writes need RW=1 regardless of CR0.WP.
 * A failure is a #NPF with the page-fault error code in EXITINFO1 (plus bit 32 = final
 * translation, bit 33 = guest page-table access) and the guest-physical address in EXITINFO2.
 *
 * `nptWalk` runs on every TLB miss: it writes into a caller-owned NptWalkResult and
 * allocates nothing.
 */
import type { PageTableMemory } from '@kvmts/kvm-core';
import {
  PFERR_FETCH_MASK, PFERR_GUEST_FINAL_HI, PFERR_GUEST_PAGE_HI, PFERR_PRESENT_MASK, PFERR_RSVD_MASK, PFERR_USER_MASK, PFERR_WRITE_MASK,
} from './exit-info';

export const PT_PRESENT_MASK = 1 << 0;
export const PT_WRITABLE_MASK = 1 << 1;
export const PT_USER_MASK = 1 << 2;
export const PT_ACCESSED_MASK = 1 << 5;
export const PT_DIRTY_MASK = 1 << 6;
export const PT_PAGE_SIZE_MASK = 1 << 7;
/** NX is bit 63: bit 31 of the high dword. */
export const PT_NX_HI = 1 << 31;

export const NPT_WALK_OK = 0;
export const NPT_WALK_FAULT = 1;

export const NPT_ACCESS_READ = 0;
export const NPT_ACCESS_WRITE = 1;
export const NPT_ACCESS_FETCH = 2;

export interface NptWalkConfig {
  /** Host physical-address width (CPUID 8000_0008 EAX[7:0]). */
  physAddrWidth: number;
  /** Host EFER.NXE at VMRUN: NX is a reserved bit without it. */
  nxEnabled: boolean;
  /** 1 GiB pages supported (CPUID 8000_0001 EDX.Page1GB). */
  gbPages: boolean;
}

export class NptWalkResult {
  hpa = 0;
  pageSize = 0;
  /** AND of RW over the levels. */
  writable = false;
  /** OR of NX over the levels. */
  noExecute = false;
  /** EXITINFO1 of the #NPF (low dword: error code; high dword: bits 32/33). */
  exitInfo1Lo = 0;
  exitInfo1Hi = 0;
  /** Level (4..1) where the walk failed. */
  faultLevel = 0;
}

const SCALE = [0, 4096, 2097152, 1073741824, 549755813888];
const entryAddrs = new Float64Array(5);

function physHiMask(width: number): number {
  return width >= 52 ? 0xfffff : (1 << (width - 32)) - 1;
}

/**
 * Walks the nested tables at `ncr3` for `gpa`. `access` is NPT_ACCESS_*; `guestPageTable`
 * says the access is the guest's own page walk (EXITINFO1 bit 33) rather than the final
 * translation (bit 32). Sets A on each entry used and D on the leaf for a write.
 */
export function nptWalk(
  mem: PageTableMemory,
  cfg: NptWalkConfig,
  ncr3: number,
  gpa: number,
  access: number,
  guestPageTable: boolean,
  out: NptWalkResult,
): number {
  const hiMask = physHiMask(cfg.physAddrWidth);
  let table = ncr3 - (ncr3 % 4096);
  let writable = true;
  let user = true;
  let nx = false;
  let level = 4;
  for (;;) {
    const pteAddr = table + (Math.floor(gpa / SCALE[level]!) & 0x1ff) * 8;
    const lo = mem.readU32(pteAddr);
    const hi = mem.readU32(pteAddr + 4);
    entryAddrs[level] = pteAddr;
    if (!(lo & PT_PRESENT_MASK)) return fault(out, cfg, access, guestPageTable, level, false, false);
    let rsvd = (hi & 0xfffff & ~hiMask) !== 0 || (!cfg.nxEnabled && (hi & PT_NX_HI) !== 0);
    const large = level === 3 || level === 2 ? (lo & PT_PAGE_SIZE_MASK) !== 0 : false;
    if (level === 4) rsvd ||= (lo & 0x180) !== 0; // PML4E bits 8:7 MBZ
    else if (large && level === 3) rsvd ||= !cfg.gbPages || (lo & 0x3fffe000) !== 0; // bits 29:13
    else if (large && level === 2) rsvd ||= (lo & 0x1fe000) !== 0; // bits 20:13
    if (rsvd) return fault(out, cfg, access, guestPageTable, level, true, true);
    writable &&= (lo & PT_WRITABLE_MASK) !== 0;
    user &&= (lo & PT_USER_MASK) !== 0;
    nx ||= (hi & PT_NX_HI) !== 0;
    if (level === 1 || large) {
      if (!user || (access === NPT_ACCESS_WRITE && !writable) || (access === NPT_ACCESS_FETCH && nx && cfg.nxEnabled)) {
        return fault(out, cfg, access, guestPageTable, level, true, false);
      }
      const size = SCALE[level]!;
      const frame = (hi & hiMask) * 4294967296 + ((lo & ~0xfff) >>> 0);
      const base = frame - (frame % size);
      out.hpa = base + (gpa % size);
      out.pageSize = size;
      out.writable = writable;
      out.noExecute = nx;
      out.exitInfo1Lo = 0;
      out.exitInfo1Hi = 0;
      out.faultLevel = 0;
      for (let l = 4; l >= level; l--) {
        const a = entryAddrs[l]!;
        const v = mem.readU32(a);
        const nv = v | PT_ACCESSED_MASK | (l === level && access === NPT_ACCESS_WRITE ? PT_DIRTY_MASK : 0);
        if (nv !== v) mem.writeU32(a, nv);
      }
      return NPT_WALK_OK;
    }
    table = (hi & hiMask) * 4294967296 + ((lo & ~0xfff) >>> 0);
    level--;
  }
}

function fault(out: NptWalkResult, cfg: NptWalkConfig, access: number, guestPageTable: boolean, level: number, present: boolean, rsvd: boolean): number {
  out.faultLevel = level;
  out.exitInfo1Lo =
    (present ? PFERR_PRESENT_MASK : 0) |
    (access === NPT_ACCESS_WRITE ? PFERR_WRITE_MASK : 0) |
    PFERR_USER_MASK |
    (rsvd ? PFERR_RSVD_MASK : 0) |
    (access === NPT_ACCESS_FETCH && cfg.nxEnabled ? PFERR_FETCH_MASK : 0);
  out.exitInfo1Hi = guestPageTable ? PFERR_GUEST_PAGE_HI : PFERR_GUEST_FINAL_HI;
  return NPT_WALK_FAULT;
}

/** Permissions of an NPT mapping. */
export interface NptPerms {
  write: boolean;
  user: boolean;
  noExecute: boolean;
}

const RWX: NptPerms = { write: true, user: true, noExecute: false };

/** Builds nested page tables (tests, and kvm-core's MMU later). Not a hot path. */
export class NptBuilder {
  readonly ncr3: number;

  constructor(
    private readonly mem: PageTableMemory,
    private readonly allocPage: () => number,
  ) {
    this.ncr3 = allocPage();
  }

  map(gpa: number, hpa: number, size: number, perms: NptPerms = RWX, largePages = true): void {
    if (gpa % 4096 || hpa % 4096 || size % 4096) throw new RangeError('NPT mappings must be 4 KiB aligned');
    let off = 0;
    while (off < size) {
      const g = gpa + off;
      const h = hpa + off;
      let level = 1;
      if (largePages) {
        if (g % SCALE[3]! === 0 && h % SCALE[3]! === 0 && size - off >= SCALE[3]!) level = 3;
        else if (g % SCALE[2]! === 0 && h % SCALE[2]! === 0 && size - off >= SCALE[2]!) level = 2;
      }
      const lo = ((h % 4294967296) | PT_PRESENT_MASK | (perms.write ? PT_WRITABLE_MASK : 0) | (perms.user ? PT_USER_MASK : 0) | (level > 1 ? PT_PAGE_SIZE_MASK : 0)) >>> 0;
      const hi = (Math.floor(h / 4294967296) | (perms.noExecute ? PT_NX_HI : 0)) >>> 0;
      this.setRawEntry(g, level, lo, hi);
      off += SCALE[level]!;
    }
  }

  identityMap(size: number, perms: NptPerms = RWX): void {
    this.map(0, 0, size, perms);
  }

  /** Maps a memslot; a KVM_MEM_READONLY slot is mapped without RW so guest writes fault (#NPF -> MMIO). */
  mapSlot(gpa: number, hpa: number, size: number, readonly: boolean): void {
    this.map(gpa, hpa, size, { write: !readonly, user: true, noExecute: false });
  }

  setRawEntry(gpa: number, level: number, lo: number, hi: number): void {
    const a = this.entryAddress(gpa, level);
    this.mem.writeU32(a, lo);
    this.mem.writeU32(a + 4, hi);
  }

  /** Host-physical address of the entry for `gpa` at `level`, allocating tables above it (non-leaf entries are P|RW|US). */
  entryAddress(gpa: number, level: number): number {
    let table = this.ncr3;
    for (let l = 4; l > level; l--) {
      const addr = table + (Math.floor(gpa / SCALE[l]!) & 0x1ff) * 8;
      let lo = this.mem.readU32(addr);
      let hi = this.mem.readU32(addr + 4);
      if (!(lo & PT_PRESENT_MASK)) {
        const page = this.allocPage();
        lo = ((page % 4294967296) | PT_PRESENT_MASK | PT_WRITABLE_MASK | PT_USER_MASK) >>> 0;
        hi = Math.floor(page / 4294967296);
        this.mem.writeU32(addr, lo);
        this.mem.writeU32(addr + 4, hi);
      } else if (l < 4 && lo & PT_PAGE_SIZE_MASK) {
        throw new RangeError(`0x${gpa.toString(16)} is already mapped by a large page`);
      }
      table = (hi & 0xfffff) * 4294967296 + ((lo & ~0xfff) >>> 0);
    }
    return table + (Math.floor(gpa / SCALE[level]!) & 0x1ff) * 8;
  }
}
