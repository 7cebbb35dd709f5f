/**
 * Issue 8's Linux-driver proofs for sound and VGA: the unmodified Debian kernel's own
 * drivers, loaded from the initramfs, drive qemu-lite's AC'97 and Bochs VGA. One boot
 * carries both devices and does all the checks:
 *  - sound: snd-intel8x0 + snd-pcm-oss; the mixer is unmuted (ALSA starts muted) with
 *    guests/linux/oss-volume.c, typed into the guest; the shell writes 2 s of a 440 Hz
 *    tone (8-bit unsigned mono at 8 kHz, OSS's default format) to /dev/dsp; hw_params,
 *    read while it plays, show the codec at 8 kHz (VRA); after poweroff the WAV the
 *    audiodev wrote must hold exactly 2 s of tone at 440 Hz +- 1 %, unclipped;
 *  - VGA text mode (vgacon, from the screen_info the loader fills): a line the shell
 *    writes to /dev/tty0 and the kernel's boot log (lines equal to the serial console's)
 *    are read back by OCR (Debian's tesseract-ocr) from the screen dump;
 *  - VGA graphics (bochs-drm, `modprobe bochs`): fbcon takes tty0 over in a VBE mode on
 *    the linear framebuffer; OCR reads another line and the boot log from the next dump.
 * qemu-lite dumps the screen on SIGUSR1 (-display png:), QEMU through its monitor.
 * Default legs: amd64 on QEMU TCG (the reference: it proves the harness) and on
 * qemu-lite/kvm-intel with linux-fast-boot=on (linux-boot's default qemu-lite leg is
 * amd64 on kvm-amd). KVMTS_LINUX_DEVICE_LEGS lists others as VMM:ARCH (VMM: qemu,
 * kvm-intel, kvm-amd; ARCH: amd64, i386), e.g. "kvm-intel:amd64,kvm-amd:i386"; "none"
 * skips the suite. KVMTS_LINUX_TIMEOUT_SCALE multiplies qemu-lite's time limits (default 10).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWav } from '@kvmts/qemu-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureLinuxAssets, LINUX_ARCHES, type LinuxArch, type LinuxAssets } from '../src/linux-assets';
import { LinuxConsole, LINUX_VMMS, type LinuxVmm } from '../src/linux-console';
import type { RgbImage } from '@kvmts/qemu-lite';
import { createConnection, type Socket } from 'node:net';
import { decodePpm, dominantFrequency, hasTesseract, ocrGraphicsScreen, ocrTextScreen, readPng } from './device-media';

interface Leg {
  vmm: LinuxVmm;
  arch: LinuxArch;
}

function parseLegs(spec: string): Leg[] {
  if (spec.trim() === 'none') return [];
  return spec.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const [vmm, arch] = s.split(':');
    if (vmm === undefined || !(LINUX_VMMS as readonly string[]).includes(vmm) || !(LINUX_ARCHES as readonly string[]).includes(arch ?? ''))
      throw new Error(`KVMTS_LINUX_DEVICE_LEGS: '${s}' is not VMM:ARCH (qemu|kvm-intel|kvm-amd : amd64|i386)`);
    return { vmm: vmm as Leg['vmm'], arch: arch as LinuxArch };
  });
}

const LEGS = parseLegs(process.env.KVMTS_LINUX_DEVICE_LEGS ?? 'qemu:amd64,kvm-intel:amd64');
const SCALE = Number(process.env.KVMTS_LINUX_TIMEOUT_SCALE ?? 10);
/** Time limits on an unloaded QEMU TCG, scaled for qemu-lite as linux-boot.test.ts does. */
const limits = (vmm: LinuxVmm) => ({ boot: 180_000 * (vmm === 'qemu' ? 1 : SCALE), cmd: 60_000 * (vmm === 'qemu' ? 1 : SCALE) });

/** How long a screen may take to show what was written to it (screenShowing). */
const SCREEN_MS = 20_000;

/** The tone: 8-bit unsigned mono at 8 kHz (OSS's default format). */
const TONE_HZ = 440;
const OSS_RATE = 8000;
const TONE_SECONDS = 2;
/** 200 samples hold exactly 11 periods of 440 Hz at 8 kHz, so the block repeats seamlessly. */
const BLOCK = 200;
/** 30 of 128: the mixer at 100 % is the codec's +12 dB PCM gain, which must not clip. */
const TONE_AMPLITUDE = 30;
const toneBlock = (): string => {
  const b = Buffer.alloc(BLOCK);
  for (let n = 0; n < BLOCK; n++) b[n] = Math.round(128 + TONE_AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * n) / OSS_RATE));
  return b.toString('base64');
};

/** Lines the shell writes to the screen; OCR must find them (upper case and digits read reliably; V and W do not). */
const VGACON_LINE = 'TEXT MODE CONSOLE 4711';
const FBCON_LINE = 'FRAMEBUFFER CONSOLE 0815';

const dir = mkdtempSync(join(tmpdir(), 'kvmts-linux-devices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The left channel of a 16-bit stereo WAV, as numbers. */
function leftChannel(data: Uint8Array): Float64Array {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float64Array(data.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt16(4 * i, true);
  return out;
}

/**
 * The tone in the recording: from the first sample louder than `level` to the last loud
 * one before the first silence of at least `gapFrames` (OSS pads the last period with
 * silence, and the DMA may run on into stale buffer data before the driver stops it).
 */
function toneSpan(s: Float64Array, level: number, gapFrames: number): { first: number; end: number } {
  let first = -1;
  let lastLoud = -1;
  for (let i = 0; i < s.length; i++) {
    if (Math.abs(s[i]!) <= level) {
      if (first >= 0 && i - lastLoud >= gapFrames) break;
      continue;
    }
    if (first < 0) first = i;
    lastLoud = i;
  }
  return { first, end: lastLoud + 1 };
}

/**
 * guests/linux/oss-volume.c built with gcc for the guest's architecture (static, no libc),
 * as base64: the test types it into the guest because busybox has no mixer tool.
 */
function ossVolumeBase64(arch: LinuxArch): string {
  const src = fileURLToPath(new URL('../guests/linux/oss-volume.c', import.meta.url));
  const out = join(dir, `oss-volume-${arch}`);
  const r = spawnSync('gcc', [arch === 'amd64' ? '-m64' : '-m32', '-Os', '-static', '-nostdlib', '-ffreestanding', '-fno-pie', '-no-pie', '-fno-stack-protector',
    '-fno-asynchronous-unwind-tables', '-Wl,--build-id=none', '-Wl,-N', '-Wl,--no-warn-rwx-segments', '-s', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc oss-volume.c: ${r.stderr}`);
  return readFileSync(out).toString('base64');
}

/** Levenshtein similarity of two strings, 0..1. */
function similarity(a: string, b: string): number {
  if (a.length === 0 && b.length === 0) return 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return 1 - prev[b.length]! / Math.max(a.length, b.length);
}

/**
 * The kernel log on the screen against the serial console's: OCR lines shaped like a
 * kernel log line (`stamps`: a "[ seconds.micros]" prefix as OCR reads it, which may split
 * the number, turn the bracket into 1, l or |, or confuse 3, 6 and 8), and of those the
 * ones whose text is a line the kernel printed on the serial console, within OCR's
 * misreadings (`lines`, similarity >= 0.8; hex dumps read badly at 8x16).
 */
function bootLogOnScreen(ocr: string, serial: string): { stamps: number; lines: string[] } {
  const norm = (t: string) => t.replace(/\s+/g, ' ').trim();
  const kernel: string[] = [];
  for (const m of serial.replace(/\r/g, '').matchAll(/^\[\s*\d+\.\d{6}\] (.*)$/gm)) kernel.push(norm(m[1]!));
  let stamps = 0;
  const lines: string[] = [];
  for (const line of ocr.split('\n')) {
    const m = /^\S?\s*\d+\s?\.\s?\d{6}\S{0,2}\s+(.*)$/.exec(line.trim());
    if (m === null) continue;
    stamps++;
    const text = norm(m[1]!);
    let best = '';
    let bestScore = 0;
    for (const k of kernel) {
      if (Math.abs(k.length - text.length) > 0.2 * Math.max(k.length, text.length)) continue;
      const score = similarity(text, k);
      if (score > bestScore) { bestScore = score; best = k; }
    }
    if (bestScore >= 0.8) lines.push(best);
  }
  return { stamps, lines };
}

/** qemu-lite: SIGUSR1, then wait for its -display png: file to be rewritten. */
async function screendumpBySignal(c: LinuxConsole, png: string, timeoutMs: number): Promise<RgbImage> {
  const before = existsSync(png) ? statSync(png).mtimeMs : -1;
  c.signal('SIGUSR1');
  const t0 = Date.now();
  while (!existsSync(png) || statSync(png).mtimeMs === before) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${png} not written after SIGUSR1`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return readPng(png);
}

/**
 * QEMU (the reference): `screendump FILE` on the monitor's UNIX socket; QEMU writes PPM.
 * One connection serves every capture: QEMU's monitor socket talks to one client at a
 * time, and a new connection per capture waited, on a loaded machine, for QEMU to notice
 * that the last one had closed (a 60 s hang in CI).
 */
function qemuMonitor(sock: string): { screendump(file: string, timeoutMs: number): Promise<RgbImage> } {
  let conn: Promise<Socket> | undefined;
  let out = '';
  let waiter: (() => void) | undefined;
  // Each command is answered with a new prompt; the first prompt greets the connection.
  const prompt = (): Promise<void> => new Promise((resolve) => {
    const check = () => {
      const at = out.indexOf('(qemu)');
      if (at < 0) return false;
      out = out.slice(at + 6);
      waiter = undefined;
      resolve();
      return true;
    };
    if (!check()) waiter = () => { check(); };
  });
  const connect = (): Promise<Socket> => new Promise((resolve, reject) => {
    const m = createConnection(sock);
    m.on('data', (d) => { out += d.toString(); waiter?.(); });
    // Before the connection: the capture fails. After it (QEMU killed at the test's end): nothing to do.
    let connected = false;
    m.on('error', (e) => { if (!connected) reject(e); });
    m.once('connect', () => { connected = true; void prompt().then(() => resolve(m)); });
  });
  const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`QEMU monitor: no screendump after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
  return {
    async screendump(file: string, timeoutMs: number): Promise<RgbImage> {
      rmSync(file, { force: true });
      await withTimeout((async () => {
        conn ??= connect();
        const m = await conn;
        const answered = prompt();
        m.write(`screendump ${file}\n`);
        await answered;
      })(), timeoutMs);
      return decodePpm(readFileSync(file));
    },
  };
}

/**
 * Capture the screen until OCR finds `line` in it (or the time is up: the last capture is
 * returned and the caller's assertion reports it). fbcon over bochs-drm draws through
 * DRM's deferred framebuffer flush, a worker that runs after the write to /dev/tty0 has
 * returned: a fast VMM (QEMU) can be asked for the screen before the line reaches VRAM.
 */
async function screenShowing(capture: () => Promise<RgbImage>, ocr: (img: RgbImage) => string, line: string, timeoutMs: number): Promise<{ img: RgbImage; text: string }> {
  const t0 = Date.now();
  for (;;) {
    const img = await capture();
    const text = ocr(img);
    if (text.includes(line) || Date.now() - t0 > timeoutMs) return { img, text };
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.skipIf(LEGS.length === 0 || !hasTesseract())(`Debian Linux drives qemu-lite's AC'97 and VGA${hasTesseract() ? '' : ' (off: apt-get install tesseract-ocr)'}`, () => {
  for (const leg of LEGS) {
    const { boot: BOOT_MS, cmd: CMD_MS } = limits(leg.vmm);
    const qemu = leg.vmm === 'qemu';
    describe(`${leg.arch} on ${qemu ? 'qemu-tcg (the reference)' : `qemu-lite/${leg.vmm}`}`, () => {
      let assets: LinuxAssets;
      let con: LinuxConsole | undefined;
      beforeAll(async () => {
        assets = await ensureLinuxAssets(leg.arch, { log: (l) => console.log(l) });
      }, 30 * 60_000);
      afterEach(() => {
        con?.kill();
        con = undefined;
      });

      it('snd-intel8x0 plays a 440 Hz tone from /dev/dsp into the WAV; vgacon and bochs-drm show text that OCR reads', { timeout: BOOT_MS + 12 * CMD_MS }, async () => {
        const tag = `${leg.arch}-${leg.vmm}`;
        const wav = join(dir, `${tag}.wav`);
        const png = join(dir, `${tag}.png`);
        const sock = join(dir, `${tag}.sock`);
        const monitor = qemuMonitor(sock);
        const screen = () => (qemu ? monitor.screendump(join(dir, `${tag}.ppm`), CMD_MS) : screendumpBySignal(c, png, CMD_MS));
        const c = LinuxConsole.start(leg.vmm, {
          kernel: assets.vmlinuz,
          initrd: assets.initrd,
          // tty0 first, ttyS0 last: the kernel log goes to both, /dev/console (the shell) is the serial line.
          append: 'console=tty0 console=ttyS0 kvmts.modules=snd-intel8x0,snd-pcm-oss',
          extraArgs: [
            ...(qemu ? ['-monitor', `unix:${sock},server=on,wait=off`] : ['-machine', 'pc,linux-fast-boot=on', '-display', `png:${png}`]),
            '-device', 'VGA',
            '-audiodev', `wav,id=snd0,path=${wav}`, '-device', 'AC97,audiodev=snd0',
          ],
        });
        con = c;
        const s = await c.waitForShell(assets.initReadyMarker, BOOT_MS);
        console.log(`${tag}: shell after ${s.toFixed(1)} s (${c.cpuSeconds()?.toFixed(1) ?? '?'} s of CPU)`);
        const sh = async (cmd: string) => {
          const r = await c.run(cmd, CMD_MS);
          expect(r.status, `'${cmd}' exit status\n${c.tail()}`).toBe(0);
          return r.output;
        };
        expect(c.output).toContain('kvmts-init: loaded snd-intel8x0');
        expect(c.output).toContain('kvmts-init: loaded snd-pcm-oss');
        expect(await sh('cat /proc/asound/cards')).toMatch(/Intel 82801AA-ICH/);

        // ---- sound ----
        // ALSA starts the card muted; unmute through the OSS mixer as aumix would.
        const helper = ossVolumeBase64(leg.arch);
        await sh('rm -f /tmp/v.b64');
        for (let i = 0; i < helper.length; i += 512) await sh(`echo -n '${helper.slice(i, i + 512)}' >> /tmp/v.b64`);
        expect(await sh('base64 -d /tmp/v.b64 > /tmp/oss-volume && chmod +x /tmp/oss-volume && /tmp/oss-volume 100')).toBe('vol 100 100\npcm 100 100\n');
        // 200 bytes x 5 x 16 = 16000 samples = 2 s (few processes: fork+exec is slow here).
        await sh(`echo ${toneBlock()} | base64 -d > /tmp/block`);
        await sh('cat /tmp/block /tmp/block /tmp/block /tmp/block /tmp/block > /tmp/b5');
        await sh(`cat ${Array(16).fill('/tmp/b5').join(' ')} > /tmp/tone`);
        expect(await sh('wc -c < /tmp/tone')).toBe(`${TONE_SECONDS * OSS_RATE}\n`);
        // hw_params while the device is open: the format and rate snd-intel8x0 gave the codec.
        // The shell holds /dev/dsp on fd 3, so the stream stays open after cat's write (the
        // 2 s fit in the 16384-frame buffer); closing it drains (no race with a slow fork).
        const hw = await sh('exec 3>/dev/dsp; cat /tmp/tone >&3; cat /proc/asound/card0/pcm0p/sub0/hw_params; exec 3>&-');
        console.log(`${tag}: hw_params while playing:\n${hw}`);
        const hwRate = Number(/^rate: (\d+)/m.exec(hw)?.[1]);
        expect(hw).toMatch(/^format: S16_LE$/m);
        expect(hw).toMatch(/^channels: 2$/m);

        // ---- VGA text mode (vgacon) ----
        await sh(`echo ${VGACON_LINE} > /dev/tty0`);
        const { img: text, text: textOcr } = await screenShowing(screen, (img) => ocrTextScreen(img, dir), VGACON_LINE, SCREEN_MS);
        expect([text.width, text.height], 'vgacon: the 80x25 text mode at 9x16 cells').toEqual([720, 400]);
        console.log(`${tag}: vgacon OCR:\n${textOcr}`);
        expect(textOcr).toContain(VGACON_LINE);
        // The boot log: lines vgacon shows equal the kernel's on the serial console.
        const textLog = bootLogOnScreen(textOcr, c.output);
        expect(textLog.stamps, 'kernel log timestamps on the text screen').toBeGreaterThanOrEqual(5);
        expect(textLog.lines.length, 'kernel log lines on the text screen').toBeGreaterThanOrEqual(3);

        // ---- VGA graphics (bochs-drm, fbcon) ----
        await sh('modprobe bochs');
        expect(await sh('cat /proc/fb')).toMatch(/^0 bochs-drmdrmfb$/m);
        await sh(`echo ${FBCON_LINE} > /dev/tty0`);
        const { img: fb, text: fbOcr } = await screenShowing(screen, (img) => ocrGraphicsScreen(img, dir), FBCON_LINE, SCREEN_MS);
        console.log(`${tag}: bochs-drm screen ${fb.width}x${fb.height}`);
        expect(fb.width).toBeGreaterThanOrEqual(640);
        console.log(`${tag}: fbcon OCR:\n${fbOcr}`);
        expect(fbOcr).toContain(FBCON_LINE);
        // fbcon redraws tty0's contents: the boot log is still there, in the framebuffer now.
        const fbLog = bootLogOnScreen(fbOcr, c.output);
        expect(fbLog.stamps, 'kernel log timestamps on the framebuffer').toBeGreaterThanOrEqual(5);
        expect(fbLog.lines.length, 'kernel log lines on the framebuffer').toBeGreaterThanOrEqual(3);

        expect(await c.exitWith('poweroff -f', CMD_MS), c.tail()).toBe(0);

        // ---- the WAV ----
        const w = parseWav(readFileSync(wav));
        expect([w.channels, w.bitsPerSample]).toEqual([2, 16]);
        // VRA: the codec's DAC runs at OSS's 8 kHz. qemu-lite's file keeps the rate of the first
        // voice (the driver's 48 kHz clock measurement at probe) and resamples the tone to it;
        // QEMU's wav backend has its fixed 44.1 kHz.
        expect(hwRate).toBe(OSS_RATE);
        expect(w.sampleRate).toBe(qemu ? 44100 : 48000);
        const left = leftChannel(w.data);
        const { first, end } = toneSpan(left, 1000, Math.round(w.sampleRate * 0.005));
        expect(first, 'the tone is in the WAV').toBeGreaterThanOrEqual(0);
        const tone = left.subarray(first, end);
        const seconds = tone.length / w.sampleRate;
        const peak = tone.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const f = dominantFrequency(tone, w.sampleRate);
        console.log(`${tag}: WAV ${w.sampleRate} Hz, ${(left.length / w.sampleRate).toFixed(3)} s in all; tone from ${(first / w.sampleRate).toFixed(3)} s, ${seconds.toFixed(4)} s long, peak ${peak}, dominant ${f.scan} Hz (zero crossings ${f.crossings.toFixed(2)} Hz)`);
        expect(Math.abs(f.scan - TONE_HZ), `DFT peak ${f.scan} Hz`).toBeLessThanOrEqual(TONE_HZ * 0.01);
        expect(Math.abs(f.crossings - TONE_HZ), `zero crossings ${f.crossings} Hz`).toBeLessThanOrEqual(TONE_HZ * 0.01);
        // The mixer at 100 %: PCM Out attenuation 0, which the AC'97 spec makes +12 dB of gain
        // (qemu-lite's codec: 30/128 of full scale becomes 30570, unclipped); QEMU scales
        // linearly with 0 as unity.
        const want = TONE_AMPLITUDE * 256 * (qemu ? 1 : 10 ** (12 / 20));
        expect(Math.abs(peak - want), `peak ${peak}, want ${want.toFixed(0)}`).toBeLessThanOrEqual(want * 0.02);
        // Every sample written was played once: no gap (underrun) inside, nothing lost or repeated.
        expect(Math.abs(seconds - TONE_SECONDS), `tone length ${seconds} s`).toBeLessThanOrEqual(2 / TONE_HZ);
      });
    });
  }
});
