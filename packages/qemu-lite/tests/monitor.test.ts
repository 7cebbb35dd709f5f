/** The -S monitor's commands. */
import { describe, expect, it } from 'vitest';
import { createHost } from '@kvmts/kvm-core';
import { loadAccelModule } from '../src/accel';
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

  it('info lapic shows each vCPU\'s run state and its APIC (pending, in-service, LVT timer, TPR/PPR) from KVM_GET_LAPIC', async () => {
    const host = createHost();
    host.insmod(await loadAccelModule('kvm-intel') as never, {} as never);
    const vm = host.open('/dev/kvm').createVm(0);
    vm.createIrqchip();
    const vcpus = [vm.createVcpu(0), vm.createVcpu(1)];
    const page = vcpus[1]!.getLapic();
    const r = new DataView(page.buffer, page.byteOffset, page.byteLength);
    r.setUint32(0xf0, 0x1ff, true); // SPIV: enabled, spurious vector 0xff
    r.setUint32(0x80, 0x10, true); // TPR
    r.setUint32(0x320, 0x200ec, true); // LVTT: periodic, vector 0xec
    r.setUint32(0x3e0, 0x3, true); // divide by 16
    r.setUint32(0x100 + 0x70, 1 << 27, true); // ISR: vector 0xfb
    r.setUint32(0x200 + 0x70, 1 << 29, true); // IRR: vector 0xfd
    vcpus[1]!.setLapic(page);
    const out = monitorCommand('info lapic', { vcpus }).output;
    const cpu1 = out.slice(out.indexOf('dumping local APIC state for CPU 1'));
    expect(out).toContain('dumping local APIC state for CPU 0');
    expect(cpu1).toMatch(/^state\t uninitialized IF=0 shadow=0/m);
    expect(cpu1).toMatch(/^LVTT\t 0x000200ec periodic edge active vec 236$/m);
    expect(cpu1).toMatch(/^Timer\t DCR=0x00000003 \(divide by 16\)/m);
    expect(cpu1).toMatch(/^ISR\t 0xfb$/m);
    expect(cpu1).toMatch(/^IRR\t 0xfd$/m);
    expect(cpu1).toMatch(/TPR 0x10 PPR 0xf0/);
    expect(cpu1).toMatch(/^SPIV\t 0x000001ff APIC enabled, spurious vec 255$/m);
  });
});
