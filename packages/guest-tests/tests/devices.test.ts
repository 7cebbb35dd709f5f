/**
 * Display and sound proofs (issue 8) with our own bare-metal guests, built from source:
 *  - the VGA guest writes text in text mode, or draws in a 640x480 VBE mode at 8/15/16/24/32
 *    bpp; qemu-lite writes the screen as PNG when the guest stops (-display png:), and the
 *    test decodes it and checks glyph cells and pixels; on QEMU (TCG) the same guest's
 *    screendump (through a monitor socket) must match qemu-lite's picture;
 *  - the AC'97 guest plays a 440 Hz sine; the WAV the audiodev wrote must have a valid
 *    header, exactly the frames the guest queued, and a dominant frequency of 440 Hz +- 1 %.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWav, VGA_FONT_8X16, type RgbImage } from '@kvmts/qemu-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { runOptionsFor } from '../src/runner';
import { build, manifest, matrix, RUNNER_SWITCH } from './helpers';
import { dominantFrequency, hasTesseract, ocrTextScreen, pixelAt, qemuLiteScreendump, qemuScreendump, readPng, runQemu, runQemuLite, runQemuLiteUntil, TEXT_COLORS, waitForFile } from './device-media';

const dir = mkdtempSync(join(tmpdir(), 'kvmts-devices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const guest = (name: string) => {
  const e = manifest.find((g) => g.name === name);
  if (e === undefined) throw new Error(`manifest has no ${name}`);
  return e;
};
const qemuLiteVendors = matrix.filter((m) => m.enabled && m.runner.vendor !== null).map((m) => m.runner.vendor!);
const qemuEnabled = matrix.some((m) => m.enabled && m.runner.name === 'qemu-tcg');
/** intel runs the 32-bit guests, amd the 64-bit ones (both modes, both vendors). */
const guestFor = (vendor: string, kind: 'vga' | 'ac97') => guest(`${kind}-${vendor === 'intel' ? 32 : 64}`);

/** The text the guest writes: [row, column, attribute, text]. */
const TEXT_LINES: [number, number, number, string][] = [
  [2, 4, 0x1f, 'Hello from kvmts: VGA text mode 80x25'],
  [4, 4, 0x4e, 'The quick brown fox jumps over the lazy dog 0123456789'],
  [6, 4, 0x2a, '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'],
];

/** Checks one 9x16 cell against the font: glyph bits in the foreground colour, the rest background. */
function cellMismatches(img: RgbImage, row: number, col: number, ch: number, attr: number): number {
  const fg = TEXT_COLORS[attr & 0xf]!;
  const bg = TEXT_COLORS[attr >> 4]!;
  const lineGraphics = ch >= 0xc0 && ch <= 0xdf;
  let bad = 0;
  for (let y = 0; y < 16; y++) {
    const bits = VGA_FONT_8X16[ch * 16 + y]!;
    for (let x = 0; x < 9; x++) {
      const on = x < 8 ? (bits >> (7 - x)) & 1 : lineGraphics ? bits & 1 : 0;
      const want = on ? fg : bg;
      const got = pixelAt(img, col * 9 + x, row * 16 + y);
      if (got[0] !== want[0] || got[1] !== want[1] || got[2] !== want[2]) bad++;
    }
  }
  return bad;
}

function checkTextScreen(img: RgbImage): void {
  expect([img.width, img.height]).toEqual([720, 400]);
  for (const [row, col, attr, text] of TEXT_LINES)
    for (let i = 0; i < text.length; i++) expect(cellMismatches(img, row, col + i, text.charCodeAt(i), attr), `cell ${row},${col + i} '${text[i]}'`).toBe(0);
  // The last row: line-drawing characters whose ninth column repeats the eighth.
  for (let c = 0; c < 80; c++) expect(cellMismatches(img, 24, c, 0xc4, 0x0b), `cell 24,${c}`).toBe(0);
  // Every other cell is a light-grey space on black (the cursor is off): all black.
  const inText = (r: number, c: number) => r === 24 || TEXT_LINES.some(([row, col, , t]) => row === r && c >= col && c < col + t.length);
  for (let r = 0; r < 25; r++)
    for (let c = 0; c < 80; c++) if (!inText(r, c)) expect(cellMismatches(img, r, c, 0x20, 0x07), `blank cell ${r},${c}`).toBe(0);
}

const WHITE = 4;
/** The colour the display shows for guest colour c in bpp (see guests/devices/vga.c). */
function expectedRgb(bpp: number, c: number): [number, number, number] {
  // Full-intensity channels stay 255 at every depth: 5- and 6-bit channels widen by
  // repeating their top bits, and 8 bpp goes through DAC entries of 63.
  void bpp;
  return [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]][c] as [number, number, number];
}

function checkVbeScreen(img: RgbImage, bpp: number): void {
  expect([img.width, img.height]).toEqual([640, 480]);
  const at = (x: number, y: number) => pixelAt(img, x, y);
  const c = (k: number) => expectedRgb(bpp, k);
  for (const [x, y] of [[0, 0], [639, 0], [0, 479], [639, 479], [320, 0], [0, 240], [639, 240], [320, 479]]) expect(at(x!, y!), `border ${x},${y}`).toEqual(c(WHITE));
  // Red rectangle [50,250) x [50,150), edges included and excluded.
  expect(at(50, 50)).toEqual(c(1));
  expect(at(249, 149)).toEqual(c(1));
  expect(at(150, 100)).toEqual(c(1));
  expect(at(49, 100)).toEqual(c(0));
  expect(at(250, 100)).toEqual(c(0));
  expect(at(150, 150)).toEqual(c(0));
  // Green rectangle [300,400) x [200,400).
  expect(at(350, 300)).toEqual(c(2));
  expect(at(300, 200)).toEqual(c(2));
  expect(at(399, 399)).toEqual(c(2));
  expect(at(400, 300)).toEqual(c(0));
  // Blue disc at (500,300), radius 60.
  expect(at(500, 300)).toEqual(c(3));
  expect(at(500, 240)).toEqual(c(3));
  expect(at(440, 300)).toEqual(c(3));
  expect(at(500, 239)).toEqual(c(0));
  expect(at(457, 257)).toEqual(c(0)); // diagonal just outside the radius (43^2 * 2 > 60^2)
  expect(at(458, 258)).toEqual(c(3)); // and just inside (42^2 * 2 <= 60^2)
  // Count: exactly the drawn area is non-black.
  let lit = 0;
  for (let i = 0; i < img.data.length; i += 3) if (img.data[i] || img.data[i + 1] || img.data[i + 2]) lit++;
  let disc = 0;
  for (let y = -60; y <= 60; y++) for (let x = -60; x <= 60; x++) if (x * x + y * y <= 3600) disc++;
  expect(lit).toBe(2 * 640 + 2 * 478 + 200 * 100 + 100 * 200 + disc);
}

const BPPS = [8, 15, 16, 24, 32];

describe.skipIf(qemuLiteVendors.length === 0)(`VGA on qemu-lite (-device VGA -display png:)${qemuLiteVendors.length ? '' : ` (off; ${RUNNER_SWITCH})`}`, () => {
  for (const vendor of qemuLiteVendors) {
    it(`text mode 80x25: glyph cells and colours (${guestFor(vendor, 'vga').name} on kvm-${vendor})`, { timeout: 180_000 }, async () => {
      const e = guestFor(vendor, 'vga');
      const png = join(dir, `text-${vendor}.png`);
      const r = await runQemuLite(vendor, { ...runOptionsFor(e, build(e).elf), extraArgs: ['-device', 'VGA', '-display', `png:${png}`] });
      expect(r.status, r.serial + r.stderr).toBe(1);
      expect(r.serial).not.toMatch(/FAIL/);
      checkTextScreen(readPng(png));
    });
    for (const bpp of BPPS) {
      it(`VBE 640x480x${bpp} on the linear framebuffer (${guestFor(vendor, 'vga').name} on kvm-${vendor})`, { timeout: 180_000 }, async () => {
        const e = guestFor(vendor, 'vga');
        const png = join(dir, `vbe${bpp}-${vendor}.png`);
        const r = await runQemuLite(vendor, { ...runOptionsFor(e, build(e).elf), append: `bpp=${bpp}`, extraArgs: ['-device', 'VGA', '-display', `png:${png}`] });
        expect(r.status, r.serial + r.stderr).toBe(1);
        expect(r.serial).toContain(`PASS: mode 640x480x${bpp} set`);
        expect(r.serial).not.toMatch(/FAIL/);
        checkVbeScreen(readPng(png), bpp);
      });
    }
  }
});

describe.skipIf(qemuLiteVendors.length === 0 || !hasTesseract())(`VGA text read back by OCR${hasTesseract() ? '' : ' (off: apt-get install tesseract-ocr)'}`, () => {
  it('tesseract reads the lines the guest wrote from qemu-lite\'s PNG', { timeout: 180_000 }, async () => {
    const vendor = qemuLiteVendors[0]!;
    const e = guestFor(vendor, 'vga');
    const png = join(dir, 'ocr-text.png');
    const r = await runQemuLite(vendor, { ...runOptionsFor(e, build(e).elf), extraArgs: ['-device', 'VGA', '-display', `png:${png}`] });
    expect(r.status).toBe(1);
    const text = ocrTextScreen(readPng(png), dir);
    expect(text).toContain('The quick brown fox jumps over the lazy dog 0123456789');
    expect(text).toMatch(/Hello from k.mts: .GA text mode 80x25/); // v/u and V/U look alike at 8x16
  });
});

describe.skipIf(qemuLiteVendors.length === 0)('VGA on qemu-lite: dumps on demand, -smp 2', () => {
  const vendor = qemuLiteVendors.at(-1)!;
  it(`SIGUSR1 writes the screen while the guest runs (kvm-${vendor})`, { timeout: 180_000 }, async () => {
    const e = guestFor(vendor, 'vga');
    const png = join(dir, 'usr1.png');
    let image: RgbImage | undefined;
    const r = await runQemuLiteUntil(vendor, { ...runOptionsFor(e, build(e).elf), append: 'bpp=32 hold=1', extraArgs: ['-device', 'VGA', '-display', `png:${png}`] }, 'VGA READY', async (signal) => {
      signal('SIGUSR1');
      await waitForFile(png);
      image = readPng(png);
      return 'kill';
    });
    expect(r.serial).not.toMatch(/FAIL/);
    expect(image).toBeDefined();
    checkVbeScreen(image!, 32);
  });
  it(`SIGTERM ends qemu-lite cleanly: the final PNG is written and the WAV header finalized (kvm-${vendor})`, { timeout: 180_000 }, async () => {
    const e = guestFor(vendor, 'vga');
    const png = join(dir, 'term.png');
    const wav = join(dir, 'term.wav');
    const r = await runQemuLiteUntil(vendor, {
      ...runOptionsFor(e, build(e).elf), append: 'bpp=8 hold=1',
      extraArgs: ['-device', 'VGA', '-display', `png:${png}`, '-audiodev', `wav,id=a,path=${wav}`, '-device', 'AC97,audiodev=a'],
    }, 'VGA READY', async (signal) => {
      signal('SIGTERM');
      return 'wait';
    });
    expect(r.stderr).toContain('qemu-lite: terminating on signal 15');
    expect(r.status).toBe(0);
    checkVbeScreen(readPng(png), 8);
    const w = parseWav(readFileSync(wav));
    expect([w.data.length, w.riffSize]).toEqual([0, 36]);
  });
  it(`monitor on a UNIX socket: screendump FILE while the guest runs, then quit (kvm-${vendor})`, { timeout: 180_000 }, async () => {
    const e = guestFor(vendor, 'vga');
    const q = await qemuLiteScreendump(vendor, { ...runOptionsFor(e, build(e).elf), append: 'bpp=16 hold=1', extraArgs: ['-device', 'VGA'] }, 'VGA READY', join(dir, 'ql.sock'), join(dir, 'ql.png'));
    expect(q.run.status, q.run.stderr).toBe(0); // quit from the monitor
    expect(q.image).toBeDefined();
    checkVbeScreen(q.image!, 16);
  });
  it(`-smp 2: VBE 640x480x24 from the BSP with an AP parked (kvm-${vendor})`, { timeout: 180_000 }, async () => {
    const e = guestFor(vendor, 'vga');
    const png = join(dir, 'smp2.png');
    const r = await runQemuLite(vendor, { ...runOptionsFor(e, build(e).elf), smp: 2, append: 'bpp=24', extraArgs: ['-device', 'VGA', '-display', `png:${png}`] });
    expect(r.status, r.serial + r.stderr).toBe(1);
    checkVbeScreen(readPng(png), 24);
  });
});

describe.skipIf(!qemuEnabled || qemuLiteVendors.length === 0)('VGA: QEMU (TCG) screendump vs qemu-lite', () => {
  const vendor = qemuLiteVendors[0]!;
  for (const bpp of [8, 16, 32]) {
    it(`VBE 640x480x${bpp}: QEMU's picture equals qemu-lite's pixel for pixel`, { timeout: 180_000 }, async () => {
      const e = guestFor(vendor, 'vga');
      const elf = build(e).elf;
      const q = await qemuScreendump({ ...runOptionsFor(e, elf), append: `bpp=${bpp} hold=1`, extraArgs: ['-device', 'VGA'] }, 'VGA READY', join(dir, `q${bpp}.sock`), join(dir, `q${bpp}.ppm`));
      expect(q.image, q.run.serial + q.run.stderr).toBeDefined();
      checkVbeScreen(q.image!, bpp);
      const png = join(dir, `cmp${bpp}.png`);
      const r = await runQemuLite(vendor, { ...runOptionsFor(e, elf), append: `bpp=${bpp}`, extraArgs: ['-device', 'VGA', '-display', `png:${png}`] });
      expect(r.status).toBe(1);
      const ours = readPng(png);
      expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(q.image!.data))).toBe(0);
    });
  }
  it('text mode: QEMU (SeaBIOS VGA BIOS mode 3) shows the same cell colours as qemu-lite', { timeout: 180_000 }, async () => {
    const e = guestFor(vendor, 'vga');
    const elf = build(e).elf;
    const q = await qemuScreendump({ ...runOptionsFor(e, elf), append: 'hold=1', extraArgs: ['-device', 'VGA'] }, 'VGA READY', join(dir, 'qt.sock'), join(dir, 'qt.ppm'));
    expect(q.image, q.run.serial + q.run.stderr).toBeDefined();
    const img = q.image!;
    expect([img.width, img.height]).toEqual([720, 400]);
    // The fonts differ (SeaBIOS's vs console-setup's); the ninth column of a
    // non-line-drawing cell is its background, and the set of colours in a cell is {fg, bg}.
    for (const [row, col, attr, text] of TEXT_LINES)
      for (let i = 0; i < text.length; i++) {
        const x0 = (col + i) * 9;
        expect(pixelAt(img, x0 + 8, row * 16 + 5)).toEqual(TEXT_COLORS[attr >> 4]);
        if (text[i] !== ' ') {
          let ink = 0;
          for (let y = 0; y < 16; y++) for (let x = 0; x < 8; x++) if (pixelAt(img, x0 + x, row * 16 + y).join() === TEXT_COLORS[attr & 0xf]!.join()) ink++;
          expect(ink, `'${text[i]}' has ink`).toBeGreaterThan(0);
        }
      }
  });
});

interface ToneCase {
  rate?: number;
  ms: number;
}
const TONES: ToneCase[] = [{ ms: 300 }, { rate: 44100, ms: 400 }];

function checkWav(path: string, rate: number, ms: number, exactLength: boolean): void {
  const file = readFileSync(path);
  const wav = parseWav(file);
  expect(wav.channels).toBe(2);
  expect(wav.bitsPerSample).toBe(16);
  expect(wav.sampleRate).toBe(rate);
  expect(wav.riffSize, 'RIFF size finalized').toBe(statSync(path).size - 8);
  const frames = wav.data.length / 4;
  const want = Math.floor((rate * ms) / 1000);
  if (exactLength) expect(frames).toBe(want);
  else expect(Math.abs(frames - want) / want).toBeLessThan(0.1);
  const dv = new DataView(wav.data.buffer, wav.data.byteOffset, wav.data.byteLength);
  const left = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = dv.getInt16(4 * i, true);
    expect(dv.getInt16(4 * i + 2, true)).toBe(left[i]); // both channels carry the tone
  }
  const f = dominantFrequency(left, rate);
  expect(Math.abs(f.scan - 440) / 440, `DFT peak ${f.scan} Hz`).toBeLessThan(0.01);
  expect(Math.abs(f.crossings - 440) / 440, `zero crossings ${f.crossings} Hz`).toBeLessThan(0.01);
}

describe.skipIf(qemuLiteVendors.length === 0)('AC\'97 on qemu-lite (-audiodev wav -device AC97)', () => {
  for (const vendor of qemuLiteVendors)
    for (const t of TONES) {
      const rate = t.rate ?? 48000;
      it(`440 Hz for ${t.ms} ms at ${rate} Hz${t.rate ? ' (VRA)' : ' (default rate)'} (${guestFor(vendor, 'ac97').name} on kvm-${vendor})`, { timeout: 180_000 }, async () => {
        const e = guestFor(vendor, 'ac97');
        const wav = join(dir, `tone-${vendor}-${rate}.wav`);
        const r = await runQemuLite(vendor, {
          ...runOptionsFor(e, build(e).elf), append: `ms=${t.ms}${t.rate ? ` rate=${t.rate}` : ''}`,
          extraArgs: ['-audiodev', `wav,id=snd0,path=${wav}`, '-device', 'AC97,audiodev=snd0'],
        });
        expect(r.status, r.serial + r.stderr).toBe(1);
        expect(r.serial).not.toMatch(/FAIL/);
        expect(r.serial).toContain(`DAC rate ${rate} Hz`);
        checkWav(wav, rate, t.ms, true);
      });
    }
});

describe.skipIf(qemuLiteVendors.length === 0)('AC\'97 on qemu-lite with -smp 2', () => {
  const vendor = qemuLiteVendors[0]!;
  it(`440 Hz for 200 ms at 48000 Hz with 2 vCPUs (kvm-${vendor})`, { timeout: 180_000 }, async () => {
    const e = guestFor(vendor, 'ac97');
    const wav = join(dir, 'tone-smp2.wav');
    const r = await runQemuLite(vendor, { ...runOptionsFor(e, build(e).elf), smp: 2, append: 'ms=200', extraArgs: ['-audiodev', `wav,id=snd0,path=${wav}`, '-device', 'AC97,audiodev=snd0'] });
    expect(r.status, r.serial + r.stderr).toBe(1);
    checkWav(wav, 48000, 200, true);
  });
});

describe.skipIf(!qemuEnabled)('AC\'97 on QEMU (TCG, reference): the same guest plays 440 Hz', () => {
  it('440 Hz for 300 ms at 48000 Hz into QEMU\'s wav audiodev', { timeout: 120_000 }, async () => {
    const e = guest('ac97-32');
    const wav = join(dir, 'tone-qemu.wav');
    const r = await runQemu({ ...runOptionsFor(e, build(e).elf), append: 'ms=300', extraArgs: ['-audiodev', `wav,id=snd0,path=${wav},out.frequency=48000`, '-device', 'AC97,audiodev=snd0'] });
    expect(r.status, r.serial + r.stderr).toBe(1);
    expect(r.serial).not.toMatch(/FAIL/);
    // QEMU's DAC runs on host timers, so its length is close but not exact.
    checkWav(wav, 48000, 300, false);
  });
});
