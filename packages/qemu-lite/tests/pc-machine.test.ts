/** The assembled pc machine as a guest sees it through its ports, and ELF64 entry state. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KvmX86Vm } from '@kvmts/kvm-core';
import { buildPc } from './helpers/pc';

function elf64(code: Uint8Array, paddr: number): Uint8Array {
  const out = new Uint8Array(64 + 56 + code.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, 62, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(paddr), true);
  dv.setBigUint64(32, 64n, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 1, true);
  dv.setUint32(64, 1, true);
  dv.setBigUint64(64 + 8, 120n, true);
  dv.setBigUint64(64 + 16, BigInt(paddr), true);
  dv.setBigUint64(64 + 24, BigInt(paddr), true);
  dv.setBigUint64(64 + 32, BigInt(code.length), true);
  dv.setBigUint64(64 + 40, BigInt(code.length), true);
  out.set(code, 120);
  return out;
}

describe('pc machine ports', () => {
  it("the PIT drops ticks the guest did not acknowledge (kvm-pit.lost_tick_policy=discard) unless -global asks for delay", () => {
    const pit = (input: Parameters<typeof buildPc>[0]) => (buildPc(input).vm.archState as KvmX86Vm).pit!;
    expect(pit({}).reinject).toBe(false);
    expect(pit({ pitLostTickPolicy: 'discard' }).reinject).toBe(false);
    expect(pit({ pitLostTickPolicy: 'delay' }).reinject).toBe(true);
  });

  it('fw_cfg at 0x510/0x511: signature, RAM size, CPU count, etc/e820 in the directory', () => {
    const { inl, outl } = buildPc({ smp: 3 });
    const item = (key: number, n: number) => {
      outl(0x510, key, 2);
      return Array.from({ length: n }, () => inl(0x511, 1));
    };
    expect(String.fromCharCode(...item(0, 4))).toBe('QEMU');
    expect(item(0x03, 8)).toEqual([0, 0, 0, 2, 0, 0, 0, 0]); // 32 MiB
    expect(item(0x05, 2)).toEqual([3, 0]);
    const dir = item(0x19, 4 + 64);
    expect(dir.slice(0, 4)).toEqual([0, 0, 0, 1]);
    expect(String.fromCharCode(...dir.slice(12, 20))).toBe('etc/e820');
    const sel = (dir[8]! << 8) | dir[9]!;
    const e820 = item(sel, 20);
    expect(e820.slice(8, 12)).toEqual([0x00, 0xfc, 0x09, 0x00]); // first entry: 0x9fc00 bytes of RAM
  });

  it('CMOS through 0x70/0x71 carries the memory size; port 0x80 reads 0xff; 0x64 reads i8042 status', () => {
    const { inl, outl } = buildPc();
    outl(0x70, 0x34, 1);
    const lo = inl(0x71, 1);
    outl(0x70, 0x35, 1);
    expect(lo | (inl(0x71, 1) << 8)).toBe((16 * 1024 * 1024) / 65536);
    expect(inl(0x80, 1)).toBe(0xff);
    expect(inl(0x64, 1) & 0x04).toBe(0x04); // system flag after POST
  });

  it('only configured UARTs exist: COM1 answers, COM2 reads as open bus', () => {
    const { inl } = buildPc({ serial: [{ kind: 'callback', write: () => {} }] });
    expect(inl(0x3fd, 1)).toBe(0x60);
    expect(inl(0x2fd, 1)).toBe(0xff);
  });

  it('an ELF64 kernel enters long mode with identity-mapped page tables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-elf64-'));
    const k = join(dir, 'k64.elf');
    writeFileSync(k, elf64(Uint8Array.of(0xf4), 0x200000));
    const { m } = buildPc({ kernel: k, devices: [] });
    expect(m.kernel).toMatchObject({ protocol: 'elf64', mode: 'long', entry: 0x200000 });
    const s = m.vcpus[0]!.getSregs();
    expect(s.efer & 0x500n).toBe(0x500n); // LME | LMA
    expect(s.cr0 & 0x80000001n).toBe(0x80000001n);
    expect(s.cr4 & 0x20n).toBe(0x20n);
    expect(s.cs.l).toBe(1);
    expect(s.cs.db).toBe(0);
    const pml4 = Number(s.cr3);
    const pdpt = m.mem.readU32(pml4) & ~0xfff;
    const pd = m.mem.readU32(pdpt) & ~0xfff;
    expect(m.mem.readU32(pd + 8 * 1)).toBe(0x200000 | 0x83); // 2 MiB page for the entry
    // The prologue at the start RIP jumps to the entry.
    const rip = Number(m.vcpus[0]!.getRegs().rip);
    const code = [...m.mem.read(rip, 96)].join(',');
    expect(code).toContain([0xb9, 0x00, 0x00, 0x20, 0x00, 0xff, 0xe1].join(',')); // mov ecx, entry; jmp rcx
  });

  it('-device loader,mode=real enters real mode at CS:IP for the address', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-real-'));
    const f = join(dir, 'boot.bin');
    writeFileSync(f, Uint8Array.of(0xf4));
    const { m } = buildPc({ devices: [{ driver: 'loader', file: f, addr: 0x17c00, cpuNum: 0, mode: 'real' }] });
    const s = m.vcpus[0]!.getSregs();
    expect(s.cr0 & 1n).toBe(0n);
    // The vCPU starts in the real-mode prologue at F000:D000, which far-jumps to 1000:7C00.
    expect(s.cs).toMatchObject({ selector: 0xf000, base: 0xf0000n, limit: 0xffff });
    expect(m.vcpus[0]!.getRegs().rip).toBe(0xd000n);
    const code = [...m.mem.read(0xfd000, 80)];
    const far = code.indexOf(0xea);
    expect(code.slice(far, far + 5)).toEqual([0xea, 0x00, 0x7c, 0x00, 0x10]);
  });
});
