/**
 * MMX against the host CPU (c/mmx-oracle.c): every packed-integer MMX form, PSHUFW,
 * shift-by-immediate forms and PINSRW, plus the x87 aliasing: after an MMX instruction
 * TOP=0 and every register is tagged valid (FNSAVE's full tag word is then computed
 * from the contents: MMX-written registers have exponent 0xFFFF and read as special),
 * and EMMS empties the tag word.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EA_REG, FpuSseState, execSse, execX87 } from '../../src/x86/engine/fpu-sse/index';
import { FakeHost, buildOracle, runOracle } from './fake-host';

const INT: Record<string, number> = {
  punpcklbw: 0x60, punpcklwd: 0x61, punpckldq: 0x62, packsswb: 0x63, pcmpgtb: 0x64, pcmpgtw: 0x65,
  pcmpgtd: 0x66, packuswb: 0x67, punpckhbw: 0x68, punpckhwd: 0x69, punpckhdq: 0x6a, packssdw: 0x6b,
  pcmpeqb: 0x74, pcmpeqw: 0x75, pcmpeqd: 0x76, psrlw: 0xd1, psrld: 0xd2, psrlq: 0xd3, paddq: 0xd4,
  pmullw: 0xd5, psubusb: 0xd8, psubusw: 0xd9, pminub: 0xda, pand: 0xdb, paddusb: 0xdc, paddusw: 0xdd,
  pmaxub: 0xde, pandn: 0xdf, pavgb: 0xe0, psraw: 0xe1, psrad: 0xe2, pavgw: 0xe3, pmulhuw: 0xe4,
  pmulhw: 0xe5, psubsb: 0xe8, psubsw: 0xe9, pminsw: 0xea, por: 0xeb, paddsb: 0xec, paddsw: 0xed,
  pmaxsw: 0xee, pxor: 0xef, psllw: 0xf1, pslld: 0xf2, psllq: 0xf3, pmuludq: 0xf4, pmaddwd: 0xf5,
  psadbw: 0xf6, psubb: 0xf8, psubw: 0xf9, psubd: 0xfa, psubq: 0xfb, paddb: 0xfc, paddw: 0xfd, paddd: 0xfe,
  movq: 0x6f,
};
const IMM: Record<string, [number, number, number]> = {
  psrlw3: [0x71, 2, 3], psraw9: [0x71, 4, 9], psllq33: [0x73, 6, 33], psrad40: [0x72, 4, 40],
};

const D = 0x2000; const S = 0x2008; const SAVE = 0x2100; const ENV = 0x2200;
const hex = (s: string) => parseInt(s, 16) >>> 0;

describe('MMX against the host CPU', () => {
  let lines: string[] = [];
  beforeAll(() => { lines = runOracle(buildOracle('mmx-oracle.c')).trim().split('\n'); });

  it('matches results, TOP/tag aliasing and EMMS bit for bit', () => {
    expect(lines.length).toBeGreaterThan(7000);
    const st = new FpuSseState();
    const h = new FakeHost();
    const bad: string[] = [];
    for (const line of lines) {
      const [name, ins, outs] = line.split(' | ');
      const i = ins!.split(' ').map(hex);
      const o = outs!.split(' ').map(hex);
      h.write32(D, i[0]!); h.write32(D + 4, i[1]!); h.write32(S, i[2]!); h.write32(S + 4, i[3]!);
      execX87(st, h, 0xdb, 0xe3, -1, 32);                 // FNINIT
      execX87(st, h, 0xd9, 0xe8, -1, 32);                 // FLD1
      execX87(st, h, 0xd9, 0xee, -1, 32);                 // FLDZ
      execSse(st, h, 0x0f, 0x6f, 0, 0, 0, D, false, 0);   // MOVQ mm0, [d]
      execSse(st, h, 0x0f, 0x6f, 0, 1, 0, S, false, 0);   // MOVQ mm1, [s]
      const n = name!;
      if (n in INT) execSse(st, h, 0x0f, INT[n]!, 0, 0, 1, EA_REG, false, 0);
      else if (n in IMM) execSse(st, h, 0x0f, IMM[n]![0], 0, IMM[n]![1], 0, EA_REG, false, IMM[n]![2]);
      else if (n === 'pshufw1b') execSse(st, h, 0x0f, 0x70, 0, 0, 1, EA_REG, false, 0x1b);
      else { // pinsrw2: movd eax, mm1; pinsrw mm0, eax, 2
        execSse(st, h, 0x0f, 0x7e, 0, 1, 0, EA_REG, false, 0);
        execSse(st, h, 0x0f, 0xc4, 0, 0, 0, EA_REG, false, 2);
      }
      execSse(st, h, 0x0f, 0x7f, 0, 0, 0, D, false, 0);   // MOVQ [d], mm0
      execX87(st, h, 0xdd, 0x30, SAVE, 32);               // FNSAVE
      execX87(st, h, 0xdd, 0x20, SAVE, 32);               // FRSTOR
      execSse(st, h, 0x0f, 0x77, 0, 0, 0, EA_REG, false, 0);  // EMMS
      execX87(st, h, 0xd9, 0x30, ENV, 32);                // FNSTENV
      const got = [h.read32(D), h.read32(D + 4), h.read16(SAVE + 4), h.read16(SAVE + 8), h.read16(SAVE + 28 + 8), h.read16(ENV + 8)];
      if (got.some((v, k) => v !== o[k])) bad.push(`${line}\n   got: ${got.map((v) => v.toString(16)).join(' ')}`);
    }
    expect(bad.slice(0, 6).join('\n')).toBe('');
  });

  it('MMX<->SSE conversions and moves, MASKMOVQ/MASKMOVDQU match the host (c/mmx-sse-oracle.c)', () => {
    const out = runOracle(buildOracle('mmx-sse-oracle.c')).trim().split('\n');
    expect(out.length).toBe(1600);
    const ENC: Record<string, [number, 0 | 0x66 | 0xf3 | 0xf2]> = {
      cvtpi2ps: [0x2a, 0], cvtpi2pd: [0x2a, 0x66], cvtps2pi: [0x2d, 0], cvttps2pi: [0x2c, 0], cvtpd2pi: [0x2d, 0x66],
      cvttpd2pi: [0x2c, 0x66], movq2dq: [0xd6, 0xf3], movdq2q: [0xd6, 0xf2], maskmovq: [0xf7, 0], maskmovdqu: [0xf7, 0x66],
    };
    const st = new FpuSseState();
    const h = new FakeHost();
    const BUF = 0x2400; const M0 = 0x2500; const M1 = 0x2508; const ENV2 = 0x2600;
    const bad: string[] = [];
    for (const line of out) {
      const [name, ins, outs] = line.split(' | ');
      const i = ins!.split(' ').map(hex);
      const o = outs!.split(' ').map(hex);
      for (let k = 0; k < 16; k++) h.write8(BUF + k, 0xa0 + k);
      h.write32(M0, i[8]!); h.write32(M0 + 4, i[9]!); h.write32(M1, i[10]!); h.write32(M1 + 4, i[11]!);
      execX87(st, h, 0xdb, 0xe3, -1, 32);                  // FNINIT
      execX87(st, h, 0xd9, 0xe8, -1, 32);                  // FLD1
      st.mxcsr = i[12]!;
      st.xmm.set(i.slice(0, 4), 0);
      st.xmm.set(i.slice(4, 8), 4);
      execSse(st, h, 0x0f, 0x6f, 0, 0, 0, M0, false, 0);   // MOVQ mm0, m64
      execSse(st, h, 0x0f, 0x6f, 0, 1, 0, M1, false, 0);   // MOVQ mm1, m64
      h.setGpr64(7, BUF, 0);
      const [op, p] = ENC[name!]!;
      execSse(st, h, 0x0f, op, p, 0, 1, EA_REG, false, 0);
      execSse(st, h, 0x0f, 0x7f, 0, 0, 0, M0, false, 0);   // MOVQ m64, mm0
      execX87(st, h, 0xd9, 0x30, ENV2, 32);                // FNSTENV
      const got = [...st.xmm.subarray(0, 4), h.read32(M0), h.read32(M0 + 4), st.mxcsr, h.read16(ENV2 + 4), h.read16(ENV2 + 8),
        h.read32(BUF), h.read32(BUF + 4), h.read32(BUF + 8), h.read32(BUF + 12)];
      if (got.some((v, k) => (v >>> 0) !== o[k])) bad.push(`${line}\n   got: ${got.map((v) => (v >>> 0).toString(16)).join(' ')}`);
      execSse(st, h, 0x0f, 0x77, 0, 0, 0, EA_REG, false, 0);   // EMMS
    }
    expect(bad.slice(0, 6).join('\n')).toBe('');
  });
});
