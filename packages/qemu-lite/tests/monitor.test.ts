/** The -S monitor's commands. */
import { describe, expect, it } from 'vitest';
import { monitorCommand, runMonitor } from '../src/monitor';

describe('monitor', () => {
  it('c continues, q quits, unknown commands say so', () => {
    expect(monitorCommand('c', { vcpus: [] }).result).toBe('continue');
    expect(monitorCommand('cont', { vcpus: [] }).result).toBe('continue');
    expect(monitorCommand('q', { vcpus: [] }).result).toBe('quit');
    expect(monitorCommand('frob', { vcpus: [] }).output).toBe("unknown command: 'frob'\n");
  });

  it('runs commands from lines until c', async () => {
    let out = '';
    async function* lines() { yield 'help'; yield 'info pci'; yield 'c'; yield 'q'; }
    const r = await runMonitor(lines(), (s) => { out += s; }, { vcpus: [], infoPci: () => 'PCI LIST\n' });
    expect(r).toBe('continue');
    expect(out).toMatch(/info registers/);
    expect(out).toMatch(/PCI LIST/);
  });
});
