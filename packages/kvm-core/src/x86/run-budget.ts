/**
 * How long a vendor lets the engine run per entry, and how executed instructions reach
 * the VM clock. The run loop sets vcpu.runDeadlineNs (next timer deadline or the end of
 * the time slice); the vendor turns it into the engine's instruction budget, and after
 * the engine returns reports the instructions retired.
 */
import type { KvmVcpuX86 } from './x86';

/** Host clock: instructions per entry between clock checks (the run loop re-reads time). */
export const KVM_HOST_CLOCK_BUDGET = 20_000;

/**
 * The instruction budget for the next engine entry: on the virtual clock exactly the
 * instructions until vcpu.runDeadlineNs (at least 1), on host time a fixed chunk.
 */
export function kvmVcpuInstructionBudget(vcpu: KvmVcpuX86, max = KVM_HOST_CLOCK_BUDGET): number {
  const clock = vcpu.kvm.clock;
  if (clock.mode !== 'virtual') return max;
  const left = vcpu.runDeadlineNs - clock.nowNs();
  if (!(left > 0)) return 1;
  const n = Math.ceil(left / clock.nsPerInstruction);
  return n < max ? n : max;
}

/** The engine retired `count` instructions: the virtual clock advances (no-op on host time). */
export function kvmAccountInstructions(vcpu: KvmVcpuX86, count: number): void {
  vcpu.kvm.clock.advanceInstructions(count);
}
