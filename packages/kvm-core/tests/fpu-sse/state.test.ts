/**
 * FpuSseState images and the faults the unit raises itself:
 * - FXSAVE (64-bit and 32-bit layouts), FNSTENV (16/32-bit), FNSAVE compared byte for
 *   byte with the host's images of the same state (c/state-oracle.c); pointer fields
 *   (FIP/FCS/FOP/FDP/FDS, host addresses; AMD leaves them 0 with no pending exception)
 *   and MXCSR_MASK (the host's AMD part reports 0x2FFFF with the MM bit) are masked;
 * - FXRSTOR round trip, #GP(0) on reserved MXCSR bits and misalignment;
 * - struct kvm_fpu conversion (416-byte layout, validation, nothing half-applied);
 * - #GP alignment, #XM/#UD for unmasked SIMD exceptions, #UD forms, faults leaving the
 *   state unchanged; x87 unmasked exceptions (ES, #MF on the next waiting instruction,
 *   FWAIT), stack overflow.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EA_REG, FpuSseState, execFwait, execSse, execSseControl, execX87, fromKvmFpu, isSseOpcode, kvmFpuFromBytes,
  kvmFpuToBytes, toKvmFpu, SSE_HAS_IMM8, KVM_FPU_SIZE,
} from '../../src/x86/engine/fpu-sse/index';
import { KvmError } from '../../src/errors';
import { Fault, FakeHost, buildOracle, runOracle } from './fake-host';

const CW = 0x3000; const MX = 0x3004; const M80 = 0x3010; const XD = 0x3100; const FX = 0x3400;
const E16 = 0x3800; const E32 = 0x3820; const SAV = 0x3840;

function build(st: FpuSseState, h: FakeHost): void {
  h.write16(CW, 0x27f);
  h.write32(MX, 0x7fa5);
  h.write32(M80, 1); h.write32(M80 + 4, 0); h.write16(M80 + 8, 0);
  for (let i = 0; i < 256; i++) h.write8(XD + i, (i * 37 + 11) & 0xff);
  execX87(st, h, 0xdb, 0xe3, -1, 32);        // fninit
  execX87(st, h, 0xd9, 0x28, CW, 32);        // fldcw
  execX87(st, h, 0xd9, 0xe8, -1, 32);        // fld1
  execX87(st, h, 0xd9, 0xee, -1, 32);        // fldz
  execX87(st, h, 0xde, 0xf9, -1, 32);        // AT&T fdivrp = DE F9 = Intel FDIVP ST(1),ST(0): 1/0
  execX87(st, h, 0xd9, 0xeb, -1, 32);        // fldpi
  execX87(st, h, 0xd9, 0xea, -1, 32);        // fldl2e
  execX87(st, h, 0xdb, 0x28, M80, 32);       // fld m80 (denormal)
  execSseControl(st, h, 'ldmxcsr', MX);
  for (let i = 0; i < 16; i++) execSse(st, h, 0x0f, 0x6f, 0xf3, i, 0, XD + 16 * i, false, 0); // movdqu
}

const bytes = (h: FakeHost, at: number, n: number) => Array.from(h.mem.subarray(at, at + n)).map((b) => b.toString(16).padStart(2, '0')).join('');
function mask(hex: string, ranges: [number, number][]): string {
  const a = hex.match(/../g)!;
  for (const [s, e] of ranges) for (let i = s; i < e; i++) a[i] = '..';
  return a.join('');
}

describe('state images against the host', () => {
  let host: string[] = [];
  beforeAll(() => { host = runOracle(buildOracle('state-oracle.c')).trim().split('\n'); });

  it('FXSAVE64, FXSAVE, FNSTENV (16/32), FNSAVE match the host byte for byte', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    build(st, h);
    h.mem.fill(0xee, FX, FX + 512);
    execSseControl(st, h, 'fxsave', FX);
    const ptr: [number, number][] = [[6, 24], [28, 32]];
    expect(mask(bytes(h, FX, 416), ptr)).toBe(mask(host[0]!.slice(0, 832), ptr));
    h.mem.fill(0xee, FX, FX + 512);
    h.mode64 = false;
    execSseControl(st, h, 'fxsave', FX);
    h.mode64 = true;
    expect(mask(bytes(h, FX, 288), ptr)).toBe(mask(host[1]!.slice(0, 576), ptr));
    execX87(st, h, 0xd9, 0x30, E16, 16);       // data16 fnstenv
    expect(mask(bytes(h, E16, 14), [[6, 14]])).toBe(mask(host[2]!, [[6, 14]]));
    execX87(st, h, 0xd9, 0xf8 & 0x30, E32, 32);
    expect(mask(bytes(h, E32, 28), [[12, 28]])).toBe(mask(host[3]!, [[12, 28]]));
    execX87(st, h, 0xd9, 0x20, E32, 32);       // fldenv restores the env just stored
    execX87(st, h, 0xdd, 0x30, SAV, 32);       // fnsave
    expect(mask(bytes(h, SAV, 108), [[12, 28]])).toBe(mask(host[4]!, [[12, 28]]));
    expect(st.fcw).toBe(0x37f);                // FNSAVE ends with FNINIT
  });

  it('FXRSTOR of the host image then FXSAVE gives the same image; reserved MXCSR bits #GP and change nothing', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    const img = host[0]!.slice(0, 1024).match(/../g)!.map((x) => parseInt(x, 16));
    h.mem.set(img, FX);
    h.write32(FX + 28, 0xffff); // our MXCSR_MASK
    execSseControl(st, h, 'fxrstor', FX);
    h.mem.fill(0, FX + 0x200, FX + 0x400);
    execSseControl(st, h, 'fxsave', FX + 0x200);
    expect(bytes(h, FX + 0x200, 416)).toBe(bytes(h, FX, 416));
    const before = toKvmFpu(st);
    h.write32(FX + 24, 0x10000 | 0x1f80);
    expect(() => execSseControl(st, h, 'fxrstor', FX)).toThrow(Fault);
    try { execSseControl(st, h, 'fxrstor', FX); } catch (e) { expect((e as Fault).vector).toBe(13); expect((e as Fault).errorCode).toBe(0); }
    expect(toKvmFpu(st)).toEqual(before);
    expect(() => execSseControl(st, h, 'fxsave', FX + 8)).toThrow(/#13\(0\)/);
  });

  it('LDMXCSR with reserved bits raises #GP(0); STMXCSR stores MXCSR', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    h.write32(0x100, 0x20000 | 0x1f80);
    expect(() => execSseControl(st, h, 'ldmxcsr', 0x100)).toThrow(/#13\(0\)/);
    expect(st.mxcsr).toBe(0x1f80);
    h.write32(0x100, 0xffff);
    execSseControl(st, h, 'ldmxcsr', 0x100);
    execSseControl(st, h, 'stmxcsr', 0x104);
    expect(h.read32(0x104)).toBe(0xffff);
  });
});

describe('reset and kvm_fpu', () => {
  it('reset() gives the SDM Table 9-1 power-up state', () => {
    const st = new FpuSseState();
    st.xmm[5] = 7; st.mxcsr = 0; st.fcw = 0x123;
    st.reset();
    expect([st.fcw, st.fsw, st.ftw, st.mxcsr, st.xmm[5]]).toEqual([0x40, 0, 0x5555, 0x1f80, 0]);
    st.fninit();
    expect([st.fcw, st.fsw, st.ftw]).toEqual([0x37f, 0, 0xffff]);
  });

  it('round-trips through the 416-byte struct kvm_fpu layout', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    build(st, h);
    const f = toKvmFpu(st);
    const b = kvmFpuToBytes(f);
    expect(b.length).toBe(KVM_FPU_SIZE);
    const dv = new DataView(b.buffer);
    expect(dv.getUint16(128, true)).toBe(0x27f);
    expect(dv.getUint16(130, true)).toBe(st.fsw);
    expect(b[132]).toBe(0xf0);                       // R4..R7 in use
    expect(dv.getUint32(408, true)).toBe(0x7fa5);
    expect(Array.from(b.subarray(0, 10))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // ST(0): the denormal
    expect(b[152 + 16 * 15]).toBe((240 * 37 + 11) & 0xff); // XMM15 byte 0
    const st2 = new FpuSseState();
    fromKvmFpu(st2, kvmFpuFromBytes(b));
    expect(toKvmFpu(st2)).toEqual(f);
    expect(Array.from(st2.fprMant)).toEqual(Array.from(st.fprMant));
  });

  it('rejects bad kvm_fpu fields with EINVAL naming the field, applying nothing', () => {
    const st = new FpuSseState();
    const good = toKvmFpu(st);
    const before = toKvmFpu(st);
    const cases: [unknown, RegExp][] = [
      [{ ...good, fcw: 0x10000 }, /kvm_fpu\.fcw/],
      [{ ...good, xmm: good.xmm.slice(1) }, /kvm_fpu\.xmm/],
      [{ ...good, fpr: [[...good.fpr[0]!.slice(0, 15), 256], ...good.fpr.slice(1)] }, /kvm_fpu\.fpr\.0\.15/],
      [{ ...good, mxcsr: 0x1f80 | 0x40000 }, /kvm_fpu\.mxcsr/],
      [{ ...good, extra: 1 }, /kvm_fpu/],
      [{ ...good, lastIp: -1n }, /kvm_fpu\.lastIp/],
    ];
    for (const [v, re] of cases) {
      let err: unknown;
      try { fromKvmFpu(st, v); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(KvmError);
      expect((err as KvmError).errno).toBe('EINVAL');
      expect((err as KvmError).message).toMatch(re);
      expect(toKvmFpu(st)).toEqual(before);
    }
  });
});

describe('faults raised by the SSE unit', () => {
  it('legacy SSE 16-byte memory operands must be aligned (#GP(0)); MOVUPS/MOVDQU/LDDQU need not', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    expect(() => execSse(st, h, 0x0f, 0x28, 0, 0, 0, 0x108, false, 0)).toThrow(/#13\(0\)/); // movaps
    expect(() => execSse(st, h, 0x0f, 0x58, 0, 0, 0, 0x104, false, 0)).toThrow(/#13\(0\)/); // addps
    expect(() => execSse(st, h, 0x0f, 0xfe, 0x66, 0, 0, 0x101, false, 0)).toThrow(/#13\(0\)/); // paddd
    expect(() => execSse(st, h, 0x0f, 0x7f, 0x66, 0, 0, 0x101, false, 0)).toThrow(/#13\(0\)/); // movdqa store
    h.write32(0x104, 0x3f800000);
    execSse(st, h, 0x0f, 0x10, 0, 0, 0, 0x104, false, 0);  // movups
    execSse(st, h, 0x0f, 0x6f, 0xf3, 1, 0, 0x101, false, 0); // movdqu
    execSse(st, h, 0x0f, 0xf0, 0xf2, 2, 0, 0x103, false, 0); // lddqu
    execSse(st, h, 0x0f, 0x58, 0xf3, 3, 0, 0x104, false, 0); // addss m32: no alignment
    expect(st.xmm[0]).toBe(0x3f800000);
  });

  it('unmasked SIMD exceptions raise #XM (#UD without CR4.OSXMMEXCPT), set the flag, leave the destination', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    st.mxcsr = 0x1f80 & ~(1 << 9); // ZM clear
    st.xmm.set([0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000], 0);
    st.xmm.set([0x3f800000, 0, 0x3f800000, 0x3f800000], 4);
    expect(() => execSse(st, h, 0x0f, 0x5e, 0, 0, 1, EA_REG, false, 0)).toThrow(/#19/);
    expect(st.mxcsr & 4).toBe(4);
    expect(Array.from(st.xmm.subarray(0, 4))).toEqual([0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000]);
    h.cr4 = 0x200;
    expect(() => execSse(st, h, 0x0f, 0x5e, 0, 0, 1, EA_REG, false, 0)).toThrow(/#6/);
    st.mxcsr = 0x1f80;
    execSse(st, h, 0x0f, 0x5e, 0, 0, 1, EA_REG, false, 0);
    expect(st.xmm[1]).toBe(0x7f800000);
  });

  it('#UD for forms that do not exist; isSseOpcode/SSE_HAS_IMM8 describe the map', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    expect(() => execSse(st, h, 0x0f, 0x50, 0, 0, 0, 0x100, false, 0)).toThrow(/#6/);  // movmskps m
    expect(() => execSse(st, h, 0x0f, 0x13, 0, 0, 1, EA_REG, false, 0)).toThrow(/#6/);     // movlps reg,reg store
    expect(() => execSse(st, h, 0x0f, 0x2b, 0, 0, 1, EA_REG, false, 0)).toThrow(/#6/);     // movntps reg
    expect(() => execSse(st, h, 0x0f, 0x73, 0, 3, 0, EA_REG, false, 1)).toThrow(/#6/);     // psrldq on MMX
    expect(() => execSse(st, h, 0x0f, 0x6c, 0, 0, 1, EA_REG, false, 0)).toThrow(/#6/);     // punpcklqdq without 66
    expect(isSseOpcode(0x0f, 0x58, 0xf2)).toBe(true);
    expect(isSseOpcode(0x0f, 0x77, 0x66)).toBe(false);
    expect(isSseOpcode(0x0f, 0xd6, 0)).toBe(false);
    expect(isSseOpcode(0x0f, 0xff, 0)).toBe(false);
    expect([0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6].every((op) => SSE_HAS_IMM8(0x0f, op))).toBe(true);
    expect(SSE_HAS_IMM8(0x0f, 0x58)).toBe(false);
  });

  it('a faulting memory access changes no state (sources are read before anything is written)', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    h.faultBelow = 0x1000;
    st.xmm.set([1, 2, 3, 4], 0);
    st.mxcsr = 0x1f80;
    expect(() => execSse(st, h, 0x0f, 0x58, 0x66, 0, 0, 0x800, false, 0)).toThrow(/#14/);
    expect(() => execSse(st, h, 0x0f, 0x2a, 0xf2, 0, 0, 0x800, true, 0)).toThrow(/#14/);
    expect(() => execSse(st, h, 0x0f, 0x11, 0, 0, 0, 0xffc, false, 0)).toThrow(/#14/); // store straddles: nothing written
    expect(Array.from(h.mem.subarray(0x1000, 0x100c))).toEqual(new Array(12).fill(0));
    expect(Array.from(st.xmm.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(st.mxcsr).toBe(0x1f80);
  });

  it('memory forms read the right widths (MOVSS/MOVSD zero the upper part from memory, MOVHPS/MOVLPS merge)', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    for (let i = 0; i < 16; i++) h.write8(0x200 + i, i + 1);
    st.xmm.set([0xa, 0xb, 0xc, 0xd], 0);
    execSse(st, h, 0x0f, 0x10, 0xf3, 0, 0, 0x200, false, 0);
    expect(Array.from(st.xmm.subarray(0, 4))).toEqual([0x04030201, 0, 0, 0]);
    st.xmm.set([0xa, 0xb, 0xc, 0xd], 0);
    execSse(st, h, 0x0f, 0x16, 0, 0, 0, 0x208, false, 0);  // movhps
    expect(Array.from(st.xmm.subarray(0, 4))).toEqual([0xa, 0xb, 0x0c0b0a09, 0x100f0e0d]);
    execSse(st, h, 0x0f, 0x13, 0x66, 0, 0, 0x300, false, 0); // movlpd store
    expect(h.read32(0x300)).toBe(0xa);
    execSse(st, h, 0x0f, 0xf7, 0x66, 0, 1, EA_REG, false, 0);    // maskmovdqu with mask xmm1 = 0: stores nothing
  });
});

describe('x87 exceptions and the stack', () => {
  it('an unmasked exception sets ES/B, leaves the destination, and the next waiting instruction takes #MF', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    h.write16(0x100, 0x37b); // ZM clear
    execX87(st, h, 0xdb, 0xe3, -1, 32);
    execX87(st, h, 0xd9, 0x28, 0x100, 32);
    execX87(st, h, 0xd9, 0xe8, -1, 32);   // 1
    execX87(st, h, 0xd9, 0xee, -1, 32);   // 0
    execX87(st, h, 0xd8, 0xf9, -1, 32);   // fdivr st0 = st1/st0 = 1/0 -> #Z unmasked
    expect(st.fsw & 0x8084).toBe(0x8084); // B, ES, ZE
    expect(st.fprExp[st.st(0)]).toBe(0);  // still +0
    expect(() => execX87(st, h, 0xd9, 0xe8, -1, 32)).toThrow(/#16/);
    expect(() => execFwait(st, h)).toThrow(/#16/);
    execX87(st, h, 0xdf, 0xe0, -1, 32);   // FNSTSW AX does not wait
    expect(h.gpr[0]! & 0xffff).toBe(st.fsw);
    execX87(st, h, 0xdb, 0xe2, -1, 32);   // FNCLEX
    expect(st.fsw & 0x80ff).toBe(0);
    execFwait(st, h);
    execX87(st, h, 0xd9, 0xe8, -1, 32);
    h.cr0 |= 0x8 | 0x2; // TS + MP: FWAIT -> #NM
    expect(() => execFwait(st, h)).toThrow(/#7/);
  });

  it('stack overflow and underflow: IE+SF, C1 set/clear, indefinite when masked', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    execX87(st, h, 0xdb, 0xe3, -1, 32);
    for (let i = 0; i < 8; i++) execX87(st, h, 0xd9, 0xe8, -1, 32);
    expect(st.fsw & 0x241).toBe(0);
    execX87(st, h, 0xd9, 0xe8, -1, 32);   // ninth push
    expect(st.fsw & 0x241).toBe(0x241);   // C1, SF, IE
    expect([st.fprExp[st.st(0)], st.fprMant[2 * st.st(0) + 1]]).toEqual([0xffff, 0xc0000000]);
    execX87(st, h, 0xdb, 0xe3, -1, 32);
    execX87(st, h, 0xd8, 0xc1, -1, 32);   // fadd on empty registers
    expect(st.fsw & 0x241).toBe(0x41);
  });
});

describe('x87 environment layouts and pointers', () => {
  it('FNSTENV/FLDENV use the real-mode layouts (SDM Figures 8-10, 8-12) when CR0.PE=0', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    h.cr0 = 0x10; // real mode
    st.fninit();
    st.fip = 0x12345; st.fop = 0x5a5; st.fdp = 0x6789a;
    execX87(st, h, 0xd9, 0x30, 0x100, 16);
    const w = (i: number) => h.read16(0x100 + 2 * i);
    expect([w(0), w(1), w(2), w(3), w(4), w(5), w(6)]).toEqual([0x37f, 0, 0xffff, 0x2345, 0x1000 | 0x5a5, 0x789a, 0x6000]);
    execX87(st, h, 0xd9, 0x30, 0x200, 32);
    const d = (i: number) => h.read32(0x200 + 4 * i);
    expect([d(3) & 0xffff, d(4), d(5) & 0xffff, d(6)]).toEqual([0x2345, (0x1 << 12) | 0x5a5, 0x789a, 0x6 << 12]);
    const st2 = new FpuSseState();
    execX87(st2, h, 0xd9, 0x20, 0x100, 16);
    expect([st2.fip, st2.fop, st2.fdp]).toEqual([0x12345, 0x5a5, 0x6789a]);
    expect(st2.fcw).toBe(0x37f); // the image holds FCW as it was before FNSTENV masked everything
  });

  it('records FOP, FIP/FCS (host.fpuIp/fpuCs) and FDP for non-control instructions only', () => {
    const st = new FpuSseState();
    const h = new FakeHost() as FakeHost & { fpuIp?: number; fpuCs?: number };
    Object.assign(h, { fpuIp: 0x401000, fpuCs: 0x33 });
    h.write32(0x300, 0x3f800000);
    execX87(st, h, 0xdb, 0xe3, -1, 64);          // fninit clears the pointers
    execX87(st, h, 0xd9, 0x05, 0x300, 64);       // fld dword [0x300] (modrm 05)
    expect([st.fop, st.fip, st.fcs, st.fdp]).toEqual([0x105, 0x401000, 0x33, 0x300]);
    Object.assign(h, { fpuIp: 0x402000 });
    execX87(st, h, 0xd9, 0x7d, 0x310, 64);       // fnstcw: a control instruction
    expect([st.fop, st.fip, st.fdp]).toEqual([0x105, 0x401000, 0x300]);
    execX87(st, h, 0xd8, 0xc0, -1, 64);          // fadd st0, st0: FDP unchanged
    expect([st.fop, st.fip, st.fdp]).toEqual([0x0c0, 0x402000, 0x300]);
  });

  it('FLDCW unmasking a pending exception sets ES/B; FXAM of an empty register gives C3|C0', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    execX87(st, h, 0xdb, 0xe3, -1, 32);
    execX87(st, h, 0xd9, 0xe8, -1, 32);
    execX87(st, h, 0xd9, 0xee, -1, 32);
    execX87(st, h, 0xde, 0xf9, -1, 32);          // 1/0 masked: ZE
    expect(st.fsw & 0x8084).toBe(0x0004);
    h.write16(0x100, 0x37b);
    execX87(st, h, 0xd9, 0x28, 0x100, 32);       // FLDCW unmasks ZE
    expect(st.fsw & 0x8080).toBe(0x8080);
    expect(() => execX87(st, h, 0xd9, 0xe5, -1, 32)).toThrow(/#16/);
    execX87(st, h, 0xdb, 0xe3, -1, 32);
    execX87(st, h, 0xd9, 0xe5, -1, 32);          // FXAM, ST0 empty
    expect(st.fsw & 0x4700).toBe(0x4100);
  });
});

describe('SSE4.2 host hooks', () => {
  it('PCMPxSTRx needs host.setStatusFlags (else #UD); CRC32 r/m8 reads AH..BH without REX, SPL..DIL with it', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    const bare = Object.assign(Object.create(Object.getPrototypeOf(h)), h) as FakeHost;
    Object.defineProperty(bare, 'setStatusFlags', { value: undefined });
    expect(() => execSse(st, bare, 0x0f3a, 0x63, 0x66, 0, 1, EA_REG, false, 0)).toThrow(/#6/);
    execSse(st, h, 0x0f3a, 0x63, 0x66, 0, 1, EA_REG, false, 0); // both strings empty: ECX = 16, ZF = SF = 1
    expect(h.gpr[2]).toBe(16);
    expect(h.flags & 0xc0).toBe(0xc0);
    h.setGpr64(0, 0x1234, 0);      // AH = 0x12
    h.setGpr64(4, 0x77, 0);        // SPL = 0x77
    h.setGpr64(3, 0, 0);
    execSse(st, h, 0x0f38, 0xf0, 0xf2, 3, 4, EA_REG, false, 0);      // crc32 ebx, ah
    const viaAh = h.gpr[6]!;
    h.setGpr64(3, 0, 0);
    execSse(st, h, 0x0f38, 0xf0, 0xf2, 3, 0, EA_REG, false, 0);      // crc32 ebx, al (0x34)
    expect(viaAh).not.toBe(h.gpr[6]);
    h.setGpr64(3, 0, 0); h.setGpr64(1, 0x12, 0);
    execSse(st, h, 0x0f38, 0xf0, 0xf2, 3, 1, EA_REG, false, 0);      // crc32 ebx, cl (0x12)
    const crc12 = h.gpr[6]!;
    h.setGpr64(3, 0, 0);
    execSse(st, h, 0x0f38, 0xf0, 0xf2, 3, 4, EA_REG, false, 0);      // ah = 0x12 again
    expect(h.gpr[6]).toBe(crc12);
    const withRex = Object.assign(h, { rex: true });
    withRex.setGpr64(3, 0, 0); withRex.setGpr64(1, 0x77, 0);
    execSse(st, withRex, 0x0f38, 0xf0, 0xf2, 3, 1, EA_REG, false, 0); // crc32 ebx, cl (0x77)
    const crc77 = withRex.gpr[6]!;
    withRex.setGpr64(3, 0, 0);
    execSse(st, withRex, 0x0f38, 0xf0, 0xf2, 3, 4, EA_REG, false, 0); // crc32 ebx, spl (0x77)
    expect(withRex.gpr[6]).toBe(crc77);
  });
});

describe('unmasked SIMD exceptions against the host', () => {
  it('flags in MXCSR and the untouched destination match the host SIGFPE frame', () => {
    const bin = buildOracle('xm-oracle.c');
    const f = new Float32Array([1, 1, 1e30, 1e-30, 0, 3, 1e-30, 1e30]);
    const u = new Uint32Array(f.buffer);
    for (const mx of [0x1d80, 0x1b80, 0x1780, 0x0f80, 0x1f00, 0x1c80, 0x1d00]) {
      const want = runOracle(bin, [mx.toString(16)]).trim();
      const st = new FpuSseState();
      const h = new FakeHost();
      st.mxcsr = mx;
      st.xmm.set(u.subarray(0, 4), 0);
      st.xmm.set(u.subarray(4, 8), 4);
      let got: string;
      try {
        execSse(st, h, 0x0f, 0x5e, 0, 0, 1, EA_REG, false, 0);
        got = 'nofault';
      } catch (e) {
        expect((e as Fault).vector).toBe(19);
        got = [st.mxcsr, ...st.xmm.subarray(0, 4)].map((v) => v.toString(16)).join(' ');
      }
      expect(`${mx.toString(16)}: ${got}`).toBe(`${mx.toString(16)}: ${want}`);
    }
  });
});

describe('MMX transition and faults', () => {
  it('a faulting MMX memory access leaves TOP and the tags unchanged', () => {
    const st = new FpuSseState();
    const h = new FakeHost();
    h.faultBelow = 0x1000;
    execX87(st, h, 0xdb, 0xe3, -1, 32);
    execX87(st, h, 0xd9, 0xe8, -1, 32);          // TOP = 7, R7 valid
    const before = [st.top, st.ftwAbridged];
    expect(() => execSse(st, h, 0x0f, 0xfe, 0, 0, 0, 0x800, false, 0)).toThrow(/#14/);   // paddd mm0, [bad]
    expect(() => execSse(st, h, 0x0f, 0x7f, 0, 0, 0, 0x800, false, 0)).toThrow(/#14/);   // movq [bad], mm0
    expect(() => execSse(st, h, 0x0f38, 0x00, 0, 0, 0, 0x800, false, 0)).toThrow(/#14/); // pshufb mm0, [bad]
    expect([st.top, st.ftwAbridged]).toEqual(before);
    execSse(st, h, 0x0f, 0xfe, 0, 0, 0, 0x1000, false, 0);
    expect([st.top, st.ftwAbridged]).toEqual([0, 0xff]);
  });
});
