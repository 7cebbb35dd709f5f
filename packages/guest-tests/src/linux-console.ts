/**
 * Expect-style driving of a Linux guest through its serial console: start a VMM with
 * QEMU's command line (-kernel/-initrd/-append, COM1 on stdio), wait for the
 * initramfs's shell, type commands and collect their output and exit status.
 *
 * Each command is wrapped in markers that the guest prints itself:
 *   echo KVMTS''_B_<n>; <cmd>; echo KVMTS''_E_<n> $?
 * The tty echoes the typed line with the quotes, so only the shell's own output
 * matches "KVMTS_B_<n>" at the start of a line; line editing redraws cannot fake it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { QEMU_LITE_CLI } from './runner';

/** Which VMM boots the guest: Debian's QEMU with TCG (the reference) or qemu-lite on a vendor. */
export const LINUX_VMMS = ['qemu', 'kvm-intel', 'kvm-amd'] as const;
export type LinuxVmm = (typeof LINUX_VMMS)[number];

export interface LinuxBootOptions {
  kernel: string;
  initrd: string;
  /** Kernel command line; console=ttyS0 is what the harness reads. */
  append?: string;
  smp?: number;
  /** MiB (default 256: the amd64 kernel alone wants ~63 MiB while it decompresses). */
  memory?: number;
  /** Extra options in QEMU's spelling. */
  extraArgs?: string[];
  /**
   * Start as a person would: `-nographic` alone (COM1 and the monitor multiplexed on
   * stdio, Ctrl-A x quits, Ctrl-C goes to the guest) instead of the explicit
   * -display none -vga none -monitor none -serial stdio.
   */
  nographic?: boolean;
}

/**
 * The shell prompt the initramfs sets (PS1='kvmts:\w# '); busybox's line editing may
 * follow it with a cursor position query (ESC [6n), which a terminal would answer.
 */
export const LINUX_PROMPT = /kvmts:[^\r\n]*# (?:\x1b\[[0-9;]*[A-Za-z])*$/;

/** The command line both VMMs take (QEMU's names): COM1 on stdio, no display, no monitor (or -nographic), -no-reboot. */
export function linuxVmmCommand(vmm: LinuxVmm, o: LinuxBootOptions, cli: string = QEMU_LITE_CLI): { cmd: string; args: string[] } {
  const common = [
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    '-append', o.append ?? 'console=ttyS0',
    '-m', String(o.memory ?? 256),
    '-smp', String(o.smp ?? 1),
    ...(o.nographic ? ['-nographic'] : ['-display', 'none', '-vga', 'none', '-monitor', 'none', '-serial', 'stdio']),
    '-no-reboot',
    ...(o.extraArgs ?? []),
  ];
  if (vmm === 'qemu') return { cmd: 'qemu-system-x86_64', args: ['-accel', 'tcg', ...common] };
  return { cmd: process.execPath, args: [cli, '-accel', vmm, ...common] };
}

export class ConsoleTimeoutError extends Error {}

/** A running VMM and the guest console on its stdio. */
export class LinuxConsole {
  /** Everything the guest wrote to the console so far (latin1). */
  output = '';
  /** Where the next wait starts looking. */
  private cursor = 0;
  private exitStatus: number | null | undefined = undefined;
  private stderr = '';
  private waiters = new Set<() => void>();
  private seq = 0;
  readonly started = performance.now();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly onOutput?: (s: string) => void,
  ) {
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      this.output += s;
      this.onOutput?.(s);
      this.wake();
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    child.on('close', (status, signal) => {
      this.exitStatus = status ?? (signal ? null : status);
      this.wake();
    });
    // A VMM that already exited has a closed stdin; the wait reports the exit, not EPIPE.
    child.stdin.on('error', () => {});
  }

  /**
   * Start the VMM; onOutput sees console bytes as they come (e.g. to stream them to a
   * person). cli: another qemu-lite build (default this checkout's, or KVMTS_QEMU_LITE_CLI).
   */
  static start(vmm: LinuxVmm, o: LinuxBootOptions, opts: { onOutput?: (s: string) => void; cli?: string } = {}): LinuxConsole {
    const cli = opts.cli ?? process.env.KVMTS_QEMU_LITE_CLI ?? QEMU_LITE_CLI;
    if (vmm !== 'qemu' && !existsSync(cli)) throw new Error(`${cli} missing: build qemu-lite first (npx nx run @kvmts/qemu-lite:build)`);
    const { cmd, args } = linuxVmmCommand(vmm, o, cli);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const c = new LinuxConsole(vmm === 'qemu' ? 'qemu-tcg' : `qemu-lite/${vmm}`, child, opts.onOutput);
    child.on('error', (e) => {
      c.stderr += `spawn ${cmd}: ${e.message}\n`;
      c.exitStatus = null;
      c.wake();
    });
    return c;
  }

  /** The VMM's exit status once it ended (null: killed by a signal), else undefined. */
  get status(): number | null | undefined {
    return this.exitStatus;
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /**
   * CPU seconds the VMM process used so far (all its threads: utime + stime from
   * /proc/PID/stat, in USER_HZ = 100 ticks), or undefined off Linux or after it exited.
   * On a loaded machine this is the fairer figure than wall time.
   */
  cpuSeconds(): number | undefined {
    if (this.child.pid === undefined || this.exitStatus !== undefined) return undefined;
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 (utime, stime); f[0] is field 3.
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return undefined;
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The last part of the console output and the VMM's stderr, for failure messages. */
  tail(chars = 3000): string {
    const out = this.output.slice(-chars).replace(/\r/g, '');
    const err = this.stderr.trim() ? `\n--- ${this.name} stderr ---\n${this.stderr.trim().slice(-1500)}` : '';
    return `--- last console output of ${this.name} (${this.seconds.toFixed(1)} s) ---\n${out}${err}`;
  }

  /** Wait until pattern appears after the cursor; returns the match and moves the cursor past it. */
  waitFor(pattern: RegExp | string, timeoutMs: number, what: string): Promise<RegExpExecArray> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : new RegExp(pattern.source, pattern.flags.replace('g', ''));
    return new Promise((resolvePromise, reject) => {
      // The patterns span at most a line and its leading newline, so each new chunk is
      // searched from the newline before the last complete text onwards, not from the
      // cursor: a boot log arriving byte by byte stays linear.
      let scanned = this.cursor;
      const check = (): boolean => {
        const from = Math.max(this.cursor, this.output.lastIndexOf('\n', scanned - 1));
        scanned = this.output.length;
        const m = re.exec(this.output.slice(from));
        if (m) {
          m.index += from;
          this.cursor = m.index + m[0].length;
          done();
          resolvePromise(m);
          return true;
        }
        if (this.exitStatus !== undefined) {
          done();
          reject(new Error(`${this.name} exited (status ${this.exitStatus}) while waiting for ${what}\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new ConsoleTimeoutError(`${this.name}: timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}\n${this.tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => void check();
      this.waiters.add(waiter);
      check();
    });
  }

  /** Type text on the console. */
  send(text: string): void {
    if (this.exitStatus === undefined) this.child.stdin.write(text);
  }

  /** Wait for the initramfs's ready marker and then the shell prompt. */
  async waitForShell(marker: string, timeoutMs: number): Promise<number> {
    await this.waitFor(marker, timeoutMs, `the initramfs marker '${marker}'`);
    await this.waitFor(LINUX_PROMPT, Math.max(timeoutMs - this.seconds * 1000, 30_000), 'the shell prompt');
    return this.seconds;
  }

  /** Run one shell command; resolves to its output (\r removed, trailing newline kept) and exit status. */
  async run(command: string, timeoutMs: number): Promise<{ output: string; status: number }> {
    if (/[\r\n]/.test(command)) throw new Error('LinuxConsole.run: one line per command');
    const n = ++this.seq;
    this.send(`echo KVMTS''_B_${n}; ${command}; echo KVMTS''_E_${n} $?\n`);
    const b = await this.waitFor(new RegExp(`(?:^|\\n)KVMTS_B_${n}\\r*\\n`), timeoutMs, `the start of '${command}'`);
    const start = b.index + b[0].length;
    const e = await this.waitFor(new RegExp(`(?:^|\\n)KVMTS_E_${n} (\\d+)\\r*\\n`), timeoutMs, `the end of '${command}'`);
    const output = this.output.slice(start, e.index).replace(/\r/g, '');
    return { output: output.length > 0 ? `${output}\n` : '', status: Number(e[1]) };
  }

  /** Type a command that ends the VM (poweroff -f, reboot -f) and wait for the VMM's exit status. */
  async exitWith(command: string, timeoutMs: number): Promise<number | null> {
    this.send(`${command}\n`);
    return this.waitExit(timeoutMs, `the VMM to exit after '${command}'`);
  }

  waitExit(timeoutMs: number, what = 'the VMM to exit'): Promise<number | null> {
    return new Promise((resolvePromise, reject) => {
      const check = () => {
        if (this.exitStatus === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolvePromise(this.exitStatus);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new ConsoleTimeoutError(`${this.name}: timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Send the VMM process a signal (e.g. SIGUSR1: qemu-lite's -display png: writes the screen). */
  signal(sig: NodeJS.Signals): void {
    if (this.exitStatus === undefined) this.child.kill(sig);
  }

  /** Stop the VMM if it still runs (after a failure). */
  kill(): void {
    if (this.exitStatus === undefined) this.child.kill('SIGKILL');
  }
}
