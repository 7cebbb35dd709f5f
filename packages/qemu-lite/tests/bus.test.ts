/** The vm-device Bus shape: range registration, overlap checks, (base, offset, data). */
import { describe, expect, it } from 'vitest';
import { Bus, BusError, type BusDevice } from '../src/bus';

function recorder() {
  const calls: [string, number, number, number[]][] = [];
  const dev: BusDevice = {
    read: (base, offset, data) => { calls.push(['r', base, offset, [...data]]); data.fill(0xab); },
    write: (base, offset, data) => { calls.push(['w', base, offset, [...data]]); },
  };
  return { dev, calls };
}

describe('Bus', () => {
  it('passes the device its base and the offset, never the absolute address', () => {
    const bus = new Bus('pio', 0x10000);
    const { dev, calls } = recorder();
    bus.register({ base: 0x3f8, size: 8 }, dev);
    const d = new Uint8Array(1);
    expect(bus.read(0x3fd, d)).toBe(true);
    expect(d[0]).toBe(0xab);
    bus.write(0x3f8, Uint8Array.of(0x41));
    expect(calls).toEqual([['r', 0x3f8, 5, [0]], ['w', 0x3f8, 0, [0x41]]]);
  });

  it('rejects overlaps, zero sizes and ranges past the end; nothing is half-registered', () => {
    const bus = new Bus('pio', 0x10000);
    bus.register({ base: 0x60, size: 1 }, recorder().dev);
    bus.register({ base: 0x64, size: 1 }, recorder().dev);
    expect(() => bus.register({ base: 0x5f, size: 2 }, recorder().dev)).toThrow(BusError);
    expect(() => bus.register({ base: 0x61, size: 4 }, recorder().dev)).toThrow(/overlaps/);
    expect(() => bus.register({ base: 0x70, size: 0 }, recorder().dev)).toThrow(/zero size/);
    expect(() => bus.register({ base: 0xffff, size: 2 }, recorder().dev)).toThrow(/does not fit/);
    expect(bus.ranges()).toEqual([{ base: 0x60, size: 1 }, { base: 0x64, size: 1 }]);
    bus.register({ base: 0x61, size: 3 }, recorder().dev); // exactly between: fine
  });

  it('a miss reads as all-ones and is counted, not thrown', () => {
    const bus = new Bus('mmio', 2 ** 52);
    const d = new Uint8Array(4);
    expect(bus.read(0xfee00000, d)).toBe(false);
    expect([...d]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(bus.write(0x1000, d)).toBe(false);
    expect(bus.misses).toBe(2);
  });

  it('deregisters by base', () => {
    const bus = new Bus('pio', 0x10000);
    bus.register({ base: 0x600, size: 0x40 }, recorder().dev);
    bus.deregister(0x600);
    expect(bus.resolve(0x604)).toBeUndefined();
    expect(() => bus.deregister(0x600)).toThrow(/no range/);
  });
});
