/**
 * The vendor-facing guest-mode interface: intercepted instructions exit BEFORE they run
 * with their length and details; not intercepted, the engine executes them. Also the
 * exception bitmap, the TDP hook, read-only and dirty-logging memslots.
 */
import { describe, expect, it } from 'vitest';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../../src/uapi/kvm';
import {
  CR_ACCESS_MOV_FROM_CR, CR_ACCESS_MOV_TO_CR, ENGINE_EXIT_CPUID, ENGINE_EXIT_CR_ACCESS, ENGINE_EXIT_EXCEPTION, ENGINE_EXIT_HLT,
  ENGINE_EXIT_INVLPG, ENGINE_EXIT_MMIO, ENGINE_EXIT_RDMSR, ENGINE_EXIT_TDP_FAULT, ENGINE_EXIT_VMCALL,
  ENGINE_EXIT_VMMCALL, ENGINE_EXIT_WRMSR, ENGINE_EXIT_XSETBV, ENGINE_EXIT_NAMES,
} from '../../src/x86/engine/guest-mode';
import { assemble, createMachine, enterLongMode, type Machine } from './harness';

function machine(src: string, intercept: (reason: number) => boolean): Machine {
  const m = createMachine(assemble(`.code64\n${src}`, 0x8000), 0x8000);
  enterLongMode(m);
  m.cpu.rip = 0x8000;
  m.cpu.regs[8] = 0x90000;
  m.interceptOverride = (_c, e) => intercept(e.reason);
  return m;
}

describe('engine: guest-mode controller', () => {
  it('intercepted CPUID, RDMSR, WRMSR, MOV CR, INVLPG, XSETBV, VMCALL and VMMCALL exit before running, with the instruction length', () => {
    const m = machine(`
      cpuid
      mov $0xc0000080, %ecx
      rdmsr
      wrmsr
      mov %cr4, %rax
      or $0x40000, %rax
      mov %rax, %cr4
      invlpg 0x1234(%rip)
      xor %ecx, %ecx
      mov $3, %eax
      xor %edx, %edx
      xsetbv
      vmcall
      vmmcall
      hlt
    `, (r) => r !== 0);
    const cpu = m.cpu;
    const seen: [string, number][] = [];
    for (let i = 0; i < 20; i++) {
      const r = cpu.run(1000);
      seen.push([ENGINE_EXIT_NAMES[r]!, cpu.exit.instrLen]);
      if (r === ENGINE_EXIT_CR_ACCESS && cpu.exit.crAccessType === CR_ACCESS_MOV_FROM_CR) {
        expect(cpu.exit.crNumber).toBe(4);
        cpu.regs[2 * cpu.exit.gpr] = cpu.cr4;
      } else if (r === ENGINE_EXIT_CR_ACCESS) {
        expect(cpu.exit.crNumber).toBe(4);
        expect(cpu.exit.crAccessType).toBe(CR_ACCESS_MOV_TO_CR);
        expect(cpu.exit.valueLo & 0x40000).toBe(0x40000);
        expect(cpu.cr4 & 0x40000).toBe(0); // not executed: the vendor emulates it
        cpu.cr4 |= 0x40000;
      }
      if (r === ENGINE_EXIT_RDMSR || r === ENGINE_EXIT_WRMSR) expect(cpu.exit.msrIndex).toBe(0xc0000080);
      if (r === ENGINE_EXIT_INVLPG) expect(cpu.exit.linearAddress).toBeGreaterThan(0x8000);
      if (r === ENGINE_EXIT_HLT) break;
      cpu.rip += cpu.exit.instrLen;
    }
    expect(seen).toEqual([
      ['CPUID', 2], ['RDMSR', 2], ['WRMSR', 2], ['CR_ACCESS', 3], ['CR_ACCESS', 3], ['INVLPG', 7], ['XSETBV', 3],
      ['VMCALL', 3], ['VMMCALL', 3], ['HLT', 1],
    ]);
  });

  it('without intercepts the engine executes CPUID, RDMSR and XSETBV itself, and VMCALL is #UD', () => {
    const m = machine(`
      xor %eax, %eax
      cpuid
      mov $0xc0000080, %ecx
      rdmsr
      mov %eax, %r8d
      mov $0xd, %eax
      xor %ecx, %ecx
      cpuid
      mov %ebx, %r9d
      vmcall
    `, (r) => r === ENGINE_EXIT_EXCEPTION || r === ENGINE_EXIT_HLT);
    const cpu = m.cpu;
    const r = cpu.run(1000);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(cpu.exit.vector).toBe(6);
    expect(cpu.regs[16]).toBe(0xd01); // EFER: LME LMA SCE NXE
    expect(cpu.regs[18]).toBe(576); // CPUID.0xD.0:EBX, XSAVE area for x87+SSE
  });

  it('the exception bitmap: #PF exits with the error code and the address, CR2 untouched', () => {
    const m = machine(`
      mov $0x7fff0000, %rax
      mov (%rax), %rbx
    `, (r) => r === ENGINE_EXIT_EXCEPTION);
    const cpu = m.cpu;
    const r = cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_EXCEPTION);
    expect(cpu.exit.vector).toBe(14);
    expect(cpu.exit.errorCode).toBe(0);
    expect(cpu.exit.linearAddress).toBe(0x7fff0000);
    expect(cpu.cr2).toBe(0);
    expect(cpu.rip).toBe(0x8007); // the faulting instruction (after the 7-byte MOV)
  });

  it('the TDP hook translates guest-physical addresses and reports violations', () => {
    const m = machine(`
      mov $0x300000, %rax
      movl $0x11223344, (%rax)
      mov $0x200000, %rax
      mov (%rax), %ebx
      hlt
    `, (r) => r === ENGINE_EXIT_HLT);
    const cpu = m.cpu;
    // gpa 0x300000 is backed by host-physical 0x100000; gpa 0x200000 is not mapped.
    cpu.tdp = {
      translate(_c, gpa, _access) {
        if (gpa >= 0x300000 && gpa < 0x301000) return gpa - 0x200000;
        if (gpa >= 0x200000 && gpa < 0x300000) { _c.exit.tdpQualification = 0x81; return -1; }
        return gpa;
      },
    };
    const r = cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_TDP_FAULT);
    expect(cpu.exit.gpa).toBe(0x200000);
    expect(cpu.exit.tdpQualification).toBe(0x81);
    expect(Array.from(m.mem.subarray(0x100000, 0x100004))).toEqual([0x44, 0x33, 0x22, 0x11]);
  });

  it('read-only memslots exit as MMIO on writes; dirty-logging slots get their dirty bits', () => {
    const m = machine(`
      mov $0x800000, %rax
      mov (%rax), %ebx          # read-only slot: reads work
      movl $1, 0x1000(%rax)     # dirty-log slot at 0x801000
      movl $2, (%rax)           # write to the read-only slot: MMIO exit
      hlt
    `, (r) => r === ENGINE_EXIT_HLT);
    const { memslots, cpu } = m;
    const ro = new Uint8Array(4096).fill(0xab);
    const log = new Uint8Array(8192);
    memslots.set({ slot: 1, flags: KVM_MEM_READONLY, guestPhysAddr: 0x800000, memorySize: 4096, userspaceAddr: ro });
    memslots.set({ slot: 2, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x801000, memorySize: 8192, userspaceAddr: log });
    // map 8..10 MiB too
    new DataView(m.mem.buffer).setUint32(0x12000 + 8 * 4, (4 << 21) | 0x87, true);
    const r = cpu.run(100);
    expect(r).toBe(ENGINE_EXIT_MMIO);
    expect(cpu.exit.isWrite).toBe(true);
    expect(cpu.exit.gpa).toBe(0x800000);
    expect(cpu.regs[6]).toBe(0xabababab | 0);
    expect(log[0]).toBe(1);
    expect(Array.from(memslots.getDirtyLog(2))).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ro[0]).toBe(0xab);
  });
});
