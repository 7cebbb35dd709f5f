/** (a) Every guest in the manifest builds, and the images are what a multiboot loader takes. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKvmError } from '@kvmts/kvm-core';
import { parseManifest } from '../src/manifest';
import { build, manifest } from './helpers';

const MULTIBOOT_MAGIC = 0x1badb002;

describe('guest build', () => {
  for (const entry of manifest) {
    it(`builds ${entry.name}`, { timeout: 120_000 }, () => {
      const r = build(entry);
      const elf = readFileSync(r.elf);
      // ELF32, little endian, EM_386: what QEMU's multiboot loader (and ours) accepts.
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(elf[4]).toBe(1);
      expect(elf[5]).toBe(1);
      expect(elf.readUInt16LE(18)).toBe(3);
      // The multiboot header: 4-byte aligned in the first 8 KiB, checksum sums to zero.
      let header = -1;
      for (let off = 0; off + 12 <= Math.min(elf.length, 8192); off += 4) {
        if (elf.readUInt32LE(off) === MULTIBOOT_MAGIC) {
          header = off;
          break;
        }
      }
      expect(header).toBeGreaterThanOrEqual(0);
      const sum = (elf.readUInt32LE(header) + elf.readUInt32LE(header + 4) + elf.readUInt32LE(header + 8)) >>> 0;
      expect(sum).toBe(0);
      // -fcf-protection: the 64-bit code starts its functions with ENDBR64 (f3 0f 1e fa).
      if (entry.mode === 64) expect(elf.includes(Buffer.from([0xf3, 0x0f, 0x1e, 0xfa]))).toBe(true);
      if (entry.differential) expect(r.host).toBeDefined();
    });
  }
});

describe('manifest validation', () => {
  const good = { name: 'x', sources: ['system/hello.c'], mode: 64, exitCode: 1 };

  it('fills defaults', () => {
    const [g] = parseManifest({ guests: [good] });
    expect(g).toMatchObject({ machine: 'pc', smp: 1, memory: 128, vendors: ['intel', 'amd'], differential: false });
  });

  it.each([
    [{ ...good, mode: 16 }, 'guests.0.mode'],
    [{ ...good, name: 'Bad Name' }, 'guests.0.name'],
    [{ ...good, smp: 0 }, 'guests.0.smp'],
    [{ ...good, vendors: ['via'] }, 'guests.0.vendors.0'],
    [{ ...good, bogus: 1 }, 'guests.0'],
  ])('rejects %j naming %s', (entry, field) => {
    let err: unknown;
    try {
      parseManifest({ guests: [entry] });
    } catch (e) {
      err = e;
    }
    expect(isKvmError(err, 'EINVAL')).toBe(true);
    expect((err as Error).message).toContain(field);
  });

  it('rejects duplicate names', () => {
    expect(() => parseManifest({ guests: [good, good] })).toThrow(/duplicate name x/);
  });
});
