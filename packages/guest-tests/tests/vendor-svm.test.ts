/** SVM-only driver behaviour (kvm-amd): VMRUN consistency-check failures and CR intercepts. The tests both vendors share are in vendor-driver.test.ts. */
import { describe, expect, it } from 'vitest';
import { uapi, type X86ExitInfo } from '@kvmts/kvm-core';
import { kvmAmd } from '@kvmts/kvm-amd';
import { assemble, realModeMachine } from './vendor-harness';

describe('kvm-amd: VMRUN and intercepts', () => {
  it('a VMRUN consistency failure (CR0.NW without CD) is VMEXIT_INVALID: KVM_EXIT_FAIL_ENTRY', () => {
    const m = realModeMachine(kvmAmd, {}, assemble('.code16\nhlt', 0x1000), 0x1000);
    const s = m.vcpu.getSregs();
    s.cr0 = (s.cr0 & ~(1n << 30n)) | (1n << 29n);
    m.vcpu.setSregs(s);
    const run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_FAIL_ENTRY);
    expect(run.failEntry.hardwareEntryFailureReason).toBe(0xffffffffffffffffn);
    expect(m.vcpu.archIoctl<string>('dumpState')).toMatch(/last exit: ERR|last exit: -1/);
  });

  it('CR4 writes are intercepted (SVM_EXIT_WRITE_CR4 with decode assists); CR0 belongs to the guest with NPT', () => {
    const m = realModeMachine(kvmAmd, {}, assemble(`
      .code16
      mov $0x10, %eax
      mov %eax, %cr4
      mov %cr0, %eax
      or $2, %eax
      mov %eax, %cr0
      hlt
    `, 0x1000), 0x1000);
    let run = m.vcpu.run();
    while (run.exitReason === uapi.KVM_EXIT_INTR) run = m.vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_HLT);
    const info = m.vcpu.archIoctl<X86ExitInfo>('getExitInfo');
    expect(info.reasonName).toBe('SVM_EXIT_HLT');
    const s = m.vcpu.getSregs();
    expect(s.cr4).toBe(0x10n);
    expect(s.cr0 & 2n).toBe(2n);
  });
});
