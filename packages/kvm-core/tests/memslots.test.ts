import { beforeEach, describe, expect, it } from 'vitest';
import { createHost, KvmError, uapi, type Vm } from '@kvmts/kvm-core';
import { fakeVendorModule } from './fake-vendor';

const MiB = 1 << 20;

function expectErrno(fn: () => unknown, errno: string, message?: RegExp) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KvmError);
    expect((e as KvmError).errno).toBe(errno);
    if (message) expect((e as KvmError).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${errno}`);
}

describe('memory slots', () => {
  let vm: Vm;
  const ram = new Uint8Array(4 * MiB);
  const snapshot = () => vm.memslots.all().map((s) => [s.id, s.guestPhysAddr, s.memorySize, s.flags]);

  beforeEach(() => {
    const host = createHost();
    host.insmod(fakeVendorModule());
    vm = host.open('/dev/kvm').createVm();
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: MiB, userspaceAddr: ram });
  });

  it('creates slots and finds addresses in them; other addresses are MMIO', () => {
    vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x100000, memorySize: MiB, userspaceAddr: ram.subarray(MiB) });
    expect(vm.memslots.find(0x1000)?.id).toBe(0);
    expect(vm.memslots.find(0x1fffff)?.id).toBe(1);
    expect(vm.memslots.find(0x200000)).toBeUndefined();
    // The slot shares the bytes: no copy.
    ram[MiB + 5] = 0xab;
    expect(vm.memslots.find(0x100005)!.hva[5]).toBe(0xab);
  });

  it('rejects unaligned sizes, addresses and mappings with EINVAL', () => {
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x200000, memorySize: 100, userspaceAddr: ram }), 'EINVAL', /memorySize/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x200010, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /guestPhysAddr/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x200000, memorySize: 4096, userspaceAddr: ram.subarray(1) }), 'EINVAL', /userspaceAddr/);
    expect(snapshot()).toEqual([[0, 0, MiB, 0]]);
  });

  it('rejects overlaps with EEXIST and leaves the table as it was', () => {
    const before = snapshot();
    expectErrno(() => vm.setUserMemoryRegion({ slot: 2, flags: 0, guestPhysAddr: 0xff000, memorySize: 8192, userspaceAddr: ram.subarray(MiB) }), 'EEXIST', /overlaps slot 0/);
    expect(snapshot()).toEqual(before);
  });

  it('rejects unknown flags, out-of-range slot ids and short mappings', () => {
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0x80, guestPhysAddr: 0x200000, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /flags/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 32764, flags: 0, guestPhysAddr: 0x200000, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /slot/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 0x10001, flags: 0, guestPhysAddr: 0x200000, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /slot/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0x200000, memorySize: 8192, userspaceAddr: new Uint8Array(4096) }), 'EFAULT', /userspaceAddr/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 2 ** 52, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /52-bit/);
    expect(snapshot()).toEqual([[0, 0, MiB, 0]]);
  });

  it('rejects malformed argument objects with EINVAL naming the field', () => {
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: -4096, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /region\.guestPhysAddr/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1.5, flags: 0, guestPhysAddr: 0, memorySize: 4096, userspaceAddr: ram }), 'EINVAL', /region\.slot/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0, memorySize: 4096, userspaceAddr: [] as unknown as Uint8Array }), 'EINVAL', /region\.userspaceAddr/);
    expectErrno(() => vm.setUserMemoryRegion(null as never), 'EINVAL', /region/);
  });

  it('deletes a slot with size 0; deleting a missing slot is EINVAL', () => {
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: 0, userspaceAddr: ram });
    expect(vm.memslots.find(0)).toBeUndefined();
    expectErrno(() => vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: 0, userspaceAddr: ram }), 'EINVAL', /does not exist/);
  });

  it('moves a slot and toggles dirty logging, but never resizes or remaps it', () => {
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0x400000, memorySize: MiB, userspaceAddr: ram });
    expect(vm.memslots.find(0x400000)?.id).toBe(0);
    expect(vm.memslots.find(0)).toBeUndefined();
    vm.setUserMemoryRegion({ slot: 0, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x400000, memorySize: MiB, userspaceAddr: ram });
    expectErrno(() => vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0x400000, memorySize: 2 * MiB, userspaceAddr: ram }), 'EINVAL', /size/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0x400000, memorySize: MiB, userspaceAddr: ram.subarray(MiB) }), 'EINVAL', /mapping/);
    expectErrno(() => vm.setUserMemoryRegion({ slot: 0, flags: uapi.KVM_MEM_READONLY, guestPhysAddr: 0x400000, memorySize: MiB, userspaceAddr: ram }), 'EINVAL', /READONLY/);
    expect(snapshot()).toEqual([[0, 0x400000, MiB, uapi.KVM_MEM_LOG_DIRTY_PAGES]]);
  });

  it('keeps a dirty log per slot: get returns the bits and clears them', () => {
    vm.setUserMemoryRegion({ slot: 3, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0x800000, memorySize: 64 * 4096, userspaceAddr: ram.subarray(MiB) });
    vm.memslots.markDirty(0x800000 + 5 * 4096 + 17);
    vm.memslots.markDirty(0x800000 + 63 * 4096);
    vm.memslots.markDirty(0x1000); // slot 0 does not log: ignored
    const log = vm.getDirtyLog(3);
    expect(log.length).toBe(8);
    expect(log[0]).toBe(1 << 5);
    expect(log[7]).toBe(0x80);
    expect(vm.getDirtyLog(3).every((b) => b === 0)).toBe(true);
    expectErrno(() => vm.getDirtyLog(0), 'ENOENT', /KVM_MEM_LOG_DIRTY_PAGES/);
    expectErrno(() => vm.getDirtyLog(9), 'ENOENT', /does not exist/);
    expectErrno(() => vm.getDirtyLog(40000), 'EINVAL');
  });
});
