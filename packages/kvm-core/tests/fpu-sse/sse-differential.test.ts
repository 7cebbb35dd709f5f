/**
 * Differential test of SSE/SSE2 against the host CPU (x86-64): c/sse-oracle.c runs each
 * instruction over special and random operands under six MXCSR settings (rounding
 * modes, FTZ+DAZ, all masked) and prints inputs and outputs; every line is replayed
 * through execSse and must match bit for bit, MXCSR flags included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EA_REG, FpuSseState, execSse, type SsePrefix } from '../../src/x86/engine/fpu-sse/index';
import { FakeHost, buildOracle, runOracle } from './fake-host';

interface Enc { op: number; p: SsePrefix; imm?: number; sub?: number; w?: boolean; m?: 0x0f38 | 0x0f3a }

const ARITH: Record<string, number> = { add: 0x58, sub: 0x5c, mul: 0x59, div: 0x5e, min: 0x5d, max: 0x5f, sqrt: 0x51 };
const SUFFIX: Record<string, SsePrefix> = { ps: 0, ss: 0xf3, pd: 0x66, sd: 0xf2 };
const INTS: Record<string, number> = {
  punpcklbw: 0x60, punpcklwd: 0x61, punpckldq: 0x62, packsswb: 0x63, pcmpgtb: 0x64, pcmpgtw: 0x65,
  pcmpgtd: 0x66, packuswb: 0x67, punpckhbw: 0x68, punpckhwd: 0x69, punpckhdq: 0x6a, packssdw: 0x6b,
  punpcklqdq: 0x6c, punpckhqdq: 0x6d, pcmpeqb: 0x74, pcmpeqw: 0x75, pcmpeqd: 0x76, psrlw: 0xd1,
  psrld: 0xd2, psrlq: 0xd3, paddq: 0xd4, pmullw: 0xd5, psubusb: 0xd8, psubusw: 0xd9, pminub: 0xda,
  pand: 0xdb, paddusb: 0xdc, paddusw: 0xdd, pmaxub: 0xde, pandn: 0xdf, pavgb: 0xe0, psraw: 0xe1,
  psrad: 0xe2, pavgw: 0xe3, pmulhuw: 0xe4, pmulhw: 0xe5, psubsb: 0xe8, psubsw: 0xe9, pminsw: 0xea,
  por: 0xeb, paddsb: 0xec, paddsw: 0xed, pmaxsw: 0xee, pxor: 0xef, psllw: 0xf1, pslld: 0xf2, psllq: 0xf3,
  pmuludq: 0xf4, pmaddwd: 0xf5, psadbw: 0xf6, psubb: 0xf8, psubw: 0xf9, psubd: 0xfa, psubq: 0xfb,
  paddb: 0xfc, paddw: 0xfd, paddd: 0xfe,
};

const MAP38: Record<string, number> = {
  pshufb: 0x00, phaddw: 0x01, phaddd: 0x02, phaddsw: 0x03, pmaddubsw: 0x04, phsubw: 0x05, phsubd: 0x06,
  phsubsw: 0x07, psignb: 0x08, psignw: 0x09, psignd: 0x0a, pmulhrsw: 0x0b, pabsb: 0x1c, pabsw: 0x1d, pabsd: 0x1e,
  pblendvb: 0x10, blendvps: 0x14, blendvpd: 0x15, ptest: 0x17, pmovsxbw: 0x20, pmovsxbd: 0x21, pmovsxbq: 0x22,
  pmovsxwd: 0x23, pmovsxwq: 0x24, pmovsxdq: 0x25, pmuldq: 0x28, pcmpeqq: 0x29, packusdw: 0x2b,
  pmovzxbw: 0x30, pmovzxbd: 0x31, pmovzxbq: 0x32, pmovzxwd: 0x33, pmovzxwq: 0x34, pmovzxdq: 0x35,
  pcmpgtq: 0x37, pminsb: 0x38, pminsd: 0x39, pminuw: 0x3a, pminud: 0x3b, pmaxsb: 0x3c, pmaxsd: 0x3d,
  pmaxuw: 0x3e, pmaxud: 0x3f, pmulld: 0x40, phminposuw: 0x41,
};
const MAP3A: Record<string, [number, number]> = {
  palignr5: [0x0f, 5], palignr17: [0x0f, 17], blendps5: [0x0c, 5], blendpd2: [0x0d, 2], pblendw5a: [0x0e, 0x5a],
  mpsadbw5: [0x42, 5], mpsadbw2: [0x42, 2], insertps9a: [0x21, 0x9a], insertps31: [0x21, 0x31],
  roundps0: [0x08, 0], roundps1: [0x08, 1], roundps2: [0x08, 2], roundps3: [0x08, 3], roundps4: [0x08, 4],
  roundps8: [0x08, 8], roundss1: [0x0a, 1], roundpd0: [0x09, 0], roundpd3: [0x09, 3], roundsd4: [0x0b, 4],
  dppsf1: [0x40, 0xf1], dpps3c: [0x40, 0x3c], dppd31: [0x41, 0x31], pextrb9: [0x14, 9], pextrd2: [0x16, 2],
  pextrq1: [0x16, 1], extractps3: [0x17, 3], pinsrb7: [0x20, 7], pinsrd2: [0x22, 2], pinsrq1: [0x22, 1],
};

function encoding(name: string): Enc {
  const ps = /^pcmp([ie])str([imq])(0x[0-9a-f]+)$/.exec(name);
  if (ps) {
    const op = ps[1] === 'e' ? (ps[2] === 'm' ? 0x60 : 0x61) : ps[2] === 'm' ? 0x62 : 0x63;
    return { op, p: 0x66, m: 0x0f3a, imm: parseInt(ps[3]!, 16), w: ps[2] === 'q' };
  }
  if (name === 'crc32b') return { op: 0xf0, p: 0xf2, m: 0x0f38 };
  if (name === 'crc32l' || name === 'crc32q') return { op: 0xf1, p: 0xf2, m: 0x0f38, w: name === 'crc32q' };
  if (name in MAP38) return { op: MAP38[name]!, p: 0x66, m: 0x0f38 };
  if (name in MAP3A) return { op: MAP3A[name]![0], p: 0x66, m: 0x0f3a, imm: MAP3A[name]![1], w: name === 'pextrq1' || name === 'pinsrq1' };
  const m = /^(add|sub|mul|div|min|max|sqrt)(ps|ss|pd|sd)$/.exec(name);
  if (m) return { op: ARITH[m[1]!]!, p: SUFFIX[m[2]!]! };
  const c = /^cmp(\d)(ps|ss|pd|sd)$/.exec(name);
  if (c) return { op: 0xc2, p: SUFFIX[c[2]!]!, imm: Number(c[1]) };
  if (name in INTS) return { op: INTS[name]!, p: 0x66 };
  const table: Record<string, Enc> = {
    cvtps2pd: { op: 0x5a, p: 0 }, cvtss2sd: { op: 0x5a, p: 0xf3 }, cvtpd2ps: { op: 0x5a, p: 0x66 },
    cvtsd2ss: { op: 0x5a, p: 0xf2 }, cvtdq2ps: { op: 0x5b, p: 0 }, cvtps2dq: { op: 0x5b, p: 0x66 },
    cvttps2dq: { op: 0x5b, p: 0xf3 }, cvtdq2pd: { op: 0xe6, p: 0xf3 }, cvtpd2dq: { op: 0xe6, p: 0xf2 },
    cvttpd2dq: { op: 0xe6, p: 0x66 }, andps: { op: 0x54, p: 0 }, andnps: { op: 0x55, p: 0 },
    orps: { op: 0x56, p: 0 }, xorpd: { op: 0x57, p: 0x66 }, unpcklps: { op: 0x14, p: 0 },
    unpckhps: { op: 0x15, p: 0 }, unpcklpd: { op: 0x14, p: 0x66 }, unpckhpd: { op: 0x15, p: 0x66 },
    shufps1b: { op: 0xc6, p: 0, imm: 0x1b }, shufpse4: { op: 0xc6, p: 0, imm: 0xe4 },
    shufpd1: { op: 0xc6, p: 0x66, imm: 1 }, shufpd2: { op: 0xc6, p: 0x66, imm: 2 },
    movss: { op: 0x10, p: 0xf3 }, movsd: { op: 0x10, p: 0xf2 }, movhlps: { op: 0x12, p: 0 },
    movlhps: { op: 0x16, p: 0 }, movq: { op: 0x7e, p: 0xf3 }, addsubps: { op: 0xd0, p: 0xf2 },
    addsubpd: { op: 0xd0, p: 0x66 }, haddps: { op: 0x7c, p: 0xf2 }, hsubpd: { op: 0x7d, p: 0x66 },
    movddup: { op: 0x12, p: 0xf2 }, movshdup: { op: 0x16, p: 0xf3 }, movsldup: { op: 0x12, p: 0xf3 },
    pshufd1b: { op: 0x70, p: 0x66, imm: 0x1b }, pshufhw93: { op: 0x70, p: 0xf3, imm: 0x93 },
    pshuflw4e: { op: 0x70, p: 0xf2, imm: 0x4e },
    psrlw3: { op: 0x71, p: 0x66, sub: 2, imm: 3 }, psraw15: { op: 0x71, p: 0x66, sub: 4, imm: 15 },
    psllw17: { op: 0x71, p: 0x66, sub: 6, imm: 17 }, psrld7: { op: 0x72, p: 0x66, sub: 2, imm: 7 },
    psrad33: { op: 0x72, p: 0x66, sub: 4, imm: 33 }, pslld31: { op: 0x72, p: 0x66, sub: 6, imm: 31 },
    psrlq1: { op: 0x73, p: 0x66, sub: 2, imm: 1 }, psllq40: { op: 0x73, p: 0x66, sub: 6, imm: 40 },
    psrldq5: { op: 0x73, p: 0x66, sub: 3, imm: 5 }, pslldq9: { op: 0x73, p: 0x66, sub: 7, imm: 9 },
    pslldq17: { op: 0x73, p: 0x66, sub: 7, imm: 17 }, pinsrw5: { op: 0xc4, p: 0x66, imm: 5 },
    cvtss2si: { op: 0x2d, p: 0xf3 }, cvtss2si64: { op: 0x2d, p: 0xf3, w: true },
    cvttss2si: { op: 0x2c, p: 0xf3 }, cvttss2si64: { op: 0x2c, p: 0xf3, w: true },
    cvtsd2si: { op: 0x2d, p: 0xf2 }, cvtsd2si64: { op: 0x2d, p: 0xf2, w: true },
    cvttsd2si: { op: 0x2c, p: 0xf2 }, cvttsd2si64: { op: 0x2c, p: 0xf2, w: true },
    movmskps: { op: 0x50, p: 0 }, movmskpd: { op: 0x50, p: 0x66 }, pmovmskb: { op: 0xd7, p: 0x66 },
    pextrw6: { op: 0xc5, p: 0x66, imm: 6 }, movd: { op: 0x7e, p: 0x66 }, movq64: { op: 0x7e, p: 0x66, w: true },
    comiss: { op: 0x2f, p: 0 }, ucomiss: { op: 0x2e, p: 0 }, comisd: { op: 0x2f, p: 0x66 }, ucomisd: { op: 0x2e, p: 0x66 },
    cvtsi2ss: { op: 0x2a, p: 0xf3 }, cvtsi2ss64: { op: 0x2a, p: 0xf3, w: true },
    cvtsi2sd: { op: 0x2a, p: 0xf2 }, cvtsi2sd64: { op: 0x2a, p: 0xf2, w: true },
    rcpps: { op: 0x53, p: 0 }, rsqrtps: { op: 0x52, p: 0 }, rcpss: { op: 0x53, p: 0xf3 },
    movd_in: { op: 0x6e, p: 0x66 }, movq64_in: { op: 0x6e, p: 0x66, w: true },
  };
  const e = table[name];
  if (!e) throw new Error(`no encoding for ${name}`);
  return e;
}

const hex = (s: string) => parseInt(s, 16) >>> 0;
const h = (v: number) => (v >>> 0).toString(16);

/** Replays one oracle line; returns a mismatch description or null. */
/** Lines also replayed with the source operand in memory (register-only or different-meaning forms excluded). */
const NO_MEM = new Set(['pextrb9', 'pextrd2', 'pextrq1', 'extractps3', 'pinsrb7', 'pmovsxbw', 'pmovsxbd', 'pmovsxbq', 'pmovsxwd', 'pmovsxwq', 'pmovsxdq', 'pmovzxbw', 'pmovzxbd', 'pmovzxbq', 'pmovzxwd', 'pmovzxwq', 'pmovzxdq', 'roundss1', 'roundsd4', 'movhlps', 'movlhps', 'movss', 'movsd', 'pinsrw5', 'movmskps', 'movmskpd', 'pmovmskb', 'pextrw6', 'movd', 'movq64']);
const SRC = 0x4000;

function replay(st: FpuSseState, host: FakeHost, line: string, mem: boolean): string | null {
  const [head, ins, outs] = line.split(' | ');
  const [name, kind, mxs] = head!.split(' ');
  const i = ins!.trim().split(' ').map(hex);
  const o = outs!.trim().split(' ').map(hex);
  const e = encoding(name === 'movd' && kind === 'I' ? 'movd_in' : name === 'movq64' && kind === 'I' ? 'movq64_in' : name!);
  st.mxcsr = hex(mxs!);
  const x = st.xmm;
  let got: number[];
  switch (kind) {
    case 'X': {
      x.set(i.slice(0, 4), 0);
      x.set(i.slice(4, 8), 4);
      if (name === 'pinsrw5') {
        host.setGpr32(0, i[4]!);
        execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 0, EA_REG, false, e.imm ?? 0);
      } else if (e.sub !== undefined) {
        execSse(st, host, e.m ?? 0x0f, e.op, e.p, e.sub, 0, EA_REG, false, e.imm ?? 0);
      } else if (mem) {
        for (let k = 0; k < 4; k++) host.write32(SRC + 4 * k, i[4 + k]!);
        execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 1, SRC, false, e.imm ?? 0);
      } else {
        execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 1, EA_REG, false, e.imm ?? 0);
      }
      got = [...x.slice(0, 4), st.mxcsr];
      break;
    }
    case 'G': {
      x.set(i.slice(0, 4), 4);
      host.setGpr64(0, 0xdeadbeef, 0xdeadbeef);
      if (e.op === 0x7e || (e.m === 0x0f3a && e.op >= 0x14 && e.op <= 0x17)) execSse(st, host, e.m ?? 0x0f, e.op, e.p, 1, 0, EA_REG, !!e.w, e.imm ?? 0);
      else if (mem) {
        for (let k = 0; k < 4; k++) host.write32(SRC + 4 * k, i[k]!);
        execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 1, SRC, !!e.w, e.imm ?? 0);
      } else execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 1, EA_REG, !!e.w, e.imm ?? 0);
      got = [host.gpr[0]!, host.gpr[1]!, st.mxcsr];
      break;
    }
    case 'F': {
      x.set(i.slice(0, 4), 0);
      x.set(i.slice(4, 8), 4);
      host.flags = 0x8d5 | 2;
      if (mem) for (let k = 0; k < 4; k++) host.write32(SRC + 4 * k, i[4 + k]!);
      execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 1, mem ? SRC : EA_REG, false, 0);
      got = [host.flags & 0x8d5, st.mxcsr];
      break;
    }
    case 'S': { // PCMPxSTRx: xmm0 op xmm1 with RAX/RDX lengths; ECX, XMM0, flags
      x.set(i.slice(0, 4), 0);
      x.set(i.slice(4, 8), 4);
      host.setGpr64(0, i[8]!, i[9]!);
      host.setGpr64(2, i[10]!, i[11]!);
      host.setGpr64(1, 0x5555, 0);
      host.flags = 0x8d5 | 2;
      if (mem) for (let k = 0; k < 4; k++) host.write32(SRC + 1 + 4 * k, i[4 + k]!); // unaligned is fine
      execSse(st, host, 0x0f3a, e.op, e.p, 0, 1, mem ? SRC + 1 : EA_REG, !!e.w, e.imm!);
      got = [host.gpr[2]!, ...x.slice(0, 4), host.flags & 0x8d5];
      break;
    }
    case 'C': { // CRC32 r, r/m
      host.setGpr64(0, i[0]!, i[1]!);
      host.setGpr64(3, i[2]!, i[3]!);
      if (mem) { host.write32(SRC, i[2]!); host.write32(SRC + 4, i[3]!); }
      execSse(st, host, 0x0f38, e.op, e.p, 0, 3, mem ? SRC : EA_REG, !!e.w, 0);
      got = [host.gpr[0]!, host.gpr[1]!];
      break;
    }
    default: { // I
      x.set(i.slice(0, 4), 0);
      host.setGpr64(0, i[4]!, i[5]!);
      if (mem) { host.write32(SRC, i[4]!); host.write32(SRC + 4, i[5]!); }
      execSse(st, host, e.m ?? 0x0f, e.op, e.p, 0, 0, mem ? SRC : EA_REG, !!e.w, e.imm ?? 0);
      got = [...x.slice(0, 4), st.mxcsr];
    }
  }
  if (APPROX.has(name!)) { // the architecture bounds the error only; each CPU has its own tables
    for (let k = 0; k < 4; k++) if (!approxOk(got[k]!, o[k]!)) return `${line}\n   got: ${got.map(h).join(' ')}`;
    return got[4] === o[4] ? null : `${line}\n   got: ${got.map(h).join(' ')}`;
  }
  for (let k = 0; k < o.length; k++) {
    if ((got[k]! >>> 0) !== o[k]) return `${line}\n   got: ${got.map(h).join(' ')}`;
  }
  return null;
}

const APPROX = new Set(['rcpps', 'rsqrtps', 'rcpss']);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function approxOk(a: number, b: number): boolean {
  if (a === b) return true;
  u32[0] = a; const x = f32[0]!;
  u32[0] = b; const y = f32[0]!;
  if (Number.isNaN(x) || Number.isNaN(y)) return false;
  return Math.abs(x - y) <= 2 * 1.5 * 2 ** -12 * Math.abs(y); // both within 1.5*2^-12 of the true value
}

describe('SSE/SSE2 against the host CPU', () => {
  let lines: string[] = [];
  beforeAll(() => {
    const bin = buildOracle('sse-oracle.c', ['-msse4.2']);
    lines = runOracle(bin).trim().split('\n');
  });

  it('matches the host bit for bit (results and MXCSR) over the oracle cases', () => {
    expect(lines.length).toBeGreaterThan(100_000);
    const st = new FpuSseState();
    const host = new FakeHost();
    const failures = new Map<string, string[]>();
    let n = 0;
    for (const line of lines) {
      const name = line.slice(0, line.indexOf(' '));
      const mem = (n++ & 3) === 0 && !NO_MEM.has(name) && !/^(psrlw3|psraw15|psllw17|psrld7|psrad33|pslld31|psrlq1|psllq40|psrldq5|pslldq9|pslldq17)$/.test(name);
      const r = replay(st, host, line, mem);
      if (r) {
        const n = line.slice(0, line.indexOf(' '));
        const l = failures.get(n) ?? [];
        if (l.length < 3) l.push(r);
        failures.set(n, l);
      }
    }
    const report = [...failures.entries()].map(([n, l]) => `${n}:\n  ${l.join('\n  ')}`).join('\n');
    expect(report).toBe('');
  });
});
