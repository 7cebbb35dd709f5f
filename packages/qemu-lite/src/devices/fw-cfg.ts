/**
 * QEMU's fw_cfg (docs/specs/fw_cfg.rst) on the x86 I/O ports: a 16-bit selector at
 * 0x510 and an 8-bit data port at 0x511. Selecting an item rewinds its offset; each data
 * read returns the next byte, 0 past the end. Numeric items are little-endian; the file
 * directory (FW_CFG_FILE_DIR) is big-endian, as the spec says.
 */
import type { BusDevice } from '../bus';
import { dataToU32 } from '../bus';

export const FW_CFG_IO_BASE = 0x510;
export const FW_CFG_IO_SIZE = 2; // selector (2 bytes wide at 0x510) and data at 0x511

export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MACHINE_ID = 0x06;
export const FW_CFG_KERNEL_ADDR = 0x07;
export const FW_CFG_KERNEL_SIZE = 0x08;
export const FW_CFG_KERNEL_CMDLINE = 0x09;
export const FW_CFG_INITRD_ADDR = 0x0a;
export const FW_CFG_INITRD_SIZE = 0x0b;
export const FW_CFG_BOOT_DEVICE = 0x0c;
export const FW_CFG_NUMA = 0x0d;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_KERNEL_ENTRY = 0x10;
export const FW_CFG_KERNEL_DATA = 0x11;
export const FW_CFG_INITRD_DATA = 0x12;
export const FW_CFG_CMDLINE_ADDR = 0x13;
export const FW_CFG_CMDLINE_SIZE = 0x14;
export const FW_CFG_CMDLINE_DATA = 0x15;
export const FW_CFG_SETUP_ADDR = 0x16;
export const FW_CFG_SETUP_SIZE = 0x17;
export const FW_CFG_SETUP_DATA = 0x18;
export const FW_CFG_FILE_DIR = 0x19;
export const FW_CFG_FILE_FIRST = 0x20;
export const FW_CFG_WRITE_CHANNEL = 0x4000;
export const FW_CFG_ARCH_LOCAL = 0x8000;
/** x86 arch-local items (hw/i386/fw_cfg.h). */
export const FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0;
export const FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1;
export const FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2;
export const FW_CFG_E820_TABLE = FW_CFG_ARCH_LOCAL + 3;
export const FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4;

/** FW_CFG_ID feature bits: the traditional I/O interface (no DMA interface here). */
export const FW_CFG_VERSION = 0x01;
export const FW_CFG_MAX_FILE_PATH = 56;
/** One FWCfgFile entry in the directory: size, select, reserved, name[56]. */
export const FW_CFG_FILE_ENTRY_SIZE = 64;

export class FwCfg implements BusDevice {
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; select: number }[] = [];
  private selector = 0;
  private offset = 0;

  constructor() {
    this.add(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.addU32(FW_CFG_ID, FW_CFG_VERSION);
    this.rebuildDir();
  }

  add(key: number, data: Uint8Array): void {
    this.items.set(key, data);
  }

  addU16(key: number, v: number): void {
    this.add(key, Uint8Array.of(v & 0xff, (v >> 8) & 0xff));
  }

  addU32(key: number, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.add(key, b);
  }

  addU64(key: number, v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.add(key, b);
  }

  /** A string item: NUL-terminated, as QEMU stores the command line. */
  addString(key: number, s: string): void {
    const enc = new TextEncoder().encode(s);
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    this.add(key, b);
  }

  /** A named file; files get selectors from FW_CFG_FILE_FIRST, directory sorted by name. */
  addFile(name: string, data: Uint8Array): number {
    if (name.length >= FW_CFG_MAX_FILE_PATH) throw new RangeError(`fw_cfg file name '${name}' is too long`);
    if (this.files.some((f) => f.name === name)) throw new RangeError(`fw_cfg file '${name}' already exists`);
    const select = FW_CFG_FILE_FIRST + this.files.length;
    this.files.push({ name, select });
    this.items.set(select, data);
    this.rebuildDir();
    return select;
  }

  private rebuildDir(): void {
    const sorted = [...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + sorted.length * FW_CFG_FILE_ENTRY_SIZE);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, sorted.length, false);
    sorted.forEach((f, i) => {
      const o = 4 + i * FW_CFG_FILE_ENTRY_SIZE;
      dv.setUint32(o, this.items.get(f.select)!.length, false);
      dv.setUint16(o + 4, f.select, false);
      dir.set(new TextEncoder().encode(f.name), o + 8);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }

  select(key: number): void {
    this.selector = key & 0xffff;
    this.offset = 0;
  }

  readByte(): number {
    const item = this.items.get(this.selector & ~FW_CFG_WRITE_CHANNEL);
    if (item === undefined || this.offset >= item.length) return 0;
    return item[this.offset++]!;
  }

  read(_base: number, offset: number, data: Uint8Array): void {
    if (offset === 0) {
      data.fill(0); // the selector register is write-only
      return;
    }
    for (let i = 0; i < data.length; i++) data[i] = this.readByte();
  }

  write(_base: number, offset: number, data: Uint8Array): void {
    // Writes to the data port are ignored (read-only since QEMU 2.4).
    if (offset === 0) this.select(dataToU32(data));
  }
}
