/**
 * kvm-s390 through kvm-core's public API with hand-assembled z/Architecture code:
 * instruction intercepts handled in KVM (STSI, SIGP, DIAG 0x308), what goes to
 * userspace, program interruptions, and the validity intercept.
 */
import { describe, expect, it } from 'vitest';
import { createHost, KvmError, s390uapi, uapi, type Vcpu } from '@kvmts/kvm-core';
import { kvmS390 } from '@kvmts/kvm-s390';

const ENTRY = 0x10000;
const PSW64 = 0x0000000180000000n;
const DIAG_500 = [0x83, 0x00, 0x05, 0x00]; // exits to userspace (no in-kernel virtio notify)

function setup(code: number[]) {
  const host = createHost();
  host.insmod(kvmS390);
  const vm = host.open('/dev/kvm').createVm();
  const ram = new Uint8Array(1 << 20);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
  ram.set(code, ENTRY);
  const vcpu = vm.createVcpu(0);
  vcpu.setInitialPsw({ mask: PSW64, addr: BigInt(ENTRY) });
  return { vm, ram, vcpu };
}

const cc = (v: Vcpu) => Number((v.kvmRun.psw.mask >> 44n) & 3n);

describe('kvm-s390 intercepts', () => {
  it('lives next to an x86 vendor in one host; createVm picks by architecture; rmmod is EBUSY while a VM lives', async () => {
    const { fakeVendorModule } = await import('../../kvm-core/tests/fake-vendor');
    const host = createHost();
    host.insmod(fakeVendorModule());
    host.insmod(kvmS390);
    const kvm = host.open('/dev/kvm');
    expect(kvm.createVm().arch).toBe('x86');
    const vm = kvm.createVm(0, 's390');
    expect(vm.arch).toBe('s390');
    expect(vm.moduleName).toBe('kvm-s390');
    expect(() => host.rmmod('kvm-s390')).toThrow(/EBUSY/);
    vm.destroy();
    host.rmmod('kvm-s390');
    expect(() => kvm.createVm(0, 's390')).toThrow(/ENODEV/);
  });

  it('registers as the s390 backend and creates VMs of type 0 only', () => {
    const host = createHost();
    host.insmod(kvmS390);
    const kvm = host.open('/dev/kvm');
    expect(kvm.checkExtension(uapi.KVM_CAP_S390_PSW)).toBe(1);
    expect(() => kvm.createVm(1)).toThrow(KvmError);
    expect(host.lsmod().map((m) => m.name)).toContain('kvm-s390');
  });

  it('handles STSI fc 0 in KVM and passes DIAG 0x500 to userspace', () => {
    const { vcpu } = setup([0xa7, 0x09, 0x00, 0x00, 0xb2, 0x7d, 0x00, 0x00, ...DIAG_500]); // lghi 0,0; stsi 0; diag
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.s390Sieic).toEqual({ icptcode: 4, ipa: 0x8300, ipb: 0x05000000 });
    expect(run.s390SyncRegs.gprs[0]).toBe(0x30000000n); // current configuration level 3
    expect(cc(vcpu)).toBe(0);
    expect(run.psw.addr).toBe(BigInt(ENTRY + 12));
  });

  it('answers SIGP sense: cc 3 for a missing CPU, cc 0 for itself', () => {
    // lghi 3,5; sigp 4,3,1; ipm 6; lghi 3,0; sigp 4,3,1; ipm 7; diag 0x500
    const { vcpu } = setup([0xa7, 0x39, 0x00, 0x05, 0xae, 0x43, 0x00, 0x01, 0xb2, 0x22, 0x00, 0x60,
      0xa7, 0x39, 0x00, 0x00, 0xae, 0x43, 0x00, 0x01, 0xb2, 0x22, 0x00, 0x70, ...DIAG_500]);
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect((run.s390SyncRegs.gprs[6]! >> 28n) & 3n).toBe(3n);
    expect((run.s390SyncRegs.gprs[7]! >> 28n) & 3n).toBe(0n);
  });

  it('exits with KVM_EXIT_S390_RESET for DIAG 0x308 subcode 3', () => {
    const { vcpu } = setup([0xa7, 0x39, 0x00, 0x03, 0x83, 0x23, 0x03, 0x08]); // lghi 3,3; diag 2,3,0x308
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_RESET);
    expect(run.s390Reset.flags).toBe(BigInt(s390uapi.KVM_S390_RESET_CLEAR | s390uapi.KVM_S390_RESET_SUBSYSTEM
      | s390uapi.KVM_S390_RESET_IPL | s390uapi.KVM_S390_RESET_CPU_INIT));
  });

  it('delivers an operation exception through the program new PSW', () => {
    const { ram, vcpu } = setup([0x00, 0x00]);
    const dv = new DataView(ram.buffer);
    dv.setBigUint64(0x1d0, PSW64); // program new PSW -> a DIAG 0x500 at 0x20000
    dv.setBigUint64(0x1d8, 0x20000n);
    ram.set(DIAG_500, 0x20000);
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.psw.addr).toBe(0x20004n);
    expect(dv.getUint16(0x8e)).toBe(0x01); // operation exception
    expect(dv.getUint16(0x8c)).toBe(2); // ILC: 2 bytes
    expect(dv.getBigUint64(0x158)).toBe(BigInt(ENTRY + 2)); // old PSW past the instruction
    const back = vcpu.memOp({ gaddr: 0x8en, size: 2, op: s390uapi.KVM_S390_MEMOP_LOGICAL_READ }) as Uint8Array;
    expect([...back]).toEqual([0, 1]);
  });

  it('reports a validity intercept when the prefix area is not guest storage', () => {
    const { vcpu } = setup(DIAG_500);
    const run = vcpu.kvmRun;
    run.s390SyncRegs.prefix = 0x7fffe000;
    run.kvmDirtyRegs = s390uapi.KVM_SYNC_PREFIX;
    expect(() => vcpu.run()).toThrow(/EINVAL: validity intercept 0x0037/);
    expect(run.s390Sieic.icptcode).toBe(0x20);
  });

  it('validates s390Interrupt and memOp arguments with EINVAL naming the field', () => {
    const { vm, vcpu } = setup(DIAG_500);
    expect(() => vcpu.s390Interrupt({ type: 0x12345 })).toThrow(/irq.type/);
    expect(() => vm.s390Interrupt({ type: s390uapi.KVM_S390_RESTART })).toThrow(/irq.type/);
    expect(() => vcpu.memOp({ gaddr: 0n, size: 0, op: 0 })).toThrow(/op.size/);
    expect(() => vcpu.memOp({ gaddr: 0x7fffffffn, size: 16, op: s390uapi.KVM_S390_MEMOP_ABSOLUTE_READ })).toThrow(/EFAULT/);
  });

  it('stores SYSIB 1.1.1 and 3.2.2 (the KVM VM level) for STSI, cc 3 for unknown selectors', () => {
    // 1.1.1 at 0x20000: lghi0 0x10000001 via llilf; lghi 1,1; stsi 0x20000(r9); ipm 6
    // 3.2.2 at 0x21000; 2.2.2 -> cc 3
    const { ram, vcpu } = setup([
      0xc0, 0x0f, 0x10, 0x00, 0x00, 0x01, 0xa7, 0x19, 0x00, 0x01, 0xc0, 0x9f, 0x00, 0x02, 0x00, 0x00,
      0xb2, 0x7d, 0x90, 0x00, 0xb2, 0x22, 0x00, 0x60, // stsi 0(%r9); ipm %r6
      0xc0, 0x0f, 0x30, 0x00, 0x00, 0x02, 0xa7, 0x19, 0x00, 0x02, 0xc0, 0x9f, 0x00, 0x02, 0x10, 0x00,
      0xb2, 0x7d, 0x90, 0x00, 0xb2, 0x22, 0x00, 0x70,
      0xc0, 0x0f, 0x20, 0x00, 0x00, 0x02, 0xa7, 0x19, 0x00, 0x02,
      0xb2, 0x7d, 0x90, 0x00, 0xb2, 0x22, 0x00, 0x80,
      ...DIAG_500,
    ]);
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect((run.s390SyncRegs.gprs[6]! >> 28n) & 3n).toBe(0n);
    expect((run.s390SyncRegs.gprs[7]! >> 28n) & 3n).toBe(0n);
    expect((run.s390SyncRegs.gprs[8]! >> 28n) & 3n).toBe(3n);
    expect([...ram.subarray(0x20000 + 32, 0x20000 + 35)]).toEqual([0xc9, 0xc2, 0xd4]); // "IBM" in EBCDIC
    const d = new DataView(ram.buffer);
    expect(ram[0x21000 + 31]! & 15).toBe(1); // one VM level
    expect(d.getUint16(0x21000 + 32 + 4)).toBe(1); // cpus_total
    expect([...ram.subarray(0x21000 + 32 + 12, 0x21000 + 32 + 20)]).toEqual([0xd2, 0xe5, 0xd4, 0x87, 0xa4, 0x85, 0xa2, 0xa3]); // "KVMguest"
  });

  it('stops the vCPU on SIGP STOP to itself and exits with ICPT_STOP', () => {
    // lghi 3,0; sigp 4,3,STOP; (never reached) diag 0x500
    const { vcpu } = setup([0xa7, 0x39, 0x00, 0x00, 0xae, 0x43, 0x00, 0x05, ...DIAG_500]);
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.s390Sieic.icptcode).toBe(0x28);
    expect(vcpu.getMpState().mpState).toBe(uapi.KVM_MP_STATE_STOPPED);
    expect(run.psw.addr).toBe(BigInt(ENTRY + 8));
  });

  it('enables storage keys on the first key instruction, then interprets ISKE/SSKE/RRBE', () => {
    const { vcpu } = setup([
      0xa7, 0x19, 0x00, 0x36, // lghi %r1,0x36 (ACC 3, R, C)
      0xc0, 0x2f, 0x00, 0x02, 0x00, 0x00, // llilf %r2,0x20000
      0xb2, 0x2b, 0x00, 0x12, // sske %r1,%r2 (intercepted once: keys enabled, retried)
      0xb2, 0x29, 0x00, 0x32, // iske %r3,%r2
      0xb2, 0x2a, 0x00, 0x02, // rrbe 0,%r2 -> cc 3 (R and C were on), R reset
      0xb2, 0x22, 0x00, 0x60, // ipm %r6
      0xb2, 0x29, 0x00, 0x42, // iske %r4,%r2
      ...DIAG_500,
    ]);
    const run = vcpu.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.s390SyncRegs.gprs[3]! & 0xffn).toBe(0x36n);
    expect((run.s390SyncRegs.gprs[6]! >> 28n) & 3n).toBe(3n);
    expect(run.s390SyncRegs.gprs[4]! & 0xffn).toBe(0x32n);
    const stats = vcpu.archIoctl<{ exitInstruction: number }>('getStats');
    expect(stats.exitInstruction).toBe(2); // the first SSKE and the DIAG
  });

  it('KVM_S390_STORE_STATUS, KVM_GET/SET_FPU and the resets', () => {
    const { ram, vcpu } = setup([0xa7, 0x79, 0x12, 0x34, ...DIAG_500]); // lghi %r7,0x1234
    vcpu.run();
    vcpu.storeStatus(0x20000);
    const dv = new DataView(ram.buffer);
    expect(dv.getBigUint64(0x20000 + 0x80 + 7 * 8)).toBe(0x1234n); // GPR 7 save area
    expect(dv.getBigUint64(0x20000 + 0x100 + 8)).toBe(BigInt(ENTRY + 8)); // PSW address
    expect(() => vcpu.storeStatus(0x7fffff00)).toThrow(/EFAULT/);
    const fprs = Array.from({ length: 16 }, (_, i) => BigInt(i) << 52n);
    vcpu.setFpu({ fpc: 0x00000001, fprs });
    expect(vcpu.getFpu()).toEqual({ fpc: 1, fprs });
    expect(() => vcpu.setFpu({ fpc: 0x4, fprs })).toThrow(/fpu.fpc/);
    expect(() => vcpu.setFpu({ fpc: 0, fprs: [1n] })).toThrow(/fpu.fprs/);
    vcpu.archIoctl('clearReset');
    expect(vcpu.getMpState().mpState).toBe(uapi.KVM_MP_STATE_STOPPED);
    expect((vcpu.getFpu() as { fprs: bigint[] }).fprs.every((v) => v === 0n)).toBe(true);
  });

  it('refuses to run a vCPU userspace stopped with KVM_SET_MP_STATE', () => {
    const { vcpu } = setup(DIAG_500);
    vcpu.setMpState({ mpState: uapi.KVM_MP_STATE_STOPPED });
    expect(() => vcpu.run()).toThrow(/EINVAL: can't run stopped vCPU 0/);
    vcpu.setMpState({ mpState: uapi.KVM_MP_STATE_OPERATING });
    expect(vcpu.run().exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(() => vcpu.setMpState({ mpState: uapi.KVM_MP_STATE_LOAD })).toThrow(/state.mpState/);
  });

  it('runs in 31-bit addressing mode: LA wraps to 31 bits, BRAS links with the mode bit', () => {
    const host = createHost();
    host.insmod(kvmS390);
    const vm = host.open('/dev/kvm').createVm();
    const ram = new Uint8Array(1 << 20);
    vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
    ram.set([
      0xc0, 0x1f, 0xff, 0xff, 0xff, 0xff, // llilf %r1,0xffffffff
      0x41, 0x21, 0x00, 0x02, // la %r2,2(%r1) -> 1 (31-bit wrap)
      0xa7, 0x35, 0x00, 0x02, // bras %r3,.+4
      ...DIAG_500,
    ], 0x10000);
    const v = vm.createVcpu(0);
    v.setInitialPsw({ mask: 0x0000000080000000n, addr: 0x10000n }); // BA only: 31-bit
    const run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.s390SyncRegs.gprs[2]! & 0xffffffffn).toBe(1n);
    expect(run.s390SyncRegs.gprs[3]! & 0xffffffffn).toBe(0x80010000n + 14n); // link: mode bit | next address
  });
});
