/**
 * GSI routing (virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c): struct
 * kvm_irq_routing_entry, its validation (kvm_set_routing_entry), the default table
 * (GSI 0-15 to both PICs and the IOAPIC, 16-23 to the IOAPIC only) and MSI decoding.
 */
import { z } from 'zod';
import { KvmError } from '../../errors';
import { parseArg, u32 } from '../../schemas';
import { KVM_IRQCHIP_IOAPIC, KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE } from '../../uapi/kvm';
import { APIC_DEST_NOSHORT } from './lapic-regs';
import type { KvmLapicIrq } from './lapic';
import { IOAPIC_NUM_PINS } from './ioapic';
import { PIC_NUM_PINS } from './i8259';

export const KVM_IRQ_ROUTING_IRQCHIP = 1;
export const KVM_IRQ_ROUTING_MSI = 2;
export const KVM_MSI_VALID_DEVID = 1 << 0;
/** KVM_MAX_IRQ_ROUTES (x86): the most entries, and the GSI limit. */
export const KVM_MAX_IRQ_ROUTES = 4096;
/** IRQ source ids (__kvm_irq_line_state bits). */
export const KVM_USERSPACE_IRQ_SOURCE_ID = 0;
export const KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID = 1;
export const KVM_PIT_IRQ_SOURCE_ID = 2;

/** struct kvm_irq_routing_irqchip */
export interface KvmIrqRoutingIrqchip {
  irqchip: number;
  pin: number;
}

/** struct kvm_irq_routing_msi */
export interface KvmIrqRoutingMsi {
  addressLo: number;
  addressHi: number;
  data: number;
  devid?: number;
}

/** struct kvm_irq_routing_entry (the union arm chosen by `type`). */
export type KvmIrqRoutingEntry =
  | { gsi: number; type: typeof KVM_IRQ_ROUTING_IRQCHIP; flags?: number; irqchip: KvmIrqRoutingIrqchip }
  | { gsi: number; type: typeof KVM_IRQ_ROUTING_MSI; flags?: number; msi: KvmIrqRoutingMsi };

/** struct kvm_msi (KVM_SIGNAL_MSI) */
export interface KvmMsi {
  addressLo: number;
  addressHi: number;
  data: number;
  flags?: number;
  devid?: number;
}

export const kvmMsiSchema = z.object({
  addressLo: u32, addressHi: u32, data: u32, flags: u32.optional(), devid: u32.optional(),
}).strict();

const routingEntrySchema = z.discriminatedUnion('type', [
  z.object({
    gsi: u32, type: z.literal(KVM_IRQ_ROUTING_IRQCHIP), flags: u32.optional(),
    irqchip: z.object({ irqchip: u32, pin: u32 }).strict(),
  }).strict(),
  z.object({
    gsi: u32, type: z.literal(KVM_IRQ_ROUTING_MSI), flags: u32.optional(),
    msi: z.object({ addressLo: u32, addressHi: u32, data: u32, devid: u32.optional() }).strict(),
  }).strict(),
]);

/** A resolved route (struct kvm_kernel_irq_routing_entry). */
export interface KvmKernelIrqRoute {
  readonly gsi: number;
  readonly type: number;
  /** KVM_IRQCHIP_*; for the PICs, pin is 0..15 across the pair (slave pins + 8). */
  readonly irqchip: number;
  readonly pin: number;
  readonly msi: KvmIrqRoutingMsi;
}

/** struct kvm_irq_routing_table: routes by GSI. */
export class KvmIrqRoutingTable {
  readonly byGsi: (KvmKernelIrqRoute[] | undefined)[] = [];

  constructor(readonly entries: readonly KvmIrqRoutingEntry[]) {}

  /** The GSI of an irqchip pin (kvm_irq_map_chip_pin), or -1. */
  gsiOfPin(irqchip: number, pin: number): number {
    for (const routes of this.byGsi) {
      if (routes === undefined) continue;
      for (const r of routes) if (r.type === KVM_IRQ_ROUTING_IRQCHIP && r.irqchip === irqchip && r.pin === pin) return r.gsi;
    }
    return -1;
  }
}

/**
 * kvm_set_irq_routing: validates every entry (EINVAL naming the entry), then builds the
 * table. At most one entry per irqchip per GSI, and an MSI route must be alone on its GSI.
 */
export function buildRoutingTable(input: unknown): KvmIrqRoutingTable {
  const entries = parseArg(z.array(routingEntrySchema).max(KVM_MAX_IRQ_ROUTES), input, 'entries') as KvmIrqRoutingEntry[];
  const table = new KvmIrqRoutingTable(entries.map((e) => ({ ...e })));
  entries.forEach((e, i) => {
    const where = `entries.${i}`;
    if (e.gsi >= KVM_MAX_IRQ_ROUTES) throw new KvmError('EINVAL', `${where}.gsi: ${e.gsi} is not below KVM_MAX_IRQ_ROUTES (${KVM_MAX_IRQ_ROUTES})`);
    const flags = e.flags ?? 0;
    if (e.type === KVM_IRQ_ROUTING_MSI ? flags & ~KVM_MSI_VALID_DEVID : flags)
      throw new KvmError('EINVAL', `${where}.flags: 0x${flags.toString(16)} is not valid for this entry type`);
    let route: KvmKernelIrqRoute;
    if (e.type === KVM_IRQ_ROUTING_IRQCHIP) {
      const { irqchip, pin } = e.irqchip;
      switch (irqchip) {
        case KVM_IRQCHIP_PIC_MASTER:
        case KVM_IRQCHIP_PIC_SLAVE:
          if (pin >= PIC_NUM_PINS / 2) throw new KvmError('EINVAL', `${where}.irqchip.pin: ${pin} is not a PIC pin (0..7)`);
          route = { gsi: e.gsi, type: e.type, irqchip, pin: pin + (irqchip === KVM_IRQCHIP_PIC_SLAVE ? 8 : 0), msi: NO_MSI };
          break;
        case KVM_IRQCHIP_IOAPIC:
          if (pin >= IOAPIC_NUM_PINS) throw new KvmError('EINVAL', `${where}.irqchip.pin: ${pin} is not an IOAPIC pin (0..23)`);
          route = { gsi: e.gsi, type: e.type, irqchip, pin, msi: NO_MSI };
          break;
        default:
          throw new KvmError('EINVAL', `${where}.irqchip.irqchip: ${irqchip} is not KVM_IRQCHIP_PIC_MASTER/PIC_SLAVE/IOAPIC`);
      }
    } else {
      route = { gsi: e.gsi, type: e.type, irqchip: -1, pin: -1, msi: { ...e.msi } };
    }
    const existing = table.byGsi[e.gsi];
    if (existing !== undefined) {
      for (const other of existing) {
        if (other.type !== KVM_IRQ_ROUTING_IRQCHIP || route.type !== KVM_IRQ_ROUTING_IRQCHIP || other.irqchip === route.irqchip)
          throw new KvmError('EINVAL', `${where}: GSI ${e.gsi} already has a route to the same irqchip, or mixes MSI with another route`);
      }
      existing.push(route);
    } else {
      table.byGsi[e.gsi] = [route];
    }
  });
  return table;
}

const NO_MSI: KvmIrqRoutingMsi = Object.freeze({ addressLo: 0, addressHi: 0, data: 0 });

/** kvm_setup_default_irq_routing */
export function defaultRoutingEntries(): KvmIrqRoutingEntry[] {
  const out: KvmIrqRoutingEntry[] = [];
  for (let gsi = 0; gsi < IOAPIC_NUM_PINS; gsi++) {
    out.push({ gsi, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: { irqchip: KVM_IRQCHIP_IOAPIC, pin: gsi } });
    if (gsi < PIC_NUM_PINS) {
      out.push({
        gsi, type: KVM_IRQ_ROUTING_IRQCHIP,
        irqchip: { irqchip: gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, pin: gsi & 7 },
      });
    }
  }
  return out;
}

/**
 * kvm_set_msi_irq: decode an MSI address/data pair (Intel SDM 10.11) into a message.
 * Address: 0xfeeDD00c (dest id 19:12, redirection hint bit 3, dest mode bit 2);
 * data: vector 7:0, delivery mode 10:8, level 14, trigger 15.
 */
export function kvmSetMsiIrq(addressLo: number, addressHi: number, data: number, irq: KvmLapicIrq): void {
  irq.destId = (addressLo >>> 12) & 0xff;
  if (addressHi !== 0) irq.destId |= (addressHi & 0xffffff00) >>> 0; // x2APIC format (KVM_CAP_X2APIC_API)
  irq.vector = data & 0xff;
  irq.deliveryMode = data & 0x700;
  irq.destLogical = (addressLo & (1 << 2)) !== 0;
  irq.msiRedirHint = (addressLo & (1 << 3)) !== 0;
  irq.trigLevel = (data & (1 << 15)) !== 0;
  irq.level = true;
  irq.shorthand = APIC_DEST_NOSHORT;
  irq.fromX2apicIcr = false;
}
