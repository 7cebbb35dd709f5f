/**
 * ACPI PM registers of the PIIX4 power-management function (QEMU hw/acpi/piix4.c and
 * hw/acpi/core.c), at the I/O base PMBA points to: PM1a_EVT (status at +0, enable at +2),
 * PM1a_CNT at +4, the 24-bit PM timer at +8 (3.579545 MHz). Writing SLP_EN with the S5
 * sleep type to PM1a_CNT powers the machine off; SCI on IRQ 9 when an enabled event is set.
 */
import type { BusDevice } from '../bus';
import { dataToU32, u32ToData } from '../bus';
import type { Clock } from '../clock';
import type { IrqLine } from '../irq';

export const ACPI_PM_BASE = 0x600;
export const ACPI_PM_SIZE = 0x40;
export const ACPI_PM1_EVT_OFFSET = 0x00;
export const ACPI_PM1_STS = 0x00;
export const ACPI_PM1_EN = 0x02;
export const ACPI_PM1_CNT_OFFSET = 0x04;
export const ACPI_PM_TMR_OFFSET = 0x08;
export const ACPI_GPE0_BLK = 0xafe0;
export const ACPI_GPE0_BLK_LEN = 4;

export const ACPI_PM_TIMER_FREQUENCY = 3579545;

export const ACPI_BITMASK_TIMER_STATUS = 0x0001;
export const ACPI_BITMASK_PWRBTN_STATUS = 0x0100;
export const ACPI_BITMASK_WAKE_STATUS = 0x8000;
export const ACPI_BITMASK_TIMER_ENABLE = 0x0001;
export const ACPI_BITMASK_PWRBTN_ENABLE = 0x0100;
export const ACPI_BITMASK_SCI_ENABLE = 0x0001;
export const ACPI_BITMASK_SLEEP_ENABLE = 0x2000;
export const ACPI_SLP_TYP_SHIFT = 10;
export const ACPI_SLP_TYP_MASK = 0x1c00;
/** The \_S5 sleep type our DSDT declares (QEMU's PIIX4 uses 0 for S5). */
export const ACPI_S5_SLP_TYP = 0;
/** SCI interrupt (FADT sci_int) */
export const ACPI_SCI_IRQ = 9;

export interface AcpiPmActions {
  /** S5 soft-off: the guest powered the machine down. */
  powerOff(): void;
  /** Any other sleep state: QEMU's piix4 treats S3 as suspend; we report it. */
  suspend?(slpTyp: number): void;
}

export class AcpiPm implements BusDevice {
  pm1Sts = 0;
  pm1En = 0;
  pm1Cnt = 0;

  constructor(private readonly clock: Clock, private readonly sci: IrqLine, private readonly actions: AcpiPmActions) {}

  /** The free-running 24-bit PM timer value at this instant. */
  pmTimer(): number {
    const ticks = Math.floor((this.clock.nowNs() * ACPI_PM_TIMER_FREQUENCY) / 1e9);
    return ticks % 0x1000000;
  }

  read(_base: number, offset: number, data: Uint8Array): void {
    let v = 0;
    let shift = 0;
    if (offset >= ACPI_PM_TMR_OFFSET && offset < ACPI_PM_TMR_OFFSET + 4) {
      v = this.pmTimer();
      shift = offset - ACPI_PM_TMR_OFFSET;
    } else if (offset >= ACPI_PM1_CNT_OFFSET && offset < ACPI_PM1_CNT_OFFSET + 2) {
      v = this.pm1Cnt;
      shift = offset - ACPI_PM1_CNT_OFFSET;
    } else if (offset < 4) {
      v = this.pm1Sts | (this.pm1En << 16);
      shift = offset;
    }
    u32ToData(v >>> (8 * shift), data);
  }

  write(_base: number, offset: number, data: Uint8Array): void {
    const v = dataToU32(data);
    if (offset === ACPI_PM1_STS) {
      // Status bits are write-1-to-clear; a 32-bit write also covers the enable register.
      this.pm1Sts &= ~(v & 0xffff);
      if (data.length === 4) this.pm1En = v >>> 16;
    } else if (offset === ACPI_PM1_EN) {
      this.pm1En = v & 0xffff;
    } else if (offset === ACPI_PM1_CNT_OFFSET) {
      this.writeCnt(v & 0xffff);
    }
    this.updateSci();
  }

  private writeCnt(v: number): void {
    // SLP_EN is write-only: it triggers the transition and never reads back.
    this.pm1Cnt = v & ~ACPI_BITMASK_SLEEP_ENABLE;
    if (v & ACPI_BITMASK_SLEEP_ENABLE) {
      const typ = (v & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT;
      if (typ === ACPI_S5_SLP_TYP) this.actions.powerOff();
      else this.actions.suspend?.(typ);
    }
  }

  /** Power button: sets PWRBTN_STS and raises SCI if enabled (monitor system_powerdown). */
  pressPowerButton(): void {
    this.pm1Sts |= ACPI_BITMASK_PWRBTN_STATUS;
    this.updateSci();
  }

  private updateSci(): void {
    const sciEnabled = (this.pm1Cnt & ACPI_BITMASK_SCI_ENABLE) !== 0;
    this.sci.set(sciEnabled && (this.pm1Sts & this.pm1En & (ACPI_BITMASK_PWRBTN_ENABLE | ACPI_BITMASK_TIMER_ENABLE)) ? 1 : 0);
  }
}
