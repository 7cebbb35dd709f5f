/**
 * QEMU's -device VGA (hw/display/vga-pci.c): the standard VGA as PCI function 1234:1111
 * (class 0300) with BAR0 the linear framebuffer (prefetchable memory, the whole video
 * memory) and BAR2 a 4 KiB MMIO block: the VGA ports 0x3c0-0x3df at 0x400, the Bochs
 * DISPI registers at 0x500 (register n at 0x500 + 2n) and QEMU's extended registers at
 * 0x600. The legacy ports, the VBE ports and the 0xA0000 window are always decoded.
 * The framebuffer is video memory itself registered as a KVM memory slot (with dirty
 * logging) wherever BAR0 points, so guest stores to it run at memory speed and never exit.
 * The board assigns the BARs (pci-assign.ts) like every other PCI function's; the guest may
 * move them.
 */
import type { Vm } from '@kvmts/kvm-core';
import { uapi } from '@kvmts/kvm-core';
import type { Bus, BusDevice } from '../../bus';
import { PciFunction } from '../../pci/pci-device';
import { VgaCore } from './vga';
import {
  PCI_CLASS_DISPLAY_VGA, PCI_DEVICE_ID_QEMU_VGA, PCI_SUBDEVICE_ID_QEMU,
  PCI_SUBVENDOR_ID_REDHAT_QUMRANET, PCI_VENDOR_ID_QEMU, PCI_VGA_BOCHS_OFFSET, PCI_VGA_BOCHS_SIZE, PCI_VGA_IOPORT_OFFSET,
  PCI_VGA_IOPORT_SIZE, PCI_VGA_MMIO_SIZE, PCI_VGA_QEXT_LITTLE_ENDIAN, PCI_VGA_QEXT_OFFSET, PCI_VGA_QEXT_REG_BYTEORDER,
  PCI_VGA_QEXT_REG_SIZE, PCI_VGA_QEXT_SIZE, VBE_DISPI_IOPORT_INDEX, VGA_IO_BASE, VGA_IO_SIZE, VGA_VRAM_SIZE,
  VGA_WINDOW_BASE, VGA_WINDOW_SIZE,
} from './vga-regs';

export interface PciVgaOptions {
  vm: Vm;
  /** The legacy ports (0x3b0-0x3df, 0x1ce-0x1d0) and the 0xA0000 window are registered here. */
  pio: Bus;
  mmio: Bus;
  /** The KVM memory slot for the framebuffer: the board hands out one no other region uses. */
  lfbSlot: number;
  /** Told when the framebuffer cannot be mapped where BAR0 points. */
  warn?: (message: string) => void;
  vramSize?: number;
}

export class PciVga extends PciFunction {
  readonly core: VgaCore;
  readonly lfbSlot: number;
  private readonly vm: Vm;
  private readonly warn: (message: string) => void;
  /** Where the framebuffer slot is now (-1: not mapped). */
  private lfbAt = -1;

  constructor(opts: PciVgaOptions) {
    super('VGA', {
      vendorId: PCI_VENDOR_ID_QEMU, deviceId: PCI_DEVICE_ID_QEMU_VGA, revision: 0x02, classCode: PCI_CLASS_DISPLAY_VGA,
      subsystemVendorId: PCI_SUBVENDOR_ID_REDHAT_QUMRANET, subsystemId: PCI_SUBDEVICE_ID_QEMU,
    });
    const vramSize = opts.vramSize ?? VGA_VRAM_SIZE;
    this.core = new VgaCore({ vramSize });
    this.vm = opts.vm;
    this.lfbSlot = opts.lfbSlot;
    this.warn = opts.warn ?? (() => {});
    // BAR0: video memory itself, no bus device: barMapped moves the memory slot.
    this.defineBar(0, { size: vramSize, type: 'mem32', prefetchable: true });
    this.defineBar(2, { size: PCI_VGA_MMIO_SIZE, type: 'mem32', device: this.mmioDevice });
    opts.pio.register({ base: VGA_IO_BASE, size: VGA_IO_SIZE }, this.core.ioDevice);
    opts.pio.register({ base: VBE_DISPI_IOPORT_INDEX, size: 3 }, this.core.vbeIoDevice);
    opts.mmio.register({ base: VGA_WINDOW_BASE, size: VGA_WINDOW_SIZE }, this.core.windowDevice);
  }

  /** BAR2's registers. */
  readonly mmioDevice: BusDevice = {
    read: (_b, offset, data) => {
      data.fill(0);
      if (offset >= PCI_VGA_IOPORT_OFFSET && offset < PCI_VGA_IOPORT_OFFSET + PCI_VGA_IOPORT_SIZE) {
        for (let i = 0; i < data.length; i++) data[i] = this.core.ioportRead(0x3c0 + offset - PCI_VGA_IOPORT_OFFSET + i);
      } else if (offset >= PCI_VGA_BOCHS_OFFSET && offset < PCI_VGA_BOCHS_OFFSET + PCI_VGA_BOCHS_SIZE) {
        this.core.vbeWriteIndex((offset - PCI_VGA_BOCHS_OFFSET) >> 1);
        const v = this.core.vbeReadData();
        data[0] = v & 0xff;
        if (data.length > 1) data[1] = v >> 8;
      } else if (offset >= PCI_VGA_QEXT_OFFSET && offset < PCI_VGA_QEXT_OFFSET + PCI_VGA_QEXT_SIZE) {
        const reg = (offset - PCI_VGA_QEXT_OFFSET) & ~3;
        const v = reg === PCI_VGA_QEXT_REG_SIZE ? PCI_VGA_QEXT_SIZE : reg === PCI_VGA_QEXT_REG_BYTEORDER ? PCI_VGA_QEXT_LITTLE_ENDIAN : 0;
        for (let i = 0; i < data.length; i++) data[i] = (v >>> (8 * i)) & 0xff;
      }
    },
    write: (_b, offset, data) => {
      if (offset >= PCI_VGA_IOPORT_OFFSET && offset < PCI_VGA_IOPORT_OFFSET + PCI_VGA_IOPORT_SIZE) {
        for (let i = 0; i < data.length; i++) this.core.ioportWrite(0x3c0 + offset - PCI_VGA_IOPORT_OFFSET + i, data[i]!);
      } else if (offset >= PCI_VGA_BOCHS_OFFSET && offset < PCI_VGA_BOCHS_OFFSET + PCI_VGA_BOCHS_SIZE) {
        this.core.vbeWriteIndex((offset - PCI_VGA_BOCHS_OFFSET) >> 1);
        this.core.vbeWriteData(data.length > 1 ? data[0]! | (data[1]! << 8) : data[0]!);
      }
      // The extended registers are read-only (byte order switching is not offered).
    },
  };

  /** The framebuffer's guest-physical address while decoded, or -1. */
  get lfbAddress(): number {
    return this.lfbAt;
  }

  /** Dirty pages of the framebuffer since the last call (KVM_GET_DIRTY_LOG), null when unmapped. */
  lfbDirtyLog(): Uint8Array | null {
    return this.lfbAt < 0 ? null : this.vm.getDirtyLog(this.lfbSlot);
  }

  /** BAR0 moved (or decoding changed): the framebuffer slot follows, dirty-logged. */
  protected override barMapped(n: number, addr: number): void {
    if (n !== 0) return;
    const vram = this.core.vram;
    if (this.lfbAt >= 0) {
      this.vm.setUserMemoryRegion({ slot: this.lfbSlot, flags: 0, guestPhysAddr: this.lfbAt, memorySize: 0, userspaceAddr: vram });
      this.lfbAt = -1;
    }
    if (addr < 0) return;
    try {
      this.vm.setUserMemoryRegion({
        slot: this.lfbSlot, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: addr, memorySize: vram.length, userspaceAddr: vram,
      });
      this.lfbAt = addr;
    } catch (e) {
      // Overlapping RAM or another slot: not decoded, as a conflicting BAR.
      this.warn(`${this.name}: BAR 0 at 0x${addr.toString(16)} not mapped: ${(e as Error).message}`);
    }
  }
}
