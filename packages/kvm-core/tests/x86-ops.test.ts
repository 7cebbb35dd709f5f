import { describe, expect, it } from 'vitest';
import { checkX86Ops, createHost, KvmError, KVM_X86_OPS_TABLE, kvmX86VendorInit, type KvmX86Ops } from '@kvmts/kvm-core';
import { fakeOps } from './fake-vendor';

describe('kvm_x86_ops', () => {
  it('declares every hook once with a required/optional mark', () => {
    const marks = new Set(Object.values(KVM_X86_OPS_TABLE));
    expect([...marks].sort()).toEqual(['optional', 'required']);
    expect(KVM_X86_OPS_TABLE.vcpuRun).toBe('required');
    expect(KVM_X86_OPS_TABLE.handleExit).toBe('required');
    expect(KVM_X86_OPS_TABLE.dumpState).toBe('optional');
  });

  it('accepts a complete ops table', () => {
    expect(() => checkX86Ops(fakeOps('ok'))).not.toThrow();
  });

  it('rejects a vendor that lacks required hooks, naming them, and registers nothing', () => {
    const ops = fakeOps('broken') as Partial<KvmX86Ops> & { name: string };
    delete ops.vcpuRun;
    delete ops.handleExit;
    const host = createHost();
    let err: unknown;
    try {
      kvmX86VendorInit(host, 'broken', ops as KvmX86Ops, { supportedCpuid: () => [], msrIndexList: () => [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvmError);
    expect((err as KvmError).errno).toBe('EINVAL');
    expect((err as KvmError).message).toMatch(/vcpuRun, handleExit/);
    expect(() => host.open('/dev/kvm').createVm()).toThrow(/ENODEV/);
  });
});
