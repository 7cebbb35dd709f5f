/**
 * The qemu-lite command: parse, then run the machine; the return value is the process
 * exit status. Kept apart from cli.ts (the executable) so tests can drive it with a fake
 * vendor module in a child process of their own.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, HELP_TEXT, parseCommandLine } from './cli-args';
import type { RunMachineOptions } from './run-machine';
import { QEMU_LITE_VERSION } from './version';
import { loadAccelModule } from './accel';
/** The s390 machine's name (s390/args.ts has the same; kept here so the s390 code loads lazily). */
const S390_MACHINE_NAME = 's390-ccw-virtio';

/** Where guest-tests ships the prebuilt demo (the agreed path first, then its source tree). */
export const DEMO_GUEST_CANDIDATES = ['../../guest-tests/demo/demo.elf', '../../guest-tests/guests/demo/demo.elf'] as const;

/** The built-in demo guest, shipped by guest-tests (resolved relative to this package). */
export function demoGuestPath(): string {
  // src/*.ts and dist/*.js are both one level below the package root.
  const paths = DEMO_GUEST_CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url)));
  return paths.find((p) => existsSync(p)) ?? paths[0]!;
}

export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

export interface CliOptions {
  /** Where the demo guest is (default: demoGuestPath()). */
  demoPath?: string;
}

/** `-M s390-ccw-virtio` (or `-machine s390-ccw-virtio,...`) selects the s390 machine. */
function wantsS390Machine(argv: readonly string[]): boolean {
  for (let i = 0; i + 1 < argv.length; i++) {
    const a = argv[i]!.replace(/^--/, '-');
    if ((a === '-M' || a === '-machine') && argv[i + 1]!.split(',')[0] === S390_MACHINE_NAME) return true;
  }
  return false;
}

async function runS390(argv: readonly string[], io: CliIo, runOpts: RunMachineOptions): Promise<number> {
  const { runS390Cli, parseS390Args } = await import('./s390/args');
  try {
    parseS390Args(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return 1;
  }
  const module = runOpts.module ?? (await loadAccelModule('kvm-s390'));
  return runS390Cli(argv, module, (b) => io.out(Buffer.from(b).toString('utf8')));
}

export async function cliMain(argv: readonly string[], io: CliIo, runOpts: RunMachineOptions = {}, cli: CliOptions = {}): Promise<number> {
  if (wantsS390Machine(argv)) return runS390(argv, io, runOpts);
  let action;
  try {
    action = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`qemu-lite: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (action.kind === 'version') {
    io.out(`QEMU-lite emulator version ${QEMU_LITE_VERSION}\n`);
    return 0;
  }
  if (action.kind === 'help') {
    io.out(HELP_TEXT);
    return 0;
  }
  const hasLoader = (action.config.devices ?? []).some((d) => d.driver === 'loader');
  let defaultKernel: string | undefined;
  if (action.config.kernel === undefined && !hasLoader) {
    defaultKernel = cli.demoPath ?? demoGuestPath();
    if (!existsSync(defaultKernel)) {
      io.err(`qemu-lite: no -kernel given and the built-in demo guest is missing (${defaultKernel}); build it with the guest-tests package or pass -kernel FILE\n`);
      return 1;
    }
  }
  // Loaded only to run a guest: -version, -h and option errors need no KVM at all.
  const { runMachine } = await import('./run-machine');
  const r = await runMachine(action.config, {
    stderr: (l) => io.err(`${l}\n`),
    defaultKernel,
    ...runOpts,
  });
  return r.status;
}
