/**
 * Steal time (MSR_KVM_STEAL_TIME, arch/x86/kvm/x86.c record_steal_time and
 * kvm_steal_time_set_preempted): struct kvm_steal_time in guest memory tells the guest
 * how long it was runnable but not running. Here that is the VM-clock time between a
 * KVM_RUN that ended at its time slice (still runnable) and the next KVM_RUN, i.e. the
 * time other vCPUs of the VMM's loop ran instead.
 *
 *   struct kvm_steal_time { u64 steal; u32 version; u32 flags; u8 preempted; u8 pad[3]; u32 pad[11]; }
 */
import { guestRange } from './kvmclock';
import type { KvmVcpuX86 } from './x86';

export const KVM_STEAL_TIME_SIZE = 64;
/** Bits 5:1 of the MSR are reserved (the area is 64-byte aligned). */
export const KVM_STEAL_RESERVED_MASK = 0x3en;
export const KVM_VCPU_PREEMPTED = 1 << 0;

/** record_steal_time: before entry, add the steal accumulated since the last update. */
export function kvmRecordStealTime(vcpu: KvmVcpuX86): void {
  const st = vcpu.steal;
  if (st.gpa < 0) return;
  const r = guestRange(vcpu.kvm.vm.memslots, st.gpa, KVM_STEAL_TIME_SIZE);
  if (r === null) return;
  const v = r.view;
  const version = (v.getUint32(8, true) + 1) | 1;
  v.setUint32(8, version >>> 0, true);
  v.setBigUint64(0, v.getBigUint64(0, true) + BigInt(Math.floor(st.pendingNs)), true);
  v.setUint8(16, 0);
  v.setUint32(8, (version + 1) >>> 0, true);
  st.pendingNs -= Math.floor(st.pendingNs);
  vcpu.kvm.vm.memslots.markDirty(st.gpa);
}

/** kvm_steal_time_set_preempted: the vCPU was descheduled while runnable. */
export function kvmStealTimeSetPreempted(vcpu: KvmVcpuX86): void {
  const st = vcpu.steal;
  if (st.gpa < 0) return;
  const r = guestRange(vcpu.kvm.vm.memslots, st.gpa, KVM_STEAL_TIME_SIZE);
  if (r === null) return;
  r.view.setUint8(16, KVM_VCPU_PREEMPTED);
  vcpu.kvm.vm.memslots.markDirty(st.gpa);
}
