/**
 * The in-kernel irqchip with the real drivers: the PIT's IRQ0 through the PIC (the BSP's
 * LINT0 in ExtINT mode) wakes a halted guest, on the virtual clock, identically on both
 * vendors: HLT blocking in the run loop, interrupt injection through VM-entry
 * interruption info / EVENTINJ, interrupt windows after STI.
 */
import { describe, expect, it } from 'vitest';
import { createHost, uapi, type KvmModule } from '@kvmts/kvm-core';
import { kvmIntel } from '@kvmts/kvm-intel';
import { kvmAmd } from '@kvmts/kvm-amd';
import { assemble } from './vendor-harness';

const GUEST = `
  .code16
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    movw $timer, 0x20*4
    movw $0, 0x20*4+2
    # PIC: ICW1..4, vector base 0x20, only IRQ0 unmasked
    mov $0x11, %al
    out %al, $0x20
    mov $0x20, %al
    out %al, $0x21
    mov $0x04, %al
    out %al, $0x21
    mov $0x01, %al
    out %al, $0x21
    mov $0xfe, %al
    out %al, $0x21
    # PIT channel 0, mode 2, ~1 ms
    mov $0x34, %al
    out %al, $0x43
    mov $0xa9, %al
    out %al, $0x40
    mov $0x04, %al
    out %al, $0x40
    movw $0, ticks
    sti
  1: hlt
    cmpw $3, ticks
    jb 1b
    cli
    mov $'D', %al
    out %al, $0xe9
    out %al, $0xf4
  timer:
    push %ax
    incw ticks
    mov $'t', %al
    out %al, $0xe9
    mov $0x20, %al
    out %al, $0x20
    pop %ax
    iret
  ticks: .word 0
`;

function run(mod: KvmModule<never>): { console: string; ns: number } {
  const host = createHost();
  host.insmod(mod, {} as never);
  const kvm = host.open('/dev/kvm');
  const vm = kvm.createVm(0);
  vm.setClockSource({ mode: 'virtual' });
  vm.createIrqchip();
  vm.createPit2();
  const mem = new Uint8Array(0x100000);
  mem.set(assemble(GUEST, 0x1000), 0x1000);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: mem.length, userspaceAddr: mem });
  const vcpu = vm.createVcpu(0);
  vcpu.setCpuid2(kvm.getSupportedCpuid());
  const s = vcpu.getSregs();
  s.cs = { ...s.cs, selector: 0, base: 0n };
  vcpu.setSregs(s);
  const r = vcpu.getRegs();
  r.rip = 0x1000n;
  vcpu.setRegs(r);
  let out = '';
  for (let i = 0; i < 10_000; i++) {
    const k = vcpu.run();
    if (k.exitReason === uapi.KVM_EXIT_IO && k.io.port === 0xe9) { out += String.fromCharCode(k.io.data[0]!); continue; }
    if (k.exitReason === uapi.KVM_EXIT_IO && k.io.port === 0xf4) return { console: out, ns: vm.clockNowNs() };
    if (k.exitReason === uapi.KVM_EXIT_INTR) {
      const d = vm.nextTimerDeadline();
      if (d >= 0 && d > vm.clockNowNs()) vm.warpClock(d);
      continue;
    }
    throw new Error(`unexpected exit ${k.exitReason}`);
  }
  throw new Error('no end');
}

describe('in-kernel PIC + PIT with the real drivers', () => {
  it('timer interrupts wake HLT on kvm-intel and kvm-amd, with the same output at the same virtual times', () => {
    const a = run(kvmIntel as KvmModule<never>);
    const b = run(kvmAmd as KvmModule<never>);
    expect(a.console).toBe('tttD');
    expect(b.console).toBe('tttD');
    expect(a.ns).toBe(b.ns);
    expect(a.ns).toBeGreaterThan(2_000_000);
  });
});
