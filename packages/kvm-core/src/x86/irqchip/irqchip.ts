/**
 * The in-kernel irqchip of an x86 VM (KVM_CREATE_IRQCHIP): the PIC pair, the IOAPIC,
 * every vCPU's LAPIC, the GSI routing table, and the glue between them:
 * kvm_set_irq (a GSI to its routes), kvm_irq_delivery_to_apic (a message to the
 * LAPICs it targets), the EOI broadcast and the irq ack notifiers (irqfd resample).
 */
import { KVM_IRQCHIP_IOAPIC, KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE } from '../../uapi/kvm';
import { KvmIoapic } from './ioapic';
import { KvmPic } from './i8259';
import { newLapicIrq, type KvmLapic, type KvmLapicIrq } from './lapic';
import { APIC_DM_LOWEST } from './lapic-regs';
import {
  buildRoutingTable, defaultRoutingEntries, KVM_IRQ_ROUTING_IRQCHIP, kvmSetMsiIrq, type KvmIrqRoutingTable,
} from './irq-routing';

/** struct kvm_irq_ack_notifier: called when the guest acknowledges (EOIs) a GSI. */
export type KvmIrqAckNotifier = (gsi: number) => void;
/** struct kvm_irq_mask_notifier: called when the guest masks or unmasks a GSI's pin. */
export type KvmIrqMaskNotifier = (gsi: number, masked: boolean) => void;

export class KvmIrqchip {
  readonly pic: KvmPic;
  readonly ioapic: KvmIoapic;
  /** The LAPICs of the VM's vCPUs, in creation order (kvm_for_each_vcpu). */
  readonly lapics: KvmLapic[] = [];
  routing: KvmIrqRoutingTable = buildRoutingTable(defaultRoutingEntries());
  private readonly ackNotifiers = new Set<KvmIrqAckNotifier>();
  private readonly maskNotifiers = new Set<KvmIrqMaskNotifier>();
  private readonly msiScratch = newLapicIrq();

  /**
   * @param kickPicTargets wake the vCPUs that accept ExtINT when the PIC raises INT.
   * @param anyVcpuAcceptsPic whether some vCPU takes ExtINT (default: every LAPIC asked).
   */
  constructor(kickPicTargets: () => void, anyVcpuAcceptsPic?: () => boolean) {
    const picChip = (irq: number) => (irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE);
    this.pic = new KvmPic(
      kickPicTargets,
      (irq) => this.notifyAcked(picChip(irq), irq),
      (irq, masked) => this.fireMaskNotifiers(picChip(irq), irq, masked),
      anyVcpuAcceptsPic ?? (() => this.lapics.length === 0 || this.lapics.some((a) => a.acceptsPicIntr())),
    );
    this.ioapic = new KvmIoapic(
      (irq) => this.deliverToApic(null, irq),
      (pin) => this.notifyAcked(KVM_IRQCHIP_IOAPIC, pin),
      (pin, masked) => this.fireMaskNotifiers(KVM_IRQCHIP_IOAPIC, pin, masked),
    );
  }

  /**
   * kvm_set_irq: drive `gsi` to `level` from IRQ source `sourceId`. Returns the
   * KVM_IRQ_LINE_STATUS value: >0 delivered to that many targets, 0 coalesced, -1 when
   * no route delivered (masked, or no route for the GSI).
   */
  setIrq(sourceId: number, gsi: number, level: number): number {
    const routes = this.routing.byGsi[gsi];
    if (routes === undefined) return -1;
    let ret = -1;
    for (let i = 0; i < routes.length; i++) {
      const e = routes[i]!;
      let r: number;
      if (e.type === KVM_IRQ_ROUTING_IRQCHIP) {
        r = e.irqchip === KVM_IRQCHIP_IOAPIC ? this.ioapic.setIrq(e.pin, sourceId, level) : this.pic.setIrq(e.pin, sourceId, level);
      } else {
        r = level ? this.setMsi(e.msi.addressLo, e.msi.addressHi, e.msi.data) : -1;
      }
      if (r < 0) continue;
      ret = r + (ret < 0 ? 0 : ret);
    }
    return ret;
  }

  /** kvm_set_msi: deliver an MSI; returns the number of LAPICs that took it, or -1. */
  setMsi(addressLo: number, addressHi: number, data: number): number {
    const irq = this.msiScratch;
    kvmSetMsiIrq(addressLo, addressHi, data, irq);
    return this.deliverToApic(null, irq);
  }

  /**
   * kvm_irq_delivery_to_apic: every present LAPIC the message targets gets it; for
   * lowest priority (or an MSI with the redirection hint) only the software-enabled
   * target with the lowest task priority, ties broken by the fewest lowest-priority
   * interrupts taken so far (apic_arb_prio), then by vCPU order.
   */
  deliverToApic(src: KvmLapic | null, irq: KvmLapicIrq): number {
    const lowestPrio = irq.deliveryMode === APIC_DM_LOWEST || irq.msiRedirHint;
    let r = -1;
    let lowest: KvmLapic | null = null;
    const lapics = this.lapics;
    for (let i = 0; i < lapics.length; i++) {
      const apic = lapics[i]!;
      if (!apic.hwEnabled || !apic.matchDest(src, irq)) continue;
      if (!lowestPrio) {
        if (r < 0) r = 0;
        r += apic.acceptIrq(irq.deliveryMode, irq.vector, irq.level, irq.trigLevel);
      } else if (apic.swEnabled) {
        if (lowest === null || apic.tpr < lowest.tpr || (apic.tpr === lowest.tpr && apic.arbPrio < lowest.arbPrio)) lowest = apic;
      }
    }
    if (lowest !== null) {
      // Lowest priority is delivered as fixed to the chosen LAPIC.
      r = lowest.acceptIrq(APIC_DM_LOWEST, irq.vector, irq.level, irq.trigLevel);
    }
    return r;
  }

  /** The LAPIC EOI broadcast (kvm_ioapic_update_eoi). */
  eoiBroadcast(vector: number, trigLevel: boolean): void {
    this.ioapic.updateEoi(vector, trigLevel);
  }

  /** kvm_register_irq_ack_notifier; returns the unregister function. */
  registerAckNotifier(fn: KvmIrqAckNotifier): () => void {
    this.ackNotifiers.add(fn);
    return () => this.ackNotifiers.delete(fn);
  }

  /** kvm_register_irq_mask_notifier; returns the unregister function. */
  registerMaskNotifier(fn: KvmIrqMaskNotifier): () => void {
    this.maskNotifiers.add(fn);
    return () => this.maskNotifiers.delete(fn);
  }

  /** kvm_fire_mask_notifiers: map the chip pin back to its GSI and tell the notifiers. */
  private fireMaskNotifiers(irqchip: number, pin: number, masked: boolean): void {
    if (this.maskNotifiers.size === 0) return;
    const gsi = this.routing.gsiOfPin(irqchip, pin);
    if (gsi < 0) return;
    for (const fn of this.maskNotifiers) fn(gsi, masked);
  }

  /** kvm_notify_acked_irq: map the chip pin back to its GSI and tell the notifiers. */
  private notifyAcked(irqchip: number, pin: number): void {
    if (this.ackNotifiers.size === 0) return;
    const gsi = this.routing.gsiOfPin(irqchip, pin);
    if (gsi < 0) return;
    for (const fn of this.ackNotifiers) fn(gsi);
  }
}
