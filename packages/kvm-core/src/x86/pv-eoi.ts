/**
 * PV EOI (MSR_KVM_PV_EOI_EN, arch/x86/kvm/lapic.c apic_sync_pv_eoi_*): before entry KVM
 * sets bit 0 of a guest u32 when the in-service interrupt can be EOIed without an exit
 * (no other request pending, edge-triggered so the IOAPIC needs no EOI). The guest
 * clears the bit instead of writing the EOI register; after the exit KVM sees the
 * cleared bit and performs the EOI itself.
 */
import { guestRange } from './kvmclock';
import type { KvmVcpuX86 } from './x86';

export const KVM_PV_EOI_ENABLED = 1;

/** apic_sync_pv_eoi_to_guest (before entry). */
export function kvmPvEoiSyncToGuest(vcpu: KvmVcpuX86): void {
  const apic = vcpu.apic;
  const pv = vcpu.pv;
  if (apic === null || pv.pvEoiGpa < 0 || pv.pvEoiPending) return;
  const isr = apic.highestIsr();
  if (isr < 0 || apic.highestIrr() >= 0 || apic.isrIsLevel(isr)) return;
  const r = guestRange(vcpu.kvm.vm.memslots, pv.pvEoiGpa, 4);
  if (r === null) return;
  r.view.setUint32(0, KVM_PV_EOI_ENABLED, true);
  vcpu.kvm.vm.memslots.markDirty(pv.pvEoiGpa);
  pv.pvEoiPending = true;
}

/** apic_sync_pv_eoi_from_guest (after exit). */
export function kvmPvEoiSyncFromGuest(vcpu: KvmVcpuX86): void {
  const apic = vcpu.apic;
  const pv = vcpu.pv;
  if (apic === null || !pv.pvEoiPending) return;
  pv.pvEoiPending = false;
  const r = guestRange(vcpu.kvm.vm.memslots, pv.pvEoiGpa, 4);
  if (r === null) return;
  const v = r.view.getUint32(0, true);
  if (v & KVM_PV_EOI_ENABLED) {
    // The guest did not EOI yet: withdraw the offer, it will write the register itself.
    r.view.setUint32(0, v & ~KVM_PV_EOI_ENABLED, true);
    vcpu.kvm.vm.memslots.markDirty(pv.pvEoiGpa);
    return;
  }
  apic.setEoi();
}
