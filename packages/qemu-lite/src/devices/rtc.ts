/**
 * MC146818 CMOS RTC and NVRAM at ports 0x70 (index, bit 7 = NMI disable) and 0x71 (data),
 * as QEMU's mc146818rtc: time of day in BCD or binary, 12/24 h, update-in-progress,
 * alarm, periodic and update-ended interrupts on IRQ 8, and the NVRAM bytes a BIOS fills
 * (memory sizes, CPU count). Time comes from the VM clock plus the start-of-day base.
 */
import type { BusDevice } from '../bus';
import type { Clock } from '../clock';
import type { IrqLine } from '../irq';

export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const RTC_CENTURY = 0x32;

export const REG_A_UIP = 0x80;
export const REG_B_SET = 0x80;
export const REG_B_PIE = 0x40;
export const REG_B_AIE = 0x20;
export const REG_B_UIE = 0x10;
export const REG_B_SQWE = 0x08;
export const REG_B_DM = 0x04; // binary (not BCD)
export const REG_B_24H = 0x02;
export const REG_C_IRQF = 0x80;
export const REG_C_PF = 0x40;
export const REG_C_AF = 0x20;
export const REG_C_UF = 0x10;
export const REG_D_VRT = 0x80;

// NVRAM fields a PC BIOS fills (QEMU pc_cmos_init).
export const CMOS_BASE_MEM_LO = 0x15;
export const CMOS_BASE_MEM_HI = 0x16;
export const CMOS_EXT_MEM_LO = 0x17;
export const CMOS_EXT_MEM_HI = 0x18;
export const CMOS_EXT_MEM2_LO = 0x30;
export const CMOS_EXT_MEM2_HI = 0x31;
export const CMOS_MEM_ABOVE_16M_LO = 0x34;
export const CMOS_MEM_ABOVE_16M_HI = 0x35;
export const CMOS_MEM_ABOVE_4G = 0x5b; // 3 bytes, 64 KiB units
export const CMOS_NB_CPUS = 0x5f; // CPUs - 1

/** 32.768 kHz time base, normal divider (DV = 010) and 1024 Hz periodic rate (RS = 0110). */
export const DEFAULT_REG_A = 0x26;
export const DEFAULT_REG_B = REG_B_24H;
/** The time before an update during which UIP reads 1 (244 us). */
export const UIP_WINDOW_NS = 244_000;

const NS_PER_S = 1_000_000_000;

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}
function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}

/** The periodic interrupt period for rate select RS (0 = off), as the MC146818 table. */
export function rtcPeriodNs(rs: number): number {
  if (rs === 0) return 0;
  const r = rs <= 2 ? rs + 7 : rs;
  return NS_PER_S / (32768 >> (r - 1));
}

export class CmosRtc implements BusDevice {
  readonly cmos = new Uint8Array(128);
  private index = 0;
  nmiDisabled = false;
  /** Wall-clock seconds (Unix epoch) that VM clock 0 corresponds to, plus guest adjustments. */
  private baseSec: number;
  private lastPeriodic = 0;
  private lastUpdateSec: number;
  private irqLevel = 0;

  constructor(private readonly irq: IrqLine, private readonly clock: Clock, startTimeSec: number) {
    this.baseSec = startTimeSec;
    this.cmos[RTC_REG_A] = DEFAULT_REG_A;
    this.cmos[RTC_REG_B] = DEFAULT_REG_B;
    this.cmos[RTC_REG_D] = REG_D_VRT;
    this.lastUpdateSec = Math.floor(this.nowSec());
  }

  /** Fill the NVRAM memory-size fields and CPU count as QEMU's pc_cmos_init does. */
  setMemoryFields(belowFourGEnd: number, aboveFourG: number, cpus: number): void {
    const c = this.cmos;
    c[CMOS_BASE_MEM_LO] = 640 & 0xff;
    c[CMOS_BASE_MEM_HI] = 640 >> 8;
    let ext = Math.floor((belowFourGEnd - 1024 * 1024) / 1024);
    if (ext > 0xffff) ext = 0xffff;
    c[CMOS_EXT_MEM_LO] = c[CMOS_EXT_MEM2_LO] = ext & 0xff;
    c[CMOS_EXT_MEM_HI] = c[CMOS_EXT_MEM2_HI] = ext >> 8;
    let above16 = belowFourGEnd > 16 * 1024 * 1024 ? Math.floor((belowFourGEnd - 16 * 1024 * 1024) / 65536) : 0;
    if (above16 > 0xffff) above16 = 0xffff;
    c[CMOS_MEM_ABOVE_16M_LO] = above16 & 0xff;
    c[CMOS_MEM_ABOVE_16M_HI] = above16 >> 8;
    const above4g = Math.floor(aboveFourG / 65536);
    c[CMOS_MEM_ABOVE_4G] = above4g & 0xff;
    c[CMOS_MEM_ABOVE_4G + 1] = (above4g >> 8) & 0xff;
    c[CMOS_MEM_ABOVE_4G + 2] = (above4g >> 16) & 0xff;
    c[CMOS_NB_CPUS] = cpus - 1;
  }

  /**
   * After a system reset: the battery-backed NVRAM (0x0e-0x7f) of the previous boot, as
   * QEMU's RTC keeps cmos_data across a reset; the clock and REG_A-REG_D start afresh.
   */
  restoreNvram(saved: Uint8Array): void {
    for (let i = RTC_REG_D + 1; i < this.cmos.length; i++) if (i !== RTC_CENTURY) this.cmos[i] = saved[i]!;
  }

  read(_base: number, offset: number, data: Uint8Array): void {
    data.fill(0);
    data[0] = offset === 0 ? 0xff : this.readData(); // the index port reads as open bus
  }

  write(_base: number, offset: number, data: Uint8Array): void {
    if (offset === 0) {
      this.index = data[0]! & 0x7f;
      this.nmiDisabled = (data[0]! & 0x80) !== 0;
    } else {
      this.writeData(data[0]!);
    }
  }

  selectIndex(i: number): void {
    this.index = i & 0x7f;
  }

  readData(): number {
    this.poll();
    const i = this.index;
    const c = this.cmos;
    switch (i) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        if (!(c[RTC_REG_B]! & REG_B_SET)) this.latchTime();
        return c[i]!;
      case RTC_REG_A: {
        const uip = this.updateInProgress() ? REG_A_UIP : 0;
        return (c[RTC_REG_A]! & 0x7f) | uip;
      }
      case RTC_REG_C: {
        const v = c[RTC_REG_C]!;
        c[RTC_REG_C] = 0; // reading C acknowledges every flag and drops IRQ 8
        this.setIrq(0);
        return v;
      }
      default:
        return c[i]!;
    }
  }

  writeData(v: number): void {
    this.poll();
    const i = this.index;
    const c = this.cmos;
    switch (i) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        c[i] = v;
        // Outside SET mode the chip takes the new value at once.
        if (!(c[RTC_REG_B]! & REG_B_SET)) this.setTimeFromRegisters();
        break;
      case RTC_REG_A:
        c[RTC_REG_A] = (v & 0x7f) | (c[RTC_REG_A]! & REG_A_UIP);
        this.lastPeriodic = this.clock.nowNs();
        break;
      case RTC_REG_B: {
        const old = c[RTC_REG_B]!;
        if ((old & REG_B_SET) && !(v & REG_B_SET)) {
          c[RTC_REG_B] = v;
          this.setTimeFromRegisters();
        } else {
          if (!(old & REG_B_SET) && (v & REG_B_SET)) this.latchTime();
          // Switching BCD/binary or 12/24 h reformats the latched registers.
          if (!(v & REG_B_SET) && ((old ^ v) & (REG_B_DM | REG_B_24H))) {
            c[RTC_REG_B] = v;
            this.latchTime();
          }
          c[RTC_REG_B] = v & ~(v & REG_B_SET ? REG_B_UIE : 0);
        }
        this.lastPeriodic = this.clock.nowNs();
        this.updateIrqFromFlags();
        break;
      }
      case RTC_REG_C:
      case RTC_REG_D:
        break; // read-only
      default:
        c[i] = v;
    }
  }

  /** Nanoseconds until the next periodic/update event the RTC must raise (or Infinity). */
  nextDeadlineNs(): number {
    const b = this.cmos[RTC_REG_B]!;
    let next = Infinity;
    const period = rtcPeriodNs(this.cmos[RTC_REG_A]! & 0x0f);
    if ((b & REG_B_PIE) && period > 0) next = this.lastPeriodic + period;
    if (b & (REG_B_UIE | REG_B_AIE)) next = Math.min(next, (Math.floor(this.nowSec()) + 1 - this.baseSec) * NS_PER_S);
    return next;
  }

  /** Raise the interrupts whose time has come (called by register accesses and the loop). */
  poll(): void {
    const now = this.clock.nowNs();
    const c = this.cmos;
    const period = rtcPeriodNs(c[RTC_REG_A]! & 0x0f);
    if (period > 0 && now - this.lastPeriodic >= period) {
      this.lastPeriodic += Math.floor((now - this.lastPeriodic) / period) * period;
      c[RTC_REG_C] = c[RTC_REG_C]! | REG_C_PF;
    }
    const sec = Math.floor(this.nowSec());
    if (sec !== this.lastUpdateSec && !(c[RTC_REG_B]! & REG_B_SET)) {
      this.lastUpdateSec = sec;
      c[RTC_REG_C] = c[RTC_REG_C]! | REG_C_UF;
      if (this.alarmMatches(sec)) c[RTC_REG_C] = c[RTC_REG_C]! | REG_C_AF;
    }
    this.updateIrqFromFlags();
  }

  private updateIrqFromFlags(): void {
    const c = this.cmos;
    const b = c[RTC_REG_B]!;
    const flags = c[RTC_REG_C]! & (b & (REG_B_PIE | REG_B_AIE | REG_B_UIE));
    if (flags && !(c[RTC_REG_C]! & REG_C_IRQF)) {
      c[RTC_REG_C] = c[RTC_REG_C]! | REG_C_IRQF;
      this.setIrq(1);
    }
  }

  private setIrq(level: number): void {
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  private nowSec(): number {
    return this.baseSec + this.clock.nowNs() / NS_PER_S;
  }

  private updateInProgress(): boolean {
    const c = this.cmos;
    if (c[RTC_REG_B]! & REG_B_SET) return false;
    if ((c[RTC_REG_A]! & 0x70) !== 0x20) return false; // divider not running
    const frac = this.nowSec() % 1;
    return frac * NS_PER_S >= NS_PER_S - UIP_WINDOW_NS;
  }

  private enc(v: number): number {
    return this.cmos[RTC_REG_B]! & REG_B_DM ? v : toBcd(v);
  }

  private dec(v: number): number {
    return this.cmos[RTC_REG_B]! & REG_B_DM ? v : fromBcd(v);
  }

  private encHour(h: number): number {
    if (this.cmos[RTC_REG_B]! & REG_B_24H) return this.enc(h);
    const pm = h >= 12 ? 0x80 : 0;
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.enc(h12) | pm;
  }

  private decHour(v: number): number {
    if (this.cmos[RTC_REG_B]! & REG_B_24H) return this.dec(v);
    const h12 = this.dec(v & 0x7f) % 12;
    return v & 0x80 ? h12 + 12 : h12;
  }

  /** Copy the current time into the time registers. */
  private latchTime(): void {
    const d = new Date(Math.floor(this.nowSec()) * 1000);
    const c = this.cmos;
    c[RTC_SECONDS] = this.enc(d.getUTCSeconds());
    c[RTC_MINUTES] = this.enc(d.getUTCMinutes());
    c[RTC_HOURS] = this.encHour(d.getUTCHours());
    c[RTC_DAY_OF_WEEK] = this.enc(d.getUTCDay() + 1);
    c[RTC_DAY_OF_MONTH] = this.enc(d.getUTCDate());
    c[RTC_MONTH] = this.enc(d.getUTCMonth() + 1);
    c[RTC_YEAR] = this.enc(d.getUTCFullYear() % 100);
    c[RTC_CENTURY] = this.enc(Math.floor(d.getUTCFullYear() / 100));
  }

  /** The guest set the clock: move the base so that now reads as the registers say. */
  private setTimeFromRegisters(): void {
    const c = this.cmos;
    const year = this.dec(c[RTC_CENTURY]!) * 100 + this.dec(c[RTC_YEAR]!);
    const t = Date.UTC(year, this.dec(c[RTC_MONTH]!) - 1, this.dec(c[RTC_DAY_OF_MONTH]!),
      this.decHour(c[RTC_HOURS]!), this.dec(c[RTC_MINUTES]!), this.dec(c[RTC_SECONDS]!)) / 1000;
    if (!Number.isFinite(t)) return;
    this.baseSec = t - Math.floor(this.clock.nowNs() / NS_PER_S);
    this.lastUpdateSec = Math.floor(this.nowSec());
  }

  private alarmMatches(sec: number): boolean {
    const d = new Date(sec * 1000);
    const c = this.cmos;
    // 0xC0-0xFF in an alarm byte is "don't care".
    const match = (alarm: number, value: number, hour: boolean) =>
      (alarm & 0xc0) === 0xc0 || (hour ? this.decHour(alarm) : this.dec(alarm)) === value;
    return match(c[RTC_SECONDS_ALARM]!, d.getUTCSeconds(), false)
      && match(c[RTC_MINUTES_ALARM]!, d.getUTCMinutes(), false)
      && match(c[RTC_HOURS_ALARM]!, d.getUTCHours(), true);
  }
}
