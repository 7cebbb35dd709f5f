/**
 * QEMU's pci-testdev (hw/misc/pci-testdev.c, 1b36:0005), used by kvm-unit-tests: BAR 0
 * (4 KiB MMIO) and BAR 1 (256 bytes I/O) each hold a test header; writing a test number
 * to byte 0 selects a test, writes to the test's offset increment its count (matching
 * the data byte for the "datamatch" tests). Reads return the header bytes. There are no
 * eventfds here, so every test counts in userspace. BARs are assigned as SeaBIOS would
 * and remapped when the guest reprograms them.
 */
import type { Bus, BusDevice } from '../bus';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PciFunction } from '../pci/pci-device';

export const PCI_VENDOR_ID_REDHAT = 0x1b36;
export const PCI_DEVICE_ID_REDHAT_TEST = 0x0005;
/** QEMU's class_id PCI_CLASS_OTHERS (0x00ff: base class 0x00, subclass 0xff), as class/subclass/prog-if. */
export const PCI_CLASS_OTHERS = 0x00ff00;
export const IOTEST_IOSIZE = 128;
export const IOTEST_MEMSIZE = 2048;
export const IOTEST_DATAMATCH = 0xfa;
export const IOTEST_NOMATCH = 0xce;
export const IOTEST_TESTS = ['no-eventfd', 'wildcard-eventfd', 'datamatch-eventfd'] as const;
export const IOTEST_TYPES = ['mmio', 'portio'] as const;
/** Where the BARs start out (SeaBIOS's first I/O and 32-bit MMIO assignments). */
export const PCI_TESTDEV_DEFAULT_MMIO = 0xfebf0000;
export const PCI_TESTDEV_DEFAULT_IO = 0xc000;
const HDR_SIZE = 16;

interface IoTest {
  hdr: Uint8Array;
  offset: number;
  matchData: boolean;
}

export class PciTestdev extends PciFunction {
  private readonly tests: IoTest[] = [];
  private current = -1;
  private mapped: { mmio: number; io: number } = { mmio: -1, io: -1 };

  constructor(private readonly pio: Bus, private readonly mmioBus: Bus) {
    super('pci-testdev', { vendorId: PCI_VENDOR_ID_REDHAT, deviceId: PCI_DEVICE_ID_REDHAT_TEST, revision: 0, classCode: PCI_CLASS_OTHERS });
    for (let i = 0; i < IOTEST_TESTS.length * IOTEST_TYPES.length; i++) {
      const isMem = Math.floor(i / IOTEST_TESTS.length) === 0;
      const testName = IOTEST_TESTS[i % IOTEST_TESTS.length]!;
      const name = `${isMem ? 'mmio' : 'portio'}-${testName}`;
      const hdr = new Uint8Array(HDR_SIZE + name.length + 1);
      const dv = new DataView(hdr.buffer);
      const matchData = testName !== 'wildcard-eventfd';
      hdr[0] = i;
      hdr[1] = 1; // access width
      const offset = (isMem ? IOTEST_MEMSIZE : IOTEST_IOSIZE) + i;
      dv.setUint32(4, offset, true);
      hdr[8] = matchData ? IOTEST_DATAMATCH : IOTEST_NOMATCH;
      for (let c = 0; c < name.length; c++) hdr[HDR_SIZE + c] = name.charCodeAt(c);
      this.tests.push({ hdr, offset, matchData });
    }
    this.setBar(0, { size: IOTEST_MEMSIZE * 2, io: false }, PCI_TESTDEV_DEFAULT_MMIO);
    this.setBar(1, { size: IOTEST_IOSIZE * 2, io: true }, PCI_TESTDEV_DEFAULT_IO);
    this.config[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    this.remap();
  }

  /** The selected test's count (tests read it through the header too). */
  count(test: number): number {
    return new DataView(this.tests[test]!.hdr.buffer).getUint32(12, true);
  }

  private access(type: number): BusDevice {
    return {
      read: (_b, offset, data) => {
        for (let i = 0; i < data.length; i++) data[i] = this.readByte(offset + i);
      },
      write: (_b, offset, data) => {
        // impl.max_access_size 1: QEMU splits wider writes into bytes.
        for (let i = 0; i < data.length; i++) this.writeByte(offset + i, data[i]!, type);
      },
    };
  }

  private readonly mmioDevice = this.access(0);
  private readonly ioDevice = this.access(1);

  private readByte(addr: number): number {
    if (this.current < 0) return 0;
    const hdr = this.tests[this.current]!.hdr;
    return addr + 1 >= hdr.length ? 0 : hdr[addr]!;
  }

  private writeByte(addr: number, v: number, type: number): void {
    if (addr === 0) {
      this.current = -1;
      if (v >= IOTEST_TESTS.length) return;
      const t = type * IOTEST_TESTS.length + v;
      new DataView(this.tests[t]!.hdr.buffer).setUint32(12, 0, true);
      this.current = t;
      return;
    }
    if (this.current < 0) return;
    const test = this.tests[this.current]!;
    if (addr !== test.offset) return;
    if (test.matchData && v !== test.hdr[8]) return;
    const dv = new DataView(test.hdr.buffer);
    dv.setUint32(12, (dv.getUint32(12, true) + 1) >>> 0, true);
  }

  protected override configWritten(offset: number, len: number): void {
    if (offset < PCI_BASE_ADDRESS_0 + 8 && offset + len > PCI_COMMAND) this.remap();
  }

  /** Map the BARs where they point, when decoding is enabled in COMMAND. */
  private remap(): void {
    if (this.mapped.mmio >= 0) this.mmioBus.deregister(this.mapped.mmio);
    if (this.mapped.io >= 0) this.pio.deregister(this.mapped.io);
    this.mapped = { mmio: -1, io: -1 };
    const cmd = this.config[PCI_COMMAND]!;
    const mem = this.barAddress(0);
    const io = this.barAddress(1);
    // A BAR being sized (all ones) or at 0 is not decoded.
    if ((cmd & PCI_COMMAND_MEMORY) && mem !== 0 && mem !== 0xfffff000) {
      try {
        this.mmioBus.register({ base: mem, size: IOTEST_MEMSIZE * 2 }, this.mmioDevice);
        this.mapped.mmio = mem;
      } catch { /* overlapping placement: not decoded, as a conflicting BAR */ }
    }
    if ((cmd & PCI_COMMAND_IO) && io !== 0 && io + IOTEST_IOSIZE * 2 <= 0x10000) {
      try {
        this.pio.register({ base: io, size: IOTEST_IOSIZE * 2 }, this.ioDevice);
        this.mapped.io = io;
      } catch { /* as above */ }
    }
  }
}
