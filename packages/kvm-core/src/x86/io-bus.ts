/**
 * kvm_io_bus (virt/kvm/kvm_main.c): in-kernel device registration on the PIO and MMIO
 * buses. An exit path (kvmFastPio, the MMIO emulation path) offers each access to the
 * bus first; only when no device takes it does the vCPU exit to userspace.
 *
 * Devices see (addr, len, data): `data` holds `len` little-endian bytes. A device
 * returns false (Linux's -EOPNOTSUPP) to decline, and the bus tries the next device
 * whose range covers the access: that is how several ioeventfds share one address with
 * different datamatch values.
 */
import { KvmError } from '../errors';

/** enum kvm_bus */
export const KVM_MMIO_BUS = 0;
export const KVM_PIO_BUS = 1;
/** NR_IOBUS_DEVS: the kernel's per-bus device limit. */
export const NR_IOBUS_DEVS = 1000;

/** struct kvm_io_device_ops. `vcpu` is the accessing vCPU (opaque to the bus). */
export interface KvmIoDevice {
  read(addr: number, len: number, data: Uint8Array, vcpu: unknown): boolean;
  write(addr: number, len: number, data: Uint8Array, vcpu: unknown): boolean;
}

/** struct kvm_io_range: len 0 matches only accesses at exactly `addr` (any length). */
interface KvmIoRange {
  readonly addr: number;
  readonly len: number;
  readonly dev: KvmIoDevice;
}

export class KvmIoBus {
  private ranges: KvmIoRange[] = [];

  constructor(readonly name: 'pio' | 'mmio') {}

  /** kvm_io_bus_register_dev. Overlaps are allowed (first accepting device wins). */
  register(addr: number, len: number, dev: KvmIoDevice): void {
    if (this.ranges.length >= NR_IOBUS_DEVS) throw new KvmError('ENOSPC', `${this.name} bus: NR_IOBUS_DEVS (${NR_IOBUS_DEVS}) devices already registered`);
    const next = [...this.ranges, { addr, len, dev }];
    // Sorted by address, as kvm_io_bus_sort_cmp keeps them; stable for equal ranges.
    next.sort((a, b) => a.addr - b.addr || a.len - b.len);
    this.ranges = next;
  }

  /** kvm_io_bus_unregister_dev: every range of `dev`. */
  unregister(dev: KvmIoDevice): void {
    this.ranges = this.ranges.filter((r) => r.dev !== dev);
  }

  get size(): number {
    return this.ranges.length;
  }

  /** kvm_io_bus_write: true when an in-kernel device handled it. */
  write(addr: number, len: number, data: Uint8Array, vcpu: unknown = null): boolean {
    const ranges = this.ranges;
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      if (r.addr > addr) break;
      if (r.len === 0 ? r.addr === addr : addr + len <= r.addr + r.len) {
        if (r.dev.write(addr, len, data, vcpu)) return true;
      }
    }
    return false;
  }

  /** kvm_io_bus_read: true when an in-kernel device filled `data`. */
  read(addr: number, len: number, data: Uint8Array, vcpu: unknown = null): boolean {
    const ranges = this.ranges;
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      if (r.addr > addr) break;
      if (r.len === 0 ? r.addr === addr : addr + len <= r.addr + r.len) {
        if (r.dev.read(addr, len, data, vcpu)) return true;
      }
    }
    return false;
  }
}

/** Little-endian helpers for device models (len <= 4). */
export function ioDataGet(data: Uint8Array, len: number): number {
  let v = 0;
  for (let i = 0; i < len && i < 4; i++) v |= data[i]! << (8 * i);
  return v >>> 0;
}

export function ioDataSet(data: Uint8Array, len: number, value: number): void {
  for (let i = 0; i < len; i++) data[i] = i < 4 ? (value >>> (8 * i)) & 0xff : 0;
}
