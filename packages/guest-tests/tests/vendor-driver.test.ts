/**
 * The x86 vendor drivers and their silicon in action, through the public KVM API, on
 * kvm-intel and on kvm-amd: one test, two modules (describe.each over vendor-adapters).
 * VM-entry failures, bitmap-driven I/O and MSR exits, TDP violations leading to MMIO
 * exits, a read-only memslot, event injection with interrupt windows, hypercall
 * patching, CPUID, an upper-half RIP across exits, and CR4.VMXE refused to the guest.
 * What only one vendor has lives in vendor-vmx.test.ts and vendor-svm.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { uapi, type X86ExitInfo } from '@kvmts/kvm-core';
import { VENDOR_ADAPTERS, type VendorAdapter } from './vendor-adapters';
import { assemble, realModeMachine, runToHlt, type Machine } from './vendor-harness';

/** Real-mode prologue: stack, IVT entries for #GP (13) and vector 0x20, and a 4-byte console print. */
const PRO = `
  .code16
  start:
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    movw $gp_handler, 13*4
    movw $0, 13*4+2
    movw $irq_handler, 0x20*4
    movw $0, 0x20*4+2
    jmp main
  gp_handler:
    mov $'G', %al
    out %al, $0xe9
    hlt
  irq_handler:
    push %ax
    mov $'I', %al
    out %al, $0xe9
    pop %ax
    iret
  out4:
    push %cx
    mov $4, %cx
  1: out %al, $0xe9
    shr $8, %eax
    loop 1b
    pop %cx
    ret
  main:
`;

function machine(V: VendorAdapter, body: string, params: object = {}): Machine {
  return realModeMachine(V.module, params as never, assemble(PRO + body, 0x1000), 0x1000, 0xe0000);
}

function exitInfo(m: Machine): X86ExitInfo {
  return m.vcpu.archIoctl<X86ExitInfo>('getExitInfo');
}

describe.each(VENDOR_ADAPTERS)('%s: the silicon in action', (_name, V) => {
  it('CPUID answers from KVM_SET_CPUID2: the vendor string and KVM\'s paravirt signature', () => {
    const m = machine(V, `
      xor %eax, %eax
      cpuid
      mov %ebx, %eax
      call out4
      mov %edx, %eax
      call out4
      mov %ecx, %eax
      call out4
      mov $0x40000000, %eax
      cpuid
      mov %ebx, %eax
      call out4
      mov %ecx, %eax
      call out4
      mov %edx, %eax
      call out4
      hlt
    `);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe(`${V.vendor}KVMKVMKVM\0\0\0`);
  });

  it('I/O bitmap: port 0x80 does not exit, port 0x81 exits with the vendor exit information', () => {
    const m = machine(V, `
      mov $0x55, %al
      out %al, $0x80
      mov $1, %al
      out %al, $0x81
      hlt
    `);
    // A time slice may end first under a loaded host (KVM_EXIT_INTR): run again, as a VMM does.
    let run = m.vcpu.run();
    while (run.exitReason === uapi.KVM_EXIT_INTR) run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
    expect(run.io.port).toBe(0x81);
    const info = exitInfo(m);
    expect(info.reasonName).toBe(V.ioExit.reasonName);
    expect(info.info1).toBe(V.ioExit.info1);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.outs).toEqual([]);
  });

  it('RDTSC/RDTSCP run without an exit (TSC offsetting): the guest reads vcpu TSC = VM clock + offset, and TSC_AUX', () => {
    const body = `
      rdtsc
      mov %eax, 0x500
      mov %edx, 0x504
      rdtscp
      mov %eax, 0x508
      mov %edx, 0x50c
      mov %ecx, 0x510
      hlt
    `;
    const tscs = (m: Machine) => {
      const dv = new DataView(m.mem.buffer);
      return [dv.getBigUint64(0x500, true), dv.getBigUint64(0x508, true), BigInt(dv.getUint32(0x510, true))];
    };
    const setup = (khz?: number) => {
      // The virtual clock: 1 ns per instruction, so the expected values are exact.
      const m = realModeMachine(V.module, {} as never, assemble(PRO + body, 0x1000), 0x1000, 0xe0000, true);
      if (khz !== undefined) m.vcpu.archIoctl('setTscKhz', khz);
      m.vcpu.setMsrs([{ index: 0x10, data: 1_000_000_000n }, { index: 0xc0000103, data: 7n }]);
      return m;
    };
    const m = setup();
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    const [t1, t2, aux] = tscs(m);
    // 2 GHz (the host's rate): 2 TSC ticks per instruction retired before it (all but the
    // 7 from RDTSC on; HLT exits before it retires); RDTSCP is 3 instructions later.
    expect(t1! - 1_000_000_000n).toBe(2n * BigInt(m.vcpu.getStats().instructions_retired! - 7));
    expect(t2! - t1!).toBe(6n);
    expect(aux).toBe(7n);
    // After the guest ran, the TSC MSR (kvm_read_l1_tsc) agrees with what the guest read.
    expect(m.vcpu.getMsrs([0x10])[0]!.data).toBe(t1! + 2n * 7n);

    // A rate the host lacks (no TSC scaling): RDTSC and RDTSCP exit and KVM computes the same values at 1 GHz.
    const s = setup(1_000_000);
    expect(runToHlt(s)).toBe(uapi.KVM_EXIT_HLT);
    const [u1, u2, uaux] = tscs(s);
    // 1 tick per ns; the virtual clock counts what the silicon retired, not the RDTSC KVM emulated.
    expect(u2! - u1!).toBe(2n);
    expect(uaux).toBe(7n);
    // The same run as before (TDP violations on first touch, HLT) plus exactly those two exits.
    expect(s.vcpu.getStats().exits).toBe(m.vcpu.getStats().exits! + 2);
  });

  it('MSR bitmap: LSTAR passes through; an unknown MSR exits and KVM injects #GP', () => {
    const m = machine(V, `
      mov $0xc0000082, %ecx
      mov $0x11223344, %eax
      mov $0xffffffff, %edx
      wrmsr
      xor %eax, %eax
      xor %edx, %edx
      rdmsr
      call out4
      mov $0x12345, %ecx
      rdmsr
      mov $'X', %al
      out %al, $0xe9
      hlt
    `);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('\x44\x33\x22\x11G');
    expect(m.vcpu.getMsrs([0xc0000082])).toEqual([{ index: 0xc0000082, data: 0xffffffff11223344n }]);
  });

  it('TDP: the first MMIO access is a violation, the next one on that page hits the MMIO SPTE', () => {
    const m = machine(V, `
      mov $0xf000, %bx
      mov %bx, %ds
      movl $0xabcd, %ds:0x10
      movl %ds:0x20, %eax
      call out4
      hlt
    `);
    m.mmioRead = () => 0x64636261;
    let run = m.vcpu.run();
    while (run.exitReason === uapi.KVM_EXIT_INTR) run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_MMIO);
    expect(run.mmio.isWrite).toBe(1);
    expect(run.mmio.physAddr).toBe(0xf0010);
    expect(exitInfo(m).reasonName).toBe(V.mmioFirst);
    expect(exitInfo(m).info2).toBe(0xf0010n);
    run = m.vcpu.run();
    while (run.exitReason === uapi.KVM_EXIT_INTR) run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_MMIO);
    expect(run.mmio.isWrite).toBe(0);
    expect(exitInfo(m).reasonName).toBe(V.mmioAgain);
    run.mmio.data.set([0x61, 0x62, 0x63, 0x64]);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('abcd');
  });

  it('MOVS between MMIO and RAM pages the TDP tables do not map yet: the emulator maps them', () => {
    // Linux's vgacon handover copies between the VGA window (MMIO) and RAM this way; KVM's
    // emulator reaches RAM through the memslots, so neither page may end in an internal error.
    const m = machine(V, `
      cld
      mov $0xf000, %bx
      mov %bx, %ds
      mov $0x0900, %bx
      mov %bx, %es
      mov $0x30, %si
      xor %di, %di
      movsl
      mov $0x0b00, %bx
      mov %bx, %ds
      mov $0xf000, %bx
      mov %bx, %es
      xor %si, %si
      mov $0x40, %di
      movsl
      mov $0x0900, %bx
      mov %bx, %es
      mov %es:0, %eax
      call out4
      hlt
    `);
    m.mmioRead = (addr) => (addr === 0xf0030 ? 0x4f494d4d : 0);
    m.mem.set([0x52, 0x41, 0x4d, 0x21], 0xb000);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('MMIO');
    expect(m.mmio).toEqual([
      { addr: 0xf0030, len: 4, write: false, value: 0x4f494d4d },
      { addr: 0xf0040, len: 4, write: true, value: 0x214d4152 },
    ]);
  });

  it('a read-only memslot: reads hit RAM, writes exit as MMIO and leave the bytes alone', () => {
    const m = machine(V, `
      mov $0x10, %bx
      mov %bx, %ds
      mov %ds:0, %eax
      call out4
      movl $0x99999999, %ds:4
      hlt
    `);
    const rom = new Uint8Array(0x1000).fill(0);
    rom.set([0x52, 0x4f, 0x4d, 0x21]);
    m.vm.setUserMemoryRegion({ slot: 1, flags: uapi.KVM_MEM_READONLY, guestPhysAddr: 0xe0000, memorySize: 0x1000, userspaceAddr: rom });
    // DS = 0x10 -> 0x100: remap so DS:0 is the ROM at 0xe0000.
    m.mem.set(assemble(PRO + `
      mov $0xe000, %bx
      mov %bx, %ds
      mov %ds:0, %eax
      call out4
      movl $0x99999999, %ds:4
      hlt
    `, 0x1000), 0x1000);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('ROM!');
    expect(m.mmio).toEqual([{ addr: 0xe0004, len: 4, write: true, value: 0x99999999 }]);
    expect(Array.from(rom.subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it('event injection: KVM_INTERRUPT while IF=0 waits for the interrupt window (after the STI shadow)', () => {
    const m = machine(V, `
      cli
      mov $'A', %al
      out %al, $0xe9
      mov $'B', %al
      sti
      out %al, $0xe9
      mov $'C', %al
      out %al, $0xe9
      hlt
    `);
    m.vcpu.interrupt(0x20);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    // The instruction after STI still runs in the shadow; the interrupt comes right after it.
    expect(m.console).toBe('ABIC');
  });

  it(`hypercall patching: a guest using ${V.otherHypercall} still gets its answer`, () => {
    const m = machine(V, `
      mov $99, %eax
      ${V.otherHypercall}
      call out4
      mov $1, %eax
      ${V.otherHypercall}
      call out4
      hlt
    `);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    // KVM_HC 99 is unknown: -KVM_ENOSYS (truncated to 32 bits outside long mode); HC 1 returns 0.
    expect(m.console).toBe('\x18\xfc\xff\xff\0\0\0\0');
    const code = Array.from(m.mem.subarray(0x1000, 0x1200));
    let patched = 0;
    for (let i = 0; i + 2 < code.length; i++) {
      if (code[i] === V.ownHypercall[0] && code[i + 1] === V.ownHypercall[1] && code[i + 2] === V.ownHypercall[2]) patched++;
    }
    expect(patched).toBe(2);
  });

  it('dumpState shows the control structure with the last exit', () => {
    const m = machine(V, 'hlt');
    runToHlt(m);
    const dump = m.vcpu.archIoctl<string>('dumpState');
    expect(dump).toMatch(/last exit: HLT|last exit: 120|last exit: .*HLT/);
    expect(dump.split('\n').length).toBeGreaterThan(20);
  });

});

describe.each(VENDOR_ADAPTERS)('%s runs a guest end to end', (_name, V) => {
  it('real mode: OUT to 0xE9, IN, MMIO read/write, HLT', () => {
    const code = assemble(`
      .code16
      mov $'H', %al
      out %al, $0xe9
      mov $'i', %al
      out %al, $0xe9
      in $0x60, %al
      mov %al, %bl
      mov $0x1234, %ax
      mov %ax, %ds:0
      mov $0xf000, %cx
      mov %cx, %ds
      movl $0xabcd, %ds:0x100
      movl %ds:0x104, %eax
      mov %eax, %edx
      hlt
    `, 0x1000);
    const m = realModeMachine(V.module, {} as never, code, 0x1000, 0xe0000);
    m.inValue = () => 0x5a;
    m.mmioRead = (addr) => (addr === 0xf0104 ? 0x77665544 : 0);
    const r = runToHlt(m);
    expect(r).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('Hi');
    const regs = m.vcpu.getRegs();
    expect(regs.rbx & 0xffn).toBe(0x5an);
    expect(m.mem[0]).toBe(0x34);
    expect(m.mmio).toEqual([
      { addr: 0xf0100, len: 4, write: true, value: 0xabcd },
      { addr: 0xf0104, len: 4, write: false, value: 0x77665544 },
    ]);
    expect(regs.rdx).toBe(0x77665544n);
  });
});

const BASE = 0xffffffff80000000n;

describe.each(VENDOR_ADAPTERS)('%s: upper-half RIP across exits', (_name, V) => {
  it('CPUID and OUT exits at 0xffffffff80010000+ resume at the next instruction', () => {
    const code = assemble(`
      .code64
      xor %eax, %eax
      cpuid
      mov $'A', %al
      out %al, $0xe9
      lea here(%rip), %rbx
    here:
      hlt
    `, 0xffffffff80010000);
    const m = realModeMachine(V.module, {} as never, code, 0x10000, 0x200000);
    // PML4[0] and PML4[511] -> PDPTs; PDPT0[0] and PDPT511[510] -> one PD of 2 MiB pages at 0.
    const dv = new DataView(m.mem.buffer);
    const pte = (at: number, v: number) => { dv.setUint32(at, v, true); dv.setUint32(at + 4, 0, true); };
    pte(0x1000, 0x2003);
    pte(0x1000 + 511 * 8, 0x4003);
    pte(0x2000, 0x3003);
    pte(0x4000 + 510 * 8, 0x3003);
    pte(0x3000, 0x83);
    const s = m.vcpu.getSregs();
    const flat = { base: 0n, limit: 0xffffffff, present: 1, dpl: 0, s: 1, g: 1, avl: 0, unusable: 0 };
    s.cs = { ...flat, selector: 0x8, type: 0xb, l: 1, db: 0 };
    for (const k of ['ds', 'es', 'ss', 'fs', 'gs'] as const) s[k] = { ...flat, selector: 0x10, type: 0x3, l: 0, db: 1 };
    s.cr3 = 0x1000n;
    s.cr4 = 0x20n;
    s.efer = 0x500n;
    s.cr0 = 0x80000011n;
    m.vcpu.setSregs(s);
    const r = m.vcpu.getRegs();
    r.rip = BASE + 0x10000n;
    r.rsp = BASE + 0x8000n;
    m.vcpu.setRegs(r);
    expect(runToHlt(m, 100)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('A');
    const after = m.vcpu.getRegs();
    const here = after.rbx;
    expect(here > BASE + 0x10000n && here < BASE + 0x10020n).toBe(true);
    expect(after.rip).toBe(here + 1n);
  });
});

describe.each(VENDOR_ADAPTERS)('%s: CR4 as the vendor allows it', (_name, V) => {
  it('a guest may not set CR4.VMXE (nested=0 on Intel, no VMX at all on AMD): #GP', () => {
    const m = realModeMachine(V.module, {} as never, assemble(`
      .code16
      xor %ax, %ax
      mov %ax, %ss
      mov $0x7000, %sp
      movw $gp, 13*4
      movw $0, 13*4+2
      mov $0x2000, %eax
      mov %eax, %cr4
      hlt
    gp:
      mov $'G', %al
      out %al, $0xe9
      hlt
    `, 0x1000), 0x1000);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    expect(m.console).toBe('G');
  });
});
