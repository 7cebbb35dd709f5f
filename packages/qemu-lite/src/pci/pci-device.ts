/**
 * A PCI function's 256-byte type-0 configuration space (PCI Local Bus spec 3.0, ch. 6),
 * with a write mask so read-only fields (IDs, class code, header type) stay put, and BARs
 * that size correctly (write all-ones, read back the size mask).
 */
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
    this.configWritten(offset, len);
  }

  /** Hook for functions that act on config writes (PIIX4 PM's PMBA/PMREGMISC). */
  protected configWritten(_offset: number, _len: number): void {}
}
