/**
 * Swapping vendors: hosts are independent (no global state), so one process can run a
 * kvm-intel host and a kvm-amd host side by side; inside one host only one x86 vendor
 * can be loaded (kvm_x86_vendor_init: EEXIST), and rmmod makes room for the other.
 */
import { describe, expect, it } from 'vitest';
import { createHost, isKvmError, uapi } from '@kvmts/kvm-core';
import { kvmIntel } from '@kvmts/kvm-intel';
import { kvmAmd } from '@kvmts/kvm-amd';
import { assemble, realModeMachine, runToHlt } from './vendor-harness';

const GUEST = `
  .code16
    xor %eax, %eax
    cpuid
    mov %ebx, %eax
    mov $4, %cx
  1: out %al, $0xe9
    shr $8, %eax
    loop 1b
    hlt
`;

function insmodError(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('vendor swapping', () => {
  it('two hosts in one process, one per vendor, run the same guest', () => {
    const code = assemble(GUEST, 0x1000);
    const a = realModeMachine(kvmIntel, {}, code, 0x1000);
    const b = realModeMachine(kvmAmd, {}, code, 0x1000);
    expect(runToHlt(a)).toBe(uapi.KVM_EXIT_HLT);
    expect(runToHlt(b)).toBe(uapi.KVM_EXIT_HLT);
    expect(a.console).toBe('Genu');
    expect(b.console).toBe('Auth');
  });

  it('a third host with both modules: the second vendor is refused with EEXIST; after rmmod it loads', () => {
    const host = createHost();
    host.insmod(kvmIntel, {} as never);
    const err = insmodError(() => host.insmod(kvmAmd, {} as never));
    expect(isKvmError(err) && err.errno).toBe('EEXIST');
    host.rmmod('kvm-intel');
    host.insmod(kvmAmd, {} as never);
    expect(host.lsmod().map((m) => m.name)).toContain('kvm-amd');
  });
});
