/**
 * Robustness: random bytes as guest code never crash the host. Every run ends in an
 * architected way (an exit to userspace, or KvmError for what Linux returns as errno),
 * and the program new PSW is a disabled wait so a faulting guest stops quickly.
 */
import { describe, expect, it } from 'vitest';
import { createHost, isKvmError, uapi } from '@kvmts/kvm-core';
import { kvmS390 } from '@kvmts/kvm-s390';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('kvm-s390 with random guest code', () => {
  it('never throws anything but KvmError and exits architecturally', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 400; seed++) {
      const next = rng(seed * 2654435761);
      const host = createHost();
      host.insmod(kvmS390);
      const vm = host.open('/dev/kvm').createVm();
      const ram = new Uint8Array(256 << 10);
      const dv = new DataView(ram.buffer);
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0, memorySize: ram.length, userspaceAddr: ram });
      for (let i = 0x10000; i < 0x12000; i++) ram[i] = next() & 0xff;
      // Every new PSW is a disabled wait: a fault, SVC or interrupt ends the run.
      for (const a of [0x1a0, 0x1b0, 0x1c0, 0x1d0, 0x1e0, 0x1f0]) { dv.setBigUint64(a, 0x0002000180000000n); dv.setBigUint64(a + 8, BigInt(a)); }
      const v = vm.createVcpu(0);
      v.setInitialPsw({ mask: 0x0000000180000000n, addr: 0x10000n });
      for (let k = 0; k < 3; k++) {
        try {
          const run = v.run();
          seen.add(run.exitReason);
          expect([uapi.KVM_EXIT_S390_SIEIC, uapi.KVM_EXIT_S390_RESET, uapi.KVM_EXIT_INTR]).toContain(run.exitReason);
          if (run.exitReason === uapi.KVM_EXIT_S390_SIEIC && run.s390Sieic.icptcode === 0x1c) break;
          if (run.exitReason === uapi.KVM_EXIT_S390_SIEIC && run.s390Sieic.icptcode === 0x04) {
            // userspace declines the instruction as QEMU does: operation exception
            v.s390Interrupt({ type: 0xfffe0001, parm: 1 });
          }
        } catch (e) {
          expect(isKvmError(e)).toBe(true);
          break;
        }
      }
    }
    expect(seen.has(uapi.KVM_EXIT_S390_SIEIC)).toBe(true);
  });
});
