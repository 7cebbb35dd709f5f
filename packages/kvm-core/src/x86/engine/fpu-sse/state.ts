/**
 * FpuSseState: the architectural x87 FPU, MMX and SSE state of one logical processor
 * (SDM Vol. 1 ch. 8, 9, 10) and its FXSAVE/FXRSTOR image (SDM Vol. 1 Tables 10-2, 10-3).
 *
 * x87 data registers are kept by PHYSICAL register number R0..R7 (ST(i) is
 * R[(TOP+i)&7]) in their exact 80-bit format: sign+15-bit exponent in `fprExp`, the
 * 64-bit significand (explicit integer bit included) as lo/hi dwords in `fprMant`.
 * MMX register MMi is the significand of Ri, so MMX needs no copy.
 */

/** FSW bits (SDM Vol. 1 Figure 8-5). */
export const FSW_IE = 1 << 0;
export const FSW_DE = 1 << 1;
export const FSW_ZE = 1 << 2;
export const FSW_OE = 1 << 3;
export const FSW_UE = 1 << 4;
export const FSW_PE = 1 << 5;
export const FSW_SF = 1 << 6;
export const FSW_ES = 1 << 7;
export const FSW_C0 = 1 << 8;
export const FSW_C1 = 1 << 9;
export const FSW_C2 = 1 << 10;
export const FSW_TOP_SHIFT = 11;
export const FSW_TOP_MASK = 7 << 11;
export const FSW_C3 = 1 << 14;
export const FSW_B = 1 << 15;

/** FCW fields (SDM Vol. 1 Figure 8-6). */
export const FCW_EXC_MASK = 0x3f;
export const FCW_PC_SHIFT = 8;
export const FCW_RC_SHIFT = 10;

/** MXCSR fields (SDM Vol. 1 Figure 10-3). */
export const MXCSR_IE = 1 << 0;
export const MXCSR_DE = 1 << 1;
export const MXCSR_ZE = 1 << 2;
export const MXCSR_OE = 1 << 3;
export const MXCSR_UE = 1 << 4;
export const MXCSR_PE = 1 << 5;
export const MXCSR_DAZ = 1 << 6;
export const MXCSR_MASK_SHIFT = 7;
export const MXCSR_RC_SHIFT = 13;
export const MXCSR_FTZ = 1 << 15;
export const MXCSR_RESET = 0x1f80;
/** The bits of MXCSR a processor with DAZ supports (FXSAVE's MXCSR_MASK). */
export const MXCSR_MASK_DEFAULT = 0xffff;

/** x87 tag values (full 2-bit form, SDM Vol. 1 Figure 8-7). */
export const TAG_VALID = 0;
export const TAG_ZERO = 1;
export const TAG_SPECIAL = 2;
export const TAG_EMPTY = 3;

export class FpuSseState {
  /** Significands of R0..R7: lo dword at 2*i, hi dword at 2*i+1. MMi aliases these. */
  readonly fprMant = new Uint32Array(16);
  /** Sign (bit 15) and biased exponent (bits 14:0) of R0..R7. */
  readonly fprExp = new Uint16Array(8);
  /** FPU control word. */
  fcw = 0x037f;
  /** FPU status word WITHOUT the TOP field (bits 13:11 kept in `top`). */
  fswBits = 0;
  /** Top-of-stack pointer, 0..7. */
  top = 0;
  /** Abridged tag word: bit i set when physical register Ri is not empty. */
  ftwAbridged = 0;
  /** Last x87 non-control opcode (11 bits: low 3 bits of the first byte, then ModRM). */
  fop = 0;
  /** Last x87 instruction pointer / data pointer (linear or 64-bit offsets) and selectors. */
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;
  /** XMM0-15 as little-endian dwords: XMMi dword j at 4*i+j. */
  readonly xmm = new Uint32Array(64);
  mxcsr = MXCSR_RESET;
  readonly mxcsrMask = MXCSR_MASK_DEFAULT;

  constructor() {
    this.reset();
  }

  /**
   * Power-up / RESET state, SDM Vol. 3 Table 9-1 ("IA-32 and Intel 64 Processor States
   * Following Power-up, Reset, or INIT"): FCW 0040H, FSW 0000H, FTW 5555H (all
   * registers tagged zero, i.e. not empty), data registers +0.0, FIP/FDP/FOP 0,
   * MXCSR 1F80H, XMM registers 0. INIT leaves the x87/SSE state unchanged.
   */
  reset(): void {
    this.fprMant.fill(0);
    this.fprExp.fill(0);
    this.fcw = 0x0040;
    this.fswBits = 0;
    this.top = 0;
    this.ftwAbridged = 0xff;
    this.fop = 0;
    this.fip = 0;
    this.fcs = 0;
    this.fdp = 0;
    this.fds = 0;
    this.xmm.fill(0);
    this.mxcsr = MXCSR_RESET;
  }

  /** FNINIT: FCW 037FH, FSW 0, all tags empty, pointers and opcode cleared (SDM FINIT). */
  fninit(): void {
    this.fcw = 0x037f;
    this.fswBits = 0;
    this.top = 0;
    this.ftwAbridged = 0;
    this.fop = 0;
    this.fip = 0;
    this.fcs = 0;
    this.fdp = 0;
    this.fds = 0;
  }

  /** The FSW as FNSTSW reports it (TOP merged in). */
  get fsw(): number {
    return (this.fswBits & ~FSW_TOP_MASK) | (this.top << FSW_TOP_SHIFT);
  }

  set fsw(v: number) {
    this.top = (v >> FSW_TOP_SHIFT) & 7;
    this.fswBits = v & 0xffff & ~FSW_TOP_MASK;
  }

  /** The full 16-bit tag word computed from the register contents (FNSTENV/FNSAVE). */
  get ftw(): number {
    let t = 0;
    for (let i = 0; i < 8; i++) t |= this.tagOf(i) << (2 * i);
    return t;
  }

  /** Loads a full tag word (FLDENV/FRSTOR): only "empty" versus "not empty" is kept. */
  set ftw(v: number) {
    let a = 0;
    for (let i = 0; i < 8; i++) if (((v >> (2 * i)) & 3) !== TAG_EMPTY) a |= 1 << i;
    this.ftwAbridged = a;
  }

  /** The 2-bit tag of physical register i, classifying its contents (SDM Vol. 1 8.1.7). */
  tagOf(i: number): number {
    if (((this.ftwAbridged >> i) & 1) === 0) return TAG_EMPTY;
    const e = this.fprExp[i]! & 0x7fff;
    const lo = this.fprMant[2 * i]!;
    const hi = this.fprMant[2 * i + 1]!;
    if (e === 0x7fff) return TAG_SPECIAL;
    if (e === 0) return (lo | hi) === 0 ? TAG_ZERO : TAG_SPECIAL;
    return (hi & 0x80000000) === 0 ? TAG_SPECIAL : TAG_VALID;
  }

  /** Physical register number of ST(i). */
  st(i: number): number {
    return (this.top + i) & 7;
  }

  /**
   * FXSAVE: the 512-byte image at mem[off..off+512) (SDM Vol. 1 Table 10-2; with
   * mode64, the REX.W=1 form of Table 10-3: 64-bit FIP/FDP, XMM8-15 saved).
   * Reserved bytes 464..511 are available to software and left untouched; other
   * reserved bytes are written as 0.
   */
  fxsave(mem: Uint8Array, off: number, mode64: boolean): void {
    const dv = new DataView(mem.buffer, mem.byteOffset + off, 512);
    dv.setUint16(0, this.fcw, true);
    dv.setUint16(2, this.fsw, true);
    dv.setUint8(4, this.ftwAbridged);
    dv.setUint8(5, 0);
    dv.setUint16(6, this.fop & 0x7ff, true);
    if (mode64) {
      setU64(dv, 8, this.fip);
      setU64(dv, 16, this.fdp);
    } else {
      dv.setUint32(8, this.fip >>> 0, true);
      dv.setUint16(12, this.fcs, true);
      dv.setUint16(14, 0, true);
      dv.setUint32(16, this.fdp >>> 0, true);
      dv.setUint16(20, this.fds, true);
      dv.setUint16(22, 0, true);
    }
    dv.setUint32(24, this.mxcsr, true);
    dv.setUint32(28, this.mxcsrMask, true);
    for (let i = 0; i < 8; i++) {
      const r = (this.top + i) & 7;
      const o = 32 + 16 * i;
      dv.setUint32(o, this.fprMant[2 * r]!, true);
      dv.setUint32(o + 4, this.fprMant[2 * r + 1]!, true);
      dv.setUint16(o + 8, this.fprExp[r]!, true);
      for (let k = 10; k < 16; k++) dv.setUint8(o + k, 0);
    }
    const nx = mode64 ? 16 : 8;
    for (let i = 0; i < nx * 4; i++) dv.setUint32(160 + 4 * i, this.xmm[i]!, true);
  }

  /**
   * FXRSTOR from the 512-byte image. Returns false, changing nothing, when the image's
   * MXCSR has bits set outside MXCSR_MASK (the caller raises #GP(0)).
   */
  fxrstor(mem: Uint8Array, off: number, mode64: boolean): boolean {
    const dv = new DataView(mem.buffer, mem.byteOffset + off, 512);
    const mxcsr = dv.getUint32(24, true);
    if ((mxcsr & ~this.mxcsrMask) !== 0) return false;
    this.fcw = dv.getUint16(0, true) | 0x40; // bit 6 reads as 1 (see x87.ts)
    this.fsw = dv.getUint16(2, true);
    this.ftwAbridged = dv.getUint8(4);
    this.fop = dv.getUint16(6, true) & 0x7ff;
    if (mode64) {
      this.fip = getU64(dv, 8);
      this.fdp = getU64(dv, 16);
      this.fcs = 0;
      this.fds = 0;
    } else {
      this.fip = dv.getUint32(8, true);
      this.fcs = dv.getUint16(12, true);
      this.fdp = dv.getUint32(16, true);
      this.fds = dv.getUint16(20, true);
    }
    this.mxcsr = mxcsr;
    for (let i = 0; i < 8; i++) {
      const r = (this.top + i) & 7;
      const o = 32 + 16 * i;
      this.fprMant[2 * r] = dv.getUint32(o, true);
      this.fprMant[2 * r + 1] = dv.getUint32(o + 4, true);
      this.fprExp[r] = dv.getUint16(o + 8, true);
    }
    const nx = mode64 ? 16 : 8;
    for (let i = 0; i < nx * 4; i++) this.xmm[i] = dv.getUint32(160 + 4 * i, true);
    return true;
  }
}

/** A 64-bit field from a number (an address: at most 53 significant bits). */
function setU64(dv: DataView, o: number, v: number): void {
  dv.setUint32(o, v >>> 0, true);
  dv.setUint32(o + 4, Math.floor(v / 0x1_0000_0000) >>> 0, true);
}

function getU64(dv: DataView, o: number): number {
  // Addresses beyond 2^53 cannot occur (canonical addresses are 48 bits, sign-extended);
  // keep the low 53 bits of the sign-extended value as the engine does for RIP.
  const lo = dv.getUint32(o, true);
  const hi = dv.getUint32(o + 4, true) & 0x1fffff;
  return hi * 0x1_0000_0000 + lo;
}
