/**
 * Disk throughput inside a Linux guest: the Debian kernel's virtio_blk on a raw image
 * (-drive if=virtio), measured by the guest's own busybox dd: a sequential read of the
 * whole disk (bs=1M to /dev/null) and a sequential write with conv=fsync (the guest's
 * flush reaches the host's fdatasync). Debian's busybox dd prints no rate, so the time is
 * the guest's /proc/uptime before and after (10 ms steps): guest time, as a user of the
 * VM would see it.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxConsole, readLinuxAssets, type LinuxArch, type LinuxVmm } from '@kvmts/guest-tests';

export interface LinuxDiskResult {
  arch: LinuxArch;
  vmm: string;
  ok: boolean;
  readMBps?: number;
  writeMBps?: number;
  skipped?: string;
  error?: string;
}

/** The image the guest reads and writes. */
export const LINUX_DISK_BYTES = 32 * 2 ** 20;

/** The output of `cat /proc/uptime; dd ...; cat /proc/uptime`: MB/s over the uptime difference. */
function ddRate(output: string, bytes: number): number {
  const up = [...output.matchAll(/^(\d+\.\d+) \d+\.\d+$/gm)].map((m) => Number(m[1]));
  if (up.length !== 2 || !/(\d+)\+0 records out/.test(output)) throw new Error(`unexpected dd output: ${output.trim().slice(-200)}`);
  return bytes / 1e6 / Math.max(up[1]! - up[0]!, 0.01);
}

export async function linuxDiskBench(arch: LinuxArch, vmm: LinuxVmm, timeoutS: number): Promise<LinuxDiskResult> {
  const assets = readLinuxAssets(arch);
  const name = vmm === 'qemu' ? 'qemu-tcg' : vmm;
  if (assets === undefined) return { arch, vmm: name, ok: false, skipped: `no assets: run npm run guest:linux -- --arch ${arch}` };
  const dir = mkdtempSync(join(tmpdir(), 'bench-linux-disk-'));
  const img = join(dir, 'disk.raw');
  writeFileSync(img, '');
  truncateSync(img, LINUX_DISK_BYTES);
  const extraArgs = ['-drive', `file=${img},format=raw,if=virtio`, ...(vmm === 'qemu' ? [] : ['-machine', 'pc,linux-fast-boot=on'])];
  const con = LinuxConsole.start(vmm, { kernel: assets.vmlinuz, initrd: assets.initrd, append: 'console=ttyS0 kvmts.modules=virtio_pci,virtio_blk', extraArgs });
  try {
    await con.waitForShell(assets.initReadyMarker, timeoutS * 1000);
    const run = async (cmd: string) => {
      const r = await con.run(cmd, timeoutS * 1000);
      if (r.status !== 0) throw new Error(`'${cmd}' exit status ${r.status}: ${r.output.trim().slice(-200)}`);
      return r.output;
    };
    const mib = LINUX_DISK_BYTES / 2 ** 20;
    const timed = (cmd: string) => `cat /proc/uptime; ${cmd} 2>&1; cat /proc/uptime`;
    const write = ddRate(await run(timed(`dd if=/dev/zero of=/dev/vda bs=1M count=${mib} conv=fsync`)), LINUX_DISK_BYTES);
    // Drop the page cache so the read goes to the device.
    await run('sync; echo 3 > /proc/sys/vm/drop_caches');
    const read = ddRate(await run(timed(`dd if=/dev/vda of=/dev/null bs=1M count=${mib}`)), LINUX_DISK_BYTES);
    await con.exitWith('poweroff -f', 60_000).catch(() => undefined);
    return { arch, vmm: name, ok: true, readMBps: read, writeMBps: write };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    return { arch, vmm: name, ok: false, error: msg };
  } finally {
    con.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
