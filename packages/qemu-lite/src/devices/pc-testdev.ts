/**
 * QEMU's pc-testdev (hw/misc/pc-testdev.c), used by kvm-unit-tests: a 32-bit scratch
 * register at 0xe0 (any width) and 0xe8 (byte-wise view of the same register), a
 * "flush page" port at 0xe4, 24 IRQ-line ports at 0x2000 (a write sets ISA IRQ n to
 * !!value), and 64 KiB of scratch MMIO at 0xff000000.
 */
import type { BusDevice } from '../bus';
import { dataToU32, u32ToData } from '../bus';
import type { IrqLine } from '../irq';

export const PC_TESTDEV_IOPORT = 0xe0;
export const PC_TESTDEV_FLUSH = 0xe4;
export const PC_TESTDEV_IOPORT_BYTE = 0xe8;
export const PC_TESTDEV_IRQ_BASE = 0x2000;
export const PC_TESTDEV_IRQ_COUNT = 24;
export const PC_TESTDEV_IOMEM_BASE = 0xff000000;
export const PC_TESTDEV_IOMEM_LEN = 0x10000;

export class PcTestdev {
  ioportData = 0;
  readonly iomem = new Uint8Array(PC_TESTDEV_IOMEM_LEN);

  constructor(private readonly irqs: (irq: number) => IrqLine) {}

  /** The 0xe0 and 0xe8 windows onto ioport_data. */
  readonly ioport: BusDevice = {
    read: (_b, offset, data) => {
      const shift = (offset & 3) * 8;
      u32ToData(this.ioportData >>> shift, data);
    },
    write: (_b, offset, data) => {
      const bits = data.length * 8;
      const shift = (offset & 3) * 8;
      const mask = bits >= 32 ? 0xffffffff : (((1 << bits) - 1) << shift) >>> 0;
      this.ioportData = ((this.ioportData & ~mask) | ((dataToU32(data) << shift) & mask)) >>> 0;
    },
  };

  /** Byte-wise view (impl access size 1): a wider access is split into bytes. */
  readonly ioportByte: BusDevice = {
    read: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) data[i] = (this.ioportData >>> (((offset + i) & 3) * 8)) & 0xff;
    },
    write: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) {
        const shift = ((offset + i) & 3) * 8;
        this.ioportData = ((this.ioportData & ~(0xff << shift)) | (data[i]! << shift)) >>> 0;
      }
    },
  };

  /** Guest RAM is always coherent here, so "flush" has nothing to do. */
  readonly flush: BusDevice = {
    read: (_b, _o, data) => data.fill(0),
    write: () => {},
  };

  readonly irqLines: BusDevice = {
    read: (_b, _o, data) => data.fill(0),
    write: (_b, offset, data) => this.irqs(offset).set(data[0]! !== 0 ? 1 : 0),
  };

  readonly iomemDevice: BusDevice = {
    read: (_b, offset, data) => {
      for (let i = 0; i < data.length; i++) data[i] = this.iomem[offset + i] ?? 0;
    },
    write: (_b, offset, data) => {
      for (let i = 0; i < data.length && offset + i < PC_TESTDEV_IOMEM_LEN; i++) this.iomem[offset + i] = data[i]!;
    },
  };
}
