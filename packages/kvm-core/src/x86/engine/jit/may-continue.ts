/**
 * Whether the run loop (../run.ts), at this instruction boundary, would go straight on to
 * the next instruction: no kick, no NMI or interrupt window to report, no NMI or
 * deliverable interrupt, not halted, nothing armed per instruction (TF, RF, instruction
 * breakpoints, an MMIO read being replayed). A compiled block that loops or continues
 * after an interpreted instruction asks this first, so its boundaries are the run loop's.
 * Interrupt shadows (STI, MOV SS) end the block before this is asked.
 */
import { FLAG_IF, FLAG_RF, FLAG_TF } from '../constants';
import type { X86Cpu } from '../cpu';

export function mayContinue(cpu: X86Cpu): boolean {
  if (cpu.kickRequested || cpu.halted || cpu.insnBreakpoints || cpu.mmioLogCount !== 0) return false;
  const f = cpu.flags;
  if (f & (FLAG_TF | FLAG_RF)) return false;
  if ((cpu.requestNmiWindow || cpu.nmiPending) && !cpu.nmiBlocking) return false;
  if (f & FLAG_IF) {
    if (cpu.requestInterruptWindow) return false;
    const src = cpu.interruptSource;
    if (src !== null && src.hasInterrupt()) return false;
  }
  return true;
}
