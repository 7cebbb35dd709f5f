/**
 * PNG (ISO/IEC 15948, RFC 2083): the encoder for screen dumps and a decoder for tests.
 * Encoding writes 8-bit truecolour (colour type 2) with filter type 0 on every row:
 * the signature, IHDR, one IDAT (zlib via node:zlib), IEND, each chunk with its CRC-32.
 * The decoder reads what PNG encoders in practice emit for 8-bit RGB/RGBA/grey/palette
 * images (all five row filters, several IDAT chunks), enough to check QEMU's dumps too.
 */
import { deflateSync, inflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
export const PNG_COLOR_GREY = 0;
export const PNG_COLOR_RGB = 2;
export const PNG_COLOR_PALETTE = 3;
export const PNG_COLOR_GREY_ALPHA = 4;
export const PNG_COLOR_RGBA = 6;

/** An RGB image: 3 bytes per pixel, rows top to bottom, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320) as PNG chunks use it. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let t = crcTable;
  if (t === undefined) {
    t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    crcTable = t;
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** Encodes an RGB image as a PNG file. */
export function encodePng(img: RgbImage): Uint8Array {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError(`png: width ${width} and height ${height} must be positive integers`);
  if (data.length !== width * height * 3) throw new RangeError(`png: data has ${data.length} bytes, expected ${width * height * 3}`);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = PNG_COLOR_RGB;
  // compression 0 (deflate), filter method 0, interlace 0
  const stride = width * 3;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export class PngError extends Error {
  constructor(message: string) {
    super(`png: ${message}`);
    this.name = 'PngError';
  }
}

/** Decodes a non-interlaced 8-bit PNG into RGB (alpha dropped, palette expanded); checks every CRC. */
export function decodePng(file: Uint8Array): RgbImage {
  for (let i = 0; i < 8; i++) if (file[i] !== PNG_SIGNATURE[i]) throw new PngError('bad signature');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (p + 12 <= file.length && !ended) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(...file.subarray(p + 4, p + 8));
    if (p + 12 + len > file.length) throw new PngError(`chunk ${type} runs past the end`);
    const body = file.subarray(p + 8, p + 8 + len);
    if (crc32(file.subarray(p + 4, p + 8 + len)) !== dv.getUint32(p + 8 + len)) throw new PngError(`chunk ${type}: bad CRC`);
    if (type === 'IHDR') {
      const h = new DataView(body.buffer, body.byteOffset, body.byteLength);
      width = h.getUint32(0);
      height = h.getUint32(4);
      if (body[8] !== 8) throw new PngError(`bit depth ${body[8]} (only 8 is supported)`);
      colorType = body[9]!;
      if (body[12] !== 0) throw new PngError('interlaced images are not supported');
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    p += 12 + len;
  }
  if (!ended) throw new PngError('no IEND chunk');
  if (width === 0 || height === 0) throw new PngError('no IHDR chunk');
  const channels = ({ [PNG_COLOR_GREY]: 1, [PNG_COLOR_RGB]: 3, [PNG_COLOR_PALETTE]: 1, [PNG_COLOR_GREY_ALPHA]: 2, [PNG_COLOR_RGBA]: 4 } as Record<number, number>)[colorType];
  if (channels === undefined) throw new PngError(`colour type ${colorType}`);
  if (colorType === PNG_COLOR_PALETTE && palette === undefined) throw new PngError('palette image without PLTE');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new PngError('image data too short');
  const pix = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pix.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pix.subarray((y - 1) * stride, y * stride) : undefined;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels]! : 0;
      const b = prev ? prev[x]! : 0;
      const c = prev && x >= channels ? prev[x - channels]! : 0;
      let pred: number;
      switch (f) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) >> 1; break;
        case 4: {
          const pp = a + b - c;
          const pa = Math.abs(pp - a);
          const pb = Math.abs(pp - b);
          const pc = Math.abs(pp - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new PngError(`row ${y}: filter type ${f}`);
      }
      row[x] = (src[x]! + pred) & 0xff;
    }
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (colorType === PNG_COLOR_RGB || colorType === PNG_COLOR_RGBA) {
      data[3 * i] = pix[i * channels]!;
      data[3 * i + 1] = pix[i * channels + 1]!;
      data[3 * i + 2] = pix[i * channels + 2]!;
    } else if (colorType === PNG_COLOR_PALETTE) {
      const k = pix[i]! * 3;
      data[3 * i] = palette![k] ?? 0;
      data[3 * i + 1] = palette![k + 1] ?? 0;
      data[3 * i + 2] = palette![k + 2] ?? 0;
    } else {
      data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = pix[i * channels]!;
    }
  }
  return { width, height, data };
}
