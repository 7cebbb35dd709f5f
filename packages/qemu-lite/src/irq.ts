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
