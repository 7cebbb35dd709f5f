/**
 * Builds the guests of the manifest with gcc/binutils into build/: the guest image
 * (build/<name>.elf, an ELF32 multiboot kernel) and, for differential exercisers, the
 * host Linux program (build/<name>.host) from the same source. Outputs are cached by a
 * hash of every input file, the flags and the compiler version.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KvmError } from '@kvmts/kvm-core';
import { BUILD_DIR, GUESTS_DIR, type GuestEntry, type GuestMode } from './manifest';

/** The runtime (like kvm-unit-tests' lib/): linked into every guest. */
export const RUNTIME_COMMON = ['lib/printf.c', 'lib/string.c'];
export const RUNTIME_GUEST = [
  'lib/x86/isr.S',
  'lib/x86/setup.c',
  'lib/x86/desc.c',
  'lib/x86/serial.c',
  'lib/x86/apic.c',
  'lib/x86/smp.c',
  'lib/x86/trampoline.S',
  'lib/x86/acpi.c',
  'lib/x86/vm.c',
];
export const RUNTIME_HOST = ['lib/host/start.c'];
/** Every file under these directories is part of every guest's cache key (headers included). */
const SHARED_DIRS = ['lib', 'exercisers/exerciser.h'];

function sharedFiles(): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const p = join(GUESTS_DIR, rel);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(`${rel}/${e}`);
    else out.push(rel);
  };
  for (const d of SHARED_DIRS) walk(d);
  return out;
}

/** Code generation flags shared by the guest and host builds (same code on both sides). */
export function cflags(mode: GuestMode): string[] {
  return [
    `-m${mode}`,
    '-std=gnu11',
    '-ffreestanding',
    '-fno-pic',
    '-fno-pie',
    '-fno-stack-protector',
    '-fno-asynchronous-unwind-tables',
    '-fcf-protection',
    // Guests read low physical memory (BDA, EBDA): no null-page assumptions.
    '-fno-delete-null-pointer-checks',
    '-fno-strict-aliasing',
    '--param=min-pagesize=0',
    '-mgeneral-regs-only',
    ...(mode === 64 ? ['-mno-red-zone'] : []),
    '-O2',
    '-Wall',
    '-Werror',
    '-I',
    join(GUESTS_DIR, 'lib'),
    '-I',
    join(GUESTS_DIR, 'exercisers'),
  ];
}

export interface BuildResult {
  name: string;
  /** The guest image. */
  elf: string;
  /** The host build of a differential exerciser. */
  host?: string;
  cached: boolean;
  ms: number;
}

export interface BuildOptions {
  outDir?: string;
  /** Progress lines; console.log by default. */
  log?: (line: string) => void;
  /** Rebuild even when the cache key matches. */
  force?: boolean;
}

let toolchainChecked = false;

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT') throw new KvmError('ENOENT', `${cmd} not found: apt-get install gcc gcc-multilib binutils`);
    throw new KvmError('EINVAL', `${cmd} ${args.join(' ')} failed:\n${err.stderr ?? err.message}`);
  }
}

/** Checks that gcc, objcopy and the 32-bit multilib pieces (libgcc for -m32) are there. */
export function checkToolchain(): string {
  const version = run('gcc', ['--version']).split('\n')[0]!;
  if (toolchainChecked) return version;
  run('objcopy', ['--version']);
  for (const m of ['-m32', '-m64']) {
    const libgcc = run('gcc', [m, '-print-libgcc-file-name']).trim();
    if (!existsSync(libgcc)) {
      throw new KvmError('ENOENT', `gcc ${m}: ${libgcc} missing (for -m32: apt-get install gcc-multilib)`);
    }
  }
  toolchainChecked = true;
  return version;
}

/** The cache key of an entry: its inputs, the flags and the compiler version. */
export function guestCacheKey(entry: GuestEntry): string {
  return cacheKey(entry, checkToolchain());
}

function cacheKey(entry: GuestEntry, compiler: string): string {
  const h = createHash('sha256');
  h.update(compiler);
  h.update(JSON.stringify({ mode: entry.mode, sources: entry.sources, differential: entry.differential }));
  // Relative to the guests folder: the key must not depend on where the repository lives.
  h.update(cflags(entry.mode).map((f) => (f.startsWith(GUESTS_DIR) ? `<guests>${f.slice(GUESTS_DIR.length)}` : f)).join(' '));
  const files = [...sharedFiles(), ...entry.sources];
  for (const f of files) {
    const p = join(GUESTS_DIR, f);
    h.update(f);
    h.update(existsSync(p) ? readFileSync(p) : '<missing>');
  }
  return h.digest('hex');
}

/** Builds one manifest entry (or returns the cached outputs). */
export function buildGuest(entry: GuestEntry, options: BuildOptions = {}): BuildResult {
  const outDir = options.outDir ?? BUILD_DIR;
  const log = options.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  const compiler = checkToolchain();
  for (const s of entry.sources) {
    if (!existsSync(join(GUESTS_DIR, s))) throw new KvmError('ENOENT', `${entry.name}: sources: ${s} does not exist`);
  }
  mkdirSync(outDir, { recursive: true });
  const elf = join(outDir, `${entry.name}.elf`);
  const host = entry.differential ? join(outDir, `${entry.name}.host`) : undefined;
  const stamp = join(outDir, `${entry.name}.hash`);
  const key = cacheKey(entry, compiler);
  const cached =
    !options.force && existsSync(stamp) && readFileSync(stamp, 'utf8') === key && existsSync(elf) && (!host || existsSync(host));
  if (!cached) {
    const src = (l: string[]) => l.map((f) => join(GUESTS_DIR, f));
    const flags = cflags(entry.mode);
    const link = ['-nostdlib', '-static', '-no-pie', '-Wl,--build-id=none', '-Wl,-z,max-page-size=0x1000', '-Wl,--no-warn-rwx-segments'];
    // Test files run in parallel processes and may build the same guest: each writes its
    // own temporary files and renames them into place (atomic), the stamp last.
    const tmp = `${elf}.${process.pid}.tmp`;
    run('gcc', [
      ...flags,
      ...link,
      `-Wl,-T,${join(GUESTS_DIR, `lib/guest${entry.mode}.ld`)}`,
      '-o',
      tmp,
      ...src([`lib/x86/boot${entry.mode}.S`, ...RUNTIME_GUEST, ...RUNTIME_COMMON, ...entry.sources]),
      '-lgcc',
    ]);
    // Multiboot loaders (QEMU's among them) take ELF32 only: a 64-bit image keeps its
    // x86-64 code but gets an elf32-i386 container; its entry point is 32-bit code.
    if (entry.mode === 64) run('objcopy', ['-O', 'elf32-i386', tmp, tmp]);
    renameSync(tmp, elf);
    if (host) {
      const hostTmp = `${host}.${process.pid}.tmp`;
      run('gcc', [...flags, ...link, '-DHOST_BUILD', '-o', hostTmp, ...src([...RUNTIME_HOST, ...RUNTIME_COMMON, ...entry.sources]), '-lgcc']);
      renameSync(hostTmp, host);
    }
    writeFileSync(`${stamp}.${process.pid}.tmp`, key);
    renameSync(`${stamp}.${process.pid}.tmp`, stamp);
  }
  const ms = Math.round(performance.now() - t0);
  log(`[guest-build] ${entry.name} (${entry.mode}-bit${host ? ', +host' : ''}) ${cached ? 'cached' : `built in ${ms} ms`}`);
  return { name: entry.name, elf, host, cached, ms };
}

/** Builds every entry, in manifest order. */
export function buildAll(entries: GuestEntry[], options: BuildOptions = {}): BuildResult[] {
  return entries.map((e) => buildGuest(e, options));
}
