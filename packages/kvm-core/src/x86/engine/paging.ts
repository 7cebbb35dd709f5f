/**
 * The guest's own page-table walk (SDM Vol. 3 chapter 4): 32-bit paging (with PSE 4 MiB
 * pages), PAE paging (2 MiB pages) and 4-level paging (2 MiB and 1 GiB pages), with
 * U/S, R/W, NX (EFER.NXE), CR0.WP, SMEP/SMAP, accessed/dirty bits and reserved-bit
 * checks. Table accesses go through the TDP hook (page-walk accesses) to the memslots.
 */
import {
  CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, CR4_SMAP, CR4_SMEP, EFER_LMA, EFER_NXE, FLAG_AC, PFERR_FETCH, PFERR_PRESENT,
  PFERR_RSVD, PFERR_USER, PFERR_WRITE,
} from './constants';
import type { X86Cpu } from './cpu';

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;

/** MAXPHYADDR reported in CPUID 0x80000008 and enforced on page-table entries. */
export const MAXPHYADDR = 46;
/** Reserved bits 51:MAXPHYADDR of an entry's high half. */
const RSVD_HI_PHYS = ((1 << (52 - 32)) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1);
const PHYS_HI_MASK = (1 << (MAXPHYADDR - 32)) - 1;
const TWO32 = 0x1_0000_0000;

/** Entries touched by the current walk (gpa), so A/D bits are set only on success. */
const touched = new Float64Array(5);
const touchedLo = new Int32Array(5);

/**
 * Translate la for `access`. Returns the guest-physical address, or -1 with
 * cpu.walkErrorCode holding the #PF error code. Sets cpu.walkGlobal / walkCacheable.
 */
export function walkPageTables(cpu: X86Cpu, la: number, access: number, user: boolean): number {
  const cr4 = cpu.cr4;
  const nxe = (cpu.efer & EFER_NXE) !== 0;
  const lo = la >>> 0;
  let n = 0;
  let rw = 1;
  let us = 1;
  let nx = 0;
  let leafLo = 0;
  let pa = 0;
  let rsvd = false;
  let present = true;
  let global = 0;

  if (!(cr4 & CR4_PAE)) {
    // 32-bit paging: 2 levels of 4-byte entries. Entries are read as int32: every masked
    // address is made unsigned (>>> 0), or a frame at or above 2 GiB (the LAPIC page at
    // 0xfee00000 behind a fixmap) would come out negative, i.e. "not present".
    const pdeAddr = ((cpu.cr3 & 0xfffff000) >>> 0) + ((lo >>> 22) << 2);
    const pde = cpu.physRead32(pdeAddr);
    touched[n] = pdeAddr; touchedLo[n++] = pde;
    if (!(pde & 1)) present = false;
    else {
      rw &= (pde >> 1) & 1;
      us &= (pde >> 2) & 1;
      if ((pde & 0x80) && (cr4 & CR4_PSE)) {
        // 4 MiB page; bits 20:13 are physical address bits 39:32 (PSE-36), bit 21 reserved.
        if (pde & (1 << 21)) rsvd = true;
        pa = ((pde >>> 13) & 0xff) * TWO32 + ((pde & 0xffc00000) >>> 0) + (lo & 0x3fffff);
        leafLo = pde;
      } else {
        const pteAddr = ((pde & 0xfffff000) >>> 0) + (((lo >>> 12) & 0x3ff) << 2);
        const pte = cpu.physRead32(pteAddr);
        touched[n] = pteAddr; touchedLo[n++] = pte;
        if (!(pte & 1)) present = false;
        else {
          rw &= (pte >> 1) & 1;
          us &= (pte >> 2) & 1;
          pa = ((pte & 0xfffff000) >>> 0) + (lo & 0xfff);
          leafLo = pte;
        }
      }
    }
  } else {
    const long = (cpu.efer & EFER_LMA) !== 0;
    let table: number;
    let level: number;
    const hi = Math.floor(la / TWO32) | 0;
    if (long) {
      table = cpu.cr3 - (cpu.cr3 % 4096);
      level = 4;
    } else {
      // PAE: the PDPTE selected by bits 31:30 (its R/W, U/S, NX bits are reserved).
      const pdpteAddr = ((cpu.cr3 & 0xffffffe0) >>> 0) + ((lo >>> 30) << 3);
      const elo = cpu.physRead32(pdpteAddr);
      const ehi = cpu.physRead32(pdpteAddr + 4);
      if (!(elo & 1)) present = false;
      else if ((elo & 0x1e6) || (ehi & ~PHYS_HI_MASK)) rsvd = true;
      table = (ehi & PHYS_HI_MASK) * TWO32 + ((elo & 0xfffff000) >>> 0);
      level = 2;
    }
    while (present && !rsvd) {
      let idx: number;
      if (level === 4) idx = (hi >>> 7) & 0x1ff;
      else if (level === 3) idx = ((hi << 2) | (lo >>> 30)) & 0x1ff;
      else if (level === 2) idx = (lo >>> 21) & 0x1ff;
      else idx = (lo >>> 12) & 0x1ff;
      const addr = table + idx * 8;
      const elo = cpu.physRead32(addr);
      const ehi = cpu.physRead32(addr + 4);
      touched[n] = addr; touchedLo[n++] = elo;
      if (!(elo & 1)) { present = false; break; }
      if ((ehi & RSVD_HI_PHYS) || (!nxe && ehi < 0)) rsvd = true;
      rw &= (elo >> 1) & 1;
      us &= (elo >> 2) & 1;
      if (ehi < 0) nx = 1;
      const ps = (elo & 0x80) !== 0;
      if (level === 4 && ps) rsvd = true;
      const base = (ehi & PHYS_HI_MASK) * TWO32;
      if (level === 1 || (ps && level <= 3)) {
        if (level === 3) {
          if (elo & 0x3fffe000) rsvd = true; // bits 29:13 of a 1 GiB page
          pa = base + ((elo >>> 30) * 0x40000000) + (lo & 0x3fffffff);
        } else if (level === 2) {
          if (elo & 0x1fe000) rsvd = true; // bits 20:13 of a 2 MiB page
          pa = base + ((elo >>> 21) * 0x200000) + (lo & 0x1fffff);
        } else {
          pa = base + ((elo >>> 12) * 4096) + (lo & 0xfff);
        }
        leafLo = elo;
        break;
      }
      table = base + (elo >>> 12) * 4096;
      level--;
    }
  }

  // Permission checks (SDM 4.6).
  const write = access === ACCESS_WRITE;
  const fetch = access === ACCESS_FETCH;
  let ec = (write ? PFERR_WRITE : 0) | (user ? PFERR_USER : 0) | (fetch && (nxe || (cr4 & CR4_SMEP)) ? PFERR_FETCH : 0);
  cpu.walkCacheable = true;
  if (!present) {
    cpu.walkErrorCode = ec;
    return -1;
  }
  if (rsvd) {
    cpu.walkErrorCode = ec | PFERR_PRESENT | PFERR_RSVD;
    return -1;
  }
  let ok = true;
  if (user) {
    if (!us) ok = false;
    else if (write && !rw) ok = false;
    else if (fetch && nx && nxe) ok = false;
  } else {
    const implicit = cpu.implicitSupervisor;
    if (write && !rw && (cpu.cr0 & CR0_WP)) ok = false;
    if (fetch && nx && nxe) ok = false;
    if (fetch && us && (cr4 & CR4_SMEP)) ok = false;
    if (!fetch && us && (cr4 & CR4_SMAP)) {
      if (implicit || !(cpu.flags & FLAG_AC)) ok = false;
      cpu.walkCacheable = false;
    }
  }
  if (!ok) {
    ec |= PFERR_PRESENT;
    cpu.walkErrorCode = ec;
    return -1;
  }
  // Accessed bits on every entry, dirty on the leaf for a write.
  for (let k = 0; k < n; k++) {
    const v = touchedLo[k]!;
    let nv = v | 0x20;
    if (k === n - 1 && write) nv |= 0x40;
    if (nv !== v) cpu.physWrite32(touched[k]!, nv);
  }
  if ((leafLo & 0x100) && (cr4 & CR4_PGE)) global = 1;
  cpu.walkGlobal = global;
  return pa;
}
