/**
 * kvmclock (arch/x86/kvm/x86.c kvm_guest_time_update / kvm_write_wall_clock,
 * include/asm/pvclock-abi.h): the pvclock structures KVM writes into guest memory when
 * the guest enables MSR_KVM_SYSTEM_TIME(_NEW) / MSR_KVM_WALL_CLOCK(_NEW).
 * Each write follows the version protocol: version made odd, data written, version
 * made even, so a guest reading concurrently retries. Writes go through the memslots
 * and mark the page dirty.
 */
import type { Memslots } from '../memory/memslots';
import { KVM_MEM_READONLY } from '../uapi/kvm';

export const MSR_KVM_WALL_CLOCK = 0x11;
export const MSR_KVM_SYSTEM_TIME = 0x12;
export const MSR_KVM_WALL_CLOCK_NEW = 0x4b564d00;
export const MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01;
export const MSR_KVM_ASYNC_PF_EN = 0x4b564d02;
export const MSR_KVM_STEAL_TIME = 0x4b564d03;
export const MSR_KVM_PV_EOI_EN = 0x4b564d04;
export const KVM_MSR_ENABLED = 1;

/** pvclock_vcpu_time_info.flags */
export const PVCLOCK_TSC_STABLE_BIT = 1 << 0;
export const PVCLOCK_GUEST_STOPPED = 1 << 1;
/** sizeof(struct pvclock_vcpu_time_info), sizeof(struct pvclock_wall_clock) */
export const PVCLOCK_VCPU_TIME_INFO_SIZE = 32;
export const PVCLOCK_WALL_CLOCK_SIZE = 12;

/** KVM_GET_CLOCK flags */
export const KVM_CLOCK_TSC_STABLE = 2;
export const KVM_CLOCK_REALTIME = 1 << 2;
export const KVM_CLOCK_HOST_TSC = 1 << 3;

/** The bytes of guest-physical [gpa, gpa+len) if one writable slot holds them all. */
export function guestRange(memslots: Memslots, gpa: number, len: number): { bytes: Uint8Array; view: DataView } | null {
  const slot = memslots.find(gpa);
  if (slot === undefined || slot.flags & KVM_MEM_READONLY) return null;
  const off = gpa - slot.guestPhysAddr;
  if (off + len > slot.memorySize) return null;
  const bytes = slot.hva.subarray(off, off + len);
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, len) };
}

/**
 * kvm_get_time_scale(NSEC_PER_SEC, tsc_hz): the (mul, shift) such that
 * ns = ((tsc_delta << shift) * mul) >> 32 (shift may be negative).
 */
export function kvmGetTimeScale(scaledHz: bigint, baseHz: bigint): { shift: number; mul: number } {
  let shift = 0;
  let tps64 = baseHz;
  let scaled64 = scaledHz;
  while (tps64 > scaled64 * 2n || tps64 & 0xffffffff00000000n) {
    tps64 >>= 1n;
    shift--;
  }
  let tps32 = tps64 & 0xffffffffn;
  while (tps32 <= scaled64 || scaled64 & 0xffffffff00000000n) {
    if (scaled64 & 0xffffffff00000000n || tps32 & 0x80000000n) scaled64 >>= 1n;
    else tps32 <<= 1n;
    shift++;
  }
  return { shift, mul: Number((scaled64 << 32n) / tps32) };
}

/** pvclock_scale_delta, as the guest computes it (for tests and KVM_GET_CLOCK). */
export function pvclockScaleDelta(delta: bigint, mul: number, shift: number): bigint {
  const d = shift < 0 ? delta >> BigInt(-shift) : delta << BigInt(shift);
  return (d * BigInt(mul)) >> 32n;
}

/**
 * Write struct pvclock_vcpu_time_info at `gpa`:
 *   u32 version; u32 pad0; u64 tsc_timestamp; u64 system_time;
 *   u32 tsc_to_system_mul; s8 tsc_shift; u8 flags; u8 pad[2];
 * Returns false if the area is not in guest RAM (the guest then sees nothing).
 */
export function writePvclockTimeInfo(
  memslots: Memslots, gpa: number, tscTimestamp: bigint, systemTimeNs: bigint, mul: number, shift: number, flags: number,
): boolean {
  const r = guestRange(memslots, gpa, PVCLOCK_VCPU_TIME_INFO_SIZE);
  if (r === null) return false;
  const v = r.view;
  const version = (v.getUint32(0, true) + 1) | 1; // odd: update in progress
  v.setUint32(0, version >>> 0, true);
  v.setBigUint64(8, tscTimestamp & 0xffffffffffffffffn, true);
  v.setBigUint64(16, systemTimeNs & 0xffffffffffffffffn, true);
  v.setUint32(24, mul >>> 0, true);
  v.setInt8(28, shift);
  v.setUint8(29, flags);
  v.setUint32(0, (version + 1) >>> 0, true); // even: consistent
  memslots.markDirty(gpa);
  if (((gpa + PVCLOCK_VCPU_TIME_INFO_SIZE - 1) >>> 12) !== gpa >>> 12) memslots.markDirty(gpa + PVCLOCK_VCPU_TIME_INFO_SIZE - 1);
  return true;
}

/** kvm_write_wall_clock: struct pvclock_wall_clock { u32 version; u32 sec; u32 nsec; }. */
export function writePvclockWallClock(memslots: Memslots, gpa: number, wallNsAtBoot: number): boolean {
  const r = guestRange(memslots, gpa, PVCLOCK_WALL_CLOCK_SIZE);
  if (r === null) return false;
  const v = r.view;
  const version = (v.getUint32(0, true) + 1) | 1;
  v.setUint32(0, version >>> 0, true);
  const sec = Math.floor(wallNsAtBoot / 1e9);
  v.setUint32(4, sec >>> 0, true);
  v.setUint32(8, Math.round(wallNsAtBoot - sec * 1e9) >>> 0, true);
  v.setUint32(0, (version + 1) >>> 0, true);
  memslots.markDirty(gpa);
  return true;
}
