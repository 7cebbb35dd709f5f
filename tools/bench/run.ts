/**
 * npm run bench: guest MIPS and boot times, measured, never asserted.
 *
 * Each benchmark guest (packages/guest-tests: bench-32, bench-64 and the demo) is built
 * with gcc and booted through qemu-lite's in-process runMachine on every x86 vendor
 * module. Guest MIPS = instructions retired by the vCPUs (KVM's per-vCPU stats) divided
 * by the wall time of the run, and by the process CPU time of the run (the machine is shared:
 * when other work competes for the cores, the CPU-time figure is the comparable one). The
 * bench guests run BENCH_ROUNDS rounds of their workload (about a second each).
 * Then each Debian kernel from `npm run guest:linux` boots to the initramfs's shell prompt
 * on each vendor (and on QEMU's TCG for reference): seconds from start to the prompt.
 * bench-32/bench-64 run with the default tier setting (the compiled tier, README "The
 * engine's compiled tier": a first run that includes V8's warm-up, then warm runs in the same
 * process) and again with the interpreter alone (lines marked "[interpreter only, threshold
 * 0]"). The results go to stdout and to bench-results.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest, LINUX_ARCHES, LinuxConsole, loadManifest, readLinuxAssets, type LinuxArch, type LinuxVmm } from '@kvmts/guest-tests';
import { jitParams } from '@kvmts/kvm-core';
import { loadAccelModule, runMachine, VirtioBlk, type AccelName, type PcMachine } from '@kvmts/qemu-lite';
import { linuxDiskBench, LINUX_DISK_BYTES, type LinuxDiskResult } from './linux-disk';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VENDORS: AccelName[] = ['kvm-intel', 'kvm-amd'];
const GUESTS = ['bench-32', 'bench-64', 'demo'];
/**
 * Workload repetitions of a bench guest (its `rounds=N` command line; the test suites run
 * the default 4, ~23 M instructions): 40 rounds are ~230 M instructions, about a second,
 * so a MIPS figure is a sustained speed and not a tenth of a second dominated by V8's start.
 */
const BENCH_ROUNDS = 40;
/** The compiled tier's threshold for the extra bench-guest runs when it is off by default. */
const COMPILED_TIER_THRESHOLD = 50;

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
  /** The second run of the guest in this process (the engine's code already optimised by V8). */
  warm?: boolean;
  /** The compiled tier's threshold for this run (0: interpreter only). */
  jitThreshold?: number;
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
      ...(guest === 'demo' ? {} : { append: `rounds=${BENCH_ROUNDS}` }),
      smp,
      memSize: 128 * 1024 * 1024,
      serial: [{ kind: 'callback', write: (b: Uint8Array) => { serial += Buffer.from(b).toString('latin1'); } }],
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }],
      noReboot: true,
    }, { module, stderr: () => {}, onMachineEnd });
    const seconds = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    const cpuSeconds = (cu.user + cu.system) / 1e6;
    const ok = guest === 'demo' ? r.status === 0 : r.status === 1 && serial.includes(`bench: ${BENCH_ROUNDS} rounds`) && serial.includes('bench: sieve 6542 ');
    return { guest, vendor, ok, status: r.status, seconds, cpuSeconds, instructions, exits, mips: instructions / seconds / 1e6, mipsCpu: instructions / cpuSeconds / 1e6, ...(ok ? {} : { error: `${r.reason}; serial: ${serial.slice(-200)}` }) };
  } catch (e) {
    return { guest, vendor, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

interface LinuxBootResult {
  arch: LinuxArch;
  vmm: string;
  /** 'fast-boot' (-machine linux-fast-boot=on: host-side decompression) or 'unmodified' (the boot protocol as is). */
  mode: LinuxBootMode;
  kernel?: string;
  ok: boolean;
  /** Seconds from starting the VMM to the shell prompt. */
  secondsToPrompt?: number;
  /** CPU seconds the VMM process used until the prompt (fairer than wall time on a busy host). */
  cpuSecondsToPrompt?: number;
  skipped?: string;
  error?: string;
}

type LinuxBootMode = 'fast-boot' | 'unmodified';
/**
 * Time limit for one Linux boot, seconds: KVMTS_BENCH_LINUX_TIMEOUT for the fast-boot
 * lines (and QEMU), KVMTS_BENCH_LINUX_UNMODIFIED_TIMEOUT for qemu-lite's unmodified
 * protocol (the guest decompresses its XZ payload itself: far slower at today's speed).
 */
const LINUX_TIMEOUT_S = Number(process.env.KVMTS_BENCH_LINUX_TIMEOUT ?? 600);
const LINUX_UNMODIFIED_TIMEOUT_S = Number(process.env.KVMTS_BENCH_LINUX_UNMODIFIED_TIMEOUT ?? 150);

async function linuxBoot(arch: LinuxArch, vmm: LinuxVmm, mode: LinuxBootMode, timeoutS: number): Promise<LinuxBootResult> {
  const assets = readLinuxAssets(arch);
  const name = vmm === 'qemu' ? 'qemu-tcg' : vmm;
  if (assets === undefined) return { arch, vmm: name, mode, ok: false, skipped: `no assets: run npm run guest:linux -- --arch ${arch}` };
  const extraArgs = mode === 'fast-boot' && vmm !== 'qemu' ? ['-machine', 'pc,linux-fast-boot=on'] : [];
  const con = LinuxConsole.start(vmm, { kernel: assets.vmlinuz, initrd: assets.initrd, append: 'console=ttyS0', extraArgs });
  try {
    const secondsToPrompt = await con.waitForShell(assets.initReadyMarker, timeoutS * 1000);
    const cpuSecondsToPrompt = con.cpuSeconds();
    await con.exitWith('poweroff -f', 60_000).catch(() => undefined);
    return { arch, vmm: name, mode, kernel: assets.kernelRelease, ok: true, secondsToPrompt, cpuSecondsToPrompt };
  } catch (e) {
    const cpu = con.cpuSeconds();
    const last = con.output.replace(/\r/g, '').trim().split('\n').slice(-1)[0] ?? '';
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    return { arch, vmm: name, mode, kernel: assets.kernelRelease, ok: false, error: `${msg}${cpu !== undefined ? ` (${cpu.toFixed(1)} s of CPU)` : ''}; last console line: ${last.slice(0, 160)}` };
  } finally {
    con.kill();
  }
}

async function main(): Promise<void> {
  const manifest = loadManifest();
  const results: BenchResult[] = [];
  // The engine's compiled tier (README "The engine's compiled tier"): 0 means interpreter only.
  const defaultThreshold = jitParams.threshold;
  process.stdout.write(`engine: compiled tier threshold ${defaultThreshold} (KVMTS_JIT_THRESHOLD)\n`);
  for (const name of GUESTS) {
    const entry = manifest.find((g) => g.name === name);
    if (entry === undefined) throw new Error(`bench: no guest '${name}' in the manifest`);
    const built = buildGuest(entry, { log: (l) => process.stderr.write(`${l}\n`) });
    for (const vendor of VENDORS) {
      process.stderr.write(`bench: ${name} on ${vendor} ...\n`);
      // A bench guest runs twice: the first run includes V8 compiling the engine's own code
      // (its first bench-64 run is ~40% slower than a later one in the same process); the
      // second (warm: true) is the engine's steady speed.
      const runs = name === 'demo' ? 1 : 2;
      // The bench guests also run with the other tier setting, reported on their own lines:
      // the interpreter alone when the compiled tier is on by default (for comparison), the
      // compiled tier (threshold COMPILED_TIER_THRESHOLD) when it was turned off.
      const other = defaultThreshold === 0 ? COMPILED_TIER_THRESHOLD : 0;
      const tiers = name !== 'demo' ? [defaultThreshold, other] : [defaultThreshold];
      for (const tier of tiers) {
        jitParams.threshold = tier;
        const label = tier === defaultThreshold ? '' : tier === 0 ? ' [interpreter only, threshold 0]' : ` [compiled tier, threshold ${tier}]`;
        // Compiled code keeps improving while V8 optimises the region functions (shared by
        // the VMs of this process): the compiled tier's lines show two more warm runs. The
        // first run of each guest is reported as it is (it includes that warm-up).
        const tierRuns = tier === 0 ? runs : runs + 2;
        for (let i = 0; i < tierRuns; i++) {
          const r = await runOne(name, vendor, built.elf, entry.smp ?? 1);
          if (i > 0) r.warm = true;
          r.jitThreshold = tier;
          results.push(r);
          const what = name === 'demo' ? 'boot to power-off' : i > 0 ? `warm run ${i}` : 'first run';
          process.stdout.write(r.ok
            ? `${name.padEnd(9)} ${vendor.padEnd(9)} ${what} ${r.seconds!.toFixed(2)} s, ${(r.instructions! / 1e6).toFixed(1)} M instructions, ${r.mips!.toFixed(1)} MIPS (${r.cpuSeconds!.toFixed(2)} s CPU: ${r.mipsCpu!.toFixed(1)} MIPS per CPU second), ${r.exits} exits${label}\n`
            : `${name.padEnd(9)} ${vendor.padEnd(9)} FAILED: ${r.error}${label}\n`);
        }
      }
      jitParams.threshold = defaultThreshold;
    }
  }
  const devices: DeviceBenchResult[] = [];
  for (const vendor of VENDORS) {
    process.stderr.write(`bench: virtio-blk disk throughput on ${vendor} ...\n`);
    const d = await diskBench(manifest, vendor);
    devices.push(d);
    process.stdout.write(d.ok
      ? `virtio-blk ${vendor.padEnd(9)} ${(DISK_BENCH_BYTES / 2 ** 20).toFixed(0)} MiB image: read ${d.readMBps!.toFixed(1)} MB/s, write ${d.writeMBps!.toFixed(1)} MB/s (64 KiB requests, guest driver)\n`
      : `virtio-blk ${vendor.padEnd(9)} FAILED: ${d.error}\n`);
  }
  for (const vendor of VENDORS) {
    process.stderr.write(`bench: virtio-net throughput between two guests on ${vendor} ...\n`);
    const d = await netBench(manifest, vendor);
    devices.push(d);
    process.stdout.write(d.ok
      ? `virtio-net ${vendor.padEnd(9)} guest to guest over -netdev socket: ${d.readMBps!.toFixed(1)} MB/s (${d.frames} frames of 1514 bytes received)\n`
      : `virtio-net ${vendor.padEnd(9)} FAILED: ${d.error}\n`);
  }
  // Linux: seconds from start to the shell prompt (failures are reported, not fatal:
  // the bench measures, the guest-tests suites judge).
  const linux: LinuxBootResult[] = [];
  const vmms: LinuxVmm[] = spawnSync('qemu-system-x86_64', ['--version']).status === 0 ? ['qemu', 'kvm-intel', 'kvm-amd'] : ['kvm-intel', 'kvm-amd'];
  // qemu-lite boots each kernel twice per vendor: with linux-fast-boot=on, and with the
  // unmodified boot protocol under its own (shorter) limit, reported as a timeout if so.
  type LinuxLeg = { vmm: LinuxVmm; mode: LinuxBootMode; timeoutS: number };
  const legs = vmms.flatMap((vmm): LinuxLeg[] => vmm === 'qemu'
    ? [{ vmm, mode: 'unmodified', timeoutS: LINUX_TIMEOUT_S }]
    : [{ vmm, mode: 'fast-boot', timeoutS: LINUX_TIMEOUT_S }, { vmm, mode: 'unmodified', timeoutS: LINUX_UNMODIFIED_TIMEOUT_S }]);
  for (const arch of LINUX_ARCHES) {
    for (const { vmm, mode, timeoutS } of legs) {
      process.stderr.write(`bench: Debian ${arch} kernel on ${vmm} (${mode}) to the shell prompt (limit ${timeoutS} s) ...\n`);
      const r = await linuxBoot(arch, vmm, mode, timeoutS);
      linux.push(r);
      const label = `linux-${arch}`.padEnd(12) + r.vmm.padEnd(9) + mode.padEnd(11);
      process.stdout.write(r.skipped
        ? `${label} skipped: ${r.skipped}\n`
        : r.ok
          ? `${label} ${r.kernel}: shell prompt after ${r.secondsToPrompt!.toFixed(1)} s (${r.cpuSecondsToPrompt?.toFixed(1) ?? '?'} s of CPU)\n`
          : `${label} ${r.kernel}: no shell prompt: ${r.error}\n`);
      if (r.skipped) break;
    }
  }
  // Disk throughput inside the amd64 guest (its virtio_blk driver, busybox dd), on QEMU for
  // reference and on one vendor (the bare-metal disk figures above cover both).
  const linuxDisk: LinuxDiskResult[] = [];
  for (const vmm of vmms.filter((v) => v !== 'kvm-intel')) {
    process.stderr.write(`bench: dd on virtio-blk inside the Debian amd64 guest on ${vmm} ...\n`);
    const r = await linuxDiskBench('amd64', vmm, LINUX_TIMEOUT_S);
    linuxDisk.push(r);
    const label = 'linux-dd'.padEnd(12) + r.vmm.padEnd(9);
    process.stdout.write(r.skipped
      ? `${label} skipped: ${r.skipped}\n`
      : r.ok
        ? `${label} ${(LINUX_DISK_BYTES / 2 ** 20).toFixed(0)} MiB on /dev/vda: write ${r.writeMBps!.toFixed(1)} MB/s (conv=fsync), read ${r.readMBps!.toFixed(1)} MB/s (guest time, bs=1M)\n`
        : `${label} FAILED: ${r.error}\n`);
    if (r.skipped) break;
  }
  const out = resolve(root, 'bench-results.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, results, devices, linux, linuxDisk }, null, 2) + '\n');
  if (devices.some((d) => !d.ok)) process.exitCode = 1;
  process.stdout.write(`bench: results written to ${out}\n`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

interface DeviceBenchResult {
  bench: string;
  vendor: string;
  ok: boolean;
  frames?: number;
  readMBps?: number;
  writeMBps?: number;
  error?: string;
}

/** The disk the virtio-blk guest streams through in bench mode. */
const DISK_BENCH_BYTES = 16 * 2 ** 20;

/**
 * Disk throughput: the virtio-blk guest (guests/devices/virtio-blk.c, -append bench) reads
 * the whole image, then writes it, in 64 KiB requests through its own driver. MB/s is the
 * bytes the device moved over the host time from the first request to the last completion
 * of each kind (the device's stats), so guest boot time does not count.
 * Network throughput between two guests is the next hook here (the virtio-net guest pair).
 */
async function diskBench(manifest: ReturnType<typeof loadManifest>, vendor: AccelName): Promise<DeviceBenchResult> {
  const entry = manifest.find((g) => g.name === 'virtio-blk');
  if (entry === undefined) return { bench: 'virtio-blk', vendor, ok: false, error: 'no virtio-blk guest in the manifest' };
  const built = buildGuest(entry, { log: (l) => process.stderr.write(`${l}\n`) });
  const dir = mkdtempSync(join(tmpdir(), 'bench-disk-'));
  const file = join(dir, 'disk.raw');
  const img = new Uint8Array(DISK_BENCH_BYTES);
  img.set(new TextEncoder().encode('KVMTS virtio-blk'), 0);
  for (let i = 32; i < 512; i++) img[i] = (i * 7) & 0xff;
  writeFileSync(file, img);
  let serial = '';
  let stats: VirtioBlk['stats'] | undefined;
  try {
    const module = await loadAccelModule(vendor);
    const r = await runMachine({
      kernel: built.elf, memSize: 128 * 1024 * 1024, append: 'bench',
      serial: [{ kind: 'callback', write: (b: Uint8Array) => { serial += Buffer.from(b).toString('latin1'); } }],
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'virtio-blk-pci', drive: 'd0' }],
      drives: [{ id: 'd0', file, interface: 'none' }],
      noReboot: true,
    }, {
      module, stderr: () => {},
      onMachine: (m) => {
        const model = m.virtio[0]?.model;
        if (model instanceof VirtioBlk) stats = model.stats;
      },
    });
    if (r.status !== 1 || !serial.includes('PASS: bench:') || stats === undefined) return { bench: 'virtio-blk', vendor, ok: false, error: `${r.reason}; serial: ${serial.slice(-300)}` };
    const s = stats;
    const readMs = Math.max(1, s.readEndMs - s.readStartMs);
    const writeMs = Math.max(1, s.writeEndMs - s.writeStartMs);
    return { bench: 'virtio-blk', vendor, ok: true, readMBps: s.readBytes / 1e6 / (readMs / 1000), writeMBps: s.writeBytes / 1e6 / (writeMs / 1000) };
  } catch (e) {
    return { bench: 'virtio-blk', vendor, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Network throughput: two virtio-net guests (guests/devices/virtio-net.c, -append bench)
 * in this process, joined by -netdev socket on 127.0.0.1; after the ARP exchange one
 * streams full-size frames to the other. MB/s is the frame bytes the receiving NIC put
 * into the guest's buffers over the host time between its first and last such frame.
 * Both guests share this one JavaScript thread.
 */
async function netBench(manifest: ReturnType<typeof loadManifest>, vendor: AccelName): Promise<DeviceBenchResult> {
  const entry = manifest.find((g) => g.name === 'virtio-net');
  if (entry === undefined) return { bench: 'virtio-net', vendor, ok: false, error: 'no virtio-net guest in the manifest' };
  const built = buildGuest(entry, { log: (l) => process.stderr.write(`${l}\n`) });
  const port = await new Promise<number>((res) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
  const serial = ['', ''];
  let first = -1;
  let last = -1;
  let bytes = 0;
  const guest = (i: number, mode: 'listen' | 'connect', mac: string) => async () => runMachine({
    kernel: built.elf, memSize: 128 * 1024 * 1024, append: 'bench',
    serial: [{ kind: 'callback', write: (b: Uint8Array) => { serial[i] += Buffer.from(b).toString('latin1'); } }],
    devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'virtio-net-pci', netdev: 'n0', mac }],
    netdevs: [{ type: 'socket', id: 'n0', mode, addr: { host: '127.0.0.1', port } }],
    noReboot: true,
  }, {
    module: await loadAccelModule(vendor), stderr: () => {},
    onMachine: (m) => {
      if (mode !== 'listen') return;
      const be = m.netdevs.get('n0')!;
      const deliver = be.receive;
      // Count the bench frames as they reach the receiving NIC.
      m.netdevs.get('n0')!.receive = (f: Uint8Array) => {
        if (f.length === 1514 && f[12] === 0x88 && f[13] === 0xb6) {
          const now = performance.now();
          if (first < 0) first = now;
          last = now;
          bytes += f.length;
        }
        deliver(f);
      };
    },
  });
  try {
    const receiver = guest(1, 'listen', '52:54:00:12:34:02')();
    await new Promise((r) => setTimeout(r, 300));
    const sender = guest(0, 'connect', '52:54:00:12:34:01')();
    const [rs, rr] = await Promise.all([sender, receiver]);
    const frames = Number(/bench: received (\d+) frames/.exec(serial[1]!)?.[1] ?? 0);
    if (rs.status !== 1 || rr.status !== 1 || frames === 0 || first < 0)
      return { bench: 'virtio-net', vendor, ok: false, error: `sender ${rs.reason}, receiver ${rr.reason}; ${serial[0]!.slice(-200)} | ${serial[1]!.slice(-200)}` };
    return { bench: 'virtio-net', vendor, ok: true, frames, readMBps: bytes / 1e6 / (Math.max(1, last - first) / 1000) };
  } catch (e) {
    return { bench: 'virtio-net', vendor, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

await main();
