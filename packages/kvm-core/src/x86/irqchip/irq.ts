/**
 * Interrupt injection queries for the run loop (arch/x86/kvm/irq.c): whether the vCPU
 * has an injectable external interrupt, and taking it (the INTA cycle). The PIC's INT
 * reaches a vCPU through LINT0 in ExtINT mode (or a hardware-disabled LAPIC) and wins
 * over the LAPIC; LAPIC vectors are gated by the PPR (TPR and in-service priority).
 */
import type { KvmVcpuX86 } from '../x86';

/** kvm_cpu_has_extint: the PIC's INT output, if this vCPU takes PIC interrupts. */
export function kvmCpuHasExtint(vcpu: KvmVcpuX86): boolean {
  const chip = vcpu.kvm.irqchip;
  const apic = vcpu.apic;
  if (chip === null || apic === null) return false;
  return chip.pic.output !== 0 && apic.acceptsPicIntr();
}

/** kvm_cpu_has_injectable_intr */
export function kvmCpuHasInjectableIntr(vcpu: KvmVcpuX86): boolean {
  if (kvmCpuHasExtint(vcpu)) return true;
  const apic = vcpu.apic;
  return apic !== null && apic.hasInterrupt() >= 0;
}

/**
 * kvm_cpu_get_interrupt: acknowledge and return the vector to inject (PIC first, then
 * the LAPIC's highest IRR above PPR), or -1.
 */
export function kvmCpuGetInterrupt(vcpu: KvmVcpuX86): number {
  if (kvmCpuHasExtint(vcpu)) return vcpu.kvm.irqchip!.pic.readIrq();
  const apic = vcpu.apic;
  if (apic === null) return -1;
  const vector = apic.hasInterrupt();
  if (vector >= 0) apic.ackInterrupt(vector);
  return vector;
}

/**
 * The in-kernel irqchip as the engine's external-interrupt source (structurally the
 * engine's InterruptSource): INTR is asserted when an interrupt is injectable, and the
 * INTA takes it (PIC or LAPIC). A vendor may attach this instead of injecting through
 * vcpu.interruptNr, to let the engine take interrupts between instructions.
 */
export function kvmIrqchipInterruptSource(vcpu: KvmVcpuX86): { hasInterrupt(): boolean; acknowledge(): number } {
  return {
    hasInterrupt: () => kvmCpuHasInjectableIntr(vcpu),
    acknowledge: () => kvmCpuGetInterrupt(vcpu),
  };
}
