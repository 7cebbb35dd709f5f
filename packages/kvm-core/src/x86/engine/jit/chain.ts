/**
 * Chaining: a compiled region's jump to a constant RIP outside it enters the region
 * compiled there directly, without returning to the run loop.
 */
import type { X86Cpu } from '../cpu';
import { DC_DEF32, DC_MODE64 } from '../decode-cache';
import { bcIndex, codeLinear } from './block-cache';
import { mayContinue } from './may-continue';

/**
 * A compiled block's jump to a constant RIP outside its region: run the block compiled
 * there straight away (no return to the run loop) when the run loop would do nothing in
 * between (mayContinue), the fetch TLB already maps the target (no walk, no fault here),
 * and the budget holds its first basic block. Returns the instructions it retired, or 0
 * (then d.ip is unchanged and the caller leaves as usual). cpu.flags must be up to date.
 */
export function chainTo(cpu: X86Cpu, rip: number, left: number, depth: number): number {
  if (!mayContinue(cpu)) return 0;
  const mode64 = cpu.mode64;
  const la = codeLinear(cpu, rip);
  if (Number.isNaN(la)) return 0;
  const ti = cpu.fetchEntryHit(la);
  if (ti < 0) return 0;
  const po = la & 0xfff;
  const pa = cpu.tlbHpa[ti]! + po;
  const bc = cpu.blocks;
  const bi = bcIndex(pa);
  if (bc.tag[bi] !== pa * 4 + (mode64 ? DC_MODE64 : cpu.csDefault32 ? DC_DEF32 : 0) || bc.rip[bi] !== rip) return 0;
  const fn = bc.fn[bi];
  if (fn === null || bc.count[bi]! > left) return 0;
  if (!mode64 && rip + bc.len[bi]! - 1 > cpu.segLimit[1]!) return 0;
  const r = fn(cpu, cpu.tlbMem[ti]!, cpu.tlbOff[ti]! + po, cpu.regs, left, depth, bc.entry[bi]!);
  if (r < 0) {
    // Its code changed since it was compiled.
    bc.tag[bi] = -1;
    bc.hotTag[bi] = -1;
    return 0;
  }
  return r;
}
