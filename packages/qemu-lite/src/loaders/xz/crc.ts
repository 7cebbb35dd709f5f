/**
 * The two checksums the .xz container uses (xz-file-format.txt, section 3.4 and 7):
 * CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320; every header, the index, and
 * check type 1) and CRC64 (ECMA-182, reflected polynomial 0xC96C5795D7870F42; check
 * type 4, the `xz` tool's default). CRC64 runs on two 32-bit halves: no BigInt, since
 * it covers every byte of the decompressed kernel.
 */

/**
 * CRC32 tables for slicing by 8 (Intel's slicing-by-8): table k at k * 256 advances a
 * byte's CRC by k more zero bytes, so eight input bytes take eight lookups and no
 * dependency between them (the check covers every byte of a decompressed kernel).
 */
const CRC32_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** CRC32 of data[start, end). */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  const t = CRC32_TABLES;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
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
