/**
 * The Linux loader's boot paths: the boot protocol's 64-bit entry (XLF_KERNEL_64) and
 * 32-bit entry, pref_address, the high initrd with ext_ramdisk_*, screen_info; PVH for a
 * vmlinux with the Xen PHYS32 note (hvm_start_info); linux-fast-boot (the payload
 * decompressed on the host). Synthetic images first, then the real Debian kernels when
 * they are on this machine (KVMTS_LINUX_AMD64 / KVMTS_LINUX_I386, default the kernels of `npm run guest:linux`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadKernel } from '../src/loaders/kernel';
import { bzImagePayload } from '../src/loaders/bzimage-payload';
import { parseElf } from '../src/loaders/elf';
import { GuestMemory } from '../src/machine/guest-memory';
import { MiB, pcE820, pcMemoryLayout } from '../src/machine/pc-layout';
import { BOOT_PML4_ADDR, GDT_SEL_CODE } from '../src/machine/boot-cpu-state';
import { Prog, bzImage, vmlinuxElf } from './helpers/guest';
import { buildPc } from './helpers/pc';

function memory(size: number) {
  return new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(size) }]);
}
function cstr(mem: GuestMemory, addr: number): string {
  let s = '';
  for (let a = addr; mem.readU8(a) !== 0; a++) s += String.fromCharCode(mem.readU8(a));
  return s;
}
function u64(mem: GuestMemory, a: number): number {
  return mem.readU32(a) + mem.readU32(a + 4) * 2 ** 32;
}
function xz(data: Uint8Array, args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('xz', ['-c', '-T1', ...args], { input: data, maxBuffer: 1 << 28 }));
}
/** A bzImage whose payload is `vmlinux` compressed as the kernel build does (xz_wrap.sh + size_append). */
function compressedBzImage(vmlinux: Uint8Array, opts: Parameters<typeof bzImage>[1] = {}, corrupt = false): Uint8Array {
  const z = xz(vmlinux, ['--check=crc32', '--x86', '--lzma2=,dict=32MiB']);
  const payload = new Uint8Array(z.length + 4);
  payload.set(z);
  new DataView(payload.buffer).setUint32(z.length, vmlinux.length, true);
  if (corrupt) payload[z.length >> 1] ^= 0x55;
  const head = new Uint8Array(0x200).fill(0x90); // the decompressor stub would be here
  const kernel = new Uint8Array(head.length + payload.length);
  kernel.set(head);
  kernel.set(payload, head.length);
  return bzImage(kernel, { ...opts, payload: { offset: head.length, length: payload.length } });
}

const layout = pcMemoryLayout(64 * MiB);
const e820 = pcE820(layout);
const base = { kernelPath: 'bzImage', belowFourGEnd: layout.belowFourGEnd, e820, rsdpAddr: 0xf0000 };

describe('Linux boot protocol entry', () => {
  it('64-bit kernels (XLF_KERNEL_64) enter startup_64 at the load address + 0x200, loaded at pref_address', () => {
    const mem = memory(64 * MiB);
    const img = bzImage(new Prog().hlt().build(), { xloadflags: 0x03, prefAddress: 0x1000000, initSize: 0x200000 });
    const rd = new Uint8Array(5000).fill(3);
    const k = loadKernel(mem, img, { ...base, append: 'console=ttyS0', modules: [{ cmdline: 'rd', data: rd }] });
    expect(k).toMatchObject({ protocol: 'linux', linuxPath: 'protocol-64', mode: 'long', entry: 0x1000200, esi: 0x10000, ebx: 0 });
    expect(mem.readU8(0x1000000)).toBe(0xf4);
    const bp = k.esi;
    expect(mem.readU32(bp + 0x214)).toBe(0x1000000); // code32_start: where the kernel is
    expect(mem.readU16(bp + 0x224)).toBe(0xfe00); // heap_end_ptr as QEMU sets it
    // XLF_CAN_BE_LOADED_ABOVE_4G: the initrd goes to the top of RAM below 4 GiB.
    const addr = mem.readU32(bp + 0x218);
    expect(addr).toBe(Math.floor((64 * MiB - 5000) / 4096) * 4096);
    expect(mem.readU32(bp + 0x0c0)).toBe(0); // ext_ramdisk_image
    expect(mem.readU32(bp + 0x21c)).toBe(5000);
  });

  it('32-bit kernels enter at code32_start in protected mode; initrd_addr_max bounds the initrd', () => {
    const mem = memory(64 * MiB);
    const img = bzImage(new Prog().hlt().build(), { initrdAddrMax: 0x1ffffff });
    const k = loadKernel(mem, img, { ...base, append: '', modules: [{ cmdline: 'rd', data: new Uint8Array(100) }], vgaText: true });
    expect(k).toMatchObject({ linuxPath: 'protocol-32', mode: 'protected', entry: 0x100000, esi: 0x10000 });
    expect(mem.readU32(k.esi + 0x218)).toBe(0x2000000 - 4096);
    // VGA: screen_info says 80x25 colour text (VIDEO_TYPE_VGAC).
    expect([mem.readU8(k.esi + 0x06), mem.readU8(k.esi + 0x07), mem.readU8(k.esi + 0x0e), mem.readU8(k.esi + 0x0f)]).toEqual([3, 80, 25, 0x22]);
  });

  it('the pc machine enters the 64-bit entry in long mode: identity page tables, a flat __BOOT_CS, RSI = boot_params', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-linux-'));
    const path = join(dir, 'bzImage');
    writeFileSync(path, bzImage(new Prog().hlt().build(), { xloadflags: 0x01, prefAddress: 0x1000000 }));
    const { m } = buildPc({ kernel: path, devices: [], memSize: 64 * MiB });
    const v = m.vcpus[0]!;
    const s = v.getSregs();
    const r = v.getRegs();
    expect(r.rsi).toBe(0x10000n);
    expect(s.efer & 0x500n).toBe(0x500n); // LME | LMA
    expect(s.cr0 & 0x80000001n).toBe(0x80000001n);
    expect(s.cs).toMatchObject({ selector: GDT_SEL_CODE, l: 1, present: 1 });
    expect(s.cr3).toBe(BigInt(BOOT_PML4_ADDR));
    // Identity map: PML4[0] -> PDPT, PDPT[0] -> PD, PD[8] maps 16 MiB with a 2 MiB page.
    const pdpt = m.mem.readU32(BOOT_PML4_ADDR) & ~0xfff;
    const pd = m.mem.readU32(pdpt) & ~0xfff;
    expect(m.mem.readU32(pd + 8 * 8) & ~0xfff).toBe(0x1000000 | 0);
    expect(m.mem.readU32(pd + 8 * 8) & 0x81).toBe(0x81);
    // The boot prologue jumps to startup_64 (mov ecx, entry; jmp rcx).
    const pro = m.mem.read(Number(r.rip), 0x100);
    const at = pro.findIndex((b, i) => b === 0xff && pro[i + 1] === 0xe1) - 5;
    expect(pro[at]).toBe(0xb9);
    expect(new DataView(pro.buffer).getUint32(at + 1, true)).toBe(0x1000200);
  });
});

describe('PVH (vmlinux with XEN_ELFNOTE_PHYS32_ENTRY)', () => {
  it('loads the segments, builds hvm_start_info (cmdline, initrd module, memmap, RSDP) and enters the note address with EBX', () => {
    const mem = memory(64 * MiB);
    const code = new Prog().hlt().build();
    const elf = vmlinuxElf(code, 0x1000000, { pvhEntry: 0x1000000, elf64: true, vaddr: -0x7f000000 });
    const k = loadKernel(mem, elf, { ...base, kernelPath: 'vmlinux', append: 'console=ttyS0 root=/dev/ram0', modules: [{ cmdline: 'a', data: Uint8Array.of(1, 2) }, { cmdline: 'b', data: Uint8Array.of(3) }] });
    expect(k).toMatchObject({ protocol: 'pvh', mode: 'protected', entry: 0x1000000, ebx: 0x10000, esi: 0 });
    const si = k.ebx;
    expect(mem.readU32(si)).toBe(0x336ec578);
    expect(mem.readU32(si + 4)).toBe(1);
    expect(cstr(mem, u64(mem, si + 0x18))).toBe('console=ttyS0 root=/dev/ram0');
    expect(u64(mem, si + 0x20)).toBe(0xf0000);
    expect(mem.readU32(si + 0x0c)).toBe(1);
    const mod = u64(mem, si + 0x10);
    const rd = u64(mem, mod);
    expect(u64(mem, mod + 8)).toBe(3);
    expect([...mem.read(rd, 3)]).toEqual([1, 2, 3]); // -initrd files concatenated, as for bzImages
    expect(rd % 4096).toBe(0);
    expect(mem.readU32(si + 0x30)).toBe(e820.length);
    const mm = u64(mem, si + 0x28);
    expect({ addr: u64(mem, mm + 24 * 3), size: u64(mem, mm + 24 * 3 + 8), type: mem.readU32(mm + 24 * 3 + 16) }).toEqual(e820[3]);
    expect(mem.readU8(0x1000000)).toBe(0xf4);
  });

  it('a 32-bit note descriptor works too; an ELF without the note stays a plain ELF', () => {
    const mem = memory(64 * MiB);
    const k = loadKernel(mem, vmlinuxElf(new Prog().hlt().build(), 0x200000, { pvhEntry: 0x200000 }), { ...base, kernelPath: 'v', append: '', modules: [] });
    expect(k.protocol).toBe('pvh');
    const p = loadKernel(memory(64 * MiB), vmlinuxElf(new Prog().hlt().build(), 0x200000), { ...base, kernelPath: 'v', append: '', modules: [] });
    expect(p.protocol).toBe('elf32');
  });
});

describe('linux-fast-boot: the payload decompressed on the host', () => {
  const code = new Prog().movEaxEbx().hlt().build();
  it('XZ payload with a PVH kernel inside: PVH entry; without the note: the vmlinux entry with boot_params', () => {
    const mem = memory(64 * MiB);
    const img = compressedBzImage(vmlinuxElf(code, 0x1000000, { pvhEntry: 0x1000000 }), { xloadflags: 0 });
    const k = loadKernel(mem, img, { ...base, append: 'quiet', modules: [], fastBoot: true });
    expect(k).toMatchObject({ protocol: 'linux', linuxPath: 'pvh', mode: 'protected', entry: 0x1000000, ebx: 0x10000 });
    expect([...mem.read(0x1000000, code.length)]).toEqual([...code]);
    expect(cstr(mem, u64(mem, k.ebx + 0x18))).toBe('quiet');

    const mem2 = memory(64 * MiB);
    const k2 = loadKernel(mem2, compressedBzImage(vmlinuxElf(code, 0x1000000)), { ...base, append: 'quiet', modules: [], fastBoot: true });
    expect(k2).toMatchObject({ linuxPath: 'vmlinux-32', mode: 'protected', entry: 0x1000000, esi: 0x10000, ebx: 0 });
    expect(mem2.readU8(0x10000 + 0x210)).toBe(0xb0);
    expect(cstr(mem2, mem2.readU32(0x10000 + 0x228))).toBe('quiet');
    const k3 = loadKernel(memory(64 * MiB), compressedBzImage(vmlinuxElf(code, 0x1000000, { elf64: true })), { ...base, append: '', modules: [], fastBoot: true });
    expect(k3).toMatchObject({ linuxPath: 'vmlinux-64', mode: 'long', entry: 0x1000000, esi: 0x10000 });
  });

  it('with a VGA (vgaText) a PVH kernel is entered at its ELF entry with boot_params: PVH would leave screen_info zero and vgacon off', () => {
    const mem = memory(64 * MiB);
    const img = compressedBzImage(vmlinuxElf(code, 0x1000000, { pvhEntry: 0x1000000, elf64: true }), { xloadflags: 0 });
    expect(loadKernel(memory(64 * MiB), img, { ...base, append: 'quiet', modules: [], fastBoot: true })).toMatchObject({ linuxPath: 'pvh' });
    const k = loadKernel(mem, img, { ...base, append: 'quiet', modules: [], fastBoot: true, vgaText: true });
    expect(k).toMatchObject({ protocol: 'linux', linuxPath: 'vmlinux-64', mode: 'long', entry: 0x1000000, esi: 0x10000, ebx: 0 });
    // screen_info: mode 3, 80 columns, 25 lines, VGA colour, 16-line font.
    expect([mem.readU8(0x10000 + 0x06), mem.readU8(0x10000 + 0x07), mem.readU8(0x10000 + 0x0e), mem.readU8(0x10000 + 0x0f), mem.readU16(0x10000 + 0x10)]).toEqual([3, 80, 25, 0x22, 16]);
    expect(cstr(mem, mem.readU32(0x10000 + 0x228))).toBe('quiet');
  });

  it('a gzip payload (the gzip trailer carries the size) decompresses through node:zlib; other formats are refused by name', () => {
    const vmlinux = vmlinuxElf(code, 0x1000000, { pvhEntry: 0x1000000 });
    const gz = new Uint8Array(gzipSync(vmlinux));
    const mem = memory(64 * MiB);
    const k = loadKernel(mem, bzImage(gz, { payload: { offset: 0, length: gz.length } }), { ...base, append: '', modules: [], fastBoot: true });
    expect(k.linuxPath).toBe('pvh');
    expect([...mem.read(0x1000000, code.length)]).toEqual([...code]);
    const zstd = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0);
    expect(() => loadKernel(memory(64 * MiB), bzImage(zstd, { payload: { offset: 0, length: zstd.length } }), { ...base, append: '', modules: [], fastBoot: true }))
      .toThrow(/linux-fast-boot cannot decompress a zstd kernel payload/);
  });

  it('without fast boot the same image takes the boot protocol; corrupt XZ is a LoaderError naming the image', () => {
    const img = compressedBzImage(vmlinuxElf(code, 0x1000000, { pvhEntry: 0x1000000 }));
    expect(loadKernel(memory(64 * MiB), img, { ...base, append: '', modules: [] }).linuxPath).toBe('protocol-32');
    const bad = compressedBzImage(vmlinuxElf(code, 0x1000000, { pvhEntry: 0x1000000 }), {}, true);
    expect(() => loadKernel(memory(64 * MiB), bad, { ...base, append: '', modules: [], fastBoot: true })).toThrow(/^bzImage: cannot decompress the kernel payload: (xz|LZMA2) data is corrupt/);
  });
});

// Default: the kernels `npm run guest:linux` fetched (.ci/run fetches them before the tests).
const assetKernel = (arch: string): string => fileURLToPath(new URL(`../../../tools/.cache/guest-linux/${arch}/vmlinuz`, import.meta.url));
const AMD64 = process.env.KVMTS_LINUX_AMD64 ?? assetKernel('amd64');
const I386 = process.env.KVMTS_LINUX_I386 ?? assetKernel('i386');

describe.skipIf(!existsSync(AMD64))('the Debian amd64 kernel', () => {
  // vitest runs a skipped describe's body too: read the kernel only when it is there.
  const img = existsSync(AMD64) ? new Uint8Array(readFileSync(AMD64)) : new Uint8Array(0);
  const big = pcMemoryLayout(256 * MiB);
  const p = { ...base, kernelPath: AMD64, belowFourGEnd: big.belowFourGEnd, e820: pcE820(big), append: 'console=ttyS0 earlyprintk=ttyS0' };

  it('boot protocol: 2.15, loaded at pref_address 16 MiB, startup_64 entry, boot_params as boot.rst says', () => {
    const mem = memory(256 * MiB);
    const rd = new Uint8Array(3 * MiB).fill(0x5a);
    const k = loadKernel(mem, img, { ...p, modules: [{ cmdline: 'initrd', data: rd }] });
    expect(k).toMatchObject({ protocol: 'linux', linuxPath: 'protocol-64', mode: 'long', entry: 0x1000200, esi: 0x10000 });
    const bp = 0x10000;
    expect(mem.readU16(bp + 0x206)).toBe(0x020f);
    expect(mem.readU32(bp + 0x202)).toBe(0x53726448);
    expect(mem.readU8(bp + 0x210)).toBe(0xb0);
    expect(mem.readU8(bp + 0x211) & 0x81).toBe(0x81);
    expect(mem.readU16(bp + 0x236) & 0x03).toBe(0x03); // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G (copied)
    expect(cstr(mem, mem.readU32(bp + 0x228))).toBe('console=ttyS0 earlyprintk=ttyS0');
    expect(mem.readU32(bp + 0x218)).toBe(256 * MiB - 3 * MiB);
    expect(mem.readU32(bp + 0x21c)).toBe(3 * MiB);
    expect(mem.readU32(bp + 0x070)).toBe(0xf0000);
    expect(mem.readU8(bp + 0x1e8)).toBe(e820.length);
    const setup = (img[0x1f1]! + 1) * 512;
    expect(Buffer.from(mem.read(0x1000000, 4096)).equals(Buffer.from(img.subarray(setup, setup + 4096)))).toBe(true);
  });

  it('fast boot: the XZ payload decodes to exactly what xz -d gives, loaded at its physical addresses, entered through PVH', () => {
    const mem = memory(256 * MiB);
    const k = loadKernel(mem, img, { ...p, modules: [], fastBoot: true });
    expect(k).toMatchObject({ linuxPath: 'pvh', mode: 'protected', ebx: 0x10000 });
    const payload = bzImagePayload(img, 'k');
    const ref = new Uint8Array(execFileSync('xz', ['-dc', '--single-stream'], { input: payload.subarray(0, payload.length - 4), maxBuffer: 1 << 28 }));
    const elf = parseElf(ref);
    for (const s of elf.segments) expect(Buffer.from(mem.read(s.paddr, s.filesz)).equals(Buffer.from(ref.subarray(s.offset, s.offset + s.filesz)))).toBe(true);
    expect(k.entry).toBeGreaterThan(0x1000000);
    expect(k.entry).toBeLessThan(0x1000000 + elf.segments[0]!.filesz);
  }, 120_000);

  it('fast boot with a VGA: PVH has no screen_info, so startup_64 gets boot_params saying 80x25 colour text (vgacon)', () => {
    const mem = memory(256 * MiB);
    const k = loadKernel(mem, img, { ...p, modules: [], fastBoot: true, vgaText: true });
    expect(k).toMatchObject({ linuxPath: 'vmlinux-64', mode: 'long', entry: 0x1000000, esi: 0x10000, ebx: 0 });
    const bp = 0x10000;
    expect(mem.readU32(bp + 0x202)).toBe(0x53726448);
    // screen_info: orig_video_mode 3, 80 columns, 25 lines, VGA colour (VIDEO_TYPE_VGAC), 16-line font.
    expect([mem.readU8(bp + 0x06), mem.readU8(bp + 0x07), mem.readU8(bp + 0x0e), mem.readU8(bp + 0x0f), mem.readU16(bp + 0x10)]).toEqual([3, 80, 25, 0x22, 16]);
    expect(cstr(mem, mem.readU32(bp + 0x228))).toBe('console=ttyS0 earlyprintk=ttyS0');
  }, 120_000);
});

describe.skipIf(!existsSync(I386))('the Debian i386 (686) kernel', () => {
  const img = existsSync(I386) ? new Uint8Array(readFileSync(I386)) : new Uint8Array(0);
  const big = pcMemoryLayout(256 * MiB);
  const p = { ...base, kernelPath: I386, belowFourGEnd: big.belowFourGEnd, e820: pcE820(big), append: 'console=ttyS0' };

  it('boot protocol: the 32-bit entry at the load address (pref_address), ESI = boot_params', () => {
    const mem = memory(256 * MiB);
    const k = loadKernel(mem, img, { ...p, modules: [{ cmdline: 'initrd', data: new Uint8Array(4096) }] });
    expect(k).toMatchObject({ protocol: 'linux', linuxPath: 'protocol-32', mode: 'protected', entry: 0x1000000, esi: 0x10000 });
    expect(mem.readU16(0x10000 + 0x236) & 1).toBe(0); // not XLF_KERNEL_64
    // initrd_addr_max bounds the initrd.
    expect(mem.readU32(0x10000 + 0x218) + 4096).toBeLessThanOrEqual(Math.min(mem.readU32(0x10000 + 0x22c) + 1, 256 * MiB));
  });

  it('fast boot: no PVH note in this build, so the decompressed vmlinux is entered at startup_32 with boot_params', () => {
    const mem = memory(256 * MiB);
    const k = loadKernel(mem, img, { ...p, modules: [], fastBoot: true });
    expect(k).toMatchObject({ linuxPath: 'vmlinux-32', mode: 'protected', entry: 0x1000000, esi: 0x10000 });
    const payload = bzImagePayload(img, 'k');
    const ref = new Uint8Array(execFileSync('xz', ['-dc', '--single-stream'], { input: payload.subarray(0, payload.length - 4), maxBuffer: 1 << 28 }));
    for (const s of parseElf(ref).segments) expect(Buffer.from(mem.read(s.paddr, s.filesz)).equals(Buffer.from(ref.subarray(s.offset, s.offset + s.filesz)))).toBe(true);
  }, 120_000);
});
