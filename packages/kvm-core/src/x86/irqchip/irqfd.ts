/**
 * irqfd (virt/kvm/eventfd.c): an EventFd whose signal injects a GSI. A plain irqfd
 * pulses the GSI (edge); with KVM_IRQFD_FLAG_RESAMPLE it holds the line high from the
 * resample source until the guest EOIs the GSI, then lowers it and signals the
 * resamplefd so the device can re-assert if still pending (level-triggered INTx).
 */
import { z } from 'zod';
import { EventFd } from '../../eventfd';
import { KvmError } from '../../errors';
import { parseArg, u32 } from '../../schemas';
import { KVM_IRQFD_FLAG_DEASSIGN, KVM_IRQFD_FLAG_RESAMPLE } from '../../uapi/kvm';
import type { KvmIrqchip } from './irqchip';
import { KVM_IRQ_ROUTING_MSI, KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, KVM_USERSPACE_IRQ_SOURCE_ID } from './irq-routing';

/** struct kvm_irqfd (fd and resamplefd are EventFds). */
export interface KvmIrqfd {
  eventfd: EventFd;
  gsi: number;
  flags?: number;
  resamplefd?: EventFd;
}

export const kvmIrqfdSchema = z.object({
  eventfd: z.instanceof(EventFd, { message: 'must be an EventFd' }),
  gsi: u32,
  flags: u32.optional(),
  resamplefd: z.instanceof(EventFd, { message: 'must be an EventFd' }).optional(),
}).strict();

interface Irqfd {
  readonly eventfd: EventFd;
  readonly gsi: number;
  readonly resamplefd: EventFd | undefined;
  unsubscribe: () => void;
  unregisterAck: (() => void) | null;
}

export class KvmIrqfds {
  private readonly list: Irqfd[] = [];

  constructor(private readonly chip: () => KvmIrqchip | null) {}

  /** KVM_IRQFD */
  ioctl(input: unknown): void {
    const args = parseArg(kvmIrqfdSchema, input, 'args');
    const flags = args.flags ?? 0;
    if (flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
      throw new KvmError('EINVAL', `args.flags: unknown bits 0x${(flags & ~3).toString(16)}`);
    if (flags & KVM_IRQFD_FLAG_DEASSIGN) {
      // kvm_irqfd_deassign: every irqfd on this eventfd and GSI (none is not an error).
      for (let i = this.list.length - 1; i >= 0; i--) {
        const f = this.list[i]!;
        if (f.eventfd === args.eventfd && f.gsi === args.gsi) this.shutdown(i);
      }
      return;
    }
    const chip = this.chip();
    if (chip === null) throw new KvmError('EINVAL', 'KVM_IRQFD needs an in-kernel irqchip (KVM_CREATE_IRQCHIP)');
    const resample = (flags & KVM_IRQFD_FLAG_RESAMPLE) !== 0;
    if (resample && args.resamplefd === undefined) throw new KvmError('EINVAL', 'args.resamplefd: KVM_IRQFD_FLAG_RESAMPLE needs a resamplefd');
    if (this.list.some((f) => f.eventfd === args.eventfd)) throw new KvmError('EBUSY', 'args.eventfd: already assigned to an irqfd');

    const gsi = args.gsi;
    const f: Irqfd = { eventfd: args.eventfd, gsi, resamplefd: resample ? args.resamplefd : undefined, unsubscribe: () => {}, unregisterAck: null };
    const inject = () => {
      if (f.eventfd.read() === 0n) return;
      const c = this.chip();
      if (c === null) return;
      const routes = c.routing.byGsi[gsi];
      if (routes !== undefined && routes.length === 1 && routes[0]!.type === KVM_IRQ_ROUTING_MSI) {
        const m = routes[0]!.msi;
        c.setMsi(m.addressLo, m.addressHi, m.data);
      } else if (f.resamplefd !== undefined) {
        c.setIrq(KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, gsi, 1);
      } else {
        c.setIrq(KVM_USERSPACE_IRQ_SOURCE_ID, gsi, 1);
        c.setIrq(KVM_USERSPACE_IRQ_SOURCE_ID, gsi, 0);
      }
    };
    if (f.resamplefd !== undefined) {
      const resamplefd = f.resamplefd;
      // irqfd_resampler_ack: the guest EOIed the GSI; lower the line and tell the device.
      f.unregisterAck = chip.registerAckNotifier((acked) => {
        if (acked !== gsi) return;
        chip.setIrq(KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, gsi, 0);
        resamplefd.signal();
      });
    }
    f.unsubscribe = args.eventfd.onSignal(inject);
    this.list.push(f);
    // An event that was already pending on the eventfd is injected now.
    if (args.eventfd.pending > 0n) inject();
  }

  private shutdown(i: number): void {
    const [f] = this.list.splice(i, 1);
    f!.unsubscribe();
    if (f!.unregisterAck !== null) {
      f!.unregisterAck();
      this.chip()?.setIrq(KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, f!.gsi, 0);
    }
  }
}
