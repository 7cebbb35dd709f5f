/**
 * Interrupt lines from devices to the in-kernel irqchip (KVM_IRQ_LINE on a GSI), the
 * IrqTrigger that vm-superio devices take.
 */
export interface IrqLine {
  /** Drive the line to `level` (ISA devices are level-driven; the PIC sees the edge). */
  set(level: number): void;
}

/** A line that goes nowhere (a device with its interrupt not wired). */
export const NO_IRQ: IrqLine = { set() {} };

/** Records every level it is driven to; for tests and traces. */
export class RecordingIrq implements IrqLine {
  readonly levels: number[] = [];
  level = 0;
  set(level: number): void {
    this.level = level;
    this.levels.push(level);
  }
}

/**
 * Several ISA devices on one interrupt line (COM1/COM3 on IRQ 4, pc-testdev's lines):
 * the line is the OR of its sources, and the irqchip sees a change only when the OR does.
 */
export class SharedIrqLine {
  private asserted = 0;
  private level = 0;

  constructor(private readonly out: IrqLine) {}

  /** A new source on this line; each source drives its own bit. */
  source(): IrqLine {
    const bit = 1 << this.sources++;
    return {
      set: (level) => {
        this.asserted = level ? this.asserted | bit : this.asserted & ~bit;
        const l = this.asserted !== 0 ? 1 : 0;
        if (l !== this.level) {
          this.level = l;
          this.out.set(l);
        }
      },
    };
  }

  private sources = 0;
}
