/** MC146818 RTC/CMOS (datasheet; QEMU mc146818rtc). */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock';
import {
  CmosRtc, REG_A_UIP, REG_B_DM, REG_B_PIE, REG_B_SET, REG_C_IRQF, REG_C_PF, RTC_CENTURY, RTC_DAY_OF_MONTH, RTC_HOURS,
  RTC_MINUTES, RTC_MONTH, RTC_REG_A, RTC_REG_B, RTC_REG_C, RTC_REG_D, RTC_SECONDS, RTC_YEAR, rtcPeriodNs,
} from '../src/devices/rtc';
import { RecordingIrq } from '../src/irq';

// 2026-11-23 20:34:56 UTC
const T0 = Date.UTC(2026, 10, 23, 20, 34, 56) / 1000;

function rtc(start = T0) {
  const clock = new ManualClock();
  const irq = new RecordingIrq();
  const r = new CmosRtc(irq, clock, start);
  const rd = (i: number) => { r.selectIndex(i); return r.readData(); };
  const wr = (i: number, v: number) => { r.selectIndex(i); r.writeData(v); };
  return { r, clock, irq, rd, wr };
}

describe('CMOS RTC', () => {
  it('reads the time in BCD by default (24-hour mode)', () => {
    const { rd } = rtc();
    expect([rd(RTC_SECONDS), rd(RTC_MINUTES), rd(RTC_HOURS)]).toEqual([0x56, 0x34, 0x20]);
    expect([rd(RTC_DAY_OF_MONTH), rd(RTC_MONTH), rd(RTC_YEAR), rd(RTC_CENTURY)]).toEqual([0x23, 0x11, 0x26, 0x20]);
    expect(rd(RTC_REG_D)).toBe(0x80); // valid RAM and time
  });

  it('reads binary when REG_B.DM is set, and 12-hour with the PM bit', () => {
    const { rd, wr } = rtc();
    wr(RTC_REG_B, REG_B_DM); // binary, 12-hour
    expect(rd(RTC_SECONDS)).toBe(56);
    expect(rd(RTC_HOURS)).toBe(0x80 | 8); // 20h = 8 PM
  });

  it('advances with the VM clock', () => {
    const { rd, clock } = rtc();
    clock.advance(5e9);
    expect(rd(RTC_SECONDS)).toBe(0x01);
    expect(rd(RTC_MINUTES)).toBe(0x35);
  });

  it('sets UIP only in the 244 us before an update', () => {
    const { rd, clock } = rtc();
    expect(rd(RTC_REG_A) & REG_A_UIP).toBe(0);
    clock.advance(1e9 - 100_000);
    expect(rd(RTC_REG_A) & REG_A_UIP).toBe(REG_A_UIP);
    clock.advance(200_000);
    expect(rd(RTC_REG_A) & REG_A_UIP).toBe(0);
  });

  it('SET freezes the registers; clearing it starts the clock from what the guest wrote', () => {
    const { rd, wr, clock } = rtc();
    wr(RTC_REG_B, 0x02 | REG_B_SET);
    wr(RTC_HOURS, 0x07);
    wr(RTC_MINUTES, 0x00);
    wr(RTC_SECONDS, 0x00);
    clock.advance(3e9);
    expect(rd(RTC_SECONDS)).toBe(0x00); // frozen while SET
    wr(RTC_REG_B, 0x02);
    clock.advance(2e9);
    expect([rd(RTC_HOURS), rd(RTC_MINUTES), rd(RTC_SECONDS)]).toEqual([0x07, 0x00, 0x02]);
  });

  it('periodic interrupt: PF at the RS rate, IRQ 8 when PIE, cleared by reading REG_C', () => {
    const { rd, wr, clock, irq, r } = rtc();
    expect(rtcPeriodNs(6)).toBeCloseTo(976562.5, 1); // 1024 Hz
    expect(rtcPeriodNs(3)).toBeCloseTo(122070.3125, 3); // 8192 Hz
    expect(rtcPeriodNs(15)).toBe(5e8); // 2 Hz
    wr(RTC_REG_A, 0x20 | 15);
    wr(RTC_REG_B, 0x02 | REG_B_PIE);
    clock.advance(4e8);
    r.poll();
    expect(irq.level).toBe(0);
    clock.advance(2e8);
    r.poll();
    expect(irq.level).toBe(1);
    const c = rd(RTC_REG_C);
    expect(c & (REG_C_IRQF | REG_C_PF)).toBe(REG_C_IRQF | REG_C_PF);
    expect(irq.level).toBe(0);
    expect(rd(RTC_REG_C) & REG_C_PF).toBe(0);
  });

  it('PF is set without PIE but raises no IRQ', () => {
    const { rd, wr, clock, irq, r } = rtc();
    wr(RTC_REG_A, 0x20 | 15);
    clock.advance(6e8);
    r.poll();
    expect(irq.levels).toEqual([]);
    expect(rd(RTC_REG_C)).toBe(REG_C_PF); // PF only (no second boundary yet), no IRQF
  });

  it('fills the NVRAM memory fields as QEMU does', () => {
    const { r, rd } = rtc();
    r.setMemoryFields(32 * 1024 * 1024, 0, 2);
    expect(rd(0x15) | (rd(0x16) << 8)).toBe(640);
    expect(rd(0x17) | (rd(0x18) << 8)).toBe(31 * 1024);
    expect(rd(0x30) | (rd(0x31) << 8)).toBe(31 * 1024);
    expect(rd(0x34) | (rd(0x35) << 8)).toBe((16 * 1024 * 1024) / 65536);
    expect(rd(0x5f)).toBe(1);
    r.setMemoryFields(0xc0000000, 0x40000000, 1);
    expect(rd(0x17) | (rd(0x18) << 8)).toBe(0xffff);
    expect(rd(0x5b) | (rd(0x5c) << 8) | (rd(0x5d) << 16)).toBe(0x40000000 / 65536);
  });

  it('the index port keeps bit 7 as NMI disable', () => {
    const { r } = rtc();
    r.write(0x70, 0, Uint8Array.of(0x80 | RTC_SECONDS));
    expect(r.nmiDisabled).toBe(true);
    const d = new Uint8Array(1);
    r.read(0x70, 1, d);
    expect(d[0]).toBe(0x56);
  });

  it('alarm: AF and IRQ 8 when the time matches (0xC0-0xFF bytes are "don\'t care")', () => {
    const { rd, wr, clock, irq, r } = rtc();
    wr(0x01, 0x00); // seconds alarm: :00
    wr(0x03, 0xff); // any minute
    wr(0x05, 0xff); // any hour
    wr(RTC_REG_B, 0x02 | 0x20); // AIE
    clock.advance(3e9); // 20:34:59
    r.poll();
    expect(irq.level).toBe(0);
    clock.advance(1e9); // 20:35:00
    r.poll();
    expect(irq.level).toBe(1);
    expect(rd(RTC_REG_C) & 0xa0).toBe(0xa0); // IRQF | AF
  });
});
