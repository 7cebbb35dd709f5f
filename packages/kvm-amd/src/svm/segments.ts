/**
 * Segment registers between KVM's struct kvm_segment and the VMCB save area (selector,
 * 12-bit attrib = descriptor bits 47:40 and 55:52, limit, base), as Linux's
 * svm_set_segment / svm_get_segment do: an unusable segment is stored with attrib 0 and
 * reads back unusable when not present.
 */
import type { KvmSegment } from '@kvmts/kvm-core';
import type { Vmcb } from './vmcb';

export function svmSegmentAttrib(s: KvmSegment): number {
  if (s.unusable) return 0;
  return (
    (s.type & 15) | ((s.s & 1) << 4) | ((s.dpl & 3) << 5) | ((s.present & 1) << 7) | ((s.avl & 1) << 8) |
    ((s.l & 1) << 9) | ((s.db & 1) << 10) | ((s.g & 1) << 11)
  );
}

/** Writes a segment at a VMCB_SAVE segment offset (ES..TR; GDTR/IDTR use only limit/base). */
export function svmWriteSegment(v: Vmcb, off: number, s: KvmSegment): void {
  const base = BigInt.asUintN(64, s.base);
  v.setU16(off, s.selector);
  v.setU16(off + 2, svmSegmentAttrib(s));
  v.setU32(off + 4, s.limit);
  v.setU64(off + 8, Number(base & 0xffffffffn), Number(base >> 32n));
}

export function svmReadSegment(v: Vmcb, off: number): KvmSegment {
  const a = v.u16(off + 2);
  const present = (a >>> 7) & 1;
  return {
    base: v.big(off + 8),
    limit: v.u32(off + 4),
    selector: v.u16(off),
    type: a & 15,
    s: (a >>> 4) & 1,
    dpl: (a >>> 5) & 3,
    present,
    avl: (a >>> 8) & 1,
    l: (a >>> 9) & 1,
    db: (a >>> 10) & 1,
    g: (a >>> 11) & 1,
    unusable: present ? 0 : 1,
  };
}
