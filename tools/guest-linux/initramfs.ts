/**
 * The initramfs: busybox, an /init that brings up a shell on the console, and the
 * kernel modules issue 8 needs with a modules.dep for modprobe. Written as a gzip'd
 * newc cpio (cpio.ts + node:zlib), no external cpio.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeCpioNewc, type CpioEntry } from './cpio';
import { installedPath, readModuleFile, resolveModules, WANTED_MODULES, type ModuleSet } from './modules';

/** The line /init prints right before it starts the shell; harnesses wait for it. */
export const INIT_READY_MARKER = 'kvmts-init: ready';

/**
 * /init, run by busybox sh as PID 1. It must never exit (the kernel panics when init
 * dies), so the shell runs in a loop as its child. `setsid cttyhack sh` gives the shell
 * a session with the console's real tty (/sys/class/tty/console/active, e.g. ttyS0) as
 * controlling terminal, so job control and Ctrl-C work; /dev/console itself cannot be a
 * controlling tty.
 */
export const INIT_SCRIPT = `#!/bin/sh
# kvmts initramfs /init (busybox sh, PID 1)
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || echo "kvmts-init: cannot mount devtmpfs on /dev"
[ -c /dev/console ] || mknod -m 600 /dev/console c 5 1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
exec </dev/console >/dev/console 2>&1
hostname kvmts
# Keep kernel messages (below KERN_EMERG) off the console while the shell runs, so
# they do not interleave with command output, unless loglevel= is on the command line.
grep -q 'loglevel=' /proc/cmdline || dmesg -n 1
# kvmts.modules=a,b,c on the kernel command line: modprobe each (with its dependencies).
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    kvmts.modules=*)
      for m in $(echo "\${arg#kvmts.modules=}" | tr , ' '); do
        modprobe "$m" && echo "kvmts-init: loaded $m" || echo "kvmts-init: modprobe $m failed"
      done ;;
  esac
done
export PS1='kvmts:\\w# '
echo "${INIT_READY_MARKER}: Linux $(uname -r) $(uname -m), $(grep -c ^processor /proc/cpuinfo) CPU(s); starting a shell on /dev/$(cat /sys/class/tty/console/active | sed 's/.* //')"
while true; do
  setsid cttyhack sh
  echo "kvmts-init: the shell exited; starting another (poweroff -f or reboot -f to stop)"
done
`;

export interface InitramfsInputs {
  /** Root of the unpacked kernel package (contains lib/modules/<kver>). */
  kernelRoot: string;
  kernelVersion: string;
  /** The unpacked busybox-static package root (contains bin/busybox). */
  busyboxRoot: string;
}

export interface Initramfs {
  gz: Uint8Array;
  modules: ModuleSet;
  files: number;
}

/** A short hash of everything that decides the archive's content besides the packages. */
export function recipeHash(): string {
  return createHash('sha256').update(INIT_SCRIPT).update(WANTED_MODULES.join(',')).update(readFileSync(new URL('./cpio.ts', import.meta.url))).update(readFileSync(new URL('./modules.ts', import.meta.url))).update(readFileSync(new URL('./initramfs.ts', import.meta.url))).digest('hex').slice(0, 16);
}

export function buildInitramfs(inp: InitramfsInputs): Initramfs {
  const busybox = join(inp.busyboxRoot, 'bin/busybox');
  if (!existsSync(busybox)) throw new Error(`${busybox} missing from the busybox-static package`);
  const modDir = join(inp.kernelRoot, 'lib/modules', inp.kernelVersion);
  const mods = resolveModules(modDir, WANTED_MODULES);

  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  const dir = (p: string) => {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ type: 'dir', path: d });
      }
    }
  };
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'run', 'root', 'etc']) dir(d);
  // The kernel opens /dev/console for init's stdin/out/err before /init runs.
  entries.push({ type: 'chardev', path: 'dev/console', major: 5, minor: 1, mode: 0o600 });
  entries.push({ type: 'file', path: 'bin/busybox', data: new Uint8Array(readFileSync(busybox)), mode: 0o755 });
  entries.push({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
  entries.push({ type: 'file', path: 'init', data: new TextEncoder().encode(INIT_SCRIPT), mode: 0o755 });
  entries.push({ type: 'file', path: 'etc/passwd', data: new TextEncoder().encode('root:x:0:0:root:/root:/bin/sh\n') });
  entries.push({ type: 'file', path: 'etc/group', data: new TextEncoder().encode('root:x:0:\n') });

  const libMod = `lib/modules/${inp.kernelVersion}`;
  dir(libMod);
  for (const m of mods.modules) {
    const dest = `${libMod}/${installedPath(m.relPath)}`;
    dir(dest.slice(0, dest.lastIndexOf('/')));
    entries.push({ type: 'file', path: dest, data: readModuleFile(join(modDir, m.relPath)) });
  }
  const enc = new TextEncoder();
  entries.push({ type: 'file', path: `${libMod}/modules.dep`, data: enc.encode(mods.modulesDep) });
  entries.push({ type: 'file', path: `${libMod}/modules.alias`, data: enc.encode(mods.modulesAlias) });
  for (const f of ['modules.builtin', 'modules.order']) {
    const p = join(modDir, f);
    if (existsSync(p)) entries.push({ type: 'file', path: `${libMod}/${f}`, data: new Uint8Array(readFileSync(p)) });
  }
  const cpio = writeCpioNewc(entries);
  return { gz: new Uint8Array(gzipSync(cpio, { level: 9 })), modules: mods, files: entries.length };
}
