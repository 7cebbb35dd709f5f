/** PIIX4 ACPI PM registers: S5 power-off, PM timer, SCI. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock';
import { AcpiPm } from '../src/devices/acpi-pm';
import { RecordingIrq } from '../src/irq';

function pm() {
  const clock = new ManualClock();
  const sci = new RecordingIrq();
  const ev: string[] = [];
  const p = new AcpiPm(clock, sci, { powerOff: () => ev.push('off'), suspend: (t) => ev.push(`S${t}`) });
  const w16 = (o: number, v: number) => p.write(0x600, o, Uint8Array.of(v & 0xff, v >> 8));
  const r32 = (o: number) => { const d = new Uint8Array(4); p.read(0x600, o, d); return new DataView(d.buffer).getUint32(0, true); };
  return { p, clock, sci, ev, w16, r32 };
}

describe('ACPI PM (PIIX4)', () => {
  it('SLP_EN with SLP_TYP 0 (our \\_S5) in PM1a_CNT powers off; SLP_EN does not read back', () => {
    const t = pm();
    t.w16(4, 0x0001);
    expect(t.ev).toEqual([]);
    t.w16(4, 0x2001);
    expect(t.ev).toEqual(['off']);
    expect(t.r32(4) & 0xffff).toBe(0x0001);
  });

  it('other sleep types are reported, not power-off', () => {
    const t = pm();
    t.w16(4, 0x2000 | (1 << 10));
    expect(t.ev).toEqual(['S1']);
  });

  it('the PM timer counts at 3.579545 MHz and wraps at 24 bits', () => {
    const t = pm();
    t.clock.advance(1e6); // 1 ms
    expect(t.r32(8)).toBe(3579);
    t.clock.advance(5e9);
    expect(t.r32(8)).toBe(Math.floor(((5e9 + 1e6) * 3579545) / 1e9) % 0x1000000);
  });

  it('power button: PWRBTN_STS raises SCI when enabled and SCI_EN is on; write-1-to-clear', () => {
    const t = pm();
    t.w16(4, 1); // SCI_EN
    t.w16(2, 0x100); // PWRBTN_EN
    t.p.pressPowerButton();
    expect(t.sci.level).toBe(1);
    expect(t.r32(0) & 0xffff).toBe(0x100);
    t.w16(0, 0x100);
    expect(t.sci.level).toBe(0);
    expect(t.r32(0) & 0xffff).toBe(0);
  });
});
