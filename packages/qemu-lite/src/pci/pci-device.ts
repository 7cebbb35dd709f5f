/**
 * A PCI function's 256-byte type-0 configuration space (PCI Local Bus spec 3.0, ch. 6),
 * with a write mask so read-only fields (IDs, class code, header type) stay put, and BARs
 * that size correctly (write all-ones, read back the size mask).
 */
import type { Bus, BusDevice } from '../bus';
import type { IrqLine } from '../irq';

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_STATUS_INTERRUPT = 0x08;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
/** Capability IDs (PCI 3.0 appendix H). */
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_CAP_ID_VNDR = 0x09;
/** Where capabilities start (after the type-0 header). */
export const PCI_CONFIG_HEADER_SIZE = 0x40;

/**
 * A BAR region with its handler (the PciDevice API devices build on): the bus maps
 * `device` on the PIO or MMIO bus where the BAR points while COMMAND decodes it.
 */
export type PciBarType = 'io' | 'mem32' | 'mem64';

export interface PciBarRegion {
  /** Size in bytes: a power of two (at least 4 for I/O, 16 for memory). */
  size: number;
  type: PciBarType;
  prefetchable?: boolean;
  /**
   * The region's registers on the PIO/MMIO bus. Omitted for a RAM-backed region (a
   * framebuffer as a KVM memory slot): the function maps it itself in barMapped.
   */
  device?: BusDevice;
}

/** What the bus gives a function when it is plugged (buses for its BARs, its INTx line). */
export interface PciSlotContext {
  pio: Bus;
  mmio: Bus;
  /** The function's INTx pin, routed by the board (PIIX PIRQ links). */
  intx: IrqLine;
  warn(message: string): void;
}

export interface PciBar {
  /** Size in bytes (a power of two). */
  size: number;
  io: boolean;
}

export interface PciFunctionIds {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** class << 16 | subclass << 8 | prog-if */
  classCode: number;
  headerType?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  interruptPin?: number;
  interruptLine?: number;
}

export class PciFunction {
  readonly config = new Uint8Array(256);
  /** Bits the guest may change. */
  readonly wmask = new Uint8Array(256);
  readonly bars: (PciBar | undefined)[] = [];
  /** BARs declared with defineBar (handler-backed; mapped by the bus). */
  readonly regions: (PciBarRegion | undefined)[] = [];
  /** Where each region is mapped now (-1: not decoded). */
  readonly mappedAt: number[] = [];
  private slot: PciSlotContext | undefined;
  private nextCap = PCI_CONFIG_HEADER_SIZE;
  private lastCap = -1;
  private intxLevel = 0;

  constructor(readonly name: string, ids: PciFunctionIds) {
    const c = new DataView(this.config.buffer);
    c.setUint16(PCI_VENDOR_ID, ids.vendorId, true);
    c.setUint16(PCI_DEVICE_ID, ids.deviceId, true);
    c.setUint8(PCI_REVISION_ID, ids.revision);
    c.setUint8(PCI_CLASS_PROG, ids.classCode & 0xff);
    c.setUint16(PCI_CLASS_DEVICE, ids.classCode >>> 8, true);
    c.setUint8(PCI_HEADER_TYPE, ids.headerType ?? 0);
    c.setUint16(PCI_SUBSYSTEM_VENDOR_ID, ids.subsystemVendorId ?? 0, true);
    c.setUint16(PCI_SUBSYSTEM_ID, ids.subsystemId ?? 0, true);
    c.setUint8(PCI_INTERRUPT_PIN, ids.interruptPin ?? 0);
    c.setUint8(PCI_INTERRUPT_LINE, ids.interruptLine ?? 0);
    // Command: I/O, memory, bus master, SERR, INTx disable are writable.
    this.wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    this.wmask[PCI_COMMAND + 1] = 0x05;
    this.wmask[PCI_INTERRUPT_LINE] = 0xff;
    // Device-specific registers (0x40..0xff) are writable unless a function says otherwise.
    this.wmask.fill(0xff, 0x40);
  }

  /** Declare BAR n; its address bits become writable down to the size. */
  setBar(n: number, bar: PciBar, initialAddress = 0): void {
    this.bars[n] = bar;
    const off = PCI_BASE_ADDRESS_0 + 4 * n;
    const mask = (~(bar.size - 1)) >>> 0;
    const dv = new DataView(this.wmask.buffer);
    dv.setUint32(off, bar.io ? mask & 0xfffffffc : mask & 0xfffffff0, true);
    new DataView(this.config.buffer).setUint32(off, (initialAddress & mask) | (bar.io ? PCI_BASE_ADDRESS_SPACE_IO : 0), true);
  }

  /**
   * Declare BAR n backed by a handler (a 64-bit BAR also takes n+1). The address starts
   * at 0 (unassigned); the board assigns it (pci-assign.ts) or the guest programs it.
   */
  defineBar(n: number, region: PciBarRegion): void {
    const { size, type } = region;
    if (n < 0 || n > 5 || (type === 'mem64' && n > 4)) throw new RangeError(`${this.name}: BAR ${n} does not exist for a ${type} BAR`);
    if (!Number.isSafeInteger(size) || size < (type === 'io' ? 4 : 16) || 2 ** Math.round(Math.log2(size)) !== size || (type !== 'mem64' && size > 2 ** 31))
      throw new RangeError(`${this.name}: BAR ${n} size ${size} is not a power of two`);
    if (type === 'io' && size > 256) throw new RangeError(`${this.name}: I/O BAR ${n} larger than 256 bytes`);
    this.regions[n] = region;
    this.mappedAt[n] = -1;
    const off = PCI_BASE_ADDRESS_0 + 4 * n;
    const dv = new DataView(this.wmask.buffer);
    const cfg = new DataView(this.config.buffer);
    const lowMask = size >= 2 ** 32 ? 0 : (~(size - 1)) >>> 0;
    if (type === 'io') {
      dv.setUint32(off, lowMask & 0xfffffffc, true);
      cfg.setUint32(off, PCI_BASE_ADDRESS_SPACE_IO, true);
    } else {
      dv.setUint32(off, lowMask & 0xfffffff0, true);
      const flags = (type === 'mem64' ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (region.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
      cfg.setUint32(off, flags, true);
      if (type === 'mem64') {
        dv.setUint32(off + 4, size > 2 ** 32 ? (~(size / 2 ** 32 - 1)) >>> 0 : 0xffffffff, true);
        cfg.setUint32(off + 4, 0, true);
      }
    }
    this.bars[n] = { size, io: type === 'io' };
  }

  /** The full (64-bit for mem64) address of a defineBar region, without type bits. */
  regionAddress(n: number): number {
    const r = this.regions[n];
    if (r === undefined) return 0;
    const dv = new DataView(this.config.buffer);
    const lo = dv.getUint32(PCI_BASE_ADDRESS_0 + 4 * n, true);
    if (r.type === 'io') return (lo & 0xfffffffc) >>> 0;
    const hi = r.type === 'mem64' ? dv.getUint32(PCI_BASE_ADDRESS_0 + 4 * n + 4, true) : 0;
    return hi * 2 ** 32 + ((lo & 0xfffffff0) >>> 0);
  }

  /** Program a region's address (the board's BAR assignment; the guest does it through config writes). */
  setRegionAddress(n: number, addr: number): void {
    const r = this.regions[n];
    if (r === undefined) throw new RangeError(`${this.name}: BAR ${n} is not defined`);
    const dv = new DataView(this.config.buffer);
    const off = PCI_BASE_ADDRESS_0 + 4 * n;
    const typeBits = dv.getUint32(off, true) & (r.type === 'io' ? 0x3 : 0xf);
    dv.setUint32(off, ((addr % 2 ** 32) & ~(r.size - 1) | typeBits) >>> 0, true);
    if (r.type === 'mem64') dv.setUint32(off + 4, Math.floor(addr / 2 ** 32), true);
    this.updateMappings();
  }

  /**
   * Append a capability of `length` bytes (ID and next pointer included) to the list;
   * returns its offset. Its bytes are read-only unless the caller opens wmask bits.
   */
  addCapability(id: number, length: number): number {
    const off = (this.nextCap + 3) & ~3;
    if (off + length > 256) throw new RangeError(`${this.name}: no room for capability 0x${id.toString(16)}`);
    this.wmask.fill(0, off, off + length);
    this.config[off] = id;
    this.config[off + 1] = 0;
    if (this.lastCap < 0) this.config[PCI_CAPABILITY_LIST] = off;
    else this.config[this.lastCap + 1] = off;
    this.config[PCI_STATUS] = this.config[PCI_STATUS]! | PCI_STATUS_CAP_LIST;
    this.lastCap = off;
    this.nextCap = off + length;
    return off;
  }

  /** Called by the bus when the function is plugged into a slot. */
  plug(ctx: PciSlotContext): void {
    this.slot = ctx;
    this.updateMappings();
  }

  /**
   * Drive INTx (level). COMMAND.INTx_DISABLE masks it; STATUS.INTERRUPT shows the
   * device's own state either way (PCI 2.3).
   */
  setIrqLevel(level: number): void {
    this.intxLevel = level ? 1 : 0;
    this.config[PCI_STATUS] = (this.config[PCI_STATUS]! & ~PCI_STATUS_INTERRUPT) | (level ? PCI_STATUS_INTERRUPT : 0);
    this.driveIntx();
  }

  private intxOut = 0;
  private driveIntx(): void {
    const disabled = (new DataView(this.config.buffer).getUint16(PCI_COMMAND, true) & PCI_COMMAND_INTX_DISABLE) !== 0;
    const out = disabled ? 0 : this.intxLevel;
    if (out === this.intxOut) return;
    this.intxOut = out;
    this.slot?.intx.set(out);
  }

  /**
   * Map every defineBar region where its BAR points, when COMMAND enables its space:
   * a guest write to COMMAND or a BAR moves the registration (as QEMU's
   * pci_update_mappings). A BAR being sized (all ones) or at 0 is not decoded.
   */
  updateMappings(): void {
    const slot = this.slot;
    if (slot === undefined) return;
    const cmd = new DataView(this.config.buffer).getUint16(PCI_COMMAND, true);
    for (let n = 0; n < this.regions.length; n++) {
      const r = this.regions[n];
      if (r === undefined) continue;
      const io = r.type === 'io';
      const enabled = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) !== 0;
      let addr = this.regionAddress(n);
      const limit = io ? 0x10000 : 2 ** 52;
      // A 32-bit BAR reaching the top of the address space is unmapped, as QEMU's
      // pci_bar_address (last address >= UINT32_MAX): that is also the sizing pattern.
      if (!enabled || addr === 0 || addr + r.size > limit || (!io && r.type === 'mem32' && addr + r.size >= 2 ** 32)) addr = -1;
      if (addr === this.mappedAt[n]) continue;
      const bus = io ? slot.pio : slot.mmio;
      if (this.mappedAt[n]! >= 0 && r.device !== undefined) bus.deregister(this.mappedAt[n]!);
      this.mappedAt[n] = -1;
      const dev = r.device;
      if (addr >= 0 && dev === undefined) {
        this.mappedAt[n] = addr;
      } else if (addr >= 0 && dev !== undefined) {
        try {
          bus.register({ base: addr, size: r.size }, dev);
          this.mappedAt[n] = addr;
        } catch (e) {
          // Overlapping another range: the BAR does not decode (as a conflicting BAR on real buses).
          slot.warn(`${this.name}: BAR ${n} at 0x${addr.toString(16)} not mapped: ${(e as Error).message}`);
        }
      }
      this.barMapped(n, this.mappedAt[n]!);
    }
  }

  /**
   * Hook: region n is now mapped at `addr` (-1: unmapped). virtio moves its ioeventfds
   * here; a RAM-backed region (no device) moves its memory slot here.
   */
  protected barMapped(_n: number, _addr: number): void {}

  /** The address BAR n is programmed to (without the type bits). */
  barAddress(n: number): number {
    const v = new DataView(this.config.buffer).getUint32(PCI_BASE_ADDRESS_0 + 4 * n, true);
    return (this.bars[n]?.io ? v & 0xfffffffc : v & 0xfffffff0) >>> 0;
  }

  readConfig(offset: number, len: number): number {
    let v = 0;
    for (let i = len - 1; i >= 0; i--) v = (v * 256 + (this.config[offset + i] ?? 0)) >>> 0;
    return v;
  }

  writeConfig(offset: number, len: number, value: number): void {
    for (let i = 0; i < len; i++) {
      const o = offset + i;
      if (o >= 256) break;
      const b = (value >>> (8 * i)) & 0xff;
      const m = this.wmask[o]!;
      this.config[o] = (this.config[o]! & ~m) | (b & m);
    }
    // COMMAND or a BAR changed: move the BAR registrations, re-evaluate INTx masking.
    if (offset < PCI_BASE_ADDRESS_0 + 24 && offset + len > PCI_COMMAND && this.regions.length > 0) this.updateMappings();
    if (offset < PCI_COMMAND + 2 && offset + len > PCI_COMMAND) this.driveIntx();
    this.configWritten(offset, len);
  }

  /** Hook for functions that act on config writes (PIIX4 PM's PMBA/PMREGMISC). */
  protected configWritten(_offset: number, _len: number): void {}
}
