/**
 * virtio over PCI, the modern (virtio 1.x) layout as QEMU's virtio-pci with
 * disable-legacy=on (virtio spec 4.1): vendor 0x1af4, device 0x1040 + ID, revision 1.
 *   BAR 1 (32-bit MMIO, 4 KiB): MSI-X table at 0, PBA at 0x800.
 *   BAR 4 (64-bit prefetchable MMIO, 16 KiB): common cfg at 0x0, ISR at 0x1000, device
 *   cfg at 0x2000, notify at 0x3000 (queue n at n * 4).
 * Vendor capabilities point the driver at each region. Queue notifications arrive
 * through ioeventfds on the notify addresses (an EventFd per queue, re-registered when
 * the guest moves BAR 4); interrupts leave through MSI-X (irqfd routes) or INTx with
 * the ISR.
 */
import { EventFd, uapi } from '@kvmts/kvm-core';
import type { BusDevice } from '../bus';
import { dataToU32, u32ToData } from '../bus';
import type { MsiRoutes } from '../pci/msi-routes';
import { Msix } from '../pci/msix';
import { PCI_CAP_ID_VNDR, PciFunction } from '../pci/pci-device';
import type { VirtioDeviceModel, VirtioTransport } from './virtio-device';
import * as V from './virtio-ids';
import { Virtqueue, VirtqueueError, type VirtqueueMemory } from './virtqueue';

export const VIRTIO_PCI_MSIX_BAR = 1;
export const VIRTIO_PCI_MODERN_BAR = 4;
export const VIRTIO_PCI_MODERN_BAR_SIZE = 0x4000;
export const VIRTIO_PCI_COMMON_OFFSET = 0x0000;
export const VIRTIO_PCI_ISR_OFFSET = 0x1000;
export const VIRTIO_PCI_DEVICE_OFFSET = 0x2000;
export const VIRTIO_PCI_NOTIFY_OFFSET = 0x3000;
export const VIRTIO_PCI_REGION_SIZE = 0x1000;
export const VIRTIO_PCI_NOTIFY_OFF_MULTIPLIER = 4;

/** The VM calls the transport needs (KVM_IOEVENTFD). */
export interface VirtioPciVm {
  ioeventfd(args: { eventfd: EventFd; addr: number; len: number; datamatch?: bigint; flags?: number }): void;
}

export interface VirtioPciContext {
  mem: VirtqueueMemory;
  msi: MsiRoutes;
  vm: VirtioPciVm;
  /** Wake the run loop (asynchronous completions). */
  kick(): void;
  warn(message: string): void;
}

export class VirtioPciDevice extends PciFunction implements VirtioTransport {
  readonly queues: Virtqueue[] = [];
  readonly msix: Msix;
  status = 0;
  isr = 0;
  configGeneration = 0;
  configMsixVector = V.VIRTIO_MSI_NO_VECTOR;
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private readonly driverFeatures = [0, 0];
  private readonly deviceFeatures: [number, number];
  private queueSelect = 0;
  private readonly notifyFds: EventFd[] = [];
  private notifyBase = -1;
  /** Why the device last asked for a reset (tests, -d guest_errors). */
  lastError: string | undefined;

  constructor(readonly model: VirtioDeviceModel, private readonly ctx: VirtioPciContext) {
    super(`virtio-${model.name}-pci`, {
      vendorId: V.PCI_VENDOR_ID_REDHAT_QUMRANET,
      deviceId: V.VIRTIO_PCI_MODERN_DEVICE_ID_BASE + model.deviceId,
      revision: V.VIRTIO_PCI_ABI_VERSION_MODERN,
      classCode: model.deviceId === V.VIRTIO_ID_NET ? V.PCI_CLASS_NETWORK_ETHERNET : V.PCI_CLASS_STORAGE_SCSI,
      subsystemVendorId: V.PCI_VENDOR_ID_REDHAT_QUMRANET,
      subsystemId: V.VIRTIO_PCI_MODERN_DEVICE_ID_BASE + model.deviceId,
      interruptPin: 1,
    });
    this.deviceFeatures = [
      (model.featuresLo | (1 << V.VIRTIO_RING_F_INDIRECT_DESC) | (1 << V.VIRTIO_RING_F_EVENT_IDX)) >>> 0,
      (model.featuresHi | (1 << (V.VIRTIO_F_VERSION_1 - 32))) >>> 0,
    ];
    for (let i = 0; i < model.numQueues; i++) this.queues.push(new Virtqueue(i, model.queueMaxSize, ctx.mem));
    // One vector per queue plus one for configuration changes, as QEMU's default.
    const nvec = model.numQueues + 1;
    this.msix = new Msix(this, nvec, VIRTIO_PCI_MSIX_BAR, 0, 0x800, ctx.msi);
    this.defineBar(VIRTIO_PCI_MSIX_BAR, { size: 0x1000, type: 'mem32', device: this.msix.device });
    this.defineBar(VIRTIO_PCI_MODERN_BAR, { size: VIRTIO_PCI_MODERN_BAR_SIZE, type: 'mem64', prefetchable: true, device: this.modernRegion });
    this.addVirtioCap(V.VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, V.VIRTIO_PCI_COMMON_CFG_SIZE);
    this.addVirtioCap(V.VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, VIRTIO_PCI_REGION_SIZE);
    this.addVirtioCap(V.VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, VIRTIO_PCI_REGION_SIZE);
    const n = this.addVirtioCap(V.VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET, VIRTIO_PCI_REGION_SIZE);
    new DataView(this.config.buffer).setUint32(n + 16, VIRTIO_PCI_NOTIFY_OFF_MULTIPLIER, true);
    for (let i = 0; i < model.numQueues; i++) {
      const fd = new EventFd();
      fd.onSignal(() => {
        fd.read();
        this.queueNotified(i);
      });
      this.notifyFds.push(fd);
    }
    model.attach(this);
  }

  private addVirtioCap(type: number, offset: number, length: number): number {
    const len = type === V.VIRTIO_PCI_CAP_NOTIFY_CFG ? V.VIRTIO_PCI_NOTIFY_CAP_LEN : V.VIRTIO_PCI_CAP_LEN;
    const c = this.addCapability(PCI_CAP_ID_VNDR, len);
    const dv = new DataView(this.config.buffer);
    this.config[c + 2] = len;
    this.config[c + 3] = type;
    this.config[c + 4] = VIRTIO_PCI_MODERN_BAR;
    dv.setUint32(c + 8, offset, true);
    dv.setUint32(c + 12, length, true);
    return c;
  }

  protected override configWritten(offset: number, len: number): void {
    this.msix.configWritten(offset, len);
  }

  /** BAR 4 moved: move the notify ioeventfds with it. */
  protected override barMapped(n: number, addr: number): void {
    if (n !== VIRTIO_PCI_MODERN_BAR) return;
    const vm = this.ctx.vm;
    // A guest can program overlapping BARs: an ioeventfd that cannot be (de)assigned is
    // reported and the notify region's userspace path still works.
    const ioctl = (args: Parameters<VirtioPciVm['ioeventfd']>[0]) => {
      try {
        vm.ioeventfd(args);
      } catch (e) {
        this.ctx.warn(`${this.name}: ioeventfd at 0x${args.addr.toString(16)}: ${(e as Error).message}`);
      }
    };
    if (this.notifyBase >= 0) {
      this.notifyFds.forEach((fd, i) => ioctl({ eventfd: fd, addr: this.notifyBase + VIRTIO_PCI_NOTIFY_OFFSET + i * VIRTIO_PCI_NOTIFY_OFF_MULTIPLIER, len: 0, flags: uapi.KVM_IOEVENTFD_FLAG_DEASSIGN }));
      this.notifyBase = -1;
    }
    if (addr < 0) return;
    this.notifyFds.forEach((fd, i) => ioctl({ eventfd: fd, addr: addr + VIRTIO_PCI_NOTIFY_OFFSET + i * VIRTIO_PCI_NOTIFY_OFF_MULTIPLIER, len: 0 }));
    this.notifyBase = addr;
  }

  // --- VirtioTransport ---

  get live(): boolean {
    return (this.status & V.VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (this.status & V.VIRTIO_CONFIG_S_NEEDS_RESET) === 0;
  }

  driverHasFeature(bit: number): boolean {
    return ((this.driverFeatures[bit >> 5]! >>> (bit & 31)) & 1) !== 0;
  }

  notifyQueue(q: Virtqueue): void {
    let want: boolean;
    try {
      want = q.needsInterrupt();
    } catch (e) {
      this.needsReset((e as Error).message);
      return;
    }
    if (want) this.interrupt(q.msixVector, V.VIRTIO_PCI_ISR_QUEUE);
  }

  notifyConfigChange(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    if (this.status & V.VIRTIO_CONFIG_S_DRIVER_OK) this.interrupt(this.configMsixVector, V.VIRTIO_PCI_ISR_CONFIG);
  }

  needsReset(reason: string): void {
    this.lastError = reason;
    this.ctx.warn(`${this.name}: ${reason}; device needs reset`);
    if (this.status & V.VIRTIO_CONFIG_S_NEEDS_RESET) return;
    this.status |= V.VIRTIO_CONFIG_S_NEEDS_RESET;
    this.notifyConfigChange();
  }

  kick(): void {
    this.ctx.kick();
  }

  /** MSI-X when the function has it enabled (no vector: no interrupt), else INTx with the ISR bit. */
  private interrupt(vector: number, isrBit: number): void {
    if (this.msix.enabled) {
      if (vector !== V.VIRTIO_MSI_NO_VECTOR) this.msix.notify(vector);
      return;
    }
    this.isr |= isrBit;
    this.setIrqLevel(1);
  }

  private queueNotified(i: number): void {
    if (!this.live) return;
    const q = this.queues[i];
    if (q === undefined || !q.ready) return;
    try {
      this.model.queueNotify(i);
    } catch (e) {
      if (e instanceof VirtqueueError) this.needsReset(e.message);
      else throw e;
    }
  }

  private reset(): void {
    this.model.reset();
    this.status = 0;
    this.isr = 0;
    this.setIrqLevel(0);
    this.driverFeatures[0] = this.driverFeatures[1] = 0;
    this.deviceFeatureSelect = this.driverFeatureSelect = this.queueSelect = 0;
    this.configMsixVector = V.VIRTIO_MSI_NO_VECTOR;
    for (const q of this.queues) q.reset();
    this.lastError = undefined;
  }

  private setStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    let next = v & 0xff & ~V.VIRTIO_CONFIG_S_NEEDS_RESET;
    next |= old & V.VIRTIO_CONFIG_S_NEEDS_RESET;
    if (next & V.VIRTIO_CONFIG_S_FEATURES_OK && !(old & V.VIRTIO_CONFIG_S_FEATURES_OK)) {
      // Modern-only: VERSION_1 is required, and the driver may only accept offered bits.
      const ok = this.driverHasFeature(V.VIRTIO_F_VERSION_1) &&
        (this.driverFeatures[0]! & ~this.deviceFeatures[0]) === 0 && (this.driverFeatures[1]! & ~this.deviceFeatures[1]) === 0;
      if (!ok) next &= ~V.VIRTIO_CONFIG_S_FEATURES_OK;
      else {
        for (const q of this.queues) {
          q.eventIdx = this.driverHasFeature(V.VIRTIO_RING_F_EVENT_IDX);
          q.indirect = this.driverHasFeature(V.VIRTIO_RING_F_INDIRECT_DESC);
        }
      }
    }
    this.status = next;
    if (next & V.VIRTIO_CONFIG_S_DRIVER_OK && !(old & V.VIRTIO_CONFIG_S_DRIVER_OK)) {
      this.model.activate?.();
      // Buffers made available before DRIVER_OK are looked at now.
      for (let i = 0; i < this.queues.length; i++) if (this.queues[i]!.ready) this.queueNotified(i);
    }
  }

  // --- the modern BAR ---

  private readonly modernRegion: BusDevice = {
    read: (_b, offset, data) => {
      const region = offset & ~(VIRTIO_PCI_REGION_SIZE - 1);
      const off = offset - region;
      switch (region) {
        case VIRTIO_PCI_COMMON_OFFSET: u32ToData(this.commonRead(off, data.length), data); break;
        case VIRTIO_PCI_ISR_OFFSET:
          data.fill(0);
          if (off === 0) {
            // Reading the ISR clears it and deasserts INTx (spec 4.1.4.5.1).
            data[0] = this.isr;
            this.isr = 0;
            this.setIrqLevel(0);
          }
          break;
        case VIRTIO_PCI_DEVICE_OFFSET:
          for (let i = 0; i < data.length; i++) data[i] = this.model.config[off + i] ?? 0;
          break;
        default: data.fill(0);
      }
    },
    write: (_b, offset, data) => {
      const region = offset & ~(VIRTIO_PCI_REGION_SIZE - 1);
      const off = offset - region;
      switch (region) {
        case VIRTIO_PCI_COMMON_OFFSET: this.commonWrite(off, data.length, dataToU32(data)); break;
        case VIRTIO_PCI_DEVICE_OFFSET: this.model.configWrite?.(off, data); break;
        case VIRTIO_PCI_NOTIFY_OFFSET: {
          // Reached only when no ioeventfd took the write (e.g. a narrower BAR move in flight).
          const q = off / VIRTIO_PCI_NOTIFY_OFF_MULTIPLIER;
          if (Number.isInteger(q) && q < this.queues.length) this.queueNotified(q);
          break;
        }
        default: break;
      }
    },
  };

  private selectedQueue(): Virtqueue | undefined {
    return this.queues[this.queueSelect];
  }

  private commonRead(off: number, len: number): number {
    const q = this.selectedQueue();
    const v32 = (() => {
      switch (off & ~3) {
        case V.VIRTIO_PCI_COMMON_DFSELECT: return this.deviceFeatureSelect;
        case V.VIRTIO_PCI_COMMON_DF: return this.deviceFeatureSelect < 2 ? this.deviceFeatures[this.deviceFeatureSelect]! : 0;
        case V.VIRTIO_PCI_COMMON_GFSELECT: return this.driverFeatureSelect;
        case V.VIRTIO_PCI_COMMON_GF: return this.driverFeatureSelect < 2 ? this.driverFeatures[this.driverFeatureSelect]! : 0;
        case V.VIRTIO_PCI_COMMON_MSIX: return this.configMsixVector | (this.queues.length << 16);
        case V.VIRTIO_PCI_COMMON_STATUS: return this.status | (this.configGeneration << 8) | (this.queueSelect << 16);
        case V.VIRTIO_PCI_COMMON_Q_SIZE: return (q?.size ?? 0) | ((q?.msixVector ?? V.VIRTIO_MSI_NO_VECTOR) << 16);
        case V.VIRTIO_PCI_COMMON_Q_ENABLE: return (q?.ready ? 1 : 0) | ((q ? q.index : 0) << 16);
        case V.VIRTIO_PCI_COMMON_Q_DESCLO: return (q?.descAddr ?? 0) % 2 ** 32;
        case V.VIRTIO_PCI_COMMON_Q_DESCHI: return Math.floor((q?.descAddr ?? 0) / 2 ** 32);
        case V.VIRTIO_PCI_COMMON_Q_AVAILLO: return (q?.driverAddr ?? 0) % 2 ** 32;
        case V.VIRTIO_PCI_COMMON_Q_AVAILHI: return Math.floor((q?.driverAddr ?? 0) / 2 ** 32);
        case V.VIRTIO_PCI_COMMON_Q_USEDLO: return (q?.deviceAddr ?? 0) % 2 ** 32;
        case V.VIRTIO_PCI_COMMON_Q_USEDHI: return Math.floor((q?.deviceAddr ?? 0) / 2 ** 32);
        default: return 0;
      }
    })();
    const shifted = v32 >>> (8 * (off & 3));
    return len >= 4 ? shifted >>> 0 : shifted & ((1 << (8 * len)) - 1);
  }

  private commonWrite(off: number, len: number, v: number): void {
    const q = this.selectedQueue();
    // Field writes as the driver does them (natural width); a queue field of a missing queue is ignored.
    switch (off) {
      case V.VIRTIO_PCI_COMMON_DFSELECT: this.deviceFeatureSelect = v; return;
      case V.VIRTIO_PCI_COMMON_GFSELECT: this.driverFeatureSelect = v; return;
      case V.VIRTIO_PCI_COMMON_GF:
        if (this.driverFeatureSelect < 2 && !(this.status & V.VIRTIO_CONFIG_S_FEATURES_OK)) this.driverFeatures[this.driverFeatureSelect] = v >>> 0;
        return;
      case V.VIRTIO_PCI_COMMON_MSIX: this.configMsixVector = this.vectorOrNone(v & 0xffff); return;
      case V.VIRTIO_PCI_COMMON_STATUS: this.setStatus(v & 0xff); return;
      case V.VIRTIO_PCI_COMMON_Q_SELECT: this.queueSelect = v & 0xffff; return;
      default: break;
    }
    if (q === undefined) return;
    const enabled = q.ready;
    switch (off) {
      case V.VIRTIO_PCI_COMMON_Q_SIZE: if (!enabled) q.size = v & 0xffff; return;
      case V.VIRTIO_PCI_COMMON_Q_MSIX: q.msixVector = this.vectorOrNone(v & 0xffff); return;
      case V.VIRTIO_PCI_COMMON_Q_ENABLE:
        if ((v & 0xffff) === 1 && !enabled) {
          try {
            q.validate();
            q.ready = true;
          } catch (e) {
            this.needsReset((e as Error).message);
          }
        }
        return;
      case V.VIRTIO_PCI_COMMON_Q_DESCLO: if (!enabled) q.descAddr = setLo(q.descAddr, v, len); return;
      case V.VIRTIO_PCI_COMMON_Q_DESCHI: if (!enabled) q.descAddr = setHi(q.descAddr, v); return;
      case V.VIRTIO_PCI_COMMON_Q_AVAILLO: if (!enabled) q.driverAddr = setLo(q.driverAddr, v, len); return;
      case V.VIRTIO_PCI_COMMON_Q_AVAILHI: if (!enabled) q.driverAddr = setHi(q.driverAddr, v); return;
      case V.VIRTIO_PCI_COMMON_Q_USEDLO: if (!enabled) q.deviceAddr = setLo(q.deviceAddr, v, len); return;
      case V.VIRTIO_PCI_COMMON_Q_USEDHI: if (!enabled) q.deviceAddr = setHi(q.deviceAddr, v); return;
      default: return;
    }
  }

  /** A vector beyond the MSI-X table reads back as NO_VECTOR (spec 4.1.5.1.2). */
  private vectorOrNone(v: number): number {
    return v < this.msix.nvectors ? v : V.VIRTIO_MSI_NO_VECTOR;
  }

  close(): void {
    this.model.close?.();
  }
}

function setLo(cur: number, v: number, len: number): number {
  const hi = Math.floor(cur / 2 ** 32);
  const lo = len >= 4 ? v >>> 0 : v;
  return hi * 2 ** 32 + lo;
}

function setHi(cur: number, v: number): number {
  return (v >>> 0) * 2 ** 32 + (cur % 2 ** 32);
}
