/**
 * Dynamic address translation (Principles of Operation, "Translation"): region-first,
 * -second and -third tables, segment tables and page tables, with EDAT-1 large (1 MiB)
 * segments when CR0's EDAT-1 control is on. Table entries are read at absolute
 * addresses; the result is a real address (prefixing follows). A small direct-mapped
 * TLB in typed arrays caches page translations; PTLB, IPTE, IDTE and control-register
 * loads flush it.
 */
import type { S390Cpu } from './cpu';
import type { DatTranslator } from './dat';
import {
  PGM_ADDRESSING, PGM_ASCE_TYPE, PGM_PAGE_TRANSLATION, PGM_PROTECTION, PGM_REGION_FIRST_TRANS,
  PGM_REGION_SECOND_TRANS, PGM_REGION_THIRD_TRANS, PGM_SEGMENT_TRANSLATION, PGM_TRANSLATION_SPEC,
} from './pgm';

const TWO32 = 4294967296;
const TLB_SIZE = 256;

/** ASCE bits (low word). */
export const ASCE_REAL_SPACE = 0x20;
export const ASCE_TYPE_MASK = 0x0c;
export const ASCE_TYPE_REGION1 = 0x0c;
export const ASCE_TYPE_REGION2 = 0x08;
export const ASCE_TYPE_REGION3 = 0x04;
export const ASCE_TYPE_SEGMENT = 0x00;
export const ASCE_TABLE_LENGTH = 0x03;
/** Region/segment/page table entry bits (low word). */
export const REGION_ENTRY_INVALID = 0x20;
export const SEGMENT_ENTRY_FC = 0x400;
export const SEGMENT_ENTRY_P = 0x200;
export const SEGMENT_ENTRY_INVALID = 0x20;
export const PAGE_INVALID = 0x400;
export const PAGE_PROTECT = 0x200;
/** CR0 bit 40: EDAT-1 enablement (in CR0's low word). */
export const CR0_EDAT = 0x00800000;

export class Dat implements DatTranslator {
  private readonly tag = new Float64Array(TLB_SIZE).fill(-1);
  private readonly frame = new Float64Array(TLB_SIZE);
  private readonly writable = new Uint8Array(TLB_SIZE);

  flush(): void {
    this.tag.fill(-1);
  }

  translate(c: S390Cpu, la: number, write: boolean, _fetch: boolean): number {
    const asc = (c.pswMask0 >>> 14) & 3;
    const vpn = Math.floor(la / 4096);
    const key = vpn * 4 + asc;
    const slot = vpn & (TLB_SIZE - 1);
    if (this.tag[slot] === key && (!write || this.writable[slot] === 1)) return this.frame[slot]! + (la & 0xfff);
    const r = this.walk(c, la, asc, write);
    this.tag[slot] = key;
    this.frame[slot] = r.frame;
    this.writable[slot] = r.prot ? 0 : 1;
    return r.frame + (la & 0xfff);
  }

  private readonly res = { frame: 0, prot: false };

  private fault(c: S390Cpu, code: number, la: number, asc: number): never {
    // Translation-exception identification: the page address and the ASCE id.
    c.transExcCode = Math.floor(la / 4096) * 4096 + (asc === 3 ? 3 : asc === 2 ? 2 : 0);
    return c.pgm(code);
  }

  /** Read an 8-byte table entry at an absolute address into c.r0:c.r1. */
  private entry(c: S390Cpu, abs: number): void {
    const off = c.storage.lookup(abs, 8);
    if (off < 0) c.pgm(PGM_ADDRESSING);
    c.r0 = c.storage.view.getUint32(off);
    c.r1 = c.storage.view.getUint32(off + 4);
  }

  private walk(c: S390Cpu, la: number, asc: number, write: boolean): { frame: number; prot: boolean } {
    const cr = asc === 2 ? 7 : asc === 3 ? 13 : 1; // secondary, home, else primary
    const ah = c.cr[2 * cr]!;
    const al = c.cr[2 * cr + 1]!;
    if (al & ASCE_REAL_SPACE) { this.res.frame = la - (la % 4096); this.res.prot = false; return this.res; }
    const hiVa = Math.floor(la / TWO32);
    const loVa = la >>> 0;
    const rfx = hiVa >>> 21;
    const rsx = (hiVa >>> 10) & 0x7ff;
    const rtx = ((hiVa & 0x3ff) << 1) | (loVa >>> 31);
    const sx = (loVa >>> 20) & 0x7ff;
    const px = (loVa >>> 12) & 0xff;
    const type = al & ASCE_TYPE_MASK;
    // The virtual address may not exceed what the top table can map.
    if ((type === ASCE_TYPE_SEGMENT && (hiVa !== 0 || (loVa & 0x80000000) !== 0))
      || (type === ASCE_TYPE_REGION3 && (hiVa >>> 10) !== 0)
      || (type === ASCE_TYPE_REGION2 && (hiVa >>> 21) !== 0)) this.fault(c, PGM_ASCE_TYPE, la, asc);
    let origin = ah * TWO32 + (al & ~0xfff);
    let tl = al & 3;
    let tf = 0;
    let prot = false;
    // Region tables: each level's entry gives the next table's origin, offset and length.
    const levels = type === ASCE_TYPE_REGION1 ? 3 : type === ASCE_TYPE_REGION2 ? 2 : type === ASCE_TYPE_REGION3 ? 1 : 0;
    for (let lvl = levels; lvl > 0; lvl--) {
      const idx = lvl === 3 ? rfx : lvl === 2 ? rsx : rtx;
      const exc = lvl === 3 ? PGM_REGION_FIRST_TRANS : lvl === 2 ? PGM_REGION_SECOND_TRANS : PGM_REGION_THIRD_TRANS;
      if ((idx >>> 9) < tf || (idx >>> 9) > tl) this.fault(c, exc, la, asc);
      this.entry(c, origin + idx * 8);
      const eh = c.r0;
      const el = c.r1;
      if (el & REGION_ENTRY_INVALID) this.fault(c, exc, la, asc);
      if (((el >>> 2) & 3) !== lvl) this.fault(c, PGM_TRANSLATION_SPEC, la, asc);
      if (el & 0x200) prot = true; // P (with EDAT-1's DAT-protection in region entries)
      origin = eh * TWO32 + (el & ~0xfff);
      tf = (el >>> 6) & 3;
      tl = el & 3;
    }
    // Segment table.
    if ((sx >>> 9) < tf || (sx >>> 9) > tl) this.fault(c, PGM_SEGMENT_TRANSLATION, la, asc);
    this.entry(c, origin + sx * 8);
    const sh = c.r0;
    const sl = c.r1;
    if (sl & SEGMENT_ENTRY_INVALID) this.fault(c, PGM_SEGMENT_TRANSLATION, la, asc);
    if ((sl >>> 2) & 3) this.fault(c, PGM_TRANSLATION_SPEC, la, asc);
    if (sl & SEGMENT_ENTRY_P) prot = true;
    let frame: number;
    if ((sl & SEGMENT_ENTRY_FC) !== 0 && (c.cr[1]! & CR0_EDAT) !== 0) {
      // EDAT-1: a 1 MiB segment frame.
      frame = sh * TWO32 + ((sl & 0xfff00000) >>> 0) + (loVa & 0x000ff000);
    } else {
      const pto = sh * TWO32 + ((sl & ~0x7ff) >>> 0);
      this.entry(c, pto + px * 8);
      const ph = c.r0;
      const pl = c.r1;
      if (pl & PAGE_INVALID) this.fault(c, PGM_PAGE_TRANSLATION, la, asc);
      if (pl & 0x800) this.fault(c, PGM_TRANSLATION_SPEC, la, asc);
      if (pl & PAGE_PROTECT) prot = true;
      frame = ph * TWO32 + ((pl & ~0xfff) >>> 0);
    }
    if (write && prot) this.fault(c, PGM_PROTECTION, la, asc);
    this.res.frame = frame;
    this.res.prot = prot;
    return this.res;
  }
}
