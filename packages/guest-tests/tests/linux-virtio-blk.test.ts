/**
 * Issue 8's disk proof with the Debian kernel's own drivers (virtio_pci, virtio_blk,
 * ext4, loaded by the initramfs): host-made ext4 images (mkfs.ext4) on -drive
 * if=virtio, and the host reads the guest's files back out of the images (debugfs).
 *
 * Two machines boot in parallel (one boot time). Machine 1: the read-only drive
 * (readonly=on) mounts with -o ro and its host-written file reads back; writes to it are
 * refused with the errors Linux gives for a read-only block device (the disk's ro flag
 * from VIRTIO_BLK_F_RO); the writable drive gets a file, `sync` returns, and the test
 * SIGKILLs the VMM at once. The host replays the journal on a copy (e2fsck, as a mount
 * would) and debugfs reads the exact bytes. Machine 2 (the other vendor): files go to a
 * raw image and to a qcow2 image made by qemu-img; both are unmounted and `poweroff -f`
 * ends the VMM with status 0; e2fsck -fn finds both file systems clean and debugfs reads
 * every file's exact bytes. Passes with a third machine then boot it on the killed image:
 * the kernel replays the journal and the file is intact.
 *
 * The same passes run on Debian's QEMU (TCG), the reference for the commands and the
 * error messages. Passes and switches: see linux-device-legs.ts.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureLinuxAssets, type LinuxAssets } from '../src/linux-assets';
import { LinuxConsole, type LinuxVmm } from '../src/linux-console';
import {
  BOOT_MS, CMD_MS, consoleLog, DEVICE_PASSES_SWITCH, EXIT_MS, passEnabled, vmmExtras, vmmLabel, type DevicePass,
} from './linux-device-legs';

const PASSES: DevicePass[] = [
  { arch: 'amd64', machines: [{ vmm: 'qemu', smp: 1 }, { vmm: 'qemu', smp: 1 }, { vmm: 'qemu', smp: 1 }], byDefault: true },
  { arch: 'amd64', machines: [{ vmm: 'kvm-intel', smp: 1 }, { vmm: 'kvm-amd', smp: 1 }], byDefault: true },
  { arch: 'amd64', machines: [{ vmm: 'kvm-amd', smp: 2 }, { vmm: 'kvm-intel', smp: 2 }, { vmm: 'kvm-intel', smp: 1 }], byDefault: false },
  { arch: 'i386', machines: [{ vmm: 'kvm-intel', smp: 1 }, { vmm: 'kvm-amd', smp: 2 }], byDefault: false },
];

const MODULES = 'kvmts.modules=virtio_pci,virtio_blk,ext4';
/** What the guest writes on boot 1 (about 340 KiB) and on boot 2, and the host's copies. */
const SEQ_CMD = 'seq 1 60000';
const SEQ_TEXT = Array.from({ length: 60_000 }, (_, i) => `${i + 1}\n`).join('');
const TWO_CMD = 'seq 60001 2 150000';
const TWO_TEXT = Array.from({ length: 45_000 }, (_, i) => `${60_001 + 2 * i}\n`).join('');
const HELLO_TEXT = 'written by the host with mkfs.ext4 -d\n';
const md5 = (s: string | Uint8Array) => createHash('md5').update(s).digest('hex');
const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function host(cmd: string, args: string[], okStatus: number[] = [0]): string {
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (!okStatus.includes(r.status ?? -1)) throw new Error(`${cmd} ${args.join(' ')}: status ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A file's bytes read out of an ext4 image by debugfs (no kernel involved). */
const debugfsCat = (img: string, path: string) => host('debugfs', ['-R', `cat ${path}`, img]);

const hostToolsMissing = ['mkfs.ext4', 'debugfs', 'e2fsck', 'qemu-img'].filter((t) => spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t} || test -x /sbin/${t}`]).status !== 0);

for (const pass of PASSES) {
  const on = passEnabled(pass) && hostToolsMissing.length === 0;
  const label = `${pass.arch}: ${pass.machines.map((m) => vmmLabel(m.vmm, m.smp)).join(', ')}`;
  const why = hostToolsMissing.length > 0 ? ` (off: ${hostToolsMissing.join(', ')} missing: apt-get install e2fsprogs qemu-utils)` : on ? '' : ` (off; enable with ${DEVICE_PASSES_SWITCH})`;
  describe.skipIf(!on)(`Linux virtio-blk + ext4 on ${label}${why}`, () => {
    let assets: LinuxAssets;
    let dir: string;
    let rw: string;
    let ro: string;
    let qcow: string;
    let roSha: string;
    let rw2: string;
    const consoles: LinuxConsole[] = [];
    let killedImageChecked = false;

    beforeAll(async () => {
      assets = await ensureLinuxAssets(pass.arch, { log: (l) => console.log(l) });
      dir = mkdtempSync(join(tmpdir(), 'kvmts-linux-blk-'));
      rw = join(dir, 'rw.img');
      rw2 = join(dir, 'rw2.img');
      ro = join(dir, 'ro.img');
      qcow = join(dir, 'q.qcow2');
      const content = join(dir, 'ro-content');
      mkdirSync(content);
      writeFileSync(join(content, 'hello.txt'), HELLO_TEXT);
      host('mkfs.ext4', ['-q', '-F', '-L', 'kvmts-rw', rw, '32M']);
      host('mkfs.ext4', ['-q', '-F', '-L', 'kvmts-rw2', rw2, '32M']);
      host('mkfs.ext4', ['-q', '-F', '-L', 'kvmts-ro', '-d', content, ro, '8M']);
      roSha = sha256(ro);
      // qcow2 made by Debian's qemu-img from an ext4 file system.
      const qraw = join(dir, 'q.raw');
      host('mkfs.ext4', ['-q', '-F', '-L', 'kvmts-qcow2', qraw, '16M']);
      host('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', qraw, qcow]);
      rmSync(qraw);
    }, 30 * 60_000);
    afterEach(() => {
      for (const c of consoles.splice(0)) c.kill();
    });
    afterAll(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const boot = async (vmm: LinuxVmm, smp: number, drives: string[]) => {
      const x = vmmExtras(vmm);
      const extraArgs = [...x.args, ...drives.flatMap((d) => ['-drive', d])];
      const c = LinuxConsole.start(vmm, { kernel: assets.vmlinuz, initrd: assets.initrd, append: `console=ttyS0 ${MODULES}`, smp, extraArgs }, consoleLog(`blk-${pass.arch}-${consoles.length}-${vmmLabel(vmm, smp)}`));
      consoles.push(c);
      const s = await c.waitForShell(assets.initReadyMarker, BOOT_MS * x.scale);
      console.log(`virtio-blk ${pass.arch} on ${vmmLabel(vmm, smp)}: shell prompt after ${s.toFixed(1)} s (${c.cpuSeconds()?.toFixed(1) ?? '?'} s of CPU)`);
      const run = (cmd: string) => c.run(cmd, CMD_MS * x.scale);
      const sh = async (cmd: string) => {
        const r = await run(cmd);
        expect(r.status, `'${cmd}' exit status on ${c.name}\n${c.tail()}`).toBe(0);
        return r.output;
      };
      /** A command that must fail; its output (stderr folded in). */
      const refused = async (cmd: string) => {
        const r = await run(`${cmd} 2>&1`);
        expect(r.status, `'${cmd}' must fail on ${c.name}\n${r.output}`).not.toBe(0);
        return r.output;
      };
      return { c, sh, refused, scale: x.scale };
    };
    const limit = (scale: number, cmds: number) => (BOOT_MS + CMD_MS * cmds + EXIT_MS) * scale + 120_000;
    const [m1, m2, m3] = pass.machines as [typeof pass.machines[0], typeof pass.machines[0], typeof pass.machines[0] | undefined];
    const scale = Math.max(...pass.machines.map((m) => vmmExtras(m.vmm).scale));

    /** Machine 1: the read-only drive refuses writes; a file synced before SIGKILL is in the image. */
    const killAfterSync = async () => {
      const { c, sh, refused } = await boot(m1.vmm, m1.smp, [`file=${rw},format=raw,if=virtio`, `file=${ro},format=raw,if=virtio,readonly=on`]);
      // Linux's view: two virtio disks of the image sizes (512-byte sectors), the second read-only.
      expect(await sh('cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vda/ro /sys/block/vdb/ro')).toBe(`${32 * 2048}\n${8 * 2048}\n0\n1\n`);
      expect(await sh('readlink /sys/block/vda/device/driver')).toMatch(/\/virtio_blk\n$/);
      await sh('mkdir -p /mnt/rw /mnt/ro /mnt/ro2');
      await sh('mount -t ext4 -o ro /dev/vdb /mnt/ro');
      expect(await sh('cat /mnt/ro/hello.txt')).toBe(HELLO_TEXT);
      // Writes to the read-only disk: the block device refuses them (blkdev_write_iter:
      // EPERM), the file system is read-only (EROFS), and a read-write mount of the
      // disk is refused (EACCES for a read-only bdev opened for writing).
      expect(await refused('dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync')).toMatch(/^dd: error writing '\/dev\/vdb': Operation not permitted\n/);
      expect(await refused('touch /mnt/ro/new.txt')).toBe('touch: /mnt/ro/new.txt: Read-only file system\n');
      expect(await refused('mount -o remount,rw /mnt/ro')).toBe('mount: mounting /dev/vdb on /mnt/ro failed: Permission denied\n');
      expect(await sh('blockdev --getro /dev/vdb')).toBe('1\n');
      await sh('umount /mnt/ro');
      // A read-write mount: the kernel refuses it (EACCES) and busybox mount retries read-only.
      expect(await sh('mount -t ext4 -o rw /dev/vdb /mnt/ro2 2>&1; grep " /mnt/ro2 " /proc/mounts')).toMatch(/^\/dev\/vdb \/mnt\/ro2 ext4 ro[,\s]/);
      await sh('umount /mnt/ro2');

      await sh('mount -t ext4 /dev/vda /mnt/rw');
      expect(await sh('grep " /mnt/rw " /proc/mounts')).toMatch(/^\/dev\/vda \/mnt\/rw ext4 rw[,\s]/);
      await sh(`${SEQ_CMD} > /mnt/rw/seq.txt`);
      expect(await sh('md5sum /mnt/rw/seq.txt')).toBe(`${md5(SEQ_TEXT)}  /mnt/rw/seq.txt\n`);
      await sh('sync');
      c.kill(); // right after sync returned: no unmount, no poweroff
      expect(await c.waitExit(EXIT_MS)).toBe(null);

      expect(sha256(ro), 'the readonly=on image is unchanged').toBe(roSha);
      // The host replays the journal on a copy as a mount would, then reads the file.
      const copy = join(dir, 'rw-after-kill.img');
      copyFileSync(rw, copy);
      host('e2fsck', ['-fy', copy], [0, 1]);
      expect(host('e2fsck', ['-fn', copy]), 'fsck after the replay').toMatch(/kvmts-rw: \d+\/\d+ files/);
      const got = debugfsCat(copy, '/seq.txt');
      expect(got.length).toBe(SEQ_TEXT.length);
      expect(md5(Buffer.from(got, 'latin1'))).toBe(md5(SEQ_TEXT));
      rmSync(copy);
    };

    /** Machine 2: files on a raw and a qcow2 drive survive umount + poweroff -f. */
    const cleanPoweroff = async () => {
      const { c, sh } = await boot(m2.vmm, m2.smp, [`file=${rw2},format=raw,if=virtio`, `file=${qcow},format=qcow2,if=virtio`]);
      await sh('mkdir -p /mnt/rw /mnt/q');
      await sh('mount -t ext4 /dev/vda /mnt/rw');
      await sh('mount -t ext4 /dev/vdb /mnt/q');
      await sh(`${SEQ_CMD} > /mnt/rw/seq.txt; ${TWO_CMD} > /mnt/rw/two.txt`);
      await sh('cp /mnt/rw/seq.txt /mnt/q/seq.txt');
      await sh(`${TWO_CMD} > /mnt/q/two.txt`);
      expect(await sh('md5sum /mnt/q/seq.txt /mnt/q/two.txt')).toBe(`${md5(SEQ_TEXT)}  /mnt/q/seq.txt\n${md5(TWO_TEXT)}  /mnt/q/two.txt\n`);
      await sh('umount /mnt/rw');
      await sh('umount /mnt/q');
      expect(await c.exitWith('poweroff -f', EXIT_MS * vmmExtras(m2.vmm).scale), c.tail()).toBe(0);

      // Clean file systems (no replay needed), every file's exact bytes.
      expect(host('e2fsck', ['-fn', rw2])).toMatch(/kvmts-rw2: \d+\/\d+ files/);
      expect(md5(Buffer.from(debugfsCat(rw2, '/seq.txt'), 'latin1'))).toBe(md5(SEQ_TEXT));
      expect(md5(Buffer.from(debugfsCat(rw2, '/two.txt'), 'latin1'))).toBe(md5(TWO_TEXT));
      const qraw = join(dir, 'q-after.raw');
      host('qemu-img', ['check', '-f', 'qcow2', qcow]);
      host('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow, qraw]);
      expect(host('e2fsck', ['-fn', qraw])).toMatch(/kvmts-qcow2: \d+\/\d+ files/);
      expect(md5(Buffer.from(debugfsCat(qraw, '/seq.txt'), 'latin1'))).toBe(md5(SEQ_TEXT));
      expect(md5(Buffer.from(debugfsCat(qraw, '/two.txt'), 'latin1'))).toBe(md5(TWO_TEXT));
    };

    it(`${vmmLabel(m1.vmm, m1.smp)}: readonly=on refuses writes, a file synced before SIGKILL is in the image; in parallel ${vmmLabel(m2.vmm, m2.smp)}: raw and qcow2 writes survive umount + poweroff -f`, { timeout: (BOOT_MS + CMD_MS * 20 + EXIT_MS) * scale + 120_000 }, async () => {
      await Promise.all([killAfterSync(), cleanPoweroff()]);
      killedImageChecked = true;
    });

    it.skipIf(m3 === undefined)(`then ${m3 === undefined ? '' : vmmLabel(m3.vmm, m3.smp)}: the killed image mounts (the kernel replays its journal) with the file intact`, { timeout: (BOOT_MS + CMD_MS * 6 + EXIT_MS) * scale + 120_000 }, async () => {
      expect(killedImageChecked, 'the first test passed').toBe(true);
      const { c, sh } = await boot(m3!.vmm, m3!.smp, [`file=${rw},format=raw,if=virtio`]);
      await sh('mkdir -p /mnt/rw && mount -t ext4 /dev/vda /mnt/rw');
      expect(await sh('md5sum /mnt/rw/seq.txt')).toBe(`${md5(SEQ_TEXT)}  /mnt/rw/seq.txt\n`);
      await sh('umount /mnt/rw');
      expect(await c.exitWith('poweroff -f', EXIT_MS * vmmExtras(m3!.vmm).scale), c.tail()).toBe(0);
      expect(host('e2fsck', ['-fn', rw])).toMatch(/kvmts-rw: \d+\/\d+ files/);
    });
  });
}
