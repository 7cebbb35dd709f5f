/**
 * npx tsx tools/bench/quick.ts [bench-32|bench-64] [kvm-intel|kvm-amd] [runs] [rounds]: one
 * bench guest, run `runs` times in one process (the first run includes V8's warm-up, the
 * later ones are the steady speed), `rounds` workload rounds each (default 40, as
 * `npm run bench`). Prints MIPS over wall time and per CPU second. A measuring tool for
 * engine work: `npm run bench` is the full report.
 */
import { buildGuest, loadManifest } from '@kvmts/guest-tests';
import { loadAccelModule, runMachine, type AccelName, type PcMachine } from '@kvmts/qemu-lite';

const name = process.argv[2] ?? 'bench-64';
const vendor = (process.argv[3] ?? 'kvm-intel') as AccelName;
const runs = Number(process.argv[4] ?? 3);
const rounds = Number(process.argv[5] ?? 40);
const entry = loadManifest().find((g) => g.name === name);
if (entry === undefined || !entry.groups.includes('bench')) throw new Error(`quick: '${name}' is not a bench guest`);
const built = buildGuest(entry, { log: () => {} });
for (let i = 0; i < runs; i++) {
  let instr = 0;
  let serial = '';
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await runMachine({
    kernel: built.elf, append: `rounds=${rounds}`, smp: entry.smp ?? 1, memSize: 128 << 20,
    serial: [{ kind: 'callback', write: (b: Uint8Array) => { serial += Buffer.from(b).toString('latin1'); } }],
    devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }], noReboot: true,
  }, {
    module: await loadAccelModule(vendor), stderr: () => {},
    onMachineEnd: (m: PcMachine) => { for (const v of m.vcpus) instr += v.getStats().instructions_retired ?? 0; },
  });
  const s = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cs = (cu.user + cu.system) / 1e6;
  const ok = r.status === 1 && serial.includes(`bench: ${rounds} rounds`) && serial.includes('bench: sieve 6542 ');
  console.log(`${name} ${vendor} ${i === 0 ? 'first run' : `warm run ${i}`}: ${ok ? 'ok' : `FAILED (status ${r.status})`} ${s.toFixed(2)} s, `
    + `${(instr / 1e6).toFixed(1)} M instructions, ${(instr / s / 1e6).toFixed(1)} MIPS (${(instr / cs / 1e6).toFixed(1)} per CPU s)`);
}
