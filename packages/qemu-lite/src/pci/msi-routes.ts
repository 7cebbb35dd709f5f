/**
 * MSI delivery the way QEMU's kvm_irqchip_add_msi_route + irqfd do it: each MSI source
 * gets a GSI whose KVM_SET_GSI_ROUTING entry carries its address/data, and an EventFd
 * bound to that GSI with KVM_IRQFD. The device signals the EventFd (the irqfd-style
 * callback); kvm-core turns it into the MSI. The table is replaced as a whole (as the
 * ioctl requires): the default IOAPIC/PIC routes plus every MSI route.
 */
import { defaultRoutingEntries, EventFd, KVM_IRQ_ROUTING_MSI, type KvmIrqRoutingEntry, type Vm } from '@kvmts/kvm-core';

/** GSIs 0-23 are the IOAPIC pins; MSI routes start above them (as in QEMU). */
export const MSI_FIRST_GSI = 24;

export class MsiRoute {
  readonly eventfd = new EventFd();
  addressLo = 0;
  addressHi = 0;
  data = 0;
  constructor(readonly gsi: number) {}

  /** Deliver the message (write(eventfd, 1)). */
  signal(): void {
    this.eventfd.signal();
  }
}

export interface MsiVm {
  setGsiRouting(entries: readonly unknown[]): void;
  irqfd(args: { eventfd: EventFd; gsi: number; flags?: number }): void;
}

export class MsiRoutes {
  private readonly routes: MsiRoute[] = [];
  private nextGsi = MSI_FIRST_GSI;

  constructor(private readonly vm: MsiVm | Pick<Vm, 'setGsiRouting' | 'irqfd'>) {}

  /** A new route (KVM_IRQFD bound to a fresh GSI); its message is set with update(). */
  allocate(): MsiRoute {
    const r = new MsiRoute(this.nextGsi++);
    this.routes.push(r);
    this.commit();
    this.vm.irqfd({ eventfd: r.eventfd, gsi: r.gsi });
    return r;
  }

  /** The guest reprogrammed the message (MSI-X table entry): KVM_SET_GSI_ROUTING again. */
  update(r: MsiRoute, addressLo: number, addressHi: number, data: number): void {
    if (r.addressLo === addressLo && r.addressHi === addressHi && r.data === data) return;
    r.addressLo = addressLo >>> 0;
    r.addressHi = addressHi >>> 0;
    r.data = data >>> 0;
    this.commit();
  }

  private commit(): void {
    const entries: KvmIrqRoutingEntry[] = defaultRoutingEntries();
    for (const r of this.routes)
      entries.push({ gsi: r.gsi, type: KVM_IRQ_ROUTING_MSI, msi: { addressLo: r.addressLo, addressHi: r.addressHi, data: r.data } });
    this.vm.setGsiRouting(entries);
  }
}
