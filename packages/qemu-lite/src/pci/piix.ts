/**
 * The functions QEMU's pc machine puts on PCI bus 0 (hw/pci-host/i440fx.c,
 * hw/isa/piix.c, hw/acpi/piix4.c):
 *   00:00.0  i440FX host bridge       8086:1237  class 0600
 *   00:01.0  PIIX3 PCI-to-ISA bridge  8086:7000  class 0601 (multi-function)
 *   00:01.3  PIIX4 power management   8086:7113  class 0680, PMBA at 0x40, SCI on IRQ 9
 * The PM function moves the ACPI PM registers when the guest reprograms PMBA.
 */
import { PCI_HEADER_TYPE_MULTI_FUNCTION, PCI_INTERRUPT_LINE, PciFunction } from './pci-device';

export const PCI_VENDOR_ID_INTEL = 0x8086;
export const PCI_DEVICE_ID_INTEL_82441 = 0x1237;
export const PCI_DEVICE_ID_INTEL_82371SB_0 = 0x7000;
export const PCI_DEVICE_ID_INTEL_82371AB_3 = 0x7113;
export const PCI_CLASS_BRIDGE_HOST = 0x060000;
export const PCI_CLASS_BRIDGE_ISA = 0x060100;
export const PCI_CLASS_BRIDGE_OTHER = 0x068000;

/** PIIX4 PM: PMBA (I/O base, bit 0 reads 1) and PMREGMISC bit 0 (PMIOSE, I/O enable). */
export const PIIX4_PMBA = 0x40;
export const PIIX4_PMREGMISC = 0x80;
export const PIIX4_SMBHSTBA = 0x90;

export function i440fxHostBridge(): PciFunction {
  const f = new PciFunction('i440FX', {
    vendorId: PCI_VENDOR_ID_INTEL, deviceId: PCI_DEVICE_ID_INTEL_82441, revision: 0x02,
    classCode: PCI_CLASS_BRIDGE_HOST,
  });
  return f;
}

export function piix3IsaBridge(): PciFunction {
  return new PciFunction('PIIX3', {
    vendorId: PCI_VENDOR_ID_INTEL, deviceId: PCI_DEVICE_ID_INTEL_82371SB_0, revision: 0x00,
    classCode: PCI_CLASS_BRIDGE_ISA, headerType: PCI_HEADER_TYPE_MULTI_FUNCTION,
  });
}

export class Piix4Pm extends PciFunction {
  constructor(pmBase: number, sciIrq: number, private readonly onPmBaseChange: (base: number, enabled: boolean) => void) {
    super('PIIX4_PM', {
      vendorId: PCI_VENDOR_ID_INTEL, deviceId: PCI_DEVICE_ID_INTEL_82371AB_3, revision: 0x03,
      classCode: PCI_CLASS_BRIDGE_OTHER, interruptPin: 1, interruptLine: sciIrq,
    });
    const dv = new DataView(this.config.buffer);
    // PMBA: 64-byte aligned I/O base; bit 0 is hard-wired to 1 (I/O space indicator).
    dv.setUint32(PIIX4_PMBA, pmBase | 1, true);
    dv.setUint32(PIIX4_PMBA, pmBase | 1, true);
    this.wmask.fill(0, PIIX4_PMBA, PIIX4_PMBA + 4);
    new DataView(this.wmask.buffer).setUint32(PIIX4_PMBA, 0x0000ffc0, true);
    // As SeaBIOS leaves it: PM I/O enabled.
    this.config[PIIX4_PMREGMISC] = 0x01;
    this.config[PCI_INTERRUPT_LINE] = sciIrq;
  }

  get pmBase(): number {
    return new DataView(this.config.buffer).getUint32(PIIX4_PMBA, true) & 0xffc0;
  }

  get pmIoEnabled(): boolean {
    return (this.config[PIIX4_PMREGMISC]! & 1) !== 0;
  }

  protected override configWritten(offset: number, len: number): void {
    const touches = (reg: number, size: number) => offset < reg + size && reg < offset + len;
    if (touches(PIIX4_PMBA, 4) || touches(PIIX4_PMREGMISC, 1)) this.onPmBaseChange(this.pmBase, this.pmIoEnabled);
  }
}
