/** The PNG encoder/decoder and the WAV writer/parser. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, decodePng, encodePng, PngError } from '../src/display/png';
import { parseWav, WAV_HEADER_SIZE, wavHeader, WavWriter } from '../src/audio/wav';
import { WavAudiodev } from '../src/audio/audiodev';

const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-media-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PNG', () => {
  it('CRC-32 of chunk types matches the values every PNG carries', () => {
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('encodes signature, IHDR (8-bit RGB), IDAT (zlib of filter-0 rows) and IEND with CRCs', () => {
    const img = { width: 3, height: 2, data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    const png = encodePng(img);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const dv = new DataView(png.buffer);
    expect(dv.getUint32(8)).toBe(13);
    expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
    expect([dv.getUint32(16), dv.getUint32(20), png[24], png[25], png[26], png[27], png[28]]).toEqual([3, 2, 8, 2, 0, 0, 0]);
    expect(dv.getUint32(29)).toBe(crc32(png.subarray(12, 29)));
    const idatLen = dv.getUint32(33);
    expect(String.fromCharCode(...png.subarray(37, 41))).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect([...raw]).toEqual([0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(String.fromCharCode(...png.subarray(png.length - 8, png.length - 4))).toBe('IEND');
    expect(decodePng(png)).toEqual(img);
  });

  it('decodes rows with the Sub and Paeth filters (as other encoders write them) and rejects corrupt files', () => {
    // 2x2 RGB, rows filtered with Sub and Paeth; expected pixels computed by hand.
    const rows = Uint8Array.from([1, 10, 20, 30, 5, 5, 5, 4, 1, 1, 1, 2, 2, 2]);
    const make = (idat: Uint8Array) => {
      const chunk = (type: string, body: Uint8Array) => {
        const c = new Uint8Array(12 + body.length);
        const v = new DataView(c.buffer);
        v.setUint32(0, body.length);
        for (let i = 0; i < 4; i++) c[4 + i] = type.charCodeAt(i);
        c.set(body, 8);
        v.setUint32(8 + body.length, crc32(c.subarray(4, 8 + body.length)));
        return c;
      };
      const ihdr = new Uint8Array(13);
      new DataView(ihdr.buffer).setUint32(0, 2);
      new DataView(ihdr.buffer).setUint32(4, 2);
      ihdr[8] = 8;
      ihdr[9] = 2;
      return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
    };
    const img = decodePng(make(deflateSync(rows)));
    // Row 0 (Sub): 10,20,30 then 15,25,35. Row 1 (Paeth): a=left, b=up, c=up-left.
    expect([...img.data.subarray(0, 6)]).toEqual([10, 20, 30, 15, 25, 35]);
    expect([...img.data.subarray(6, 9)]).toEqual([11, 21, 31]);
    expect([...img.data.subarray(9, 12)]).toEqual([17, 27, 37]);
    const bad = make(deflateSync(rows));
    bad[bad.length - 20] ^= 0xff;
    expect(() => decodePng(bad)).toThrow(PngError);
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(5) })).toThrow(/expected 12/);
  });
});

describe('WAV', () => {
  it('writes the canonical 44-byte header and finalizes the sizes on close', () => {
    const path = join(dir, 'a.wav');
    const w = new WavWriter(path, { sampleRate: 44100, channels: 2, bitsPerSample: 16 });
    expect(statSync(path).size).toBe(WAV_HEADER_SIZE);
    expect(new DataView(readFileSync(path).buffer).getUint32(40, true)).toBe(0);
    w.write(Uint8Array.from([1, 0, 2, 0, 3, 0, 4, 0]));
    w.write(Uint8Array.from([5, 0, 6, 0]));
    w.close();
    w.close();
    const f = readFileSync(path);
    expect(f.length).toBe(56);
    expect(f.toString('latin1', 0, 4)).toBe('RIFF');
    expect(f.readUInt32LE(4)).toBe(48);
    expect(f.toString('latin1', 8, 16)).toBe('WAVEfmt ');
    expect([f.readUInt32LE(16), f.readUInt16LE(20), f.readUInt16LE(22), f.readUInt32LE(24), f.readUInt32LE(28), f.readUInt16LE(32), f.readUInt16LE(34)])
      .toEqual([16, 1, 2, 44100, 176400, 4, 16]);
    expect(f.toString('latin1', 36, 40)).toBe('data');
    expect(f.readUInt32LE(40)).toBe(12);
    const p = parseWav(f);
    expect([p.sampleRate, p.channels, p.bitsPerSample, p.data.length, p.riffSize]).toEqual([44100, 2, 16, 12, 48]);
    expect([...wavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 8 }, 3).subarray(0, 4)]).toEqual([0x52, 0x49, 0x46, 0x46]);
  });

  it('the wav audiodev takes the voice rate, or resamples to out.frequency', () => {
    const a = new WavAudiodev('a', join(dir, 'b.wav'));
    a.setRate(22050);
    a.write(new Uint8Array(400));
    a.close();
    expect(parseWav(readFileSync(join(dir, 'b.wav'))).sampleRate).toBe(22050);
    const b = new WavAudiodev('b', join(dir, 'c.wav'), 48000);
    b.setRate(24000);
    const pcm = new Uint8Array(4 * 1000);
    const dv = new DataView(pcm.buffer);
    for (let i = 0; i < 1000; i++) { dv.setInt16(4 * i, i, true); dv.setInt16(4 * i + 2, -i, true); }
    b.write(pcm);
    b.close();
    const w = parseWav(readFileSync(join(dir, 'c.wav')));
    expect(w.sampleRate).toBe(48000);
    expect(Math.abs(w.data.length / 4 - 2000)).toBeLessThanOrEqual(2);
    const out = new DataView(w.data.buffer, w.data.byteOffset, w.data.byteLength);
    // Linear interpolation of a ramp is a ramp at half the slope (one input frame behind).
    expect((out.getInt16(4 * 300, true) - out.getInt16(4 * 100, true)) / 200).toBeCloseTo(0.5, 2);
    expect(out.getInt16(4 * 100 + 2, true)).toBe(-out.getInt16(4 * 100, true));
  });

  it('a wav audiodev that never played still leaves a valid empty file', () => {
    const a = new WavAudiodev('a', join(dir, 'd.wav'));
    a.close();
    expect(parseWav(readFileSync(join(dir, 'd.wav'))).data.length).toBe(0);
  });
});
