/**
 * Conversions between the engine's architectural state and the KVM uapi structures
 * (kvm_segment, kvm_dtable, 64-bit register values as bigint), for vendors implementing
 * get/set_segment, get/set_idt/gdt, get/set_rflags and friends. Not on the hot path.
 */
import type { KvmDtable, KvmSegment } from '../../uapi/structs';
import { AR_AVL, AR_DB, AR_G, AR_L, AR_P, AR_S, AR_UNUSABLE } from './constants';
import type { X86Cpu } from './cpu';

const TWO32 = 0x1_0000_0000;

/** A signed-canonical (or unsigned) address number as a u64 bigint. */
export function addrToU64(v: number): bigint {
  return BigInt.asUintN(64, BigInt(v));
}

/** A u64 bigint as the engine's address number (signed when bit 63 is set). */
export function u64ToAddr(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

/** kvm_segment from the hidden cache of segment `seg` (VCPU_SREG_*). */
export function getSegment(cpu: X86Cpu, seg: number): KvmSegment {
  const ar = cpu.segAr[seg]!;
  return {
    base: addrToU64(cpu.segBase[seg]!),
    limit: cpu.segLimit[seg]! >>> 0,
    selector: cpu.segSel[seg]! & 0xffff,
    type: ar & 0xf,
    s: (ar & AR_S) ? 1 : 0,
    dpl: (ar >> 5) & 3,
    present: (ar & AR_P) ? 1 : 0,
    avl: (ar & AR_AVL) ? 1 : 0,
    l: (ar & AR_L) ? 1 : 0,
    db: (ar & AR_DB) ? 1 : 0,
    g: (ar & AR_G) ? 1 : 0,
    unusable: (ar & AR_UNUSABLE) ? 1 : 0,
  };
}

/** The VMX access-rights encoding of a kvm_segment. */
export function segmentAr(s: KvmSegment): number {
  return (s.type & 0xf) | (s.s ? AR_S : 0) | ((s.dpl & 3) << 5) | (s.present ? AR_P : 0) | (s.avl ? AR_AVL : 0) |
    (s.l ? AR_L : 0) | (s.db ? AR_DB : 0) | (s.g ? AR_G : 0) | (s.unusable ? AR_UNUSABLE : 0);
}

/** Load a hidden cache from a kvm_segment; updates the mode bits (CPL is SS.DPL). */
export function setSegment(cpu: X86Cpu, seg: number, s: KvmSegment): void {
  cpu.segSel[seg] = s.selector & 0xffff;
  cpu.segBase[seg] = seg >= 4 || cpu.longMode ? u64ToAddr(s.base) : Number(s.base & 0xffffffffn);
  cpu.segLimit[seg] = s.limit >>> 0;
  cpu.segAr[seg] = segmentAr(s);
  cpu.updateMode();
  cpu.flushTlb();
}

export function getDtable(cpu: X86Cpu, which: 'gdt' | 'idt'): KvmDtable {
  return which === 'gdt'
    ? { base: addrToU64(cpu.gdtrBase), limit: cpu.gdtrLimit }
    : { base: addrToU64(cpu.idtrBase), limit: cpu.idtrLimit };
}

export function setDtable(cpu: X86Cpu, which: 'gdt' | 'idt', dt: KvmDtable): void {
  const base = u64ToAddr(dt.base);
  if (which === 'gdt') { cpu.gdtrBase = base; cpu.gdtrLimit = dt.limit & 0xffff; }
  else { cpu.idtrBase = base; cpu.idtrLimit = dt.limit & 0xffff; }
}

/** RIP as a u64 bigint. */
export function getRip(cpu: X86Cpu): bigint {
  return addrToU64(cpu.rip);
}

export function setRip(cpu: X86Cpu, rip: bigint): void {
  cpu.rip = cpu.longMode ? u64ToAddr(rip) : Number(rip & 0xffffffffn);
}

/** Interruptibility in the VMX encoding (bit 0 STI blocking, bit 1 MOV-SS blocking, bit 3 NMI blocking). */
export function getInterruptibility(cpu: X86Cpu): number {
  return (cpu.stiBlocking ? 1 : 0) | (cpu.movSsBlocking ? 2 : 0) | (cpu.nmiBlocking ? 8 : 0);
}

export function setInterruptibility(cpu: X86Cpu, v: number): void {
  cpu.stiBlocking = (v & 1) !== 0;
  cpu.movSsBlocking = (v & 2) !== 0;
  cpu.nmiBlocking = (v & 8) !== 0;
}

void TWO32;
