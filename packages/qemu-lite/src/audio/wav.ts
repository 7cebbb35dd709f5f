/**
 * WAV files (RIFF WAVE, PCM): the audiodev `wav` backend's writer, as QEMU's
 * audio/wavaudio.c: a 44-byte header written at open with zero sizes, samples appended
 * as they are played, and the RIFF and data sizes patched in when the file is closed.
 * Also a parser for tests.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const WAV_HEADER_SIZE = 44;
export const WAVE_FORMAT_PCM = 1;

export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** The 44-byte canonical header for `dataBytes` bytes of PCM. */
export function wavHeader(fmt: WavFormat, dataBytes: number): Uint8Array {
  const h = new Uint8Array(WAV_HEADER_SIZE);
  const dv = new DataView(h.buffer);
  const ascii = (off: number, s: string) => { for (let i = 0; i < 4; i++) h[off + i] = s.charCodeAt(i); };
  const blockAlign = fmt.channels * (fmt.bitsPerSample >> 3);
  ascii(0, 'RIFF');
  dv.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, WAVE_FORMAT_PCM, true);
  dv.setUint16(22, fmt.channels, true);
  dv.setUint32(24, fmt.sampleRate, true);
  dv.setUint32(28, fmt.sampleRate * blockAlign, true);
  dv.setUint16(32, blockAlign, true);
  dv.setUint16(34, fmt.bitsPerSample, true);
  ascii(36, 'data');
  dv.setUint32(40, dataBytes, true);
  return h;
}

/** Streams PCM to a file; close() finalizes the header. */
export class WavWriter {
  private fd: number;
  private bytes = 0;

  constructor(readonly path: string, readonly format: WavFormat) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, wavHeader(format, 0));
  }

  get dataBytes(): number {
    return this.bytes;
  }

  write(pcm: Uint8Array): void {
    if (this.fd < 0) return;
    writeSync(this.fd, pcm);
    this.bytes += pcm.length;
  }

  /** Patches the RIFF and data sizes and closes the file (idempotent). */
  close(): void {
    if (this.fd < 0) return;
    writeSync(this.fd, wavHeader(this.format, this.bytes), 0, WAV_HEADER_SIZE, 0);
    closeSync(this.fd);
    this.fd = -1;
  }
}

export interface ParsedWav extends WavFormat {
  /** The data chunk's bytes. */
  data: Uint8Array;
  /** The RIFF size field (file size - 8 when finalized). */
  riffSize: number;
}

/** Parses a RIFF WAVE PCM file (chunks in any order); throws naming what is wrong. */
export function parseWav(file: Uint8Array): ParsedWav {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const tag = (o: number) => String.fromCharCode(...file.subarray(o, o + 4));
  if (file.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('wav: not a RIFF WAVE file');
  let fmt: WavFormat | undefined;
  let data: Uint8Array | undefined;
  for (let p = 12; p + 8 <= file.length;) {
    const len = dv.getUint32(p + 4, true);
    if (tag(p) === 'fmt ') {
      if (dv.getUint16(p + 8, true) !== WAVE_FORMAT_PCM) throw new Error('wav: not PCM');
      fmt = { channels: dv.getUint16(p + 10, true), sampleRate: dv.getUint32(p + 12, true), bitsPerSample: dv.getUint16(p + 22, true) };
    } else if (tag(p) === 'data') {
      if (p + 8 + len > file.length) throw new Error(`wav: data chunk of ${len} bytes runs past the end`);
      data = file.subarray(p + 8, p + 8 + len);
    }
    p += 8 + len + (len & 1);
  }
  if (fmt === undefined) throw new Error('wav: no fmt chunk');
  if (data === undefined) throw new Error('wav: no data chunk');
  return { ...fmt, data, riffSize: dv.getUint32(4, true) };
}
