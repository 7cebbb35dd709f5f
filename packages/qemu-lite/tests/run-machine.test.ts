/**
 * runMachine end to end with the fake vendor: guest bytes run through KVM_RUN, exits are
 * dispatched to the buses and machine actions, and the exit status is QEMU's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runMachine, type MachineConfigInput, type PcMachine, type RunLoop } from '../src/index';
import { ManualClock } from '../src/clock';
import { Port92 } from '../src/devices/port92';
import { fakeVendorModule, type FakeVmRecord } from './helpers/fake-vendor';
import { Prog, aoutKludge, elf32 } from './helpers/guest';

const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-run-'));
let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(dir, `img${n++}`);
  writeFileSync(p, bytes);
  return p;
}

async function run(prog: Prog, extra: Partial<MachineConfigInput> = {}, records: FakeVmRecord[] = []) {
  const out: number[] = [];
  const errs: string[] = [];
  let machine: PcMachine | undefined;
  const r = await runMachine({
    memSize: 32 * 1024 * 1024,
    serial: [{ kind: 'callback', write: (b) => out.push(...b) }],
    devices: [{ driver: 'loader', file: file(prog.build()), addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    rtcBaseSec: 0,
    ...extra,
  }, {
    module: fakeVendorModule(records), clock: new ManualClock(), stderr: (l) => errs.push(l),
    onMachine: (m) => { machine = m; },
  });
  return { ...r, out: String.fromCharCode(...out), errs, machine: machine! };
}

describe('runMachine with the fake vendor', () => {
  it('maps an isa-debug-exit write of v to exit status (v << 1) | 1', async () => {
    const r = await run(new Prog().outb(0xf4, 0x10));
    expect(r.status).toBe(0x21);
    expect(r.hostError).toBe(false);
  });

  it('sends serial output from OUT 0x3f8 to the backend', async () => {
    const p = new Prog();
    for (const c of 'hi\n') p.outb(0x3f8, c.charCodeAt(0));
    const r = await run(p.outb(0xf4, 0));
    expect(r.out).toBe('hi\n');
    expect(r.status).toBe(1);
  });

  it('creates the in-kernel irqchip and PIT, and raises COM1 on IRQ 4', async () => {
    const records: FakeVmRecord[] = [];
    // Enable THRE interrupts: the IER write raises IRQ 4 at once (THR is empty).
    const r = await run(new Prog().outb(0x3f9, 0x02).outb(0xf4, 0), {}, records);
    expect(r.status).toBe(1);
    expect(records[0]!.irqchip).toBe(true);
    expect(records[0]!.pit).toEqual({ flags: 1 }); // KVM_PIT_SPEAKER_DUMMY
    expect(records[0]!.irqLines).toContainEqual([4, 1]);
  });

  it('ACPI S5: SLP_TYP=0|SLP_EN written to PM1a_CNT powers off with status 0', async () => {
    const r = await run(new Prog().outw(0x604, 0x2000).outb(0xf4, 7));
    expect(r.status).toBe(0);
    expect(r.reason).toMatch(/S5/);
  });

  it('a triple fault with -no-reboot exits 0', async () => {
    const r = await run(new Prog().ud2(), { noReboot: true });
    expect(r.status).toBe(0);
    expect(r.reason).toMatch(/triple fault/);
  });

  it('a reset without -no-reboot reboots the machine (the guest runs again)', async () => {
    // First boot: a CMOS NVRAM byte is 0, so reset through 0x64; the rebuilt machine
    // starts again from the image, so count boots through pc-testdev's scratch register
    // cannot survive; instead count boots on the host side.
    let boots = 0;
    const prog = new Prog().outb(0x64, 0xfe).outb(0xf4, 3);
    const r = await runMachine({
      memSize: 32 * 1024 * 1024, serial: [],
      devices: [{ driver: 'loader', file: file(prog.build()), addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    }, {
      module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {},
      onMachine: (m) => {
        boots++;
        // After the first boot, make the keyboard reset a no-op by patching the guest.
        if (boots === 2) m.mem.write(0x100000, new Prog().outb(0xf4, 3).build());
      },
    });
    expect(boots).toBe(2);
    expect(r.status).toBe(7);
  });

  it('a reset keeps the CMOS NVRAM (battery-backed, as QEMU\'s RTC): the next boot reads what the first wrote', async () => {
    let boots = 0;
    const first = new Prog().outb(0x70, 0x48).outb(0x71, 0x21).outb(0x92, 0x03).jmpSelf();
    const r = await runMachine({
      memSize: 32 * 1024 * 1024, serial: [],
      devices: [{ driver: 'loader', file: file(first.build()), addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    }, {
      module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {},
      onMachine: (m) => {
        boots++;
        if (boots === 2) {
          // The rebuilt machine: CMOS 0x48 still holds 0x21, the clock fields start afresh.
          expect(m.rtc.cmos[0x48]).toBe(0x21);
          m.mem.write(0x100000, new Prog().outb(0x70, 0x48).movEdx(0x71).inAlDx().movEdx(0xf4).outDxAl().build());
        }
      },
    });
    expect(boots).toBe(2);
    expect(r.status).toBe((0x21 << 1) | 1);
  });

  it('port 0x92 reads back the byte written and resets on a 0 -> 1 edge of bit 0 only (QEMU\'s port92)', () => {
    let resets = 0;
    const a20: boolean[] = [];
    const p = new Port92({ reset: () => resets++, setA20: (on) => a20.push(on) });
    const rd = () => { const d = new Uint8Array(1); p.read(0x92, 0, d); return d[0]; };
    expect(rd()).toBe(0x02); // A20 on, as SeaBIOS leaves it
    p.write(0x92, 0, Uint8Array.of(0x00));
    expect([rd(), a20]).toEqual([0x00, [false]]);
    p.write(0x92, 0, Uint8Array.of(0xc2));
    expect([rd(), a20, resets]).toEqual([0xc2, [false, true], 0]);
    p.write(0x92, 0, Uint8Array.of(0x03));
    expect([rd(), resets]).toEqual([0x03, 1]);
    p.write(0x92, 0, Uint8Array.of(0x03)); // bit 0 already set: no edge
    expect(resets).toBe(1);
    p.write(0x92, 0, Uint8Array.of(0x02));
    p.write(0x92, 0, Uint8Array.of(0x03));
    expect(resets).toBe(2);
  });

  it('port 0x92 bit 0 and 0xcf9 resets end the VM with -no-reboot', async () => {
    expect((await run(new Prog().outb(0x92, 0x01), { noReboot: true })).reason).toMatch(/0x92/);
    expect((await run(new Prog().outb(0xcf9, 0x06), { noReboot: true })).reason).toMatch(/0xcf9/);
  });

  it('an emulation failure is KVM_EXIT_INTERNAL_ERROR: a host-side failure, status 1, registers dumped', async () => {
    const r = await run(new Prog().raw(0xd6));
    expect(r.status).toBe(1);
    expect(r.hostError).toBe(true);
    expect(r.errs.join('\n')).toMatch(/KVM internal error on vCPU 0\. Suberror: 1 data: 0xd6\nRAX=/);
  });

  it('IN completes through kvm_run: the guest reads the CMOS and echoes it', async () => {
    // CMOS 0x5f holds the CPU count - 1; -smp 1 -> 0. Index 0x15 is base memory low byte (640 & 0xff = 0x80).
    const p = new Prog().outb(0x70, 0x15).movEdx(0x71).inAlDx().movEdx(0xf4).outDxAl();
    const r = await run(p);
    expect(r.status).toBe((0x80 << 1) | 1);
  });

  it('MMIO exits reach pc-testdev scratch memory at 0xff000000', async () => {
    const p = new Prog().movAl(0x5a).storeAl(0xff000010).movAl(0).loadAl(0xff000010).movEdx(0xf4).outDxAl();
    const r = await run(p, {
      devices: [
        { driver: 'loader', file: file(p.build()), addr: 0x100000, cpuNum: 0 },
        { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 },
        { driver: 'pc-testdev' },
      ],
    });
    expect(r.machine.pcTestdev!.iomem[0x10]).toBe(0x5a);
    expect(r.status).toBe((0x5a << 1) | 1);
  });

  it('boots a multiboot ELF: entry in protected mode with EAX=0x2BADB002, EBX=info', async () => {
    // The kernel writes EAX, then EBX, to pc-testdev's scratch register, exiting in between.
    let machine: PcMachine | undefined;
    let entrySregs: ReturnType<PcMachine['vcpus'][number]['getSregs']> | undefined;
    let entryRflags = -1n;
    const k = new Prog().movEdx(0xe0).outDxEax().movEaxEbx().outDxEax().outb(0xf4, 1).build();
    const kernel = file(elf32(k, 0x200000, { multiboot: true, bss: 0x1000 }));
    const errs: string[] = [];
    const r = await runMachine({
      memSize: 32 * 1024 * 1024, serial: [], kernel, append: 'console=ttyS0',
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'pc-testdev' }],
    }, {
      module: fakeVendorModule(), clock: new ManualClock(), stderr: (l) => errs.push(l),
      onMachine: (m) => {
        machine = m;
        entrySregs = m.vcpus[0]!.getSregs();
        entryRflags = m.vcpus[0]!.getRegs().rflags;
      },
    });
    expect(errs).toEqual([]);
    expect(r.status).toBe(3);
    expect(machine!.pcTestdev!.ioportData).toBe(0x9000); // EBX: the info block (EAX was checked below)
    expect(machine!.kernel).toMatchObject({ protocol: 'multiboot', eax: 0x2badb002, ebx: 0x9000, entry: 0x200000 + 12 });
    const s = entrySregs!;
    expect(s.cr0 & 1n).toBe(1n); // PE
    expect(s.cr0 & 0x80000000n).toBe(0n); // paging off
    expect(s.cs).toMatchObject({ base: 0n, limit: 0xffffffff, db: 1, type: 0xb, present: 1 });
    expect(s.ds).toMatchObject({ base: 0n, limit: 0xffffffff, db: 1, type: 0x3 });
    expect(entryRflags & 0x200n).toBe(0n); // interrupts off
  });

  it('an a.out-kludge multiboot kernel gets EAX = 0x2BADB002 at its entry', async () => {
    let machine: PcMachine | undefined;
    const k = new Prog().movEdx(0xe0).outDxEax().outb(0xf4, 1).build();
    const r = await runMachine({
      memSize: 32 * 1024 * 1024, serial: [], kernel: file(aoutKludge(k, 0x300000)),
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'pc-testdev' }],
    }, { module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {}, onMachine: (m) => { machine = m; } });
    expect(r.status).toBe(3);
    expect(machine!.pcTestdev!.ioportData).toBe(0x2badb002);
  });

  it('fails cleanly (status 1, message) on a kernel that is not multiboot/ELF', async () => {
    const errs: string[] = [];
    const r = await runMachine({ serial: [], kernel: file(new Uint8Array(1024)) }, { module: fakeVendorModule(), stderr: (l) => errs.push(l) });
    expect(r.status).toBe(1);
    expect(errs[0]).toMatch(/not a multiboot or ELF kernel/);
  });

  it('reports a machine type nothing has registered (s390 until its machine lands)', async () => {
    const errs: string[] = [];
    const r = await runMachine({ machine: 's390-ccw-virtio', serial: [], kernel: file(new Uint8Array(16)) }, { module: fakeVendorModule(), stderr: (l) => errs.push(l) });
    expect(r.status).toBe(1);
    expect(errs[0]).toMatch(/machine type 's390-ccw-virtio' is not available/);
  });

  it('-M microvm: legacy devices without PCI, ACPI or the i8042', async () => {
    // CONFIG_ADDRESS reads as open bus (no PCI host), then the debug exit reports it.
    const p = new Prog().movEdx(0x64).inAlDx().movEdx(0xf4).outDxAl();
    const r = await run(p, { machine: 'microvm' });
    expect(r.status).toBe((0xff << 1) | 1);
    expect(r.machine.pci.list()).toEqual([]);
    expect(r.machine.pm).toBeUndefined();
    expect(r.machine.mem.read(0xf0000, 8)).toEqual(new Uint8Array(8)); // no RSDP
  });

  it('traces exits with -d exits to the -D logfile', async () => {
    const log = join(dir, 'trace.log');
    const r = await run(new Prog().outb(0xf4, 2), { log: ['exits'], logfile: log });
    expect(r.status).toBe(5);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(log, 'utf8')).toMatch(/vcpu0: KVM_EXIT_IO out port 0xf4 size 1 count 1 data 02/);
  });

  it('-smp 2: the AP is parked waiting for SIPI while the BSP runs to completion', async () => {
    const p = new Prog();
    for (let i = 0; i < 50; i++) p.outb(0x80, i);
    const r = await run(p.outb(0xf4, 6), { smp: 2 });
    expect(r.status).toBe(13);
    expect(r.machine.vcpus[1]).toBeDefined();
  });

  it('boots a bzImage at its 32-bit entry: ESI = boot_params, CS = __BOOT_CS, DS = __BOOT_DS', async () => {
    const { bzImage } = await import('./helpers/guest');
    let machine: PcMachine | undefined;
    let sregs: ReturnType<PcMachine['vcpus'][number]['getSregs']> | undefined;
    const k = new Prog().movEaxEsi().movEdx(0xe0).outDxEax().outb(0xf4, 1).build();
    const r = await runMachine({
      memSize: 32 * 1024 * 1024, serial: [], kernel: file(bzImage(k)), append: 'console=ttyS0',
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'pc-testdev' }],
    }, {
      module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {},
      onMachine: (m) => { machine = m; sregs = m.vcpus[0]!.getSregs(); },
    });
    expect(r.status).toBe(3);
    expect(machine!.pcTestdev!.ioportData).toBe(0x10000);
    expect(sregs!.cs.selector).toBe(0x10);
    expect(sregs!.ds.selector).toBe(0x18);
    expect(sregs!.ss.selector).toBe(0x18);
  });

  it('host input queued on COM1 is read by the guest through RBR (IN exits)', async () => {
    let machine: PcMachine | undefined;
    const p = new Prog().movEdx(0x3f8).inAlDx().movEdx(0xf4).outDxAl();
    const r = await runMachine({
      memSize: 16 * 1024 * 1024, serial: [{ kind: 'callback', write: () => {} }],
      devices: [{ driver: 'loader', file: file(p.build()), addr: 0x100000, cpuNum: 0 }, { driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
    }, {
      module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {},
      onMachine: (m) => { machine = m; m.serials[0]!.enqueueRawBytes([0x5a]); },
    });
    expect(r.status).toBe((0x5a << 1) | 1);
    expect(machine!.serials[0]!.inputPending).toBe(0);
  });

  it("-nographic's mux on a piped stdin (not a terminal): Ctrl-A x prints 'QEMU: Terminated' and exits 0", async () => {
    const stdin = new PassThrough();
    const out: number[] = [];
    const p = new Prog().jmpSelf();
    const run = runMachine({
      memSize: 16 * 1024 * 1024, serial: [{ kind: 'callback', write: () => {} }], stdioSignals: false,
      devices: [{ driver: 'loader', file: file(p.build()), addr: 0x100000, cpuNum: 0 }],
    }, { module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {}, stdin, stdout: (b) => out.push(...b) });
    stdin.write('ls\n\x01');
    setTimeout(() => stdin.write('x'), 50);
    const r = await run;
    expect(r).toMatchObject({ status: 0, reason: 'QEMU: Terminated', hostError: false });
    expect(String.fromCharCode(...out)).toBe('QEMU: Terminated\n\r');
  });

  it('without -nographic a piped Ctrl-A x is guest input (plain -serial stdio has no mux)', async () => {
    const stdin = new PassThrough();
    let machine: PcMachine | undefined;
    let loop: RunLoop | undefined;
    const run = runMachine({
      memSize: 16 * 1024 * 1024, serial: [{ kind: 'callback', write: () => {} }],
      devices: [{ driver: 'loader', file: file(new Prog().jmpSelf().build()), addr: 0x100000, cpuNum: 0 }],
    }, { module: fakeVendorModule(), clock: new ManualClock(), stderr: () => {}, stdin, onMachine: (m, l) => { machine = m; loop = l; } });
    stdin.write('\x01x');
    await new Promise((r) => setTimeout(r, 100));
    // Both bytes wait in COM1's receive FIFO and the VM still runs.
    expect(machine!.serials[0]!.inputPending).toBe(2);
    machine!.events.exit(0, 'test over');
    loop!.kick();
    expect((await run).reason).toBe('test over');
  });

  // stdin waking a halted guest is an interrupt (UART RX -> IRQ 4 -> PIC -> LAPIC), which
  // the fake vendor cannot deliver; it is covered by guest tests on the real vendors.
});
