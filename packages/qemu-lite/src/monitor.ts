/**
 * A minimal human monitor (QEMU's HMP) for -S: `c`/`cont` starts the guest, `q`/`quit`
 * ends it, `info registers` dumps the vCPUs, `info lapic` their local APICs, `info pci` lists the PCI functions, `info name`
 * prints the -name of the VM,
 * `system_powerdown` presses the ACPI power button, `screendump FILE` writes the screen as PNG.
 */
import type { Vcpu } from '@kvmts/kvm-core';
import { registerDump } from './machine/run-loop';
import { lapicDump } from './monitor-lapic';

export type MonitorResult = 'continue' | 'quit';

export interface MonitorTarget {
  vcpus: readonly Vcpu[];
  /** -name (QEMU's qemu_name); `info name` prints nothing without one. */
  name?: string;
  infoPci?(): string;
  powerdown?(): void;
  /** Writes the VGA screen to a PNG file; absent without a display device. */
  screendump?(file: string): void;
}

/** Executes one command line; returns what the loop should do next, or output text. */
export function monitorCommand(line: string, t: MonitorTarget): { result?: MonitorResult; output: string } {
  const cmd = line.trim().split(/\s+/);
  switch (cmd[0]) {
    case '':
      return { output: '' };
    case 'c': case 'cont':
      return { result: 'continue', output: '' };
    case 'q': case 'quit':
      return { result: 'quit', output: '' };
    case 'info':
      if (cmd[1] === 'registers') return { output: t.vcpus.map((v) => `CPU#${v.vcpuId}${registerDump(v)}`).join('\n') + '\n' };
      if (cmd[1] === 'lapic') return { output: t.vcpus.map(lapicDump).join('\n') };
      if (cmd[1] === 'pci' && t.infoPci) return { output: t.infoPci() };
      if (cmd[1] === 'name') return { output: t.name === undefined ? '' : `${t.name}\n` };
      return { output: `info: unknown item '${cmd[1] ?? ''}' (registers, lapic, pci, name)\n` };
    case 'system_powerdown':
      t.powerdown?.();
      return { output: '' };
    case 'screendump':
      if (cmd[1] === undefined) return { output: 'screendump: a file name is required\n' };
      if (t.screendump === undefined) return { output: 'screendump: no display device (-vga std or -device VGA)\n' };
      try {
        t.screendump(cmd[1]);
        return { output: '' };
      } catch (e) {
        return { output: `screendump: ${(e as Error).message}\n` };
      }
    case 'help':
      return { output: 'c|cont, q|quit, info registers, info lapic, info pci, info name, system_powerdown, screendump FILE\n' };
    default:
      return { output: `unknown command: '${cmd[0]}'\n` };
  }
}

/** Reads commands until `c` or `q`. */
export async function runMonitor(lines: AsyncIterable<string>, write: (s: string) => void, t: MonitorTarget): Promise<MonitorResult> {
  write('QEMU-lite monitor - type \'help\' for more information\n(qemu) ');
  for await (const line of lines) {
    const r = monitorCommand(line, t);
    write(r.output);
    if (r.result !== undefined) return r.result;
    write('(qemu) ');
  }
  return 'quit';
}
