/**
 * Guest segment registers between KVM's struct kvm_segment and the VMCS guest-state
 * fields (selector, base, limit, access rights in the VMX format of SDM table 25-2), as
 * Linux's vmx_set_segment / vmx_get_segment / vmx_segment_access_rights do.
 */
import type { KvmSegment } from '@kvmts/kvm-core';
import { VMCS_FIELDS as F } from './vmcs-fields';
import type { Vmcs } from './vmcs';

export type VmxSegmentName = 'ES' | 'CS' | 'SS' | 'DS' | 'FS' | 'GS' | 'TR' | 'LDTR';

/** kvm_segment -> VMX access rights; an unusable segment is just bit 16. */
export function vmxSegmentAccessRights(s: KvmSegment): number {
  if (s.unusable) return 1 << 16;
  return (
    (s.type & 15) | ((s.s & 1) << 4) | ((s.dpl & 3) << 5) | ((s.present & 1) << 7) | ((s.avl & 1) << 12) |
    ((s.l & 1) << 13) | ((s.db & 1) << 14) | ((s.g & 1) << 15)
  );
}

export function vmxWriteGuestSegment(v: Vmcs, name: VmxSegmentName, s: KvmSegment): void {
  v.write32(F[`GUEST_${name}_SELECTOR`], s.selector);
  const base = BigInt.asUintN(64, s.base);
  v.write64(F[`GUEST_${name}_BASE`], Number(base & 0xffffffffn), Number(base >> 32n));
  v.write32(F[`GUEST_${name}_LIMIT`], s.limit);
  v.write32(F[`GUEST_${name}_AR_BYTES`], vmxSegmentAccessRights(s));
}

export function vmxReadGuestSegment(v: Vmcs, name: VmxSegmentName): KvmSegment {
  const ar = v.read32(F[`GUEST_${name}_AR_BYTES`]);
  const baseField = F[`GUEST_${name}_BASE`];
  return {
    base: (BigInt(v.readHigh32(baseField)) << 32n) | BigInt(v.read32(baseField)),
    limit: v.read32(F[`GUEST_${name}_LIMIT`]),
    selector: v.read32(F[`GUEST_${name}_SELECTOR`]),
    type: ar & 15,
    s: (ar >>> 4) & 1,
    dpl: (ar >>> 5) & 3,
    present: (ar >>> 7) & 1,
    avl: (ar >>> 12) & 1,
    l: (ar >>> 13) & 1,
    db: (ar >>> 14) & 1,
    g: (ar >>> 15) & 1,
    unusable: (ar >>> 16) & 1,
  };
}
