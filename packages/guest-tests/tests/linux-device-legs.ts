/**
 * Which machines the Linux-driver device proofs (linux-virtio-blk, linux-virtio-net) boot.
 *
 * Every pass runs on Debian's QEMU with TCG too when the pass names it (the reference:
 * it proves the test's commands and expected error messages against real QEMU devices).
 * By default one pass per suite on qemu-lite, with both vendors and -smp 2 spread over
 * the two suites, so that `npm test` pays about three qemu-lite boot times in all.
 * KVMTS_LINUX_DEVICE_PASSES=all adds the other vendor assignments, -smp 2 where the
 * default has 1, and the i386 kernel; KVMTS_LINUX_DEVICE_PASSES=qemu runs only the passes
 * whose machines are all QEMU (checks the tests themselves). KVMTS_LINUX_RUNNERS=none skips the suites (as it
 * skips linux-boot). KVMTS_LINUX_TIMEOUT_SCALE multiplies qemu-lite's time limits
 * (default 10); KVMTS_LINUX_QEMU_LITE_ARGS replaces the qemu-lite-only options
 * (default: -machine pc,linux-fast-boot=on). KVMTS_LINUX_CONSOLE_DIR=DIR appends every
 * guest's console output to DIR/<tag>.log as it comes (to watch a slow boot).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxArch } from '../src/linux-assets';
import type { LinuxVmm } from '../src/linux-console';

export const DEVICE_SUITES_OFF = process.env.KVMTS_LINUX_RUNNERS === 'none';
const PASSES_ENV = process.env.KVMTS_LINUX_DEVICE_PASSES;
export const ALL_DEVICE_PASSES = PASSES_ENV === 'all';
export const DEVICE_PASSES_SWITCH = 'KVMTS_LINUX_DEVICE_PASSES=all';

export const QEMU_LITE_SCALE = Number(process.env.KVMTS_LINUX_TIMEOUT_SCALE ?? 10);
export const QEMU_LITE_ARGS = (process.env.KVMTS_LINUX_QEMU_LITE_ARGS ?? '-machine pc,linux-fast-boot=on')
  .split(/\s+/).filter((a) => a.length > 0);

/** Options only qemu-lite understands, and the time-limit scale of a VMM. */
export function vmmExtras(vmm: LinuxVmm): { args: string[]; scale: number } {
  return vmm === 'qemu' ? { args: [], scale: 1 } : { args: QEMU_LITE_ARGS, scale: QEMU_LITE_SCALE };
}

export function vmmLabel(vmm: LinuxVmm, smp: number): string {
  return `${vmm === 'qemu' ? 'qemu-tcg' : `qemu-lite/${vmm}`}${smp > 1 ? ` -smp ${smp}` : ''}`;
}

/** Time limits on QEMU's TCG; qemu-lite's are scaled. */
export const BOOT_MS = 180_000;
export const CMD_MS = 60_000;
export const EXIT_MS = 30_000;

export interface DevicePassMachine {
  vmm: LinuxVmm;
  smp: number;
}

export interface DevicePass {
  arch: LinuxArch;
  /** The machines of the pass, in the suite's order (disk: first and second boot; net: A, B, C). */
  machines: DevicePassMachine[];
  byDefault: boolean;
}

/** Whether a pass runs under the current switches. */
export function passEnabled(pass: DevicePass): boolean {
  if (DEVICE_SUITES_OFF) return false;
  if (PASSES_ENV === 'qemu') return pass.machines.every((m) => m.vmm === 'qemu');
  return pass.byDefault || ALL_DEVICE_PASSES;
}

/** The onOutput of LinuxConsole.start that logs to KVMTS_LINUX_CONSOLE_DIR/<tag>.log, if set. */
export function consoleLog(tag: string): { onOutput?: (s: string) => void } {
  const dir = process.env.KVMTS_LINUX_CONSOLE_DIR;
  if (dir === undefined || dir === '') return {};
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${tag.replace(/[^\w.-]+/g, '_')}.log`);
  return { onOutput: (s) => appendFileSync(file, s, 'latin1') };
}
