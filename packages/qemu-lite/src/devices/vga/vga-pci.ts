/**
 * QEMU's -device VGA (hw/display/vga-pci.c): the standard VGA as PCI function 1234:1111
 * (class 0300) with BAR0 the linear framebuffer (prefetchable memory, the whole video
 * memory) and BAR2 a 4 KiB MMIO block: the VGA ports 0x3c0-0x3df at 0x400, the Bochs
 * DISPI registers at 0x500 (register n at 0x500 + 2n) and QEMU's extended registers at
 * 0x600. The legacy ports, the VBE ports and the 0xA0000 window are always decoded.
 * The framebuffer is video memory itself registered as a KVM memory slot (with dirty
 * logging) wherever BAR0 points, so guest stores to it run at memory speed and never exit.
 */
import type { Vm } from '@kvmts/kvm-core';
import { uapi } from '@kvmts/kvm-core';
import type { Bus, BusDevice } from '../../bus';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PciFunction } from '../../pci/pci-device';
import { VgaCore } from './vga';
import {
  PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_CLASS_DISPLAY_VGA, PCI_DEVICE_ID_QEMU_VGA, PCI_SUBDEVICE_ID_QEMU,
  PCI_SUBVENDOR_ID_REDHAT_QUMRANET, PCI_VENDOR_ID_QEMU, PCI_VGA_BOCHS_OFFSET, PCI_VGA_BOCHS_SIZE, PCI_VGA_IOPORT_OFFSET,
  PCI_VGA_IOPORT_SIZE, PCI_VGA_MMIO_SIZE, PCI_VGA_QEXT_LITTLE_ENDIAN, PCI_VGA_QEXT_OFFSET, PCI_VGA_QEXT_REG_BYTEORDER,
  PCI_VGA_QEXT_REG_SIZE, PCI_VGA_QEXT_SIZE, VBE_DISPI_IOPORT_INDEX, VGA_IO_BASE, VGA_IO_SIZE, VGA_VRAM_SIZE,
  VGA_WINDOW_BASE, VGA_WINDOW_SIZE,
} from './vga-regs';

/** Where the BARs start out: SeaBIOS's first prefetchable and 32-bit MMIO placements on pc. */
export const PCI_VGA_DEFAULT_LFB = 0xfd000000;
export const PCI_VGA_DEFAULT_MMIO = 0xfebf8000;
/** The KVM memory slot of the framebuffer (the pc machine's RAM uses the slots below). */
export const VGA_LFB_SLOT = 16;

export interface PciVgaOptions {
  vm: Vm;
  pio: Bus;
  mmio: Bus;
  vramSize?: number;
}

export class PciVga extends PciFunction {
  readonly core: VgaCore;
  private readonly vm: Vm;
  private readonly mmioBus: Bus;
  private mapped = { lfb: -1, mmio: -1 };

  constructor(opts: PciVgaOptions) {
    super('VGA', {
      vendorId: PCI_VENDOR_ID_QEMU, deviceId: PCI_DEVICE_ID_QEMU_VGA, revision: 0x02, classCode: PCI_CLASS_DISPLAY_VGA,
      subsystemVendorId: PCI_SUBVENDOR_ID_REDHAT_QUMRANET, subsystemId: PCI_SUBDEVICE_ID_QEMU,
    });
    const vramSize = opts.vramSize ?? VGA_VRAM_SIZE;
    this.core = new VgaCore({ vramSize });
    this.vm = opts.vm;
    this.mmioBus = opts.mmio;
    this.setBar(0, { size: vramSize, io: false }, PCI_VGA_DEFAULT_LFB);
    // Prefetchable: a read-only type bit (setBar's write mask already keeps bits 0-3).
    this.config[PCI_BASE_ADDRESS_0] = this.config[PCI_BASE_ADDRESS_0]! | PCI_BASE_ADDRESS_MEM_PREFETCH;
    this.setBar(2, { size: PCI_VGA_MMIO_SIZE, io: false }, PCI_VGA_DEFAULT_MMIO);
    this.config[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    opts.pio.register({ base: VGA_IO_BASE, size: VGA_IO_SIZE }, this.core.ioDevice);
    opts.pio.register({ base: VBE_DISPI_IOPORT_INDEX, size: 3 }, this.core.vbeIoDevice);
    opts.mmio.register({ base: VGA_WINDOW_BASE, size: VGA_WINDOW_SIZE }, this.core.windowDevice);
    this.remap();
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

  protected override configWritten(offset: number, len: number): void {
    if (offset < PCI_BASE_ADDRESS_0 + 12 && offset + len > PCI_COMMAND) this.remap();
  }

  /** The framebuffer's guest-physical address while decoded, or -1. */
  get lfbAddress(): number {
    return this.mapped.lfb;
  }

  /** Dirty pages of the framebuffer since the last call (KVM_GET_DIRTY_LOG), null when unmapped. */
  lfbDirtyLog(): Uint8Array | null {
    return this.mapped.lfb < 0 ? null : this.vm.getDirtyLog(VGA_LFB_SLOT);
  }

  /** Maps the BARs where they point while memory decoding is on. */
  private remap(): void {
    const vram = this.core.vram;
    if (this.mapped.lfb >= 0) {
      this.vm.setUserMemoryRegion({ slot: VGA_LFB_SLOT, flags: 0, guestPhysAddr: this.mapped.lfb, memorySize: 0, userspaceAddr: vram });
      this.mapped.lfb = -1;
    }
    if (this.mapped.mmio >= 0) {
      this.mmioBus.deregister(this.mapped.mmio);
      this.mapped.mmio = -1;
    }
    if (!(this.config[PCI_COMMAND]! & PCI_COMMAND_MEMORY)) return;
    const lfb = this.barAddress(0);
    const sizing = (size: number) => (~(size - 1) >>> 0) & 0xfffffff0;
    // A BAR at 0 or holding the sizing pattern is not a placement.
    if (lfb !== 0 && lfb !== sizing(vram.length)) {
      try {
        this.vm.setUserMemoryRegion({
          slot: VGA_LFB_SLOT, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: lfb, memorySize: vram.length, userspaceAddr: vram,
        });
        this.mapped.lfb = lfb;
      } catch { /* overlaps RAM or another slot: not decoded, as a conflicting BAR */ }
    }
    const mmio = this.barAddress(2);
    if (mmio !== 0 && mmio !== sizing(PCI_VGA_MMIO_SIZE)) {
      try {
        this.mmioBus.register({ base: mmio, size: PCI_VGA_MMIO_SIZE }, this.mmioDevice);
        this.mapped.mmio = mmio;
      } catch { /* as above */ }
    }
  }
}
