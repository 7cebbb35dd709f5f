/**
 * IA32_ARCH_CAPABILITIES as the PC machine loads it into each vCPU (QEMU's kvm_put_msrs):
 * KVM's feature MSR, without enhanced IBRS when the CPU model hides IA32_SPEC_CTRL.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCH_CAP_IBRS_ALL, createHost, kvmGetArchCapabilities, MSR_IA32_ARCH_CAPABILITIES } from '@kvmts/kvm-core';
import { MachineEvents, ManualClock, parseCpuSpec, parseMachineConfig, PcMachine } from '@kvmts/qemu-lite';
import { loadAccelModule } from '../src/accel';
import { Prog } from './helpers/guest';

async function archCapabilities(cpu: string): Promise<bigint> {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-archcap-'));
  const img = join(dir, 'guest.bin');
  writeFileSync(img, new Prog().hlt().build());
  const config = parseMachineConfig({
    memSize: 32 * 1024 * 1024, serial: [], rtcBaseSec: 0, cpu: parseCpuSpec(cpu),
    devices: [{ driver: 'loader', file: img, addr: 0x100000, cpuNum: 0 }],
  });
  const host = createHost();
  host.insmod(await loadAccelModule('kvm-intel') as never, {} as never);
  const kvm = host.open('/dev/kvm');
  const m = new PcMachine(config, kvm, kvm.createVm(0), new ManualClock(), new MachineEvents(false), { stdout: () => {}, warn: () => {} });
  return m.vcpus[0]!.getMsrs([MSR_IA32_ARCH_CAPABILITIES])[0]!.data;
}

describe('IA32_ARCH_CAPABILITIES in the PC machine', () => {
  it('qemu64 (spec-ctrl is a host truth): KVM\'s value, enhanced IBRS included', async () => {
    const caps = await archCapabilities('qemu64');
    expect(caps).toBe(kvmGetArchCapabilities());
    expect(caps & ARCH_CAP_IBRS_ALL).toBe(ARCH_CAP_IBRS_ALL);
  });

  it('-cpu qemu64,-spec-ctrl: no IBRS_ALL without the IA32_SPEC_CTRL it needs', async () => {
    const caps = await archCapabilities('qemu64,-spec-ctrl');
    expect(caps & ARCH_CAP_IBRS_ALL).toBe(0n);
    expect(caps).toBe(kvmGetArchCapabilities() & ~ARCH_CAP_IBRS_ALL);
  });
});
