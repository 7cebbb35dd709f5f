/**
 * The functions QEMU's pc machine puts on PCI bus 0 (hw/pci-host/i440fx.c,
 * hw/isa/piix.c, hw/acpi/piix4.c):
 *   00:00.0  i440FX host bridge       8086:1237  class 0600
 *   00:01.0  PIIX3 PCI-to-ISA bridge  8086:7000  class 0601 (multi-function)
 *   00:01.3  PIIX4 power management   8086:7113  class 0680, PMBA at 0x40, SCI on IRQ 9
 * The PM function moves the ACPI PM registers when the guest reprograms PMBA.
 */
import { NO_IRQ, type IrqLine } from '../irq';
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

/** PIIX3 PIRQ[A-D] route control registers (82371SB datasheet 2.2.10): IRQ in bits 3:0, bit 7 disables. */
export const PIIX_PIRQRC = 0x60;
export const PIIX_PIRQRC_DISABLE = 0x80;
export const PIIX_NUM_PIRQS = 4;
/** What SeaBIOS programs into PIRQRC[A-D] (src/fw/pciinit.c pci_irqs). */
export const SEABIOS_PCI_IRQS = [10, 10, 11, 11] as const;

/**
 * The PIIX3 PCI-to-ISA bridge with its PIRQ router: the four PCI interrupt links
 * PIRQA-D, each steered to an ISA IRQ by PIRQRC (and so to the PIC and IOAPIC pin of
 * that number). A link is the OR of the INTx lines wired to it.
 */
export class Piix3 extends PciFunction {
  /** Which devices assert each link (a bit per source). */
  private readonly linkSources: Set<number>[] = [new Set(), new Set(), new Set(), new Set()];
  /** The ISA IRQ each link drives now (-1: disabled), and whether it is high. */
  private readonly routedTo = [-1, -1, -1, -1];
  private nextSource = 0;

  constructor(private readonly isaIrq: (irq: number) => IrqLine = () => NO_IRQ) {
    super('PIIX3', {
      vendorId: PCI_VENDOR_ID_INTEL, deviceId: PCI_DEVICE_ID_INTEL_82371SB_0, revision: 0x00,
      classCode: PCI_CLASS_BRIDGE_ISA, headerType: PCI_HEADER_TYPE_MULTI_FUNCTION,
    });
    // As SeaBIOS leaves it (hardware reset value is 0x80, disabled).
    for (let i = 0; i < PIIX_NUM_PIRQS; i++) this.config[PIIX_PIRQRC + i] = SEABIOS_PCI_IRQS[i]!;
    this.wmask.fill(0, 0x40);
    this.wmask.fill(0x8f, PIIX_PIRQRC, PIIX_PIRQRC + PIIX_NUM_PIRQS);
    for (let i = 0; i < PIIX_NUM_PIRQS; i++) this.routedTo[i] = this.pirqIrq(i);
  }

  /** The ISA IRQ link `pirq` (0 = A) is steered to, or -1 when disabled. */
  pirqIrq(pirq: number): number {
    const v = this.config[PIIX_PIRQRC + pirq]!;
    // IRQ 0-2, 8 and 13 are reserved in PIRQRC; treat them as disabled like QEMU.
    const irq = v & 0x0f;
    return v & PIIX_PIRQRC_DISABLE || irq < 3 || irq === 8 || irq === 13 ? -1 : irq;
  }

  private readonly irqOut = new Map<number, IrqLine>();
  private line(irq: number): IrqLine {
    let l = this.irqOut.get(irq);
    if (l === undefined) {
      l = this.isaIrq(irq);
      this.irqOut.set(irq, l);
    }
    return l;
  }

  private drive(pirq: number, level: number): void {
    const irq = this.routedTo[pirq]!;
    if (irq >= 0) this.line(irq).set(level);
  }

  /**
   * The INTx line of the device in `slot` with interrupt pin `pin` (1 = INTA): i440FX
   * swizzles it onto link (slot - 1 + pin - 1) & 3, as QEMU's pci_slot_get_pirq.
   */
  intxLine(slot: number, pin: number): IrqLine {
    const pirq = pciSlotPirq(slot, pin);
    const id = this.nextSource++;
    return {
      set: (level) => {
        const s = this.linkSources[pirq]!;
        const before = s.size > 0;
        if (level) s.add(id);
        else s.delete(id);
        const after = s.size > 0;
        if (before !== after) this.drive(pirq, after ? 1 : 0);
      },
    };
  }

  protected override configWritten(offset: number, len: number): void {
    if (offset >= PIIX_PIRQRC + PIIX_NUM_PIRQS || offset + len <= PIIX_PIRQRC) return;
    for (let i = 0; i < PIIX_NUM_PIRQS; i++) {
      const irq = this.pirqIrq(i);
      if (irq === this.routedTo[i]) continue;
      const high = this.linkSources[i]!.size > 0;
      if (high) this.drive(i, 0);
      this.routedTo[i] = irq;
      if (high) this.drive(i, 1);
    }
  }
}

/** i440FX's INTx swizzle: the PIRQ link (0 = A) of `pin` (1 = INTA) in `slot`. */
export function pciSlotPirq(slot: number, pin: number): number {
  return (slot - 1 + pin - 1) & 3;
}

export function piix3IsaBridge(isaIrq?: (irq: number) => IrqLine): Piix3 {
  return new Piix3(isaIrq);
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
