/**
 * The MSR permissions map (AMD APM vol. 2, 15.11): 8 KiB, two bits per MSR (even bit =
 * intercept RDMSR, odd bit = intercept WRMSR), in three 2 KiB vectors:
 *   0x000-0x7FF  MSRs 0000_0000-0000_1FFF
 *   0x800-0xFFF  MSRs C000_0000-C000_1FFF
 *   0x1000-0x17FF MSRs C001_0000-C001_1FFF
 * (0x1800-0x1FFF reserved). Other MSRs are always intercepted when MSR_PROT is set.
 */
export const MSRPM_SIZE = 2 * 4096;

/** Bit index of the read-intercept bit of `msr`, or -1 when outside the three ranges. */
export function msrpmBitIndex(msr: number): number {
  const m = msr >>> 0;
  if (m <= 0x1fff) return m * 2;
  if (m >= 0xc0000000 && m <= 0xc0001fff) return 0x800 * 8 + (m - 0xc0000000) * 2;
  if (m >= 0xc0010000 && m <= 0xc0011fff) return 0x1000 * 8 + (m - 0xc0010000) * 2;
  return -1;
}

export function msrpmIntercepts(msrpm: Uint8Array, msr: number, write: boolean): boolean {
  const i = msrpmBitIndex(msr);
  if (i < 0) return true;
  const b = i + (write ? 1 : 0);
  return (msrpm[b >>> 3]! & (1 << (b & 7))) !== 0;
}

/** Whether RDMSR/WRMSR exits: with the MSR_PROT intercept, the MSRPM decides. */
export function msrExits(msrProtIntercept: boolean, msrpm: Uint8Array, msr: number, write: boolean): boolean {
  return msrProtIntercept && msrpmIntercepts(msrpm, msr, write);
}

export function setMsrpmIntercept(msrpm: Uint8Array, msr: number, write: boolean, intercept: boolean): void {
  const i = msrpmBitIndex(msr);
  if (i < 0) throw new RangeError(`MSR 0x${(msr >>> 0).toString(16)} is outside the MSRPM ranges`);
  const b = i + (write ? 1 : 0);
  if (intercept) msrpm[b >>> 3]! |= 1 << (b & 7);
  else msrpm[b >>> 3]! &= ~(1 << (b & 7));
}
