import { describe, expect, it } from 'vitest';
import { createHost, KvmError, uapi } from '@kvmts/kvm-core';
import { fakeVendorModule } from './fake-vendor';

function expectErrno(fn: () => unknown, errno: string, message?: RegExp) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KvmError);
  expect((err as KvmError).errno).toBe(errno);
  if (message) expect((err as KvmError).message).toMatch(message);
}

describe('host and module registry', () => {
  it('insmod, lsmod and rmmod a vendor module', () => {
    const host = createHost();
    expect(host.lsmod().map((m) => m.name)).toEqual(['kvm']);
    host.insmod(fakeVendorModule('kvm-intel'));
    expect(host.lsmod().map((m) => m.name)).toEqual(['kvm', 'kvm-intel']);
    expect(host.lsmod()[0]!.usedBy).toEqual(['kvm-intel']);
    host.rmmod('kvm-intel');
    expect(host.lsmod().map((m) => m.name)).toEqual(['kvm']);
  });

  it('allows one x86 vendor per host: the second gets EEXIST naming the first', () => {
    const host = createHost();
    host.insmod(fakeVendorModule('kvm-intel'));
    expectErrno(() => host.insmod(fakeVendorModule('kvm-amd')), 'EEXIST', /already loaded vendor module 'kvm-intel'/);
    // The failed insmod left nothing behind.
    expect(host.lsmod().map((m) => m.name)).toEqual(['kvm', 'kvm-intel']);
  });

  it('refuses to load the same module twice', () => {
    const host = createHost();
    host.insmod(fakeVendorModule('kvm-intel'));
    expectErrno(() => host.insmod(fakeVendorModule('kvm-intel')), 'EEXIST', /already loaded/);
  });

  it('rmmod of a module that is not loaded is ENOENT', () => {
    expectErrno(() => createHost().rmmod('kvm-amd'), 'ENOENT');
  });

  it('rmmod while a VM created through the module lives is EBUSY, and works after destroy', () => {
    const host = createHost();
    host.insmod(fakeVendorModule('kvm-amd'));
    const vm = host.open('/dev/kvm').createVm();
    expect(host.lsmod()[1]!.refcount).toBe(1);
    expectErrno(() => host.rmmod('kvm-amd'), 'EBUSY');
    vm.destroy();
    expect(host.lsmod()[1]!.refcount).toBe(0);
    host.rmmod('kvm-amd');
    // After rmmod another vendor can load.
    host.insmod(fakeVendorModule('kvm-intel'));
  });

  it('opens /dev/kvm with no vendor loaded, but createVm is ENODEV', () => {
    const kvm = createHost().open('/dev/kvm');
    expect(kvm.getApiVersion()).toBe(12);
    expectErrno(() => kvm.createVm(), 'ENODEV');
  });

  it('only /dev/kvm can be opened', () => {
    expectErrno(() => createHost().open('/dev/kvmx'), 'ENOENT', /\/dev\/kvmx/);
  });

  it('validates module parameters with the module schema', () => {
    const host = createHost();
    expectErrno(() => host.insmod(fakeVendorModule(), { verbose: 'maybe' }), 'EINVAL', /verbose/);
    expectErrno(() => host.insmod(fakeVendorModule(), { bogus: 1 }), 'EINVAL');
    expect(host.lsmod()).toHaveLength(1);
    host.insmod(fakeVendorModule(), { verbose: 'Y' });
    expect(host.lsmod()[1]!.params).toEqual({ verbose: true });
  });

  it('keeps two hosts in one process independent', () => {
    const a = createHost();
    const b = createHost();
    a.insmod(fakeVendorModule('kvm-intel'));
    b.insmod(fakeVendorModule('kvm-amd'));
    const vmA = a.open('/dev/kvm').createVm();
    const vmB = b.open('/dev/kvm').createVm();
    expect(vmA.moduleName).toBe('kvm-intel');
    expect(vmB.moduleName).toBe('kvm-amd');
    expectErrno(() => a.rmmod('kvm-intel'), 'EBUSY');
    vmB.destroy();
    b.rmmod('kvm-amd');
    expect(a.lsmod().map((m) => m.name)).toEqual(['kvm', 'kvm-intel']);
  });

  it('createVm rejects an unknown VM type with EINVAL', () => {
    const host = createHost();
    host.insmod(fakeVendorModule());
    expectErrno(() => host.open('/dev/kvm').createVm(7), 'EINVAL', /type/);
    expectErrno(() => host.open('/dev/kvm').createVm(-1), 'EINVAL', /type/);
  });

  it('answers the system ioctls', () => {
    const host = createHost();
    host.insmod(fakeVendorModule());
    const kvm = host.open('/dev/kvm');
    expect(kvm.getVcpuMmapSize()).toBe(3 * 4096);
    expect(kvm.checkExtension(uapi.KVM_CAP_USER_MEMORY)).toBe(1);
    expect(kvm.checkExtension(uapi.KVM_CAP_NR_MEMSLOTS)).toBe(32764);
    expect(kvm.checkExtension(uapi.KVM_CAP_HLT)).toBe(1);
    expect(kvm.checkExtension(99999)).toBe(0);
    expectErrno(() => kvm.checkExtension(-3), 'EINVAL', /cap/);
    expect(kvm.getSupportedCpuid()[0]!.ebx).toBe(0x756e6547);
    // The vendor's MSRs plus those kvm_get_msr_common owns (APIC base, TSC, kvmclock, ...).
    expect(kvm.getMsrIndexList()).toEqual(expect.arrayContaining([0x10, 0x1b, 0x6e0, 0x4b564d01]));
    expectErrno(() => createHost().open('/dev/kvm').getSupportedCpuid(), 'ENOTTY');
  });
});
