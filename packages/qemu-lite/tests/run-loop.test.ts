/** The run loop's exit handling, with scripted exits from a fake vendor (KVM_RUN through the public API). */
import { uapi } from '@kvmts/kvm-core';
import { describe, expect, it } from 'vitest';
import { runMachine, type MachineConfigInput, type PcMachine } from '../src/index';
import { ManualClock } from '../src/clock';
import { exits, scriptedVendorModule, type ScriptStep } from './helpers/scripted-vendor';

async function run(script: ScriptStep[], extra: Partial<MachineConfigInput> = {}) {
  const errs: string[] = [];
  const log: string[] = [];
  let machine: PcMachine | undefined;
  const seen: { mpState: number }[] = [];
  const r = await runMachine({
    memSize: 16 * 1024 * 1024, serial: [], rtcBaseSec: 0,
    devices: [{ driver: 'loader', file: '/dev/null', addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    ...extra,
  }, {
    module: scriptedVendorModule(script, seen), clock: new ManualClock(), stderr: (l) => errs.push(l),
    onMachine: (m, loop) => { machine = m; void loop; },
  });
  return { ...r, errs, log, machine: machine!, seen };
}

describe('run loop exit dispatch (scripted exits)', () => {
  it('KVM_EXIT_IO OUT goes to the PIO bus; the debug-exit status follows', async () => {
    const r = await run([exits.out(0xf4, [0x42, 0, 0, 0], 4)]);
    expect(r.status).toBe((0x42 << 1) | 1);
  });

  it('completes an IN by filling kvm_run.io.data before the next KVM_RUN', async () => {
    let got: number[] = [];
    const r = await run([
      exits.out(0x70, [0x0f]), // CMOS index: shutdown status byte (0)
      exits.out(0x71, [0x5a]),
      exits.out(0x70, [0x0f]),
      exits.in(0x71, 1),
      exits.check((run) => { got = [...run.io.data]; }, exits.out(0xf4, [0])),
    ]);
    expect(got).toEqual([0x5a]);
    expect(r.status).toBe(1);
  });

  it('string I/O (count > 1) is split into count accesses of size bytes', async () => {
    const out: number[] = [];
    const r = await runMachine({
      memSize: 16 * 1024 * 1024, serial: [{ kind: 'callback', write: (b) => out.push(...b) }],
      devices: [{ driver: 'loader', file: '/dev/null', addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    }, { module: scriptedVendorModule([exits.out(0x3f8, [0x61, 0x62, 0x63], 1, 3), exits.out(0xf4, [0])]), clock: new ManualClock(), stderr: () => {} });
    expect(String.fromCharCode(...out)).toBe('abc');
    expect(r.status).toBe(1);
  });

  it('completes an MMIO read by filling kvm_run.mmio.data; unassigned MMIO reads all-ones', async () => {
    let data: number[] = [];
    let unassigned: number[] = [];
    await run([
      exits.mmio(0xff000020, 4, true, 0x11223344),
      exits.mmio(0xff000020, 4, false),
      exits.check((run) => { data = [...run.mmio.data.subarray(0, 4)]; }, exits.mmio(0xe0000000, 2, false)),
      exits.check((run) => { unassigned = [...run.mmio.data.subarray(0, 2)]; }, exits.out(0xf4, [0])),
    ], { devices: [{ driver: 'loader', file: '/dev/null', addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'pc-testdev' }] });
    expect(data).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(unassigned).toEqual([0xff, 0xff]);
  });

  it('SYSTEM_EVENT shutdown exits 0, reset with -no-reboot exits 0, crash exits 1', async () => {
    expect((await run([exits.systemEvent(uapi.KVM_SYSTEM_EVENT_SHUTDOWN)])).status).toBe(0);
    expect((await run([exits.systemEvent(uapi.KVM_SYSTEM_EVENT_RESET)], { noReboot: true })).status).toBe(0);
    const c = await run([exits.systemEvent(uapi.KVM_SYSTEM_EVENT_CRASH)]);
    expect(c.status).toBe(1);
    expect(c.errs[0]).toMatch(/crash/);
  });

  it('KVM_EXIT_SHUTDOWN (triple fault) resets: the machine is rebuilt and runs again', async () => {
    const script = [exits.reason(uapi.KVM_EXIT_SHUTDOWN), exits.out(0xf4, [3])];
    let boots = 0;
    const r = await runMachine({
      memSize: 16 * 1024 * 1024, serial: [],
      devices: [{ driver: 'loader', file: '/dev/null', addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    }, { module: scriptedVendorModule(script), clock: new ManualClock(), stderr: () => {}, onMachine: () => { boots++; } });
    expect(boots).toBe(2);
    expect(r.status).toBe(7);
  });

  it('FAIL_ENTRY and unknown exit reasons are host-side failures with clear messages', async () => {
    const f = await run([exits.failEntry(0x80000021n)]);
    expect(f.status).toBe(1);
    expect(f.errs[0]).toMatch(/KVM: entry failed on vCPU 0, hardware error 0x80000021/);
    const u = await run([exits.reason(uapi.KVM_EXIT_S390_SIEIC)]);
    expect(u.errs[0]).toMatch(/unhandled KVM exit reason 13 \(KVM_EXIT_S390_SIEIC\)/);
  });

  it('KVM_EXIT_INTR and IRQ_WINDOW_OPEN just continue; a halted vCPU lets the loop sleep and retry', async () => {
    const r = await run([
      exits.reason(uapi.KVM_EXIT_INTR),
      exits.reason(uapi.KVM_EXIT_IRQ_WINDOW_OPEN),
      exits.haltedIntr(),
      exits.reason(uapi.KVM_EXIT_HLT),
      exits.out(0xf4, [1]),
    ]);
    expect(r.status).toBe(3);
    expect(r.seen.length).toBe(5);
  });

  it('hypercall exits get -ENOSYS and the guest continues', async () => {
    let ret = 0n;
    await run([exits.reason(uapi.KVM_EXIT_HYPERCALL), exits.check((run) => { ret = run.hypercall.ret; }, exits.out(0xf4, [0]))]);
    expect(ret).toBe(-38n);
  });
});
