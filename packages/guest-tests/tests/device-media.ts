/**
 * Helpers for the display and sound proofs: running a guest with extra devices on
 * qemu-lite or QEMU, QEMU's screendump through a monitor socket, PPM decoding, the
 * standard VGA text colours, and the dominant frequency of PCM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { decodePng, encodePng, type RgbImage } from '@kvmts/qemu-lite';
import { commonArgs, QEMU_LITE_CLI, type RunOptions } from '../src/runner';

export interface MediaRun {
  status: number | null;
  serial: string;
  stderr: string;
}

function collect(cmd: string, args: string[], timeoutMs: number, onSerial?: (all: string, kill: () => void, signal: (s: NodeJS.Signals) => void) => void): Promise<MediaRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      serial += d.toString('latin1');
      onSerial?.(serial, () => child.kill('SIGKILL'), (sig) => child.kill(sig));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, serial, stderr });
    });
  });
}

/** qemu-lite on a vendor (the built CLI). */
export function runQemuLite(vendor: 'intel' | 'amd', o: RunOptions): Promise<MediaRun> {
  return collect(process.execPath, [QEMU_LITE_CLI, '-accel', `kvm-${vendor}`, ...commonArgs(o)], o.timeoutMs ?? 120_000);
}

/**
 * qemu-lite until the serial output shows `ready`; then `act` gets a function that
 * signals the process, and resolves to 'kill' (kill it now) or 'wait' (it exits by itself).
 */
export function runQemuLiteUntil(vendor: 'intel' | 'amd', o: RunOptions, ready: string, act: (signal: (s: NodeJS.Signals) => void) => Promise<'kill' | 'wait'>): Promise<MediaRun> {
  let acted = false;
  return collect(process.execPath, [QEMU_LITE_CLI, '-accel', `kvm-${vendor}`, ...commonArgs(o)], o.timeoutMs ?? 120_000, (all, kill, signal) => {
    if (acted || !all.includes(ready)) return;
    acted = true;
    act(signal).then((next) => next === 'kill' && kill(), kill);
  });
}

/** Resolves when `path` exists and is non-empty (the caller's test timeout bounds the wait). */
export async function waitForFile(path: string): Promise<void> {
  const { existsSync, statSync } = await import('node:fs');
  while (!existsSync(path) || statSync(path).size === 0) await new Promise((r) => setTimeout(r, 20));
}

/** QEMU (TCG) until it exits. */
export function runQemu(o: RunOptions): Promise<MediaRun> {
  return collect('qemu-system-x86_64', ['-accel', 'tcg', ...commonArgs(o)], o.timeoutMs ?? 120_000);
}

/**
 * A VMM with its monitor on a UNIX socket: when the serial output shows `ready`, take a
 * screendump and quit through the monitor. QEMU writes PPM, qemu-lite PNG.
 */
async function screendumpVia(cmd: string, prefix: string[], o: RunOptions, ready: string, sock: string, file: string): Promise<{ run: MediaRun; image: RgbImage | undefined }> {
  let asked = false;
  const args = [...prefix, ...commonArgs(o).filter((a, i, all) => !(a === 'none' && all[i - 1] === '-monitor') && a !== '-monitor'), '-monitor', `unix:${sock},server=on,wait=off`];
  const run = await collect(cmd, args, o.timeoutMs ?? 120_000, (all, kill) => {
    if (asked || !all.includes(ready)) return;
    asked = true;
    const c = createConnection(sock);
    let out = '';
    c.on('data', (d) => {
      out += d.toString();
      // The monitor answers each command with a new prompt.
      const prompts = out.split('(qemu)').length - 1;
      if (prompts === 1) c.write(`screendump ${file}\n`);
      else if (prompts === 2) c.write('quit\n');
    });
    c.on('error', () => kill());
  });
  if (!existsSync(file)) return { run, image: undefined };
  const bytes = readFileSync(file);
  return { run, image: bytes[0] === 0x89 ? decodePng(bytes) : decodePpm(bytes) };
}

export function qemuScreendump(o: RunOptions, ready: string, sock: string, file: string) {
  return screendumpVia('qemu-system-x86_64', ['-accel', 'tcg'], o, ready, sock, file);
}

export function qemuLiteScreendump(vendor: 'intel' | 'amd', o: RunOptions, ready: string, sock: string, file: string) {
  return screendumpVia(process.execPath, [QEMU_LITE_CLI, '-accel', `kvm-${vendor}`], o, ready, sock, file);
}

/** Binary PPM (P6, maxval 255), as QEMU's screendump writes. */
export function decodePpm(file: Uint8Array): RgbImage {
  let p = 0;
  const token = () => {
    while (/\s/.test(String.fromCharCode(file[p]!))) p++;
    if (file[p] === 0x23) while (file[p] !== 0x0a) p++;
    while (/\s/.test(String.fromCharCode(file[p]!))) p++;
    let s = '';
    while (!/\s/.test(String.fromCharCode(file[p]!))) s += String.fromCharCode(file[p++]!);
    return s;
  };
  if (token() !== 'P6') throw new Error('ppm: not P6');
  const width = Number(token());
  const height = Number(token());
  if (Number(token()) !== 255) throw new Error('ppm: maxval is not 255');
  p++;
  return { width, height, data: file.slice(p, p + width * height * 3) };
}

export function readPng(path: string): RgbImage {
  return decodePng(readFileSync(path));
}

export function pixelAt(img: RgbImage, x: number, y: number): [number, number, number] {
  const o = (y * img.width + x) * 3;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

/**
 * The 16 text colours after the BIOS's mode 3 setup: the EGA palette in the 6-bit DAC
 * (0x2a and 0x15 steps), widened to 8 bits by the display as QEMU does (0xa8, 0x57, 0xff).
 */
export const TEXT_COLORS: readonly [number, number, number][] = Array.from({ length: 16 }, (_, c) => {
  const c6to8 = (v: number) => (v << 2) | ((v & 1) << 1) | (v & 1);
  const level = (bit: number) => c6to8((c & bit ? 42 : 0) + (c & 8 ? 21 : 0));
  // Brown (6) is palette entry 0x14: dark yellow with half-intensity green.
  return c === 6 ? [c6to8(42), c6to8(21), 0] : [level(4), level(2), level(1)];
});

/**
 * The dominant frequency of a mono signal: the strongest bin of a DFT scan (Goertzel,
 * 5 Hz steps from 20 Hz to 5 kHz), refined by timing the rising zero crossings.
 */
export function dominantFrequency(samples: Float64Array, rate: number): { scan: number; crossings: number } {
  let best = 0;
  let bestPower = -1;
  for (let f = 20; f <= 5000; f += 5) {
    const w = (2 * Math.PI * f) / rate;
    const coeff = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < samples.length; i++) {
      const s0 = samples[i]! + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  let first = -1;
  let last = -1;
  let n = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (a < 0 && b >= 0) {
      const t = i - 1 + a / (a - b);
      if (first < 0) first = t;
      last = t;
      n++;
    }
  }
  return { scan: best, crossings: n > 1 ? ((n - 1) * rate) / (last - first) : 0 };
}

/** Whether Debian's tesseract-ocr is installed (the OCR checks need it). */
export function hasTesseract(): boolean {
  const r = spawnSync('tesseract', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * OCR of a text-mode screen (9x16 cells) with tesseract: each cell is binarized against
 * its own background (the ninth column), so any attribute colours read as black on white,
 * and scaled 3x, which is what tesseract needs for 16-pixel glyphs. Returns the text.
 */
export function ocrTextScreen(img: RgbImage, workDir: string): string {
  const s = 3;
  const out = new Uint8Array(img.width * s * img.height * s * 3).fill(255);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 3;
      const b = (y * img.width + Math.floor(x / 9) * 9 + 8) * 3;
      if (img.data[o] === img.data[b] && img.data[o + 1] === img.data[b + 1] && img.data[o + 2] === img.data[b + 2]) continue;
      for (let dy = 0; dy < s; dy++) out.fill(0, ((y * s + dy) * img.width * s + x * s) * 3, ((y * s + dy) * img.width * s + x * s + s) * 3);
    }
  const file = join(workDir, `ocr-${process.pid}-${Date.now()}.png`);
  writeFileSync(file, encodePng({ width: img.width * s, height: img.height * s, data: out }));
  const r = spawnSync('tesseract', [file, '-', '--psm', '6'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tesseract failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * OCR of a graphics screen with light text on a dark background (Linux's fbcon: the VGA
 * 8x16 font in grey on black): pixels brighter than the threshold become black ink on
 * white, scaled `scale` times for tesseract. Only rows [y0, y1) are read. Returns the text.
 */
export function ocrGraphicsScreen(img: RgbImage, workDir: string, opts: { scale?: number; threshold?: number; y0?: number; y1?: number } = {}): string {
  const s = opts.scale ?? 3;
  const t = opts.threshold ?? 96;
  const y0 = opts.y0 ?? 0;
  const y1 = Math.min(opts.y1 ?? img.height, img.height);
  const h = y1 - y0;
  const out = new Uint8Array(img.width * s * h * s * 3).fill(255);
  for (let y = y0; y < y1; y++)
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 3;
      if (Math.max(img.data[o]!, img.data[o + 1]!, img.data[o + 2]!) < t) continue;
      for (let dy = 0; dy < s; dy++) out.fill(0, (((y - y0) * s + dy) * img.width * s + x * s) * 3, (((y - y0) * s + dy) * img.width * s + x * s + s) * 3);
    }
  const file = join(workDir, `ocr-${process.pid}-${Date.now()}.png`);
  writeFileSync(file, encodePng({ width: img.width * s, height: h * s, data: out }));
  const r = spawnSync('tesseract', [file, '-', '--psm', '6'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tesseract failed: ${r.stderr}`);
  return r.stdout;
}
