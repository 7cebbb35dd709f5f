/**
 * npm run guest:linux -- --arch amd64|i386 [--out DIR] [--cache DIR]
 *
 * Fetches Debian 12's current stock kernel (the package linux-image-amd64, resp.
 * linux-image-686:i386, depends on) and busybox-static for the arch with apt-get
 * download, unpacks them with dpkg-deb -x, and writes DIR/vmlinuz, DIR/initrd.img (a
 * gzip newc initramfs built here) and DIR/linux-assets.json. Everything is cached
 * (default tools/.cache/guest-linux), so a second run only checks versions.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { candidateVersion, downloadDeb, ensureAptLists, resolveDepends, unpackDeb, type Log } from './apt';
import { buildInitramfs, INIT_READY_MARKER, recipeHash } from './initramfs';

export const GUEST_LINUX_ARCHES = ['amd64', 'i386'] as const;
export type GuestLinuxArch = (typeof GUEST_LINUX_ARCHES)[number];

const toolsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Default cache root; the outputs of --arch A land in <cache>/<A>/ unless --out says otherwise. */
export const DEFAULT_CACHE = join(toolsDir, '.cache/guest-linux');

/** The Debian packages per arch: the kernel metapackage and busybox-static. */
const PACKAGES: Record<GuestLinuxArch, { debArch: string; meta: string; busybox: string; uname: string }> = {
  amd64: { debArch: 'amd64', meta: 'linux-image-amd64', busybox: 'busybox-static', uname: 'x86_64' },
  i386: { debArch: 'i386', meta: 'linux-image-686:i386', busybox: 'busybox-static:i386', uname: 'i686' },
};

/** What linux-assets.json holds (read by packages/guest-tests and tools/bench). */
export interface LinuxAssets {
  arch: GuestLinuxArch;
  /** `uname -m` the kernel reports. */
  unameMachine: string;
  kernelPackage: string;
  kernelPackageVersion: string;
  /** `uname -r`, also the /lib/modules directory name. */
  kernelRelease: string;
  busyboxPackage: string;
  busyboxVersion: string;
  vmlinuz: string;
  initrd: string;
  initReadyMarker: string;
  modules: string[];
  sha256: { vmlinuz: string; initrd: string };
  recipe: string;
}

const ArgsSchema = z.object({
  arch: z.enum(GUEST_LINUX_ARCHES),
  out: z.string().min(1).optional(),
  cache: z.string().min(1).optional(),
  quiet: z.boolean(),
});

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): z.infer<typeof ArgsSchema> {
  const raw: Record<string, unknown> = { arch: 'amd64', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = (eq >= 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
    if (!a.startsWith('-')) throw new UsageError(`unexpected argument '${a}' (usage: --arch amd64|i386 [--out DIR] [--cache DIR] [--quiet])`);
    if (name === 'quiet') {
      raw.quiet = true;
      continue;
    }
    if (!['arch', 'out', 'cache'].includes(name)) throw new UsageError(`--${name}: unknown option (usage: --arch amd64|i386 [--out DIR] [--cache DIR] [--quiet])`);
    const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`--${name}: missing value`);
    raw[name] = v;
  }
  const r = ArgsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0] ?? '?')}: ${issue.code === 'invalid_value' ? `must be one of ${GUEST_LINUX_ARCHES.join(', ')}` : issue.message}`);
  }
  return r.data;
}

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Fetch (or reuse) the packages and build the assets of one arch into outDir. */
export function fetchLinuxAssets(arch: GuestLinuxArch, opts: { cache?: string; out?: string; log?: Log } = {}): LinuxAssets {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const cache = resolve(opts.cache ?? DEFAULT_CACHE);
  const outDir = resolve(opts.out ?? join(cache, arch));
  const p = PACKAGES[arch];
  ensureAptLists(p.debArch, log);
  const kernelPackage = resolveDepends(p.meta, 'linux-image-');
  const kernelVersion = candidateVersion(kernelPackage);
  const busyboxVersion = candidateVersion(p.busybox);
  log(`guest-linux: ${arch}: ${p.meta} -> ${kernelPackage} ${kernelVersion}; ${p.busybox} ${busyboxVersion}`);

  const jsonPath = join(outDir, 'linux-assets.json');
  const recipe = recipeHash();
  if (existsSync(jsonPath)) {
    const old = JSON.parse(readFileSync(jsonPath, 'utf8')) as LinuxAssets;
    if (old.kernelPackage === kernelPackage && old.kernelPackageVersion === kernelVersion && old.busyboxVersion === busyboxVersion && old.recipe === recipe && existsSync(old.vmlinuz) && existsSync(old.initrd)) {
      log(`guest-linux: ${arch}: up to date in ${outDir}`);
      return old;
    }
  }

  const debs = join(cache, 'debs');
  const kdeb = downloadDeb(kernelPackage, kernelVersion, debs, log);
  const bdeb = downloadDeb(p.busybox, busyboxVersion, debs, log);
  const kroot = join(cache, 'unpacked', `${kernelPackage.replace(':', '_')}_${kernelVersion}`);
  const broot = join(cache, 'unpacked', `${p.busybox.replace(':', '_')}_${busyboxVersion.replace(':', '%3a')}`);
  unpackDeb(kdeb, kroot, log);
  unpackDeb(bdeb, broot, log);

  const releases = readdirSync(join(kroot, 'lib/modules'));
  if (releases.length !== 1) throw new Error(`${kdeb}: expected one lib/modules/<release>, found ${releases.join(', ') || 'none'}`);
  const kernelRelease = releases[0]!;
  const vmlinuzSrc = join(kroot, 'boot', `vmlinuz-${kernelRelease}`);
  if (!existsSync(vmlinuzSrc)) throw new Error(`${kdeb}: no boot/vmlinuz-${kernelRelease}`);

  log(`guest-linux: ${arch}: building the initramfs (busybox + /init + modules for ${kernelRelease}) ...`);
  const ir = buildInitramfs({ kernelRoot: kroot, kernelVersion: kernelRelease, busyboxRoot: broot });
  for (const s of ir.modules.unresolvedSoftdeps) log(`guest-linux: note: softdep not in the set: ${s}`);
  mkdirSync(outDir, { recursive: true });
  const vmlinuz = join(outDir, 'vmlinuz');
  const initrd = join(outDir, 'initrd.img');
  copyFileSync(vmlinuzSrc, `${vmlinuz}.tmp`);
  renameSync(`${vmlinuz}.tmp`, vmlinuz);
  writeFileSync(`${initrd}.tmp`, ir.gz);
  renameSync(`${initrd}.tmp`, initrd);
  const assets: LinuxAssets = {
    arch,
    unameMachine: p.uname,
    kernelPackage,
    kernelPackageVersion: kernelVersion,
    kernelRelease,
    busyboxPackage: p.busybox,
    busyboxVersion,
    vmlinuz,
    initrd,
    initReadyMarker: INIT_READY_MARKER,
    modules: ir.modules.modules.map((m) => m.name),
    sha256: { vmlinuz: sha256(vmlinuz), initrd: sha256(initrd) },
    recipe,
  };
  writeFileSync(jsonPath, JSON.stringify(assets, null, 2) + '\n');
  log(`guest-linux: ${arch}: wrote ${vmlinuz} (${(readFileSync(vmlinuz).length / 1e6).toFixed(1)} MB), ${initrd} (${(ir.gz.length / 1e6).toFixed(1)} MB, ${ir.files} files, ${assets.modules.length} modules), ${jsonPath}`);
  return assets;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const log: Log = args.quiet ? () => {} : (l) => process.stderr.write(`${l}\n`);
    const a = fetchLinuxAssets(args.arch, { cache: args.cache, out: args.out, log });
    process.stdout.write(`${join(dirname(a.vmlinuz), 'linux-assets.json')}\n`);
  } catch (e) {
    process.stderr.write(`guest-linux: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
