/**
 * The engine side of the FPU/SSE contract: FpuSseHost over an X86Cpu. Memory accesses
 * take linear addresses and go through paging (and may throw the engine's FAULT).
 */
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './constants';
import type { X86Cpu } from './cpu';
import { d } from './decoder';
import type { FpuSseHost } from './fpu-sse/index';

class FpuHostView implements FpuSseHost {
  constructor(private readonly cpu: X86Cpu) {}
  get mode64(): boolean { return this.cpu.mode64; }
  get cr0(): number { return this.cpu.cr0; }
  get cr4(): number { return this.cpu.cr4; }
  /** FIP/FCS for x87 instructions (an optional addition of the FPU unit's side of the contract). */
  get fpuIp(): number { return d.ipStart; }
  get fpuCs(): number { return this.cpu.segSel[1]!; }
  read8(la: number): number { return this.cpu.read8(la); }
  read16(la: number): number { return this.cpu.read16(la); }
  read32(la: number): number { return this.cpu.read32(la); }
  write8(la: number, v: number): void { this.cpu.write8(la, v); }
  write16(la: number, v: number): void { this.cpu.write16(la, v); }
  write32(la: number, v: number): void { this.cpu.write32(la, v); }
  probeWrite(la: number, len: number): void { this.cpu.probeWrite(la, len); }
  getGpr32(reg: number): number { return this.cpu.regs[2 * reg]!; }
  getGprHi32(reg: number): number { return this.cpu.regs[2 * reg + 1]!; }
  setGpr32(reg: number, v: number): void {
    this.cpu.regs[2 * reg] = v;
    this.cpu.regs[2 * reg + 1] = 0;
  }
  setGpr64(reg: number, lo: number, hi: number): void {
    this.cpu.regs[2 * reg] = lo;
    this.cpu.regs[2 * reg + 1] = hi;
  }
  setGpr16(reg: number, v: number): void {
    const r = this.cpu.regs;
    r[2 * reg] = (r[2 * reg]! & ~0xffff) | (v & 0xffff);
  }
  getFlags(): number { return this.cpu.getFlags(); }
  setArithFlags(zf: number, pf: number, cf: number): void {
    const c = this.cpu;
    c.flags = (c.flags & ~(FLAG_ZF | FLAG_PF | FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF)) |
      (zf ? FLAG_ZF : 0) | (pf ? FLAG_PF : 0) | (cf ? FLAG_CF : 0);
  }
  raise(vector: number, errorCode?: number): never {
    return this.cpu.raise(vector, errorCode ?? -1);
  }
}

const views = new WeakMap<X86Cpu, FpuHostView>();

/** The FpuSseHost of a CPU (one per CPU, created on first use). */
export function fpuHost(cpu: X86Cpu): FpuSseHost {
  let v = views.get(cpu);
  if (v === undefined) {
    v = new FpuHostView(cpu);
    views.set(cpu, v);
  }
  return v;
}
