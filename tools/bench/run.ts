/**
 * npm run bench: guest MIPS and boot times, measured, never asserted.
 *
 * Each benchmark guest (packages/guest-tests: bench-32, bench-64 and the demo) is built
 * with gcc and booted through qemu-lite's in-process runMachine on every x86 vendor
 * module. Guest MIPS = instructions retired by the vCPUs (KVM's per-vCPU stats) divided
 * by the wall time of the run. Then each Debian kernel from `npm run guest:linux` boots
 * to the initramfs's shell prompt on each vendor (and on QEMU's TCG for reference):
 * seconds from start to the prompt. The results go to stdout and to bench-results.json.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest, LINUX_ARCHES, LinuxConsole, loadManifest, readLinuxAssets, type LinuxArch, type LinuxVmm } from '@kvmts/guest-tests';
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
  instructions?: number;
  mips?: number;
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
    const ok = guest === 'demo' ? r.status === 0 : r.status === 1 && serial.includes('bench: sieve 6542 ');
    return { guest, vendor, ok, status: r.status, seconds, instructions, exits, mips: instructions / seconds / 1e6, ...(ok ? {} : { error: `${r.reason}; serial: ${serial.slice(-200)}` }) };
  } catch (e) {
    return { guest, vendor, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

interface LinuxBootResult {
  arch: LinuxArch;
  vmm: string;
  kernel?: string;
  ok: boolean;
  /** Seconds from starting the VMM to the shell prompt. */
  secondsToPrompt?: number;
  /** CPU seconds the VMM process used until the prompt (fairer than wall time on a busy host). */
  cpuSecondsToPrompt?: number;
  skipped?: string;
  error?: string;
}

/** Time limit for one Linux boot (KVMTS_BENCH_LINUX_TIMEOUT, seconds). */
const LINUX_TIMEOUT_S = Number(process.env.KVMTS_BENCH_LINUX_TIMEOUT ?? 180);

async function linuxBoot(arch: LinuxArch, vmm: LinuxVmm): Promise<LinuxBootResult> {
  const assets = readLinuxAssets(arch);
  const name = vmm === 'qemu' ? 'qemu-tcg' : vmm;
  if (assets === undefined) return { arch, vmm: name, ok: false, skipped: `no assets: run npm run guest:linux -- --arch ${arch}` };
  const con = LinuxConsole.start(vmm, { kernel: assets.vmlinuz, initrd: assets.initrd, append: 'console=ttyS0' });
  try {
    const secondsToPrompt = await con.waitForShell(assets.initReadyMarker, LINUX_TIMEOUT_S * 1000);
    const cpuSecondsToPrompt = con.cpuSeconds();
    await con.exitWith('poweroff -f', 60_000).catch(() => undefined);
    return { arch, vmm: name, kernel: assets.kernelRelease, ok: true, secondsToPrompt, cpuSecondsToPrompt };
  } catch (e) {
    const last = con.output.replace(/\r/g, '').trim().split('\n').slice(-1)[0] ?? '';
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    return { arch, vmm: name, kernel: assets.kernelRelease, ok: false, error: `${msg}; last console line: ${last.slice(0, 160)}` };
  } finally {
    con.kill();
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
        ? `${name.padEnd(9)} ${vendor.padEnd(9)} ${what} ${r.seconds!.toFixed(2)} s, ${(r.instructions! / 1e6).toFixed(1)} M instructions, ${r.mips!.toFixed(1)} MIPS, ${r.exits} exits\n`
        : `${name.padEnd(9)} ${vendor.padEnd(9)} FAILED: ${r.error}\n`);
    }
  }
  // Linux: seconds from start to the shell prompt (failures are reported, not fatal:
  // the bench measures, the guest-tests suites judge).
  const linux: LinuxBootResult[] = [];
  const vmms: LinuxVmm[] = spawnSync('qemu-system-x86_64', ['--version']).status === 0 ? ['qemu', 'kvm-intel', 'kvm-amd'] : ['kvm-intel', 'kvm-amd'];
  for (const arch of LINUX_ARCHES) {
    for (const vmm of vmms) {
      process.stderr.write(`bench: Debian ${arch} kernel on ${vmm} to the shell prompt (limit ${LINUX_TIMEOUT_S} s) ...\n`);
      const r = await linuxBoot(arch, vmm);
      linux.push(r);
      const label = `linux-${arch}`.padEnd(12) + r.vmm.padEnd(9);
      process.stdout.write(r.skipped
        ? `${label} skipped: ${r.skipped}\n`
        : r.ok
          ? `${label} ${r.kernel}: shell prompt after ${r.secondsToPrompt!.toFixed(1)} s (${r.cpuSecondsToPrompt?.toFixed(1) ?? '?'} s of CPU)\n`
          : `${label} ${r.kernel}: no shell prompt: ${r.error}\n`);
      if (r.skipped) break;
    }
  }
  const out = resolve(root, 'bench-results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, results, linux }, null, 2) + '\n');
  process.stdout.write(`bench: results written to ${out}\n`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

await main();
