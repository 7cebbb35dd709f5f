/**
 * npm run bench: guest MIPS and boot times, measured, never asserted.
 *
 * Each benchmark guest (packages/guest-tests: bench-32, bench-64 and the demo) is built
 * with gcc and booted through qemu-lite's in-process runMachine on every x86 vendor
 * module. Guest MIPS = instructions retired by the vCPUs (KVM's per-vCPU stats) divided
 * by the wall time of the run, and by the process CPU time of the run (the machine is shared:
 * when other work competes for the cores, the CPU-time figure is the comparable one).
 * The results go to stdout and to bench-results.json.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest, loadManifest } from '@kvmts/guest-tests';
import { loadAccelModule, runMachine, type AccelName, type PcMachine } from '@kvmts/qemu-lite';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VENDORS: AccelName[] = ['kvm-intel', 'kvm-amd'];
const GUESTS = ['bench-32', 'bench-64', 'demo'];

interface BenchResult {
  guest: string;
  vendor: string;
  ok: boolean;
  status?: number;
  seconds?: number;
  /** Process CPU time (user + system) of the run. */
  cpuSeconds?: number;
  instructions?: number;
  mips?: number;
  /** Instructions per CPU second, in millions. */
  mipsCpu?: number;
  exits?: number;
  error?: string;
}

async function runOne(guest: string, vendor: AccelName, elf: string, smp: number): Promise<BenchResult> {
  let instructions = 0;
  let exits = 0;
  let serial = '';
  // Read the vCPUs' KVM stats at the end of each boot, before the VM goes away.
  const onMachineEnd = (m: PcMachine) => {
    for (const v of m.vcpus) {
      const s = v.getStats();
      instructions += s.instructions_retired ?? 0;
      exits += s.exits ?? 0;
    }
  };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    const module = await loadAccelModule(vendor);
    const r = await runMachine({
      kernel: elf,
      smp,
      memSize: 128 * 1024 * 1024,
      serial: [{ kind: 'callback', write: (b: Uint8Array) => { serial += Buffer.from(b).toString('latin1'); } }],
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
      noReboot: true,
    }, { module, stderr: () => {}, onMachineEnd });
    const seconds = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    const cpuSeconds = (cu.user + cu.system) / 1e6;
    const ok = guest === 'demo' ? r.status === 0 : r.status === 1 && serial.includes('bench: sieve 6542 ');
    return { guest, vendor, ok, status: r.status, seconds, cpuSeconds, instructions, exits, mips: instructions / seconds / 1e6, mipsCpu: instructions / cpuSeconds / 1e6, ...(ok ? {} : { error: `${r.reason}; serial: ${serial.slice(-200)}` }) };
  } catch (e) {
    return { guest, vendor, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

async function main(): Promise<void> {
  const manifest = loadManifest();
  const results: BenchResult[] = [];
  for (const name of GUESTS) {
    const entry = manifest.find((g) => g.name === name);
    if (entry === undefined) throw new Error(`bench: no guest '${name}' in the manifest`);
    const built = buildGuest(entry, { log: (l) => process.stderr.write(`${l}\n`) });
    for (const vendor of VENDORS) {
      process.stderr.write(`bench: ${name} on ${vendor} ...\n`);
      const r = await runOne(name, vendor, built.elf, entry.smp ?? 1);
      results.push(r);
      const what = name === 'demo' ? 'boot to power-off' : 'run';
      process.stdout.write(r.ok
        ? `${name.padEnd(9)} ${vendor.padEnd(9)} ${what} ${r.seconds!.toFixed(2)} s, ${(r.instructions! / 1e6).toFixed(1)} M instructions, ${r.mips!.toFixed(1)} MIPS (${r.cpuSeconds!.toFixed(2)} s CPU: ${r.mipsCpu!.toFixed(1)} MIPS per CPU second), ${r.exits} exits\n`
        : `${name.padEnd(9)} ${vendor.padEnd(9)} FAILED: ${r.error}\n`);
    }
  }
  const out = resolve(root, 'bench-results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
  process.stdout.write(`bench: results written to ${out}\n`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

await main();
