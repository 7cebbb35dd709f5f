/** Firmware tables in guest memory: ACPI (checksums, layout, \_S5 AML), MP table, IVT/BDA. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { amlPci0, amlPkgLength, amlS5, buildDsdt } from '../src/firmware/acpi';
import { bootPrologue, irq0Handler } from '../src/firmware/bios';
import { sum8 } from '../src/firmware/checksum';
import type { GuestMemory } from '../src/machine/guest-memory';
import { buildPc } from './helpers/pc';

function str(mem: GuestMemory, addr: number, n: number): string {
  return String.fromCharCode(...mem.read(addr, n));
}

/** Finds the RSDP the way Linux does: 16-byte steps over 0xE0000-0xFFFFF. */
function findRsdp(mem: GuestMemory): number {
  for (let a = 0xe0000; a < 0x100000; a += 16) if (str(mem, a, 8) === 'RSD PTR ' && sum8(mem.read(a, 20)) === 0) return a;
  return -1;
}

function table(mem: GuestMemory, addr: number) {
  const len = mem.readU32(addr + 4);
  return { sig: str(mem, addr, 4), len, bytes: mem.read(addr, len) };
}

describe('ACPI tables', () => {
  const { m } = buildPc({ smp: 2 });
  const mem = m.mem;
  const rsdp = findRsdp(mem);

  it('has an RSDP (rev 2) in the BIOS area with both checksums right', () => {
    expect(rsdp).toBeGreaterThanOrEqual(0xe0000);
    expect(mem.readU8(rsdp + 15)).toBe(2);
    expect(mem.readU32(rsdp + 20)).toBe(36);
    expect(sum8(mem.read(rsdp, 36))).toBe(0);
  });

  it('RSDT and XSDT list the FADT and MADT; every table sums to 0', () => {
    const rsdt = table(mem, mem.readU32(rsdp + 16));
    const xsdt = table(mem, mem.readU32(rsdp + 24));
    expect(rsdt.sig).toBe('RSDT');
    expect(xsdt.sig).toBe('XSDT');
    const entries = (rsdt.len - 36) / 4;
    const sigs = Array.from({ length: entries }, (_, i) => table(mem, mem.readU32(mem.readU32(rsdp + 16) + 36 + 4 * i)).sig);
    expect(sigs).toEqual(['FACP', 'APIC']);
    expect((xsdt.len - 36) / 8).toBe(entries);
    for (let i = 0; i < entries; i++) {
      const t = table(mem, mem.readU32(mem.readU32(rsdp + 16) + 36 + 4 * i));
      expect(sum8(t.bytes), t.sig).toBe(0);
    }
    expect(sum8(rsdt.bytes)).toBe(0);
    expect(sum8(xsdt.bytes)).toBe(0);
  });

  it('the FADT points at the PIIX4 PM registers, the FACS and the DSDT', () => {
    const fadt = mem.readU32(mem.readU32(rsdp + 16) + 36);
    expect(mem.readU32(fadt + 4)).toBe(244);
    expect(mem.readU16(fadt + 46)).toBe(9); // SCI_INT
    expect(mem.readU32(fadt + 56)).toBe(0x600); // PM1a_EVT_BLK
    expect(mem.readU32(fadt + 64)).toBe(0x604); // PM1a_CNT_BLK
    expect(mem.readU32(fadt + 76)).toBe(0x608); // PM_TMR_BLK
    expect([mem.readU8(fadt + 88), mem.readU8(fadt + 89), mem.readU8(fadt + 91)]).toEqual([4, 2, 4]);
    expect(str(mem, mem.readU32(fadt + 36), 4)).toBe('FACS');
    const dsdt = table(mem, mem.readU32(fadt + 40));
    expect(dsdt.sig).toBe('DSDT');
    expect(sum8(dsdt.bytes)).toBe(0);
    // The AML: Name(_S5_, Package(4){0,0,0,0}), then Scope(\_SB) { Device(PCI0) { ... _PRT } }
    expect([...dsdt.bytes.subarray(36, 48)]).toEqual([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x04, 0, 0, 0, 0]);
    expect(dsdt.bytes[48]).toBe(0x10); // ScopeOp
    expect(Buffer.from(dsdt.bytes).includes(Buffer.from('_PRT'))).toBe(true);
    expect(mem.readU32(fadt + 140)).toBe(mem.readU32(fadt + 40)); // X_DSDT
    // RESET_REG: system I/O 0xcf9, value 6
    expect(mem.readU8(fadt + 116)).toBe(1);
    expect(mem.readU32(fadt + 120)).toBe(0xcf9);
    expect(mem.readU8(fadt + 128)).toBe(6);
  });

  it('the MADT has a LAPIC per vCPU, the IOAPIC and the IRQ0->GSI2 and SCI overrides', () => {
    const madt = mem.readU32(mem.readU32(rsdp + 16) + 40);
    const len = mem.readU32(madt + 4);
    expect(mem.readU32(madt + 36)).toBe(0xfee00000);
    expect(mem.readU32(madt + 40)).toBe(1); // PCAT_COMPAT
    const entries: number[][] = [];
    for (let o = madt + 44; o < madt + len; o += mem.readU8(o + 1)) entries.push([...mem.read(o, mem.readU8(o + 1))]);
    expect(entries.filter((e) => e[0] === 0).map((e) => [e[2], e[3], e[4]])).toEqual([[0, 0, 1], [1, 1, 1]]);
    const io = entries.find((e) => e[0] === 1)!;
    expect(io[4]! | (io[5]! << 8) | (io[6]! << 16) | ((io[7]! << 24) >>> 0)).toBe(0xfec00000 | 0);
    const ovr = entries.filter((e) => e[0] === 2).map((e) => [e[3], e[4], e[8]]);
    // IRQ 10 and 11 (the PCI links, as SeaBIOS steers them) are level, active high like QEMU's.
    expect(ovr).toEqual([[0, 2, 0], [9, 9, 0x0d], [10, 10, 0x0d], [11, 11, 0x0d]]);
  });

  it('AML package lengths use the 1-, 2- and 3-byte encodings', () => {
    expect(amlPkgLength(5)).toEqual([6]);
    expect(amlPkgLength(100)).toEqual([0x40 | (102 & 0xf), 102 >> 4]);
    expect(amlS5().length).toBe(12);
  });
});

describe('MP table', () => {
  const { m } = buildPc({ smp: 2 });
  const mem = m.mem;
  it('has a floating pointer and a PCMP table with correct checksums and entries', () => {
    let mpf = -1;
    for (let a = 0xf0000; a < 0x100000; a += 16) if (str(mem, a, 4) === '_MP_') { mpf = a; break; }
    expect(mpf).toBeGreaterThan(0);
    expect(sum8(mem.read(mpf, 16))).toBe(0);
    const cfg = mem.readU32(mpf + 4);
    expect(str(mem, cfg, 4)).toBe('PCMP');
    const len = mem.readU16(cfg + 4);
    expect(sum8(mem.read(cfg, len))).toBe(0);
    const count = mem.readU16(cfg + 34);
    const types: number[] = [];
    let o = cfg + 44;
    for (let i = 0; i < count; i++) {
      const t = mem.readU8(o);
      types.push(t);
      o += t === 0 ? 20 : 8;
    }
    expect(o).toBe(cfg + len);
    expect(types.filter((t) => t === 0).length).toBe(2);
    expect(types.filter((t) => t === 3).length).toBe(15);
    // The BSP flag on CPU 0 only.
    expect(mem.readU8(cfg + 44 + 3)).toBe(3);
    expect(mem.readU8(cfg + 64 + 3)).toBe(1);
  });
});

describe('BIOS data area and IVT', () => {
  const { m } = buildPc({ serial: [{ kind: 'none' }, { kind: 'callback', write: () => {} }] });
  const mem = m.mem;
  it('points hardware IRQ vectors at handlers and the rest at an IRET', () => {
    const vec = (v: number) => (mem.readU16(v * 4 + 2) << 4) + mem.readU16(v * 4);
    expect(mem.readU8(vec(0x00))).toBe(0xcf);
    expect(mem.readU8(vec(0x10))).toBe(0xcf);
    expect([...mem.read(vec(0x08), irq0Handler().length)]).toEqual([...irq0Handler()]);
    expect(mem.readU8(vec(0x09))).toBe(0x50); // push ax: master EOI handler
    expect(vec(0x70)).not.toBe(vec(0x09));
  });

  it('fills the BDA: COM ports, EBDA segment, base memory, equipment', () => {
    expect(mem.readU16(0x400)).toBe(0x2f8); // the only serial port is COM2's (COM1 is none)
    expect(mem.readU16(0x40e)).toBe(0x9fc0);
    expect(mem.readU16(0x413)).toBe(639);
    expect((mem.readU16(0x410) >> 9) & 7).toBe(1);
    expect(mem.readU8(0x9fc00)).toBe(1); // EBDA size in KiB
  });
});

const haveObjdump = spawnSync('objdump', ['--version']).status === 0;

describe.skipIf(!haveObjdump)('16/32-bit firmware code (disassembled with binutils objdump)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-asm-'));
  const dis = (bytes: Uint8Array, mode: 'i8086' | 'i386') => {
    const f = join(dir, `${mode}.bin`);
    writeFileSync(f, bytes);
    return execFileSync('objdump', ['-D', '-b', 'binary', '-m', mode, '-M', 'intel', f], { encoding: 'utf8' })
      .split('\n').filter((l) => /^\s+[0-9a-f]+:\t/.test(l)).map((l) => l.split('\t')[2]!.replace(/\s+/g, ' ').trim());
  };

  it('the IRQ 0 handler increments the tick count at 0x46c, handles midnight and EOIs', () => {
    expect(dis(irq0Handler(), 'i8086')).toEqual([
      'push ax', 'push ds', 'xor ax,ax', 'mov ds,ax',
      'add WORD PTR ds:0x46c,0x1', 'adc WORD PTR ds:0x46e,0x0', 'cmp WORD PTR ds:0x46e,0x18', 'jb 0x30',
      'cmp WORD PTR ds:0x46c,0xb0', 'jb 0x30', 'mov WORD PTR ds:0x46c,0x0', 'mov WORD PTR ds:0x46e,0x0',
      'mov BYTE PTR ds:0x470,0x1', 'int 0x1c', 'mov al,0x20', 'out 0x20,al', 'pop ds', 'pop ax', 'iret',
    ]);
    // Both branches land on `int 0x1c`, at offset 0x30.
    expect([...irq0Handler().subarray(0x30, 0x32)]).toEqual([0xcd, 0x1c]);
  });

  it('the boot prologue programs PIC (0x08/0x70) and PIT (mode 2, 18.2 Hz) then jumps', () => {
    const d = dis(bootPrologue(0x100000, 0x2badb002, 0x9000), 'i386');
    expect(d.slice(0, 6)).toEqual(['mov al,0x11', 'out 0x20,al', 'mov al,0x11', 'out 0xa0,al', 'mov al,0x8', 'out 0x21,al']);
    expect(d).toContain('mov al,0x70');
    expect(d.slice(-10, -4)).toEqual(['mov al,0x34', 'out 0x43,al', 'mov al,0x0', 'out 0x40,al', 'mov al,0x0', 'out 0x40,al']);
    expect(d.slice(-4)).toEqual(['mov eax,0x2badb002', 'mov ebx,0x9000', 'mov ecx,0x100000', 'jmp ecx']);
  });

  it('the real-mode prologue uses operand-size prefixes and a far jump', () => {
    const d = dis(bootPrologue(0x17c00, 0, 0x1234, 'real'), 'i8086');
    expect(d.slice(-3)).toEqual(['mov eax,0x0', 'mov ebx,0x1234', 'jmp 0x1000:0x7c00']);
  });
});

describe('DSDT PCI routing (_PRT)', () => {
  const routes: { slot: number; pin: number; gsi: number }[] = [];
  for (let slot = 0; slot < 32; slot++) for (let pin = 1; pin <= 4; pin++) routes.push({ slot, pin, gsi: [10, 10, 11, 11][(slot - 1 + pin - 1) & 3]! });

  it('encodes Device(PCI0) with _HID PNP0A03 and one _PRT package per slot and pin', () => {
    const aml = amlPci0(routes);
    const b = Buffer.from(aml);
    expect(b.includes(Buffer.from([0x5b, 0x82]))).toBe(true); // DeviceOp
    expect(b.includes(Buffer.from([0x0c, 0x41, 0xd0, 0x0a, 0x03]))).toBe(true); // EISAID("PNP0A03")
    // Slot 2 INTA: Package(4) { 0x0002FFFF, Zero, Zero, 0x0A }
    expect(b.includes(Buffer.from([0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x0a]))).toBe(true);
  });

  it.skipIf(!existsSync('/usr/bin/iasl'))('disassembles with ACPICA iasl into the routes we meant (apt-get install acpica-tools)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsdt-'));
    writeFileSync(join(dir, 'dsdt.aml'), buildDsdt(routes, { memBase: 0xe0000000, memEnd: 0xfec00000 }));
    execFileSync('iasl', ['-d', join(dir, 'dsdt.aml')], { stdio: 'pipe' });
    const dsl = readFileSync(join(dir, 'dsdt.dsl'), 'utf8');
    expect(dsl).toContain('Device (PCI0)');
    expect(dsl).toContain('EisaId ("PNP0A03")');
    expect(dsl).toContain('Name (_PRT, Package (0x80)');
    expect(dsl.replace(/\s+/g, ' ')).toContain('Package (0x04) { 0x0002FFFF, Zero, Zero, 0x0A }');
    expect(dsl.replace(/\s+/g, ' ')).toContain('Package (0x04) { 0x0003FFFF, Zero, Zero, 0x0B }');
    // _CRS: the bus range, config ports, the I/O windows around them, VGA and the 32-bit hole.
    const crs = dsl.replace(/\s+/g, ' ').replace(/ \/\/ [A-Za-z ]+?(?= 0x| ,|\))/g, '');
    expect(crs).toContain('WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000, 0x0100');
    expect(crs).toContain('IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08');
    expect(crs).toContain('0x0D00, 0xFFFF, 0x0000, 0xF300');
    expect(crs).toContain('0xE0000000, 0xFEBFFFFF, 0x00000000, 0x1EC00000');
  });
});
