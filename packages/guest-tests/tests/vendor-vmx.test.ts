/** VMX-only driver behaviour (kvm-intel): VM-entry check failures and the CR0/CR4 read shadows. The tests both vendors share are in vendor-driver.test.ts. */
import { describe, expect, it } from 'vitest';
import { uapi } from '@kvmts/kvm-core';
import { kvmIntel } from '@kvmts/kvm-intel';
import { assemble, realModeMachine, runToHlt } from './vendor-harness';

describe('kvm-intel: VM entry and CR shadows', () => {
  it('an invalid guest state fails VM entry: KVM_EXIT_FAIL_ENTRY with reason 33 | 0x80000000 and the rule in the dump', () => {
    const m = realModeMachine(kvmIntel, {}, assemble('.code16\nhlt', 0x1000), 0x1000);
    const s = m.vcpu.getSregs();
    // Protected mode with a read-only data segment in CS (only type 3 is allowed with unrestricted guest): the guest-state checks refuse it (SDM 26.3.1.2).
    s.cr0 |= 1n;
    s.cs = { ...s.cs, type: 1, s: 1, present: 1 };
    m.vcpu.setSregs(s);
    const run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_FAIL_ENTRY);
    expect(run.failEntry.hardwareEntryFailureReason).toBe(0x80000021n);
    const dump = m.vcpu.archIoctl<string>('dumpState');
    expect(dump).toMatch(/VM-entry failure/);
    expect(dump).toMatch(/GUEST_CS_AR_BYTES = 0x91/);
  });

  it('without unrestricted guest (ept=0) real mode cannot be entered', () => {
    const m = realModeMachine(kvmIntel, { ept: false }, assemble('.code16\nhlt', 0x1000), 0x1000);
    const run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_FAIL_ENTRY);
    expect(run.failEntry.hardwareEntryFailureReason).toBe(0x80000021n);
  });

  it('CR0/CR4 reads return the read shadow for host-owned bits (NE and VMXE stay hidden); a host-owned change exits', () => {
    const m = realModeMachine(kvmIntel, {}, assemble(`
      .code16
      mov %cr0, %eax
      mov %eax, %ebx
      mov %cr4, %eax
      mov %eax, %ecx
      mov $0x10, %eax
      mov %eax, %cr4
      mov %cr4, %eax
      mov %eax, %edx
      hlt
    `, 0x1000), 0x1000);
    expect(runToHlt(m)).toBe(uapi.KVM_EXIT_HLT);
    const r = m.vcpu.getRegs();
    expect(r.rbx).toBe(0x60000010n);
    expect(r.rcx).toBe(0n);
    expect(r.rdx).toBe(0x10n);
    expect(m.vcpu.getSregs().cr4).toBe(0x10n);
    const dump = m.vcpu.archIoctl<string>('dumpState');
    // The hardware values: NE in CR0, VMXE in CR4.
    expect(dump).toMatch(/GUEST_CR0 = 0x60000030/);
    expect(dump).toMatch(/GUEST_CR4 = 0x2010/);
    expect(dump).toMatch(/CR4_READ_SHADOW = 0x10/);
  });
});
