/** Builds a PcMachine on the fake vendor without running it (for device-level tests). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost } from '@kvmts/kvm-core';
import { MachineEvents, ManualClock, parseMachineConfig, PcMachine, type MachineConfigInput } from '@kvmts/qemu-lite';
import { fakeVendorModule } from './fake-vendor';
import { Prog } from './guest';

export function buildPc(input: MachineConfigInput = {}, extraDevices: NonNullable<MachineConfigInput['devices']> = []) {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-pc-'));
  const img = join(dir, 'guest.bin');
  writeFileSync(img, new Prog().hlt().build());
  const config = parseMachineConfig({
    memSize: 32 * 1024 * 1024, serial: [], rtcBaseSec: 0,
    devices: [{ driver: 'loader', file: img, addr: 0x100000, cpuNum: 0 }, ...extraDevices],
    ...input,
  });
  const host = createHost();
  host.insmod(fakeVendorModule());
  const kvm = host.open('/dev/kvm');
  const vm = kvm.createVm(0);
  const events = new MachineEvents(config.noReboot);
  const clock = new ManualClock();
  const warnings: string[] = [];
  const m = new PcMachine(config, kvm, vm, clock, events, { stdout: () => {}, warn: (w) => warnings.push(w) });
  const inl = (port: number, size = 4) => {
    const d = new Uint8Array(size);
    m.pio.read(port, d);
    return d.reduceRight((v, b) => (v * 256 + b) >>> 0, 0);
  };
  const outl = (port: number, v: number, size = 4) => {
    const d = new Uint8Array(size);
    for (let i = 0; i < size; i++) d[i] = (v >>> (8 * i)) & 0xff;
    m.pio.write(port, d);
  };
  return { m, vm, events, clock, warnings, inl, outl };
}
