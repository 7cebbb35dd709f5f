/**
 * The TypeScript XZ decoder against the host's `xz`: every output must be byte-identical
 * to what `xz` compressed, for the filter chains and checks xz and the kernel build use;
 * corrupt or truncated input is an XzError, never a wrong result.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc32, crc64 } from '../src/loaders/xz/crc';
import { XzError, xzDecodeStream, xzDecompress } from '../src/loaders/xz/xz';

function xz(data: Uint8Array, args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('xz', ['-c', '-T1', ...args], { input: data, maxBuffer: 1 << 28 }));
}

/** Deterministic test data: text-like runs, repeats at long distances, and noise. */
function corpus(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16);
  const words = ['kvm', 'vcpu', 'lzma', ' ', '\n', 'the ', 'page', 'table', '0x', 'ffff'].map((w) => new TextEncoder().encode(w));
  let i = 0;
  while (i < size) {
    const k = rnd() % 10;
    if (k < 6) {
      const w = words[rnd() % words.length]!;
      out.set(w.subarray(0, Math.min(w.length, size - i)), i);
      i += w.length;
    } else if (k < 8 && i > 70000) {
      const dist = 1 + (rnd() * 7) % 65536;
      const len = Math.min(2 + (rnd() % 300), size - i);
      for (let j = 0; j < len; j++) out[i + j] = out[i + j - dist]!;
      i += len;
    } else {
      out[i++] = rnd() & 0xff;
    }
  }
  return out;
}

/** x86 machine code with CALL/JMP rel32 for the BCJ filter: the host's own node binary. */
const X86_CODE = readFileSync(process.execPath).subarray(0, 1 << 20);

describe('XZ decoder vs host xz', () => {
  const text = corpus(600_000);
  const cases: [string, Uint8Array, string[]][] = [
    ['default (-6, CRC64)', text, []],
    ['-0 with CRC32', text, ['-0', '--check=crc32']],
    ['-9e, SHA-256', text.subarray(0, 200_000), ['-9e', '--check=sha256']],
    ['no check', text.subarray(0, 50_000), ['--check=none']],
    ['several blocks', text, ['--block-size=100000']],
    ['the kernel build: --x86 --lzma2=dict=32MiB --check=crc32', X86_CODE, ['--check=crc32', '--x86', '--lzma2=,dict=32MiB']],
    ['x86 BCJ with a start offset, small dictionary', X86_CODE.subarray(0, 512 << 10), ['--x86=start=4096', '--lzma2=dict=64KiB,lc=0,lp=2,pb=0']],
    ['delta filter', text.subarray(0, 100_000), ['--delta=dist=4', '--lzma2=preset=1']],
    ['incompressible data (uncompressed LZMA2 chunks)', (() => { const r = new Uint8Array(300_000); for (let i = 0; i < r.length; i++) r[i] = (Math.imul(i, 2654435761) >>> 13) & 0xff; return r; })(), []],
    ['empty input', new Uint8Array(0), []],
  ];
  for (const [name, data, args] of cases) {
    it(name, () => {
      const out = xzDecompress(xz(data, args));
      expect(out.length).toBe(data.length);
      expect(Buffer.compare(Buffer.from(out), Buffer.from(data))).toBe(0);
    });
  }

  it('concatenated streams with stream padding, as xz -d accepts', () => {
    const a = text.subarray(0, 1000);
    const b = text.subarray(1000, 5000);
    const cat = Uint8Array.from([...xz(a, []), 0, 0, 0, 0, ...xz(b, ['--check=crc32'])]);
    expect(Buffer.from(xzDecompress(cat)).equals(Buffer.from(text.subarray(0, 5000)))).toBe(true);
  });

  it('decodes one stream and reports where it ends (the kernel payload has 4 size bytes after it)', () => {
    const s = xz(text.subarray(0, 10_000), ['--check=crc32']);
    const withSize = Uint8Array.from([...s, 0x10, 0x27, 0, 0]);
    const r = xzDecodeStream(withSize, 0, new Uint8Array(10_000));
    expect(r.end).toBe(s.length);
    expect(r.outEnd).toBe(10_000);
    expect(() => xzDecompress(withSize)).toThrow(XzError);
  });

  it('CRC32 and CRC64 match the published check values', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(Buffer.from(crc64(check)).toString('hex')).toBe(Buffer.from('995dc9bbdf1939fa', 'hex').reverse().toString('hex'));
    // CRC32 eight bytes at a time (slicing by 8) against the bitwise definition: lengths
    // 0-19 at start offsets 0-8 (the 8-byte loop and the byte tail), and 4 KiB.
    const bitwise = (d: Uint8Array, a: number, b: number) => {
      let c = 0xffffffff;
      for (let i = a; i < b; i++) {
        c ^= d[i]!;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    const data = text.subarray(0, 4099);
    for (let a = 0; a < 9; a++) for (let b = a; b < a + 20; b++) expect(crc32(data, a, b)).toBe(bitwise(data, a, b));
    expect(crc32(data, 3)).toBe(bitwise(data, 3, data.length));
  });

  it('rejects corrupt, truncated and foreign input with an XzError naming the problem', () => {
    const good = xz(text.subarray(0, 100_000), []);
    expect(() => xzDecompress(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).toThrow(/no stream header magic/);
    const hdr = good.slice();
    hdr[7] ^= 0x01;
    expect(() => xzDecompress(hdr)).toThrow(/stream header CRC32/);
    expect(() => xzDecompress(good.subarray(0, good.length - 20))).toThrow(XzError);
    expect(() => xzDecompress(good.subarray(0, 200))).toThrow(/truncated/);
    // Flipping any byte of the compressed data must be caught (check, sizes or LZMA2 structure).
    let caught = 0;
    for (let k = 0; k < 40; k++) {
      const bad = good.slice();
      const pos = 24 + Math.floor(((k * 7919) % 997) / 997 * (good.length - 80));
      bad[pos] ^= 1 << (k % 8);
      try {
        xzDecompress(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(XzError);
        caught++;
      }
    }
    expect(caught).toBe(40);
    const foot = good.slice();
    foot[foot.length - 1] = 0;
    expect(() => xzDecompress(foot)).toThrow(/stream footer magic/);
  });
});
