/**
 * The z/Architecture CPU state the engine runs on, and its storage access.
 * Registers are typed arrays of 32-bit halves (even index = bits 0-31, odd = 32-63),
 * so the per-instruction path never needs BigInt or allocation.
 * Program exceptions abort the instruction by throwing the shared PGM_ABORT sentinel;
 * the run loop catches it and delivers (or intercepts) the program interruption.
 */
import { GuestStorage } from './storage';
import { LC_SIZE, LC_SVC_CODE, LC_SVC_ILC, LC_SVC_NEW_PSW, LC_SVC_OLD_PSW } from './lowcore';
import {
  PGM_ADDRESSING, PGM_PROTECTION, PGM_SPECIFICATION, PGM_SEGMENT_TRANSLATION,
} from './pgm';
import { PSW_MASK_BA, PSW_MASK_DAT, PSW_MASK_EA, PSW_MASK_CC, PSW_MASK_PSTATE } from './psw';
import type { DatTranslator } from './dat';
import type { TodClock } from './clock';

/** Thrown (never allocated per use) when an instruction takes a program exception. */
export const PGM_ABORT: { readonly kind: 'pgm' } = Object.freeze({ kind: 'pgm' as const });

const TWO32 = 4294967296;

export class S390Cpu {
  /** GPRs: gr[2r] = bits 0-31, gr[2r+1] = bits 32-63. */
  readonly gr = new Uint32Array(32);
  /** FPRs, same layout (a short BFP value lives in the high word). */
  readonly fpr = new Uint32Array(32);
  fpc = 0;
  /** Control registers, same layout. */
  readonly cr = new Uint32Array(32);
  /** Access registers. */
  readonly ar = new Uint32Array(16);

  /** PSW mask word 0 (bits 0-31) without the condition code, word 1 (bits 32-63). */
  pswMask0 = 0;
  pswMask1 = 0;
  /** PSW instruction address (a number: at most 53 significant bits are usable). */
  pswAddr = 0;
  cc = 0;
  prefix = 0;
  todpr = 0;

  /** Address of the instruction being executed and its length (for ILC / EX). */
  insnAddr = 0;
  insnLen = 0;
  /** Set by the executor when the instruction is EX/EXRL's target. */
  executing = false;

  /** Pending program interruption (set before PGM_ABORT is thrown). */
  pgmCode = 0;
  pgmIlc = 0;
  transExcCode = 0;
  dataExcCode = 0;

  /** Scratch results of wide operations (no allocation). */
  r0 = 0;
  r1 = 0;
  r2 = 0;
  r3 = 0;

  /** DAT, when the PSW's T bit is on; null means no DAT support (translation exception). */
  dat: DatTranslator | null = null;

  // ---- SIE: the state-description controls the engine obeys, and what it reports.
  /** Interception controls (state description ictl at 0x48). */
  ictl = 0;
  /** LCTL interception mask (state description lctl at 0x44): bit 15-n intercepts CRn. */
  lctl = 0;
  /** Set when the engine stops for an interception; 0 while running. */
  icptcode = 0;
  ipa = 0;
  ipb = 0;
  /** Interrupt classes the host wants an EXTREQ/IOREQ intercept for when enabled (PSW bits). */
  interventionMask = 0;

  // ---- timing facility
  readonly clock: TodClock;
  /** Instructions executed in the current SIE slice (virtual time = clock.ns + this). */
  sliceInsns = 0;
  /** Clock comparator and its deadline in virtual ns. */
  ckc = 0n;
  ckcNs = Infinity;
  /** CPU timer, as the virtual ns at which it reaches zero. */
  cputmNs = Infinity;
  /** Guest TOD epoch difference (state description epoch). */
  epoch = 0n;

  /** The facility list STFLE stores (big-endian bit numbering), set by KVM. */
  facilities: Uint8Array = new Uint8Array(8);

  constructor(readonly storage: GuestStorage, clock: TodClock) {
    this.clock = clock;
  }

  /** Virtual now in ns, including this slice's instructions. */
  nowNs(): number {
    return this.clock.ns + this.sliceInsns;
  }

  /** SCKC: the clock comparator, and its deadline on the virtual clock. */
  setCkc(v: bigint): void {
    this.ckc = v;
    this.ckcNs = this.clock.nsAt(v - this.epoch);
  }

  /** SPT: the CPU timer value (signed TOD units) becomes a deadline in virtual ns. */
  setCputm(v: bigint): void {
    this.cputmNs = this.nowNs() + Number((v * 1000n) / 4096n);
  }

  /** STPT: the CPU timer now (negative once it has passed zero). */
  getCputm(): bigint {
    if (this.cputmNs === Infinity) return 0x7fffffffffffffffn;
    return (BigInt(Math.floor(this.cputmNs - this.nowNs())) * 4096n) / 1000n;
  }

  /** A control register changed (LCTL/LCTLG): DAT caches keyed on CR1/CR7/CR13 drop. */
  crChanged(): void {
    this.dat?.flush();
  }

  /** Stop the SIE run with an interception. */
  intercept(code: number, ipa: number, ipb: number): void {
    this.icptcode = code;
    this.ipa = ipa;
    this.ipb = ipb >>> 0;
  }

  // ---------------------------------------------------------------- registers

  /** The 32-bit low word of GR r as a signed int. */
  getS32(r: number): number {
    return this.gr[2 * r + 1]! | 0;
  }

  getU32(r: number): number {
    return this.gr[2 * r + 1]!;
  }

  setU32(r: number, v: number): void {
    this.gr[2 * r + 1] = v;
  }

  getHi(r: number): number {
    return this.gr[2 * r]!;
  }

  set64(r: number, hi: number, lo: number): void {
    this.gr[2 * r] = hi;
    this.gr[2 * r + 1] = lo;
  }

  /** Sign-extend a 32-bit value into GR r. */
  setS64From32(r: number, v: number): void {
    this.gr[2 * r] = v < 0 || (v | 0) < 0 ? 0xffffffff : 0;
    this.gr[2 * r + 1] = v;
  }

  /** GR r as a JS number when it fits 53 bits signed; else NaN (callers take a slow path). */
  get64Num(r: number): number {
    const hi = this.gr[2 * r]! | 0;
    const lo = this.gr[2 * r + 1]!;
    if (hi > 0x1fffff || hi < -0x200000) return NaN;
    return hi * TWO32 + lo;
  }

  // ---------------------------------------------------------------- PSW

  /** 64-bit addressing mode (EA and BA). */
  get amode64(): boolean {
    return (this.pswMask0 & PSW_MASK_EA) !== 0;
  }

  get problemState(): boolean {
    return (this.pswMask0 & PSW_MASK_PSTATE) !== 0;
  }

  /** Wrap an address given as hi:lo words to the current addressing mode. */
  wrapAddr(hi: number, lo: number): number {
    if (this.pswMask0 & PSW_MASK_EA) return (hi >>> 0) * TWO32 + (lo >>> 0);
    if (this.pswMask1 & PSW_MASK_BA) return lo & 0x7fffffff;
    return lo & 0xffffff;
  }

  /** Wrap a (possibly negative or large) number address to the addressing mode. */
  wrapNum(a: number): number {
    if (this.pswMask0 & PSW_MASK_EA) {
      if (a >= 0 && a < 2 ** 53) return a;
      const lo = a >>> 0;
      const hi = Math.floor((a - lo) / TWO32) >>> 0;
      return hi * TWO32 + lo;
    }
    if (this.pswMask1 & PSW_MASK_BA) return (a >>> 0) & 0x7fffffff;
    return (a >>> 0) & 0xffffff;
  }

  /** Effective address b(x,d) in the current addressing mode. */
  ea(b: number, x: number, d: number): number {
    let s = d;
    let hi = 0;
    const g = this.gr;
    if (b !== 0) {
      s += g[2 * b + 1]!;
      hi += g[2 * b]!;
    }
    if (x !== 0) {
      s += g[2 * x + 1]!;
      hi += g[2 * x]!;
    }
    const lo = s >>> 0;
    if (this.pswMask0 & PSW_MASK_EA) {
      hi = (hi + (s - lo) / TWO32) >>> 0;
      return hi * TWO32 + lo;
    }
    if (this.pswMask1 & PSW_MASK_BA) return lo & 0x7fffffff;
    return lo & 0xffffff;
  }

  /** The PSW mask word 0 with the condition code merged in. */
  getMask0(): number {
    return ((this.pswMask0 & ~PSW_MASK_CC) | (this.cc << 12)) >>> 0;
  }

  /** Load mask word 0 (splitting off the condition code). */
  setMask0(m: number): void {
    this.cc = (m >>> 12) & 3;
    this.pswMask0 = (m & ~PSW_MASK_CC) >>> 0;
  }

  // ---------------------------------------------------------------- exceptions

  /** Raise a program exception for the current instruction; never returns. */
  pgm(code: number): never {
    this.pgmCode = code;
    this.pgmIlc = this.insnLen;
    throw PGM_ABORT;
  }

  specification(): never {
    return this.pgm(PGM_SPECIFICATION);
  }

  // ---------------------------------------------------------------- storage

  /** Real to absolute: swap the first 8 KiB with the prefix area. */
  realToAbs(ra: number): number {
    if (ra < LC_SIZE) return ra + this.prefix;
    if (ra >= this.prefix && ra < this.prefix + LC_SIZE) return ra - this.prefix;
    return ra;
  }

  /** Logical to real: through DAT when the PSW's T bit is on. */
  logicalToReal(la: number, write: boolean, fetch: boolean): number {
    if ((this.pswMask0 & PSW_MASK_DAT) === 0) return la;
    if (this.dat === null) {
      this.transExcCode = la - (la % 4096);
      return this.pgm(PGM_SEGMENT_TRANSLATION);
    }
    return this.dat.translate(this, la, write, fetch);
  }

  /**
   * Translate [la, la+len) (which must not cross a 4 KiB page) and make the storage
   * cache cover it; returns the offset into storage.bytes / storage.view.
   */
  access(la: number, len: number, write: boolean, fetch: boolean): number {
    const abs = this.realToAbs(this.logicalToReal(la, write, fetch));
    const st = this.storage;
    const off = st.lookup(abs, len);
    if (off < 0) return this.pgm(PGM_ADDRESSING);
    if (write) {
      if (st.readonly) return this.pgm(PGM_PROTECTION);
      if (st.logDirty) st.markDirty(abs);
    }
    return off;
  }

  rd8(la: number): number {
    return this.storage.bytes[this.access(la, 1, false, false)]!;
  }

  rd16(la: number): number {
    if ((la & 0xfff) > 0xffe) return (this.rd8(la) << 8) | this.rd8(this.wrapNum(la + 1));
    return this.storage.view.getUint16(this.access(la, 2, false, false));
  }

  rd32(la: number): number {
    if ((la & 0xfff) > 0xffc) return ((this.rd16(la) << 16) | this.rd16(this.wrapNum(la + 2))) >>> 0;
    return this.storage.view.getUint32(this.access(la, 4, false, false));
  }

  /** Reads 64 bits into r0 (high word) and r1 (low word). */
  rd64(la: number): void {
    if ((la & 0xfff) > 0xff8) {
      const hi = this.rd32(la);
      this.r1 = this.rd32(this.wrapNum(la + 4));
      this.r0 = hi;
      return;
    }
    const off = this.access(la, 8, false, false);
    const v = this.storage.view;
    this.r0 = v.getUint32(off);
    this.r1 = v.getUint32(off + 4);
  }

  wr8(la: number, val: number): void {
    this.storage.bytes[this.access(la, 1, true, false)] = val;
  }

  wr16(la: number, val: number): void {
    if ((la & 0xfff) > 0xffe) {
      this.probeWrite(la, 2);
      this.wr8(la, val >>> 8);
      this.wr8(this.wrapNum(la + 1), val);
      return;
    }
    this.storage.view.setUint16(this.access(la, 2, true, false), val);
  }

  wr32(la: number, val: number): void {
    if ((la & 0xfff) > 0xffc) {
      this.probeWrite(la, 4);
      this.wr16(la, val >>> 16);
      this.wr16(this.wrapNum(la + 2), val);
      return;
    }
    this.storage.view.setUint32(this.access(la, 4, true, false), val);
  }

  wr64(la: number, hi: number, lo: number): void {
    if ((la & 0xfff) > 0xff8) {
      this.probeWrite(la, 8);
      this.wr32(la, hi);
      this.wr32(this.wrapNum(la + 4), lo);
      return;
    }
    const off = this.access(la, 8, true, false);
    const v = this.storage.view;
    v.setUint32(off, hi);
    v.setUint32(off + 4, lo);
  }

  /** Check that a store to [la, la+len) would succeed, before storing any byte. */
  probeWrite(la: number, len: number): void {
    if (len <= 0) return;
    this.access(la, 1, true, false);
    const last = this.wrapNum(la + len - 1);
    if (((la ^ last) & ~0xfff) !== 0 || last < la) {
      // Touch each page the operand spans.
      let p = la;
      for (let i = 0; i < len; i += 0x1000 - (p & 0xfff), p = this.wrapNum(la + i)) this.access(p, 1, true, false);
    }
    this.access(last, 1, true, false);
  }

  /** Check that [la, la+len) is readable. */
  probeRead(la: number, len: number): void {
    if (len <= 0) return;
    let p = la;
    for (let i = 0; i < len; i += 0x1000 - (p & 0xfff), p = this.wrapNum(la + i)) this.access(p, 1, false, false);
    this.access(this.wrapNum(la + len - 1), 1, false, false);
  }

  /** Instruction fetch of a halfword (specification exception on an odd address). */
  fetch16(la: number): number {
    if (la & 1) return this.specification();
    return this.storage.view.getUint16(this.access(la, 2, false, true));
  }

  // ---------------------------------------------------------------- real / absolute helpers (KVM side)

  /** Read a doubleword at a real address into r0:r1 (interrupt PSW swaps, lowcore). */
  rdReal64(ra: number): void {
    const abs = this.realToAbs(ra);
    const off = this.storage.lookup(abs, 8);
    if (off < 0) {
      this.r0 = 0;
      this.r1 = 0;
      return;
    }
    this.r0 = this.storage.view.getUint32(off);
    this.r1 = this.storage.view.getUint32(off + 4);
  }

  /** Write len (1,2,4) bytes at a real address; false when unbacked. */
  wrReal(ra: number, len: 1 | 2 | 4, v: number): boolean {
    const abs = this.realToAbs(ra);
    const st = this.storage;
    const off = st.lookup(abs, len);
    if (off < 0) return false;
    if (len === 1) st.bytes[off] = v;
    else if (len === 2) st.view.setUint16(off, v);
    else st.view.setUint32(off, v);
    if (st.logDirty) st.markDirty(abs);
    return true;
  }

  rdReal32(ra: number): number {
    const off = this.storage.lookup(this.realToAbs(ra), 4);
    return off < 0 ? 0 : this.storage.view.getUint32(off);
  }

  /** Supervisor-call interruption: code and ILC into the lowcore, then the PSW swap. */
  svc(code: number): void {
    this.wrReal(LC_SVC_ILC, 2, this.insnLen);
    this.wrReal(LC_SVC_CODE, 2, code);
    this.storePsw(LC_SVC_OLD_PSW);
    this.loadPsw(LC_SVC_NEW_PSW);
  }

  /** Store the current PSW at real address ra (an old-PSW slot). */
  storePsw(ra: number): void {
    this.wrReal(ra, 4, this.getMask0());
    this.wrReal(ra + 4, 4, this.pswMask1);
    const a = this.pswAddr;
    const lo = a >>> 0;
    this.wrReal(ra + 8, 4, Math.floor((a - lo) / TWO32) >>> 0);
    this.wrReal(ra + 12, 4, lo);
  }

  /** Load the PSW from real address ra (a new-PSW slot). */
  loadPsw(ra: number): void {
    this.setMask0(this.rdReal32(ra));
    this.pswMask1 = this.rdReal32(ra + 4);
    this.pswAddr = this.rdReal32(ra + 8) * TWO32 + this.rdReal32(ra + 12);
  }
}
