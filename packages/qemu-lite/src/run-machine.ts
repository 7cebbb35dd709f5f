/**
 * runMachine(config): the whole VMM for one configuration, usable in-process by the
 * guest-test suites and by the CLI. It loads the vendor module into a host (or uses the
 * caller's host), builds the machine, runs the event loop and returns the exit status
 * QEMU would: isa-debug-exit's (v << 1) | 1, 0 for power-off, 1 for host-side failures.
 * A reset rebuilds the machine from scratch and boots again, unless -no-reboot.
 */
import { appendFileSync, openSync, closeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createHost, KvmError, type Host, type Kvm, type KvmModule } from '@kvmts/kvm-core';
import { hostAccel, loadAccelModule } from './accel';
import { KvmClock, type Clock } from './clock';
import { parseMachineConfig, type AccelName, type MachineConfig, type MachineConfigInput, type MachineType } from './config';
import { MachineEvents, type MachineRequest } from './machine/machine-events';
import { PcMachine } from './machine/pc';
import { RunLoop } from './machine/run-loop';
import { runMonitor } from './monitor';
import { screendump } from './display/screendump';
import { MonitorSocket } from './monitor-socket';

export interface RunMachineOptions {
  /** A host that already has the vendor module loaded (guest-tests). */
  host?: Host;
  /** Otherwise: the module to insmod into a fresh host... */
  module?: KvmModule<unknown>;
  /** ...or a loader by accelerator name (the CLI: dynamic import of the package). */
  loadModule?: (accel: AccelName) => Promise<KvmModule<unknown>>;
  /** Module parameters for insmod. */
  moduleParams?: Record<string, unknown>;
  /** Device time base (default: the VM's KVM_GET_CLOCK, or host time without it). */
  clock?: Clock;
  /** Guest serial output for `stdio` backends (default: process.stdout). */
  stdout?: (bytes: Uint8Array) => void;
  /** Host-side messages (default: process.stderr). */
  stderr?: (line: string) => void;
  /** Host input for COM1 and the -S monitor (default: none; the CLI passes process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** The kernel when config.kernel is unset (the CLI passes the demo guest). */
  defaultKernel?: string;
  /** Called with each machine once built (tests inspect devices; monitors attach). */
  onMachine?: (m: PcMachine, loop: RunLoop) => void;
  /**
   * SIGTERM, SIGHUP and SIGINT end the VM cleanly (as QEMU's "terminating on signal N"),
   * so devices finish their files (PNG, WAV) before exit. The CLI sets it.
   */
  handleSignals?: boolean;
  /** Called when a boot ends, before the VM is destroyed (e.g. to read vCPU stats). */
  onMachineEnd?: (m: PcMachine) => void;
}

export interface RunMachineResult {
  status: number;
  reason: string;
  /** True when the status reports a host-side failure rather than the guest's choice. */
  hostError: boolean;
}

export interface MachineRunContext {
  config: MachineConfig;
  host: Host;
  kvm: Kvm;
  events: MachineEvents;
  opts: RunMachineOptions;
  /** What survives a system reset into the next boot (the CMOS NVRAM, as on a PC). */
  carry: MachineCarry;
}

export interface MachineCarry {
  cmosNvram?: Uint8Array;
}

/** A machine type's runner: builds the machine and runs it until it asks to exit/reset. */
export type MachineRunner = (ctx: MachineRunContext) => Promise<MachineRequest>;

const MACHINES = new Map<MachineType, MachineRunner>();

/** Registers a machine type (the s390 engineer's src/s390/ registers 's390-ccw-virtio'). */
export function registerMachine(type: MachineType, runner: MachineRunner): void {
  MACHINES.set(type, runner);
}

export async function runMachine(input: MachineConfigInput, opts: RunMachineOptions = {}): Promise<RunMachineResult> {
  const stderr = opts.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  const fail = (reason: string): RunMachineResult => {
    stderr(`qemu-lite: ${reason}`);
    return { status: 1, reason, hostError: true };
  };
  let config: MachineConfig;
  try {
    config = parseMachineConfig(input);
  } catch (e) {
    return fail((e as Error).message);
  }
  let host = opts.host;
  try {
    if (host === undefined) {
      const accel = config.accel ?? (config.machine === 's390-ccw-virtio' ? 'kvm-s390' : hostAccel());
      const module = opts.module ?? (await (opts.loadModule ?? loadAccelModule)(accel));
      host = createHost();
      host.insmod(module, opts.moduleParams);
    }
  } catch (e) {
    return fail((e as Error).message);
  }
  const kvm = host.open('/dev/kvm');
  const runner = MACHINES.get(config.machine);
  if (runner === undefined) return fail(`machine type '${config.machine}' is not available in this build`);
  const carry: MachineCarry = {};
  for (;;) {
    const events = new MachineEvents(config.noReboot);
    let req: MachineRequest;
    try {
      req = await runner({ config, host, kvm, events, opts, carry });
    } catch (e) {
      return fail(e instanceof KvmError ? e.message : (e as Error).message ?? String(e));
    }
    if (req.kind === 'exit') {
      if (req.status !== 0 && !req.reason.startsWith('isa-debug-exit')) stderr(`qemu-lite: ${req.reason}`);
      return { status: req.status, reason: req.reason, hostError: req.status !== 0 && !req.reason.startsWith('isa-debug-exit') };
    }
    if (config.log.includes('cpu_reset')) stderr(`qemu-lite: system reset: ${req.reason}`);
  }
}

/** The signals that end the VM cleanly, with the numbers QEMU prints. */
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** The pc machine's runner. */
export const runPcMachine: MachineRunner = async ({ config, kvm, events, opts, carry }) => {
  const stderr = opts.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  const stdout = opts.stdout ?? ((b: Uint8Array) => process.stdout.write(b));
  let logFd = -1;
  if (config.logfile !== undefined) logFd = openSync(config.logfile, 'a');
  const log = (line: string) => (logFd >= 0 ? appendFileSync(logFd, `${line}\n`) : stderr(line));
  const vm = kvm.createVm(0);
  if (config.icountShift !== undefined) vm.setClockSource({ mode: 'virtual', nsPerInstruction: 2 ** config.icountShift });
  const clock = opts.clock ?? new KvmClock(vm);
  let machine: PcMachine | undefined;
  let detach = () => {};
  try {
    machine = new PcMachine(config, kvm, vm, clock, events, { stdout, warn: stderr }, opts.defaultKernel);
    const m = machine;
    if (carry.cmosNvram !== undefined) m.rtc.restoreNvram(carry.cmosNvram);
    const loop = new RunLoop(m, {
      traceExits: config.log.includes('exits'),
      traceIo: config.log.includes('io'),
      traceUnimp: config.log.includes('unimp') || config.log.includes('guest_errors'),
      log,
    });
    m.deviceKick = () => loop.kick();
    opts.onMachine?.(m, loop);
    if (config.startPaused) {
      const stdin = opts.stdin;
      const r = stdin === undefined ? 'continue' : await runMonitor(createInterface({ input: stdin, terminal: false }), (s) => stdout(new TextEncoder().encode(s)), {
        vcpus: m.vcpus,
        ...(config.name !== undefined ? { name: config.name } : {}),
        infoPci: () => m.pci.list().map(({ device, fn, f }) => `  Bus 0, device ${device}, function ${fn}: ${f.name} ${f.readConfig(0, 2).toString(16).padStart(4, '0')}:${f.readConfig(2, 2).toString(16).padStart(4, '0')}\n`).join(''),
        powerdown: () => m.pm?.pressPowerButton(),
        ...(m.vga ? { screendump: (file: string) => screendump(m.vga!.core, file) } : {}),
      });
      if (r === 'quit') return { kind: 'exit', status: 0, reason: 'quit from the monitor' };
    }
    detach = attachStdin(opts.stdin, m, loop, events, config.stdioSignals, stdout);
    if (opts.handleSignals) {
      const onSignal = (sig: NodeJS.Signals) => {
        const reason = `terminating on signal ${SIGNAL_NUMBERS[sig as keyof typeof SIGNAL_NUMBERS] ?? sig}`;
        stderr(`qemu-lite: ${reason}`);
        events.exit(0, reason);
        loop.kick();
      };
      for (const sig of Object.keys(SIGNAL_NUMBERS)) process.on(sig, onSignal);
      const before = detach;
      detach = () => {
        for (const sig of Object.keys(SIGNAL_NUMBERS)) process.off(sig, onSignal);
        before();
      };
    }
    if (config.monitorSocket !== undefined) {
      const mon = new MonitorSocket(config.monitorSocket, {
        vcpus: m.vcpus,
        ...(config.name !== undefined ? { name: config.name } : {}),
        infoPci: () => m.pci.list().map(({ device, fn, f }) => `  Bus 0, device ${device}, function ${fn}: ${f.name} ${f.readConfig(0, 2).toString(16).padStart(4, '0')}:${f.readConfig(2, 2).toString(16).padStart(4, '0')}\n`).join(''),
        powerdown: () => { m.pm?.pressPowerButton(); loop.kick(); },
        ...(m.vga ? { screendump: (file: string) => screendump(m.vga!.core, file) } : {}),
      }, () => { events.exit(0, 'quit from the monitor'); loop.kick(); });
      const before = detach;
      detach = () => { mon.close(); before(); };
    }
    return await loop.run();
  } finally {
    detach();
    if (machine !== undefined) carry.cmosNvram = machine.rtc.cmos.slice();
    if (machine !== undefined) opts.onMachineEnd?.(machine);
    machine?.close();
    vm.destroy();
    if (logFd >= 0) closeSync(logFd);
  }
};

registerMachine('pc', runPcMachine);
registerMachine('microvm', runPcMachine);
// 's390-ccw-virtio' is registered by the s390 machine (src/s390/), with registerMachine.

/**
 * Host input to COM1; on a TTY in raw mode, with QEMU's Ctrl-A x to quit, and Ctrl-C
 * ending qemu-lite unless -nographic (which hands it to the guest), as QEMU's stdio.
 * -nographic multiplexes COM1 and the monitor on stdio (QEMU's mon:stdio, char-mux.c),
 * whose escape works on the byte stream whether or not stdin is a terminal: Ctrl-A x
 * prints "QEMU: Terminated" and quits with status 0, Ctrl-A Ctrl-A sends one Ctrl-A.
 */
function attachStdin(stdin: NodeJS.ReadableStream | undefined, m: PcMachine, loop: RunLoop, events: MachineEvents, signals: boolean, stdout: (bytes: Uint8Array) => void): () => void {
  const serial = m.serials[0];
  if (stdin === undefined || serial === undefined) return () => {};
  const tty = stdin as NodeJS.ReadStream;
  const raw = tty.isTTY === true && typeof tty.setRawMode === 'function';
  if (raw) tty.setRawMode(true);
  // The Ctrl-A escape: on a raw terminal, and always under -nographic's mux (signals off).
  const mux = raw || !signals;
  let escape = false;
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const fwd: number[] = [];
    for (const b of bytes) {
      if (mux && escape) {
        escape = false;
        if (b === 0x78) { // C-a x
          stdout(new TextEncoder().encode('QEMU: Terminated\n\r'));
          events.exit(0, 'QEMU: Terminated');
          loop.kick();
          return;
        }
        if (b !== 0x01) continue;
      } else if (mux && b === 0x01) {
        escape = true;
        continue;
      } else if (raw && signals && b === 0x03) {
        events.exit(0, 'terminating on signal 2');
        loop.kick();
        return;
      }
      fwd.push(b);
    }
    serial.enqueueRawBytes(fwd);
    loop.kick();
  };
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.pause();
    if (raw) tty.setRawMode(false);
  };
}
