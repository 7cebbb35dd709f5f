/**
 * A minimal human monitor (QEMU's HMP) for -S: `c`/`cont` starts the guest, `q`/`quit`
 * ends it, `info registers` dumps the vCPUs, `info pci` lists the PCI functions,
 * `system_powerdown` presses the ACPI power button.
 */
import type { Vcpu } from '@kvmts/kvm-core';
import { registerDump } from './machine/run-loop';

export type MonitorResult = 'continue' | 'quit';

export interface MonitorTarget {
  vcpus: readonly Vcpu[];
  infoPci?(): string;
  powerdown?(): void;
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
      if (cmd[1] === 'pci' && t.infoPci) return { output: t.infoPci() };
      return { output: `info: unknown item '${cmd[1] ?? ''}' (registers, pci)\n` };
    case 'system_powerdown':
      t.powerdown?.();
      return { output: '' };
    case 'help':
      return { output: 'c|cont, q|quit, info registers, info pci, system_powerdown\n' };
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
