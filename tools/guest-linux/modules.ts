/**
 * Kernel modules for the initramfs: read each module's .modinfo section (the
 * "key=value\0" strings modpost writes: depends=, alias=, softdep=, vermagic=), resolve
 * the dependency closure of the modules we want, and write modules.dep and
 * modules.alias in depmod's format so the guest's `modprobe NAME` works.
 *
 * Debian's linux-image package ships no modules.dep (its postinst runs depmod), so we
 * do depmod's job here for the subset we copy.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The modules issue 8's device proofs load (virtio, ext4, AC'97 sound, bochs DRM), before dependencies. */
export const WANTED_MODULES = [
  'virtio',
  'virtio_ring',
  'virtio_pci',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_blk',
  'virtio_net',
  'net_failover',
  'failover',
  'ext4',
  'jbd2',
  'mbcache',
  'crc16',
  'crc32c_generic',
  'libcrc32c',
  'snd-intel8x0',
  'snd-pcm-oss',
  'snd-mixer-oss',
  'bochs',
] as const;

/** modprobe treats '-' and '_' in module names alike (kmod's modname_normalize). */
export const normalizeModName = (n: string) => n.replace(/-/g, '_');

export interface ModuleInfo {
  /** Name as the file is called, without .ko / .ko.xz. */
  name: string;
  /** Path relative to /lib/modules/<version>. */
  relPath: string;
  depends: string[];
  aliases: string[];
  /** softdep "pre:" modules (or aliases). */
  softPre: string[];
}

/** The strings of an ELF (32 or 64, little endian) file's .modinfo section. */
export function readModinfo(elf: Uint8Array): string[] {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (elf.length < 52 || dv.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  const is64 = elf[4] === 2;
  if (elf[5] !== 1) throw new Error('not a little-endian ELF file');
  const shoff = is64 ? Number(dv.getBigUint64(0x28, true)) : dv.getUint32(0x20, true);
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, true);
  const shstrndx = dv.getUint16(is64 ? 0x3e : 0x32, true);
  const section = (i: number) => {
    const b = shoff + i * shentsize;
    return is64
      ? { name: dv.getUint32(b, true), offset: Number(dv.getBigUint64(b + 0x18, true)), size: Number(dv.getBigUint64(b + 0x20, true)) }
      : { name: dv.getUint32(b, true), offset: dv.getUint32(b + 0x10, true), size: dv.getUint32(b + 0x14, true) };
  };
  if (shoff + shnum * shentsize > elf.length || shstrndx >= shnum) throw new Error('truncated ELF section table');
  const strtab = section(shstrndx);
  const dec = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const nameStart = strtab.offset + s.name;
    let end = nameStart;
    while (end < elf.length && elf[end] !== 0) end++;
    if (dec.decode(elf.subarray(nameStart, end)) !== '.modinfo') continue;
    if (s.offset + s.size > elf.length) throw new Error('truncated .modinfo');
    return dec.decode(elf.subarray(s.offset, s.offset + s.size)).split('\0').filter((x) => x.length > 0);
  }
  return [];
}

/** A module's bytes, decompressed if the package ships it as .ko.xz (needs xz on the host). */
export function readModuleFile(path: string): Uint8Array {
  if (path.endsWith('.ko.xz')) return new Uint8Array(execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 }));
  return new Uint8Array(readFileSync(path));
}

/** Every module file under lib/modules/<version>/kernel, by normalized name. */
export function indexModules(modDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.ko') || e.endsWith('.ko.xz')) out.set(normalizeModName(e.replace(/\.ko(\.xz)?$/, '')), relative(modDir, p));
    }
  };
  walk(join(modDir, 'kernel'));
  return out;
}

export function parseModule(modDir: string, relPath: string): ModuleInfo {
  const info = readModinfo(readModuleFile(join(modDir, relPath)));
  const get = (k: string) => info.filter((s) => s.startsWith(`${k}=`)).map((s) => s.slice(k.length + 1));
  const depends = get('depends').flatMap((d) => d.split(',')).filter((d) => d.length > 0);
  const softPre = get('softdep').flatMap((s) => {
    const m = /pre:\s*([^:]*?)(?:\s+post:.*)?$/.exec(s);
    return m ? m[1]!.trim().split(/\s+/).filter((x) => x.length > 0) : [];
  });
  const name = relPath.slice(relPath.lastIndexOf('/') + 1).replace(/\.ko(\.xz)?$/, '');
  return { name, relPath, depends, aliases: get('alias'), softPre };
}

export interface ModuleSet {
  /** Modules in load order (every module after its dependencies). */
  modules: ModuleInfo[];
  /** modules.dep text (paths relative to /lib/modules/<version>, .xz stripped). */
  modulesDep: string;
  /** modules.alias text. */
  modulesAlias: string;
  /** softdeps that name nothing in the set (reported, not fatal). */
  unresolvedSoftdeps: string[];
}

/** The path the initramfs stores a module under (decompressed: .ko.xz becomes .ko). */
export const installedPath = (relPath: string) => relPath.replace(/\.ko\.xz$/, '.ko');

/**
 * The closure of `wanted` under depends=, plus softdep pre: modules that the set
 * provides (by name or alias), which are then listed as dependencies so that busybox
 * modprobe (no modules.softdep support) loads them first.
 */
export function resolveModules(modDir: string, wanted: readonly string[]): ModuleSet {
  const index = indexModules(modDir);
  const byName = new Map<string, ModuleInfo>();
  const load = (name: string, from: string): ModuleInfo => {
    const key = normalizeModName(name);
    let m = byName.get(key);
    if (m) return m;
    const rel = index.get(key);
    if (rel === undefined) throw new Error(`module '${name}' (${from}) is not in ${modDir}`);
    m = parseModule(modDir, rel);
    byName.set(key, m);
    for (const d of m.depends) load(d, `needed by ${m.name}`);
    return m;
  };
  for (const w of wanted) load(w, 'wanted');
  // softdeps: resolve against the set's names and aliases.
  const unresolvedSoftdeps: string[] = [];
  const extraDeps = new Map<string, string[]>();
  for (const m of [...byName.values()]) {
    for (const s of m.softPre) {
      const hit = byName.get(normalizeModName(s)) ?? [...byName.values()].find((o) => o.aliases.includes(s));
      if (hit && hit !== m) extraDeps.set(m.name, [...(extraDeps.get(m.name) ?? []), hit.name]);
      else if (!hit) unresolvedSoftdeps.push(`${m.name}: ${s}`);
    }
  }
  const depsOf = (m: ModuleInfo) => [...m.depends, ...(extraDeps.get(m.name) ?? [])].map((d) => byName.get(normalizeModName(d))!);
  // Topological order (dependencies first), deterministic by name.
  const order: ModuleInfo[] = [];
  const state = new Map<ModuleInfo, 'visiting' | 'done'>();
  const visit = (m: ModuleInfo) => {
    const s = state.get(m);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`module dependency cycle through ${m.name}`);
    state.set(m, 'visiting');
    for (const d of depsOf(m)) visit(d);
    state.set(m, 'done');
    order.push(m);
  };
  for (const m of [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))) visit(m);
  const pos = new Map(order.map((m, i) => [m, i]));
  // modules.dep lists the full closure; modprobe loads it from the end backwards, so
  // each line runs from the nearest dependency to the most basic one (as depmod writes).
  const closure = (m: ModuleInfo): ModuleInfo[] => {
    const all = new Set<ModuleInfo>();
    const add = (x: ModuleInfo) => {
      for (const d of depsOf(x)) {
        if (!all.has(d)) {
          all.add(d);
          add(d);
        }
      }
    };
    add(m);
    return [...all].sort((a, b) => pos.get(b)! - pos.get(a)!);
  };
  const modulesDep = order.map((m) => `${installedPath(m.relPath)}:${closure(m).map((d) => ` ${installedPath(d.relPath)}`).join('')}\n`).join('');
  const modulesAlias = order.flatMap((m) => m.aliases.map((a) => `alias ${a} ${normalizeModName(m.name)}\n`)).join('');
  return { modules: order, modulesDep, modulesAlias, unresolvedSoftdeps };
}
