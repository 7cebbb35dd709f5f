/**
 * Bare-engine test harness: guests assembled at test time with GNU as/ld (binutils),
 * loaded into a Memslots-backed RAM, run on an X86Cpu with a test controller that
 * behaves like a minimal VMM: it intercepts I/O and HLT; port 0xE9 is a debug console.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memslots } from '../../src/memory/memslots';
import { X86Cpu } from '../../src/x86/engine/cpu';
import {
  ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_HLT, ENGINE_EXIT_IO, ENGINE_EXIT_NAMES, type EngineExit, type GuestModeController,
} from '../../src/x86/engine/guest-mode';

const CACHE = join(tmpdir(), 'kvmts-engine-guests');

/** Assemble GNU-as source (use .code16/.code32/.code64 inside) linked at `org`, as a flat binary. */
export function assemble(src: string, org: number): Uint8Array {
  mkdirSync(CACHE, { recursive: true });
  const key = createHash('sha256').update(`${org}\n${src}`).digest('hex').slice(0, 20);
  const bin = join(CACHE, `${key}.bin`);
  if (!existsSync(bin)) {
    // Per-process temporaries and an atomic rename: concurrent test runs share the cache.
    const tmp = join(CACHE, `${key}.${process.pid}`);
    writeFileSync(`${tmp}.s`, src);
    execFileSync('as', ['--64', '-o', `${tmp}.o`, `${tmp}.s`]);
    execFileSync('ld', ['-m', 'elf_x86_64', `-Ttext=0x${org.toString(16)}`, '--oformat=binary', '-e', '0', '-o', `${tmp}.bin`, `${tmp}.o`]);
    renameSync(`${tmp}.bin`, bin);
  }
  return new Uint8Array(readFileSync(bin));
}

export interface Machine {
  cpu: X86Cpu;
  mem: Uint8Array;
  memslots: Memslots;
  console: number[];
  /** Ports other than 0xE9 seen, in order (port, value) for OUT. */
  outs: [number, number][];
  /** The value IN returns, per port. */
  inValues: Map<number, number>;
  interceptOverride: ((cpu: X86Cpu, exit: EngineExit) => boolean | undefined) | null;
}

/** A machine with `size` bytes of RAM at 0, the guest at `org`, CPU in real mode at 0:org. */
export function createMachine(code: Uint8Array, org: number, size = 0x400000): Machine {
  const memslots = new Memslots();
  const mem = new Uint8Array(size);
  memslots.set({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: size, userspaceAddr: mem });
  mem.set(code, org);
  const cpu = new X86Cpu(memslots);
  cpu.segSel[1] = 0;
  cpu.segBase[1] = 0;
  cpu.rip = org;
  const m: Machine = { cpu, mem, memslots, console: [], outs: [], inValues: new Map(), interceptOverride: null };
  const controller: GuestModeController = {
    intercept(c, exit) {
      const o = m.interceptOverride?.(c, exit);
      if (o !== undefined) return o;
      return exit.reason === ENGINE_EXIT_IO || exit.reason === ENGINE_EXIT_HLT;
    },
  };
  cpu.controller = controller;
  return m;
}

/** Run until HLT (or another unhandled exit); I/O exits are emulated like a VMM would. */
export function runToHlt(m: Machine, maxInstructions = 5_000_000): { reason: number; name: string } {
  const cpu = m.cpu;
  let left = maxInstructions;
  for (;;) {
    const before = cpu.instret;
    const r = cpu.run(Math.min(left, 100_000));
    left -= cpu.instret - before;
    if (r === ENGINE_EXIT_IO) {
      const e = cpu.exit;
      if (e.isString) return { reason: r, name: 'IO(string)' };
      if (e.isIn) {
        const v = m.inValues.get(e.port) ?? 0xffffffff;
        const R = cpu.regs;
        if (e.size === 4) { R[0] = v; R[1] = 0; }
        else if (e.size === 2) R[0] = (R[0]! & ~0xffff) | (v & 0xffff);
        else R[0] = (R[0]! & ~0xff) | (v & 0xff);
      } else if (e.port === 0xe9) {
        m.console.push(e.valueLo & 0xff);
      } else {
        m.outs.push([e.port, e.valueLo >>> 0]);
      }
      cpu.rip += e.instrLen;
      continue;
    }
    if (r === 0 && left > 0 && !cpu.halted) continue;
    return { reason: r, name: ENGINE_EXIT_NAMES[r] ?? String(r) };
  }
}

export function consoleText(m: Machine): string {
  return m.console.slice(0, 4000).map((c) => String.fromCharCode(c)).join('');
}

/** Put the CPU straight into 64-bit mode (CPL 0) with identity-mapped 2 MiB pages for the first 8 MiB. */
export function enterLongMode(m: Machine, pml4 = 0x10000): void {
  const { cpu, mem } = m;
  const dv = new DataView(mem.buffer);
  mem.fill(0, pml4, pml4 + 3 * 4096);
  dv.setUint32(pml4, (pml4 + 0x1000) | 7, true);
  dv.setUint32(pml4 + 0x1000, (pml4 + 0x2000) | 7, true);
  for (let i = 0; i < 4; i++) dv.setUint32(pml4 + 0x2000 + 8 * i, (i << 21) | 0x87, true);
  cpu.cr3 = pml4;
  cpu.cr4 = 0x20 | 0x200; // PAE, OSFXSR
  cpu.efer = 0x500 | 1 | 0x800; // LME, LMA, SCE, NXE
  cpu.cr0 = 0x80000011;
  cpu.segSel[1] = 0x10; cpu.segBase[1] = 0; cpu.segLimit[1] = 0xffffffff; cpu.segAr[1] = 0xa09b;
  for (const s of [0, 2, 3, 4, 5]) {
    cpu.segSel[s] = 0x18; cpu.segBase[s] = 0; cpu.segLimit[s] = 0xffffffff; cpu.segAr[s] = 0xc093;
  }
  cpu.updateMode();
  cpu.flushTlb();
}

/**
 * Put the CPU into 32-bit protected mode, paging off: flat 4 GiB CS/SS/ES/FS/GS and a DS
 * with limit dsLimit (a load past it raises #GP(0) where the test wants a fault).
 */
export function enterProtected32(m: Machine, dsLimit: number): void {
  const cpu = m.cpu;
  cpu.cr0 = 0x11;
  cpu.segSel[1] = 0x08; cpu.segBase[1] = 0; cpu.segLimit[1] = 0xffffffff; cpu.segAr[1] = 0xc09b;
  for (const s of [0, 2, 4, 5]) { cpu.segSel[s] = 0x10; cpu.segBase[s] = 0; cpu.segLimit[s] = 0xffffffff; cpu.segAr[s] = 0xc093; }
  cpu.segSel[3] = 0x10; cpu.segBase[3] = 0; cpu.segLimit[3] = dsLimit; cpu.segAr[3] = 0xc093;
  cpu.updateMode();
}

/** What lockstep tests compare after each slice: the GPRs, RIP, RFLAGS, instructions retired and the exit. */
export interface Snapshot { regs: number[]; rip: number; flags: number; instret: number; exit: string; vector: number }

/** The Snapshot of machine m after a run that returned exit r. */
export function snapshot(m: Machine, r: number): Snapshot {
  const cpu = m.cpu;
  return {
    regs: Array.from(cpu.regs.subarray(0, 32)), rip: cpu.rip, flags: cpu.flags, instret: cpu.instret,
    exit: ENGINE_EXIT_NAMES[r] ?? String(r), vector: r === ENGINE_EXIT_EXCEPTION ? cpu.exit.vector : -1,
  };
}
