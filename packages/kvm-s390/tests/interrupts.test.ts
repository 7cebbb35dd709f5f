/**
 * Interrupts through kvm-s390's public API: the clock comparator waking an enabled
 * wait (virtual time jumps to the deadline), SIGP between two vCPUs (sense of a
 * stopped CPU, emergency signal, restart), and program-interruption reinjection while
 * guest debugging makes SIE intercept program interruptions.
 */
import { describe, expect, it } from 'vitest';
import { createHost, EventFd, s390uapi, uapi } from '@kvmts/kvm-core';
import { kvmS390 } from '@kvmts/kvm-s390';

const PSW64 = 0x0000000180000000n;
const WAIT_EXT_PSW = 0x0102000180000000n; // EXT | WAIT, 64-bit
const DIAG_500 = [0x83, 0x00, 0x05, 0x00];

function machine(ncpus = 1) {
  const host = createHost();
  host.insmod(kvmS390);
  const vm = host.open('/dev/kvm').createVm();
  const ram = new Uint8Array(1 << 20);
  vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
  const vcpus = Array.from({ length: ncpus }, (_, i) => vm.createVcpu(i));
  return { vm, ram, dv: new DataView(ram.buffer), vcpus };
}

describe('kvm-s390 interrupts', () => {
  it('wakes an enabled wait with the clock-comparator interrupt', () => {
    const { ram, dv, vcpus: [v] } = machine();
    dv.setBigUint64(0x1b0, PSW64); // external new PSW -> DIAG 0x500 at 0x20000
    dv.setBigUint64(0x1b8, 0x20000n);
    ram.set(DIAG_500, 0x20000);
    dv.setBigUint64(0x310, 0x800n); // CR0: clock-comparator subclass
    dv.setBigUint64(0x320, WAIT_EXT_PSW);
    ram.set([
      0xb2, 0x05, 0x03, 0x00, // stck 0x300
      0xe3, 0x10, 0x03, 0x00, 0x00, 0x04, // lg %r1,0x300
      0xc2, 0x18, 0x01, 0x00, 0x00, 0x00, // agfi %r1,0x1000000 (4.096 ms of TOD)
      0xe3, 0x10, 0x03, 0x08, 0x00, 0x24, // stg %r1,0x308
      0xb2, 0x06, 0x03, 0x08, // sckc 0x308
      0xeb, 0x00, 0x03, 0x10, 0x00, 0x2f, // lctlg %c0,%c0,0x310
      0xb2, 0xb2, 0x03, 0x20, // lpswe 0x320 (enabled wait)
    ], 0x10000);
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    const run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.psw.addr).toBe(0x20004n);
    expect(dv.getUint16(0x86)).toBe(0x1004); // clock comparator
    expect(dv.getBigUint64(0x130) & 0x0002000000000000n).not.toBe(0n); // the old PSW was the wait PSW
    const stats = v.archIoctl<{ exitWaitState: number; haltWakeup: number }>('getStats');
    expect(stats.exitWaitState).toBeGreaterThanOrEqual(1);
    expect(stats.haltWakeup).toBe(1);
    // The guest's clock passed the comparator: STCK again and compare.
    expect(run.s390SyncRegs.ckc).toBe(dv.getBigUint64(0x308));
  });

  it('signals between vCPUs with SIGP: sense (stopped), emergency signal, restart', () => {
    const { ram, dv, vcpus: [v0, v1] } = machine(2);
    // vCPU 0: sense CPU 1 (stopped: cc 1, status in r4), emergency signal to CPU 1, exit.
    ram.set([
      0xa7, 0x39, 0x00, 0x01, // lghi %r3,1
      0xae, 0x43, 0x00, 0x01, // sigp %r4,%r3,SENSE
      0xb2, 0x22, 0x00, 0x60, // ipm %r6
      0xae, 0x83, 0x00, 0x03, // sigp %r8,%r3,EMERGENCY
      0xb2, 0x22, 0x00, 0x70, // ipm %r7
      ...DIAG_500,
    ], 0x10000);
    v0.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    v1.setMpState({ mpState: uapi.KVM_MP_STATE_STOPPED });
    let run = v0.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect((run.s390SyncRegs.gprs[6]! >> 28n) & 3n).toBe(1n);
    expect(run.s390SyncRegs.gprs[4]! & 0xffffffffn).toBe(0x40n); // SIGP_STATUS_STOPPED
    expect((run.s390SyncRegs.gprs[7]! >> 28n) & 3n).toBe(0n);

    // vCPU 1: its own lowcore at prefix 0x8000, enabled for emergency signals, waiting.
    dv.setBigUint64(0x8000 + 0x1b0, PSW64);
    dv.setBigUint64(0x8000 + 0x1b8, 0x30000n);
    ram.set(DIAG_500, 0x30000);
    const r1 = v1.kvmRun;
    r1.s390SyncRegs.prefix = 0x8000;
    r1.s390SyncRegs.crs[0] = 0x4000n; // CR0: emergency-signal subclass
    r1.kvmDirtyRegs = s390uapi.KVM_SYNC_PREFIX | s390uapi.KVM_SYNC_CRS;
    r1.psw.mask = WAIT_EXT_PSW;
    r1.psw.addr = 0x40000n;
    v1.setMpState({ mpState: uapi.KVM_MP_STATE_OPERATING });
    run = v1.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.psw.addr).toBe(0x30004n);
    expect(dv.getUint16(0x8000 + 0x86)).toBe(0x1201); // emergency signal
    expect(dv.getUint16(0x8000 + 0x84)).toBe(0); // from CPU 0
    expect(dv.getUint16(0x86)).toBe(0); // vCPU 0's lowcore untouched

    // SIGP RESTART of CPU 1 from CPU 0: CPU 1 takes the restart PSW swap.
    dv.setBigUint64(0x8000 + 0x1a0, PSW64);
    dv.setBigUint64(0x8000 + 0x1a8, 0x30000n);
    ram.set([0xa7, 0x39, 0x00, 0x01, 0xae, 0x43, 0x00, 0x06, 0xb2, 0x22, 0x00, 0x60, ...DIAG_500], 0x11000);
    v0.kvmRun.psw.addr = 0x11000n;
    run = v0.run();
    expect((run.s390SyncRegs.gprs[6]! >> 28n) & 3n).toBe(0n);
    run = v1.run();
    expect(run.psw.addr).toBe(0x30004n);
    expect(dv.getBigUint64(0x8000 + 0x128)).toBe(0x30004n); // restart old PSW
  });

  it('reinjects program interruptions intercepted while guest debugging is on', () => {
    const { ram, dv, vcpus: [v] } = machine();
    dv.setBigUint64(0x1d0, PSW64);
    dv.setBigUint64(0x1d8, 0x20000n);
    ram.set(DIAG_500, 0x20000);
    ram.set([0xa7, 0x19, 0x00, 0x07, 0xa7, 0x29, 0x00, 0x00, 0xb9, 0x0d, 0x00, 0x02], 0x10000); // lghi 1,7; lghi 2,0; dsgr 0,2: divide by zero
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    v.setGuestDebug({ control: 1 });
    const run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.psw.addr).toBe(0x20004n);
    const stats = v.archIoctl<{ exitProgramInterruption: number }>('getStats');
    expect(dv.getUint16(0x8e)).toBe(0x09); // fixed-point divide
    expect(dv.getUint16(0x8c)).toBe(4);
    expect(stats.exitProgramInterruption).toBe(1);
  });

  it('wakes an enabled wait with the CPU-timer interrupt', () => {
    const { ram, dv, vcpus: [v] } = machine();
    dv.setBigUint64(0x1b0, PSW64);
    dv.setBigUint64(0x1b8, 0x20000n);
    ram.set(DIAG_500, 0x20000);
    dv.setBigUint64(0x300, 0x100000n); // 256 us of CPU time
    dv.setBigUint64(0x310, 0x400n); // CR0: CPU-timer subclass
    dv.setBigUint64(0x320, WAIT_EXT_PSW);
    ram.set([
      0xb2, 0x08, 0x03, 0x00, // spt 0x300
      0xeb, 0x00, 0x03, 0x10, 0x00, 0x2f, // lctlg %c0,%c0,0x310
      0xb2, 0xb2, 0x03, 0x20, // lpswe 0x320
    ], 0x10000);
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    const run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(dv.getUint16(0x86)).toBe(0x1005);
    expect(run.s390SyncRegs.cputm >= -0x1000n && run.s390SyncRegs.cputm <= 0n).toBe(true); // just expired
  });

  it('delivers a SIGP external call with the sender, and reports it pending to SENSE', () => {
    const { ram, dv, vcpus: [v0, v1] } = machine(2);
    // CPU 0: external call to CPU 1 twice (the second finds it pending: cc 1, status 0x80)
    ram.set([
      0xa7, 0x39, 0x00, 0x01, 0xae, 0x43, 0x00, 0x02, 0xb2, 0x22, 0x00, 0x60,
      0xae, 0x43, 0x00, 0x02, 0xb2, 0x22, 0x00, 0x70, ...DIAG_500,
    ], 0x10000);
    v0.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    let run = v0.run();
    expect((run.s390SyncRegs.gprs[6]! >> 28n) & 3n).toBe(0n);
    expect((run.s390SyncRegs.gprs[7]! >> 28n) & 3n).toBe(1n);
    expect(run.s390SyncRegs.gprs[4]! & 0xffffffffn).toBe(0x80n);
    dv.setBigUint64(0x8000 + 0x1b0, PSW64);
    dv.setBigUint64(0x8000 + 0x1b8, 0x30000n);
    ram.set(DIAG_500, 0x30000);
    const r1 = v1.kvmRun;
    r1.s390SyncRegs.prefix = 0x8000;
    r1.s390SyncRegs.crs[0] = 0x2000n; // CR0: external-call subclass
    r1.kvmDirtyRegs = s390uapi.KVM_SYNC_PREFIX | s390uapi.KVM_SYNC_CRS;
    r1.psw.mask = WAIT_EXT_PSW;
    r1.psw.addr = 0x40000n;
    run = v1.run();
    expect(run.psw.addr).toBe(0x30004n);
    expect(dv.getUint16(0x8000 + 0x86)).toBe(0x1202);
    expect(dv.getUint16(0x8000 + 0x84)).toBe(0);
  });

  it('memOp: logical accesses go through prefixing, check-only transfers nothing', () => {
    const { ram, vcpus: [v] } = machine();
    const r = v.kvmRun;
    r.s390SyncRegs.prefix = 0x4000;
    r.kvmDirtyRegs = s390uapi.KVM_SYNC_PREFIX;
    ram.set([0x83, 0x00, 0x05, 0x00], 0x10000);
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    v.run();
    v.memOp({ gaddr: 0x10n, size: 4, op: s390uapi.KVM_S390_MEMOP_LOGICAL_WRITE, buf: new Uint8Array([1, 2, 3, 4]) });
    expect([...ram.subarray(0x4010, 0x4014)]).toEqual([1, 2, 3, 4]); // real 0x10 is absolute 0x4010
    v.memOp({ gaddr: 0x20n, size: 4, op: s390uapi.KVM_S390_MEMOP_LOGICAL_WRITE, buf: new Uint8Array([9, 9, 9, 9]), flags: s390uapi.KVM_S390_MEMOP_F_CHECK_ONLY });
    expect([...ram.subarray(0x4020, 0x4024)]).toEqual([0, 0, 0, 0]);
    const abs = v.memOp({ gaddr: 0x4010n, size: 4, op: s390uapi.KVM_S390_MEMOP_ABSOLUTE_READ }) as Uint8Array;
    expect([...abs]).toEqual([1, 2, 3, 4]);
    expect(() => v.memOp({ gaddr: 0xffff0n, size: 0x20, op: s390uapi.KVM_S390_MEMOP_LOGICAL_READ })).toThrow(/program interruption 0x5/);
  });

  it('delivers a floating I/O interrupt (KVM_S390_INT_IO) when the ISC is enabled in CR6', () => {
    const { vm, ram, dv, vcpus: [v] } = machine();
    dv.setBigUint64(0x1f0, PSW64); // I/O new PSW
    dv.setBigUint64(0x1f8, 0x20000n);
    ram.set(DIAG_500, 0x20000);
    dv.setBigUint64(0x310, 0x10000000n); // CR6: ISC 3
    dv.setBigUint64(0x320, 0x0202000180000000n); // I/O-enabled wait
    ram.set([0xeb, 0x66, 0x03, 0x10, 0x00, 0x2f, 0xb2, 0xb2, 0x03, 0x20], 0x10000); // lctlg c6; lpswe
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    let run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_INTR); // nothing pending: the wait would block
    vm.s390Interrupt({ type: s390uapi.KVM_S390_INT_IO(0, 0, 0, 5), parm: 0x00010005, parm64: (0x1234n << 32n) | 0x18000000n });
    run = v.run();
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.psw.addr).toBe(0x20004n);
    expect(dv.getUint16(0xb8)).toBe(0x0001);
    expect(dv.getUint16(0xba)).toBe(0x0005);
    expect(dv.getUint32(0xbc)).toBe(0x1234);
    expect(dv.getUint32(0xc0)).toBe(0x18000000);
  });

  it('signals a virtio-ccw ioeventfd from DIAG 0x500 in the kernel, else exits to userspace', () => {
    const { vm, ram, vcpus: [v] } = machine();
    const efd = new EventFd();
    vm.ioeventfd({ eventfd: efd, addr: 0x00010005, len: 8, datamatch: 2n,
      flags: uapi.KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY | uapi.KVM_IOEVENTFD_FLAG_DATAMATCH });
    // lghi 1,3; llilf 2,0x10005; lghi 3,2; diag 2,4,0x500 (queue 2: eventfd); lghi 3,1; diag (queue 1: userspace)
    ram.set([0xa7, 0x19, 0x00, 0x03, 0xc0, 0x2f, 0x00, 0x01, 0x00, 0x05, 0xa7, 0x39, 0x00, 0x02, 0x83, 0x24, 0x05, 0x00,
      0xa7, 0x39, 0x00, 0x01, 0xc0, 0x2f, 0x00, 0x01, 0x00, 0x05, 0x83, 0x24, 0x05, 0x00], 0x10000);
    v.setInitialPsw({ mask: PSW64, addr: 0x10000n });
    const run = v.run();
    expect(efd.read()).toBe(1n);
    expect(run.exitReason).toBe(uapi.KVM_EXIT_S390_SIEIC);
    expect(run.s390Sieic.ipa).toBe(0x8324);
    expect(run.psw.addr).toBe(0x10000n + 32n);
    expect(() => vm.ioeventfd({ eventfd: efd, addr: 1, len: 8, flags: 0 })).toThrow(/args.flags/);
  });
});
