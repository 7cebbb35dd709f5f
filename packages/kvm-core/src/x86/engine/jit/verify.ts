/**
 * The compiled tier's differential check (a debugging mode, KVMTS_JIT_VERIFY=1 or
 * jitParams.verify): every compiled block runs, then its effects are undone (GPRs, RIP,
 * EFLAGS, the bytes its stores overwrote) and the interpreter runs the same instructions
 * from the same state; registers, RIP, EFLAGS, the stores (address, size, value, in order)
 * and the fault (vector, faulting RIP, instructions retired before it) must agree. A
 * mismatch is printed with the block's source and the interpreter's result is kept, so a
 * whole guest (a Linux boot) runs and lists every divergence. Slow (it patches the CPU's
 * store methods while a block or its replay runs); never on by default.
 */
import { TLB_MASK, TLB_WRITE_BASE } from '../tlb';
import type { X86Cpu } from '../cpu';
import { d } from '../decoder';
import { step } from '../execute';
import { FAULT } from '../fault';

interface Store { la: number; size: number; lo: number; hi: number }

const log: Store[] = [];
/** The bytes each logged store overwrote (la, old bytes), for the undo. */
const undo: { la: number; old: number[] }[] = [];
let recording = false;
let patched: X86Cpu | null = null;

/** Verify-mode store methods on cpu: log each outermost store and the bytes it overwrites. */
function patch(cpu: X86Cpu): void {
  if (patched === cpu) return;
  patched = cpu;
  const proto = Object.getPrototypeOf(cpu) as X86Cpu;
  let depth = 0;
  const wrap = (size: number, orig: (this: X86Cpu, la: number, lo: number, hi: number) => void) =>
    function (this: X86Cpu, la: number, lo: number, hi: number): void {
      if (!recording || depth > 0) { orig.call(this, la, lo, hi); return; }
      // Faults first, exactly as the store itself would take them.
      this.probeWrite(la, size);
      const old: number[] = [];
      const mmio = this.mmioWritePending;
      for (let k = 0; k < size; k++) old.push(peekByte(this, la + k));
      depth++;
      try { orig.call(this, la, lo, hi); } finally { depth--; }
      if (!mmio && this.mmioWritePending) return; // an MMIO store: nothing to undo
      log.push({ la, size, lo: size === 1 ? lo & 0xff : size === 2 ? lo & 0xffff : lo | 0, hi: size === 8 ? hi | 0 : 0 });
      undo.push({ la, old });
    };
  const c = cpu as unknown as Record<string, unknown>;
  c.write8 = wrap(1, proto.write8 as never);
  c.write16 = wrap(2, proto.write16 as never);
  c.write32 = wrap(4, proto.write32 as never);
  c.write64 = wrap(8, proto.write64 as never);
}

/**
 * The offset of the RAM byte at la in cpu.tlbMem[i] (the write entry of its page, filled by
 * a translation: a page whose rights are not cached leaves its tag empty), or -1 for MMIO.
 */
function ramByte(cpu: X86Cpu, la: number): number {
  if (cpu.translateForAccess(la, 1) < 0) return -1;
  const i = TLB_WRITE_BASE + ((la >>> 12) & TLB_MASK);
  return cpu.tlbOff[i]! + (la & 0xfff);
}

/** A byte of RAM at la (-1 when la is MMIO). The store's own probe already took any fault. */
function peekByte(cpu: X86Cpu, la: number): number {
  const p = ramByte(cpu, la);
  return p < 0 ? -1 : cpu.tlbMem[TLB_WRITE_BASE + ((la >>> 12) & TLB_MASK)]![p]!;
}

function restoreBytes(cpu: X86Cpu): void {
  for (let u = undo.length - 1; u >= 0; u--) {
    const { la, old } = undo[u]!;
    for (let k = 0; k < old.length; k++) {
      if (old[k]! < 0) continue;
      const p = ramByte(cpu, la + k);
      if (p >= 0) cpu.tlbMem[TLB_WRITE_BASE + (((la + k) >>> 12) & TLB_MASK)]![p] = old[k]!;
    }
  }
}

/** The x87/SSE state (register forms of SSE instructions run inside blocks through the interpreter). */
interface FpuSave { keys: string[]; nums: number[]; arrays: { key: string; copy: Uint32Array | Uint16Array }[] }
let fpuSave: FpuSave | null = null;

function saveFpu(cpu: X86Cpu): void {
  const f = cpu.fpu as unknown as Record<string, unknown>;
  if (fpuSave === null) {
    fpuSave = { keys: [], nums: [], arrays: [] };
    for (const [k, v] of Object.entries(f)) {
      if (typeof v === 'number') fpuSave.keys.push(k);
      else if (ArrayBuffer.isView(v)) fpuSave.arrays.push({ key: k, copy: (v as Uint32Array).slice() });
    }
  }
  const sv = fpuSave;
  for (let i = 0; i < sv.keys.length; i++) sv.nums[i] = f[sv.keys[i]!] as number;
  for (const a of sv.arrays) a.copy.set(f[a.key] as Uint32Array);
}

function restoreFpu(cpu: X86Cpu): void {
  const f = cpu.fpu as unknown as Record<string, unknown>;
  const sv = fpuSave!;
  for (let i = 0; i < sv.keys.length; i++) if (f[sv.keys[i]!] !== sv.nums[i]) f[sv.keys[i]!] = sv.nums[i];
  for (const a of sv.arrays) (f[a.key] as Uint32Array).set(a.copy);
}

const segSave = { sel: new Int32Array(8), base: new Float64Array(8), limit: new Float64Array(8), ar: new Int32Array(8), mode64: false, cpl: 0 };

function saveSeg(cpu: X86Cpu): void {
  segSave.sel.set(cpu.segSel); segSave.base.set(cpu.segBase); segSave.limit.set(cpu.segLimit); segSave.ar.set(cpu.segAr);
  segSave.mode64 = cpu.mode64; segSave.cpl = cpu.cpl;
}

function segChanged(cpu: X86Cpu): boolean {
  if (cpu.mode64 !== segSave.mode64 || cpu.cpl !== segSave.cpl) return true;
  for (let i = 0; i < 8; i++) {
    if (cpu.segSel[i] !== segSave.sel[i] || cpu.segBase[i] !== segSave.base[i] || cpu.segLimit[i] !== segSave.limit[i] || cpu.segAr[i] !== segSave.ar[i]) return true;
  }
  return false;
}

interface Outcome { r: number; regs: number[]; rip: number; flags: number; stores: string; fault: string }

let mismatches = 0;

/**
 * Run block fn (as runBlock would) and check it against the interpreter. Returns what the
 * block returns; throws what it throws (with the interpreter's state in the CPU).
 */
export function verifyBlock(cpu: X86Cpu, fn: (...a: never[]) => number, m: Uint8Array, o: number, left: number, entry: number, source: string | undefined): number {
  patch(cpu);
  const regs0 = Array.from(cpu.regs.subarray(0, 32));
  const rip0 = cpu.rip;
  const flags0 = cpu.flags;
  const pend0 = cpu.mmioWritePending;
  saveFpu(cpu);
  saveSeg(cpu);
  log.length = 0;
  undo.length = 0;
  recording = true;
  let jit: Outcome;
  let thrown: unknown = null;
  try {
    const r = (fn as unknown as (c: X86Cpu, m: Uint8Array, o: number, R: Int32Array, l: number, dp: number, en: number) => number)(cpu, m, o, cpu.regs, left, 0, entry);
    jit = { r, regs: Array.from(cpu.regs.subarray(0, 32)), rip: d.ip, flags: cpu.flags, stores: fmt(), fault: '' };
  } catch (e) {
    thrown = e;
    const retired = cpu.jitRetired;
    jit = { r: retired, regs: Array.from(cpu.regs.subarray(0, 32)), rip: d.ipStart, flags: cpu.flags, stores: fmt(), fault: e === FAULT ? `fault ${cpu.faultVector}` : 'exit' };
  }
  recording = false;
  if (jit.r <= 0 && thrown === null) return jit.r; // nothing ran (-1: the code changed)
  if (cpu.mmioWritePending !== pend0 || (thrown !== null && thrown !== FAULT) || segChanged(cpu)) {
    // An MMIO store or an exit: devices are involved, keep the block's result.
    if (thrown !== null) throw thrown;
    return jit.r;
  }
  const jitRegs = Int32Array.from(jit.regs);
  const jitFlags = jit.flags;
  // Undo and replay on the interpreter.
  restoreBytes(cpu);
  for (let k = 0; k < 32; k++) cpu.regs[k] = regs0[k]!;
  cpu.flags = flags0;
  cpu.rip = rip0;
  restoreFpu(cpu);
  const count = thrown !== null ? jit.r + 1 : jit.r;
  log.length = 0;
  undo.length = 0;
  recording = true;
  let ir: Outcome;
  let done = 0;
  let ithrown: unknown = null;
  try {
    for (; done < count; done++) {
      step(cpu);
      cpu.rip = d.ip;
    }
    ir = { r: done, regs: Array.from(cpu.regs.subarray(0, 32)), rip: d.ip, flags: cpu.flags, stores: fmt(), fault: '' };
  } catch (e) {
    ithrown = e;
    ir = { r: done, regs: Array.from(cpu.regs.subarray(0, 32)), rip: d.ipStart, flags: cpu.flags, stores: fmt(), fault: e === FAULT ? `fault ${cpu.faultVector}` : 'exit' };
  }
  recording = false;
  const same = ir.r === jit.r && ir.rip === jit.rip && (ir.flags & 0x8d5) === (jitFlags & 0x8d5) &&
    ir.stores === jit.stores && ir.fault === jit.fault && ir.regs.every((v, k) => v === jitRegs[k]);
  if (!same && mismatches++ < 20) {
    const hex = (v: number) => (v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));
    const diffs: string[] = [];
    for (let k = 0; k < 32; k++) if (ir.regs[k] !== jitRegs[k]) diffs.push(`R[${k}] interp ${hex(ir.regs[k]!)} jit ${hex(jitRegs[k]!)}`);
    process.stderr.write(`JIT VERIFY MISMATCH at rip ${hex(rip0)} (block ${count} instructions, left ${left}):\n` +
      `  retired interp ${ir.r} jit ${jit.r}; rip interp ${hex(ir.rip)} jit ${hex(jit.rip)}; flags interp ${hex(ir.flags)} jit ${hex(jitFlags)}\n` +
      `  fault interp '${ir.fault}' jit '${jit.fault}'\n  stores interp ${ir.stores}\n  stores jit    ${jit.stores}\n  ${diffs.join('\n  ')}\n` +
      `  flags before ${hex(flags0)}\n${source ?? ''}\n`);
  }
  // The interpreter's state stands (as if the block had not been compiled).
  if (ithrown !== null) {
    cpu.jitRetired = ir.r;
    throw ithrown;
  }
  d.ip = cpu.rip;
  cpu.rip = rip0;
  d.ipStart = rip0;
  return ir.r;
}

function fmt(): string {
  return log.map((s) => `${s.size}@${s.la.toString(16)}=${s.hi.toString(16)}:${(s.lo >>> 0).toString(16)}`).join(' ');
}

/** Mismatches seen so far (the tests read it). */
export function verifyMismatches(): number {
  return mismatches;
}
