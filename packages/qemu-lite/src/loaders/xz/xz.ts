/**
 * The .xz container (xz-file-format.txt 1.1.0), decoded in one call: stream header,
 * blocks (block header, filter chain, compressed data, padding, check), index and
 * stream footer, with every CRC and size cross-checked as xz does; concatenated streams
 * and stream padding too. Filters: LZMA2 (the chain's last), x86 BCJ and delta before
 * it, which is what the kernel's xz_wrap.sh and the `xz` tool produce. Checks: none,
 * CRC32, CRC64, SHA-256. Corrupt input is an XzError naming what is wrong.
 */
import { createHash } from 'node:crypto';
import { bcjX86Decode } from './bcj-x86';
import { crc32, crc64 } from './crc';
import { Lzma2Decoder, XzError } from './lzma2';

export { XzError } from './lzma2';

export const XZ_HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] as const;
export const XZ_FOOTER_MAGIC = [0x59, 0x5a] as const; // "YZ"
export const XZ_STREAM_HEADER_SIZE = 12;
export const XZ_CHECK_NONE = 0;
export const XZ_CHECK_CRC32 = 1;
export const XZ_CHECK_CRC64 = 4;
export const XZ_CHECK_SHA256 = 10;
export const XZ_FILTER_DELTA = 0x03;
export const XZ_FILTER_X86 = 0x04;
export const XZ_FILTER_LZMA2 = 0x21;

const CHECK_SIZES: Record<number, number> = { [XZ_CHECK_NONE]: 0, [XZ_CHECK_CRC32]: 4, [XZ_CHECK_CRC64]: 8, [XZ_CHECK_SHA256]: 32 };

export function isXz(data: Uint8Array, offset = 0): boolean {
  return XZ_HEADER_MAGIC.every((b, i) => data[offset + i] === b);
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** A multibyte integer (7 bits per byte, at most 9 bytes); values past 2^53 are refused. */
function readVli(b: Uint8Array, p: number, end: number, what: string): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (p >= end) throw new XzError(`xz data is truncated (${what})`);
    const byte = b[p++]!;
    if (i > 0 && byte === 0) throw new XzError(`xz data is corrupt (${what}: non-minimal integer)`);
    v += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) {
      if (v > Number.MAX_SAFE_INTEGER) throw new XzError(`xz data is corrupt (${what} too large)`);
      return [v, p];
    }
  }
  throw new XzError(`xz data is corrupt (${what}: integer longer than 9 bytes)`);
}

interface Filter {
  id: number;
  props: Uint8Array;
}

interface BlockRecord {
  unpaddedSize: number;
  uncompressedSize: number;
}

function verifyCheck(type: number, data: Uint8Array, start: number, end: number, stored: Uint8Array): void {
  let ok = true;
  if (type === XZ_CHECK_CRC32) ok = crc32(data, start, end) === u32le(stored, 0);
  else if (type === XZ_CHECK_CRC64) {
    const c = crc64(data, start, end);
    ok = c.every((b, i) => stored[i] === b);
  } else if (type === XZ_CHECK_SHA256) {
    const h = createHash('sha256').update(data.subarray(start, end)).digest();
    ok = h.every((b, i) => stored[i] === b);
  }
  if (!ok) throw new XzError(`xz data is corrupt (block check (type ${type}) does not match)`);
}

export interface XzStreamResult {
  /** The output buffer; the decoded bytes are out[outStart, outEnd). */
  out: Uint8Array;
  outEnd: number;
  /** Offset just past the stream footer. */
  end: number;
}

/**
 * Decodes one .xz stream at input[start..] into `out` from `outStart` (growing it as
 * needed; pass a buffer of the known size to avoid copies).
 */
export function xzDecodeStream(input: Uint8Array, start = 0, out: Uint8Array = new Uint8Array(0), outStart = 0): XzStreamResult {
  const end = input.length;
  let p = start;
  if (end - p < XZ_STREAM_HEADER_SIZE || !isXz(input, p)) throw new XzError('not xz data (no stream header magic)');
  if (crc32(input, p + 6, p + 8) !== u32le(input, p + 8)) throw new XzError('xz data is corrupt (stream header CRC32)');
  if (input[p + 6] !== 0 || (input[p + 7]! & 0xf0) !== 0) throw new XzError('xz data uses unsupported stream flags');
  const flags1 = input[p + 7]!;
  const checkType = flags1 & 0x0f;
  const checkSize = CHECK_SIZES[checkType];
  if (checkSize === undefined) throw new XzError(`xz data uses unsupported check type ${checkType}`);
  p += XZ_STREAM_HEADER_SIZE;

  const lzma2 = new Lzma2Decoder();
  const records: BlockRecord[] = [];
  let outPos = outStart;
  for (;;) {
    if (p >= end) throw new XzError('xz data is truncated (no index)');
    if (input[p] === 0x00) break; // the index indicator
    // Block header
    const blockStart = p;
    const headerSize = (input[p]! + 1) * 4;
    if (p + headerSize > end) throw new XzError('xz data is truncated (block header)');
    if (crc32(input, p, p + headerSize - 4) !== u32le(input, p + headerSize - 4)) throw new XzError('xz data is corrupt (block header CRC32)');
    const hEnd = p + headerSize - 4;
    const bflags = input[p + 1]!;
    if (bflags & 0x3c) throw new XzError('xz data uses unsupported block flags');
    let q = p + 2;
    let compressedSize: number | undefined;
    let uncompressedSize: number | undefined;
    if (bflags & 0x40) [compressedSize, q] = readVli(input, q, hEnd, 'compressed size');
    if (bflags & 0x80) [uncompressedSize, q] = readVli(input, q, hEnd, 'uncompressed size');
    const filters: Filter[] = [];
    for (let i = 0; i <= (bflags & 0x03); i++) {
      let id: number;
      let propsSize: number;
      [id, q] = readVli(input, q, hEnd, 'filter ID');
      [propsSize, q] = readVli(input, q, hEnd, 'filter properties size');
      if (q + propsSize > hEnd) throw new XzError('xz data is corrupt (filter properties past the block header)');
      filters.push({ id, props: input.subarray(q, q + propsSize) });
      q += propsSize;
    }
    for (; q < hEnd; q++) if (input[q] !== 0) throw new XzError('xz data is corrupt (block header padding)');
    const last = filters[filters.length - 1]!;
    if (last.id !== XZ_FILTER_LZMA2 || last.props.length !== 1 || last.props[0]! > 40)
      throw new XzError(`xz data uses an unsupported filter chain (last filter 0x${last.id.toString(16)}; only LZMA2 is supported)`);
    for (const f of filters.slice(0, -1)) {
      if (f.id === XZ_FILTER_X86 && (f.props.length === 0 || f.props.length === 4)) continue;
      if (f.id === XZ_FILTER_DELTA && f.props.length === 1) continue;
      throw new XzError(`xz data uses unsupported filter 0x${f.id.toString(16)}`);
    }
    p += headerSize;

    // Compressed data, then the filters before LZMA2 in reverse order.
    const blockOut = outPos;
    if (uncompressedSize !== undefined && out.length < blockOut + uncompressedSize) {
      const grown = new Uint8Array(blockOut + uncompressedSize);
      grown.set(out.subarray(0, blockOut));
      out = grown;
    }
    const dataEnd = compressedSize !== undefined ? p + compressedSize : end;
    if (dataEnd > end) throw new XzError('xz data is truncated (block data)');
    const r = lzma2.decode(input, p, dataEnd, out, blockOut);
    out = r.out;
    outPos = r.outEnd;
    if (compressedSize !== undefined && r.inEnd !== dataEnd) throw new XzError('xz data is corrupt (block compressed size does not match)');
    if (uncompressedSize !== undefined && outPos - blockOut !== uncompressedSize)
      throw new XzError('xz data is corrupt (block uncompressed size does not match)');
    for (let i = filters.length - 2; i >= 0; i--) {
      const f = filters[i]!;
      if (f.id === XZ_FILTER_X86) bcjX86Decode(out, blockOut, outPos, f.props.length === 4 ? u32le(f.props, 0) : 0);
      else deltaDecode(out, blockOut, outPos, f.props[0]! + 1);
    }
    const unpadded = r.inEnd - blockStart + checkSize;
    p = r.inEnd;
    while ((p - blockStart) % 4 !== 0) {
      if (p >= end) throw new XzError('xz data is truncated (block padding)');
      if (input[p++] !== 0) throw new XzError('xz data is corrupt (block padding)');
    }
    if (p + checkSize > end) throw new XzError('xz data is truncated (block check)');
    verifyCheck(checkType, out, blockOut, outPos, input.subarray(p, p + checkSize));
    p += checkSize;
    records.push({ unpaddedSize: unpadded, uncompressedSize: outPos - blockOut });
  }

  // Index: must list exactly the blocks just decoded.
  const indexStart = p;
  p++;
  let count: number;
  [count, p] = readVli(input, p, end, 'index record count');
  if (count !== records.length) throw new XzError('xz data is corrupt (index does not match the blocks)');
  for (const rec of records) {
    let unpadded: number;
    let size: number;
    [unpadded, p] = readVli(input, p, end, 'index record');
    [size, p] = readVli(input, p, end, 'index record');
    if (unpadded !== rec.unpaddedSize || size !== rec.uncompressedSize) throw new XzError('xz data is corrupt (index does not match the blocks)');
  }
  while ((p - indexStart) % 4 !== 0) {
    if (p >= end) throw new XzError('xz data is truncated (index padding)');
    if (input[p++] !== 0) throw new XzError('xz data is corrupt (index padding)');
  }
  if (p + 4 > end) throw new XzError('xz data is truncated (index CRC32)');
  if (crc32(input, indexStart, p) !== u32le(input, p)) throw new XzError('xz data is corrupt (index CRC32)');
  p += 4;
  const indexSize = p - indexStart;

  // Stream footer
  if (p + 12 > end) throw new XzError('xz data is truncated (stream footer)');
  if (input[p + 10] !== XZ_FOOTER_MAGIC[0] || input[p + 11] !== XZ_FOOTER_MAGIC[1]) throw new XzError('xz data is corrupt (stream footer magic)');
  if (crc32(input, p + 4, p + 10) !== u32le(input, p)) throw new XzError('xz data is corrupt (stream footer CRC32)');
  if ((u32le(input, p + 4) + 1) * 4 !== indexSize) throw new XzError('xz data is corrupt (backward size does not match the index)');
  if (input[p + 8] !== 0 || input[p + 9] !== flags1) throw new XzError('xz data is corrupt (stream footer flags differ from the header)');
  p += 12;
  return { out, outEnd: outPos, end: p };
}

/** The delta filter's decoder: each byte adds the byte `distance` before it. */
function deltaDecode(buf: Uint8Array, start: number, end: number, distance: number): void {
  for (let i = start + distance; i < end; i++) buf[i] = (buf[i]! + buf[i - distance]!) & 0xff;
}

/**
 * Decodes a whole .xz file: one or more streams, each optionally followed by stream
 * padding (zero bytes in multiples of four), as `xz -d` accepts.
 */
export function xzDecompress(input: Uint8Array): Uint8Array {
  let out: Uint8Array = new Uint8Array(0);
  let outPos = 0;
  let p = 0;
  do {
    const r = xzDecodeStream(input, p, out, outPos);
    out = r.out;
    outPos = r.outEnd;
    p = r.end;
    const padStart = p;
    while (p < input.length && input[p] === 0) p++;
    if ((p - padStart) % 4 !== 0) throw new XzError('xz data is corrupt (stream padding)');
  } while (p < input.length);
  return out.length === outPos ? out : out.slice(0, outPos);
}
