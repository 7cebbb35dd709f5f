/**
 * The Debian Linux guest assets (vmlinuz, initrd.img, linux-assets.json) that
 * tools/guest-linux fetches and builds. The tool runs as a child process (tools depends
 * on this package, not the other way round); it is cached, so a second call is quick.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const LINUX_ARCHES = ['amd64', 'i386'] as const;
export type LinuxArch = (typeof LINUX_ARCHES)[number];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The asset tool (npm run guest:linux). */
export const GUEST_LINUX_TOOL = join(repoRoot, 'tools/guest-linux/main.ts');
/** Where the tool writes each arch's assets by default. */
export const LINUX_ASSETS_CACHE = join(repoRoot, 'tools/.cache/guest-linux');

/** linux-assets.json as tools/guest-linux writes it (the fields the harness uses). */
export const LinuxAssetsSchema = z.object({
  arch: z.enum(LINUX_ARCHES),
  unameMachine: z.string(),
  kernelPackage: z.string(),
  kernelPackageVersion: z.string(),
  kernelRelease: z.string(),
  busyboxVersion: z.string(),
  vmlinuz: z.string(),
  initrd: z.string(),
  initReadyMarker: z.string(),
  modules: z.array(z.string()),
});
export type LinuxAssets = z.infer<typeof LinuxAssetsSchema>;

export function linuxAssetsJson(arch: LinuxArch, dir: string = join(LINUX_ASSETS_CACHE, arch)): string {
  return join(dir, 'linux-assets.json');
}

/** The assets already built for arch, or undefined (nothing fetched yet, or files gone). */
export function readLinuxAssets(arch: LinuxArch, dir?: string): LinuxAssets | undefined {
  const p = linuxAssetsJson(arch, dir);
  if (!existsSync(p)) return undefined;
  const a = LinuxAssetsSchema.parse(JSON.parse(readFileSync(p, 'utf8')));
  return existsSync(a.vmlinuz) && existsSync(a.initrd) ? a : undefined;
}

/**
 * Run tools/guest-linux for arch (fetches with apt-get on the first call, then only
 * checks versions) and return its assets. Progress lines go to log.
 */
export function ensureLinuxAssets(arch: LinuxArch, opts: { log?: (line: string) => void } = {}): Promise<LinuxAssets> {
  const log = opts.log ?? (() => {});
  const tsx = join(repoRoot, 'node_modules/.bin/tsx');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tsx, [GUEST_LINUX_TOOL, '--arch', arch], { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: string[] = [];
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        err.push(l);
        log(l);
      }
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) {
        reject(new Error(`npm run guest:linux -- --arch ${arch} failed (status ${status}): ${[...err, partial].filter(Boolean).slice(-3).join(' | ')}`));
        return;
      }
      const a = readLinuxAssets(arch);
      if (a === undefined) reject(new Error(`guest:linux --arch ${arch} succeeded but ${linuxAssetsJson(arch)} is missing`));
      else resolvePromise(a);
    });
  });
}
