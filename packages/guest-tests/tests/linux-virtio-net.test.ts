/**
 * Issue 8's network proof with the Debian kernel's own drivers (virtio_pci, virtio_net):
 * three Linux guests booted in parallel, each with two virtio-net NICs, wired in a
 * triangle over QEMU's netdev protocols on 127.0.0.1:
 *
 *   A (qemu-lite) --socket listen/connect-- B (qemu-lite)      10.0.1.0/24
 *   A (qemu-lite) --socket listen/connect-- C (Debian's QEMU)  10.0.2.0/24
 *   B (qemu-lite) --------- dgram --------- C (Debian's QEMU)  10.0.3.0/24
 *
 * Each guest finds its NICs by MAC (/sys/class/net/x/address), checks the driver is
 * virtio_net, sets addresses with busybox `ip`, and pings both neighbours (`ping -c 3`,
 * no loss). So qemu-lite talks to qemu-lite and to QEMU over both -netdev socket
 * (4-byte big-endian length framing) and -netdev dgram (one UDP datagram per frame).
 * By default A runs on kvm-amd and B on kvm-intel with -smp 2; see linux-device-legs.ts
 * for KVMTS_LINUX_DEVICE_PASSES=all.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureLinuxAssets, type LinuxAssets } from '../src/linux-assets';
import { LinuxConsole, type LinuxVmm } from '../src/linux-console';
import {
  BOOT_MS, CMD_MS, consoleLog, DEVICE_PASSES_SWITCH, EXIT_MS, passEnabled, vmmExtras, vmmLabel, type DevicePass,
} from './linux-device-legs';

const PASSES: DevicePass[] = [
  { arch: 'amd64', machines: [{ vmm: 'kvm-amd', smp: 1 }, { vmm: 'kvm-intel', smp: 2 }, { vmm: 'qemu', smp: 1 }], byDefault: true },
  { arch: 'amd64', machines: [{ vmm: 'kvm-intel', smp: 1 }, { vmm: 'kvm-amd', smp: 2 }, { vmm: 'qemu', smp: 1 }], byDefault: false },
  { arch: 'i386', machines: [{ vmm: 'kvm-intel', smp: 2 }, { vmm: 'kvm-amd', smp: 1 }, { vmm: 'qemu', smp: 1 }], byDefault: false },
  // The test itself on QEMU alone (KVMTS_LINUX_DEVICE_PASSES=qemu).
  { arch: 'amd64', machines: [{ vmm: 'qemu', smp: 1 }, { vmm: 'qemu', smp: 2 }, { vmm: 'qemu', smp: 1 }], byDefault: false },
];

const MODULES = 'kvmts.modules=virtio_pci,virtio_net';

async function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

interface Nic {
  mac: string;
  addr: string;
  peer: string;
  netdev: string;
}

for (const pass of PASSES) {
  const on = passEnabled(pass);
  const [ma, mb, mc] = pass.machines as [typeof pass.machines[0], typeof pass.machines[0], typeof pass.machines[0]];
  const label = `${pass.arch}: A ${vmmLabel(ma.vmm, ma.smp)}, B ${vmmLabel(mb.vmm, mb.smp)}, C ${vmmLabel(mc.vmm, mc.smp)}`;
  describe.skipIf(!on)(`Linux virtio-net on ${label}${on ? '' : ` (off; enable with ${DEVICE_PASSES_SWITCH})`}`, () => {
    let assets: LinuxAssets;
    const consoles: LinuxConsole[] = [];
    beforeAll(async () => {
      assets = await ensureLinuxAssets(pass.arch, { log: (l) => console.log(l) });
    }, 30 * 60_000);
    afterEach(() => {
      for (const c of consoles.splice(0)) c.kill();
    });
    const scale = Math.max(...pass.machines.map((m) => vmmExtras(m.vmm).scale));

    it('A, B and C ping each other over -netdev socket (A-B, A-C) and -netdev dgram (B-C)', { timeout: (BOOT_MS + CMD_MS * 12 + EXIT_MS) * scale + 180_000 }, async () => {
      const [pAB, pAC, pB, pC] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const dgram = (local: number, remote: number) =>
        `dgram,id=n1,local.type=inet,local.host=127.0.0.1,local.port=${local},remote.type=inet,remote.host=127.0.0.1,remote.port=${remote}`;
      const nics: Nic[][] = [
        [
          { mac: '52:54:00:12:34:01', addr: '10.0.1.1', peer: '10.0.1.2', netdev: `socket,id=n0,listen=127.0.0.1:${pAB}` },
          { mac: '52:54:00:12:34:02', addr: '10.0.2.1', peer: '10.0.2.2', netdev: `socket,id=n1,listen=127.0.0.1:${pAC}` },
        ],
        [
          { mac: '52:54:00:12:34:11', addr: '10.0.1.2', peer: '10.0.1.1', netdev: `socket,id=n0,connect=127.0.0.1:${pAB}` },
          { mac: '52:54:00:12:34:12', addr: '10.0.3.1', peer: '10.0.3.2', netdev: dgram(pB, pC) },
        ],
        [
          { mac: '52:54:00:12:34:21', addr: '10.0.2.2', peer: '10.0.2.1', netdev: `socket,id=n0,connect=127.0.0.1:${pAC}` },
          { mac: '52:54:00:12:34:22', addr: '10.0.3.2', peer: '10.0.3.1', netdev: dgram(pC, pB) },
        ],
      ];
      const start = (i: number) => {
        const m = pass.machines[i]!;
        const x = vmmExtras(m.vmm);
        const extraArgs = [...x.args, ...nics[i]!.flatMap((n, k) => ['-netdev', n.netdev, '-device', `virtio-net-pci,netdev=n${k},mac=${n.mac}`])];
        const c = LinuxConsole.start(m.vmm as LinuxVmm, { kernel: assets.vmlinuz, initrd: assets.initrd, append: `console=ttyS0 ${MODULES}`, smp: m.smp, extraArgs }, consoleLog(`net-${pass.arch}-${'ABC'[i]}-${vmmLabel(m.vmm, m.smp)}`));
        consoles.push(c);
        return c;
      };
      // A listens: B and C connect once A's machine is up (its first console output).
      const a = start(0);
      await a.waitFor(/Linux version/, BOOT_MS * scale, "A's first kernel message");
      const all = [a, start(1), start(2)];
      await Promise.all(all.map(async (c, i) => {
        const s = await c.waitForShell(assets.initReadyMarker, BOOT_MS * scale);
        console.log(`virtio-net ${pass.arch} ${'ABC'[i]} on ${vmmLabel(pass.machines[i]!.vmm, pass.machines[i]!.smp)}: shell prompt after ${s.toFixed(1)} s (${c.cpuSeconds()?.toFixed(1) ?? '?'} s of CPU)`);
      }));
      const sh = async (c: LinuxConsole, cmd: string) => {
        const r = await c.run(cmd, CMD_MS * scale);
        expect(r.status, `'${cmd}' exit status on ${c.name}\n${c.tail()}`).toBe(0);
        return r.output;
      };
      // Each guest: its NICs by MAC, bound to virtio_net, addressed and up.
      await Promise.all(all.map(async (c, i) => {
        expect(await sh(c, 'cat /sys/class/net/*/address | grep -c ^52:54:00:'), `two NICs on ${c.name}`).toBe('2\n');
        for (const n of nics[i]!) {
          const setup = `i=$(grep -l ${n.mac} /sys/class/net/*/address); i=\${i#/sys/class/net/}; i=\${i%/address}; ip addr add ${n.addr}/24 dev $i && ip link set $i up && readlink /sys/class/net/$i/device/driver`;
          expect(await sh(c, setup)).toMatch(/\/virtio_net\n$/);
        }
      }));
      // Pings: a first one resolves ARP (waiting out a slow peer), then ping -c 3 loses nothing.
      await Promise.all(all.map(async (c, i) => {
        for (const n of nics[i]!) {
          await sh(c, `ping -c 1 -W 60 ${n.peer} >/dev/null`);
          const out = await sh(c, `ping -c 3 -W 20 ${n.peer}`);
          expect(out, `${c.name} pings ${n.peer}`).toMatch(/3 packets transmitted, 3 packets received, 0% packet loss/);
          expect(out).toMatch(new RegExp(`64 bytes from ${n.peer.replace(/\./g, '\\.')}: seq=2 ttl=64`));
        }
      }));
      // The counters agree: frames went out and came in on every NIC.
      for (const [i, c] of all.entries()) {
        for (const n of nics[i]!) {
          const stats = await sh(c, `i=$(grep -l ${n.mac} /sys/class/net/*/address); cat \${i%/address}/statistics/rx_packets \${i%/address}/statistics/tx_packets`);
          const [rx, tx] = stats.trim().split('\n').map(Number);
          expect(rx, `${c.name} ${n.mac} rx_packets`).toBeGreaterThanOrEqual(4);
          expect(tx, `${c.name} ${n.mac} tx_packets`).toBeGreaterThanOrEqual(4);
        }
      }
      const exits = await Promise.all(all.map((c) => c.exitWith('poweroff -f', EXIT_MS * scale)));
      expect(exits).toEqual([0, 0, 0]);
    });
  });
}
