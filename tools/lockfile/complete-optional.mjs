#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that npm 11
// leaves out on this host (rollup's and nx's native bindings for other platforms), which
// `npm ci` then demands ("Missing: @rollup/rollup-darwin-arm64@ from lock file").
// Each entry gets the version, integrity, os/cpu/libc from the registry, as npm writes them.
// Usage: node tools/lockfile/complete-optional.mjs   (after `npm install`)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

/** The registry's metadata, or null when this registry does not carry that version. */
function registryMeta(name, range) {
  try {
    const meta = JSON.parse(execFileSync('npm', ['view', `${name}@${range}`, 'version', 'dist.integrity', 'os', 'cpu', 'libc', 'license', 'engines', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return Array.isArray(meta) ? meta[meta.length - 1] : meta;
  } catch {
    return null;
  }
}

/**
 * Some mirrors carry only this platform's binaries. The platform packages are named
 * <pkg>-<os>-<cpu>[-<abi>]; npm never fetches an optional package whose os/cpu do not
 * match the host, so an entry with the exact pinned version and the platform is enough.
 */
function metaFromName(name, range) {
  if (!/^\d+\.\d+\.\d+/.test(range)) throw new Error(`${name}: not in the registry and not pinned (${range})`);
  const parts = name.split('/').pop().split('-');
  const osNames = { darwin: 'darwin', linux: 'linux', win32: 'win32', freebsd: 'freebsd', openbsd: 'openbsd', android: 'android', openharmony: 'openharmony', sunos: 'sunos', netbsd: 'netbsd', aix: 'aix' };
  const i = parts.findIndex((p) => p in osNames);
  if (i < 0) throw new Error(`${name}: cannot tell its platform`);
  const cpu = parts[i + 1] === 'arm' && parts[i + 2]?.startsWith('gnueabihf') ? 'arm' : parts[i + 1];
  const abi = parts.slice(i + 2).join('-');
  const m = { version: range, os: [osNames[parts[i]]], cpu: [cpu] };
  if (parts[i] === 'linux' && abi.startsWith('musl')) m.libc = ['musl'];
  else if (parts[i] === 'linux' && abi.startsWith('gnu')) m.libc = ['glibc'];
  return m;
}

const lockPath = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  const optional = entry.optionalDependencies ?? {};
  for (const [name, range] of Object.entries(optional)) {
    const key = `node_modules/${name}`;
    const nested = `${path}/node_modules/${name}`;
    if (pkgs[key] || pkgs[nested]) continue;
    const m = registryMeta(name, range) ?? metaFromName(name, range);
    const out = { version: m.version };
    if (m['dist.integrity']) out.integrity = m['dist.integrity'];
    if (m.cpu) out.cpu = [].concat(m.cpu);
    if (m.license) out.license = m.license;
    if (m.libc) out.libc = [].concat(m.libc);
    out.optional = true;
    if (m.os) out.os = [].concat(m.os);
    if (entry.dev) out.dev = true;
    if (m.engines) out.engines = m.engines;
    pkgs[key] = out;
    added++;
    process.stdout.write(`lockfile: + ${name}@${m.version}\n`);
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
process.stdout.write(`lockfile: ${added} optional platform entries added\n`);
