/**
 * Robustness: random opcodes, prefixes, ModRM bytes, operands and states through
 * execSse/execX87/execSseControl/execFwait. A guest must never crash the host: the only
 * exceptions allowed out of the unit are the architectural faults it raises through
 * host.raise (and the host's own memory faults).
 */
import { describe, expect, it } from 'vitest';
import { EA_REG, FpuSseState, execFwait, execSse, execSseControl, execX87, isSseOpcode, type SsePrefix } from '../../src/x86/engine/fpu-sse/index';
import { Fault, FakeHost } from './fake-host';

let seed = 0x12345678;
function rnd(): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return seed >>> 0;
}
const PREFIXES: SsePrefix[] = [0, 0x66, 0xf3, 0xf2];
const MAPS = [0x0f, 0x0f, 0x0f, 0x0f38, 0x0f3a] as const;

describe('fuzzing the unit', () => {
  it('raises only architectural faults on random instructions and states', () => {
    const st = new FpuSseState();
    const h = new FakeHost(0x20000);
    h.faultBelow = 0x100;
    const unexpected: string[] = [];
    let faults = 0;
    let ok = 0;
    for (let n = 0; n < 200_000; n++) {
      if ((n & 255) === 0) {
        for (let i = 0; i < 64; i++) st.xmm[i] = rnd();
        for (let i = 0; i < 16; i++) st.fprMant[i] = rnd();
        for (let i = 0; i < 8; i++) st.fprExp[i] = rnd() & 0xffff;
        st.fcw = rnd() & 0x1f3f | 0x40;
        st.fsw = rnd() & 0xffff;
        st.ftwAbridged = rnd() & 0xff;
        st.mxcsr = rnd() & 0xffff;
        for (let i = 0; i < 32; i++) h.gpr[i] = rnd();
        for (let i = 0; i < 0x1000; i++) h.mem[0x1000 + i] = rnd() & 0xff;
        h.cr4 = rnd() & 1 ? 0x600 : 0x200;
        h.mode64 = (rnd() & 3) !== 0;
      }
      const kind = rnd() % 10;
      const ea = rnd() % 3 === 0 ? EA_REG : (rnd() % 8 === 0 ? rnd() % 0x200 : 0x1000 + (rnd() % 0xe00));
      try {
        if (kind < 6) {
          const map = MAPS[rnd() % MAPS.length]!;
          const op = rnd() & 0xff;
          const prefix = PREFIXES[rnd() & 3]!;
          if (!isSseOpcode(map, op, prefix)) continue;
          execSse(st, h, map, op, prefix, rnd() & 15, rnd() & 15, ea, (rnd() & 1) === 1, rnd() & 0xff);
        } else if (kind < 9) {
          const modrm = rnd() & 0xff;
          const mem = (modrm & 0xc0) !== 0xc0;
          execX87(st, h, 0xd8 + (rnd() & 7), modrm, mem ? (ea === EA_REG ? 0x1000 : ea) : -1, ([16, 32, 64] as const)[rnd() % 3]!);
        } else {
          const k = (['ldmxcsr', 'stmxcsr', 'fxsave', 'fxrstor'] as const)[rnd() & 3]!;
          if (rnd() & 1) execFwait(st, h); else execSseControl(st, h, k, ea === EA_REG ? 0x1000 : ea);
        }
        ok++;
      } catch (e) {
        if (e instanceof Fault) faults++;
        else if (unexpected.length < 5) unexpected.push(String((e as Error).stack ?? e));
      }
      // The state stays architectural: MXCSR within its mask, TOP in range.
      if ((st.mxcsr & ~0xffff) !== 0 || st.top < 0 || st.top > 7) {
        unexpected.push(`state out of range after instruction ${n}`);
        break;
      }
    }
    expect(unexpected).toEqual([]);
    expect(ok).toBeGreaterThan(20_000);
    expect(faults).toBeGreaterThan(100);
  });
});
