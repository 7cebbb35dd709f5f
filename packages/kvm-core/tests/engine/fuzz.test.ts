/**
 * Fuzz: random instruction bytes in real, 32-bit protected and 64-bit long mode. The host
 * never throws, and every outcome is architectural: an exception vector, an exit, or
 * progress. (The target is a million instructions; CI runs a fixed-seed sample.)
 */
import { describe, expect, it } from 'vitest';
import {
  ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_INTERNAL_ERROR, ENGINE_EXIT_NAMES, ENGINE_EXIT_TRIPLE_FAULT,
} from '../../src/x86/engine/guest-mode';
import { createMachine, enterLongMode, enterProtected32, type Machine } from './harness';

const INSTRUCTIONS_PER_MODE = Number(process.env.ENGINE_FUZZ ?? 200_000);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

function fuzzMode(mode: 'real' | 'prot32' | 'long64', seed: number): { executed: number; outcomes: Map<string, number>; hostErrors: string[] } {
  const m = createMachine(new Uint8Array(0), 0x1000, 0x100000);
  const cpu = m.cpu;
  // Intercept everything that can exit so every outcome is observable.
  m.interceptOverride = (_c, e) => e.reason !== 0;
  const r = rng(seed);
  const outcomes = new Map<string, number>();
  const hostErrors: string[] = [];
  let executed = 0;
  while (executed < INSTRUCTIONS_PER_MODE) {
    cpu.reset();
    cpu.segSel[1] = 0; cpu.segBase[1] = 0;
    if (mode === 'prot32') enterProtected32(m, 0xffffffff);
    if (mode === 'long64') enterLongMode(m);
    for (let i = 0; i < 64; i++) m.mem[0x1000 + i] = r() & 0xff;
    for (let i = 0; i < 32; i++) cpu.regs[i] = (r() & 1) ? r() & 0xfffff : r() | 0;
    for (let i = 1; i < 32; i += 2) if (r() & 1) cpu.regs[i] = 0;
    cpu.regs[8] = 0x8000; cpu.regs[9] = 0;
    cpu.flags = (r() & 0xcd5) | 2;
    cpu.rip = 0x1000;
    const before = cpu.instret;
    const reason = cpu.run(16);
    executed += Math.max(1, cpu.instret - before);
    let key = ENGINE_EXIT_NAMES[reason] ?? String(reason);
    if (reason === ENGINE_EXIT_EXCEPTION) {
      key += `:${cpu.exit.vector}`;
      expect(cpu.exit.vector).toBeLessThan(32);
    }
    if (reason === ENGINE_EXIT_INTERNAL_ERROR) {
      if (cpu.exit.internalMessage.startsWith('host exception')) hostErrors.push(cpu.exit.internalMessage.split('\n').slice(0, 3).join(' | '));
      key += `:${cpu.exit.internalMessage.slice(0, 40)}`;
    }
    if (reason === ENGINE_EXIT_TRIPLE_FAULT) key = 'TRIPLE_FAULT';
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  return { executed, outcomes, hostErrors };
}

describe('engine: fuzz with random instruction bytes', () => {
  for (const [mode, seed] of [['real', 1], ['prot32', 2], ['long64', 3]] as const) {
    it(`${mode}: no host exception, only architectural outcomes`, () => {
      const { executed, outcomes, hostErrors } = fuzzMode(mode, seed);
      expect(hostErrors.slice(0, 5)).toEqual([]);
      expect(executed).toBeGreaterThanOrEqual(INSTRUCTIONS_PER_MODE);
      // #UD must show up (random bytes hit undefined opcodes), and so must ordinary progress.
      expect([...outcomes.keys()].some((k) => k === 'EXCEPTION:6')).toBe(true);
      if (process.env.ENGINE_FUZZ_VERBOSE) console.log(mode, executed, [...outcomes.entries()].sort((a, b) => b[1] - a[1]));
    }, 60_000);
  }
});
