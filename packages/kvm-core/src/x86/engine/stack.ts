/**
 * Stack operations (SDM Vol. 1 6.2-6.3): PUSH/POP of 2/4/8 bytes through SS with the
 * stack-address size (SS.B, or 64-bit in long mode), and near-branch target handling.
 */
import { GP_VECTOR } from './constants';
import { isCanonical } from './cpu';
import { d, readMem, writeMem } from './decoder';

const TWO32 = 0x1_0000_0000;

/** The current stack pointer as an offset in SS (unsigned 16/32, signed 64). */
export function stackPointer(): number {
  const cpu = d.cpu;
  const R = d.regs;
  if (cpu.mode64) return R[9]! * TWO32 + (R[8]! >>> 0);
  return cpu.ss32 ? R[8]! >>> 0 : R[8]! & 0xffff;
}

export function setStackPointer(sp: number): void {
  const cpu = d.cpu;
  const R = d.regs;
  if (cpu.mode64) {
    R[8] = sp | 0;
    R[9] = Math.floor(sp / TWO32) | 0;
  } else if (cpu.ss32) {
    R[8] = sp | 0;
  } else {
    R[8] = (R[8]! & ~0xffff) | (sp & 0xffff);
  }
}

/** sp + delta wrapped to the stack-address size. */
export function spAdd(sp: number, delta: number): number {
  const cpu = d.cpu;
  if (cpu.mode64) return sp + delta;
  return cpu.ss32 ? (sp + delta) >>> 0 : (sp + delta) & 0xffff;
}

export function push(bytes: number, lo: number, hi: number): void {
  const sp = spAdd(stackPointer(), -bytes);
  writeMem(d.cpu.linear(2, sp, bytes, true), bytes, lo, hi);
  setStackPointer(sp);
}

/** Pop: returns the low half (high half in d.hi for 8 bytes). */
export function pop(bytes: number): number {
  const sp = stackPointer();
  const v = readMem(d.cpu.linear(2, sp, bytes, false), bytes);
  setStackPointer(spAdd(sp, bytes));
  return v;
}

/** Read the stack at SP + off without moving it. */
export function peek(bytes: number, off: number): number {
  const sp = spAdd(stackPointer(), off);
  return readMem(d.cpu.linear(2, sp, bytes, false), bytes);
}

/** Near branch to `target` (an offset in CS): truncate to the operand size, check the limit / canonical form. */
export function branchTo(target: number): void {
  const cpu = d.cpu;
  let t: number;
  if (cpu.mode64) {
    t = d.opsize === 2 ? target & 0xffff : target;
    if (!isCanonical(t)) cpu.raise(GP_VECTOR, 0);
  } else {
    t = d.opsize === 2 ? target & 0xffff : target >>> 0;
    if (t > cpu.segLimit[1]!) cpu.raise(GP_VECTOR, 0);
  }
  d.ip = t;
}

/** ip + rel (a signed displacement) in the current mode's arithmetic. */
export function relTarget(rel: number): number {
  const t = d.ip + rel;
  if (d.cpu.mode64) {
    if (t >= 0x8000_0000_0000_0000) return t - 0x1_0000_0000_0000_0000;
    if (t < -0x8000_0000_0000_0000) return t + 0x1_0000_0000_0000_0000;
    return t;
  }
  return t >>> 0;
}
