/** i8042 controller and PS/2 keyboard (QEMU pckbd/ps2). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODE, I8042, KBD_STAT_OBF } from '../src/devices/i8042';
import { RecordingIrq } from '../src/irq';

function kbc() {
  const kbd = new RecordingIrq();
  const aux = new RecordingIrq();
  let resets = 0;
  const a20: boolean[] = [];
  const c = new I8042(kbd, aux, { reset: () => resets++, setA20: (on) => a20.push(on) });
  const status = () => { const d = new Uint8Array(1); c.read(0x64, 4, d); return d[0]!; };
  const data = () => { const d = new Uint8Array(1); c.read(0x60, 0, d); return d[0]!; };
  const cmd = (v: number) => c.write(0x64, 4, Uint8Array.of(v));
  const put = (v: number) => c.write(0x60, 0, Uint8Array.of(v));
  return { c, kbd, aux, status, data, cmd, put, resets: () => resets, a20 };
}

/** How many times a recorded line went from 0 to 1 (the edges an edge-triggered IOAPIC pin sees). */
function risingEdges(levels: readonly number[]): number {
  let n = 0;
  let prev = 0;
  for (const l of levels) {
    if (l === 1 && prev === 0) n++;
    prev = l;
  }
  return n;
}

describe('i8042', () => {
  it('pulsing the reset line (0xfe to port 0x64) resets the machine', () => {
    const k = kbc();
    k.cmd(0xfe);
    expect(k.resets()).toBe(1);
    k.cmd(0xff); // pulse nothing
    expect(k.resets()).toBe(1);
  });

  it('self test answers 0x55, interface test 0x00', () => {
    const k = kbc();
    k.cmd(0xaa);
    expect(k.status() & KBD_STAT_OBF).toBe(KBD_STAT_OBF);
    expect(k.data()).toBe(0x55);
    expect(k.status() & KBD_STAT_OBF).toBe(0);
    k.cmd(0xab);
    expect(k.data()).toBe(0x00);
  });

  it('reads and writes the command byte', () => {
    const k = kbc();
    k.cmd(0x20);
    expect(k.data()).toBe(DEFAULT_MODE);
    k.cmd(0x60);
    k.put(0x45);
    k.cmd(0x20);
    expect(k.data()).toBe(0x45);
  });

  it('keyboard reset answers ACK then BAT OK, with IRQ 1', () => {
    const k = kbc();
    k.put(0xff);
    expect(k.kbd.level).toBe(1);
    expect(k.data()).toBe(0xfa);
    expect(k.data()).toBe(0xaa);
    expect(k.kbd.level).toBe(0);
  });

  it('set LEDs takes an argument and ACKs both bytes; echo answers 0xee', () => {
    const k = kbc();
    k.put(0xed);
    expect(k.data()).toBe(0xfa);
    k.put(0x07);
    expect(k.data()).toBe(0xfa);
    k.put(0xee);
    expect(k.data()).toBe(0xee);
  });

  it('the output port carries A20 and the reset line', () => {
    const k = kbc();
    k.cmd(0xd1);
    k.put(0x01); // A20 off, reset line high
    expect(k.a20).toEqual([false]);
    expect(k.resets()).toBe(0);
    k.cmd(0xd1);
    k.put(0x02); // reset line low: reset
    expect(k.resets()).toBe(1);
  });

  it('mouse commands through 0xd4 answer on the aux channel (IRQ 12 when enabled)', () => {
    const k = kbc();
    k.cmd(0x60);
    k.put(0x03); // both interrupts enabled
    k.cmd(0xd4);
    k.put(0xf4);
    expect(k.status() & 0x21).toBe(0x21);
    expect(k.aux.level).toBe(1);
    expect(k.data()).toBe(0xfa);
  });

  it('every byte of a reply raises its own edge on IRQ 1 (GET ID: ACK, 0xAB, 0x41), and an empty buffer reads its last byte again', () => {
    // The IOAPIC takes IRQ 1 edge-triggered and Linux reads one byte per interrupt: a
    // line held high from byte to byte left 0xAB 0x41 unannounced, atkbd's probe failed,
    // and serio retried it forever (a reboot then waited on that work for minutes).
    const k = kbc();
    k.put(0xf2);
    const rises = () => risingEdges(k.kbd.levels);
    expect(rises()).toBe(1);
    expect(k.data()).toBe(0xfa);
    expect(rises()).toBe(2);
    expect(k.data()).toBe(0xab);
    expect(rises()).toBe(3);
    expect(k.data()).toBe(0x41);
    expect(rises()).toBe(3);
    expect(k.kbd.level).toBe(0);
    expect(k.status() & KBD_STAT_OBF).toBe(0);
    expect(k.data()).toBe(0x41);
  });

  it('mouse reset answers ACK, BAT OK and device id 0, each byte its own edge on IRQ 12', () => {
    const k = kbc();
    k.cmd(0x60);
    k.put(0x47); // KCC, SYS, both interrupts
    k.cmd(0xd4);
    k.put(0xff);
    expect(risingEdges(k.aux.levels)).toBe(1);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(k.data());
    expect(got).toEqual([0xfa, 0xaa, 0x00]);
    expect(risingEdges(k.aux.levels)).toBe(3);
    expect(k.aux.level).toBe(0);
  });
});
