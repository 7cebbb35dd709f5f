/** The pc board's GSI routing, as QEMU installs it for the in-kernel irqchip. */
import { KVM_IRQ_ROUTING_IRQCHIP, uapi } from '@kvmts/kvm-core';
import { describe, expect, it } from 'vitest';
import { pcGsiRouting } from '../src/machine/pc-irq-routing';

describe('pc GSI routing (kvm_pc_setup_irq_routing)', () => {
  const routes = pcGsiRouting();
  const of = (gsi: number) => routes.filter((r) => r.gsi === gsi).map((r) => (r.type === KVM_IRQ_ROUTING_IRQCHIP ? [r.irqchip.irqchip, r.irqchip.pin] : []));

  it('ISA IRQ 0 (the PIT) goes to PIC pin 0 and IOAPIC pin 2; GSI 2 (the cascade) has no route', () => {
    expect(of(0)).toEqual([[uapi.KVM_IRQCHIP_PIC_MASTER, 0], [uapi.KVM_IRQCHIP_IOAPIC, 2]]);
    expect(of(2)).toEqual([]);
  });

  it('other ISA IRQs reach their PIC pin and the same IOAPIC pin; 16-23 only the IOAPIC', () => {
    expect(of(4)).toEqual([[uapi.KVM_IRQCHIP_PIC_MASTER, 4], [uapi.KVM_IRQCHIP_IOAPIC, 4]]);
    expect(of(9)).toEqual([[uapi.KVM_IRQCHIP_PIC_SLAVE, 1], [uapi.KVM_IRQCHIP_IOAPIC, 9]]);
    expect(of(15)).toEqual([[uapi.KVM_IRQCHIP_PIC_SLAVE, 7], [uapi.KVM_IRQCHIP_IOAPIC, 15]]);
    expect(of(23)).toEqual([[uapi.KVM_IRQCHIP_IOAPIC, 23]]);
    expect(routes.length).toBe(15 + 23);
  });
});
