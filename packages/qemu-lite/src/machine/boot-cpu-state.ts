/**
 * The register state a boot protocol hands to the kernel, set through KVM_SET_SREGS and
 * KVM_SET_REGS: 32-bit protected mode with flat 4 GiB segments (Multiboot), long mode
 * with identity-mapped page tables (ELF64), or real mode (flat binaries loaded that way).
 * The GDT and page tables are written into guest memory so the guest can reload them.
 */
import type { KvmSegment, KvmSregs, Vcpu } from '@kvmts/kvm-core';
import type { GuestMemory } from './guest-memory';

export const BOOT_GDT_ADDR = 0xfcf00;
/**
 * Linux's boot protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18 (flat); in long mode
 * 0x10 is the 64-bit code segment. Multiboot only asks for flat segments, so one layout
 * serves both.
 */
export const GDT_SEL_CODE = 0x10;
export const GDT_SEL_DATA = 0x18;
export const GDT_SEL_TSS = 0x20;
const GDT_ENTRIES = 5;
/** The identity map for long mode: PML4, PDPT and four page directories (2 MiB pages, 4 GiB). */
export const BOOT_PML4_ADDR = 0x1000;
export const BOOT_PDPT_ADDR = 0x2000;
export const BOOT_PD_ADDR = 0x3000;

export const X86_CR0_PE = 1 << 0;
export const X86_CR0_ET = 1 << 4;
export const X86_CR0_PG = 0x80000000;
export const X86_CR4_PAE = 1 << 5;
export const EFER_LME = 1 << 8;
export const EFER_LMA = 1 << 10;
export const X86_EFLAGS_FIXED = 0x2;

export type BootCpuMode = 'real' | 'protected' | 'long';

/** GDT: null, null, flat code (32- or 64-bit), flat data, a 32-bit busy TSS at 0. */
function writeBootGdt(mem: GuestMemory, long: boolean): void {
  const d = [
    [0, 0],
    [0, 0],
    [0x0000ffff, long ? 0x00af9a00 : 0x00cf9a00],
    [0x0000ffff, 0x00cf9200],
    [0x00000067, 0x00008b00],
  ];
  d.forEach(([lo, hi], i) => {
    mem.writeU32(BOOT_GDT_ADDR + 8 * i, lo!);
    mem.writeU32(BOOT_GDT_ADDR + 8 * i + 4, hi!);
  });
}

function seg(selector: number, type: number, code64 = false, flat = true): KvmSegment {
  return {
    base: 0n, limit: flat ? 0xffffffff : 0xffff, selector, type, present: 1, dpl: 0,
    db: code64 || !flat ? 0 : 1, s: 1, l: code64 ? 1 : 0, g: flat ? 1 : 0, avl: 0, unusable: 0,
  };
}

/** Writes identity-mapped page tables for the first 4 GiB (2 MiB pages). */
export function writeIdentityPageTables(mem: GuestMemory): void {
  mem.fill(BOOT_PML4_ADDR, 0x1000 * 6, 0);
  mem.writeU32(BOOT_PML4_ADDR, BOOT_PDPT_ADDR | 0x3); // present, writable
  for (let i = 0; i < 4; i++) {
    mem.writeU32(BOOT_PDPT_ADDR + 8 * i, (BOOT_PD_ADDR + 0x1000 * i) | 0x3);
    for (let j = 0; j < 512; j++) {
      const phys = i * 0x40000000 + j * 0x200000;
      const e = BOOT_PD_ADDR + 0x1000 * i + 8 * j;
      mem.writeU32(e, (phys | 0x83) >>> 0); // present, writable, PS
      mem.writeU32(e + 4, 0);
    }
  }
}

export interface BootRegs {
  rip: number;
  rax?: number;
  rbx?: number;
  rsp?: number;
  /** Linux boot protocol: the boot_params (zero page) address. */
  rsi?: number;
}

/** Sets the vCPU to `mode` and the given registers; memory-side structures are written first. */
export function setBootCpuState(vcpu: Vcpu, mem: GuestMemory, mode: BootCpuMode, regs: BootRegs): void {
  const s: KvmSregs = vcpu.getSregs();
  let rip = regs.rip;
  if (mode === 'real') {
    if (rip >= 0x100000) throw new RangeError(`real-mode entry 0x${rip.toString(16)} is above 1 MiB`);
    const rs = (sel: number, type: number): KvmSegment => ({ ...seg(sel, type, false, false), base: BigInt(sel << 4) });
    // CS:IP with the segment at the entry's 64 KiB-aligned base; data segments at 0.
    const csSel = (rip >>> 4) & 0xf000;
    s.cs = rs(csSel, 0xb);
    rip -= csSel << 4;
    s.ds = rs(0, 0x3);
    s.es = rs(0, 0x3);
    s.fs = rs(0, 0x3);
    s.gs = rs(0, 0x3);
    s.ss = rs(0, 0x3);
    s.cr0 = BigInt(X86_CR0_ET);
    s.cr4 = 0n;
    s.efer = 0n;
  } else {
    writeBootGdt(mem, mode === 'long');
    s.gdt = { base: BigInt(BOOT_GDT_ADDR), limit: GDT_ENTRIES * 8 - 1 };
    s.idt = { base: 0n, limit: 0xffff };
    const data = seg(GDT_SEL_DATA, 0x3);
    s.ds = { ...data };
    s.es = { ...data };
    s.fs = { ...data };
    s.gs = { ...data };
    s.ss = { ...data };
    s.tr = { base: 0n, limit: 0x67, selector: GDT_SEL_TSS, type: 0xb, present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 0 };
    s.ldt = { base: 0n, limit: 0xffff, selector: 0, type: 0x2, present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 0, avl: 0, unusable: 1 };
    if (mode === 'protected') {
      s.cs = seg(GDT_SEL_CODE, 0xb);
      s.cr0 = BigInt(X86_CR0_PE | X86_CR0_ET);
      s.cr4 = 0n;
      s.efer = 0n;
    } else {
      writeIdentityPageTables(mem);
      s.cs = seg(GDT_SEL_CODE, 0xb, true);
      s.cr3 = BigInt(BOOT_PML4_ADDR);
      s.cr4 = BigInt(X86_CR4_PAE);
      s.cr0 = BigInt((X86_CR0_PE | X86_CR0_ET | X86_CR0_PG) >>> 0);
      s.efer = BigInt(EFER_LME | EFER_LMA);
    }
  }
  vcpu.setSregs(s);
  vcpu.setRegs({
    rax: BigInt(regs.rax ?? 0), rbx: BigInt(regs.rbx ?? 0), rcx: 0n, rdx: 0n, rsi: BigInt(regs.rsi ?? 0), rdi: 0n,
    rsp: BigInt(regs.rsp ?? 0), rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    rip: BigInt(rip), rflags: BigInt(X86_EFLAGS_FIXED), // IF clear: interrupts off
  });
}
