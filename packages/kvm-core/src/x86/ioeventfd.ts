/**
 * ioeventfd (virt/kvm/eventfd.c): a guest write to an address (PIO or MMIO), of a given
 * length and optionally a given value, signals an EventFd and completes in-kernel,
 * without an exit to userspace. Registered as a device on the VM's io bus.
 */
import { z } from 'zod';
import { EventFd } from '../eventfd';
import { KvmError } from '../errors';
import { parseArg, u32, u53, u64 } from '../schemas';
import {
  KVM_IOEVENTFD_FLAG_DATAMATCH, KVM_IOEVENTFD_FLAG_DEASSIGN, KVM_IOEVENTFD_FLAG_PIO,
  KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY,
} from '../uapi/kvm';
import type { KvmIoBus, KvmIoDevice } from './io-bus';

/** struct kvm_ioeventfd (fd is the EventFd itself). */
export interface KvmIoeventfd {
  eventfd: EventFd;
  addr: number;
  len: number;
  datamatch?: bigint;
  flags?: number;
}

export const kvmIoeventfdSchema = z.object({
  eventfd: z.instanceof(EventFd, { message: 'must be an EventFd' }),
  addr: u53,
  len: u32,
  datamatch: u64.optional(),
  flags: u32.optional(),
}).strict();

const VALID_FLAGS = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN | KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY;

/** struct _ioeventfd */
class Ioeventfd implements KvmIoDevice {
  /** The datamatch as two 32-bit halves, so a write compares without BigInt. */
  readonly matchLo: number;
  readonly matchHi: number;
  constructor(
    readonly eventfd: EventFd, readonly addr: number, readonly length: number,
    readonly wildcard: boolean, readonly datamatch: bigint, readonly pio: boolean,
  ) {
    this.matchLo = Number(datamatch & 0xffffffffn);
    this.matchHi = Number((datamatch >> 32n) & 0xffffffffn);
  }

  /** ioeventfd_in_range */
  inRange(addr: number, len: number, data: Uint8Array): boolean {
    if (addr !== this.addr) return false;
    if (this.length === 0) return true; // any length
    if (len !== this.length) return false;
    if (this.wildcard) return true;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < len && i < 4; i++) lo |= data[i]! << (8 * i);
    for (let i = 4; i < len; i++) hi |= data[i]! << (8 * (i - 4));
    // The access value, zero-extended, against the full 64-bit datamatch (as Linux compares).
    return (lo >>> 0) === this.matchLo && (hi >>> 0) === this.matchHi;
  }

  write(addr: number, len: number, data: Uint8Array): boolean {
    if (!this.inRange(addr, len, data)) return false;
    this.eventfd.signal();
    return true;
  }

  read(): boolean {
    return false;
  }
}

export class KvmIoeventfds {
  private readonly list: Ioeventfd[] = [];

  constructor(private readonly pioBus: KvmIoBus, private readonly mmioBus: KvmIoBus) {}

  /** KVM_IOEVENTFD */
  ioctl(input: unknown): void {
    const args = parseArg(kvmIoeventfdSchema, input, 'args');
    const flags = args.flags ?? 0;
    if (flags & ~VALID_FLAGS) throw new KvmError('EINVAL', `args.flags: unknown bits 0x${(flags & ~VALID_FLAGS).toString(16)}`);
    if (flags & KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY) throw new KvmError('EINVAL', 'args.flags: KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY is s390-only');
    if (![0, 1, 2, 4, 8].includes(args.len)) throw new KvmError('EINVAL', `args.len: ${args.len} is not 0, 1, 2, 4 or 8`);
    const pio = (flags & KVM_IOEVENTFD_FLAG_PIO) !== 0;
    if (pio && args.addr + args.len > 0x10000) throw new KvmError('EINVAL', 'args.addr: PIO ioeventfd beyond port 0xffff');
    const hasMatch = (flags & KVM_IOEVENTFD_FLAG_DATAMATCH) !== 0;
    if (args.len === 0 && hasMatch) throw new KvmError('EINVAL', 'args.len: a zero-length ioeventfd cannot have a datamatch');
    const datamatch = hasMatch ? (args.datamatch ?? 0n) : 0n;
    const bus = pio ? this.pioBus : this.mmioBus;

    if (flags & KVM_IOEVENTFD_FLAG_DEASSIGN) {
      // kvm_deassign_ioeventfd: same eventfd, address, length and match.
      const i = this.list.findIndex((p) => p.eventfd === args.eventfd && p.pio === pio && p.addr === args.addr &&
        p.length === args.len && p.wildcard === !hasMatch && (!hasMatch || p.datamatch === datamatch));
      if (i < 0) throw new KvmError('ENOENT', 'args: no such ioeventfd is assigned');
      const [p] = this.list.splice(i, 1);
      bus.unregister(p!);
      return;
    }
    // ioeventfd_check_collision
    for (const p of this.list) {
      if (p.pio === pio && p.addr === args.addr &&
        (p.length === 0 || args.len === 0 || (p.length === args.len && (p.wildcard || !hasMatch || p.datamatch === datamatch))))
        throw new KvmError('EEXIST', `args.addr: an ioeventfd at 0x${args.addr.toString(16)} already covers this access`);
    }
    const p = new Ioeventfd(args.eventfd, args.addr, args.len, !hasMatch, datamatch, pio);
    bus.register(args.addr, args.len, p);
    this.list.push(p);
  }
}
