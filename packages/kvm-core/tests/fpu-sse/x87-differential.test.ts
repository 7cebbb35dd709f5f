/**
 * Differential test of the x87 unit against the host CPU: c/x87-oracle.c runs
 * FNINIT; FLDCW; FLD m80 b; FLD m80 a; <op>; FNSTENV; FSTP m80; FSTP m80 over special
 * and random 80-bit operands (zeros, denormals, pseudo-denormals, unnormals, NaNs,
 * infinities, boundary integers) under rounding and precision control settings, and this
 * test replays the same instruction sequence through execX87, comparing FSW, the full
 * tag word, both results, the memory operand and ZF/PF/CF bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FpuSseState, execX87 } from '../../src/x86/engine/fpu-sse/index';
import { FakeHost, buildOracle, runOracle } from './fake-host';

/** name -> [opcode, modrm] (memory forms use mod=00 with the ModRM.reg given). */
const OPS: Record<string, [number, number]> = {
  fadd: [0xd8, 0xc1], fsub: [0xd8, 0xe1], fsubr: [0xd8, 0xe9], fmul: [0xd8, 0xc9], fdiv: [0xd8, 0xf1],
  fdivr: [0xd8, 0xf9], faddp: [0xde, 0xc1], fsubp_st1: [0xde, 0xe9], fdivp_st1: [0xde, 0xf9],
  fsqrt: [0xd9, 0xfa], frndint: [0xd9, 0xfc], fscale: [0xd9, 0xfd], fprem: [0xd9, 0xf8], fprem1: [0xd9, 0xf5],
  fxtract: [0xd9, 0xf4], fcom: [0xd8, 0xd1], fucom: [0xdd, 0xe1], fcompp: [0xde, 0xd9], fxam: [0xd9, 0xe5],
  ftst: [0xd9, 0xe4], fcomi: [0xdb, 0xf1], fucomip: [0xdf, 0xe9], fchs: [0xd9, 0xe0], fabs: [0xd9, 0xe1],
  fxch: [0xd9, 0xc9], fsts: [0xd9, 0x10], fstl: [0xdd, 0x10], fists: [0xdf, 0x10], fistl: [0xdb, 0x10],
  fistpll: [0xdf, 0x38], fisttpl: [0xdb, 0x08], fisttpll: [0xdd, 0x08], flds: [0xd9, 0x00], fldl: [0xdd, 0x00],
  fadds: [0xd8, 0x00], fmull: [0xdc, 0x08], fdivrl: [0xdc, 0x38], fiaddl: [0xda, 0x00], fisubs: [0xde, 0x20],
  fildll: [0xdf, 0x28], fildl: [0xdb, 0x00], fcoms: [0xd8, 0x10], fld1: [0xd9, 0xe8], fldpi: [0xd9, 0xeb],
  fldl2e: [0xd9, 0xea], fldl2t: [0xd9, 0xe9], fldlg2: [0xd9, 0xec], fldln2: [0xd9, 0xed], fldz: [0xd9, 0xee],
  fincstp: [0xd9, 0xf7], ffree: [0xdd, 0xc1], fstp_st1: [0xdd, 0xd9], fld_st1: [0xd9, 0xc1], fbstp: [0xdf, 0x30],
  fcmovb_c1: [0xda, 0xc1], fcmovb_c0: [0xda, 0xc1], fcmovnbe_c1: [0xdb, 0xd1], fcmove_z1: [0xda, 0xc9],
  fcmovnu_z1: [0xdb, 0xd9], fcmovbe_z1: [0xda, 0xd1],
  fsin: [0xd9, 0xfe], fcos: [0xd9, 0xff], fptan: [0xd9, 0xf2], fsincos: [0xd9, 0xfb], fpatan: [0xd9, 0xf3],
  f2xm1: [0xd9, 0xf0], fyl2x: [0xd9, 0xf1], fyl2xp1: [0xd9, 0xf9],
};

/** Transcendentals use JS Math on doubles: compared within a relative tolerance, not bit for bit. */
const APPROX = new Set(['fsin', 'fcos', 'fptan', 'fsincos', 'fpatan', 'f2xm1', 'fyl2x', 'fyl2xp1']);
/** EFLAGS before the instruction, as the oracle's stc/clc/cmp left them. */
const FLAGS_IN: Record<string, number> = { fcmovb_c1: 1, fcmovnbe_c1: 1, fcmovb_c0: 0, fcmove_z1: 0x44, fcmovnu_z1: 0x44, fcmovbe_z1: 0x44 };

function f80ToNumber(se: number, hi: number, lo: number): number {
  const e = se & 0x7fff;
  const m = hi * 2 ** 32 + lo; // rounded to a double: fine for a tolerance check
  if (e === 0x7fff) return hi & 0x7fffffff || lo ? NaN : (se & 0x8000 ? -Infinity : Infinity);
  const v = m * 2 ** ((e === 0 ? 1 : e) - 16383 - 63);
  return se & 0x8000 ? -v : v;
}
function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= 2 ** -36 * Math.max(Math.abs(a), Math.abs(b), 1); // doubles, and tan near its poles
}

const MEM = 0x1000;   // the instruction's memory operand
const A = 0x1100;     // a, b (m80), results, env
const B = 0x1110;
const R0 = 0x1120;
const R1 = 0x1130;
const ENV = 0x1140;
const CW = 0x1180;

const hex = (s: string) => parseInt(s, 16) >>> 0;

function put80(h: FakeHost, at: number, se: number, hi: number, lo: number): void {
  h.write32(at, lo); h.write32(at + 4, hi); h.write16(at + 8, se);
}
function get80(h: FakeHost, at: number): number[] {
  return [h.read16(at + 8), h.read32(at + 4), h.read32(at)];
}

function replay(st: FpuSseState, h: FakeHost, line: string): string | null {
  const [head, ins, outs] = line.split(' | ');
  const [name, cws] = head!.split(' ');
  const i = ins!.trim().split(' ').map(hex);
  const o = outs!.trim().split(' ').map(hex);
  const [opc, modrm] = OPS[name!]!;
  put80(h, A, i[0]!, i[1]!, i[2]!);
  put80(h, B, i[3]!, i[4]!, i[5]!);
  h.write32(MEM, i[6]!); h.write32(MEM + 4, i[7]!);
  h.write16(CW, hex(cws!));
  h.flags = 0x2 | (FLAGS_IN[name!] ?? 0);
  execX87(st, h, 0xdb, 0xe3, -1, 32);              // FNINIT
  execX87(st, h, 0xd9, 0x28, CW, 32);              // FLDCW
  execX87(st, h, 0xdb, 0x28, B, 32);               // FLD m80 b
  execX87(st, h, 0xdb, 0x28, A, 32);               // FLD m80 a
  execX87(st, h, opc, modrm, (modrm & 0xc0) === 0xc0 ? -1 : MEM, 32);
  execX87(st, h, 0xd9, 0x30, ENV, 32);             // FNSTENV (does not wait)
  execX87(st, h, 0xdb, 0xe2, -1, 32);              // FNCLEX, so the FSTPs take no #MF
  execX87(st, h, 0xdb, 0x38, R0, 32);              // FSTP m80
  execX87(st, h, 0xdb, 0x38, R1, 32);
  const got = [h.read16(ENV + 4), h.read16(ENV + 8), ...get80(h, R0), ...get80(h, R1), h.read32(MEM), h.read32(MEM + 4), h.flags & 0x45];
  // EFLAGS are only defined by FCOMI/FUCOMI(P); otherwise the host value is left over from C code.
  if (name !== 'fcomi' && name !== 'fucomip') o[o.length - 1] = got[got.length - 1]!;
  if (APPROX.has(name!)) {
    const ok = (got[0]! & ~0x200) === (o[0]! & ~0x200) && got[1] === o[1] &&
      close(f80ToNumber(got[2]!, got[3]!, got[4]!), f80ToNumber(o[2]!, o[3]!, o[4]!)) &&
      close(f80ToNumber(got[5]!, got[6]!, got[7]!), f80ToNumber(o[5]!, o[6]!, o[7]!));
    return ok ? null : `${line}\n   got: ${got.map((v) => (v >>> 0).toString(16)).join(' ')}`;
  }
  for (let k = 0; k < o.length; k++) {
    if (got[k]! >>> 0 !== o[k]) return `${line}\n   got: ${got.map((v) => (v >>> 0).toString(16)).join(' ')}`;
  }
  return null;
}

describe('x87 against the host CPU', () => {
  let lines: string[] = [];
  beforeAll(() => {
    lines = runOracle(buildOracle('x87-oracle.c')).trim().split('\n');
  });

  it('matches the host bit for bit (results, FSW, tags, memory, EFLAGS)', () => {
    expect(lines.length).toBeGreaterThan(200_000);
    const st = new FpuSseState();
    const h = new FakeHost();
    const failures = new Map<string, string[]>();
    for (const line of lines) {
      let r: string | null;
      try { r = replay(st, h, line); } catch (e) { r = `${line}\n   threw ${(e as Error).message}`; }
      if (r) {
        const n = line.slice(0, line.indexOf(' '));
        const l = failures.get(n) ?? [];
        if (l.length < 2) l.push(r);
        failures.set(n, l);
      }
    }
    const report = [...failures.entries()].map(([n, l]) => `${n} (${lines.filter((x) => x.startsWith(n + ' ')).length} cases):\n  ${l.join('\n  ')}`).join('\n');
    expect(report).toBe('');
  });
});
