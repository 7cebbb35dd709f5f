/**
 * The two checksums the .xz container uses (xz-file-format.txt, section 3.4 and 7):
 * CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320; every header, the index, and
 * check type 1) and CRC64 (ECMA-182, reflected polynomial 0xC96C5795D7870F42; check
 * type 4, the `xz` tool's default). CRC64 runs on two 32-bit halves: no BigInt, since
 * it covers every byte of the decompressed kernel.
 */

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32 of data[start, end). */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  const t = CRC32_TABLE;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Reflected ECMA-182 polynomial 0xC96C5795D7870F42 as (hi, lo).
const POLY64_HI = 0xc96c5795;
const POLY64_LO = 0xd7870f42;
const CRC64_HI = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let k = 0; k < 8; k++) {
    const lsb = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (lsb) {
      hi = (hi ^ POLY64_HI) >>> 0;
      lo = (lo ^ POLY64_LO) >>> 0;
    }
  }
  CRC64_HI[n] = hi;
  CRC64_LO[n] = lo;
}

/** CRC64 of data[start, end) as 8 little-endian bytes (the order the .xz check field stores). */
export function crc64(data: Uint8Array, start = 0, end = data.length): Uint8Array {
  const th = CRC64_HI;
  const tl = CRC64_LO;
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (let i = start; i < end; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    // crc = table[idx] ^ (crc >> 8)
    lo = (tl[idx]! ^ ((lo >>> 8) | (hi << 24))) >>> 0;
    hi = (th[idx]! ^ (hi >>> 8)) >>> 0;
  }
  hi = (hi ^ 0xffffffff) >>> 0;
  lo = (lo ^ 0xffffffff) >>> 0;
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, lo, true);
  dv.setUint32(4, hi, true);
  return out;
}
