import { beforeEach, describe, expect, it } from 'vitest';
import { createHost, KvmError, uapi, type KvmRegs, type KvmSregs, type Vm } from '@kvmts/kvm-core';
import { fakeVendorModule } from './fake-vendor';

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

describe('vCPUs and KVM_RUN (through a fake vendor)', () => {
  let vm: Vm;
  let ram: Uint8Array;

  beforeEach(() => {
    const host = createHost();
    host.insmod(fakeVendorModule());
    vm = host.open('/dev/kvm').createVm();
    ram = new Uint8Array(0x10000);
    vm.setUserMemoryRegion({ slot: 0, flags: uapi.KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
  });

  it('creates vCPUs with unique ids in range', () => {
    vm.createVcpu(0);
    vm.createVcpu(3);
    expectErrno(() => vm.createVcpu(3), 'EEXIST');
    expectErrno(() => vm.createVcpu(4096), 'EINVAL', /KVM_MAX_VCPU_IDS/);
    expectErrno(() => vm.createVcpu(-1), 'EINVAL', /id/);
    expect(vm.getVcpus().map((v) => v.vcpuId)).toEqual([0, 3]);
  });

  it('runs until an OUT and reports it as KVM_EXIT_IO with the data', () => {
    ram.set([0xb0, 0x41, 0xe6, 0xe9, 0xf4], 0x100); // mov al,'A'; out 0xe9,al; hlt
    const vcpu = vm.createVcpu(0);
    vcpu.setRegs({ ...vcpu.getRegs(), rip: 0x100n });
    let run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
    expect(run.io.direction).toBe(uapi.KVM_EXIT_IO_OUT);
    expect(run.io.port).toBe(0xe9);
    expect(run.io.size).toBe(1);
    expect(run.io.count).toBe(1);
    expect(run.io.dataOffset).toBe(4096);
    expect([...run.io.data]).toEqual([0x41]);
    expect(run.mapping[run.io.dataOffset]).toBe(0x41);
    run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_HLT);
    expect(vcpu.getRegs().rip).toBe(0x105n);
  });

  it('counts exits and retired instructions in the vCPU stats', () => {
    ram.set([0xb0, 0x41, 0xe6, 0xe9, 0xf4], 0x100); // mov al,'A'; out 0xe9,al; hlt
    const vcpu = vm.createVcpu(0);
    vcpu.setRegs({ ...vcpu.getRegs(), rip: 0x100n });
    expect(vcpu.getStats()).toEqual({ exits: 0, instructions_retired: 0 });
    vcpu.run();
    vcpu.run();
    // The fake vendor exits once per instruction: mov, out, hlt.
    expect(vcpu.getStats().exits).toBe(3);
  });

  it('completes an IN with the data userspace wrote before the next run', () => {
    ram.set([0xe4, 0x60, 0xe6, 0x80, 0xf4], 0x200); // in al,0x60; out 0x80,al; hlt
    const vcpu = vm.createVcpu(0);
    vcpu.setRegs({ ...vcpu.getRegs(), rip: 0x200n, rax: 0x1122334455667700n });
    let run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
    expect(run.io.direction).toBe(uapi.KVM_EXIT_IO_IN);
    run.io.data[0] = 0x5a;
    run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_IO);
    expect(run.io.data[0]).toBe(0x5a);
    expect(vcpu.getRegs().rax).toBe(0x112233445566775an);
  });

  it('returns KVM_EXIT_INTR at once when immediateExit is set', () => {
    ram.set([0xf4], 0);
    const vcpu = vm.createVcpu(0);
    vcpu.immediateExit = true;
    expect(vcpu.run().exitReason).toBe(uapi.KVM_EXIT_INTR);
    expect(vcpu.getRegs().rip).toBe(0n);
    vcpu.immediateExit = false;
    expect(vcpu.run().exitReason).toBe(uapi.KVM_EXIT_HLT);
  });

  it('reports what the vendor cannot run as KVM_EXIT_INTERNAL_ERROR', () => {
    ram.set([0x0f], 0);
    const run = vm.createVcpu(0).run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_INTERNAL_ERROR);
    expect(run.internal.suberror).toBe(uapi.KVM_INTERNAL_ERROR_EMULATION);
  });

  it('logs guest writes in the dirty bitmap', () => {
    ram.set([0xb0, 0x99, 0xa2, 0x10, 0x30, 0x00, 0x00, 0xf4], 0); // mov al,0x99; mov [0x3010],al; hlt
    vm.getDirtyLog(0);
    expect(vm.createVcpu(0).run().exitReason).toBe(uapi.KVM_EXIT_HLT);
    expect(ram[0x3010]).toBe(0x99);
    expect(vm.getDirtyLog(0)[0]).toBe(1 << 3);
  });

  it('round-trips regs and sregs with 64-bit values as bigint', () => {
    const vcpu = vm.createVcpu(0);
    const regs: KvmRegs = { ...vcpu.getRegs(), r15: 0xfedcba9876543210n, rsp: 0x7fff_ffff_f000n, rflags: 0x202n };
    vcpu.setRegs(regs);
    expect(vcpu.getRegs()).toEqual(regs);
    const sregs: KvmSregs = vcpu.getSregs();
    const next = { ...sregs, cs: { ...sregs.cs, selector: 0x10, base: 0xf0000n }, cr3: 0x1000n, gdt: { base: 0x500n, limit: 0x27 } };
    vcpu.setSregs(next);
    expect(vcpu.getSregs()).toEqual(next);
  });

  it('reports CR2 as an unsigned u64: a 32-bit fault address kept as int32, a high canonical one kept negative', () => {
    const vcpu = vm.createVcpu(0);
    const x86 = vcpu.archState as unknown as { cr2: number };
    x86.cr2 = 0xffffc020 | 0; // as the engine leaves it after a 32-bit #PF at 0xffffc020
    const s = vcpu.getSregs();
    expect(s.cr2).toBe(0xffffc020n);
    vcpu.setSregs(s); // round-trips (KVM_GET_SREGS then KVM_SET_SREGS, as a snapshot does)
    expect(vcpu.getSregs().cr2).toBe(0xffffc020n);
    vcpu.setSregs({ ...s, cr2: 0xffff800000001000n });
    expect(x86.cr2).toBe(-0x7ffffffff000);
    expect(vcpu.getSregs().cr2).toBe(0xffff800000001000n);
  });

  it('rejects bad register input with EINVAL naming the field, changing nothing', () => {
    const vcpu = vm.createVcpu(0);
    const before = vcpu.getRegs();
    expectErrno(() => vcpu.setRegs({ ...before, rax: -1n }), 'EINVAL', /regs\.rax/);
    expectErrno(() => vcpu.setRegs({ ...before, rbx: 1n << 64n }), 'EINVAL', /regs\.rbx/);
    expectErrno(() => vcpu.setRegs({ ...before, rcx: 5 as unknown as bigint }), 'EINVAL', /regs\.rcx/);
    expect(vcpu.getRegs()).toEqual(before);
    const s = vcpu.getSregs();
    expectErrno(() => vcpu.setSregs({ ...s, cs: { ...s.cs, dpl: 4 } }), 'EINVAL', /sregs\.cs\.dpl/);
    expectErrno(() => vcpu.setSregs({ ...s, cr0: 0x80000000n }), 'EINVAL', /PG set without PE/);
    expectErrno(() => vcpu.setSregs({ ...s, cr8: 16n }), 'EINVAL', /cr8/);
    expect(vcpu.getSregs()).toEqual(s);
  });

  it('reads and writes MSRs through the vendor; stops at the first unknown', () => {
    const vcpu = vm.createVcpu(0);
    expect(vcpu.getMsrs([0x10, 0x99, 0x10])).toEqual([{ index: 0x10, data: 1234n }]);
    // kvm_get_msr_common's read-as-zero AMD model MSRs (K8 SYSCFG: Linux's MTRR code reads it).
    expect(vcpu.getMsrs([0xc0010010, 0xc0011022])).toEqual([{ index: 0xc0010010, data: 0n }, { index: 0xc0011022, data: 0n }]);
    expect(vcpu.setMsrs([{ index: 0x10, data: 5n }, { index: 0x99, data: 1n }])).toBe(1);
    expectErrno(() => vcpu.setMsrs([{ index: 0x10, data: -5n }]), 'EINVAL', /entries\.0\.data/);
  });

  it('keeps the MP state and CPUID table that userspace sets', () => {
    // MP states other than RUNNABLE need the in-kernel LAPIC (EINVAL without, as in Linux).
    expectErrno(() => vm.createVcpu(1).setMpState({ mpState: uapi.KVM_MP_STATE_HALTED }), 'EINVAL', /LAPIC/);
    const host = createHost();
    host.insmod(fakeVendorModule());
    const vm2 = host.open('/dev/kvm').createVm();
    vm2.createIrqchip();
    const vcpu = vm2.createVcpu(0);
    expect(vcpu.getMpState()).toEqual({ mpState: uapi.KVM_MP_STATE_RUNNABLE });
    vcpu.setMpState({ mpState: uapi.KVM_MP_STATE_HALTED });
    expect(vcpu.getMpState().mpState).toBe(uapi.KVM_MP_STATE_HALTED);
    expectErrno(() => vcpu.setMpState({ mpState: 42 }), 'EINVAL', /state\.mpState/);
    const entries = [{ function: 1, index: 0, flags: 0, eax: 0x306a9, ebx: 0, ecx: 0, edx: 0 }];
    vcpu.setCpuid2(entries);
    expect(vcpu.getCpuid2()).toEqual(entries);
  });

  it('queues one external interrupt with KVM_INTERRUPT', () => {
    const vcpu = vm.createVcpu(0);
    vcpu.interrupt(0x20);
    expect(vcpu.getSregs().interruptBitmap[0]).toBe(1n << 32n);
    expectErrno(() => vcpu.interrupt(0x21), 'EEXIST');
    expectErrno(() => vcpu.interrupt(256), 'EINVAL', /irq/);
  });

  it('makes every handle unusable after destroy (EBADF)', () => {
    const vcpu = vm.createVcpu(0);
    vm.destroy();
    expectErrno(() => vcpu.run(), 'EBADF');
    expectErrno(() => vm.createVcpu(1), 'EBADF');
    expectErrno(() => vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: 0, memorySize: 0, userspaceAddr: ram }), 'EBADF');
  });

  it('answers ENOTTY for ioctls the architecture does not have', () => {
    expectErrno(() => vm.archIoctl('s390Interrupt'), 'ENOTTY');
    expectErrno(() => vm.createVcpu(0).archIoctl('memOp'), 'ENOTTY');
  });
});
