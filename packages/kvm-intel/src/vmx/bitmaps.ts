/**
 * Bitmap- and mask-driven exit decisions (SDM vol. 3C 25.1.3, 25.6.3-25.6.9):
 * I/O bitmaps A/B, the MSR bitmap, CR0/CR4 guest/host masks with their read shadows,
 * and CR3-target values. The bitmaps are 4 KiB pages the driver hands in as Uint8Arrays
 * (views of the memory whose physical addresses are in IO_BITMAP_A/B and MSR_BITMAP).
 * These run per I/O or MSR instruction: no allocation.
 */
import {
  CPU_BASED_CR3_LOAD_EXITING,
  CPU_BASED_CR3_STORE_EXITING,
  CPU_BASED_UNCOND_IO_EXITING,
  CPU_BASED_USE_IO_BITMAPS,
  CPU_BASED_USE_MSR_BITMAPS,
} from './controls';

export const VMX_BITMAP_SIZE = 4096;

function bit(map: Uint8Array, n: number): boolean {
  return (map[n >>> 3]! & (1 << (n & 7))) !== 0;
}

/**
 * Whether an access of `size` bytes at `port` hits a set bit in the I/O bitmaps (A covers
 * 0000-7FFF, B 8000-FFFF). An access wrapping past FFFF always exits (SDM 25.1.3).
 */
export function ioBitmapHit(bitmapA: Uint8Array, bitmapB: Uint8Array, port: number, size: number): boolean {
  if (port + size > 0x10000) return true;
  for (let p = port; p < port + size; p++) {
    if (p < 0x8000 ? bit(bitmapA, p) : bit(bitmapB, p - 0x8000)) return true;
  }
  return false;
}

/**
 * Whether IN/INS/OUT/OUTS exits: with "use I/O bitmaps" the bitmaps decide (and
 * "unconditional I/O exiting" is ignored); otherwise unconditional I/O exiting decides.
 */
export function ioInstructionExits(
  procBasedCtls: number,
  bitmapA: Uint8Array,
  bitmapB: Uint8Array,
  port: number,
  size: number,
): boolean {
  if (procBasedCtls & CPU_BASED_USE_IO_BITMAPS) return ioBitmapHit(bitmapA, bitmapB, port, size);
  return (procBasedCtls & CPU_BASED_UNCOND_IO_EXITING) !== 0;
}

/** Offsets of the four 1 KiB quarters of the MSR bitmap (SDM 25.6.9). */
export const MSR_BITMAP_READ_LOW = 0x000;
export const MSR_BITMAP_READ_HIGH = 0x400;
export const MSR_BITMAP_WRITE_LOW = 0x800;
export const MSR_BITMAP_WRITE_HIGH = 0xc00;

/**
 * Byte offset of the quarter and bit number for an MSR, or -1 when the MSR is outside
 * 00000000-00001FFF and C0000000-C0001FFF (those always exit).
 */
function msrBitIndex(msr: number, write: boolean): number {
  const m = msr >>> 0;
  if (m <= 0x1fff) return ((write ? MSR_BITMAP_WRITE_LOW : MSR_BITMAP_READ_LOW) << 3) + m;
  if (m >= 0xc0000000 && m <= 0xc0001fff) return ((write ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_READ_HIGH) << 3) + (m - 0xc0000000);
  return -1;
}

/** Whether RDMSR (write=false) or WRMSR (write=true) of ECX=`msr` exits. */
export function msrAccessExits(procBasedCtls: number, msrBitmap: Uint8Array, msr: number, write: boolean): boolean {
  if ((procBasedCtls & CPU_BASED_USE_MSR_BITMAPS) === 0) return true;
  const i = msrBitIndex(msr, write);
  return i < 0 || bit(msrBitmap, i);
}

/** Sets or clears an MSR's intercept in a bitmap (what Linux's vmx_{en,dis}able_intercept_for_msr do). */
export function setMsrBitmapIntercept(msrBitmap: Uint8Array, msr: number, write: boolean, intercept: boolean): void {
  const i = msrBitIndex(msr, write);
  if (i < 0) throw new RangeError(`MSR 0x${(msr >>> 0).toString(16)} is outside the MSR bitmap ranges`);
  if (intercept) msrBitmap[i >>> 3]! |= 1 << (i & 7);
  else msrBitmap[i >>> 3]! &= ~(1 << (i & 7));
}

/** Sets or clears the I/O-bitmap bit of one port. */
export function setIoBitmapIntercept(bitmapA: Uint8Array, bitmapB: Uint8Array, port: number, intercept: boolean): void {
  const map = port < 0x8000 ? bitmapA : bitmapB;
  const p = port & 0x7fff;
  if (intercept) map[p >>> 3]! |= 1 << (p & 7);
  else map[p >>> 3]! &= ~(1 << (p & 7));
}

// ---- CR0/CR4 guest/host masks and read shadows (SDM 25.6.6)

/**
 * The value MOV from CR0/CR4 returns in the guest: host-owned bits (set in the mask) come
 * from the read shadow, guest-owned bits from the real register. 32-bit values (bits 63:32
 * of CR0 and CR4 are reserved).
 */
export function crReadValue(actual: number, mask: number, shadow: number): number {
  return ((actual & ~mask) | (shadow & mask)) >>> 0;
}

/** MOV to CR0/CR4 exits if any host-owned bit of the new value differs from the shadow. */
export function movToCrExits(newValue: number, mask: number, shadow: number): boolean {
  return ((newValue ^ shadow) & mask) !== 0;
}

/** The value MOV to CR0/CR4 leaves in the real register when it does not exit: guest-owned bits change only. */
export function crWriteResult(actual: number, newValue: number, mask: number): number {
  return ((actual & mask) | (newValue & ~mask)) >>> 0;
}

const CR0_TS = 1 << 3;

/** CLTS exits iff CR0.TS is host-owned and the shadow's TS is 1. */
export function cltsExits(cr0Mask: number, cr0Shadow: number): boolean {
  return (cr0Mask & CR0_TS) !== 0 && (cr0Shadow & CR0_TS) !== 0;
}

/**
 * LMSW exits iff (a) CR0.PE is host-owned, the shadow's PE is 0 and the source's PE is 1,
 * or (b) for any of MP/EM/TS (bits 3:1) host-owned, the source differs from the shadow.
 * LMSW can set PE but never clear it.
 */
export function lmswExits(source: number, cr0Mask: number, cr0Shadow: number): boolean {
  if ((cr0Mask & 1) !== 0 && (cr0Shadow & 1) === 0 && (source & 1) !== 0) return true;
  return ((source ^ cr0Shadow) & cr0Mask & 0xe) !== 0;
}

/**
 * MOV to CR3 exits with "CR3-load exiting" unless the value equals one of the first
 * `cr3TargetCount` CR3-target values (compared as (lo, hi) halves).
 */
export function movToCr3Exits(
  procBasedCtls: number,
  valueLo: number,
  valueHi: number,
  cr3TargetCount: number,
  targetsLo: ArrayLike<number>,
  targetsHi: ArrayLike<number>,
): boolean {
  if ((procBasedCtls & CPU_BASED_CR3_LOAD_EXITING) === 0) return false;
  for (let i = 0; i < cr3TargetCount; i++) {
    if (targetsLo[i]! >>> 0 === valueLo >>> 0 && targetsHi[i]! >>> 0 === valueHi >>> 0) return false;
  }
  return true;
}

export function movFromCr3Exits(procBasedCtls: number): boolean {
  return (procBasedCtls & CPU_BASED_CR3_STORE_EXITING) !== 0;
}

/**
 * Whether an exception exits (SDM 25.6.3): its bit in the exception bitmap; for #PF, the
 * bit is taken as is when (error code & PFEC_MASK) == PFEC_MATCH and inverted otherwise.
 */
export function exceptionExits(
  exceptionBitmap: number,
  vector: number,
  pfErrorCode: number,
  pfecMask: number,
  pfecMatch: number,
): boolean {
  const b = (exceptionBitmap >>> vector) & 1;
  if (vector !== 14) return b !== 0;
  const match = ((pfErrorCode & pfecMask) >>> 0) === pfecMatch >>> 0;
  return match ? b !== 0 : b === 0;
}
