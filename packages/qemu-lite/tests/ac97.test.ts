/** The AC'97 controller: mixer, bus-master registers, DMA paced by the VM clock, status and INTx. */
import { describe, expect, it } from 'vitest';
import { Bus } from '../src/bus';
import { ManualClock } from '../src/clock';
import { Ac97, type AudioSink } from '../src/devices/ac97/ac97';
import { NO_IRQ, RecordingIrq } from '../src/irq';
import { assignPciResources, pcPciWindows } from '../src/pci/pci-assign';
import { PciHost } from '../src/pci/pci-host';
import { pciSlotPirq, piix3IsaBridge } from '../src/pci/piix';
import { GuestMemory } from '../src/machine/guest-memory';

class Sink implements AudioSink {
  rate = 0;
  bytes: number[] = [];
  setRate(hz: number): void { this.rate = hz; }
  write(pcm: Uint8Array): void { this.bytes.push(...pcm); }
}

function setup() {
  const pio = new Bus('pio', 0x10000);
  const ram = new Uint8Array(1 << 20);
  const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: ram }]);
  const clock = new ManualClock();
  const mmio = new Bus('mmio', 2 ** 52);
  const irq = new RecordingIrq();
  const sink = new Sink();
  const ac = new Ac97({ mem, clock, sink });
  // As the pc machine: slot 3 INTA swizzles onto PIRQC, which PIIX3 steers to IRQ 11.
  const piix3 = piix3IsaBridge((n) => (n === 11 ? irq : NO_IRQ));
  const host = new PciHost();
  host.setSlotContext((device, _fn, pin) => ({ pio, mmio, warn: () => {}, intx: pin === 0 ? NO_IRQ : piix3.intxLine(device, pin) }));
  host.addFunction(1, 0, piix3);
  host.addFunction(3, 0, ac);
  assignPciResources(host, pcPciWindows(1 << 20), (slot, pin) => piix3.pirqIrq(pciSlotPirq(slot, pin)));
  const namBase = ac.regionAddress(0);
  const nabmBase = ac.regionAddress(1);
  const rd = (port: number, len: number) => {
    const d = new Uint8Array(len);
    pio.read(port, d);
    return Buffer.from(d).readUIntLE(0, len);
  };
  const wr = (port: number, len: number, v: number) => {
    const d = Buffer.alloc(len);
    d.writeUIntLE(v, 0, len);
    pio.write(port, d);
  };
  const nam = (reg: number, v?: number) => (v === undefined ? rd(namBase + reg, 2) : wr(namBase + reg, 2, v));
  const po = nabmBase + 0x10;
  return { pio, ram, mem, clock, irq, sink, ac, rd, wr, nam, po, namBase, nabmBase };
}

/** n buffers of `frames` stereo frames each at 0x10000 + k*0x1000, sample value = buffer index + 1. */
function queue(t: ReturnType<typeof setup>, n: number, frames: number, ioc = true): void {
  const dv = new DataView(t.ram.buffer);
  for (let k = 0; k < n; k++) {
    dv.setUint32(0x8000 + 8 * k, 0x10000 + k * 0x1000, true);
    dv.setUint32(0x8000 + 8 * k + 4, (ioc ? 0x80000000 : 0) | (frames * 2), true);
    for (let s = 0; s < frames * 2; s++) dv.setInt16(0x10000 + k * 0x1000 + 2 * s, k + 1, true);
  }
  t.wr(t.po + 0x00, 4, 0x8000);
  t.wr(t.po + 0x05, 1, n - 1);
}

describe('AC97 (8086:2415)', () => {
  it('PCI identity and the STAC9700 codec after reset: vendor id, 48 kHz, muted outputs', () => {
    const t = setup();
    expect(t.ac.readConfig(0, 4)).toBe(0x24158086);
    expect(t.ac.readConfig(0x08, 4) >>> 8).toBe(0x040100);
    expect(t.ac.readConfig(0x3c, 2)).toBe(0x010b);
    // Both I/O BARs assigned from the I/O window (largest first), decoding and bus mastering on.
    expect([t.namBase, t.nabmBase]).toEqual([0xc000, 0xc100]);
    expect(t.ac.readConfig(0x10, 4)).toBe(t.namBase | 1);
    expect(t.ac.readConfig(0x14, 4)).toBe(t.nabmBase | 1);
    expect(t.ac.readConfig(0x04, 2)).toBe(0x05);
    expect([t.nam(0x7c), t.nam(0x7e), t.nam(0x28), t.nam(0x2c), t.nam(0x02), t.nam(0x18), t.nam(0x26)]).toEqual([0x8384, 0x7600, 0x0809, 48000, 0x8000, 0x8808, 0x000f]);
    expect(t.sink.rate).toBe(48000);
    expect(t.rd(t.nabmBase + 0x30, 4) & 0x100).toBe(0x100); // primary codec ready
    t.nam(0x7c, 0);
    expect(t.nam(0x7c)).toBe(0x8384);
  });

  it('the front DAC rate is programmable only with VRA, and falls back to 48 kHz when VRA is cleared', () => {
    const t = setup();
    t.nam(0x2a, 0);
    t.nam(0x2c, 22050);
    expect(t.nam(0x2c)).toBe(48000);
    t.nam(0x2a, 1);
    t.nam(0x2c, 22050);
    expect([t.nam(0x2c), t.sink.rate]).toEqual([22050, 22050]);
    t.nam(0x2a, 0);
    expect([t.nam(0x2c), t.sink.rate]).toEqual([48000, 48000]);
  });

  it('plays the descriptors at the DAC rate on the VM clock, with IOC, LVBCI, DCH/CELV and the INTx level', () => {
    const t = setup();
    t.nam(0x02, 0);
    t.nam(0x18, 0x0808);
    queue(t, 3, 480); // 3 x 10 ms at 48 kHz
    t.wr(t.po + 0x0b, 1, 0x01 | 0x04 | 0x10); // RPBM, LVBIE, IOCE
    expect(t.rd(t.po + 0x06, 2) & 1).toBe(0);
    expect([t.rd(t.po + 0x04, 1), t.rd(t.po + 0x0a, 1), t.rd(t.po + 0x08, 2)]).toEqual([0, 1, 960]);
    t.clock.advance(5_000_000); // 5 ms: 240 frames
    t.ac.drain();
    expect(t.sink.bytes.length).toBe(240 * 4);
    expect(t.rd(t.po + 0x08, 2)).toBe(480);
    expect(t.irq.level).toBe(0);
    expect(t.ac.nextDeadlineNs()).toBe(10_000_000);
    t.clock.advance(5_000_000); // first buffer done: BCIS, interrupt
    expect(t.rd(t.po + 0x04, 1)).toBe(1); // reading drains up to now
    expect(t.rd(t.po + 0x06, 2) & 0x08).toBe(0x08);
    expect(t.irq.level).toBe(1);
    expect(t.rd(t.nabmBase + 0x30, 4) & 0x40).toBe(0x40); // POINT
    t.wr(t.po + 0x06, 2, 0x08); // write-clear BCIS: the line drops
    expect(t.irq.level).toBe(0);
    t.clock.advance(50_000_000); // far past the end
    t.ac.drain();
    expect(t.sink.bytes.length).toBe(3 * 480 * 4); // exactly the queued frames
    const sr = t.rd(t.po + 0x06, 2);
    expect(sr & 0x07).toBe(0x07); // DCH, CELV, LVBCI
    expect(t.irq.level).toBe(1);
    expect(t.rd(t.po + 0x04, 1)).toBe(2);
    expect(t.ac.nextDeadlineNs()).toBe(Infinity);
    // The samples came from each buffer in order.
    const s = Buffer.from(t.sink.bytes);
    expect([s.readInt16LE(0), s.readInt16LE(480 * 4), s.readInt16LE(2 * 480 * 4 + 4)]).toEqual([1, 2, 3]);
    // Writing LVI while halted and running resumes with the next descriptor.
    t.wr(t.po + 0x06, 2, 0x1c);
    queue(t, 5, 480);
    expect(t.rd(t.po + 0x06, 2) & 0x01).toBe(0);
    expect(t.rd(t.po + 0x04, 1)).toBe(3);
  });

  it('mute silences, CR reset (RR) halts and clears the engine registers, interrupts off without IOCE', () => {
    const t = setup();
    queue(t, 2, 100);
    t.wr(t.po + 0x0b, 1, 0x01); // running, no interrupt enables
    t.clock.advance(1_000_000_000);
    t.ac.drain();
    expect(t.sink.bytes.length).toBe(200 * 4);
    expect(t.sink.bytes.every((b) => b === 0)).toBe(true); // master muted after reset
    expect(t.rd(t.po + 0x06, 2) & 0x0c).toBe(0x0c); // status set ...
    expect(t.irq.levels).toEqual([]); // ... but no interrupt
    t.wr(t.po + 0x0b, 1, 0x02);
    expect([t.rd(t.po + 0x00, 4), t.rd(t.po + 0x04, 1), t.rd(t.po + 0x05, 1), t.rd(t.po + 0x06, 2)]).toEqual([0, 0, 0, 0x01]);
  });

  it('attenuation: master -6 dB halves the samples; CAS semaphore; dword register views', () => {
    const t = setup();
    t.nam(0x02, 0x0404);
    t.nam(0x18, 0x0808);
    queue(t, 1, 10);
    t.wr(t.po + 0x0b, 1, 0x01);
    t.clock.advance(1_000_000);
    t.ac.drain();
    expect(Buffer.from(t.sink.bytes).readInt16LE(0)).toBe(1); // 1 * 0.5 rounds to 1 (half away)
    expect(t.rd(t.nabmBase + 0x34, 1)).toBe(0);
    expect(t.rd(t.nabmBase + 0x34, 1)).toBe(1);
    t.nam(0x02);
    expect(t.rd(t.nabmBase + 0x34, 1)).toBe(0);
    expect(t.rd(t.po + 0x04, 4) >>> 16).toBe(t.rd(t.po + 0x06, 2));
  });

  it('BARs move with the guest and I/O decoding; DMA from outside RAM plays silence', () => {
    const t = setup();
    t.ac.writeConfig(0x10, 4, 0xd000);
    expect(t.rd(0xd000 + 0x7c, 2)).toBe(0x8384);
    expect(t.rd(t.namBase + 0x7c, 2)).toBe(0xffff);
    t.ac.writeConfig(0x04, 2, 0x04);
    expect(t.rd(0xd000 + 0x7c, 2)).toBe(0xffff);
    t.ac.writeConfig(0x04, 2, 0x05);
    const dv = new DataView(t.ram.buffer);
    dv.setUint32(0x8000, 0x7ff00000, true);
    dv.setUint32(0x8004, 8, true);
    t.wr(t.po, 4, 0x8000);
    t.nam(0x02, 0); t.nam(0x18, 0x0808);
    t.wr(t.po + 0x0b, 1, 0x01);
    t.clock.advance(1_000_000);
    t.ac.drain();
    expect(t.sink.bytes).toEqual(new Array(16).fill(0));
  });
});
