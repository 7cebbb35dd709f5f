/**
 * The pc board's GSI routing, as QEMU installs it with the in-kernel irqchip
 * (hw/i386/kvm/ioapic.c, kvm_pc_setup_irq_routing): ISA IRQs 0-15 go to the PIC pair
 * (IRQ 2 is the cascade, so no route), and to the IOAPIC on the same pin except ISA
 * IRQ 0, which is wired to IOAPIC pin 2 (the MADT's interrupt source override says so).
 * KVM's default table would send GSI 0 to IOAPIC pin 0, where no guest looks for the PIT.
 */
import { KVM_IRQ_ROUTING_IRQCHIP, uapi, type KvmIrqRoutingEntry } from '@kvmts/kvm-core';

export const IOAPIC_NUM_PINS = 24;
/** The IOAPIC pin of ISA IRQ 0 (the PIT). */
export const PIT_IOAPIC_PIN = 2;

export function pcGsiRouting(): KvmIrqRoutingEntry[] {
  const out: KvmIrqRoutingEntry[] = [];
  const chip = (gsi: number, irqchip: number, pin: number): KvmIrqRoutingEntry => ({
    gsi, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: { irqchip, pin },
  });
  for (let i = 0; i < 16; i++) {
    if (i === 2) continue;
    out.push(chip(i, i < 8 ? uapi.KVM_IRQCHIP_PIC_MASTER : uapi.KVM_IRQCHIP_PIC_SLAVE, i & 7));
  }
  for (let i = 0; i < IOAPIC_NUM_PINS; i++) {
    if (i === 2) continue;
    out.push(chip(i, uapi.KVM_IRQCHIP_IOAPIC, i === 0 ? PIT_IOAPIC_PIN : i));
  }
  return out;
}
