/**
 * Debian packages through apt's own clients: apt-get update when the lists are missing
 * (with the i386 architecture added for the 686 kernel), apt-cache depends to find the
 * CURRENT kernel package behind a metapackage, apt-get download of exactly that one
 * version, dpkg-deb -x to unpack.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Log = (line: string) => void;

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (status ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

/** Whether apt has a Packages list for this Debian architecture. */
function hasLists(debArch: string): boolean {
  const dir = '/var/lib/apt/lists';
  return existsSync(dir) && readdirSync(dir).some((f) => f.includes(`_binary-${debArch}_Packages`));
}

/** Make `apt-cache` know packages of debArch: add the architecture, then update if its lists are missing. */
export function ensureAptLists(debArch: string, log: Log): void {
  const native = run('dpkg', ['--print-architecture']).trim();
  if (debArch !== native) {
    const foreign = run('dpkg', ['--print-foreign-architectures']).split('\n').map((s) => s.trim());
    if (!foreign.includes(debArch)) {
      log(`guest-linux: dpkg --add-architecture ${debArch}`);
      run('dpkg', ['--add-architecture', debArch]);
    }
  }
  if (!hasLists(debArch)) {
    log(`guest-linux: apt-get update (no package lists for ${debArch})`);
    aptGetUpdate(log);
    if (!hasLists(debArch)) throw new Error(`apt-get update gave no package lists for ${debArch}`);
  }
}

/**
 * apt-get update, tried up to three times. A mirror mid-sync fails single index files
 * ("File has unexpected size ... Mirror sync in progress?") and apt exits 100 while
 * keeping every list it did fetch, so after the last try a failure only warns: the
 * caller checks that the lists it needs are there.
 */
function aptGetUpdate(log: Log): void {
  for (let attempt = 1; ; attempt++) {
    try {
      run('apt-get', ['update', '-qq']);
      return;
    } catch (e) {
      const why = (e as Error).message;
      if (attempt === 3) {
        log(`guest-linux: warning: ${why}; going on with the lists apt has`);
        return;
      }
      log(`guest-linux: ${why}; retrying in ${5 * attempt} s`);
      spawnSync('sleep', [String(5 * attempt)]);
    }
  }
}

/** The package that a metapackage depends on and whose name starts with prefix (e.g. linux-image-amd64 -> linux-image-6.1.0-56-amd64). */
export function resolveDepends(meta: string, prefix: string): string {
  const out = run('apt-cache', ['depends', meta]);
  const m = out.split('\n').map((l) => /^\s*Depends:\s*(\S+)/.exec(l)?.[1]).find((p) => p !== undefined && p.startsWith(prefix));
  if (m === undefined) throw new Error(`apt-cache depends ${meta}: no dependency named ${prefix}*`);
  return m;
}

/** The candidate version apt would install (apt-cache policy). */
export function candidateVersion(pkg: string): string {
  const out = run('apt-cache', ['policy', pkg]);
  const v = /Candidate:\s*(\S+)/.exec(out)?.[1];
  if (v === undefined || v === '(none)') throw new Error(`apt-cache policy ${pkg}: no candidate version`);
  return v;
}

/** A .deb's control field (dpkg-deb -f). */
export function debField(deb: string, field: string): string {
  return run('dpkg-deb', ['-f', deb, field]).trim();
}

/**
 * pkg (may carry :arch) at exactly version, in cacheDir; downloaded once with
 * apt-get download (into a scratch dir, then renamed, so a killed run leaves no half file).
 */
export function downloadDeb(pkg: string, version: string, cacheDir: string, log: Log): string {
  const [name, arch] = pkg.split(':') as [string, string | undefined];
  const debArch = arch ?? run('dpkg', ['--print-architecture']).trim();
  mkdirSync(cacheDir, { recursive: true });
  const want = (f: string) => f.startsWith(`${name}_`) && f.endsWith(`_${debArch}.deb`) && decodeURIComponent(f).includes(`_${version}_`);
  const have = readdirSync(cacheDir).find(want);
  if (have !== undefined) {
    log(`guest-linux: cached ${have}`);
    return join(cacheDir, have);
  }
  const tmp = join(cacheDir, `.download-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  log(`guest-linux: apt-get download ${pkg}=${version} ...`);
  try {
    run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: tmp });
    const got = readdirSync(tmp).find(want);
    if (got === undefined) throw new Error(`apt-get download ${pkg}=${version} produced ${readdirSync(tmp).join(', ') || 'nothing'}`);
    renameSync(join(tmp, got), join(cacheDir, got));
    log(`guest-linux: downloaded ${got}`);
    return join(cacheDir, got);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** dpkg-deb -x deb into dir (once: a stamp file marks a complete unpack). */
export function unpackDeb(deb: string, dir: string, log: Log): void {
  const stamp = join(dir, '.unpacked');
  if (existsSync(stamp)) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`guest-linux: dpkg-deb -x ${deb.slice(deb.lastIndexOf('/') + 1)}`);
  run('dpkg-deb', ['-x', deb, dir]);
  writeFileSync(stamp, `${deb}\n`);
}
