/**
 * CONTRACT ONLY — the interface between the engine core and the FPU/SSE unit.
 *
 * The real unit (x87, MMX, SSE, SSE2) is built by the FPU/SSE engineer in this directory;
 * at merge their implementation replaces this file. Until then every entry point raises
 * #UD in the guest (never a host throw), and FpuSseState keeps the architectural image
 * so FXSAVE/FXRSTOR round-trip.
 */

export type SseMap = 0x0f | 0x0f38 | 0x0f3a;
export type SsePrefix = 0 | 0x66 | 0xf3 | 0xf2;

export class FpuSseState {
  /** x87 registers: 8 x 10 bytes (64-bit mantissa, then sign/exponent). */
  readonly st = new Uint8Array(80);
  fcw = 0x037f;
  fsw = 0;
  ftw = 0xffff;
  fop = 0;
  fip = 0;
  fcs = 0;
  fdp = 0;
  fds = 0;
  readonly xmm = new Uint32Array(64);
  mxcsr = 0x1f80;

  reset(): void {
    // SDM Vol. 3 Table 9-1: after RESET FCW=0x0040, FSW=0, FTW=0x5555 (all empty in FXSAVE form).
    this.st.fill(0);
    this.fcw = 0x0040;
    this.fsw = 0;
    this.ftw = 0xffff;
    this.fop = 0; this.fip = 0; this.fcs = 0; this.fdp = 0; this.fds = 0;
    this.xmm.fill(0);
    this.mxcsr = 0x1f80;
  }

  /** The 512-byte FXSAVE image (SDM Vol. 1 Table 10-2 / 10-3). */
  fxsave(mem: Uint8Array, off: number, mode64: boolean): void {
    const w16 = (o: number, v: number) => { mem[off + o] = v & 0xff; mem[off + o + 1] = (v >>> 8) & 0xff; };
    const w32 = (o: number, v: number) => { w16(o, v); w16(o + 2, v >>> 16); };
    w16(0, this.fcw); w16(2, this.fsw);
    let abridged = 0;
    for (let i = 0; i < 8; i++) if (((this.ftw >> (2 * i)) & 3) !== 3) abridged |= 1 << i;
    mem[off + 4] = abridged; mem[off + 5] = 0;
    w16(6, this.fop);
    w32(8, this.fip);
    if (mode64) w32(12, 0); else w32(12, this.fcs);
    w32(16, this.fdp);
    if (mode64) w32(20, 0); else w32(20, this.fds);
    w32(24, this.mxcsr); w32(28, 0xffff);
    for (let i = 0; i < 8; i++) for (let b = 0; b < 16; b++) mem[off + 32 + 16 * i + b] = b < 10 ? this.st[10 * i + b]! : 0;
    const n = mode64 ? 16 : 8;
    for (let i = 0; i < n * 4; i++) w32(160 + 4 * i, this.xmm[i]!);
  }

  /** false if MXCSR has reserved bits set (the caller raises #GP(0)). */
  fxrstor(mem: Uint8Array, off: number, mode64: boolean): boolean {
    const r16 = (o: number) => mem[off + o]! | (mem[off + o + 1]! << 8);
    const r32 = (o: number) => (r16(o) | (r16(o + 2) << 16)) >>> 0;
    const mxcsr = r32(24);
    if (mxcsr & ~0xffff) return false;
    this.fcw = r16(0); this.fsw = r16(2);
    const abridged = mem[off + 4]!;
    let ftw = 0;
    for (let i = 0; i < 8; i++) ftw |= ((abridged >> i) & 1 ? 0 : 3) << (2 * i);
    this.ftw = ftw;
    this.fop = r16(6); this.fip = r32(8); this.fcs = r16(12); this.fdp = r32(16); this.fds = r16(20);
    this.mxcsr = mxcsr;
    for (let i = 0; i < 8; i++) for (let b = 0; b < 10; b++) this.st[10 * i + b] = mem[off + 32 + 16 * i + b]!;
    const n = mode64 ? 16 : 8;
    for (let i = 0; i < n * 4; i++) this.xmm[i] = r32(160 + 4 * i);
    return true;
  }
}

/** Implemented by the engine core; memory accesses go through segmentation + paging and may throw the engine's fault. */
export interface FpuSseHost {
  readonly mode64: boolean;
  read8(la: number): number;
  read16(la: number): number;
  read32(la: number): number;
  write8(la: number, v: number): void;
  write16(la: number, v: number): void;
  write32(la: number, v: number): void;
  probeWrite(la: number, len: number): void;
  getGpr32(reg: number): number;
  getGprHi32(reg: number): number;
  setGpr32(reg: number, v: number): void;
  setGpr64(reg: number, lo: number, hi: number): void;
  setGpr16(reg: number, v: number): void;
  getFlags(): number;
  setArithFlags(zf: number, pf: number, cf: number): void;
  raise(vector: number, errorCode?: number): never;
  readonly cr0: number;
  readonly cr4: number;
}

export const SSE_HAS_IMM8 = (map: SseMap, op: number): boolean =>
  map === 0x0f3a || (map === 0x0f && (op === 0x70 || op === 0x71 || op === 0x72 || op === 0x73 || op === 0xc2 || op === 0xc4 || op === 0xc5 || op === 0xc6));

/** Contract stub: nothing is implemented until the unit is merged (the decoder raises #UD). */
export function isSseOpcode(_map: SseMap, _op: number, _prefix: SsePrefix): boolean {
  return false;
}

export function execSse(_st: FpuSseState, host: FpuSseHost, _map: SseMap, _op: number, _prefix: SsePrefix, _reg: number, _rm: number, _ea: number, _rexW: boolean, _imm8: number): void {
  host.raise(6);
}

export function execX87(_st: FpuSseState, host: FpuSseHost, _opcode: number, _modrm: number, _ea: number, _opsize: 16 | 32 | 64): void {
  host.raise(6);
}

export function execSseControl(st: FpuSseState, host: FpuSseHost, kind: 'ldmxcsr' | 'stmxcsr' | 'fxsave' | 'fxrstor', ea: number): void {
  void st; void kind; void ea;
  host.raise(6);
}

export function execFwait(_st: FpuSseState, _host: FpuSseHost): void {
  // No x87 exceptions can be pending without the unit: FWAIT is a no-op.
}
