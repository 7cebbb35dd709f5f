/**
 * ELF (System V gABI) program-header loading at physical addresses, for ELF32 and ELF64
 * little-endian x86 images: each PT_LOAD copies p_filesz bytes to p_paddr and zeroes the
 * rest up to p_memsz (BSS). The entry point is translated from virtual to physical when
 * it lies in a segment whose p_vaddr differs from p_paddr.
 */
import type { GuestMemory } from '../machine/guest-memory';

export const ELFMAG = 0x464c457f; // "\x7fELF" read little-endian
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ET_EXEC = 2;
export const EM_386 = 3;
export const EM_X86_64 = 62;
export const PT_LOAD = 1;

export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}

export interface ElfSegment {
  paddr: number;
  vaddr: number;
  offset: number;
  filesz: number;
  memsz: number;
}

export interface ElfImage {
  elfClass: 32 | 64;
  machine: number;
  entry: number;
  segments: ElfSegment[];
}

export function isElf(image: Uint8Array): boolean {
  return image.length >= 4 && new DataView(image.buffer, image.byteOffset, image.byteLength).getUint32(0, true) === ELFMAG;
}

/** Parses the ELF header and PT_LOAD program headers; LoaderError on anything malformed. */
export function parseElf(image: Uint8Array, name = 'kernel'): ElfImage {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (!isElf(image)) throw new LoaderError(`${name}: not an ELF file`);
  const cls = image[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw new LoaderError(`${name}: unknown ELF class ${cls}`);
  if (image[5] !== ELFDATA2LSB) throw new LoaderError(`${name}: not a little-endian ELF`);
  const is64 = cls === ELFCLASS64;
  const need = is64 ? 64 : 52;
  if (image.length < need) throw new LoaderError(`${name}: truncated ELF header`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_386 && machine !== EM_X86_64) throw new LoaderError(`${name}: ELF machine ${machine} is not x86`);
  const u = (off: number) => (is64 ? Number(dv.getBigUint64(off, true)) : dv.getUint32(off, true));
  const entry = u(24);
  const phoff = is64 ? Number(dv.getBigUint64(32, true)) : dv.getUint32(28, true);
  const phentsize = dv.getUint16(is64 ? 54 : 42, true);
  const phnum = dv.getUint16(is64 ? 56 : 44, true);
  if (phnum === 0) throw new LoaderError(`${name}: ELF has no program headers`);
  if (phoff + phnum * phentsize > image.length) throw new LoaderError(`${name}: program headers run past the end of the file`);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== PT_LOAD) continue;
    const seg = is64
      ? {
          offset: Number(dv.getBigUint64(p + 8, true)), vaddr: Number(dv.getBigUint64(p + 16, true)),
          paddr: Number(dv.getBigUint64(p + 24, true)), filesz: Number(dv.getBigUint64(p + 32, true)),
          memsz: Number(dv.getBigUint64(p + 40, true)),
        }
      : {
          offset: dv.getUint32(p + 4, true), vaddr: dv.getUint32(p + 8, true), paddr: dv.getUint32(p + 12, true),
          filesz: dv.getUint32(p + 16, true), memsz: dv.getUint32(p + 20, true),
        };
    if (seg.offset + seg.filesz > image.length) throw new LoaderError(`${name}: segment ${i} runs past the end of the file`);
    if (seg.filesz > seg.memsz) throw new LoaderError(`${name}: segment ${i} has p_filesz > p_memsz`);
    segments.push(seg);
  }
  if (segments.length === 0) throw new LoaderError(`${name}: ELF has no PT_LOAD segment`);
  return { elfClass: is64 ? 64 : 32, machine, entry, segments };
}

/** Loads the segments; returns the physical entry point and the highest address used. */
export function loadElf(mem: GuestMemory, image: Uint8Array, elf: ElfImage, name = 'kernel'): { entry: number; low: number; high: number } {
  let low = Infinity;
  let high = 0;
  for (const s of elf.segments) {
    if (s.memsz === 0) continue;
    if (mem.findRegion(s.paddr, s.memsz) === undefined)
      throw new LoaderError(`${name}: segment at 0x${s.paddr.toString(16)} (+0x${s.memsz.toString(16)}) is outside guest RAM`);
    mem.write(s.paddr, image.subarray(s.offset, s.offset + s.filesz));
    mem.fill(s.paddr + s.filesz, s.memsz - s.filesz, 0);
    low = Math.min(low, s.paddr);
    high = Math.max(high, s.paddr + s.memsz);
  }
  let entry = elf.entry;
  const inPhys = elf.segments.some((s) => entry >= s.paddr && entry < s.paddr + s.memsz);
  if (!inPhys) {
    const seg = elf.segments.find((s) => entry >= s.vaddr && entry < s.vaddr + s.memsz);
    if (seg !== undefined) entry = seg.paddr + (entry - seg.vaddr);
  }
  return { entry, low, high };
}
