/**
 * Running a guest image on a VMM with QEMU's command line: Debian's QEMU (TCG) as the
 * reference, or our own qemu-lite on a chosen vendor module. Both take the same options
 * and report the exit status and the serial output.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KvmError } from '@kvmts/kvm-core';
import type { GuestEntry, Vendor } from './manifest';

export interface RunOptions {
  kernel: string;
  smp?: number;
  memory?: number;
  append?: string;
  machine?: string;
  /** Extra options in QEMU's spelling. */
  extraArgs?: string[];
  timeoutMs?: number;
  /** Bytes for the guest's COM1 (the VMM's stdin), written once `after` appears in its output. */
  input?: { after: string; data: string };
  /** A guest reset reboots the machine (no -no-reboot); default: a reset ends the VMM with 0. */
  reboot?: boolean;
}

export interface RunResult {
  /** The VMM's exit status (isa-debug-exit code c gives (c << 1) | 1), or null if killed. */
  status: number | null;
  /** Everything the guest wrote to COM1. */
  serial: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface GuestRunner {
  /** e.g. "qemu-tcg" or "qemu-lite/kvm-intel". */
  readonly name: string;
  readonly vendor: Vendor | null;
  /** Factor applied to a run's time limit (an interpreter is slower than QEMU's JIT). */
  readonly timeoutScale: number;
  run(options: RunOptions): Promise<RunResult>;
}

/** The options both VMMs share (QEMU's names); COM1 goes to stdout, no firmware console. */
export function commonArgs(o: RunOptions): string[] {
  return [
    '-machine',
    o.machine ?? 'pc',
    '-kernel',
    o.kernel,
    ...(o.append ? ['-append', o.append] : []),
    '-m',
    String(o.memory ?? 128),
    '-smp',
    String(o.smp ?? 1),
    '-display',
    'none',
    '-vga',
    'none',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    ...(o.reboot ? [] : ['-no-reboot']),
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=4',
    ...(o.extraArgs ?? []),
  ];
}

function spawnVmm(cmd: string, args: string[], timeoutMs: number, input?: RunOptions['input']): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let fed = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdin?.on('error', () => {}); // the VMM may exit before reading it
    child.stdout!.on('data', (d: Buffer) => {
      out.push(d);
      // The guest said it is ready: type the input (stdin stays open, as a terminal would).
      if (input && !fed && Buffer.concat(out).toString('latin1').includes(input.after)) {
        fed = true;
        child.stdin!.write(input.data);
      }
    });
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new KvmError('ENOENT', `${cmd} not found (apt-get install qemu-system-x86)`) : e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolvePromise({
        status,
        serial: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        ms: Math.round(performance.now() - t0),
      });
    });
  });
}

/** Debian's qemu-system-x86_64 with TCG: the reference machine. */
export class QemuRunner implements GuestRunner {
  readonly name = 'qemu-tcg';
  readonly vendor = null;
  readonly timeoutScale = 1;
  constructor(private readonly binary = 'qemu-system-x86_64') {}
  run(o: RunOptions): Promise<RunResult> {
    return spawnVmm(this.binary, ['-accel', 'tcg', ...commonArgs(o)], (o.timeoutMs ?? 30_000) * this.timeoutScale, o.input);
  }
}

/** The qemu-lite CLI built from packages/qemu-lite (dist/cli.js), on one vendor module. */
export const QEMU_LITE_CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../qemu-lite/dist/cli.js');

export class QemuLiteRunner implements GuestRunner {
  readonly name: string;
  readonly timeoutScale = 4;
  constructor(
    readonly vendor: Vendor,
    private readonly cli = QEMU_LITE_CLI,
  ) {
    this.name = `qemu-lite/kvm-${vendor}`;
  }
  run(o: RunOptions): Promise<RunResult> {
    if (!existsSync(this.cli)) throw new KvmError('ENOENT', `${this.cli} missing: build qemu-lite first (nx run @kvmts/qemu-lite:build)`);
    return spawnVmm(process.execPath, [this.cli, '-accel', `kvm-${this.vendor}`, ...commonArgs(o)], (o.timeoutMs ?? 30_000) * this.timeoutScale, o.input);
  }
}

/**
 * The runner matrix: QEMU's TCG (the reference) and our qemu-lite on each vendor module.
 * KVMTS_GUEST_RUNNERS picks a subset (e.g. "qemu" or "qemu-lite"); default: all.
 */
export function runnerMatrix(env: string | undefined = process.env.KVMTS_GUEST_RUNNERS): { runner: GuestRunner; enabled: boolean }[] {
  const on = new Set((env ?? 'qemu,qemu-lite').split(',').map((s) => s.trim()));
  return [
    { runner: new QemuRunner(), enabled: on.has('qemu') },
    { runner: new QemuLiteRunner('intel'), enabled: on.has('qemu-lite') },
    { runner: new QemuLiteRunner('amd'), enabled: on.has('qemu-lite') },
  ];
}

/** The RunOptions a manifest entry asks for. */
export function runOptionsFor(entry: GuestEntry, kernel: string): RunOptions {
  return {
    kernel,
    smp: entry.smp,
    memory: entry.memory,
    append: entry.append,
    machine: entry.machine,
    extraArgs: entry.vmmArgs,
    timeoutMs: entry.timeoutMs,
    ...(entry.input ? { input: entry.input } : {}),
  };
}

/**
 * The CPUID features the exercisers test when present (Linux /proc/cpuinfo name -> QEMU
 * -cpu property). An exerciser prints "skipped" for a missing feature, so the guest's CPU
 * model must lack exactly what the host lacks: matchHostCpu() turns "-cpu max" into
 * "-cpu max,-feat,..." for every feature the host does not have.
 */
export const EXERCISER_FEATURES: Readonly<Record<string, string>> = {
  popcnt: 'popcnt',
  abm: 'abm',
  movbe: 'movbe',
  bmi1: 'bmi1',
  bmi2: 'bmi2',
  adx: 'adx',
  ssse3: 'ssse3',
  sse4_1: 'sse4.1',
  sse4_2: 'sse4.2',
};

/** The host's CPU flags from /proc/cpuinfo (empty set if unreadable). */
export function hostCpuFlags(cpuinfo?: string): Set<string> {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return new Set();
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('flags'));
  return new Set(line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : []);
}

export function matchHostCpu(args: readonly string[], flags: Set<string> = hostCpuFlags()): string[] {
  const out = [...args];
  const i = out.indexOf('-cpu');
  if (i < 0 || i + 1 >= out.length || flags.size === 0) return out;
  const off = Object.entries(EXERCISER_FEATURES)
    .filter(([linux]) => !flags.has(linux))
    .map(([, qemu]) => `-${qemu}`);
  if (off.length) out[i + 1] = `${out[i + 1]},${off.join(',')}`;
  return out;
}
