/**
 * A small FpuSseHost for the unit's tests: flat memory in a byte array (linear = offset),
 * a GPR file of lo/hi dwords, arithmetic flags, CR0/CR4, and raise() throwing a Fault.
 */
import type { FpuSseHost } from '../../src/x86/engine/fpu-sse/index';

export class Fault extends Error {
  constructor(readonly vector: number, readonly errorCode?: number) {
    super(`fault #${vector}${errorCode === undefined ? '' : `(${errorCode})`}`);
  }
}

export class FakeHost implements FpuSseHost {
  mode64 = true;
  readonly mem: Uint8Array;
  readonly gpr = new Uint32Array(32);
  flags = 0x2;
  cr0 = 0x80000033; // PG ET NE MP PE
  cr4 = 0x600;      // OSFXSR OSXMMEXCPT
  /** Linear addresses below this fault as not present (#PF = 14), to test "nothing half-applied". */
  faultBelow = 0;
  readonly writes: number[] = [];

  constructor(size = 0x10000) {
    this.mem = new Uint8Array(size);
  }

  private check(la: number, len: number): void {
    if (la < this.faultBelow || la + len > this.mem.length) throw new Fault(14);
  }
  read8(la: number): number { this.check(la, 1); return this.mem[la]!; }
  read16(la: number): number { this.check(la, 2); return this.mem[la]! | (this.mem[la + 1]! << 8); }
  read32(la: number): number {
    this.check(la, 4);
    return (this.mem[la]! | (this.mem[la + 1]! << 8) | (this.mem[la + 2]! << 16) | (this.mem[la + 3]! << 24)) >>> 0;
  }
  write8(la: number, v: number): void { this.check(la, 1); this.mem[la] = v; }
  write16(la: number, v: number): void { this.check(la, 2); this.mem[la] = v; this.mem[la + 1] = v >>> 8; }
  write32(la: number, v: number): void {
    this.check(la, 4);
    this.mem[la] = v; this.mem[la + 1] = v >>> 8; this.mem[la + 2] = v >>> 16; this.mem[la + 3] = v >>> 24;
  }
  probeWrite(la: number, len: number): void { this.check(la, len); }
  getGpr32(reg: number): number { return this.gpr[2 * reg]!; }
  getGprHi32(reg: number): number { return this.gpr[2 * reg + 1]!; }
  setGpr32(reg: number, v: number): void { this.gpr[2 * reg] = v; this.gpr[2 * reg + 1] = 0; }
  setGpr64(reg: number, lo: number, hi: number): void { this.gpr[2 * reg] = lo; this.gpr[2 * reg + 1] = hi; }
  setGpr16(reg: number, v: number): void { this.gpr[2 * reg] = (this.gpr[2 * reg]! & 0xffff0000) | (v & 0xffff); }
  getFlags(): number { return this.flags; }
  setArithFlags(zf: number, pf: number, cf: number): void {
    this.flags = (this.flags & ~0x8d5) | (zf << 6) | (pf << 2) | cf;
  }
  setStatusFlags(of: number, sf: number, zf: number, af: number, pf: number, cf: number): void {
    this.flags = (this.flags & ~0x8d5) | (of << 11) | (sf << 7) | (zf << 6) | (af << 4) | (pf << 2) | cf;
  }
  raise(vector: number, errorCode?: number): never { throw new Fault(vector, errorCode); }
}

/** Compiles a C file of this directory into a temp dir once per test file; returns the binary path. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function buildOracle(cFile: string, extraFlags: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmts-fpu-'));
  const out = join(dir, cFile.replace(/\.c$/, ''));
  execFileSync('gcc', ['-O1', '-o', out, join(__dirname, 'c', cFile), ...extraFlags, '-lm']);
  return out;
}

export function runOracle(bin: string, args: string[] = []): string {
  return execFileSync(bin, args, { maxBuffer: 1 << 28 }).toString();
}
