/**
 * The x86 BCJ filter's decoder (xz filter ID 0x04; xz-embedded's bcj_x86, LZMA SDK's
 * x86_Convert). The encoder turned the rel32 of E8 (CALL) and E9 (JMP) into absolute
 * addresses so that repeated call targets compress better; this turns them back. The
 * kernel's xz_wrap.sh compresses vmlinux with --x86, so every XZ kernel payload has it.
 * Runs in place over one block's whole output (the block is the filter's unit: its
 * state and position start at zero, or at the filter's start offset).
 */

/** Which prev_mask values still allow a conversion, and the byte that decides it. */
const MASK_TO_ALLOWED = [true, true, true, false, true, false, false, false] as const;
const MASK_TO_BIT_NUM = [0, 1, 2, 2, 3, 3, 3, 3] as const;

function testMsByte(b: number): boolean {
  return b === 0x00 || b === 0xff;
}

/** Decodes buf[start, end) in place; `startOffset` is the filter property (default 0). */
export function bcjX86Decode(buf: Uint8Array, start: number, end: number, startOffset = 0): void {
  const size = end - start;
  if (size <= 4) return;
  let prevMask = 0;
  let prevPos = -1;
  const limit = size - 4;
  let i = 0;
  for (; i < limit; i++) {
    const p = start + i;
    if ((buf[p]! & 0xfe) !== 0xe8) continue;
    const dist = i - prevPos;
    if (dist > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (dist - 1)) & 7;
      if (prevMask !== 0) {
        const b = buf[p + 4 - MASK_TO_BIT_NUM[prevMask]!]!;
        if (!MASK_TO_ALLOWED[prevMask] || testMsByte(b)) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          continue;
        }
      }
    }
    prevPos = i;
    if (testMsByte(buf[p + 4]!)) {
      let src = (buf[p + 1]! | (buf[p + 2]! << 8) | (buf[p + 3]! << 16) | (buf[p + 4]! << 24)) >>> 0;
      let dest: number;
      for (;;) {
        dest = (src - ((startOffset + i + 5) >>> 0)) >>> 0;
        if (prevMask === 0) break;
        const j = MASK_TO_BIT_NUM[prevMask]! * 8;
        const b = (dest >>> (24 - j)) & 0xff;
        if (!testMsByte(b)) break;
        src = (dest ^ (2 ** (32 - j) - 1)) >>> 0;
      }
      dest &= 0x01ffffff;
      if (dest & 0x01000000) dest |= 0xfe000000; // sign-extend bit 24 into the top byte
      buf[p + 1] = dest & 0xff;
      buf[p + 2] = (dest >>> 8) & 0xff;
      buf[p + 3] = (dest >>> 16) & 0xff;
      buf[p + 4] = (dest >>> 24) & 0xff;
      i += 4;
    } else {
      prevMask = (prevMask << 1) | 1;
    }
  }
}
