/**
 * Guest programs for the fake vendor (tests/helpers/fake-vendor.ts), written as the
 * machine code it executes, plus image builders (ELF32 multiboot, a.out kludge).
 */
export class Prog {
  readonly bytes: number[] = [];
  private e(...b: number[]): this {
    for (const x of b) this.bytes.push(x & 0xff);
    return this;
  }
  private imm32(v: number): number[] {
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  }
  movAl(v: number) { return this.e(0xb0, v); }
  movAx(v: number) { return this.e(0x66, 0xb8, v & 0xff, v >> 8); }
  movEax(v: number) { return this.e(0xb8, ...this.imm32(v)); }
  movEdx(v: number) { return this.e(0xba, ...this.imm32(v)); }
  outImm(port: number) { return this.e(0xe6, port); }
  inImm(port: number) { return this.e(0xe4, port); }
  outDxAl() { return this.e(0xee); }
  outDxAx() { return this.e(0x66, 0xef); }
  outDxEax() { return this.e(0xef); }
  inAlDx() { return this.e(0xec); }
  /** out dx, al for port/value (clobbers edx, al). */
  outb(port: number, v: number) { return this.movEdx(port).movAl(v).outDxAl(); }
  outw(port: number, v: number) { return this.movEdx(port).movAx(v).outDxAx(); }
  storeAl(addr: number) { return this.e(0xa2, ...this.imm32(addr)); }
  loadAl(addr: number) { return this.e(0xa0, ...this.imm32(addr)); }
  movEaxEbx() { return this.e(0x89, 0xd8); }
  movEaxEsi() { return this.e(0x89, 0xf0); }
  hlt() { return this.e(0xf4); }
  ud2() { return this.e(0x0f, 0x0b); }
  jmpSelf() { return this.e(0xeb, 0xfe); }
  raw(...b: number[]) { return this.e(...b); }
  build(): Uint8Array { return Uint8Array.from(this.bytes); }
}

/** An ELF32 executable (EM_386) with one PT_LOAD at `paddr` holding `code`, plus `bss` zero bytes. */
export function elf32(code: Uint8Array, paddr: number, opts: { entry?: number; vaddr?: number; bss?: number; multiboot?: boolean } = {}): Uint8Array {
  const hdr = 52;
  const ph = 32;
  const mbHdr = opts.multiboot ? 12 : 0;
  const offset = hdr + ph;
  const body = new Uint8Array(mbHdr + code.length);
  if (opts.multiboot) {
    const dv = new DataView(body.buffer);
    dv.setUint32(0, 0x1badb002, true);
    dv.setUint32(4, 0x3, true); // page align + memory info
    dv.setUint32(8, (-(0x1badb002 + 3)) >>> 0, true);
  }
  body.set(code, mbHdr);
  const out = new Uint8Array(offset + body.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 3, true); // EM_386
  dv.setUint32(20, 1, true);
  const vaddr = opts.vaddr ?? paddr;
  dv.setUint32(24, opts.entry ?? vaddr + mbHdr, true);
  dv.setUint32(28, hdr, true);
  dv.setUint16(40, hdr, true);
  dv.setUint16(42, ph, true);
  dv.setUint16(44, 1, true);
  dv.setUint32(hdr, 1, true); // PT_LOAD
  dv.setUint32(hdr + 4, offset, true);
  dv.setUint32(hdr + 8, vaddr, true);
  dv.setUint32(hdr + 12, paddr, true);
  dv.setUint32(hdr + 16, body.length, true);
  dv.setUint32(hdr + 20, body.length + (opts.bss ?? 0), true);
  dv.setUint32(hdr + 24, 5, true);
  out.set(body, offset);
  return out;
}

/** A multiboot image using the a.out kludge: header at file offset 0, loaded at loadAddr. */
export function aoutKludge(code: Uint8Array, loadAddr: number, bss = 0): Uint8Array {
  const hdrSize = 32;
  const out = new Uint8Array(hdrSize + code.length);
  const dv = new DataView(out.buffer);
  const flags = 0x00010002;
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  dv.setUint32(12, loadAddr, true); // header_addr
  dv.setUint32(16, loadAddr, true); // load_addr
  dv.setUint32(20, loadAddr + out.length, true); // load_end_addr
  dv.setUint32(24, loadAddr + out.length + bss, true); // bss_end_addr
  dv.setUint32(28, loadAddr + hdrSize, true); // entry_addr
  out.set(code, hdrSize);
  return out;
}

/** A bzImage-shaped image (boot.rst): one setup sector, the setup header, then `kernel`. */
export function bzImage(
  kernel: Uint8Array,
  opts: {
    version?: number; cmdlineSize?: number; initSize?: number; initrdAddrMax?: number; xloadflags?: number; prefAddress?: number;
    /** payload_offset/payload_length (relative to the protected-mode code). */
    payload?: { offset: number; length: number };
  } = {},
): Uint8Array {
  const setupSects = 1;
  const setup = new Uint8Array((setupSects + 1) * 512);
  const dv = new DataView(setup.buffer);
  setup[0x1f1] = setupSects;
  dv.setUint16(0x1fe, 0xaa55, true);
  setup[0x200] = 0xeb; // jmp over the header; its offset is the header's length past 0x202
  setup[0x201] = 0x66;
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, opts.version ?? 0x020f, true);
  setup[0x211] = 0x01; // LOADED_HIGH
  dv.setUint32(0x214, 0x100000, true);
  dv.setUint32(0x22c, opts.initrdAddrMax ?? 0x37ffffff, true);
  dv.setUint32(0x238, opts.cmdlineSize ?? 2047, true);
  dv.setUint32(0x260, opts.initSize ?? 0x10000, true);
  dv.setUint16(0x236, opts.xloadflags ?? 0, true);
  dv.setBigUint64(0x258, BigInt(opts.prefAddress ?? 0), true);
  if (opts.payload !== undefined) {
    dv.setUint32(0x248, opts.payload.offset, true);
    dv.setUint32(0x24c, opts.payload.length, true);
  }
  const out = new Uint8Array(setup.length + kernel.length);
  out.set(setup);
  out.set(kernel, setup.length);
  return out;
}

/**
 * A vmlinux-shaped ELF32 (EM_386 or, with `machine: 62`, an ELF64) with one PT_LOAD of
 * `code` at `paddr` and, when `pvhEntry` is given, a PT_NOTE holding Linux's
 * XEN_ELFNOTE_PHYS32_ENTRY ("Xen", type 18) with that address.
 */
export function vmlinuxElf(code: Uint8Array, paddr: number, opts: { pvhEntry?: number; elf64?: boolean; vaddr?: number } = {}): Uint8Array {
  const is64 = opts.elf64 === true;
  const ehdr = is64 ? 64 : 52;
  const phsz = is64 ? 56 : 32;
  const phnum = opts.pvhEntry !== undefined ? 2 : 1;
  const descsz = is64 ? 8 : 4;
  const note = new Uint8Array(12 + 4 + descsz);
  const ndv = new DataView(note.buffer);
  ndv.setUint32(0, 4, true);
  ndv.setUint32(4, descsz, true);
  ndv.setUint32(8, 18, true);
  note.set([0x58, 0x65, 0x6e, 0], 12); // "Xen"
  if (is64) ndv.setBigUint64(16, BigInt(opts.pvhEntry ?? 0), true);
  else ndv.setUint32(16, opts.pvhEntry ?? 0, true);
  const noteOff = ehdr + phsz * phnum;
  const codeOff = noteOff + (phnum === 2 ? note.length : 0);
  const out = new Uint8Array(codeOff + code.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, is64 ? 62 : 3, true);
  dv.setUint32(20, 1, true);
  const vaddr = opts.vaddr ?? paddr;
  if (is64) {
    dv.setBigUint64(24, BigInt(paddr), true); // e_entry: physical, as vmlinux's phys_startup_64
    dv.setBigUint64(32, BigInt(ehdr), true);
    dv.setUint16(52, ehdr, true);
    dv.setUint16(54, phsz, true);
    dv.setUint16(56, phnum, true);
  } else {
    dv.setUint32(24, vaddr, true);
    dv.setUint32(28, ehdr, true);
    dv.setUint16(40, ehdr, true);
    dv.setUint16(42, phsz, true);
    dv.setUint16(44, phnum, true);
  }
  const ph = (i: number, type: number, off: number, va: number, pa: number, size: number) => {
    const p = ehdr + phsz * i;
    dv.setUint32(p, type, true);
    if (is64) {
      dv.setBigUint64(p + 8, BigInt(off), true);
      dv.setBigUint64(p + 16, BigInt.asUintN(64, BigInt(va)), true);
      dv.setBigUint64(p + 24, BigInt(pa), true);
      dv.setBigUint64(p + 32, BigInt(size), true);
      dv.setBigUint64(p + 40, BigInt(size), true);
    } else {
      dv.setUint32(p + 4, off, true);
      dv.setUint32(p + 8, va >>> 0, true);
      dv.setUint32(p + 12, pa, true);
      dv.setUint32(p + 16, size, true);
      dv.setUint32(p + 20, size, true);
    }
  };
  ph(0, 1, codeOff, vaddr, paddr, code.length);
  if (phnum === 2) {
    ph(1, 4, noteOff, 0, 0, note.length);
    out.set(note, noteOff);
  }
  out.set(code, codeOff);
  return out;
}
