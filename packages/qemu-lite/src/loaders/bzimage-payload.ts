/**
 * The compressed kernel inside a bzImage (boot.rst, protocol 2.08+): payload_offset
 * (0x248) and payload_length (0x24c) locate it relative to the protected-mode code;
 * for xz the kernel build appends the uncompressed size as 4 little-endian bytes
 * (scripts/Makefile.lib size_append; gzip's trailer already ends with it). Decompressed here on the host for the fast path:
 * XZ with our decoder, gzip through node:zlib. The result is the vmlinux ELF the
 * in-guest decompressor would have produced.
 */
import { gunzipSync } from 'node:zlib';
import { LoaderError } from './elf';
import { XzError, isXz, xzDecodeStream } from './xz/xz';

export const HDR_PAYLOAD_OFFSET = 0x248;
export const HDR_PAYLOAD_LENGTH = 0x24c;

export type PayloadFormat = 'xz' | 'gzip' | 'bzip2' | 'lzma' | 'lzo' | 'lz4' | 'zstd' | 'unknown';

/** The compressor, by the payload's magic (the formats Linux's x86 decompressor knows). */
export function payloadFormat(p: Uint8Array): PayloadFormat {
  if (isXz(p)) return 'xz';
  if (p[0] === 0x1f && (p[1] === 0x8b || p[1] === 0x9e)) return 'gzip';
  if (p[0] === 0x42 && p[1] === 0x5a && p[2] === 0x68) return 'bzip2';
  if (p[0] === 0x5d && p[1] === 0x00) return 'lzma';
  if (p[0] === 0x89 && p[1] === 0x4c && p[2] === 0x5a && p[3] === 0x4f) return 'lzo';
  if (p[0] === 0x02 && p[1] === 0x21 && p[2] === 0x4c && p[3] === 0x18) return 'lz4';
  if (p[0] === 0x28 && p[1] === 0xb5 && p[2] === 0x2f && p[3] === 0xfd) return 'zstd';
  return 'unknown';
}

/** The payload bytes of a bzImage (LoaderError if the image has none). */
export function bzImagePayload(image: Uint8Array, name: string): Uint8Array {
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const version = dv.getUint16(0x206, true);
  if (version < 0x208) throw new LoaderError(`${name}: boot protocol ${version >> 8}.${version & 0xff} has no payload fields (need 2.08 for linux-fast-boot)`);
  const setupSize = ((image[0x1f1] || 4) + 1) * 512;
  const off = setupSize + dv.getUint32(HDR_PAYLOAD_OFFSET, true);
  const len = dv.getUint32(HDR_PAYLOAD_LENGTH, true);
  if (len < 4 || off + len > image.length) throw new LoaderError(`${name}: payload_offset/payload_length point outside the file`);
  return image.subarray(off, off + len);
}

/** Decompresses a bzImage's payload: the kernel ELF (vmlinux, plus any relocation table the build appended). */
export function decompressBzImagePayload(image: Uint8Array, name: string): Uint8Array {
  const payload = bzImagePayload(image, name);
  const size = new DataView(payload.buffer, payload.byteOffset + payload.length - 4, 4).getUint32(0, true);
  const format = payloadFormat(payload);
  try {
    if (format === 'xz') {
      // One stream; the 4 size bytes follow it. Allocate the announced size once.
      const r = xzDecodeStream(payload, 0, new Uint8Array(size), 0);
      if (r.end !== payload.length - 4) throw new XzError('xz data is corrupt (payload does not end with its stream)');
      return r.outEnd === r.out.length ? r.out : r.out.subarray(0, r.outEnd);
    }
    // gzip's own trailer ends with the size (ISIZE); the build appends nothing.
    if (format === 'gzip') return new Uint8Array(gunzipSync(payload));
  } catch (e) {
    const msg = e instanceof XzError ? e.message : `gzip data is corrupt (${(e as Error).message})`;
    throw new LoaderError(`${name}: cannot decompress the kernel payload: ${msg}`);
  }
  throw new LoaderError(`${name}: linux-fast-boot cannot decompress a ${format} kernel payload (xz and gzip are supported)`);
}
